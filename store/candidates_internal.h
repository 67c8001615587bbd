/* The allocation candidates engine's own declarations, shared by its files
 * only (store/candidates.h is the contract the API uses).
 *
 * The engine is split by what each part may touch:
 *   store/candidates.c          the entry point and the walk over blocks of trees
 *                               (transactions, the tree cache, randomization);
 *   store/candidates_load.c     reading provider trees, sharing providers and block
 *                               versions (the only SQL of the trees);
 *   store/candidates_resolve.c  names to ids (traits, classes, aggregates, in_tree)
 *                               and ids back to names, in Placement's order (SQL);
 *   store/solver_trees.c        building a "world" (the trees of a block) from rows;
 *   store/solver.c              solving one anchor: per-group choices, combining them,
 *                               pruning, bounded work;
 *   store/solver_emit.c         handing candidates and summaries to the callbacks;
 *   store/solver_explain.c      explain (issue 12): why a tree yielded nothing.
 * The solver_* files are pure: no sqlite3, no struct store. Rows come in
 * through world_add_*() and names through struct engine's names.fetch hook,
 * so tests/solver/ runs them on trees built by hand. */
#ifndef PLACID_STORE_CANDIDATES_INTERNAL_H
#define PLACID_STORE_CANDIDATES_INTERNAL_H

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/idmap.h"
#include "core/util.h"
#include "store/candidates.h"

struct store;
struct tree_entry;

/* ---- Growable arrays: malloc'd, or their own huge-page mapping from a
 * megabyte up (store/solver_trees.c) ---- */

/* Grows an array (malloc'd or mapped by size) to hold at least need
 * elements: grow() is the inline check, grow_to() the growing. */
void grow_to(void **v, size_t *cap, size_t need, size_t elem);
static inline void grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need > *cap)
        grow_to(v, cap, need, elem);
}
void array_free(void *v, size_t cap, size_t elem);

/* ---- Small integer helpers ---- */

