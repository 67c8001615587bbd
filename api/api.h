/* The API layer's entry point: routing, auth, body parsing, handler call. */
#ifndef PLACID_API_API_H
#define PLACID_API_API_H

#include <stdbool.h>

#include "server/req.h"
#include "server/router.h"

struct store_pool;

struct api_ctx {
    struct store_pool *pool; /* BORROWED: connections for the handlers */
    const char *admin_token; /* the token that grants admin ("admin" by default) */
    bool randomize_candidates; /* shuffle allocation candidates like Placement's option */
    unsigned long long candidates_work_limit; /* engine steps per query; 0: unlimited */
    size_t explain_near_misses; /* near misses an explanation lists */
};

/* The default of --candidates-work-limit: some 30 times what the full
 * answer of a 100,000-host cloud costs (about 600,000 steps), a couple of
 * seconds of one core in a Release build. */
#define API_CANDIDATES_WORK_DEFAULT 20000000ULL

/* The route table, terminated by a row with method == NULL. */
extern const struct route api_routes[];

/* Handles one complete request: auth, routing, content checks, JSON body,
 * store acquire/release and the handler. ctx is a struct api_ctx. */
void api_dispatch(struct req *rq, void *ctx);

/* The context of the request being handled on this thread (for handlers
 * that need configuration). NULL outside api_dispatch. */
const struct api_ctx *api_current_ctx(void);

#endif
