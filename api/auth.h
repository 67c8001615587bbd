/* Who is calling (authentication) and may they (policy), for api_dispatch. */
#ifndef PLACID_API_AUTH_H
#define PLACID_API_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "api/policy.h"
#include "server/req.h"

struct api_ctx;

/* The caller of one request; lives in the request's arena. */
struct auth_caller {
    struct policy_creds creds; /* strings in the arena */
    bool is_admin;             /* presented the admin token (noauth2) */
};

/* True when token, up to its first ':' (or its end), equals secret. The
 * time taken depends on the lengths only, not on where they differ. */
bool auth_admin_token_matches(const char *token, const char *secret);

/* Splits "a,b , c" into creds->roles (arena copies, empty names skipped,
 * at most POLICY_MAX_ROLES). */
void auth_parse_roles(struct req *rq, const char *list, struct policy_creds *creds);

/* Sets rq->caller from the request, as Placement's noauth2 middleware and
 * oslo.context do. Fails 401 (and returns false) without a token, or with
 * an empty one, except for the root document. */
bool auth_authenticate(struct req *rq, const struct api_ctx *ctx);

/* Checks the route's policy rule (NULL: none) for rq->caller. Fails 403
 * "Policy does not allow <rule> to be performed." and returns false when
 * the rules deny. */
bool auth_authorize(struct req *rq, const struct api_ctx *ctx, const char *policy);

#endif
