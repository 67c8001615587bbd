/* Reading provider trees for the candidates engine: the blocks of trees
 * (five primary-key range scans per block), the sharing providers' trees
 * and the block versions. The only SQL of the trees; the rows go into a
 * world through world_add_*() (store/solver_trees.c). */
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"
#include "store/internal.h"
#include "store/tree_cache.h"

/* How trees are read (the STMT_CAND_* texts are in store/sql_sqlite.c). A
 * batch covers the roots with ids in [lo, hi]: the providers with ids in
 * that range are read with rowid and primary-key range scans (no joins:
 * sequential and cheap), rows matched to their provider by a merge since
 * every statement returns provider id order. A tree member outside the
 * range (a child created after a later root, or re-parented) is an
 * "outlier", found through providers_root and read on its own; a provider
 * of the range whose root is outside it belongs to another batch and is
 * left unlinked. */

/* Runs one range statement and hands each row to fn. */
static enum store_rc range_rows(struct store *st, enum stmt_id id, long long lo, long long hi,
                                void (*fn)(struct world *, size_t, size_t *, struct sql *),
                                struct world *w, size_t first)
{
    struct sql *q = sql_get(st, id);
    sql_bind_i64(q, 1, lo);
    sql_bind_i64(q, 2, hi);
    size_t cur = first;
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK)
        fn(w, first, &cur, q);
    sql_done(q);
    return rows_end(rc);
}

static void row_inventory(struct world *w, size_t first, size_t *cur, struct sql *s)
{
    struct cprov *p = world_row_provider(w, first, cur, sql_col_i64(s, 0));
    if (!p)
        return;
    struct cinv v = {.rc_id = sql_col_i64(s, 1),
                     .total = sql_col_i64(s, 2),
                     .reserved = sql_col_i64(s, 3),
                     .min_unit = sql_col_i64(s, 4),
                     .max_unit = sql_col_i64(s, 5),
                     .step_size = sql_col_i64(s, 6),
                     .ratio = sql_col_f64(s, 7)};
    world_add_inventory(w, p, &v);
}

static void row_usage(struct world *w, size_t first, size_t *cur, struct sql *s)
{
    struct cprov *p = world_row_provider(w, first, cur, sql_col_i64(s, 0));
    if (p)
        world_set_usage(w, p, sql_col_i64(s, 1), sql_col_i64(s, 2));
}

static void row_trait(struct world *w, size_t first, size_t *cur, struct sql *s)
{
    struct cprov *p = world_row_provider(w, first, cur, sql_col_i64(s, 0));
    if (p)
        world_add_trait(w, p, sql_col_i64(s, 1));
}

static void row_aggregate(struct world *w, size_t first, size_t *cur, struct sql *s)
{
    struct cprov *p = world_row_provider(w, first, cur, sql_col_i64(s, 0));
    if (p)
        world_add_aggregate(w, p, sql_col_i64(s, 1));
}

/* Appends the providers with ids in [a, b] and their rows to w. */
static enum store_rc load_id_range(struct store *st, struct world *w, long long a, long long b)
{
    struct sql *s = sql_get(st, STMT_CAND_PROVIDERS);
    size_t first = w->n;
    /* Ids are mostly dense: reserving up front saves copying regrowth. */
    size_t span = b - a + 1 < 65536 ? (size_t)(b - a + 1) : 65536;
    grow((void **)&w->provs, &w->cap, w->n + span, sizeof(*w->provs));
    sql_bind_i64(s, 1, a);
    sql_bind_i64(s, 2, b);
    enum store_rc rc;
    while ((rc = sql_step(s)) == STORE_OK)
        world_add_provider(w, sql_col_i64(s, 0), sql_col_i64(s, 1), sql_col_i64(s, 2),
                           sql_col_text(s, 3));
    sql_done(s);
    if (rc != STORE_NOT_FOUND)
        return rc;
    if (w->n == first)
        return STORE_OK;
    world_reserve_rows(w, w->n - first);
    enum store_rc r;
    if ((r = range_rows(st, STMT_CAND_INVENTORIES, a, b, row_inventory, w, first)) != STORE_OK ||
        (r = range_rows(st, STMT_CAND_USAGES, a, b, row_usage, w, first)) != STORE_OK ||
        (r = range_rows(st, STMT_CAND_TRAITS, a, b, row_trait, w, first)) != STORE_OK ||
        (r = range_rows(st, STMT_CAND_AGGREGATES, a, b, row_aggregate, w, first)) != STORE_OK)
        return r;
    return STORE_OK;
}

