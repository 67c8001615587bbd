#include "api/cors.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* What a browser may always send (oslo.middleware CORS.simple_headers). */
static const char simple_headers[] =
    "Accept,Accept-Language,Content-Type,Cache-Control,Content-Language,Expires,Last-Modified,"
    "Pragma";

struct cors_config cors_defaults(void)
{
    return (struct cors_config){.max_age = 3600, .allow_credentials = true};
}

bool cors_enabled(const struct cors_config *c)
{
    return c && c->allowed_origin && c->allowed_origin[0];
}

/* True when the comma-separated list holds item (surrounding blanks
 * ignored; case-insensitively when nocase). */
static bool list_has(const char *list, const char *item, size_t ilen, bool nocase)
{
    while (list && *list) {
        size_t n = strcspn(list, ",");
        const char *s = list, *e = list + n;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        if ((size_t)(e - s) == ilen &&
            (nocase ? strncasecmp(s, item, ilen) : strncmp(s, item, ilen)) == 0)
            return true;
        list += n + (list[n] == ',');
    }
    return false;
}

/* The origin when CORS is on and it is allowed, else NULL. */
static const char *allowed_origin(const struct req *rq, const struct cors_config *c)
{
    if (!cors_enabled(c))
        return NULL;
    const char *origin = req_header(rq, "Origin");
    if (!origin)
        return NULL;
    if (list_has(c->allowed_origin, origin, strlen(origin), false))
        return origin;
    return list_has(c->allowed_origin, "*", 1, false) ? "*" : NULL;
}

/* Every name of the Access-Control-Request-Headers list is allowed. */
static bool headers_allowed(const char *requested, const struct cors_config *c)
{
    while (requested && *requested) {
        size_t n = strcspn(requested, ",");
        const char *s = requested, *e = requested + n;
        while (s < e && *s == ' ')
            s++;
        while (e > s && e[-1] == ' ')
            e--;
        size_t len = (size_t)(e - s);
        if (len && !list_has(c->allow_headers, s, len, true) &&
            !list_has(simple_headers, s, len, true))
            return false;
        requested += n + (requested[n] == ',');
    }
    return true;
}

static void origin_headers(struct req *rq, const struct cors_config *c, const char *origin)
{
    req_header_add(rq, "Vary", "Origin");
    req_header_add(rq, "Access-Control-Allow-Origin", origin);
    if (c->allow_credentials)
        req_header_add(rq, "Access-Control-Allow-Credentials", "true");
}

bool cors_preflight(struct req *rq, const struct cors_config *c)
{
    static const char default_methods[] = "OPTIONS,GET,HEAD,POST,PUT,DELETE,TRACE,PATCH";
    if (!cors_enabled(c) || strcmp(rq->method, "OPTIONS") != 0)
        return false;
    rq->status = 200;
    const char *origin = allowed_origin(rq, c);
    const char *method = req_header(rq, "Access-Control-Request-Method");
    const char *headers = req_header(rq, "Access-Control-Request-Headers");
    if (!origin || !method ||
        !list_has(c->allow_methods ? c->allow_methods : default_methods, method, strlen(method),
                  false) ||
        !headers_allowed(headers, c))
        return true;
    origin_headers(rq, c, origin);
    if (c->max_age > 0) {
        char age[24];
        snprintf(age, sizeof(age), "%ld", c->max_age);
        req_header_add(rq, "Access-Control-Max-Age", age);
    }
    req_header_add(rq, "Access-Control-Allow-Methods", method);
    if (headers && headers[0])
        req_header_add(rq, "Access-Control-Allow-Headers", headers);
    return true;
}

void cors_apply(struct req *rq, const struct cors_config *c)
{
    const char *origin = allowed_origin(rq, c);
    if (!origin)
        return;
    origin_headers(rq, c, origin);
    if (c->expose_headers && c->expose_headers[0])
        req_header_add(rq, "Access-Control-Expose-Headers", c->expose_headers);
}
