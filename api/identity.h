/* Identity and policy configuration: flags, environment, start-up and
 * SIGHUP reload, kept out of server/main.c so that main only forwards. */
#ifndef PLACID_API_IDENTITY_H
#define PLACID_API_IDENTITY_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include "api/cors.h"
#include "api/keystone.h"
#include "api/policy.h"

struct api_ctx;

/* getopt_long codes, far from the single letters main.c uses. */
enum identity_opt {
    ID_OPT_POLICY_FILE = 1000,
    ID_OPT_ENFORCE_SCOPE,
    ID_OPT_ENFORCE_NEW_DEFAULTS,
    ID_OPT_POLICY_DUMP,
    ID_OPT_CORS_ORIGIN,
    ID_OPT_CORS_METHODS,
    ID_OPT_CORS_HEADERS,
    ID_OPT_CORS_EXPOSE,
    ID_OPT_CORS_MAX_AGE,
    ID_OPT_CORS_CREDENTIALS,
    ID_OPT_AUTH,
    ID_OPT_KS_URL,
    ID_OPT_KS_CREDENTIALS,
    ID_OPT_KS_CAFILE,
    ID_OPT_KS_CACHE_SECONDS,
    ID_OPT_KS_CACHE_SIZE,
    ID_OPT_KS_TIMEOUT,
};

/* The rows for main.c's getopt_long table (flags without an argument take
 * "1" from main). */
#define IDENTITY_LONG_OPTIONS                                                              \
    {"policy-file", required_argument, NULL, ID_OPT_POLICY_FILE},                          \
        {"enforce-scope", no_argument, NULL, ID_OPT_ENFORCE_SCOPE},                        \
        {"enforce-new-defaults", no_argument, NULL, ID_OPT_ENFORCE_NEW_DEFAULTS},          \
        {"policy-dump", no_argument, NULL, ID_OPT_POLICY_DUMP},                            \
        {"cors-allowed-origin", required_argument, NULL, ID_OPT_CORS_ORIGIN},              \
        {"cors-allow-methods", required_argument, NULL, ID_OPT_CORS_METHODS},              \
        {"cors-allow-headers", required_argument, NULL, ID_OPT_CORS_HEADERS},              \
        {"cors-expose-headers", required_argument, NULL, ID_OPT_CORS_EXPOSE},              \
        {"cors-max-age", required_argument, NULL, ID_OPT_CORS_MAX_AGE},                    \
        {"cors-allow-credentials", required_argument, NULL, ID_OPT_CORS_CREDENTIALS},      \
        {"auth", required_argument, NULL, ID_OPT_AUTH},                                    \
        {"keystone-url", required_argument, NULL, ID_OPT_KS_URL},                          \
        {"keystone-credentials", required_argument, NULL, ID_OPT_KS_CREDENTIALS},          \
        {"keystone-cafile", required_argument, NULL, ID_OPT_KS_CAFILE},                    \
        {"keystone-cache-seconds", required_argument, NULL, ID_OPT_KS_CACHE_SECONDS},      \
        {"keystone-cache-size", required_argument, NULL, ID_OPT_KS_CACHE_SIZE},            \
        {"keystone-timeout", required_argument, NULL, ID_OPT_KS_TIMEOUT}

#define IDENTITY_USAGE                                                                      \
    "  --auth noauth2|keystone  how callers are identified (PLACID_AUTH, default noauth2)\n"  \
    "  --keystone-url URL       Keystone's identity endpoint, e.g. http://ks:5000/v3\n"       \
    "                           (PLACID_KEYSTONE_URL)\n"                                       \
    "  --keystone-credentials FILE  placid's service user: key = value lines with\n"          \
    "                           keystone_authtoken's names (PLACID_KEYSTONE_CREDENTIALS)\n"    \
    "  --keystone-cafile FILE   CA bundle for an https Keystone (PLACID_KEYSTONE_CAFILE)\n"    \
    "  --keystone-cache-seconds N  longest a validated token is trusted (default 300)\n"      \
    "  --keystone-cache-size N  validated tokens kept (default 10000)\n"                      \
    "  --keystone-timeout SECONDS  per request to Keystone (default 5)\n"                     \
    "  --policy-file PATH       oslo.policy rules (YAML or JSON) over Placement's defaults;\n" \
    "                           reloaded on SIGHUP (PLACID_POLICY_FILE)\n"                    \
    "  --enforce-scope          refuse tokens of the wrong scope (PLACID_ENFORCE_SCOPE=1)\n"  \
    "  --enforce-new-defaults   drop the deprecated role:admin fallback\n"                    \
    "                           (PLACID_ENFORCE_NEW_DEFAULTS=1)\n"                            \
    "  --policy-dump            print the effective policy rules (YAML) and exit\n"           \
    "  --cors-allowed-origin LIST  turn CORS on for these origins (PLACID_CORS_ALLOWED_ORIGIN)\n" \
    "  --cors-allow-methods LIST, --cors-allow-headers LIST, --cors-expose-headers LIST,\n"  \
    "  --cors-max-age SECONDS, --cors-allow-credentials true|false\n"                        \
    "                           oslo.middleware's [cors] options (PLACID_CORS_ALLOW_METHODS...)\n"

struct identity_config {
    struct policy_config policy;
    bool policy_dump;
    struct cors_config cors;
    bool keystone_mode;
    struct keystone_config keystone;
};

/* oslo's defaults: no policy file, neither enforcement, CORS off. */
void identity_defaults(struct identity_config *c);

/* Applies one option (opt from IDENTITY_LONG_OPTIONS) with value, which
 * stays BORROWED. Returns 0, or -1 with a one-line reason in err. */
int identity_apply(struct identity_config *c, int opt, const char *value, char *err,
                   size_t errsz);

/* Applies the PLACID_* environment variables. Returns 0 or -1 with err. */
int identity_load_env(struct identity_config *c, char *err, size_t errsz);

/* Loads the policy rules and wires policy and CORS into ctx. Returns 0, or
 * -1 with a one-line reason in err. */
int identity_start(struct identity_config *c, struct api_ctx *ctx, char *err, size_t errsz);

/* Reloads the policy file (SIGHUP); on error the old rules stay. */
void identity_reload(struct api_ctx *ctx);

/* Frees what identity_start made. */
void identity_stop(struct api_ctx *ctx);

/* --policy-dump: prints the effective rules to stdout. Returns 0 or -1 with err. */
int identity_dump(const struct identity_config *c, char *err, size_t errsz);

#endif
