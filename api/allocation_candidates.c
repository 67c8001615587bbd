/* GET /allocation_candidates (handlers/allocation_candidate.py): the query
 * validated by candidates_query.c, then the store's engine, whose answer is
 * written straight into JSON text (rq->reply_text) because it can hold
 * hundreds of thousands of objects. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/candidates_query.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/explain.h"
#include "api/handlers.h"
#include "api/json_text.h"
#include "core/util.h"
#include "server/metrics.h"
#include "server/microversion.h"
#include "store/candidates.h"

/* ---- Writing the answer ---- */

struct ac_writer {
    struct req *rq;
    struct jtext reqs, sums;
    size_t n_reqs, n_sums;
    struct ac_requested requested; /* summaries before 1.27 show only these */
};

static void write_resources(struct jtext *b, const struct cand_item *items, size_t n)
{
    JT_LIT(b, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            JT_LIT(b, ", ");
        jt_str(b, items[i].rc);
        JT_LIT(b, ": ");
        jt_int(b, items[i].amount);
    }
    JT_LIT(b, "}");
}

static int on_request(void *arg, const struct cand_request *r)
{
    struct ac_writer *w = arg;
    struct jtext *b = &w->reqs;
    bool dict = w->rq->mv >= MV(1, 12);
    if (w->n_reqs++)
        JT_LIT(b, ", ");
    JT_LIT(b, "{\"allocations\": ");
    jt_raw(b, dict ? "{" : "[", 1);
    for (size_t i = 0, k = 0; i < r->n_items; k++) {
        size_t j = i;
        while (j < r->n_items && r->items[j].rp_uuid == r->items[i].rp_uuid)
            j++;
        if (k)
            JT_LIT(b, ", ");
        if (dict) {
            jt_str(b, r->items[i].rp_uuid);
            JT_LIT(b, ": {\"resources\": ");
        } else {
            JT_LIT(b, "{\"resource_provider\": {\"uuid\": ");
            jt_str(b, r->items[i].rp_uuid);
            JT_LIT(b, "}, \"resources\": ");
        }
        write_resources(b, r->items + i, j - i);
        JT_LIT(b, "}");
        i = j;
    }
    jt_raw(b, dict ? "}" : "]", 1);
    if (w->rq->mv >= MV(1, 34)) {
        JT_LIT(b, ", \"mappings\": {");
        for (size_t m = 0; m < r->n_mappings; m++) {
            if (m)
                JT_LIT(b, ", ");
            jt_str(b, r->mappings[m].suffix);
            JT_LIT(b, ": [");
            for (size_t i = 0; i < r->mappings[m].n; i++) {
                if (i)
                    JT_LIT(b, ", ");
                jt_str(b, r->mappings[m].rp_uuids[i]);
            }
            JT_LIT(b, "]");
        }
        JT_LIT(b, "}");
    }
    JT_LIT(b, "}");
    return 0;
}

static bool requested(const struct ac_writer *w, const char *rc)
{
    for (size_t i = 0; i < w->requested.n; i++)
        if (strcmp(w->requested.rc[i], rc) == 0)
            return true;
    return false;
}

static int on_summary(void *arg, const struct cand_summary *s)
{
    struct ac_writer *w = arg;
    struct jtext *b = &w->sums;
    unsigned mv = w->rq->mv;
    if (w->n_sums++)
        JT_LIT(b, ", ");
    jt_str(b, s->uuid);
    JT_LIT(b, ": {\"resources\": {");
    bool all = mv >= MV(1, 27);
    for (size_t i = 0, k = 0; i < s->n_res; i++) {
        if (!all && !requested(w, s->res[i].rc))
            continue;
        if (k++)
            JT_LIT(b, ", ");
        jt_str(b, s->res[i].rc);
        JT_LIT(b, ": {\"capacity\": ");
        jt_int(b, s->res[i].capacity);
        JT_LIT(b, ", \"used\": ");
        jt_int(b, s->res[i].used);
        JT_LIT(b, "}");
    }
    JT_LIT(b, "}");
    if (mv >= MV(1, 17)) {
        JT_LIT(b, ", \"traits\": [");
        for (size_t i = 0; i < s->n_traits; i++) {
            if (i)
                JT_LIT(b, ", ");
            jt_str(b, s->traits[i]);
        }
        JT_LIT(b, "]");
    }
    if (mv >= MV(1, 29)) {
        JT_LIT(b, ", \"parent_provider_uuid\": ");
        if (s->parent_uuid)
            jt_str(b, s->parent_uuid);
        else
            JT_LIT(b, "null");
        JT_LIT(b, ", \"root_provider_uuid\": ");
        jt_str(b, s->root_uuid);
    }
    JT_LIT(b, "}");
    return 0;
}

