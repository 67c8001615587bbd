#include "server/router.h"

#include <string.h>

#include "server/microversion.h"

bool router_match(const char *pattern, const char *path, struct req *rq)
{
    const char *p = pattern, *s = path;
    size_t n_params = 0;

    /* Placement serves the root document at "" as well as "/". */
    if (strcmp(pattern, "/") == 0)
        return strcmp(path, "/") == 0 || path[0] == '\0';
    while (*p && *s) {
        if (*p == '{') {
            const char *close = strchr(p, '}');
            const char *seg_end = strchr(s, '/');
            size_t seg_len = seg_end ? (size_t)(seg_end - s) : strlen(s);
            if (!close || seg_len == 0)
                return false;
            if (rq && n_params < REQ_MAX_PARAMS) {
                rq->params[n_params].key = arena_strndup(&rq->arena, p + 1, (size_t)(close - p - 1));
                rq->params[n_params].value = arena_strndup(&rq->arena, s, seg_len);
                n_params++;
            }
            p = close + 1;
            s += seg_len;
            continue;
        }
        if (*p != *s)
            return false;
        p++;
        s++;
    }
    if (*p || *s)
        return false;
    if (rq)
        rq->n_params = n_params;
    return true;
}

/* Builds "GET, POST" from the distinct methods of the rows matching path. */
static void allowed_methods(const struct route *routes, const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    for (const struct route *r = routes; r->method; r++) {
        if (!router_match(r->pattern, path, NULL) || strstr(buf, r->method))
            continue;
        if (buf[0])
            strncat(buf, ", ", n - strlen(buf) - 1);
        strncat(buf, r->method, n - strlen(buf) - 1);
    }
}

const struct route *router_find(const struct route *routes, struct req *rq)
{
    const struct route *version_miss = NULL;
    bool path_known = false;

    for (const struct route *r = routes; r->method; r++) {
        if (!router_match(r->pattern, rq->path, NULL))
            continue;
        path_known = true;
        if (strcmp(r->method, rq->method) != 0)
            continue;
        if (rq->mv < r->min_mv || rq->mv > r->max_mv) {
            version_miss = r;
            continue;
        }
        router_match(r->pattern, rq->path, rq);
        return r;
    }
    if (version_miss) {
        int status = version_miss->too_old ? version_miss->too_old : 404;
        /* Upstream's version_handler raises without a message: the detail
         * is webob's explanation alone. */
        req_fail(rq, status, NULL, "%s", "");
        return NULL;
    }
    if (!path_known) {
        req_fail(rq, 404, NULL, "The resource could not be found.");
        return NULL;
    }
    char allow[128];
    allowed_methods(routes, rq->path, allow, sizeof(allow));
    req_header_add(rq, "Allow", allow);
    req_fail(rq, 405, NULL, "The method specified is not allowed for this resource.");
    return NULL;
}