/* Membership in a sorted array. */
static inline bool has_id(const long long *v, size_t n, long long id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] == id)
            return true;
        if (v[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

/* True when the sorted arrays a and b share an element. */
static inline bool intersects(const long long *a, size_t na, const long long *b, size_t nb)
{
    size_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (a[i] == b[j])
            return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}

/* Saturating arithmetic for amounts, capacities and usage: every operand
 * is an int64 the API or the database accepted, and a result past the range
 * only has to compare correctly ("more than anything can hold"). */
static inline long long sat_add(long long a, long long b)
{
    long long r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? LLONG_MAX : LLONG_MIN;
    return r;
}

static inline long long sat_sub(long long a, long long b)
{
    long long r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? LLONG_MAX : LLONG_MIN;
    return r;
}

/* ---- The in-memory picture of some provider trees ---- */

struct cinv {
    long long rc_id, total, reserved, min_unit, max_unit, step_size;
    long long used, capacity;
    double ratio; /* for explanations */
};

/* A provider of a finished world. Worlds of blocks are shared by concurrent
 * requests through the tree cache, so nothing here changes once
 * world_finalize() is done: per-request state lives in the engine. */
struct cprov {
    long long id, parent_id, root_id;
    char uuid[37];
    bool sharing;
    struct cprov *parent, *root;
    struct cprov *next; /* next member of the same tree, by id */
    struct cprov *tail; /* roots only, while linking: last member */
    /* The first of this provider's interchangeable siblings: leaves under the
     * same parent, not sharing, with identical inventories, usage, traits and
     * aggregates. NULL when it has none. Swapping two of them maps every
     * candidate to another one, so a search that found nothing with one need
     * not try the others (see combine). */
    const struct cprov *twin;
    bool has_children;
    struct cinv *inv;
    const long long *traits, *aggs; /* sorted ids */
    size_t n_inv, n_traits, n_aggs;
    size_t inv_off, trait_off, agg_off; /* while loading */
};

struct world {
    struct cprov *provs;
    size_t n, cap;
    struct cinv *inv;
    size_t n_inv, cap_inv;
    long long *traits;
    size_t n_traits, cap_traits;
    long long *aggs;
    size_t n_aggs, cap_aggs;
    struct idmap index; /* provider id -> its index in provs + 1 */
    struct cprov **roots; /* by id */
    size_t n_roots, cap_roots;
};

/* Building a world (store/solver_trees.c). Providers are added in id order
 * (an outlier range may follow), then each kind of row in provider order;
 * world_finalize() links the trees, after which the world never changes. */
struct cprov *world_add_provider(struct world *w, long long id, long long root_id,
                                 long long parent_id, const char *uuid);
/* Room for the rows of `added` providers just added. */
void world_reserve_rows(struct world *w, size_t added);
/* The provider of a row, among those from index first on: *cur is a cursor
 * that only moves forward for rows in provider order. NULL when absent. */
struct cprov *world_row_provider(struct world *w, size_t first, size_t *cur, long long id);
/* An inventory of p (classes in id order): rc_id, total, reserved, min_unit,
 * max_unit, step_size and ratio from v; capacity is worked out, used is 0. */
void world_add_inventory(struct world *w, struct cprov *p, const struct cinv *v);
/* The usage of class rc_id on p (an inventory added before). */
void world_set_usage(struct world *w, struct cprov *p, long long rc_id, long long used);
void world_add_trait(struct world *w, struct cprov *p, long long trait_id);
void world_add_aggregate(struct world *w, struct cprov *p, long long agg_id);
/* Sets the pointers once the arrays stop moving; shares_trait is the id of
 * MISC_SHARES_VIA_AGGREGATE (0: none). */
void world_finalize(struct world *w, long long shares_trait);
void world_free(struct world *w);
/* Empties w but keeps its arrays for the next batch or request. */
void world_reset(struct world *w);
size_t world_bytes(const struct world *w);

static inline struct cprov *world_find(const struct world *w, long long id)
{
    uintptr_t i = idmap_get(&w->index, (uint64_t)id);
    return i ? &w->provs[i - 1] : NULL;
}

static inline struct cinv *find_inv(const struct cprov *p, long long rc_id)
{
    for (size_t i = 0; i < p->n_inv; i++)
        if (p->inv[i].rc_id == rc_id)
            return &p->inv[i];
    return NULL;
}

/* Placement's capacity test for one amount (research_context.py
 * _capacity_check_clause). */
static inline bool fits(const struct cinv *v, long long amount)
{
    return v && amount <= sat_sub(v->capacity, v->used) && v->min_unit <= amount &&
           v->max_unit >= amount && v->step_size > 0 && amount % v->step_size == 0;
}

/* ---- The engine ---- */

/* A request group with its names resolved (every struct id_set sorted). */
struct rgroup {
    const struct cand_group *g;
    bool suffixed;
    size_t n_res;
    long long *rc_ids; /* unsuffixed: sorted by id (Placement's product order) */
    long long *amounts;
    const char **rc_names;
    struct id_set *required; /* any-of sets of traits */
    size_t n_required;
    struct id_set forbidden;
    struct id_set *member_of; /* any-of sets of aggregates */
    size_t n_member_of;
    struct id_set forbidden_aggs;
    long long tree_root; /* in_tree: the tree's root id; 0 when not given */
    const char **required_labels; /* explain: "A or B" per required set, made on demand */
};

/* One choice a group can make under an anchor: the amounts it takes and the
 * providers it maps to. */
struct pick {
    struct cprov *p;
    struct cinv *inv;
    long long amount;
    const char *rc_name;
};

struct sol {
    struct pick *items;
    size_t n_items;
    struct cprov **maps; /* distinct providers, in pick order */
    size_t n_maps;
};

struct sol_list {
    struct sol *v;
    size_t n, cap;
};

/* A candidate kept for randomization (pointers into retained worlds). */
struct stored {
    struct pick *items; /* consolidated */
    size_t n_items;
    struct cprov ***maps; /* per group */
    size_t *n_maps;
};

/* A candidate made only of sharing providers, as dedup_first() keys it. */
struct dkey {
    long long *key; /* in the request arena */
    size_t len;
    size_t next; /* index + 1 of the next key with the same hash; 0: none */
};

/* Memory kept between requests (store/candidates.c keeps a few warm). */
struct scratch {
    struct arena req_arena;    /* lives for the request */
    struct arena anchor_arena; /* reset after every anchor */
    struct world sharing_world;        /* the trees of the sharing providers */
};

/* What the summaries must show, per provider used by this request (the
 * engine's marks: provider address -> these bits). */
enum { MARK_TREE = 1, MARK_PROVIDER = 2 };

static inline unsigned mark_get(const struct idmap *marks, const struct cprov *p)
{
    return (unsigned)idmap_get(marks, (uintptr_t)p);
}

static inline void mark_set(struct idmap *marks, const struct cprov *p, unsigned bits)
{
    *idmap_slot(marks, (uintptr_t)p) |= bits;
}

/* The request, its names resolved (store/candidates_resolve.c). */
struct engine_query {
    struct rgroup *groups;
    size_t n_groups;
    struct id_set root_required, root_forbidden; /* traits the anchor root must (not) have */
    size_t **subtree_groups; /* per same_subtree set: the indices of its groups */
    size_t *n_subtree_groups;
    long long shares_trait; /* MISC_SHARES_VIA_AGGREGATE's id; 0: no such trait */
    bool has_trees;         /* some provider has a parent */
    bool drop_nested;       /* before 1.29 with trees: one provider per tree */
    bool randomize;         /* q->randomize, unless explaining */
    /* The classes the groups ask for with their summed amounts (tree_has_room). */
    long long *demand_rc_ids, *demand_amounts;
    size_t n_demand;
    bool room_check; /* some class is asked by several groups: tree_has_room can prune */
};

/* The trees around the current anchor. */
struct engine_trees {
    struct cprov **sharing; /* every sharing provider, by id (in e->sc->sharing_world) */
    size_t n_sharing;
    struct cprov **anchored; /* the sharing providers anchored to the current anchor */
    size_t n_anchored, cap_anchored;
    struct tree_entry **held; /* randomization: every block until the end */
    size_t n_held, cap_held;
};

/* Bounded work (cand_query.work_limit, cancelled) and the end of the run. */
struct engine_budget {
    unsigned long long steps, next_poll;
    enum cand_bad_kind gave_up; /* CAND_WORK_LIMIT or CAND_CANCELLED once stopped */
    bool stop;                  /* given up, limit reached or a callback failed */
};

/* The search under the current anchor (store/solver.c). */
struct engine_search {
    struct sol_list *choices; /* per group, refilled for every anchor */
    struct pick *combo;       /* consolidated amounts of the current combination */
    size_t n_combo, cap_combo;
    const struct sol **chosen; /* per group: its choice in the current combination */
    /* Per combine() depth, the twins whose subtree found nothing. */
    const struct cprov ***failed_twins;
    size_t *n_failed_twins;
    size_t found;       /* combinations that passed every check */
    struct idmap dedup; /* dedup_first(): key hash -> index + 1 in dkeys */
    struct dkey *dkeys;
    size_t n_dkeys, cap_dkeys;
};

/* What goes to the callbacks (store/solver_emit.c), with its reused buffers. */
struct engine_output {
    cand_request_fn *on_request;
    cand_summary_fn *on_summary;
    void *arg;
    size_t count;     /* requests emitted */
    bool cb_failed;   /* a callback returned non-zero */
    bool mark_only;   /* limit reached before 1.29: only mark what later candidates use */
    struct idmap marks; /* provider address -> MARK_* bits */
    struct stored *stored; /* randomization: every candidate, emitted at the end */
    size_t n_stored, cap_stored;
    struct cprov ***chosen_maps; /* per group: the chosen mappings */
    size_t *n_chosen_maps;
    struct cand_item *items;
    size_t cap_items;
    struct cand_mapping *mappings;
    const char **uuids;
    size_t cap_uuids;
    struct cand_summary_res *summary_res;
    size_t cap_summary_res;
    const char **summary_traits;
    size_t cap_summary_traits;
};

/* Explain: what the current anchor's combinations ran into. */
struct engine_why {
    size_t leaves, subtree_rejects, isolate_clashes;
    enum cand_constraint anchor_fail;
    size_t empty_group; /* CX_TRAITS: the group left without a choice */
};

enum name_kind { NAME_RC, NAME_TRAIT };

struct engine;

/* Names: ids back to names for summaries and explanations. */
struct engine_names {
    struct idmap rc, trait; /* id -> name (const char *) */
    /* The name of an id the maps do not hold yet ("" when it has none);
     * engine_name() keeps it. Set by whoever runs the engine. */
    const char *(*fetch)(struct engine *e, enum name_kind kind, long long id);
    enum store_rc fetch_rc; /* the first error of fetch, else STORE_OK */
    size_t resolving;       /* the group being resolved (SIZE_MAX: request-wide names) */
    /* Explaining a query the plain engine answers empty before it reaches
     * an unknown name: such a name gets an id nothing has (unknown_id, down
     * from -1), named in the name maps. */
    bool lenient;
    long long unknown_id;
};

/* One run of the engine over one query. */
struct engine {
    struct store *st; /* NULL without a database (tests/solver) */
    const struct cand_query *q;
    struct scratch *sc; /* arenas and the sharing world, reused across requests */
    struct engine_query query;
    struct engine_trees trees;
    struct engine_budget budget;
    struct engine_search search;
    struct engine_output out;
    struct engine_why why;
    struct engine_names names;
};

/* The name of a resource class or trait id, cached for the request. */
const char *engine_name(struct engine *e, enum name_kind kind, long long id);

/* ---- Bounded work (store/solver.c) ---- */

bool spend_poll(struct engine *e);

/* Counts n steps; false (and the run stopped) once the budget is spent or
 * the caller cancelled. */
static inline bool spend(struct engine *e, unsigned long long n)
{
    e->budget.steps += n;
    return e->budget.steps < e->budget.next_poll || spend_poll(e);
}

/* ---- Filters on one provider ---- */

static inline bool in_all_sets(const struct cprov *p, const struct id_set *sets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!intersects(p->aggs, p->n_aggs, sets[i].ids, sets[i].n))
            return false;
    return true;
}

static inline bool has_any(const long long *v, size_t n, const struct id_set *s)
{
    return s->n && intersects(v, n, s->ids, s->n);
}

/* Every any-of set meets the traits of p. */
static inline bool has_required(const struct cprov *p, const struct id_set *sets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!intersects(p->traits, p->n_traits, sets[i].ids, sets[i].n))
            return false;
    return true;
}

