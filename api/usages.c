/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int provider_usages_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int usages_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
