/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int providers_list(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int providers_create(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int providers_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int providers_update(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int providers_delete(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