static inline bool root_passes(const struct engine *e, const struct cprov *root)
{
    for (size_t i = 0; i < e->query.root_required.n; i++)
        if (!has_id(root->traits, root->n_traits, e->query.root_required.ids[i]))
            return false;
    return !has_any(root->traits, root->n_traits, &e->query.root_forbidden);
}

/* What a provider can give of class rc_id to all groups together: the sum
 * of the groups' amounts must stay within its free capacity and max_unit. */
static inline long long can_give(const struct cprov *p, long long rc_id)
{
    const struct cinv *v = find_inv(p, rc_id);
    if (!v)
        return 0;
    long long free = sat_sub(v->capacity, v->used);
    free = free < v->max_unit ? free : v->max_unit;
    return free > 0 ? free : 0;
}

/* ---- Solving (store/solver.c) ---- */

/* Once the groups are resolved: the summed demand and the per-group state. */
void engine_prepare(struct engine *e);
/* Picks the sharing providers out of e->sc->sharing_world once it is finalized. */
void engine_take_sharing(struct engine *e);
/* The sharing providers (outside root's tree) that share an aggregate with
 * some provider of it. */
void find_anchored(struct engine *e, struct cprov *root);
/* Every candidate anchored at each root of w, in order. */
void engine_solve_world(struct engine *e, const struct world *w);
/* Frees what engine_prepare() and the solve allocated (not e->sc). */
void engine_release(struct engine *e);

