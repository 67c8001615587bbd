/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int allocation_candidates_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
