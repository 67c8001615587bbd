/* "Why is there no host?" (issue 12): allocation candidates explained.
 *
 * GET /placid/allocation_candidates/explain takes any query GET
 * /allocation_candidates accepts (read at the latest microversion) and
 * answers, from the same engine run, how many trees were considered, how
 * many yielded candidates, how many candidates there are before and after
 * limit, and for the other trees the first constraint that failed, in the
 * order of enum cand_constraint (store/candidates.h), for the whole query
 * and per request group, plus the nearest misses. POST
 * /placid/allocation_candidates with "explain": true does the same for the
 * query derived from a flavor and an image, and says which flavor or image
 * property each part of the query came from. JSON (schema:
 * api/explain.schema.json) or, for Accept: text/plain, a short report. */
#ifndef PLACID_API_EXPLAIN_H
#define PLACID_API_EXPLAIN_H

#include <stddef.h>

#include "api/sched_translate.h"
#include "server/req.h"
#include "store/candidates.h"

/* Runs rq's query (already in rq->query) through the engine with counting
 * on (allocation_candidates.c). 0 with *x filled (free it with
 * cand_explain_free) and the query's limit in *limit, or -1 after
 * req_fail. */
int allocation_candidates_count(struct req *rq, struct cand_explain *x, size_t *limit);

/* Explains rq's query and sets the reply (JSON, or text for an Accept of
 * text/plain without JSON). query is shown as the query explained; sources
 * (may be NULL) is the derivation, as sched_translate() recorded it. 0, or -1 after req_fail. */
int explain_reply(struct req *rq, const char *query, const struct sched_source *sources,
                  size_t n_sources);

#endif
