/* GET|HEAD /healthcheck as oslo.middleware's healthcheck answers it: 200
 * "OK" (HEAD: 204) when the database can be read and written, 503 with the
 * reason otherwise. No token is needed. A JSON Accept gets oslo's JSON form,
 * {"detailed": false, "reasons": [...]}, and an admin token the detailed
 * one, with the database's figures. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "api/common.h"
#include "api/handlers.h"

static double ms_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static const char *failure_reason(enum store_rc rc)
{
    return rc == STORE_BUSY ? "database unavailable: locked past the busy timeout"
                            : "database unavailable: cannot be read or written";
}

/* oslo's detailed form: one reason object, plus the database's figures. */
static json_t *detailed_new(enum store_rc rc, const struct store_health *h, double ms)
{
    char details[128];
    snprintf(details, sizeof(details), "read and write %s in %.1f ms",
             rc == STORE_OK ? "succeeded" : "failed", ms);
    json_t *doc = json_pack("{s:b,s:[{s:s,s:s,s:s}]}", "detailed", 1, "reasons", "reason",
                            rc == STORE_OK ? "OK" : failure_reason(rc), "details", details,
                            "class", "DatabaseHealthcheck");
    if (rc == STORE_OK)
        json_object_set_new(doc, "database",
                            json_pack("{s:i,s:I,s:I}", "schema_version", h->schema_version,
                                      "resource_providers", (json_int_t)h->providers,
                                      "wal_bytes", (json_int_t)h->wal_bytes));
    return doc;
}

/* The admin token (noauth2), or a Keystone token with the admin role. */
static bool caller_is_admin(const struct req *rq)
{
    if (rq->is_admin)
        return true;
    for (size_t i = 0; rq->caller && i < rq->caller->creds.n_roles; i++)
        if (strcmp(rq->caller->creds.roles[i], "admin") == 0)
            return true;
    return false;
}

int healthcheck_get(struct req *rq)
{
    struct store_health h = {0};
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    enum store_rc rc = store_health_check(rq->store, &h);
    bool ok = rc == STORE_OK;
    const char *reason = ok ? "OK" : failure_reason(rc);

    if (strcmp(rq->method, "HEAD") == 0) {
        rq->status = ok ? 204 : 503;
        return 0;
    }
    if (rq->accept && strstr(rq->accept, "application/json")) {
        if (caller_is_admin(rq))
            return api_reply(rq, ok ? 200 : 503, detailed_new(rc, &h, ms_since(&start)));
        return api_reply(rq, ok ? 200 : 503,
                         json_pack("{s:b,s:[s]}", "detailed", 0, "reasons", reason));
    }
    req_set_reply_text(rq, xstrdup(reason), strlen(reason), NULL);
    rq->reply_type = "text/plain; charset=UTF-8";
    rq->status = ok ? 200 : 503;
    return 0;
}
