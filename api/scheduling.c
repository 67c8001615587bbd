/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int scheduling_candidates_post(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
