/* api_dispatch: the order of checks follows Placement's middleware stack:
 * auth (401), request framing (400), routing (404/405), Accept (406),
 * content type (415), policy (403), JSON body (400), then the handler.
 * Everything up to policy needs only the headers, so the HTTP front end
 * runs it (api_dispatch_headers) as soon as they arrive, before it reads or
 * buffers a body; the body phase (api_dispatch_body) parses the body and
 * runs the handler. The order is the same either way. */
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/cors.h"
#include "api/common.h"
#include "api/errors.h"
#include "store/store.h"

/* Authentication and policy live in api/auth.c, CORS in api/cors.c. */
static bool authenticate(struct req *rq, const struct api_ctx *ctx)
{
    return auth_authenticate(rq, ctx);
}

static bool check_framing(struct req *rq)
{
    if (rq->content_length == REQ_LENGTH_INVALID) {
        req_fail(rq, 400, NULL, "content-length header must be an integer");
        return false;
    }
    if (rq->content_length > 0 && (!rq->content_type || !rq->content_type[0])) {
        req_fail(rq, 400, NULL, "content-type header required when content-length > 0");
        return false;
    }
    return true;
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static bool check_content(struct req *rq, const struct route *r)
{
    if (strcmp(r->method, "GET") == 0 && !r->any_accept &&
        !req_accepts(rq->accept, "application/json") &&
        !(r->text_plain && req_accepts(rq->accept, "text/plain"))) {
        req_fail(rq, 406, NULL, "Only application/json is provided");
        return false;
    }
    if (r->json_body && !is_json_type(rq->content_type)) {
        req_fail(rq, 415, NULL, "The media type %s is not supported, use application/json",
                 rq->content_type ? rq->content_type : "None");
        return false;
    }
    return true;
}

static bool authorize(struct req *rq, const struct api_ctx *ctx, const struct route *r)
{
    return auth_authorize(rq, ctx, r->policy);
}

/* A string holding \u0000 is refused here, once for every handler: each C
 * string made from it (json_string_value) would be cut short at the NUL, so
 * a name "A\u0000B" would be stored as "A" and "<uuid>\u0000junk" would
 * pass as a uuid. (Upstream accepts it; no client sends it.) */
static bool parse_body(struct req *rq)
{
    json_error_t jerr;
    rq->body = json_loadb(rq->raw_body ? rq->raw_body : "", rq->body_len, JSON_DECODE_ANY, &jerr);
    if (rq->body)
        return true;
    if (json_error_code(&jerr) == json_error_null_character)
        req_fail(rq, 400, NULL, "Malformed JSON: strings must not contain \\u0000 (NUL).");
    else
        req_fail(rq, 400, NULL, "Malformed JSON: %s", jerr.text);
    return false;
}

bool api_dispatch_headers(struct req *rq, void *ctxp)
{
    const struct api_ctx *ctx = ctxp;
    const struct route *r = NULL;

    rq->api = ctx;
    /* A CORS preflight is answered here, before authentication, as
     * oslo.middleware's CORS wraps Placement's auth. */
    if (cors_preflight(rq, ctx->cors))
        return false;
    bool ok = authenticate(rq, ctx) && check_framing(rq) &&
              (r = router_find(api_routes, rq)) && (rq->route_pattern = r->pattern) &&
              check_content(rq, r) &&
              authorize(rq, ctx, r);
    if (!ok)
        cors_apply(rq, ctx->cors);
    rq->route = ok ? r : NULL;
    return ok;
}

void api_dispatch_body(struct req *rq, void *ctxp)
{
    const struct api_ctx *ctx = ctxp;

    /* No route and a status: answered by the header phase (a preflight). */
    if (!rq->route && (rq->status || !api_dispatch_headers(rq, ctxp)))
        return;
    const struct route *r = rq->route;
    if (!r->json_body || parse_body(rq)) {
        rq->store = store_acquire(ctx->pool);
        r->handler(rq);
        store_release(ctx->pool, rq->store);
        rq->store = NULL;
    }
    cors_apply(rq, ctx->cors);
}

void api_dispatch(struct req *rq, void *ctx)
{
    if (api_dispatch_headers(rq, ctx))
        api_dispatch_body(rq, ctx);
}
