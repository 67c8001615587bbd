#include "api/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/log.h"
#include "core/util.h"

void identity_defaults(struct identity_config *c)
{
    memset(c, 0, sizeof(*c));
    c->cors = cors_defaults();
}

static int parse_bool(const char *value, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < 4; i++) {
        if (strcmp(value, yes[i]) == 0)
            return *out = true, 0;
        if (strcmp(value, no[i]) == 0)
            return *out = false, 0;
    }
    return -1;
}

static int bad(char *err, size_t errsz, const char *what, const char *value)
{
    snprintf(err, errsz, "invalid value '%s' for %s", value, what);
    return -1;
}

int identity_apply(struct identity_config *c, int opt, const char *value, char *err,
                   size_t errsz)
{
    long long n;
    switch (opt) {
    case ID_OPT_POLICY_FILE:
        if (!value[0])
            return bad(err, errsz, "--policy-file", value);
        c->policy.file = value;
        return 0;
    case ID_OPT_ENFORCE_SCOPE:
        return parse_bool(value, &c->policy.enforce_scope)
                   ? bad(err, errsz, "--enforce-scope (1/0/true/false)", value) : 0;
    case ID_OPT_ENFORCE_NEW_DEFAULTS:
        return parse_bool(value, &c->policy.enforce_new_defaults)
                   ? bad(err, errsz, "--enforce-new-defaults (1/0/true/false)", value) : 0;
    case ID_OPT_POLICY_DUMP: return parse_bool(value, &c->policy_dump) ? bad(err, errsz, "--policy-dump", value) : 0;
    case ID_OPT_CORS_ORIGIN: c->cors.allowed_origin = value; return 0;
    case ID_OPT_CORS_METHODS: c->cors.allow_methods = value; return 0;
    case ID_OPT_CORS_HEADERS: c->cors.allow_headers = value; return 0;
    case ID_OPT_CORS_EXPOSE: c->cors.expose_headers = value; return 0;
    case ID_OPT_CORS_MAX_AGE:
        if (!parse_ll(value, &n) || n < 0 || n > 365LL * 86400)
            return bad(err, errsz, "--cors-max-age (seconds)", value);
        c->cors.max_age = (long)n;
        return 0;
    case ID_OPT_CORS_CREDENTIALS:
        return parse_bool(value, &c->cors.allow_credentials)
                   ? bad(err, errsz, "--cors-allow-credentials (true/false)", value) : 0;
    case ID_OPT_AUTH:
        if (strcmp(value, "noauth2") != 0 && strcmp(value, "keystone") != 0)
            return bad(err, errsz, "--auth (noauth2 or keystone)", value);
        c->keystone_mode = strcmp(value, "keystone") == 0;
        return 0;
    case ID_OPT_KS_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
            return bad(err, errsz, "--keystone-url (http(s)://HOST[:PORT]/v3)", value);
        c->keystone.url = value;
        return 0;
    case ID_OPT_KS_CREDENTIALS: c->keystone.credentials = value; return 0;
    case ID_OPT_KS_CAFILE: c->keystone.cafile = value; return 0;
    case ID_OPT_KS_CACHE_SECONDS:
        if (!parse_ll(value, &n) || n < 1 || n > 86400)
            return bad(err, errsz, "--keystone-cache-seconds (1-86400)", value);
        c->keystone.cache_seconds = (long)n;
        return 0;
    case ID_OPT_KS_CACHE_SIZE:
        if (!parse_ll(value, &n) || n < 1 || n > 10000000)
            return bad(err, errsz, "--keystone-cache-size (1-10000000)", value);
        c->keystone.cache_entries = (size_t)n;
        return 0;
    case ID_OPT_KS_TIMEOUT:
        if (!parse_ll(value, &n) || n < 1 || n > 300)
            return bad(err, errsz, "--keystone-timeout (1-300 seconds)", value);
        c->keystone.timeout_ms = (long)n * 1000;
        return 0;
    default: snprintf(err, errsz, "unknown identity option %d", opt); return -1;
    }
}