/* Hands the finished text to the request (http.c sends and releases it). */
static void finish_reply(struct req *rq, struct ac_writer *w)
{
    JT_LIT(&w->reqs, "], \"provider_summaries\": {");
    JT_LIT(&w->sums, "}}");
    struct jtext parts[2] = {w->reqs, w->sums};
    memset(&w->reqs, 0, sizeof(w->reqs));
    memset(&w->sums, 0, sizeof(w->sums));
    jt_reply(rq, parts, 2);
    req_set_last_modified(rq, 0);
}

/* A search past --candidates-work-limit. 400, not 503: the query is valid
 * but this server will not spend more on it, so retrying it unchanged (as
 * clients do after a 503) cannot help; the client has to narrow it. Not 413
 * either: the request is small, its search is what is large. */
static int fail_work_limit(struct req *rq, unsigned long long limit)
{
    return req_fail(rq, 400, ERR_CANDIDATES_WORK_LIMIT,
                    "The allocation candidates search exceeded its work limit of %llu steps "
                    "(--candidates-work-limit) and was stopped. Narrow the query: add limit, "
                    "in_tree, member_of or required traits, or ask for fewer request groups.",
                    limit);
}

/* Maps a failed engine run to the answer. */
static int fail_candidates(struct req *rq, enum store_rc rc, const struct cand_failure *fail,
                           const struct cand_query *q)
{
    if (rc == STORE_INVALID && fail->kind == CAND_BAD_RESOURCE_CLASS)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Invalid resource class in resources parameter: No such resource "
                        "class %s.",
                        fail->name);
    if (rc == STORE_INVALID && fail->kind == CAND_BAD_TRAIT)
        return req_fail(rq, 400, ERR_DEFAULT, "No such trait(s): %s.", fail->name);
    if (rc == STORE_INVALID && fail->kind == CAND_WORK_LIMIT)
        return fail_work_limit(rq, q->work_limit);
    if (rc == STORE_INVALID && fail->kind == CAND_CANCELLED) {
        /* The server is stopping (or the client left and reads nothing):
         * the same query may succeed elsewhere or later. */
        req_header_add(rq, "Retry-After", "1");
        return req_fail(rq, 503, ERR_DEFAULT,
                        "The allocation candidates search was stopped: the service is "
                        "shutting down or the client disconnected.");
    }
    return api_fail_store(rq, rc);
}

int allocation_candidates_get(struct req *rq)
{
    struct ac_writer w = {.rq = rq};
    struct cand_query q;
    struct cand_failure fail;
    if (candidates_query_parse(rq, &q, &w.requested))
        return -1;
    JT_LIT(&w.reqs, "{\"allocation_requests\": [");
    enum store_rc rc = store_candidates_get(rq->store, &q, on_request, on_summary, &w, &fail);
    if (rc != STORE_OK) {
        jt_free(&w.reqs);
        jt_free(&w.sums);
        return fail_candidates(rq, rc, &fail, &q);
    }
    metrics_observe_candidates(w.n_reqs);
    finish_reply(rq, &w);
    return 0;
}

int allocation_candidates_count(struct req *rq, struct cand_explain *x, size_t *limit)
{
    struct ac_writer w = {.rq = rq};
    struct cand_query q;
    struct cand_failure fail;
    if (candidates_query_parse(rq, &q, &w.requested))
        return -1;
    q.explain = x;
    *limit = q.limit;
    enum store_rc rc = store_candidates_get(rq->store, &q, on_request, NULL, &w, &fail);
    if (rc != STORE_OK) {
        cand_explain_free(x);
        return fail_candidates(rq, rc, &fail, &q);
    }
    return 0;
}
