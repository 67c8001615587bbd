/* The API layer's entry point: routing, auth, body parsing, handler call. */
#ifndef PLACID_API_API_H
#define PLACID_API_API_H

#include <stdbool.h>

#include "server/req.h"
#include "server/router.h"

struct store_pool;
struct policy_holder;
struct cors_config;
struct keystone;

struct api_ctx {
    struct store_pool *pool; /* BORROWED: connections for the handlers */
    const char *admin_token; /* the token that grants admin ("admin" by default) */
    bool randomize_candidates; /* shuffle allocation candidates like Placement's option */
    bool noauth_headers;       /* noauth2: X-Roles, X-Project-Id, X-User-Id and
                                * OpenStack-System-Scope describe the caller */
    struct policy_holder *policy;   /* BORROWED rules in force; NULL: the defaults */
    const struct cors_config *cors; /* BORROWED; NULL: CORS off */
    struct keystone *keystone;      /* BORROWED; NULL: noauth2 */
};

/* The route table, terminated by a row with method == NULL. */
extern const struct route api_routes[];

/* Handles one complete request: auth, routing, content checks, JSON body,
 * store acquire/release and the handler. ctx is a struct api_ctx. */
void api_dispatch(struct req *rq, void *ctx);

/* The context of the request being handled on this thread (for handlers
 * that need configuration). NULL outside api_dispatch. */
const struct api_ctx *api_current_ctx(void);

#endif
