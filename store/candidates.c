/* The allocation candidates engine: see store/candidates.h for the contract.
 *
 * How it works. Placement builds, per request group, every provider that
 * could serve it, then folds the groups together per "anchor" (the root of
 * the tree a candidate lives in) and finally cuts to `limit`. Here the
 * anchors drive: roots are visited by ascending id, a block of 64 root ids
 * at a time (store/tree_cache.h). The trees of a block (providers,
 * inventories with usage, traits, aggregates) are read with five
 * primary-key range scans (see world_load), finished into an immutable
 * in-memory "world", and kept in a cache shared by all connections under the
 * block's version from tree_versions; the next request that sees the same
 * version reuses it, so a repeated query costs what solving and writing
 * its answer cost, and a write costs a re-read of only the blocks it
 * touched. Every anchor of the block is then solved in memory exactly as
 * Placement would solve it. Sharing providers (trait
 * MISC_SHARES_VIA_AGGREGATE) and their trees are read once per request,
 * since they may serve any anchor that shares an aggregate with them.
 *
 * A limited query stops after the block where it reached `limit`, so its
 * cost does not depend on the size of the full answer; an unlimited one
 * walks every block, emitting each block's summaries as soon as it is done.
 *
 * The engine's files (store/candidates_internal.h lists them): this one
 * runs a query (transaction, names, sharing providers, the walk over the
 * blocks, randomization); candidates_load.c and candidates_resolve.c hold
 * its SQL; the solver_*.c files solve, explain and emit without a
 * database. */
#include "store/candidates.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "store/candidates_internal.h"
#include "store/internal.h"
#include "store/tree_cache.h"

/* Memory kept between requests, so that a request reuses warm pages instead
 * of faulting in fresh ones (tens of microseconds each on a virtual
 * machine). The kept sets are shared by all workers, last in first out, so a
 * request finds a warm set whichever worker thread serves it. */
#define SCRATCH_KEEP_BYTES ((size_t)2 << 20)
#define SCRATCH_KEPT       4
#define SCRATCH_CHUNK      ((size_t)64 << 10) /* an anchor's scratch fits one chunk */

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *scratch_kept[SCRATCH_KEPT];
static size_t scratch_n_kept;

static void scratch_destroy(struct scratch *sc)
{
    arena_free(&sc->req_arena);
    arena_free(&sc->anchor_arena);
    world_free(&sc->sharing_world);
    free(sc);
}

static struct scratch *scratch_take(void)
{
    struct scratch *sc = NULL;
    pthread_mutex_lock(&scratch_lock);
    if (scratch_n_kept)
        sc = scratch_kept[--scratch_n_kept];
    pthread_mutex_unlock(&scratch_lock);
    if (!sc) {
        sc = xcalloc(1, sizeof(*sc));
        sc->req_arena.chunk_size = SCRATCH_CHUNK;
        sc->anchor_arena.chunk_size = SCRATCH_CHUNK;
    }
    return sc;
}

/* Empties sc and keeps it for a later request, unless it grew big (a large
 * answer) or enough are kept: then the memory goes back to the system. */
static void scratch_give_back(struct scratch *sc)
{
    arena_reset(&sc->req_arena);
    arena_reset(&sc->anchor_arena);
    world_reset(&sc->sharing_world);
    if (world_bytes(&sc->sharing_world) <= SCRATCH_KEEP_BYTES) {
        pthread_mutex_lock(&scratch_lock);
        if (scratch_n_kept < SCRATCH_KEPT) {
            scratch_kept[scratch_n_kept++] = sc;
            sc = NULL;
        }
        pthread_mutex_unlock(&scratch_lock);
    }
    if (sc)
        scratch_destroy(sc);
}

/* Solves every anchor of one block; its summaries follow at once unless
 * randomization must see every candidate first. */
static enum store_rc walk_block(struct engine *e, struct block_version bv)
{
    struct tree_entry *t;
    enum store_rc rc = block_world(e, bv, &t);
    if (rc != STORE_OK)
        return rc;
    const struct world *w = t->obj;
    engine_solve_world(e, w);
    if (e->query.randomize) {
        grow((void **)&e->trees.held, &e->trees.cap_held, e->trees.n_held + 1,
             sizeof(*e->trees.held));
        e->trees.held[e->trees.n_held++] = t;
        return STORE_OK;
    }
    emit_world_summaries(e, w, true);
    tree_cache_release(e->st->trees, t);
    return STORE_OK;
}

#define BLOCKS_FIRST 2
#define BLOCKS_MAX   1024