/* ---- Output (store/solver_emit.c) ---- */

void emit_request(struct engine *e, const struct pick *run, size_t n_run,
                  struct cprov *const *const *maps, const size_t *n_maps);
void store_candidate(struct engine *e);
/* Before 1.29 (nested deployment, limit reached) Placement still shows the
 * providers that any dropped-by-limit candidate used in a kept tree. */
void mark_late(struct engine *e);
/* Summaries of the trees of w that candidates used; skip_sharing leaves out
 * the trees held in the sharing world. */
void emit_world_summaries(struct engine *e, const struct world *w, bool skip_sharing);

/* ---- Explain (store/solver_explain.c) ---- */

/* Counts one tree: yielded something, or charged to its first failure. */
void explain_anchor(struct engine *e, struct cprov *root, bool ok);

/* ---- With the database (store/candidates_load.c, candidates_resolve.c) ---- */

/* Appends the trees whose root id is in [lo, hi] to w. */
enum store_rc world_load(struct store *st, struct world *w, long long lo, long long hi);
/* Reads the trees of every sharing provider once into e->sc->sharing_world. */
enum store_rc load_sharing(struct engine *e);

/* A block of trees (store/tree_cache.h) and the version this transaction sees. */
struct block_version {
    long long block, version;
};

/* The next blocks after block `after` with their versions, at most `want`
 * of them, in block order. */
enum store_rc next_blocks(struct store *st, long long after, size_t want,
                          struct block_version *out, size_t *n);
/* The finished trees of one block: the shared copy when the cache holds the
 * block at the version this transaction sees, else read now and offered to
 * the cache. The caller releases *out. */
enum store_rc block_world(struct engine *e, struct block_version bv, struct tree_entry **out);

/* Request-wide names, then each group in query order. */
enum store_rc resolve(struct engine *e, bool *empty, struct cand_failure *fail);
/* engine.names.fetch for a database: one point query per distinct id. */
const char *fetch_name_sql(struct engine *e, enum name_kind kind, long long id);

#endif