int identity_load_env(struct identity_config *c, char *err, size_t errsz)
{
    static const struct {
        const char *name;
        int opt;
    } vars[] = {
        {"PLACID_POLICY_FILE", ID_OPT_POLICY_FILE},
        {"PLACID_ENFORCE_SCOPE", ID_OPT_ENFORCE_SCOPE},
        {"PLACID_ENFORCE_NEW_DEFAULTS", ID_OPT_ENFORCE_NEW_DEFAULTS},
        {"PLACID_CORS_ALLOWED_ORIGIN", ID_OPT_CORS_ORIGIN},
        {"PLACID_CORS_ALLOW_METHODS", ID_OPT_CORS_METHODS},
        {"PLACID_CORS_ALLOW_HEADERS", ID_OPT_CORS_HEADERS},
        {"PLACID_CORS_EXPOSE_HEADERS", ID_OPT_CORS_EXPOSE},
        {"PLACID_CORS_MAX_AGE", ID_OPT_CORS_MAX_AGE},
        {"PLACID_CORS_ALLOW_CREDENTIALS", ID_OPT_CORS_CREDENTIALS},
        {"PLACID_AUTH", ID_OPT_AUTH},
        {"PLACID_KEYSTONE_URL", ID_OPT_KS_URL},
        {"PLACID_KEYSTONE_CREDENTIALS", ID_OPT_KS_CREDENTIALS},
        {"PLACID_KEYSTONE_CAFILE", ID_OPT_KS_CAFILE},
        {"PLACID_KEYSTONE_CACHE_SECONDS", ID_OPT_KS_CACHE_SECONDS},
        {"PLACID_KEYSTONE_CACHE_SIZE", ID_OPT_KS_CACHE_SIZE},
        {"PLACID_KEYSTONE_TIMEOUT", ID_OPT_KS_TIMEOUT},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i].name);
        if (v && *v && identity_apply(c, vars[i].opt, v, err, errsz)) {
            size_t len = strlen(err);
            snprintf(err + len, errsz - len, " (from %s)", vars[i].name);
            return -1;
        }
    }
    return 0;
}

int identity_start(struct identity_config *c, struct api_ctx *ctx, char *err, size_t errsz)
{
    if (c->keystone_mode) {
        ctx->keystone = keystone_new(&c->keystone, err, errsz);
        if (!ctx->keystone)
            return -1;
        /* Keystone may come up after placid: only a warning, and every
         * request tries again. */
        char why[256];
        if (keystone_login(ctx->keystone, why, sizeof(why)))
            log_msg(LOG_INFO, "keystone: service token obtained from %s", c->keystone.url);
        else
            log_msg(LOG_WARN, "keystone: %s (will retry on each request)", why);
    }
    ctx->policy = policy_holder_new(&c->policy, err, errsz);
    if (!ctx->policy) {
        identity_stop(ctx);
        return -1;
    }
    ctx->cors = cors_enabled(&c->cors) ? &c->cors : NULL;
    return 0;
}

void identity_reload(struct api_ctx *ctx)
{
    char err[512];
    if (!ctx->policy)
        return;
    if (policy_holder_reload(ctx->policy, err, sizeof(err)))
        log_msg(LOG_INFO, "policy reloaded");
    else
        log_msg(LOG_ERROR, "policy reload failed, keeping the rules in force: %s", err);
}

void identity_stop(struct api_ctx *ctx)
{
    policy_holder_free(ctx->policy);
    ctx->policy = NULL;
    keystone_free(ctx->keystone);
    ctx->keystone = NULL;
}

int identity_dump(const struct identity_config *c, char *err, size_t errsz)
{
    struct policy *p = policy_load(&c->policy, err, errsz);
    if (!p)
        return -1;
    char *text = policy_dump(p);
    fputs(text, stdout);
    free(text);
    policy_free(p);
    return 0;
}
