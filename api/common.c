#include "api/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/errors.h"

int api_fail_store(struct req *rq, enum store_rc rc)
{
    if (rc == STORE_BUSY) {
        req_header_add(rq, "Retry-After", "1");
        return req_fail(rq, 503, ERR_DEFAULT, "The database is busy; retry the request.");
    }
    return req_fail(rq, 500, ERR_DEFAULT, "An internal error occurred (request %s).",
                    rq->request_id);
}

int api_check_query_keys(struct req *rq, const char *const allowed[])
{
    for (size_t i = 0; i < rq->n_query; i++) {
        bool ok = false;
        for (size_t j = 0; allowed[j] && !ok; j++)
            ok = strcmp(rq->query[i].key, allowed[j]) == 0;
        if (!ok)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Invalid query string parameters: Additional properties are not "
                            "allowed ('%s' was unexpected)",
                            rq->query[i].key);
    }
    return 0;
}

int api_fail_schema(struct req *rq, const char *fmt, ...)
{
    char msg[JS_MSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return req_fail(rq, 400, ERR_DEFAULT, "JSON does not validate: %s", msg);
}

int api_validate(struct req *rq, const struct js_schema *schema, const json_t *doc)
{
    char msg[JS_MSG_SIZE];
    if (js_validate(schema, doc, msg, sizeof(msg)))
        return 0;
    return api_fail_schema(rq, "%s", msg);
}

const char *api_repr(struct req *rq, const json_t *v)
{
    char text[JS_MSG_SIZE];
    js_repr(v, text, sizeof(text));
    return arena_strdup(&rq->arena, text);
}

int api_reply(struct req *rq, int status, json_t *reply)
{
    rq->status = status;
    json_decref(rq->reply);
    rq->reply = reply;
    return 0;
}

bool api_custom_name_pattern(const char *name)
{
    static const char prefix[] = "CUSTOM_";

    if (strncmp(name, prefix, strlen(prefix)) != 0)
        return false;
    const char *rest = name + strlen(prefix);
    return *rest && strspn(rest, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(rest);
}

time_t api_modified(long long created_at, long long updated_at)
{
    return (time_t)(updated_at ? updated_at : created_at);
}
