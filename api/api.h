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
    unsigned long long candidates_work_limit; /* engine steps per query; 0: unlimited */
    size_t explain_near_misses; /* near misses an explanation lists */
};

/* The default of --candidates-work-limit: 15 times what the full perfload
 * answer of a 100,000-host cloud costs (1.3 million steps, measured with
 * --log-level debug), under a second of one core in a Release build. */
#define API_CANDIDATES_WORK_DEFAULT 20000000ULL

/* The route table, terminated by a row with method == NULL. */
extern const struct route api_routes[];

/* Handles one complete request: api_dispatch_headers, then, when it
 * passes, api_dispatch_body. ctx is a struct api_ctx. */
void api_dispatch(struct req *rq, void *ctx);

/* The checks that need only the request line and headers, in Placement's
 * order: auth (401), framing (400), routing (404/405), Accept (406),
 * content type (415), policy (403). Returns true and sets rq->route when
 * they pass; otherwise returns false after req_fail. Needs no body and no
 * database connection. */
bool api_dispatch_headers(struct req *rq, void *ctx);

/* The rest, once the body is in: JSON body (400), store acquire/release and
 * the handler of rq->route. Runs api_dispatch_headers first when rq->route
 * is not set. */
void api_dispatch_body(struct req *rq, void *ctx);

#endif
