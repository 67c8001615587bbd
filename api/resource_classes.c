/* Placeholder until this area is implemented. */
#include "api/errors.h"
#include "api/handlers.h"

int resource_classes_list(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int resource_classes_create(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int resource_class_get(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int resource_class_update_v1_2(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int resource_class_put_v1_7(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}

int resource_class_delete(struct req *rq)
{
    return req_fail(rq, 501, ERR_DEFAULT, "Not implemented yet.");
}