/* Blocks in order, fetched a few first (a limited query may need only one)
 * and then in growing chunks. */
static enum store_rc walk_anchors(struct engine *e)
{
    struct block_version *bv = arena_alloc(&e->sc->req_arena, BLOCKS_MAX * sizeof(*bv));
    size_t want = BLOCKS_FIRST, n;
    long long after = -1;
    while (!e->budget.stop && !e->out.cb_failed) {
        enum store_rc rc = next_blocks(e->st, after, want, bv, &n);
        for (size_t i = 0; i < n && rc == STORE_OK && !e->budget.stop && !e->out.cb_failed; i++)
            rc = walk_block(e, bv[i]);
        if (rc != STORE_OK)
            return rc;
        if (n < want)
            break;
        after = bv[n - 1].block;
        want = want * 8 > BLOCKS_MAX ? BLOCKS_MAX : want * 8;
    }
    return STORE_OK;
}

/* randomize_allocation_candidates: random.sample(limit) or a shuffle, then
 * summaries for the trees of what was kept. */
static void finish_random(struct engine *e)
{
    size_t n = e->out.n_stored;
    size_t k = e->q->limit && e->q->limit < n ? e->q->limit : n;
    size_t *idx = xmalloc((n ? n : 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(rng_next() % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 0; i < k && !e->out.cb_failed; i++) {
        const struct stored *s = &e->out.stored[idx[i]];
        emit_request(e, s->items, s->n_items, (struct cprov *const *const *)s->maps, s->n_maps);
    }
    if (e->query.drop_nested)
        for (size_t i = k; i < n; i++)
            for (size_t j = 0; j < e->out.stored[idx[i]].n_items; j++) {
                const struct cprov *p = e->out.stored[idx[i]].items[j].p;
                if (mark_get(&e->out.marks, p->root) & MARK_TREE)
                    mark_set(&e->out.marks, p, MARK_PROVIDER);
            }
    free(idx);
    for (size_t i = 0; i < e->trees.n_held && !e->out.cb_failed; i++)
        emit_world_summaries(e, e->trees.held[i]->obj, true);
}

static void engine_free(struct engine *e)
{
    for (size_t i = 0; i < e->trees.n_held; i++)
        tree_cache_release(e->st->trees, e->trees.held[i]);
    array_free(e->trees.held, e->trees.cap_held, sizeof(*e->trees.held));
    engine_release(e);
    scratch_give_back(e->sc);
}

static enum store_rc run(struct engine *e, struct cand_failure *fail)
{
    bool empty = false;
    if (e->q->explain) {
        e->q->explain->n_groups = e->q->n_groups;
        e->q->explain->groups =
            xcalloc(e->q->n_groups ? e->q->n_groups : 1, sizeof(*e->q->explain->groups));
    }
    enum store_rc rc = resolve(e, &empty, fail);
    if (rc != STORE_OK || empty || !e->query.n_groups)
        return rc;
    engine_prepare(e);
    if ((rc = load_sharing(e)) != STORE_OK)
        return rc;
    if ((rc = walk_anchors(e)) != STORE_OK)
        return rc;
    if (e->budget.gave_up) {
        fail->kind = e->budget.gave_up;
        return STORE_INVALID;
    }
    if (e->query.randomize)
        finish_random(e);
    emit_world_summaries(e, &e->sc->sharing_world, false);
    if (e->out.cb_failed)
        return STORE_ERROR;
    return e->names.fetch_rc;
}

static int count_request(void *arg, const struct cand_request *r)
{
    (void)r;
    ++*(size_t *)arg;
    return 0;
}

static int skip_summary(void *arg, const struct cand_summary *s)
{
    (void)arg;
    (void)s;
    return 0;
}

/* Placement stops at the first request group that matches nothing, before
 * it even looks up the names of the next groups: an unknown name in group k
 * is only an error when every group before it matches something alone. */
static bool earlier_group_empty(struct store *st, const struct cand_query *q, size_t k)
{
    for (size_t j = 0; j < k; j++) {
        struct cand_query one = {.groups = &q->groups[j],
                                 .n_groups = 1,
                                 .root_required = q->root_required,
                                 .root_forbidden = q->root_forbidden,
                                 .limit = 1,
                                 .nested_aware = true,
                                 .work_limit = q->work_limit,
                                 .cancelled = q->cancelled,
                                 .cancel_arg = q->cancel_arg};
        struct cand_failure f;
        size_t count = 0;
        if (store_candidates_get(st, &one, count_request, skip_summary, &count, &f) == STORE_OK &&
            count == 0)
            return true;
    }
    return false;
}

/* The arguments of one run of the engine. */
struct cand_run {
    const struct cand_query *q;
    bool lenient;
    cand_request_fn *on_request;
    cand_summary_fn *on_summary;
    void *arg;
    struct cand_failure *fail;
    struct store *st; /* of the running unit */
};

/* The engine's output goes to the caller through these two, which tell
 * the unit first (unit_emitted: once the caller has rows, the run is not
 * repeated). The solver itself stays pure, without a struct store. */
static int request_to_caller(void *arg, const struct cand_request *r)
{
    struct cand_run *c = arg;
    unit_emitted(c->st);
    return c->on_request(c->arg, r);
}

static int summary_to_caller(void *arg, const struct cand_summary *s)
{
    struct cand_run *c = arg;
    unit_emitted(c->st);
    return c->on_summary(c->arg, s);
}

static enum store_rc candidates_body(struct store *st, void *arg)
{
    struct cand_run *c = arg;
    const struct cand_query *q = c->q;
    c->st = st;
    struct engine e = {.st = st,
                       .q = q,
                       .sc = scratch_take(),
                       .query = {.randomize = q->randomize && !q->explain},
                       .out = {.on_request = request_to_caller,
                               .on_summary = c->on_summary ? summary_to_caller : NULL,
                               .arg = c},
                       .names = {.fetch = fetch_name_sql, .lenient = c->lenient}};
    memset(c->fail, 0, sizeof(*c->fail));
    enum store_rc rc = run(&e, c->fail);
    log_msg(LOG_DEBUG, "candidates: %llu steps%s", e.budget.steps,
            e.budget.gave_up == CAND_WORK_LIMIT  ? " (work limit)"
            : e.budget.gave_up == CAND_CANCELLED ? " (cancelled)"
                                                 : "");
    size_t failed_group = e.budget.gave_up ? SIZE_MAX : e.names.resolving;
    engine_free(&e);
    if (rc != STORE_OK && c->fail->kind && failed_group != SIZE_MAX && !q->explain &&
        earlier_group_empty(st, q, failed_group)) {
        memset(c->fail, 0, sizeof(*c->fail));
        rc = STORE_OK; /* an empty answer, as upstream */
    }
    return rc;
}

/* One run of the engine over q (lenient: see struct engine), in one read
 * unit: the block versions and the trees come from one snapshot. */
static enum store_rc candidates_get(struct store *st, const struct cand_query *q, bool lenient,
                                    cand_request_fn *on_request, cand_summary_fn *on_summary,
                                    void *arg, struct cand_failure *fail)
{
    struct cand_run c = {q, lenient, on_request, on_summary, arg, fail, st};
    memset(fail, 0, sizeof(*fail));
    enum store_rc rc = store_unit(st, UNIT_READ, STORE_BUSY, candidates_body, &c);
    return rc != STORE_OK && fail->kind ? STORE_INVALID : rc;
}

/* An explanation answers exactly where the plain query answers: an
 * explanation resolves every name, so an unknown one the plain query never
 * reaches (it stops at the first group, or root_required, that matches
 * nothing) is asked of the plain query; when that answers, so does the
 * explanation, with the unknown names matching nothing; else its error. */
static enum store_rc explain_unknown_names(struct store *st, const struct cand_query *q,
                                           cand_request_fn *on_request,
                                           cand_summary_fn *on_summary, void *arg,
                                           struct cand_failure *fail)
{
    struct cand_query plain = *q;
    plain.explain = NULL;
    plain.limit = 1;
    plain.randomize = false;
    size_t count = 0;
    enum store_rc rc = candidates_get(st, &plain, false, count_request, skip_summary, &count, fail);
    if (rc != STORE_OK)
        return rc;
    size_t near_max = q->explain->near_max;
    cand_explain_free(q->explain);
    *q->explain = (struct cand_explain){.near_max = near_max};
    return candidates_get(st, q, true, on_request, on_summary, arg, fail);
}

enum store_rc store_candidates_get(struct store *st, const struct cand_query *q,
                                   cand_request_fn *on_request, cand_summary_fn *on_summary,
                                   void *arg, struct cand_failure *fail)
{
    enum store_rc rc = candidates_get(st, q, false, on_request, on_summary, arg, fail);
    if (q->explain && rc == STORE_INVALID &&
        (fail->kind == CAND_BAD_TRAIT || fail->kind == CAND_BAD_RESOURCE_CLASS))
        rc = explain_unknown_names(st, q, on_request, on_summary, arg, fail);
    return rc;
}
