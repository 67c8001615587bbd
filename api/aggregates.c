/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int provider_aggregates_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int provider_aggregates_put(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