enum store_rc world_load(struct store *st, struct world *w, long long lo, long long hi)
{
    enum store_rc r = load_id_range(st, w, lo, hi);
    if (r != STORE_OK)
        return r;
    struct sql *s = sql_get(st, STMT_CAND_OUTLIERS);
    sql_bind_i64(s, 1, lo);
    sql_bind_i64(s, 2, hi);
    long long *ids = NULL;
    size_t n = 0, cap = 0;
    enum store_rc rc;
    while ((rc = sql_step(s)) == STORE_OK) {
        grow((void **)&ids, &cap, n + 1, sizeof(*ids));
        ids[n++] = sql_col_i64(s, 0);
    }
    sql_done(s);
    r = rows_end(rc);
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = load_id_range(st, w, ids[i], ids[i]);
    array_free(ids, cap, sizeof(*ids));
    return r;
}

/* The tree cache's destructor for a heap-allocated world. */
void candidates_trees_destroy(void *obj)
{
    world_free(obj);
    free(obj);
}

enum store_rc load_sharing(struct engine *e)
{
    if (!e->query.shares_trait)
        return STORE_OK;
    struct sql *s = sql_get(e->st, STMT_CAND_SHARING_ROOTS);
    sql_bind_i64(s, 1, e->query.shares_trait);
    long long *roots = NULL;
    size_t n = 0, cap = 0;
    enum store_rc rc;
    while ((rc = sql_step(s)) == STORE_OK) {
        grow((void **)&roots, &cap, n + 1, sizeof(*roots));
        roots[n++] = sql_col_i64(s, 0);
    }
    sql_done(s);
    enum store_rc out = rows_end(rc);
    for (size_t i = 0; i < n && out == STORE_OK; i++)
        out = world_load(e->st, &e->sc->sharing_world, roots[i], roots[i]);
    array_free(roots, cap, sizeof(*roots));
    if (out != STORE_OK)
        return out;
    world_finalize(&e->sc->sharing_world, e->query.shares_trait);
    engine_take_sharing(e);
    return STORE_OK;
}

enum store_rc next_blocks(struct store *st, long long after, size_t want,
                          struct block_version *out, size_t *n)
{
    struct sql *s = sql_get(st, STMT_CAND_NEXT_BLOCKS);
    sql_bind_i64(s, 1, after);
    sql_bind_i64(s, 2, (long long)want);
    *n = 0;
    enum store_rc rc;
    while ((rc = sql_step(s)) == STORE_OK) {
        out[*n].block = sql_col_i64(s, 0);
        out[(*n)++].version = sql_col_i64(s, 1);
    }
    sql_done(s);
    return rows_end(rc);
}

enum store_rc block_world(struct engine *e, struct block_version bv, struct tree_entry **out)
{
    struct tree_cache *cache = e->st->trees;
    if ((*out = tree_cache_get(cache, bv.block, bv.version)))
        return STORE_OK;
    struct world *w = xcalloc(1, sizeof(*w));
    long long lo = bv.block << TREE_BLOCK_SHIFT;
    enum store_rc rc = world_load(e->st, w, lo, lo + (1 << TREE_BLOCK_SHIFT) - 1);
    if (rc != STORE_OK) {
        candidates_trees_destroy(w);
        return rc;
    }
    world_finalize(w, e->query.shares_trait);
    *out = tree_cache_adopt(cache, bv.block, bv.version, w, sizeof(*w) + world_bytes(w));
    return STORE_OK;
}
