/* Keystone token validation as keystonemiddleware's auth_token does it:
 * placid's own service token (password authentication, renewed before it
 * expires) validates callers with GET /v3/auth/tokens?nocatalog; results
 * are cached (bounded, until expires_at or a maximum age), rejections
 * briefly, and concurrent requests with one new token cause one
 * validation. Safe from any thread; every Keystone call is bounded by a
 * timeout. */
#ifndef PLACID_API_KEYSTONE_H
#define PLACID_API_KEYSTONE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "api/policy.h"
#include "core/util.h"

struct keystone_config {
    const char *url;         /* identity endpoint, e.g. http://host:5000/v3 */
    const char *credentials; /* key = value file ([keystone_authtoken] names) */
    const char *cafile;      /* CA bundle for https; NULL: the system's */
    long cache_seconds;      /* longest a validation is trusted (default 300) */
    long negative_seconds;   /* how long a rejection is remembered (default 5) */
    size_t cache_entries;    /* bound of the cache (default 10000) */
    long timeout_ms;         /* per Keystone request (default 5000) */
    unsigned max_inflight;   /* validations waiting on Keystone at once; past it
                              * 503 at once, so that a slow Keystone cannot hold
                              * every worker (default 1; main: workers - 1) */
};

/* The service's credentials, read from a credentials file. */
struct keystone_credentials {
    char username[256], password[256], project_name[256];
    char user_domain_name[256], project_domain_name[256];
};

/* Reads `key = value` lines ('#' comments and [section] lines skipped):
 * username, password, project_name (required), user_domain_name and
 * project_domain_name (default "Default"). Returns 0, or -1 with a
 * one-line reason in err. */
int keystone_read_credentials(const char *path, struct keystone_credentials *out, char *err,
                              size_t errsz);

enum keystone_result {
    KEYSTONE_OK,          /* valid: the caller's identity is filled */
    KEYSTONE_INVALID,     /* missing, malformed, expired or revoked: 401 */
    KEYSTONE_UNAVAILABLE, /* Keystone unreachable or failing: 503 */
};

struct keystone;

/* Checks cfg and the credentials file. NULL with a one-line reason. */
struct keystone *keystone_new(const struct keystone_config *cfg, char *err, size_t errsz);
void keystone_free(struct keystone *ks);

/* Fetches the service token now (start-up check). False with err set. */
bool keystone_login(struct keystone *ks, char *err, size_t errsz);

/* Validates token. On KEYSTONE_OK fills creds with strings copied into
 * arena. On KEYSTONE_UNAVAILABLE writes a one-line reason into why. */
enum keystone_result keystone_validate(struct keystone *ks, const char *token,
                                       struct arena *arena, struct policy_creds *creds,
                                       char *why, size_t whysz);

/* The identity endpoint, for WWW-Authenticate. BORROWED. */
const char *keystone_url(const struct keystone *ks);

/* Counters since start, for tests and logs. */
struct keystone_stats {
    unsigned long validations; /* GET /v3/auth/tokens made */
    unsigned long logins;      /* service tokens fetched */
    unsigned long hits;        /* answered from the cache */
    unsigned long busy;        /* refused: max_inflight validations under way */
};
void keystone_stats(struct keystone *ks, struct keystone_stats *out);

/* Parses Keystone's "2026-12-06T19:13:07.000000Z" into a time_t; -1 when
 * malformed. */
time_t keystone_parse_time(const char *s);

#endif
