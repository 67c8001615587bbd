/* Pure route matcher over a table of (method, pattern, version window, handler). */
#ifndef PLACID_SERVER_ROUTER_H
#define PLACID_SERVER_ROUTER_H

#include <stdbool.h>

#include "server/req.h"

struct route {
    const char *method;     /* exact: "GET", "PUT", ... */
    const char *pattern;    /* literal segments and {name} captures */
    unsigned min_mv, max_mv; /* inclusive window */
    handler_fn *handler;
    /* Placement policy name without "placement:" (placid's own start with
     * "placid:"), checked for every caller, admin included (api/auth.c: 403
     * when the rules deny); NULL: no policy check. A token is required
     * except at the root and for GET|HEAD /healthcheck. */
    const char *policy;
    bool json_body; /* parse body first; 415 unless application/json */
    bool text_plain; /* may answer text/plain: an Accept of text/plain is no 406 */
    int too_old;    /* status when only the version misses; 0 means 404 */
    bool any_accept; /* answers plain text too: no 406 for a non-JSON Accept */
};

/* Finds the row of routes (terminated by a row with method == NULL) for
 * rq->method, rq->path and rq->mv, and stores its captures in rq->params.
 * Returns the row, or NULL after req_fail(): 404 for an unknown path, 405
 * (with an Allow header) for an unknown method, the row's too_old status
 * (default 404) when only the version misses. */
const struct route *router_find(const struct route *routes, struct req *rq);

/* True when path matches pattern; captures go to rq->params when rq != NULL. */
bool router_match(const char *pattern, const char *path, struct req *rq);

#endif
