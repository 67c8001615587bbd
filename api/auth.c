/* noauth2 as upstream's (placement/auth.py NoAuthMiddleware) plus the
 * context oslo.context builds from its headers; policy checks against the
 * rules in force. */
#include "api/auth.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/keystone.h"
#include "core/log.h"

bool auth_admin_token_matches(const char *token, const char *secret)
{
    size_t tlen = strcspn(token, ":"), slen = strlen(secret);
    /* Walk the whole secret whatever the token holds, so the time says
     * nothing about how much of it a guess got right. */
    volatile unsigned char diff = (unsigned char)(tlen != slen);
    for (size_t i = 0; i < slen; i++) {
        unsigned char t = i < tlen ? (unsigned char)token[i] : 0;
        diff |= (unsigned char)(t ^ (unsigned char)secret[i]);
    }
    return diff == 0;
}

void auth_parse_roles(struct req *rq, const char *list, struct policy_creds *creds)
{
    while (*list && creds->n_roles < POLICY_MAX_ROLES) {
        size_t n = strcspn(list, ",");
        const char *s = list, *e = list + n;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s)
            creds->roles[creds->n_roles++] = arena_strndup(&rq->arena, s, (size_t)(e - s));
        list += n + (list[n] == ',');
    }
}

static bool is_root_path(const char *path)
{
    return path[0] == '\0' || strcmp(path, "/") == 0;
}

/* GET|HEAD /healthcheck answers without a token, as oslo.middleware's
 * healthcheck in front of auth; a token, when given, is checked (an admin
 * gets the detailed form). */
static bool is_health_path(const char *path)
{
    return strcmp(path, "/healthcheck") == 0;
}

/* A non-empty header value or NULL. */
static const char *given(const struct req *rq, const char *name)
{
    const char *v = req_header(rq, name);
    return v && v[0] ? v : NULL;
}

/* noauth2: the token is "user[:project]" (the project defaults to the
 * user); the admin token makes the user "admin" with the admin role. When
 * placid trusts the identity headers (no admin secret configured), X-Roles,
 * X-User-Id, X-Project-Id and OpenStack-System-Scope describe the caller as
 * keystonemiddleware's headers would. */
static void noauth2_caller(struct req *rq, const struct api_ctx *ctx, struct auth_caller *c)
{
    const char *colon = strchr(rq->token, ':');
    size_t ulen = colon ? (size_t)(colon - rq->token) : strlen(rq->token);
    const char *project = colon && colon[1] ? colon + 1 : NULL;

    c->is_admin = auth_admin_token_matches(rq->token, ctx->admin_token);
    c->creds.user_id = c->is_admin ? "admin" : arena_strndup(&rq->arena, rq->token, ulen);
    c->creds.project_id = project ? arena_strdup(&rq->arena, project) : c->creds.user_id;
    const char *roles = ctx->noauth_headers ? req_header(rq, "X-Roles") : NULL;
    if (roles)
        auth_parse_roles(rq, roles, &c->creds);
    else if (c->is_admin)
        c->creds.roles[c->creds.n_roles++] = "admin";
    if (!ctx->noauth_headers)
        return;
    const char *v;
    if ((v = given(rq, "X-User-Id")))
        c->creds.user_id = v;
    if ((v = given(rq, "OpenStack-System-Scope"))) {
        c->creds.system_scope = v;
        c->creds.project_id = NULL;
    }
    if ((v = given(rq, "X-Project-Id")))
        c->creds.project_id = v;
}

/* keystonemiddleware's answer to a missing or invalid token. */
static bool keystone_refuse(struct req *rq, const struct api_ctx *ctx)
{
    char uri[600];
    snprintf(uri, sizeof(uri), "Keystone uri=\"%s\"", keystone_url(ctx->keystone));
    req_header_add(rq, "WWW-Authenticate", uri);
    req_fail(rq, 401, NULL, "The request you have made requires authentication.");
    json_decref(rq->reply); /* rendered instead of noauth2's webob page */
    rq->reply = json_pack("{s:{s:i,s:s,s:s}}", "error", "code", 401, "title", "Unauthorized",
                          "message", "The request you have made requires authentication.");
    return false;
}

/* Keystone mode: the root document is public; any other path needs a token
 * Keystone vouches for. */
static bool keystone_authenticate(struct req *rq, const struct api_ctx *ctx)
{
    char why[256];
    if (is_root_path(rq->path))
        return true;
    if (!rq->token || !rq->token[0])
        return is_health_path(rq->path) || keystone_refuse(rq, ctx);
    struct auth_caller *c = arena_alloc(&rq->arena, sizeof(*c));
    memset(c, 0, sizeof(*c));
    switch (keystone_validate(ctx->keystone, rq->token, &rq->arena, &c->creds, why,
                              sizeof(why))) {
    case KEYSTONE_OK: rq->caller = c; return true;
    case KEYSTONE_INVALID: return keystone_refuse(rq, ctx);
    default:
        log_msg(LOG_WARN, "keystone: %s", why);
        req_header_add(rq, "Retry-After", "1");
        req_fail(rq, 503, NULL,
                 "The identity service cannot validate the token now: %s. Retry later.", why);
        return false;
    }
}

bool auth_authenticate(struct req *rq, const struct api_ctx *ctx)
{
    if (ctx->keystone)
        return keystone_authenticate(rq, ctx);
    if (rq->token && rq->token[0]) {
        struct auth_caller *c = arena_alloc(&rq->arena, sizeof(*c));
        memset(c, 0, sizeof(*c));
        noauth2_caller(rq, ctx, c);
        rq->is_admin = c->is_admin;
        rq->caller = c;
        return true;
    }
    if (is_root_path(rq->path) || is_health_path(rq->path))
        return true;
    req_fail(rq, 401, NULL, "Unauthorized");
    return false;
}

/* The default rules, for an api_ctx that brings none (tests, tools). */
static struct policy_holder *default_rules;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void load_default_rules(void)
{
    char err[256];
    struct policy_config cfg = {0};
    default_rules = policy_holder_new(&cfg, err, sizeof(err));
    if (!default_rules) {
        log_msg(LOG_ERROR, "default policy: %s", err);
        abort();
    }
}

static struct policy_holder *rules_in_force(const struct api_ctx *ctx)
{
    if (ctx->policy)
        return ctx->policy;
    pthread_once(&default_once, load_default_rules);
    return default_rules;
}

bool auth_authorize(struct req *rq, const struct api_ctx *ctx, const char *policy)
{
    static const struct policy_creds nobody = {0};
    char rule[128];

    if (!policy)
        return true;
    /* Route policies are Placement's names without "placement:", except
     * placid's own. */
    snprintf(rule, sizeof(rule), "%s%s", strncmp(policy, "placid:", 7) ? "placement:" : "",
             policy);
    const struct policy_creds *creds = rq->caller ? &rq->caller->creds : &nobody;
    struct policy_target target = {creds->project_id, creds->user_id};
    /* GET /usages checks the project asked about (handlers/usage.py). */
    if (strcmp(policy, "usages") == 0)
        target.project_id = req_query(rq, "project_id");
    if (policy_holder_allows(rules_in_force(ctx), rule, creds, &target))
        return true;
    req_fail(rq, 403, NULL, "Policy does not allow %s to be performed.", rule);
    return false;
}
