/* The query of GET /allocation_candidates, parsed (candidates_query.c);
 * shared by the candidates handler and its explanation (issue 12). */
#ifndef PLACID_API_CANDIDATES_QUERY_H
#define PLACID_API_CANDIDATES_QUERY_H

#include <stddef.h>

#include "server/req.h"
#include "store/candidates.h"

/* The resource classes a query asks for, each once: provider summaries
 * before 1.27 show only these. */
struct ac_requested {
    const char **rc;
    size_t n;
};

/* Validates rq's query as GET /allocation_candidates does at rq->mv
 * (dropping the empty pieces of "a=1&&b=2" from rq->query first) and
 * builds q and *requested; both live in rq's arena. Returns 0, or -1 after
 * req_fail with Placement's message. */
int candidates_query_parse(struct req *rq, struct cand_query *q, struct ac_requested *requested);

#endif
