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
 * Semantics that are easy to miss, all from placement/objects/:
 *  - unsuffixed group: one provider per resource class, from the anchor tree
 *    or a sharing provider anchored to it; required traits are satisfied by
 *    the union of the traits of the providers used, forbidden traits by none
 *    of them; member_of holds when the provider or the anchor root is in the
 *    aggregates (a sharing provider must itself be in them); forbidden
 *    aggregates exclude a provider when it or the anchor root is in them.
 *  - suffixed group: one provider carries everything itself (traits and
 *    aggregates included); resourceless groups (1.36) need a trait or
 *    aggregate filter and ignore in_tree, as upstream does.
 *  - amounts of one (provider, class) from several groups are summed and
 *    checked again against capacity and max_unit (not min_unit/step_size).
 *  - a candidate made only of sharing providers can be found under several
 *    anchors: it is reported once. */
#define _GNU_SOURCE /* mremap */
#include "store/candidates.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"
#include "store/tree_cache.h"

/* ---- A resettable bump allocator for per-request and per-anchor scratch ---- */

struct pool_chunk {
    struct pool_chunk *next;
    size_t size, used;
    max_align_t data[];
};

struct pool {
    struct pool_chunk *head;
};

static void *pool_alloc(struct pool *p, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    struct pool_chunk *c = p->head;
    if (!c || c->size - c->used < n) {
        size_t size = n > 65536 ? n : 65536;
        c = xmalloc(sizeof(*c) + size);
        c->size = size;
        c->used = 0;
        c->next = p->head;
        p->head = c;
    }
    void *out = (char *)c->data + c->used;
    c->used += n;
    return out;
}

static char *pool_strdup(struct pool *p, const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(pool_alloc(p, n), s, n);
}

/* Frees every chunk but the newest, which is kept (emptied) for reuse. */
static void pool_reset(struct pool *p)
{
    if (!p->head)
        return;
    struct pool_chunk *keep = p->head, *c = keep->next;
    while (c) {
        struct pool_chunk *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

static void pool_free(struct pool *p)
{
    pool_reset(p);
    free(p->head);
    p->head = NULL;
}

/* Arrays of a megabyte or more live in their own mappings: they grow with
 * mremap (no copying), go back to the system when freed, and ask for
 * transparent huge pages, because faulting in fresh 4 KiB pages (tens of
 * microseconds each on a virtual machine) would otherwise dominate a large
 * answer. Whether an array is mapped follows from its size alone. */
#define MAP_MIN ((size_t)1 << 20)

static void *map_resize(void *old, size_t old_bytes, size_t bytes)
{
    if (old_bytes < MAP_MIN) {
        void *p = map_huge(bytes, false);
        if (old_bytes)
            memcpy(p, old, old_bytes);
        free(old);
        return p;
    }
    void *p = mremap(old, old_bytes, bytes, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        abort();
    (void)madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/* Grows an array (malloc'd or mapped by size) to hold at least need
 * elements. */
static void grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return;
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    if (n * elem >= MAP_MIN)
        *v = map_resize(*v, *cap * elem, n * elem);
    else
        *v = xrealloc(*v, n * elem);
    *cap = n;
}

static void array_free(void *v, size_t cap, size_t elem)
{
    if (cap * elem >= MAP_MIN)
        munmap(v, cap * elem);
    else
        free(v);
}

/* ---- Small integer helpers ---- */

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Membership in a sorted array. */
static bool has_id(const long long *v, size_t n, long long id)
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
static bool intersects(const long long *a, size_t na, const long long *b, size_t nb)
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
static long long sat_add(long long a, long long b)
{
    long long r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? LLONG_MAX : LLONG_MIN;
    return r;
}

static long long sat_sub(long long a, long long b)
{
    long long r;
    if (__builtin_sub_overflow(a, b, &r))
        return b < 0 ? LLONG_MAX : LLONG_MIN;
    return r;
}

/* int(x) for Placement's float capacity, clamped to the int64 range (a cast
 * of an out-of-range double is undefined behaviour). */
static long long clamp_ll(double x)
{
    if (isnan(x))
        return 0;
    if (x >= 9223372036854775807.0)
        return LLONG_MAX;
    if (x <= -9223372036854775808.0)
        return LLONG_MIN;
    return (long long)x;
}

static uint64_t hash_ll(long long v)
{
    uint64_t h = (uint64_t)v * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

/* ---- The in-memory picture of some provider trees ---- */

struct cinv {
    long long rc, total, reserved, min_unit, max_unit, step_size;
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
    size_t *slots; /* id -> index + 1; open addressing */
    size_t n_slots, cap_slots;
    struct cprov **roots; /* by id */
    size_t n_roots, cap_roots;
};

static void world_free(struct world *w)
{
    array_free(w->provs, w->cap, sizeof(*w->provs));
    array_free(w->inv, w->cap_inv, sizeof(*w->inv));
    array_free(w->traits, w->cap_traits, sizeof(*w->traits));
    array_free(w->aggs, w->cap_aggs, sizeof(*w->aggs));
    array_free(w->slots, w->cap_slots, sizeof(*w->slots));
    array_free(w->roots, w->cap_roots, sizeof(*w->roots));
    memset(w, 0, sizeof(*w));
}

/* Empties w but keeps its arrays for the next batch or request. */
static void world_reset(struct world *w)
{
    w->n = w->n_inv = w->n_traits = w->n_aggs = w->n_roots = w->n_slots = 0;
}

static size_t world_bytes(const struct world *w)
{
    return w->cap * sizeof(*w->provs) + w->cap_inv * sizeof(*w->inv) +
           (w->cap_traits + w->cap_aggs) * sizeof(long long) + w->cap_slots * sizeof(size_t) +
           w->cap_roots * sizeof(*w->roots);
}

/* The tree cache's destructor for a heap-allocated world. */
void candidates_trees_destroy(void *obj)
{
    world_free(obj);
    free(obj);
}

static struct cprov *world_find(const struct world *w, long long id)
{
    if (!w->n_slots)
        return NULL;
    size_t mask = w->n_slots - 1;
    for (size_t i = hash_ll(id) & mask;; i = (i + 1) & mask) {
        size_t s = w->slots[i];
        if (!s)
            return NULL;
        if (w->provs[s - 1].id == id)
            return &w->provs[s - 1];
    }
}

/* The statements that read trees. A batch covers the roots with ids in
 * [lo, hi]: the providers with ids in that range are read with rowid and
 * primary-key range scans (no joins: sequential and cheap), rows matched to
 * their provider by a merge since every statement returns provider id order.
 * A tree member outside the range (a child created after a later root, or
 * re-parented) is an "outlier", found through providers_root and read on
 * its own; a provider of the range whose root is outside it belongs to
 * another batch and is left unlinked. */
static const char SQL_PROVIDERS[] =
    "SELECT id, root_id, COALESCE(parent_id, 0), uuid FROM providers"
    " WHERE id BETWEEN ?1 AND ?2 ORDER BY id";
static const char SQL_INVENTORIES[] =
    "SELECT provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size,"
    " allocation_ratio FROM inventories WHERE provider_id BETWEEN ?1 AND ?2"
    " ORDER BY provider_id, resource_class_id";
static const char SQL_USAGES[] =
    "SELECT provider_id, resource_class_id, SUM(used) FROM allocations"
    " WHERE provider_id BETWEEN ?1 AND ?2 GROUP BY provider_id, resource_class_id"
    " ORDER BY provider_id, resource_class_id";
static const char SQL_TRAITS[] =
    "SELECT provider_id, trait_id FROM provider_traits WHERE provider_id BETWEEN ?1 AND ?2"
    " ORDER BY provider_id, trait_id";
static const char SQL_AGGREGATES[] =
    "SELECT provider_id, aggregate_id FROM provider_aggregates"
    " WHERE provider_id BETWEEN ?1 AND ?2 ORDER BY provider_id, aggregate_id";
static const char SQL_OUTLIERS[] =
    "SELECT id FROM providers WHERE root_id BETWEEN ?1 AND ?2 AND (id < ?1 OR id > ?2)"
    " ORDER BY id";

/* Finds the provider of a row: rows come in provider order, so the cursor
 * only moves forward; the linear fallback keeps a surprise harmless. */
static struct cprov *row_provider(struct world *w, size_t first, size_t *cur, long long id)
{
    while (*cur < w->n && w->provs[*cur].id < id)
        (*cur)++;
    if (*cur < w->n && w->provs[*cur].id == id)
        return &w->provs[*cur];
    for (size_t i = first; i < w->n; i++)
        if (w->provs[i].id == id)
            return &w->provs[*cur = i];
    *cur = first;
    return NULL;
}

/* Runs one range statement and hands each row to fn. */
static enum store_rc range_rows(struct store *st, const char *sql, long long lo, long long hi,
                                void (*fn)(struct world *, size_t, size_t *, sqlite3_stmt *),
                                struct world *w, size_t first)
{
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    sqlite3_bind_int64(s, 1, lo);
    sqlite3_bind_int64(s, 2, hi);
    size_t cur = first;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        fn(w, first, &cur, s);
    stmt_done(s);
    return rc == SQLITE_DONE ? STORE_OK : store_rc_from_sqlite(st, rc, "candidates load");
}

static void row_inventory(struct world *w, size_t first, size_t *cur, sqlite3_stmt *s)
{
    struct cprov *p = row_provider(w, first, cur, sqlite3_column_int64(s, 0));
    if (!p)
        return;
    grow((void **)&w->inv, &w->cap_inv, w->n_inv + 1, sizeof(*w->inv));
    if (!p->n_inv)
        p->inv_off = w->n_inv;
    struct cinv *v = &w->inv[w->n_inv++];
    p->n_inv++;
    v->rc = sqlite3_column_int64(s, 1);
    v->total = sqlite3_column_int64(s, 2);
    v->reserved = sqlite3_column_int64(s, 3);
    v->min_unit = sqlite3_column_int64(s, 4);
    v->max_unit = sqlite3_column_int64(s, 5);
    v->step_size = sqlite3_column_int64(s, 6);
    /* Placement's capacity: int((total - reserved) * allocation_ratio). */
    v->ratio = sqlite3_column_double(s, 7);
    v->capacity = clamp_ll((double)sat_sub(v->total, v->reserved) * v->ratio);
    v->used = 0;
}

static void row_usage(struct world *w, size_t first, size_t *cur, sqlite3_stmt *s)
{
    struct cprov *p = row_provider(w, first, cur, sqlite3_column_int64(s, 0));
    long long rc = sqlite3_column_int64(s, 1);
    if (!p)
        return;
    for (size_t i = 0; i < p->n_inv; i++)
        if (w->inv[p->inv_off + i].rc == rc)
            w->inv[p->inv_off + i].used = sqlite3_column_int64(s, 2);
}

static void row_trait(struct world *w, size_t first, size_t *cur, sqlite3_stmt *s)
{
    struct cprov *p = row_provider(w, first, cur, sqlite3_column_int64(s, 0));
    if (!p)
        return;
    grow((void **)&w->traits, &w->cap_traits, w->n_traits + 1, sizeof(*w->traits));
    if (!p->n_traits)
        p->trait_off = w->n_traits;
    w->traits[w->n_traits++] = sqlite3_column_int64(s, 1);
    p->n_traits++;
}

static void row_aggregate(struct world *w, size_t first, size_t *cur, sqlite3_stmt *s)
{
    struct cprov *p = row_provider(w, first, cur, sqlite3_column_int64(s, 0));
    if (!p)
        return;
    grow((void **)&w->aggs, &w->cap_aggs, w->n_aggs + 1, sizeof(*w->aggs));
    if (!p->n_aggs)
        p->agg_off = w->n_aggs;
    w->aggs[w->n_aggs++] = sqlite3_column_int64(s, 1);
    p->n_aggs++;
}

/* Appends the providers with ids in [a, b] and their rows to w. */
static enum store_rc load_id_range(struct store *st, struct world *w, long long a, long long b)
{
    sqlite3_stmt *s = stmt_get(st, SQL_PROVIDERS);
    if (!s)
        return STORE_ERROR;
    size_t first = w->n;
    /* Ids are mostly dense: reserving up front saves copying regrowth. */
    size_t span = b - a + 1 < 65536 ? (size_t)(b - a + 1) : 65536;
    grow((void **)&w->provs, &w->cap, w->n + span, sizeof(*w->provs));
    sqlite3_bind_int64(s, 1, a);
    sqlite3_bind_int64(s, 2, b);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        grow((void **)&w->provs, &w->cap, w->n + 1, sizeof(*w->provs));
        struct cprov *p = &w->provs[w->n++];
        memset(p, 0, sizeof(*p));
        p->id = sqlite3_column_int64(s, 0);
        p->root_id = sqlite3_column_int64(s, 1);
        p->parent_id = sqlite3_column_int64(s, 2);
        const unsigned char *u = sqlite3_column_text(s, 3);
        size_t len = u ? strlen((const char *)u) : 0;
        len = len < sizeof(p->uuid) ? len : sizeof(p->uuid) - 1;
        memcpy(p->uuid, u ? (const char *)u : "", len);
        p->uuid[len] = '\0';
    }
    stmt_done(s);
    if (rc != SQLITE_DONE)
        return store_rc_from_sqlite(st, rc, "candidates providers");
    if (w->n == first)
        return STORE_OK;
    size_t added = w->n - first;
    grow((void **)&w->inv, &w->cap_inv, w->n_inv + 4 * added, sizeof(*w->inv));
    grow((void **)&w->traits, &w->cap_traits, w->n_traits + 3 * added, sizeof(*w->traits));
    grow((void **)&w->aggs, &w->cap_aggs, w->n_aggs + 3 * added, sizeof(*w->aggs));
    enum store_rc r;
    if ((r = range_rows(st, SQL_INVENTORIES, a, b, row_inventory, w, first)) != STORE_OK ||
        (r = range_rows(st, SQL_USAGES, a, b, row_usage, w, first)) != STORE_OK ||
        (r = range_rows(st, SQL_TRAITS, a, b, row_trait, w, first)) != STORE_OK ||
        (r = range_rows(st, SQL_AGGREGATES, a, b, row_aggregate, w, first)) != STORE_OK)
        return r;
    return STORE_OK;
}

/* Appends the trees whose root id is in [lo, hi] to w. */
static enum store_rc world_load(struct store *st, struct world *w, long long lo, long long hi)
{
    enum store_rc r = load_id_range(st, w, lo, hi);
    if (r != STORE_OK)
        return r;
    sqlite3_stmt *s = stmt_get(st, SQL_OUTLIERS);
    if (!s)
        return STORE_ERROR;
    sqlite3_bind_int64(s, 1, lo);
    sqlite3_bind_int64(s, 2, hi);
    long long *ids = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        grow((void **)&ids, &cap, n + 1, sizeof(*ids));
        ids[n++] = sqlite3_column_int64(s, 0);
    }
    stmt_done(s);
    r = rc == SQLITE_DONE ? STORE_OK : store_rc_from_sqlite(st, rc, "candidates outliers");
    for (size_t i = 0; i < n && r == STORE_OK; i++)
        r = load_id_range(st, w, ids[i], ids[i]);
    array_free(ids, cap, sizeof(*ids));
    return r;
}

static int cmp_member(const void *a, const void *b)
{
    const struct cprov *x = *(struct cprov *const *)a, *y = *(struct cprov *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Keeps a tree's member list (after the root) in id order: only outliers
 * can break it. */
static void sort_members(struct cprov *root)
{
    size_t n = 0;
    bool sorted = true;
    for (struct cprov *p = root->next, *prev = NULL; p; prev = p, p = p->next, n++)
        sorted = sorted && (!prev || prev->id < p->id);
    if (sorted)
        return;
    struct cprov **v = xmalloc(n * sizeof(*v));
    n = 0;
    for (struct cprov *p = root->next; p; p = p->next)
        v[n++] = p;
    qsort(v, n, sizeof(*v), cmp_member);
    root->next = v[0];
    for (size_t i = 0; i + 1 < n; i++)
        v[i]->next = v[i + 1];
    v[n - 1]->next = NULL;
    root->tail = v[n - 1];
    free(v);
}

static bool same_ids(const long long *a, size_t na, const long long *b, size_t nb)
{
    return na == nb && (!na || memcmp(a, b, na * sizeof(*a)) == 0);
}

/* Are a and b interchangeable siblings (see cprov.twin)? */
static bool interchangeable(const struct cprov *a, const struct cprov *b)
{
    if (a->parent != b->parent || a->n_inv != b->n_inv)
        return false;
    for (size_t i = 0; i < a->n_inv; i++) {
        const struct cinv *x = &a->inv[i], *y = &b->inv[i];
        if (x->rc != y->rc || x->total != y->total || x->reserved != y->reserved ||
            x->min_unit != y->min_unit || x->max_unit != y->max_unit ||
            x->step_size != y->step_size || x->used != y->used || x->capacity != y->capacity ||
            x->ratio != y->ratio)
            return false;
    }
    return same_ids(a->traits, a->n_traits, b->traits, b->n_traits) &&
           same_ids(a->aggs, a->n_aggs, b->aggs, b->n_aggs);
}

static bool twin_candidate(const struct cprov *p)
{
    return p->parent && !p->has_children && !p->sharing && p->root && p->root->root == p->root;
}

/* Sets cprov.twin for every tree. Siblings are compared with the first
 * sibling of each kind seen so far; a tree with many distinct leaves under
 * one parent stops looking after TWIN_KINDS kinds (no twins is always a
 * safe answer). */
#define TWIN_KINDS 16

static void find_twins(struct world *w)
{
    for (size_t k = 0; k < w->n; k++)
        if (w->provs[k].parent)
            w->provs[k].parent->has_children = true;
    for (size_t r = 0; r < w->n_roots; r++) {
        const struct cprov *kinds[TWIN_KINDS];
        size_t n_kinds = 0;
        for (struct cprov *p = w->roots[r]->next; p; p = p->next) {
            if (!twin_candidate(p))
                continue;
            size_t i = 0;
            while (i < n_kinds && !interchangeable(kinds[i], p))
                i++;
            if (i < n_kinds) {
                ((struct cprov *)kinds[i])->twin = kinds[i];
                p->twin = kinds[i];
            } else if (n_kinds < TWIN_KINDS) {
                kinds[n_kinds++] = p;
            }
        }
    }
}

/* Sets the pointers once the arrays stop moving: arrays, id index, tree
 * links (parent, root, member list: root first, then by id) and the roots in
 * id order. A provider whose root was not loaded belongs to another batch:
 * it gets no root and stays out of every tree. */
static void world_finalize(struct world *w, long long shares_trait)
{
    size_t slots = 16;
    while (slots < 2 * w->n)
        slots *= 2;
    if (slots > w->cap_slots) {
        array_free(w->slots, w->cap_slots, sizeof(*w->slots));
        w->slots = NULL;
        w->cap_slots = 0;
        grow((void **)&w->slots, &w->cap_slots, slots, sizeof(*w->slots));
    }
    w->n_slots = slots;
    memset(w->slots, 0, slots * sizeof(*w->slots));
    size_t mask = w->n_slots - 1;
    for (size_t k = 0; k < w->n; k++) {
        struct cprov *p = &w->provs[k];
        p->inv = p->n_inv ? &w->inv[p->inv_off] : NULL;
        p->traits = p->n_traits ? &w->traits[p->trait_off] : NULL;
        p->aggs = p->n_aggs ? &w->aggs[p->agg_off] : NULL;
        p->sharing = shares_trait && has_id(p->traits, p->n_traits, shares_trait);
        size_t i = hash_ll(p->id) & mask;
        while (w->slots[i])
            i = (i + 1) & mask;
        w->slots[i] = k + 1;
    }
    grow((void **)&w->roots, &w->cap_roots, w->n + 1, sizeof(*w->roots));
    w->n_roots = 0;
    bool outliers = false;
    for (size_t k = 0; k < w->n; k++) {
        struct cprov *p = &w->provs[k];
        p->parent = p->parent_id ? world_find(w, p->parent_id) : NULL;
        p->root = world_find(w, p->root_id);
        p->next = NULL;
        if (p->root == p) {
            w->roots[w->n_roots++] = p;
            p->tail = p;
        }
        outliers = outliers || (k && p->id < w->provs[k - 1].id);
    }
    for (size_t k = 0; k < w->n; k++) {
        struct cprov *p = &w->provs[k];
        if (p->root && p->root != p && p->root->root == p->root) {
            p->root->tail->next = p;
            p->root->tail = p;
        }
    }
    if (outliers)
        for (size_t r = 0; r < w->n_roots; r++)
            if (w->roots[r]->next)
                sort_members(w->roots[r]);
    find_twins(w);
}

static struct cinv *find_inv(const struct cprov *p, long long rc)
{
    for (size_t i = 0; i < p->n_inv; i++)
        if (p->inv[i].rc == rc)
            return &p->inv[i];
    return NULL;
}

/* Placement's capacity test for one amount (research_context.py
 * _capacity_check_clause). */
static bool fits(const struct cinv *v, long long amount)
{
    return v && amount <= sat_sub(v->capacity, v->used) && v->min_unit <= amount &&
           v->max_unit >= amount &&
           v->step_size > 0 && amount % v->step_size == 0;
}

/* ---- Names ---- */

/* id -> name, filled on demand with one point query per distinct id. */
struct namecache {
    long long *ids;
    const char **names;
    size_t n, cap; /* cap is a power of two (or 0) */
};

static const char SQL_RC_NAME[] = "SELECT name FROM resource_classes WHERE id = ?1";
static const char SQL_TRAIT_NAME[] = "SELECT name FROM traits WHERE id = ?1";

static void namecache_put(struct namecache *c, long long id, const char *name)
{
    if (2 * (c->n + 1) > c->cap) {
        struct namecache old = *c;
        c->cap = c->cap ? 2 * c->cap : 64;
        c->ids = xcalloc(c->cap, sizeof(*c->ids));
        c->names = xcalloc(c->cap, sizeof(*c->names));
        c->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.names[i])
                namecache_put(c, old.ids[i], old.names[i]);
        free(old.ids);
        free(old.names);
    }
    size_t mask = c->cap - 1;
    size_t i = hash_ll(id) & mask;
    while (c->names[i] && c->ids[i] != id)
        i = (i + 1) & mask;
    if (!c->names[i])
        c->n++;
    c->ids[i] = id;
    c->names[i] = name;
}

static void namecache_free(struct namecache *c)
{
    free(c->ids);
    free(c->names);
    memset(c, 0, sizeof(*c));
}

/* ---- The engine ---- */

struct idset {
    long long *ids; /* sorted */
    size_t n;
};

/* A request group with its names resolved. */
struct rgroup {
    const struct cand_group *g;
    bool suffixed;
    size_t n_res;
    long long *rc; /* unsuffixed: sorted by id (Placement's product order) */
    long long *amount;
    const char **rc_name;
    struct idset *req; /* any-of sets of traits */
    size_t n_req;
    struct idset forb;
    struct idset *mof; /* any-of sets of aggregates */
    size_t n_mof;
    struct idset forb_aggs;
    long long tree_root; /* in_tree: the tree's root id; 0 when not given */
    const char **req_label; /* explain: "A or B" per required set, made on demand */
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

struct dkey {
    uint64_t hash;
    size_t len;
    long long *key;
};

/* Memory kept between requests, so that a request reuses warm pages instead
 * of faulting in fresh ones (tens of microseconds each on a virtual
 * machine). The kept sets are shared by all workers, last in first out, so a
 * request finds a warm set whichever worker thread serves it. */
struct scratch {
    struct pool req_pool;    /* lives for the request */
    struct pool anchor_pool; /* reset after every anchor */
    struct world spw;        /* the trees of the sharing providers */
};

#define SCRATCH_KEEP_BYTES ((size_t)2 << 20)
#define SCRATCH_KEPT       4

static pthread_mutex_t scratch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct scratch *scratch_kept[SCRATCH_KEPT];
static size_t scratch_n_kept;

static void scratch_destroy(struct scratch *sc)
{
    pool_free(&sc->req_pool);
    pool_free(&sc->anchor_pool);
    world_free(&sc->spw);
    free(sc);
}

static struct scratch *scratch_take(void)
{
    struct scratch *sc = NULL;
    pthread_mutex_lock(&scratch_lock);
    if (scratch_n_kept)
        sc = scratch_kept[--scratch_n_kept];
    pthread_mutex_unlock(&scratch_lock);
    return sc ? sc : xcalloc(1, sizeof(*sc));
}

/* Empties sc and keeps it for a later request, unless it grew big (a large
 * answer) or enough are kept: then the memory goes back to the system. */
static void scratch_give_back(struct scratch *sc)
{
    pool_reset(&sc->req_pool);
    pool_reset(&sc->anchor_pool);
    world_reset(&sc->spw);
    if (world_bytes(&sc->spw) <= SCRATCH_KEEP_BYTES) {
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

/* What the summaries must show, per provider used by this request: an
 * open-addressing map keyed by provider address (the providers themselves
 * may be shared with other requests). */
enum { MARK_TREE = 1, MARK_PROVIDER = 2 };

struct markset {
    const struct cprov **keys;
    unsigned char *vals;
    size_t cap, n;
};

static size_t mark_hash(const struct cprov *p, size_t mask)
{
    return (size_t)hash_ll((long long)(uintptr_t)p) & mask;
}

static unsigned char mark_get(const struct markset *m, const struct cprov *p)
{
    if (!m->cap)
        return 0;
    for (size_t i = mark_hash(p, m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
        if (m->keys[i] == p)
            return m->vals[i];
    return 0;
}

static void mark_set(struct markset *m, const struct cprov *p, unsigned char bits)
{
    if (2 * (m->n + 1) > m->cap) {
        struct markset old = *m;
        m->cap = old.cap ? 2 * old.cap : 256;
        m->keys = xcalloc(m->cap, sizeof(*m->keys));
        m->vals = xcalloc(m->cap, sizeof(*m->vals));
        m->n = 0;
        for (size_t i = 0; i < old.cap; i++)
            if (old.keys[i])
                mark_set(m, old.keys[i], old.vals[i]);
        free(old.keys);
        free(old.vals);
    }
    size_t i = mark_hash(p, m->cap - 1);
    while (m->keys[i] && m->keys[i] != p)
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        m->keys[i] = p;
        m->n++;
    }
    m->vals[i] |= bits;
}

static void markset_free(struct markset *m)
{
    free(m->keys);
    free(m->vals);
}

struct engine {
    struct store *st;
    const struct cand_query *q;
    struct rgroup *groups;
    size_t n_groups;
    struct idset root_req, root_forb;
    size_t **subtree; /* per same_subtree: group indices */
    size_t *n_subtree;
    long long shares_trait;
    bool has_trees, drop_nested;
    struct scratch *sc; /* pools and worlds, reused across requests */
    struct cprov **sps; /* sharing providers by id */
    size_t n_sps;
    struct sol_list *sols; /* per group, refilled for every anchor */
    struct pick *run;      /* consolidated amounts of the current combination */
    size_t n_run, cap_run;
    const struct sol **chosen; /* per group */
    struct cprov ***cmaps;     /* per group: the chosen mappings */
    size_t *cn_maps;
    struct cprov **ext; /* sharing providers anchored to the current anchor */
    size_t n_ext, cap_ext;
    cand_request_fn *on_request;
    cand_summary_fn *on_summary;
    void *arg;
    size_t count;
    size_t resolving; /* the group being resolved (SIZE_MAX: request-wide names) */
    bool stop, cb_failed, mark_only;
    struct dkey *dslots;
    size_t n_dslots, n_dkeys;
    struct namecache rc_names, trait_names;
    enum store_rc name_rc;
    struct stored *stored;
    size_t n_stored, cap_stored;
    struct tree_entry **held; /* randomization: every block until the end */
    size_t n_held, cap_held;
    struct markset marks;
    /* Bounded work (cand_query.work_limit, cancelled). */
    unsigned long long work, next_poll;
    enum cand_bad_kind gave_up; /* CAND_WORK_LIMIT or CAND_CANCELLED once stopped */
    /* Pruning: the classes the groups ask for with their summed amounts, and
     * per combine() depth the twins whose subtree found nothing. */
    long long *dem_rc, *dem_amount;
    size_t n_dem;
    bool room_check; /* some class is asked by several groups: tree_has_room can prune */
    size_t found; /* combinations that passed every check */
    /* Explain: what the current anchor's combinations ran into. */
    size_t leaves, subtree_rejects, isolate_clashes;
    enum cand_constraint anchor_fail;
    size_t empty_group; /* CX_TRAITS: the group left without a choice */
    bool randomize; /* q->randomize, unless explaining */
    /* Explaining a query the plain engine answers empty before it reaches
     * an unknown name: such a name gets an id nothing has (unknown_id, down
     * from -1), named in the name caches. */
    bool lenient;
    long long unknown_id;
    const struct cprov ***failed;
    size_t *n_failed;
    /* Emission buffers, reused. */
    struct cand_item *items;
    size_t cap_items;
    struct cand_mapping *mappings;
    const char **uuids;
    size_t cap_uuids;
    struct cand_summary_res *sres;
    size_t cap_sres;
    const char **snames;
    size_t cap_snames;
};

static const char *cached_name(struct engine *e, struct namecache *c, const char *sql, long long id)
{
    if (c->cap) {
        size_t mask = c->cap - 1;
        for (size_t i = hash_ll(id) & mask; c->names[i]; i = (i + 1) & mask)
            if (c->ids[i] == id)
                return c->names[i];
    }
    const char *name = "";
    sqlite3_stmt *s = stmt_get(e->st, sql);
    if (!s) {
        e->name_rc = STORE_ERROR;
        return name;
    }
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        name = pool_strdup(&e->sc->req_pool, (const char *)sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        e->name_rc = store_rc_from_sqlite(e->st, rc, "candidates names");
    stmt_done(s);
    namecache_put(c, id, name);
    return name;
}

/* ---- Bounded work ---- */

/* The slow path of spend(): a poll point, or a run given up. */
static bool spend_poll(struct engine *e)
{
    if (e->gave_up)
        return false;
    e->next_poll = e->work + CAND_POLL_STEPS;
    if (e->q->work_limit && e->next_poll > e->q->work_limit)
        e->next_poll = e->q->work_limit + 1;
    if (e->q->work_limit && e->work > e->q->work_limit)
        e->gave_up = CAND_WORK_LIMIT;
    else if (e->q->cancelled && e->q->cancelled(e->q->cancel_arg))
        e->gave_up = CAND_CANCELLED;
    if (e->gave_up) {
        e->stop = true;
        e->next_poll = 0; /* every later step takes the slow path and fails */
    }
    return !e->gave_up;
}

/* Counts n steps; false (and the run stopped) once the budget is spent or
 * the caller cancelled. */
static inline bool spend(struct engine *e, unsigned long long n)
{
    e->work += n;
    return e->work < e->next_poll || spend_poll(e);
}

/* ---- Filters on one provider ---- */

static bool in_all_sets(const struct cprov *p, const struct idset *sets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!intersects(p->aggs, p->n_aggs, sets[i].ids, sets[i].n))
            return false;
    return true;
}

static bool has_any(const long long *v, size_t n, const struct idset *s)
{
    return s->n && intersects(v, n, s->ids, s->n);
}

/* Every any-of set meets the traits of p. */
static bool has_required(const struct cprov *p, const struct idset *sets, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!intersects(p->traits, p->n_traits, sets[i].ids, sets[i].n))
            return false;
    return true;
}

static bool root_passes(const struct engine *e, const struct cprov *root)
{
    for (size_t i = 0; i < e->root_req.n; i++)
        if (!has_id(root->traits, root->n_traits, e->root_req.ids[i]))
            return false;
    return !has_any(root->traits, root->n_traits, &e->root_forb);
}

static void sols_push(struct sol_list *l, struct sol s)
{
    grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = s;
}

/* ---- Solving one group under one anchor ---- */

/* Unsuffixed group: for each class (by id) the providers that can give it,
 * then every combination whose providers together have the required traits
 * (objects/allocation_candidate.py _alloc_candidates_multiple_providers). */
struct multi {
    struct engine *e;
    const struct rgroup *rg;
    struct pick **lists;
    size_t *n_lists;
    struct pick *cur;
};

static void multi_leaf(struct multi *m)
{
    const struct rgroup *rg = m->rg;
    for (size_t i = 0; i < rg->n_req; i++) {
        bool ok = false;
        for (size_t k = 0; k < rg->n_res && !ok; k++)
            ok = intersects(m->cur[k].p->traits, m->cur[k].p->n_traits, rg->req[i].ids,
                            rg->req[i].n);
        if (!ok)
            return;
    }
    struct pool *pool = &m->e->sc->anchor_pool;
    struct sol s = {.n_items = rg->n_res};
    s.items = pool_alloc(pool, rg->n_res * sizeof(*s.items));
    s.maps = pool_alloc(pool, rg->n_res * sizeof(*s.maps));
    memcpy(s.items, m->cur, rg->n_res * sizeof(*s.items));
    for (size_t k = 0; k < rg->n_res; k++) {
        size_t j = 0;
        while (j < s.n_maps && s.maps[j] != s.items[k].p)
            j++;
        if (j == s.n_maps)
            s.maps[s.n_maps++] = s.items[k].p;
    }
    sols_push(&m->e->sols[rg - m->e->groups], s);
}

static void multi_walk(struct multi *m, size_t k)
{
    if (!spend(m->e, 1))
        return;
    if (k == m->rg->n_res) {
        multi_leaf(m);
        return;
    }
    for (size_t i = 0; i < m->n_lists[k] && !m->e->stop; i++) {
        m->cur[k] = m->lists[k][i];
        multi_walk(m, k + 1);
    }
}

/* May p give amount of class k of the unsuffixed group under root? */
static bool multi_admits(const struct rgroup *rg, const struct cprov *p, bool ext,
                         bool root_in_aggs, bool root_in_bad)
{
    if (has_any(p->traits, p->n_traits, &rg->forb))
        return false;
    if (rg->n_mof) {
        bool in = in_all_sets(p, rg->mof, rg->n_mof);
        /* The aggregate of a root spans its tree; a sharing provider must be
         * in the aggregates itself (research_context.py). */
        if (!in && (ext || !root_in_aggs))
            return false;
    }
    return !root_in_bad && !has_any(p->aggs, p->n_aggs, &rg->forb_aggs);
}

static void solve_unsuffixed(struct engine *e, const struct rgroup *rg, struct cprov *root)
{
    if (rg->tree_root && root->id != rg->tree_root)
        return;
    struct multi m = {.e = e, .rg = rg};
    struct pool *pool = &e->sc->anchor_pool;
    m.lists = pool_alloc(pool, rg->n_res * sizeof(*m.lists));
    m.n_lists = pool_alloc(pool, rg->n_res * sizeof(*m.n_lists));
    m.cur = pool_alloc(pool, rg->n_res * sizeof(*m.cur));
    bool root_in_aggs = rg->n_mof && in_all_sets(root, rg->mof, rg->n_mof);
    bool root_in_bad = has_any(root->aggs, root->n_aggs, &rg->forb_aggs);
    size_t n_ext = rg->tree_root ? 0 : e->n_ext; /* in_tree keeps sharing providers out */
    size_t members = 0;
    for (struct cprov *p = root; p; p = p->next)
        members++;
    if (!spend(e, (members + n_ext) * rg->n_res))
        return;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct pick *list = pool_alloc(pool, (members + n_ext) * sizeof(*list));
        size_t n = 0;
        for (struct cprov *p = root; p; p = p->next) {
            struct cinv *v = find_inv(p, rg->rc[k]);
            if (fits(v, rg->amount[k]) && multi_admits(rg, p, false, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amount[k], rg->rc_name[k]};
        }
        for (size_t i = 0; i < n_ext; i++) {
            struct cprov *p = e->ext[i];
            struct cinv *v = find_inv(p, rg->rc[k]);
            if (fits(v, rg->amount[k]) && multi_admits(rg, p, true, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amount[k], rg->rc_name[k]};
        }
        if (!n)
            return;
        m.lists[k] = list;
        m.n_lists[k] = n;
    }
    multi_walk(&m, 0);
}

/* Can p alone satisfy the suffixed group (get_provider_ids_matching)? */
static bool single_admits(const struct rgroup *rg, const struct cprov *p, struct pick *out)
{
    if (rg->n_res && rg->tree_root && p->root_id != rg->tree_root)
        return false;
    if (!rg->n_res && !rg->n_req && !rg->n_mof)
        return false; /* upstream finds nothing for an unfiltered resourceless group */
    if (!has_required(p, rg->req, rg->n_req) || has_any(p->traits, p->n_traits, &rg->forb) ||
        !in_all_sets(p, rg->mof, rg->n_mof) || has_any(p->aggs, p->n_aggs, &rg->forb_aggs))
        return false;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct cinv *v = find_inv(p, rg->rc[k]);
        if (!fits(v, rg->amount[k]))
            return false;
        out[k] = (struct pick){(struct cprov *)p, v, rg->amount[k], rg->rc_name[k]};
    }
    return true;
}

static void single_add(struct engine *e, const struct rgroup *rg, struct cprov *p)
{
    struct pool *pool = &e->sc->anchor_pool;
    struct pick *items = pool_alloc(pool, (rg->n_res ? rg->n_res : 1) * sizeof(*items));
    if (!single_admits(rg, p, items))
        return;
    struct cprov **maps = pool_alloc(pool, sizeof(*maps));
    maps[0] = p;
    sols_push(&e->sols[rg - e->groups],
              (struct sol){.items = items, .n_items = rg->n_res, .maps = maps, .n_maps = 1});
}

static void solve_suffixed(struct engine *e, const struct rgroup *rg, struct cprov *root)
{
    for (struct cprov *p = root; p; p = p->next)
        if (spend(e, 1))
            single_add(e, rg, p);
    if (!spend(e, e->n_ext))
        return;
    for (size_t i = 0; i < e->n_ext; i++)
        single_add(e, rg, e->ext[i]);
}

/* ---- Combining the groups ---- */

static bool is_ancestor_or_self(const struct cprov *a, const struct cprov *p)
{
    for (; p; p = p->parent)
        if (p == a)
            return true;
    return false;
}

/* same_subtree: among the providers mapped to the listed groups, one is an
 * ancestor (or self) of all the others (_check_same_subtree). */
static bool satisfies_same_subtree(const struct engine *e)
{
    for (size_t t = 0; t < e->q->n_same_subtree; t++) {
        const struct cprov *u[64];
        size_t n = 0;
        for (size_t i = 0; i < e->n_subtree[t]; i++) {
            const struct sol *s = e->chosen[e->subtree[t][i]];
            for (size_t j = 0; j < s->n_maps; j++) {
                size_t k = 0;
                while (k < n && u[k] != s->maps[j])
                    k++;
                if (k == n && n < 64)
                    u[n++] = s->maps[j];
            }
        }
        bool ok = n <= 1;
        for (size_t a = 0; a < n && !ok; a++) {
            ok = true;
            for (size_t b = 0; b < n && ok; b++)
                ok = is_ancestor_or_self(u[a], u[b]);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Before 1.29 a candidate may not take from two providers of one tree. */
static bool uses_one_provider_per_tree(const struct engine *e)
{
    for (size_t i = 0; i < e->n_run; i++)
        for (size_t j = 0; j < i; j++)
            if (e->run[i].p != e->run[j].p && e->run[i].p->root == e->run[j].p->root)
                return false;
    return true;
}

static bool all_sharing(const struct engine *e)
{
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t j = 0; j < e->chosen[g]->n_maps; j++)
            if (!e->chosen[g]->maps[j]->sharing)
                return false;
    return true;
}

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->p->id != y->p->id)
        return (x->p->id > y->p->id) - (x->p->id < y->p->id);
    return (x->inv->rc > y->inv->rc) - (x->inv->rc < y->inv->rc);
}

/* A candidate made of sharing providers only may come up under several
 * anchors; Placement's set keeps one. Returns true the first time. */
static bool dedup_first(struct engine *e)
{
    size_t len = 3 * e->n_run + e->n_groups;
    for (size_t g = 0; g < e->n_groups; g++)
        len += e->chosen[g]->n_maps;
    long long *key = pool_alloc(&e->sc->req_pool, len * sizeof(*key));
    struct pick *sorted = pool_alloc(&e->sc->anchor_pool, e->n_run * sizeof(*sorted));
    memcpy(sorted, e->run, e->n_run * sizeof(*sorted));
    qsort(sorted, e->n_run, sizeof(*sorted), cmp_pick);
    size_t n = 0;
    for (size_t i = 0; i < e->n_run; i++) {
        key[n++] = sorted[i].p->id;
        key[n++] = sorted[i].inv->rc;
        key[n++] = sorted[i].amount;
    }
    for (size_t g = 0; g < e->n_groups; g++) {
        size_t start = n;
        for (size_t j = 0; j < e->chosen[g]->n_maps; j++)
            key[n++] = e->chosen[g]->maps[j]->id;
        qsort(key + start, n - start, sizeof(*key), cmp_ll);
        key[n++] = -1;
    }
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ hash_ll(key[i])) * 1099511628211ull;
    if (2 * (e->n_dkeys + 1) > e->n_dslots) {
        struct dkey *old = e->dslots;
        size_t n_old = e->n_dslots;
        e->n_dslots = n_old ? 2 * n_old : 64;
        e->dslots = xcalloc(e->n_dslots, sizeof(*e->dslots));
        for (size_t i = 0; i < n_old; i++) {
            if (!old[i].key)
                continue;
            size_t j = old[i].hash & (e->n_dslots - 1);
            while (e->dslots[j].key)
                j = (j + 1) & (e->n_dslots - 1);
            e->dslots[j] = old[i];
        }
        free(old);
    }
    size_t mask = e->n_dslots - 1;
    size_t i = h & mask;
    for (; e->dslots[i].key; i = (i + 1) & mask)
        if (e->dslots[i].hash == h && e->dslots[i].len == n &&
            memcmp(e->dslots[i].key, key, n * sizeof(*key)) == 0)
            return false;
    e->dslots[i] = (struct dkey){h, n, key};
    e->n_dkeys++;
    return true;
}

/* Builds the public view of a candidate (items grouped by provider in order
 * of first appearance) and hands it to the callback. */
static void emit_request(struct engine *e, const struct pick *run, size_t n_run,
                         struct cprov *const *const *maps, const size_t *n_maps)
{
    grow((void **)&e->items, &e->cap_items, n_run + 1, sizeof(*e->items));
    size_t n = 0;
    for (size_t i = 0; i < n_run; i++) {
        size_t j = 0;
        while (j < i && run[j].p != run[i].p)
            j++;
        if (j < i)
            continue; /* this provider's items were written with its first one */
        for (size_t k = i; k < n_run; k++)
            if (run[k].p == run[i].p)
                e->items[n++] = (struct cand_item){run[k].p->uuid, run[k].rc_name, run[k].amount};
    }
    size_t total = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        total += n_maps[g];
    grow((void **)&e->uuids, &e->cap_uuids, total + 1, sizeof(*e->uuids));
    size_t u = 0;
    for (size_t g = 0; g < e->n_groups; g++) {
        e->mappings[g] = (struct cand_mapping){e->groups[g].g->suffix, e->uuids + u, n_maps[g]};
        for (size_t j = 0; j < n_maps[g]; j++)
            e->uuids[u++] = maps[g][j]->uuid;
    }
    for (size_t i = 0; i < n_run; i++) {
        mark_set(&e->marks, run[i].p, MARK_PROVIDER);
        mark_set(&e->marks, run[i].p->root, MARK_TREE);
    }
    struct cand_request r = {e->items, n, e->mappings, e->n_groups};
    if (e->on_request(e->arg, &r)) {
        e->cb_failed = true;
        e->stop = true;
    }
}

static void store_candidate(struct engine *e)
{
    grow((void **)&e->stored, &e->cap_stored, e->n_stored + 1, sizeof(*e->stored));
    struct stored *s = &e->stored[e->n_stored++];
    struct pool *pool = &e->sc->req_pool;
    s->n_items = e->n_run;
    s->items = pool_alloc(pool, (e->n_run ? e->n_run : 1) * sizeof(*s->items));
    memcpy(s->items, e->run, e->n_run * sizeof(*s->items));
    s->maps = pool_alloc(pool, e->n_groups * sizeof(*s->maps));
    s->n_maps = pool_alloc(pool, e->n_groups * sizeof(*s->n_maps));
    for (size_t g = 0; g < e->n_groups; g++) {
        s->n_maps[g] = e->chosen[g]->n_maps;
        s->maps[g] = pool_alloc(pool, (s->n_maps[g] ? s->n_maps[g] : 1) * sizeof(**s->maps));
        memcpy(s->maps[g], e->chosen[g]->maps, s->n_maps[g] * sizeof(**s->maps));
    }
}

/* Before 1.29 (nested deployment, limit reached) Placement still shows the
 * providers that any dropped-by-limit candidate used in a kept tree. */
static void mark_late(struct engine *e)
{
    for (size_t i = 0; i < e->n_run; i++)
        if (mark_get(&e->marks, e->run[i].p->root) & MARK_TREE)
            mark_set(&e->marks, e->run[i].p, MARK_PROVIDER);
}

static void combination_done(struct engine *e)
{
    e->leaves++;
    if (!satisfies_same_subtree(e)) {
        e->subtree_rejects++;
        return;
    }
    if (e->drop_nested && !uses_one_provider_per_tree(e))
        return;
    e->found++;
    if (e->mark_only) {
        mark_late(e);
        return;
    }
    if (all_sharing(e) && !dedup_first(e))
        return;
    if (e->q->explain) {
        e->q->explain->candidates++;
        return;
    }
    if (e->randomize) {
        store_candidate(e);
        return;
    }
    for (size_t g = 0; g < e->n_groups; g++) {
        e->cmaps[g] = e->chosen[g]->maps;
        e->cn_maps[g] = e->chosen[g]->n_maps;
    }
    emit_request(e, e->run, e->n_run, (struct cprov *const *const *)e->cmaps, e->cn_maps);
    if (e->q->limit && ++e->count >= e->q->limit) {
        if (e->drop_nested)
            e->mark_only = true;
        else
            e->stop = true;
    }
}

/* Adds the amounts of s to the running consolidation; false (and nothing
 * added) when a summed amount exceeds capacity or max_unit
 * (_consolidate_allocation_requests + exceeds_capacity). */
static bool run_add(struct engine *e, const struct sol *s)
{
    size_t mark = e->n_run;
    grow((void **)&e->run, &e->cap_run, e->n_run + s->n_items + 1, sizeof(*e->run));
    for (size_t i = 0; i < s->n_items; i++) {
        const struct pick *it = &s->items[i];
        size_t j = 0;
        while (j < e->n_run && e->run[j].inv != it->inv)
            j++;
        if (j == e->n_run) { /* a new amount: fits() has checked it alone */
            e->run[e->n_run++] = *it;
            continue;
        }
        long long sum;
        bool over = __builtin_add_overflow(e->run[j].amount, it->amount, &sum);
        if (over || sum > it->inv->max_unit || sum > sat_sub(it->inv->capacity, it->inv->used)) {
            for (size_t k = 0; k < i; k++) {
                size_t x = 0;
                while (x < mark && e->run[x].inv != s->items[k].inv)
                    x++;
                if (x < mark)
                    e->run[x].amount -= s->items[k].amount;
            }
            e->n_run = mark;
            return false;
        }
        e->run[j].amount = sum;
    }
    return true;
}

static void run_remove(struct engine *e, const struct sol *s, size_t mark)
{
    for (size_t i = 0; i < s->n_items; i++)
        for (size_t x = 0; x < mark; x++)
            if (e->run[x].inv == s->items[i].inv)
                e->run[x].amount -= s->items[i].amount;
    e->n_run = mark;
}

/* Is p out of the current partial combination (no amount, no mapping)? */
static bool untouched(const struct engine *e, size_t g, const struct cprov *p)
{
    for (size_t i = 0; i < e->n_run; i++)
        if (e->run[i].p == p)
            return false;
    for (size_t h = 0; h < g; h++)
        for (size_t j = 0; j < e->chosen[h]->n_maps; j++)
            if (e->chosen[h]->maps[j] == p)
                return false;
    return true;
}

/* The twin class of a suffixed group's choice whose provider is still
 * untouched, or NULL. */
static const struct cprov *twin_of(const struct engine *e, size_t g, const struct sol *s)
{
    const struct cprov *p = s->maps[0];
    return p->twin && e->groups[g].suffixed && untouched(e, g, p) ? p->twin : NULL;
}

static bool twin_failed(const struct engine *e, size_t g, const struct cprov *twin)
{
    for (size_t i = 0; i < e->n_failed[g]; i++)
        if (e->failed[g][i] == twin)
            return true;
    return false;
}

/* The cartesian product of the groups' choices, pruned as soon as a partial
 * combination breaks isolation or capacity (util.filtered_product). A
 * choice of an untouched provider whose untouched twin was tried at the
 * same point and led to nothing is skipped: by symmetry it leads to nothing
 * either (a twin that led to candidates is tried, since its candidates are
 * distinct answers). */
static void combine(struct engine *e, size_t g)
{
    /* A step costs more the more amounts the run holds (run_add scans them),
     * and a leaf checks same_subtree over every group. */
    if (!spend(e, 1 + e->n_run + (g == e->n_groups && e->q->n_same_subtree ? g : 0)))
        return;
    if (g == e->n_groups) {
        combination_done(e);
        return;
    }
    const struct sol_list *l = &e->sols[g];
    bool isolate = e->q->isolate && e->groups[g].suffixed;
    e->n_failed[g] = 0;
    for (size_t i = 0; i < l->n && !e->stop; i++) {
        const struct sol *s = &l->v[i];
        const struct cprov *twin = s->n_maps == 1 && s->maps[0]->twin ? twin_of(e, g, s) : NULL;
        if (twin && twin_failed(e, g, twin))
            continue;
        if (isolate) {
            bool clash = false;
            for (size_t h = 0; h < g && !clash; h++)
                clash = e->groups[h].suffixed && e->chosen[h]->maps[0] == s->maps[0];
            if (clash) {
                e->isolate_clashes++;
                continue;
            }
        }
        size_t mark = e->n_run, found = e->found;
        if (!run_add(e, s))
            continue;
        e->chosen[g] = s;
        combine(e, g + 1);
        run_remove(e, s, mark);
        if (twin && e->found == found && !e->stop) {
            if (!e->failed[g])
                e->failed[g] = pool_alloc(&e->sc->anchor_pool, l->n * sizeof(**e->failed));
            e->failed[g][e->n_failed[g]++] = twin;
        }
    }
}

/* The sharing providers (outside this tree) that share an aggregate with
 * some provider of it (anchors_for_sharing_providers). */
static void find_ext(struct engine *e, struct cprov *root)
{
    e->n_ext = 0;
    for (size_t i = 0; i < e->n_sps; i++) {
        struct cprov *sp = e->sps[i];
        if (sp->root == root || !sp->n_aggs)
            continue;
        bool shares = false;
        for (struct cprov *p = root; p && !shares; p = p->next)
            shares = intersects(p->aggs, p->n_aggs, sp->aggs, sp->n_aggs);
        if (shares) {
            grow((void **)&e->ext, &e->cap_ext, e->n_ext + 1, sizeof(*e->ext));
            e->ext[e->n_ext++] = sp;
        }
    }
}

/* What a provider can give of class rc to all groups together: the sum of
 * the groups' amounts must stay within its free capacity and max_unit. */
static long long can_give(const struct cprov *p, long long rc)
{
    const struct cinv *v = find_inv(p, rc);
    if (!v)
        return 0;
    long long free = sat_sub(v->capacity, v->used);
    free = free < v->max_unit ? free : v->max_unit;
    return free > 0 ? free : 0;
}

/* Can the tree and its sharing providers hold the summed amounts of every
 * class at all? A necessary condition, checked before any enumeration. */
static bool tree_has_room(struct engine *e, struct cprov *root)
{
    for (size_t c = 0; c < e->n_dem; c++) {
        long long have = 0;
        for (struct cprov *p = root; p && have < e->dem_amount[c]; p = p->next)
            have = sat_add(have, can_give(p, e->dem_rc[c]));
        for (size_t i = 0; i < e->n_ext && have < e->dem_amount[c]; i++)
            have = sat_add(have, can_give(e->ext[i], e->dem_rc[c]));
        if (have < e->dem_amount[c])
            return false;
    }
    return true;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return (x > y) - (x < y);
}

/* group_policy=isolate: the suffixed groups need as many distinct
 * providers among their choices as there are of them. */
static bool enough_to_isolate(struct engine *e)
{
    size_t k = 0, n = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        if (e->groups[g].suffixed) {
            k++;
            n += e->sols[g].n;
        }
    if (k < 2)
        return true;
    const struct cprov **v = pool_alloc(&e->sc->anchor_pool, n * sizeof(*v));
    n = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t i = 0; e->groups[g].suffixed && i < e->sols[g].n; i++)
            v[n++] = e->sols[g].v[i].maps[0];
    qsort(v, n, sizeof(*v), cmp_ptr);
    size_t distinct = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        distinct += v[i] != v[i - 1];
    return distinct >= k;
}

/* ---- Explain (issue 12): why a tree yielded nothing ---- */

#define LV_OK ((int)CX_COUNT)

/* A reason while diagnosing: names point into the request's pools and are
 * copied (struct cand_reason) only when a tally or near miss keeps them. */
struct why {
    enum cand_constraint what;
    size_t group;
    const char *name; /* never NULL */
    bool forbidden;
    long long asked, have, extra;
};

static struct cand_reason reason_of(const struct why *w)
{
    struct cand_reason r = {.what = w->what, .group = w->group, .forbidden = w->forbidden,
                            .asked = w->asked, .have = w->have, .extra = w->extra};
    (void)snprintf(r.name, sizeof(r.name), "%s", w->name);
    return r;
}

static bool tally_is(const struct cand_tally *x, const struct why *r, bool same_name)
{
    return x->r.what == r->what && x->r.group == r->group && x->r.forbidden == r->forbidden &&
           x->r.asked == r->asked && (same_name || strcmp(x->r.name, r->name) == 0);
}

static void tally_count(struct cand_tally *x, const struct why *r)
{
    x->trees++;
    if (r->have > x->r.have) {
        x->r.have = r->have;
        x->r.extra = r->extra;
    }
}

static void tally_add_slow(struct cand_tallies *t, const struct why *r)
{
    size_t i;
    for (i = 0; i < t->n && !tally_is(&t->v[i], r, false); i++)
        ;
    if (i < t->n) {
        tally_count(&t->v[i], r);
        t->hint = i;
        t->hint_name = r->name;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    size_t pos = t->n;
    while (pos > 0 && t->v[pos - 1].r.what > r->what)
        pos--;
    memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof(*t->v));
    t->v[pos] = (struct cand_tally){reason_of(r), 1};
    t->n++;
    t->hint = pos;
    t->hint_name = r->name;
}

/* Charges one tree to reason r: the entry of the last one first. */
static inline void tally_add(struct cand_tallies *t, const struct why *r)
{
    if (t->hint < t->n && t->hint_name == r->name && tally_is(&t->v[t->hint], r, true))
        tally_count(&t->v[t->hint], r);
    else
        tally_add_slow(t, r);
}

void cand_explain_free(struct cand_explain *x)
{
    free(x->why.v);
    for (size_t g = 0; g < x->n_groups; g++)
        free(x->groups[g].why.v);
    free(x->groups);
    free(x->near);
    x->why = (struct cand_tallies){0};
    x->groups = NULL;
    x->near = NULL;
    x->n_groups = x->n_near = 0;
}

/* One provider's checks for one group: the earliest failing constraint and
 * how many checks failed in all. */
struct pcheck {
    int level;
    int n_failed;
    struct why r;
    const struct cinv *v; /* the inventory behind an amount failure */
};

static void note_fail(struct pcheck *c, size_t g, enum cand_constraint what, const char *name,
                      bool forbidden, long long asked, long long have, long long extra,
                      const struct cinv *v)
{
    c->n_failed++;
    if ((int)what >= c->level)
        return;
    c->level = (int)what;
    c->r = (struct why){.what = what, .group = g, .name = name ? name : "",
                        .forbidden = forbidden, .asked = asked, .have = have, .extra = extra};
    c->v = v;
}

/* The names of required any-of set i of rg, "A or B", made once per request. */
static const char *set_names(struct engine *e, const struct rgroup *rg, size_t i)
{
    struct rgroup *w = (struct rgroup *)rg; /* a cache: the group itself does not change */
    if (!w->req_label) {
        w->req_label = pool_alloc(&e->sc->req_pool, rg->n_req * sizeof(*w->req_label));
        memset(w->req_label, 0, rg->n_req * sizeof(*w->req_label));
    }
    if (w->req_label[i])
        return w->req_label[i];
    char out[256];
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < rg->req[i].n && len + 1 < sizeof(out); k++) {
        int n = snprintf(out + len, sizeof(out) - len, "%s%s", k ? " or " : "",
                         cached_name(e, &e->trait_names, SQL_TRAIT_NAME, rg->req[i].ids[k]));
        len = n > 0 && len + (size_t)n < sizeof(out) ? len + (size_t)n : sizeof(out) - 1;
    }
    return w->req_label[i] = pool_strdup(&e->sc->req_pool, out);
}

/* The amount checks of class k of group g on p. */
static void check_amount(struct pcheck *c, size_t g, const struct rgroup *rg, size_t k,
                         const struct cprov *p)
{
    const struct cinv *v = find_inv(p, rg->rc[k]);
    long long a = rg->amount[k];
    const char *name = rg->rc_name[k];
    if (!v) {
        note_fail(c, g, CX_NO_INVENTORY, name, false, a, 0, 0, NULL);
        return;
    }
    long long free = sat_sub(v->capacity, v->used);
    if (a > free)
        note_fail(c, g, CX_CAPACITY, name, false, a, free, 0, v);
    if (a > v->max_unit)
        note_fail(c, g, CX_MAX_UNIT, name, false, a, v->max_unit, 0, v);
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0)
        note_fail(c, g, CX_MIN_UNIT_STEP, name, false, a, v->min_unit, v->step_size, v);
}

/* The amount checks of class k of rg on p, as check_amount notes them:
 * the first failure (LV_OK when none) with its numbers, and how many. */
struct afail {
    int level, n_failed;
    long long have, extra;
    const struct cinv *v;
};

static struct afail amount_level(const struct rgroup *rg, size_t k, const struct cprov *p)
{
    const struct cinv *v = find_inv(p, rg->rc[k]);
    long long a = rg->amount[k];
    struct afail f = {.level = LV_OK, .v = v};
    if (!v)
        return (struct afail){.level = CX_NO_INVENTORY, .n_failed = 1};
    long long free = sat_sub(v->capacity, v->used);
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0)
        f = (struct afail){CX_MIN_UNIT_STEP, f.n_failed + 1, v->min_unit, v->step_size, v};
    if (a > v->max_unit)
        f = (struct afail){CX_MAX_UNIT, f.n_failed + 1, v->max_unit, 0, v};
    if (a > free)
        f = (struct afail){CX_CAPACITY, f.n_failed + 1, free, 0, v};
    return f;
}

/* amount_level's first failure alone (LV_OK when none) and its "have":
 * what comparing providers needs. */
static int amount_first(const struct rgroup *rg, size_t k, const struct cprov *p, long long *have)
{
    const struct cinv *v = find_inv(p, rg->rc[k]);
    long long a = rg->amount[k];
    *have = 0;
    if (!v)
        return CX_NO_INVENTORY;
    long long free = sat_sub(v->capacity, v->used);
    if (a > free) {
        *have = free;
        return CX_CAPACITY;
    }
    if (a > v->max_unit) {
        *have = v->max_unit;
        return CX_MAX_UNIT;
    }
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0) {
        *have = v->min_unit;
        return CX_MIN_UNIT_STEP;
    }
    return LV_OK;
}

/* The trait checks of a provider that must carry them itself. */
static void check_traits(struct engine *e, struct pcheck *c, size_t g, const struct rgroup *rg,
                         const struct cprov *p, bool required)
{
    for (size_t i = 0; required && i < rg->n_req; i++)
        if (!intersects(p->traits, p->n_traits, rg->req[i].ids, rg->req[i].n))
            note_fail(c, g, CX_TRAITS, set_names(e, rg, i), false, 0, 0, 0, NULL);
    for (size_t i = 0; i < rg->forb.n; i++)
        if (has_id(p->traits, p->n_traits, rg->forb.ids[i]))
            note_fail(c, g, CX_TRAITS,
                      cached_name(e, &e->trait_names, SQL_TRAIT_NAME, rg->forb.ids[i]), true, 0, 0,
                      0, NULL);
}

/* The tree root's standing in the unsuffixed group's aggregates, worked
 * out once per tree and group. */
struct rootaggs {
    bool in_aggs, in_bad;
};

static struct rootaggs root_aggs(const struct rgroup *rg, const struct cprov *root)
{
    return (struct rootaggs){rg->n_mof && in_all_sets(root, rg->mof, rg->n_mof),
                             has_any(root->aggs, root->n_aggs, &rg->forb_aggs)};
}

/* The checks of group g on p that no class enters: in_tree, aggregates and
 * traits (for the unsuffixed group, aggregates and required traits are
 * judged with the tree's root and over the providers used). */
static void check_base_into(struct engine *e, size_t g, const struct cprov *root,
                            const struct cprov *p, bool ext, struct rootaggs ra, struct pcheck *out)
{
    const struct rgroup *rg = &e->groups[g];
    out->level = LV_OK;
    out->n_failed = 0;
    out->r.have = 0;
    out->v = NULL;
    if (!rg->suffixed) {
        if (rg->tree_root && (root->id != rg->tree_root || ext))
            note_fail(out, g, CX_IN_TREE, "", false, 0, 0, 0, NULL);
        /* The root itself is in them exactly when ra.in_aggs says so. */
        if (rg->n_mof && (ext || !ra.in_aggs) && (p == root || !in_all_sets(p, rg->mof, rg->n_mof)))
            note_fail(out, g, CX_AGGREGATES, "", false, 0, 0, 0, NULL);
        if (ra.in_bad || has_any(p->aggs, p->n_aggs, &rg->forb_aggs))
            note_fail(out, g, CX_AGGREGATES, "", true, 0, 0, 0, NULL);
        check_traits(e, out, g, rg, p, false);
        return;
    }
    if (rg->n_res && rg->tree_root && p->root_id != rg->tree_root)
        note_fail(out, g, CX_IN_TREE, "", false, 0, 0, 0, NULL);
    if (!in_all_sets(p, rg->mof, rg->n_mof))
        note_fail(out, g, CX_AGGREGATES, "", false, 0, 0, 0, NULL);
    if (has_any(p->aggs, p->n_aggs, &rg->forb_aggs))
        note_fail(out, g, CX_AGGREGATES, "", true, 0, 0, 0, NULL);
    if (!rg->n_res && !rg->n_req && !rg->n_mof)
        note_fail(out, g, CX_TRAITS, "", false, 0, 0, 0, NULL);
    check_traits(e, out, g, rg, p, true);
}

static struct pcheck check_base(struct engine *e, size_t g, const struct cprov *root,
                                const struct cprov *p, bool ext, struct rootaggs ra)
{
    struct pcheck c = {.level = LV_OK};
    check_base_into(e, g, root, p, ext, ra, &c);
    return c;
}

/* base with the amount checks of suffixed group g on p (k == SIZE_MAX), or
 * of class k of the unsuffixed group, added. */
static struct pcheck check_amounts(const struct engine *e, size_t g, const struct cprov *p,
                                   size_t k, struct pcheck base)
{
    const struct rgroup *rg = &e->groups[g];
    if (!rg->suffixed) {
        check_amount(&base, g, rg, k, p);
        return base;
    }
    for (size_t i = 0; i < rg->n_res; i++)
        check_amount(&base, g, rg, i, p);
    return base;
}

/* Every check of suffixed group g on p (k == SIZE_MAX), or those of class k
 * of the unsuffixed group. */
static struct pcheck check_provider(struct engine *e, size_t g, struct cprov *root,
                                    const struct cprov *p, bool ext, size_t k, struct rootaggs ra)
{
    return check_amounts(e, g, p, k, check_base(e, g, root, p, ext, ra));
}

/* Keeps in *best the check that got furthest (the largest "have" among
 * equals: the provider nearest to passing). */
static void keep_furthest(struct pcheck *best, const struct pcheck *c)
{
    if (c->level > best->level || (c->level == best->level && c->r.have > best->r.have))
        *best = *c;
}

/* Calls fn for every provider group g could use under root. */
#define FOR_EACH_PROVIDER(e, root, p, ext, body)                                                  \
    do {                                                                                          \
        for (struct cprov *p = (root); p; p = p->next) {                                          \
            bool ext = false;                                                                     \
            body;                                                                                 \
        }                                                                                         \
        for (size_t i_ = 0; i_ < (e)->n_ext; i_++) {                                              \
            struct cprov *p = (e)->ext[i_];                                                       \
            bool ext = true;                                                                      \
            body;                                                                                 \
        }                                                                                         \
    } while (0)

/* Group g's first failure under root (level LV_OK: it has a choice there);
 * *klass is the failing class of the unsuffixed group. The class-free
 * checks of each provider are made once (base, from the anchor pool). */
/* Adds the amount checks of class k of the unsuffixed group rg on p to
 * c (its class-free checks), as check_amount would. */
static void add_amounts(struct pcheck *c, size_t g, const struct rgroup *rg, size_t k,
                        const struct cprov *p)
{
    struct afail f = amount_level(rg, k, p);
    c->n_failed += f.n_failed;
    if (f.level < c->level) {
        c->level = f.level;
        c->r = (struct why){.what = (enum cand_constraint)f.level, .group = g,
                            .name = rg->rc_name[k], .asked = rg->amount[k], .have = f.have,
                            .extra = f.extra};
        c->v = f.level == CX_NO_INVENTORY ? NULL : f.v;
    }
}

static struct pcheck diag_group_all(struct engine *e, size_t g, struct cprov *root, size_t *klass)
{
    const struct rgroup *rg = &e->groups[g];
    struct pcheck out = {.level = -1};
    struct rootaggs ra = rg->suffixed ? (struct rootaggs){0} : root_aggs(rg, root);
    *klass = SIZE_MAX;
    if (rg->suffixed) {
        FOR_EACH_PROVIDER(e, root, p, ext, {
            struct pcheck c = check_provider(e, g, root, p, ext, SIZE_MAX, ra);
            keep_furthest(&out, &c);
        });
        return out;
    }
    size_t n = 0;
    for (struct cprov *p = root; p; p = p->next)
        n++;
    struct pcheck base_one[1];
    const struct cprov *pv_one[1];
    bool one = n + e->n_ext == 1; /* a lone provider needs no pool */
    struct pcheck *base =
        one ? base_one : pool_alloc(&e->sc->anchor_pool, (n + e->n_ext) * sizeof(*base));
    const struct cprov **pv =
        one ? pv_one : pool_alloc(&e->sc->anchor_pool, (n + e->n_ext) * sizeof(*pv));
    n = 0;
    FOR_EACH_PROVIDER(e, root, p, ext, {
        pv[n] = p;
        check_base_into(e, g, root, p, ext, ra, &base[n++]);
    });
    /* The furthest provider of each class, kept as an index; the class
     * that got least far is worked out in full once. */
    int out_level = LV_OK;
    size_t out_i = 0;
    for (size_t k = 0; k < rg->n_res; k++) {
        int best_level = -1;
        long long best_have = 0;
        size_t best_i = 0;
        for (size_t i = 0; i < n; i++) {
            long long have;
            int level = amount_first(rg, k, pv[i], &have);
            if (base[i].level <= level) {
                level = base[i].level;
                have = base[i].r.have;
            }
            if (level > best_level || (level == best_level && have > best_have)) {
                best_level = level;
                best_have = have;
                best_i = i;
            }
        }
        if (best_level < out_level) {
            out_level = best_level;
            out_i = best_i;
            *klass = k;
        }
    }
    if (out_level != LV_OK) {
        out = base[out_i];
        add_amounts(&out, g, rg, *klass, pv[out_i]);
        return out;
    }
    out = (struct pcheck){.level = LV_OK};
    /* Each class has a provider: the required traits must be on them. */
    for (size_t i = 0; i < rg->n_req; i++) {
        bool met = false;
        n = 0;
        FOR_EACH_PROVIDER(e, root, p, ext, {
            (void)ext;
            long long have;
            const struct pcheck *b = &base[n++];
            for (size_t k = 0; k < rg->n_res && !met; k++)
                if (b->level == LV_OK &&
                    intersects(p->traits, p->n_traits, rg->req[i].ids, rg->req[i].n) &&
                    amount_first(rg, k, p, &have) == LV_OK)
                    met = true;
        });
        if (!met) {
            out = (struct pcheck){.level = LV_OK};
            note_fail(&out, g, CX_TRAITS, set_names(e, rg, i), false, 0, 0, 0, NULL);
            return out;
        }
    }
    return out;
}

/* diag_group_all, with the common case first: the unsuffixed group on a
 * tree of one provider and no sharing ones, which fails (or not) exactly
 * where that provider does; the result goes to *out. */
static void diag_group(struct engine *e, size_t g, struct cprov *root, size_t *klass,
                       struct pcheck *out)
{
    const struct rgroup *rg = &e->groups[g];
    if (!rg->suffixed && !root->next && !e->n_ext) {
        check_base_into(e, g, root, root, false, root_aggs(rg, root), out);
        int level = LV_OK;
        size_t kk = SIZE_MAX;
        for (size_t k = 0; k < rg->n_res; k++) {
            long long have;
            int l = amount_first(rg, k, root, &have);
            l = out->level <= l ? out->level : l;
            if (l < level) {
                level = l;
                kk = k;
            }
        }
        if (level != LV_OK) {
            *klass = kk;
            add_amounts(out, g, rg, kk, root);
            return;
        }
    }
    *out = diag_group_all(e, g, root, klass);
}

/* Documented measure: the shortfall as a fraction of the amount asked for
 * capacity and max_unit, half for min_unit/step_size, 1 for everything else
 * (traits, aggregates, no inventory, in_tree, root_required). */
static double near_distance(const struct why *r)
{
    if ((r->what == CX_CAPACITY || r->what == CX_MAX_UNIT) && r->asked > 0) {
        double d = ((double)r->asked - (double)(r->have > 0 ? r->have : 0)) / (double)r->asked;
        return d < 0 ? 0 : d > 1 ? 1 : d;
    }
    return r->what == CX_MIN_UNIT_STEP ? 0.5 : 1.0;
}

static void near_add(struct cand_explain *x, const struct cprov *p, const struct pcheck *c)
{
    double distance = near_distance(&c->r);
    if (!x->near_max ||
        (x->n_near == x->near_max && x->near[x->n_near - 1].distance <= distance))
        return; /* no nearer than what is kept */
    struct cand_near_miss n = {.r = reason_of(&c->r), .distance = distance};
    memcpy(n.uuid, p->uuid, sizeof(n.uuid));
    memcpy(n.root_uuid, p->root ? p->root->uuid : p->uuid, sizeof(n.root_uuid));
    if (c->v) {
        n.total = c->v->total;
        n.reserved = c->v->reserved;
        n.used = c->v->used;
        n.capacity = c->v->capacity;
        n.ratio = c->v->ratio;
    }
    if (!x->near)
        x->near = xcalloc(x->near_max + 1, sizeof(*x->near));
    size_t pos = x->n_near;
    while (pos > 0 && x->near[pos - 1].distance > n.distance)
        pos--;
    if (pos >= x->near_max)
        return;
    size_t keep = x->n_near < x->near_max ? x->n_near : x->near_max - 1;
    memmove(&x->near[pos + 1], &x->near[pos], (keep - pos) * sizeof(*x->near));
    x->near[pos] = n;
    x->n_near = keep + 1;
}

/* The providers that fail only group g's one constraint are near misses. */
static void near_group(struct engine *e, size_t g, struct cprov *root, size_t klass)
{
    const struct rgroup *rg = &e->groups[g];
    if (!rg->suffixed && klass == SIZE_MAX)
        return; /* the unsuffixed group failed on its traits as a whole */
    struct rootaggs ra = rg->suffixed ? (struct rootaggs){0} : root_aggs(rg, root);
    FOR_EACH_PROVIDER(e, root, p, ext, {
        struct pcheck c = check_provider(e, g, root, p, ext, rg->suffixed ? SIZE_MAX : klass, ra);
        /* A provider without the class is no near miss of the unsuffixed
         * group: the class may come from any provider of the tree. */
        if (c.n_failed == 1 && (e->groups[g].suffixed || c.level != CX_NO_INVENTORY))
            near_add(e->q->explain, p, &c);
    });
}

static struct why root_reason(struct engine *e, const struct cprov *root)
{
    struct why r = {.what = CX_ROOT_REQUIRED, .group = SIZE_MAX, .name = ""};
    for (size_t i = 0; i < e->root_req.n; i++)
        if (!has_id(root->traits, root->n_traits, e->root_req.ids[i])) {
            r.name = cached_name(e, &e->trait_names, SQL_TRAIT_NAME, e->root_req.ids[i]);
            return r;
        }
    for (size_t i = 0; i < e->root_forb.n; i++)
        if (has_id(root->traits, root->n_traits, e->root_forb.ids[i])) {
            r.name = cached_name(e, &e->trait_names, SQL_TRAIT_NAME, e->root_forb.ids[i]);
            r.forbidden = true;
            return r;
        }
    return r;
}

/* The first class whose summed amount the tree cannot hold (CX_COMBINED). */
static struct why room_reason(struct engine *e, struct cprov *root)
{
    struct why r = {.what = CX_COMBINED, .group = SIZE_MAX, .name = ""};
    for (size_t c = 0; c < e->n_dem; c++) {
        long long have = 0;
        for (struct cprov *p = root; p; p = p->next)
            have = sat_add(have, can_give(p, e->dem_rc[c]));
        for (size_t i = 0; i < e->n_ext; i++)
            have = sat_add(have, can_give(e->ext[i], e->dem_rc[c]));
        if (have < e->dem_amount[c]) {
            r.name = cached_name(e, &e->rc_names, SQL_RC_NAME, e->dem_rc[c]);
            r.asked = e->dem_amount[c];
            r.have = have;
            return r;
        }
    }
    return r;
}

/* True when no near miss of group g under this tree can be kept: the list
 * is full and none can be nearer than its last. Every provider that fails
 * one check got no further than the group's furthest (first, all of whose
 * levels before CX_CAPACITY measure 1); at CX_CAPACITY with one amount
 * asked, none has more free than first. */
static bool near_full_below(const struct engine *e, size_t g, const struct pcheck *first)
{
    const struct cand_explain *x = e->q->explain;
    if (!x->near_max)
        return true;
    if (x->n_near < x->near_max)
        return false;
    double bound = 0;
    if (first->level < CX_CAPACITY)
        bound = 1.0;
    else if (first->level == CX_CAPACITY && (!e->groups[g].suffixed || e->groups[g].n_res == 1))
        bound = near_distance(&first->r);
    return x->near[x->n_near - 1].distance <= bound;
}

/* Counts one tree: yielded something, or charged to its first failure. */
static void explain_anchor(struct engine *e, struct cprov *root, bool ok)
{
    struct cand_explain *x = e->q->explain;
    x->trees++;
    if (ok) {
        x->trees_ok++;
        for (size_t g = 0; g < e->n_groups; g++)
            x->groups[g].trees_ok++;
        return;
    }
    find_ext(e, root);
    struct pcheck first = {.level = LV_OK};
    size_t n_bad = 0, bad_group = SIZE_MAX, bad_class = SIZE_MAX;
    if ((e->root_req.n || e->root_forb.n) && !root_passes(e, root)) {
        first.level = CX_ROOT_REQUIRED;
        first.r = root_reason(e, root);
        n_bad++;
    }
    for (size_t g = 0; g < e->n_groups; g++) {
        size_t klass;
        struct pcheck c;
        diag_group(e, g, root, &klass, &c);
        if (c.level == LV_OK && e->anchor_fail == CX_TRAITS && e->empty_group == g) {
            /* Each required trait is on a usable provider, but no one
             * combination of them has them all: the solve found none. */
            c = (struct pcheck){.level = CX_TRAITS, .n_failed = 1};
            c.r = (struct why){.what = CX_TRAITS, .group = g, .name = ""};
        }
        if (c.level == LV_OK) {
            x->groups[g].trees_ok++;
            continue;
        }
        tally_add(&x->groups[g].why, &c.r);
        n_bad++;
        bad_group = g;
        bad_class = klass;
        if (c.level < first.level)
            first = c;
    }
    if (first.level == LV_OK) {
        /* Every group fits alone: what solve_anchor ran into together. */
        first.r = e->anchor_fail == CX_COMBINED ? room_reason(e, root)
                                                : (struct why){.what = e->anchor_fail,
                                                               .group = SIZE_MAX, .name = ""};
        /* A group each of whose traits some usable provider has, but no
         * combination of them has them all. */
        if (e->anchor_fail == CX_TRAITS)
            first.r.group = e->empty_group;
    }
    tally_add(&x->why, &first.r);
    if (n_bad != 1)
        return;
    if (bad_group == SIZE_MAX) {
        struct pcheck c = {.level = CX_ROOT_REQUIRED, .n_failed = 1, .r = first.r};
        near_add(x, root, &c);
    } else if (!root->next && !e->n_ext) {
        /* One provider: the group's check of it is first itself. */
        bool suffixed = e->groups[bad_group].suffixed;
        if (first.n_failed == 1 &&
            (suffixed || (bad_class != SIZE_MAX && first.level != CX_NO_INVENTORY)))
            near_add(x, root, &first);
    } else if (!near_full_below(e, bad_group, &first)) {
        near_group(e, bad_group, root, bad_class);
    }
    pool_reset(&e->sc->anchor_pool);
}

/* Every candidate anchored at root, in order. */
static void solve_anchor_core(struct engine *e, struct cprov *root)
{
    if (!spend(e, 1))
        return;
    if ((e->root_req.n || e->root_forb.n) && !root_passes(e, root))
        return;
    find_ext(e, root);
    if (e->room_check && !tree_has_room(e, root))
        return;
    for (size_t g = 0; g < e->n_groups; g++) {
        const struct rgroup *rg = &e->groups[g];
        e->sols[g].n = 0;
        if (rg->suffixed)
            solve_suffixed(e, rg, root);
        else
            solve_unsuffixed(e, rg, root);
        if (!e->sols[g].n || e->stop) {
            e->anchor_fail = CX_TRAITS;
            e->empty_group = g;
            pool_reset(&e->sc->anchor_pool);
            return;
        }
    }
    if (e->q->isolate && !enough_to_isolate(e)) {
        e->anchor_fail = CX_ISOLATE;
        pool_reset(&e->sc->anchor_pool);
        return;
    }
    memset(e->failed, 0, e->n_groups * sizeof(*e->failed)); /* made when a twin fails */
    e->n_run = 0;
    combine(e, 0);
    if (e->subtree_rejects)
        e->anchor_fail = CX_SAME_SUBTREE;
    else if (!e->leaves && e->isolate_clashes)
        e->anchor_fail = CX_ISOLATE;
    pool_reset(&e->sc->anchor_pool);
}

static void solve_anchor(struct engine *e, struct cprov *root)
{
    size_t found = e->found;
    e->anchor_fail = CX_COMBINED;
    e->leaves = e->subtree_rejects = e->isolate_clashes = 0;
    solve_anchor_core(e, root);
    if (e->q->explain && !e->gave_up)
        explain_anchor(e, root, e->found > found);
}

/* ---- Summaries ---- */

static void emit_summary(struct engine *e, const struct cprov *p)
{
    grow((void **)&e->sres, &e->cap_sres, p->n_inv + 1, sizeof(*e->sres));
    grow((void **)&e->snames, &e->cap_snames, p->n_traits + 1, sizeof(*e->snames));
    for (size_t i = 0; i < p->n_inv; i++)
        e->sres[i] =
            (struct cand_summary_res){cached_name(e, &e->rc_names, SQL_RC_NAME, p->inv[i].rc),
                                      p->inv[i].capacity, p->inv[i].used};
    for (size_t i = 0; i < p->n_traits; i++)
        e->snames[i] = cached_name(e, &e->trait_names, SQL_TRAIT_NAME, p->traits[i]);
    struct cand_summary s = {
        .uuid = p->uuid,
        .parent_uuid = p->parent ? p->parent->uuid : NULL,
        .root_uuid = p->root->uuid,
        .res = e->sres,
        .n_res = p->n_inv,
        .traits = e->snames,
        .n_traits = p->n_traits,
    };
    if (e->on_summary(e->arg, &s))
        e->cb_failed = true;
}

/* Summaries of the trees of w that candidates used: every provider of such a
 * tree, or (before 1.29 in a nested deployment) only the providers used.
 * skip_sharing leaves out the trees held in the sharing world. */
static void emit_world_summaries(struct engine *e, const struct world *w, bool skip_sharing)
{
    if (e->q->explain)
        return;
    for (size_t r = 0; r < w->n_roots && !e->cb_failed; r++) {
        const struct cprov *root = w->roots[r];
        if (!(mark_get(&e->marks, root) & MARK_TREE))
            continue;
        if (skip_sharing && world_find(&e->sc->spw, root->id))
            continue;
        for (const struct cprov *p = root; p && !e->cb_failed; p = p->next)
            if (!e->drop_nested || (mark_get(&e->marks, p) & MARK_PROVIDER))
                emit_summary(e, p);
    }
}

/* ---- Name resolution, in Placement's order ---- */

static const char SQL_AGG_ID[] = "SELECT id FROM aggregates WHERE uuid = ?1";
static const char SQL_HAS_TREES[] = "SELECT 1 FROM providers WHERE parent_id IS NOT NULL LIMIT 1";
static const char SQL_ROOTS_WITH_TRAIT[] =
    "SELECT p.id FROM provider_traits t JOIN providers p ON p.id = t.provider_id"
    " WHERE t.trait_id = ?1 AND p.parent_id IS NULL";
static const char SQL_ALL_ROOTS[] = "SELECT id FROM providers WHERE parent_id IS NULL";
static const char SQL_PROVIDER_TRAITS[] =
    "SELECT trait_id FROM provider_traits WHERE provider_id = ?1 ORDER BY trait_id";
static const char SQL_AGG_MEMBERS[] = "SELECT provider_id FROM provider_aggregates"
                                      " WHERE aggregate_id IN (SELECT value FROM json_each(?1))";
static const char SQL_AGG_HAS[] = "SELECT 1 FROM provider_aggregates WHERE provider_id = ?1"
                                  " AND aggregate_id IN (SELECT value FROM json_each(?2))";
static const char SQL_SHARING_ROOTS[] =
    "SELECT DISTINCT p.root_id FROM provider_traits t JOIN providers p ON p.id = t.provider_id"
    " WHERE t.trait_id = ?1 ORDER BY p.root_id";
static const char SQL_NEXT_BLOCKS[] =
    "SELECT block, version FROM tree_versions WHERE block > ?1 ORDER BY block LIMIT ?2";

static enum store_rc agg_id(struct store *st, const char *uuid, long long *id)
{
    sqlite3_stmt *s = stmt_get(st, SQL_AGG_ID);
    if (!s)
        return STORE_ERROR;
    stmt_bind_text(s, 1, uuid);
    enum store_rc rc = stmt_row(st, s, "aggregate lookup");
    if (rc == STORE_OK)
        *id = sqlite3_column_int64(s, 0);
    stmt_done(s);
    return rc;
}

/* Resolves trait names into a sorted id set; STORE_NOT_FOUND names the
 * first unknown one in fail. */
/* An id for an unknown name that no provider has (lenient explanations). */
static long long unknown_name(struct engine *e, struct namecache *c, const char *name)
{
    long long id = --e->unknown_id;
    namecache_put(c, id, pool_strdup(&e->sc->req_pool, name));
    return id;
}

static enum store_rc resolve_traits(struct engine *e, const struct cand_names *names,
                                    struct idset *out, struct cand_failure *fail)
{
    out->ids = pool_alloc(&e->sc->req_pool, (names->n ? names->n : 1) * sizeof(*out->ids));
    out->n = 0;
    for (size_t i = 0; i < names->n; i++) {
        long long id = 0;
        enum store_rc rc = store_trait_id(e->st, names->names[i], &id);
        if (rc == STORE_NOT_FOUND && e->lenient) {
            id = unknown_name(e, &e->trait_names, names->names[i]);
            rc = STORE_OK;
        }
        if (rc == STORE_NOT_FOUND) {
            fail->kind = CAND_BAD_TRAIT;
            (void)snprintf(fail->name, sizeof(fail->name), "%s", names->names[i]);
        }
        if (rc != STORE_OK)
            return rc;
        if (!has_id(out->ids, out->n, id)) {
            out->ids[out->n++] = id;
            qsort(out->ids, out->n, sizeof(*out->ids), cmp_ll);
        }
    }
    return STORE_OK;
}

/* Resolves aggregate uuids, dropping unknown ones (they match nothing). */
static enum store_rc resolve_aggs(struct engine *e, const struct cand_names *names,
                                  struct idset *out)
{
    out->ids = pool_alloc(&e->sc->req_pool, (names->n ? names->n : 1) * sizeof(*out->ids));
    out->n = 0;
    for (size_t i = 0; i < names->n; i++) {
        long long id = 0;
        enum store_rc rc = agg_id(e->st, names->names[i], &id);
        if (rc == STORE_NOT_FOUND)
            continue;
        if (rc != STORE_OK)
            return rc;
        if (!has_id(out->ids, out->n, id)) {
            out->ids[out->n++] = id;
            qsort(out->ids, out->n, sizeof(*out->ids), cmp_ll);
        }
    }
    return STORE_OK;
}

/* The ids as a JSON array for json_each(), in the request pool. */
static const char *json_ids(struct engine *e, const struct idset *s)
{
    return json_ids_write(pool_alloc(&e->sc->req_pool, JSON_IDS_SIZE(s->n)), s->ids, s->n);
}

/* Is some provider in every one of the aggregate sets
 * (provider_ids_matching_aggregates non-empty)? */
static enum store_rc any_provider_in_all(struct engine *e, const struct idset *sets, size_t n,
                                         bool *found)
{
    *found = false;
    sqlite3_stmt *drive = stmt_get(e->st, SQL_AGG_MEMBERS);
    sqlite3_stmt *check = stmt_get(e->st, SQL_AGG_HAS);
    if (!drive || !check)
        return STORE_ERROR;
    stmt_bind_text(drive, 1, json_ids(e, &sets[0]));
    const char **others = pool_alloc(&e->sc->req_pool, (n ? n : 1) * sizeof(*others));
    for (size_t i = 1; i < n; i++)
        others[i] = json_ids(e, &sets[i]);
    int rc;
    while (!*found && (rc = sqlite3_step(drive)) == SQLITE_ROW) {
        long long pid = sqlite3_column_int64(drive, 0);
        bool ok = true;
        for (size_t i = 1; i < n && ok; i++) {
            sqlite3_bind_int64(check, 1, pid);
            stmt_bind_text(check, 2, others[i]);
            ok = sqlite3_step(check) == SQLITE_ROW;
            stmt_done(check);
        }
        *found = ok;
    }
    if (!*found && rc != SQLITE_DONE) {
        stmt_done(drive);
        return store_rc_from_sqlite(e->st, rc, "candidates aggregates");
    }
    stmt_done(drive);
    return STORE_OK;
}

/* Does some root pass root_required (_get_roots_with_traits non-empty)? */
static enum store_rc any_root_passes(struct engine *e, bool *found)
{
    *found = false;
    sqlite3_stmt *drive = stmt_get(e->st, e->root_req.n ? SQL_ROOTS_WITH_TRAIT : SQL_ALL_ROOTS);
    sqlite3_stmt *traits = stmt_get(e->st, SQL_PROVIDER_TRAITS);
    if (!drive || !traits)
        return STORE_ERROR;
    if (e->root_req.n)
        sqlite3_bind_int64(drive, 1, e->root_req.ids[0]);
    long long have[256];
    int rc;
    while (!*found && (rc = sqlite3_step(drive)) == SQLITE_ROW) {
        struct cprov root = {.id = sqlite3_column_int64(drive, 0)};
        size_t n = 0;
        sqlite3_bind_int64(traits, 1, root.id);
        while (n < 256 && sqlite3_step(traits) == SQLITE_ROW)
            have[n++] = sqlite3_column_int64(traits, 0);
        stmt_done(traits);
        root.traits = have;
        root.n_traits = n;
        *found = root_passes(e, &root);
    }
    if (!*found && rc != SQLITE_DONE) {
        stmt_done(drive);
        return store_rc_from_sqlite(e->st, rc, "candidates roots");
    }
    stmt_done(drive);
    return STORE_OK;
}

/* One group, in the order of research_context.py RequestGroupSearchContext:
 * classes, member_of, traits, in_tree. *empty is set when the group can
 * match nothing, which ends the whole request with an empty answer. */
static enum store_rc resolve_group(struct engine *e, const struct cand_group *g, struct rgroup *rg,
                                   bool *empty, struct cand_failure *fail)
{
    struct pool *pool = &e->sc->req_pool;
    enum store_rc rc;
    rg->g = g;
    rg->suffixed = g->suffix[0] != '\0';
    rg->n_res = g->n_res;
    size_t n = g->n_res ? g->n_res : 1;
    rg->rc = pool_alloc(pool, n * sizeof(*rg->rc));
    rg->amount = pool_alloc(pool, n * sizeof(*rg->amount));
    rg->rc_name = pool_alloc(pool, n * sizeof(*rg->rc_name));
    for (size_t i = 0; i < g->n_res; i++) {
        rc = store_resource_class_id(e->st, g->rc_names[i], &rg->rc[i]);
        if (rc == STORE_NOT_FOUND && e->lenient) {
            rg->rc[i] = unknown_name(e, &e->rc_names, g->rc_names[i]);
            rc = STORE_OK;
        }
        if (rc == STORE_NOT_FOUND) {
            fail->kind = CAND_BAD_RESOURCE_CLASS;
            (void)snprintf(fail->name, sizeof(fail->name), "%s", g->rc_names[i]);
        }
        if (rc != STORE_OK)
            return rc;
        rg->amount[i] = g->amounts[i];
        rg->rc_name[i] = g->rc_names[i];
    }
    if (!rg->suffixed) {
        /* Insertion sort by class id: Placement walks the classes that way. */
        for (size_t i = 1; i < rg->n_res; i++)
            for (size_t j = i; j > 0 && rg->rc[j - 1] > rg->rc[j]; j--) {
                long long t = rg->rc[j];
                rg->rc[j] = rg->rc[j - 1];
                rg->rc[j - 1] = t;
                t = rg->amount[j];
                rg->amount[j] = rg->amount[j - 1];
                rg->amount[j - 1] = t;
                const char *s = rg->rc_name[j];
                rg->rc_name[j] = rg->rc_name[j - 1];
                rg->rc_name[j - 1] = s;
            }
    }
    rg->n_mof = g->n_member_of;
    rg->mof = pool_alloc(pool, (g->n_member_of ? g->n_member_of : 1) * sizeof(*rg->mof));
    for (size_t i = 0; i < g->n_member_of; i++) {
        if ((rc = resolve_aggs(e, &g->member_of[i], &rg->mof[i])) != STORE_OK)
            return rc;
        if (!rg->mof[i].n && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if (rg->n_mof) {
        bool found;
        if ((rc = any_provider_in_all(e, rg->mof, rg->n_mof, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if ((rc = resolve_aggs(e, &g->forbidden_aggs, &rg->forb_aggs)) != STORE_OK)
        return rc;
    rg->n_req = g->n_required;
    rg->req = pool_alloc(pool, (g->n_required ? g->n_required : 1) * sizeof(*rg->req));
    for (size_t i = 0; i < g->n_required; i++)
        if ((rc = resolve_traits(e, &g->required[i], &rg->req[i], fail)) != STORE_OK)
            return rc;
    if ((rc = resolve_traits(e, &g->forbidden, &rg->forb, fail)) != STORE_OK)
        return rc;
    if (g->in_tree) {
        struct provider_ref ref;
        rc = store_provider_ref(e->st, g->in_tree, &ref);
        if (rc == STORE_NOT_FOUND) {
            rg->tree_root = -1; /* no tree: what explain walks then */
            *empty = !e->q->explain;
            return STORE_OK;
        }
        if (rc != STORE_OK)
            return rc;
        rg->tree_root = ref.root_id;
    }
    return STORE_OK;
}

static enum store_rc query_flag(struct store *st, const char *sql, bool *out)
{
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW;
    stmt_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK
                                                 : store_rc_from_sqlite(st, rc, "candidates");
}

/* Request-wide parameters, then each group in query order. */
static enum store_rc resolve(struct engine *e, bool *empty, struct cand_failure *fail)
{
    const struct cand_query *q = e->q;
    e->resolving = SIZE_MAX;
    enum store_rc rc = store_trait_id(e->st, "MISC_SHARES_VIA_AGGREGATE", &e->shares_trait);
    if (rc == STORE_NOT_FOUND)
        e->shares_trait = 0;
    else if (rc != STORE_OK)
        return rc;
    if ((rc = resolve_traits(e, &q->root_required, &e->root_req, fail)) != STORE_OK ||
        (rc = resolve_traits(e, &q->root_forbidden, &e->root_forb, fail)) != STORE_OK)
        return rc;
    if (e->root_req.n || e->root_forb.n) {
        bool found;
        if ((rc = any_root_passes(e, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    e->n_groups = q->n_groups;
    e->groups = pool_alloc(&e->sc->req_pool, (q->n_groups ? q->n_groups : 1) * sizeof(*e->groups));
    memset(e->groups, 0, (q->n_groups ? q->n_groups : 1) * sizeof(*e->groups));
    for (size_t i = 0; i < q->n_groups && !*empty; i++) {
        e->resolving = i;
        if ((rc = resolve_group(e, &q->groups[i], &e->groups[i], empty, fail)) != STORE_OK)
            return rc;
    }
    if (*empty)
        return STORE_OK;
    e->subtree = pool_alloc(&e->sc->req_pool, (q->n_same_subtree + 1) * sizeof(*e->subtree));
    e->n_subtree = pool_alloc(&e->sc->req_pool, (q->n_same_subtree + 1) * sizeof(*e->n_subtree));
    for (size_t t = 0; t < q->n_same_subtree; t++) {
        const struct cand_names *s = &q->same_subtree[t];
        e->subtree[t] = pool_alloc(&e->sc->req_pool, (s->n + 1) * sizeof(**e->subtree));
        e->n_subtree[t] = 0;
        for (size_t i = 0; i < s->n; i++)
            for (size_t g = 0; g < q->n_groups; g++)
                if (strcmp(q->groups[g].suffix, s->names[i]) == 0)
                    e->subtree[t][e->n_subtree[t]++] = g;
    }
    if ((rc = query_flag(e->st, SQL_HAS_TREES, &e->has_trees)) != STORE_OK)
        return rc;
    e->drop_nested = !q->nested_aware && e->has_trees;
    return STORE_OK;
}

static int cmp_prov_id(const void *a, const void *b)
{
    const struct cprov *x = *(struct cprov *const *)a, *y = *(struct cprov *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

/* Reads the trees of every sharing provider once. */
static enum store_rc load_sharing(struct engine *e)
{
    if (!e->shares_trait)
        return STORE_OK;
    sqlite3_stmt *s = stmt_get(e->st, SQL_SHARING_ROOTS);
    if (!s)
        return STORE_ERROR;
    sqlite3_bind_int64(s, 1, e->shares_trait);
    long long *roots = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        grow((void **)&roots, &cap, n + 1, sizeof(*roots));
        roots[n++] = sqlite3_column_int64(s, 0);
    }
    stmt_done(s);
    enum store_rc out = rc == SQLITE_DONE ? STORE_OK : store_rc_from_sqlite(e->st, rc, "sharing");
    for (size_t i = 0; i < n && out == STORE_OK; i++)
        out = world_load(e->st, &e->sc->spw, roots[i], roots[i]);
    array_free(roots, cap, sizeof(*roots));
    if (out != STORE_OK)
        return out;
    world_finalize(&e->sc->spw, e->shares_trait);
    e->sps = pool_alloc(&e->sc->req_pool, (e->sc->spw.n ? e->sc->spw.n : 1) * sizeof(*e->sps));
    for (size_t i = 0; i < e->sc->spw.n; i++)
        if (e->sc->spw.provs[i].sharing)
            e->sps[e->n_sps++] = &e->sc->spw.provs[i];
    qsort(e->sps, e->n_sps, sizeof(*e->sps), cmp_prov_id);
    return STORE_OK;
}

/* ---- The walk over the anchors ---- */

/* The next blocks after block `after` with their versions, at most `want`
 * of them, in block order. */
struct block_version {
    long long block, version;
};

static enum store_rc next_blocks(struct store *st, long long after, size_t want,
                                 struct block_version *out, size_t *n)
{
    sqlite3_stmt *s = stmt_get(st, SQL_NEXT_BLOCKS);
    if (!s)
        return STORE_ERROR;
    sqlite3_bind_int64(s, 1, after);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)want);
    *n = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        out[*n].block = sqlite3_column_int64(s, 0);
        out[(*n)++].version = sqlite3_column_int64(s, 1);
    }
    stmt_done(s);
    return rc == SQLITE_DONE ? STORE_OK : store_rc_from_sqlite(st, rc, "candidates blocks");
}

/* The finished trees of one block: the shared copy when the cache holds the
 * block at the version this transaction sees, else read now and offered to
 * the cache. The caller releases *out. */
static enum store_rc block_world(struct engine *e, struct block_version bv,
                                 struct tree_entry **out)
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
    world_finalize(w, e->shares_trait);
    *out = tree_cache_adopt(cache, bv.block, bv.version, w, sizeof(*w) + world_bytes(w));
    return STORE_OK;
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
    for (size_t r = 0; r < w->n_roots && !e->stop; r++) {
        /* A sharing provider's tree is used through its one shared copy. */
        struct cprov *root = world_find(&e->sc->spw, w->roots[r]->id);
        solve_anchor(e, root ? root : w->roots[r]);
    }
    if (e->randomize) {
        grow((void **)&e->held, &e->cap_held, e->n_held + 1, sizeof(*e->held));
        e->held[e->n_held++] = t;
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
    struct block_version *bv = pool_alloc(&e->sc->req_pool, BLOCKS_MAX * sizeof(*bv));
    size_t want = BLOCKS_FIRST, n;
    long long after = -1;
    while (!e->stop && !e->cb_failed) {
        enum store_rc rc = next_blocks(e->st, after, want, bv, &n);
        for (size_t i = 0; i < n && rc == STORE_OK && !e->stop && !e->cb_failed; i++)
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

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* randomize_allocation_candidates: random.sample(limit) or a shuffle, then
 * summaries for the trees of what was kept. */
static void finish_random(struct engine *e)
{
    size_t n = e->n_stored;
    size_t k = e->q->limit && e->q->limit < n ? e->q->limit : n;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uintptr_t)e;
    seed = seed ? seed : 88172645463325252ull;
    size_t *idx = xmalloc((n ? n : 1) * sizeof(*idx));
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < k; i++) {
        size_t j = i + (size_t)(rng_next(&seed) % (n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    for (size_t i = 0; i < k && !e->cb_failed; i++) {
        const struct stored *s = &e->stored[idx[i]];
        emit_request(e, s->items, s->n_items, (struct cprov *const *const *)s->maps, s->n_maps);
    }
    if (e->drop_nested)
        for (size_t i = k; i < n; i++)
            for (size_t j = 0; j < e->stored[idx[i]].n_items; j++) {
                const struct cprov *p = e->stored[idx[i]].items[j].p;
                if (mark_get(&e->marks, p->root) & MARK_TREE)
                    mark_set(&e->marks, p, MARK_PROVIDER);
            }
    free(idx);
    for (size_t i = 0; i < e->n_held && !e->cb_failed; i++)
        emit_world_summaries(e, e->held[i]->obj, true);
}

static void engine_free(struct engine *e)
{
    for (size_t i = 0; i < e->n_held; i++)
        tree_cache_release(e->st->trees, e->held[i]);
    array_free(e->held, e->cap_held, sizeof(*e->held));
    markset_free(&e->marks);
    if (e->sols)
        for (size_t g = 0; g < e->n_groups; g++)
            array_free(e->sols[g].v, e->sols[g].cap, sizeof(*e->sols[g].v));
    free(e->sols);
    free(e->chosen);
    free(e->cmaps);
    free(e->cn_maps);
    array_free(e->run, e->cap_run, sizeof(*e->run));
    array_free(e->ext, e->cap_ext, sizeof(*e->ext));
    free(e->dslots);
    array_free(e->stored, e->cap_stored, sizeof(*e->stored));
    array_free(e->items, e->cap_items, sizeof(*e->items));
    free(e->mappings);
    array_free(e->uuids, e->cap_uuids, sizeof(*e->uuids));
    array_free(e->sres, e->cap_sres, sizeof(*e->sres));
    array_free(e->snames, e->cap_snames, sizeof(*e->snames));
    namecache_free(&e->rc_names);
    namecache_free(&e->trait_names);
    scratch_give_back(e->sc);
}

/* The summed amount of every class the groups ask for (tree_has_room). */
static void sum_demand(struct engine *e)
{
    size_t total = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        total += e->groups[g].n_res;
    e->dem_rc = pool_alloc(&e->sc->req_pool, (total + 1) * sizeof(*e->dem_rc));
    e->dem_amount = pool_alloc(&e->sc->req_pool, (total + 1) * sizeof(*e->dem_amount));
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t k = 0; k < e->groups[g].n_res; k++) {
            const struct rgroup *rg = &e->groups[g];
            size_t c = 0;
            while (c < e->n_dem && e->dem_rc[c] != rg->rc[k])
                c++;
            if (c == e->n_dem) {
                e->dem_rc[e->n_dem++] = rg->rc[k];
                e->dem_amount[c] = 0;
            } else {
                e->room_check = true; /* one group alone is checked by its own solve */
            }
            e->dem_amount[c] = sat_add(e->dem_amount[c], rg->amount[k]);
        }
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
    if (rc != STORE_OK || empty || !e->n_groups)
        return rc;
    sum_demand(e);
    e->failed = pool_alloc(&e->sc->req_pool, e->n_groups * sizeof(*e->failed));
    e->n_failed = pool_alloc(&e->sc->req_pool, e->n_groups * sizeof(*e->n_failed));
    if ((rc = load_sharing(e)) != STORE_OK)
        return rc;
    e->sols = xcalloc(e->n_groups, sizeof(*e->sols));
    e->chosen = xcalloc(e->n_groups, sizeof(*e->chosen));
    e->cmaps = xcalloc(e->n_groups, sizeof(*e->cmaps));
    e->cn_maps = xcalloc(e->n_groups, sizeof(*e->cn_maps));
    e->mappings = xcalloc(e->n_groups, sizeof(*e->mappings));
    if ((rc = walk_anchors(e)) != STORE_OK)
        return rc;
    if (e->gave_up) {
        fail->kind = e->gave_up;
        return STORE_INVALID;
    }
    if (e->randomize)
        finish_random(e);
    emit_world_summaries(e, &e->sc->spw, false);
    if (e->cb_failed)
        return STORE_ERROR;
    return e->name_rc;
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

/* One run of the engine over q (lenient: see struct engine). */
static enum store_rc candidates_get(struct store *st, const struct cand_query *q, bool lenient,
                                    cand_request_fn *on_request, cand_summary_fn *on_summary,
                                    void *arg, struct cand_failure *fail)
{
    struct engine e = {.st = st,
                       .q = q,
                       .randomize = q->randomize && !q->explain,
                       .lenient = lenient,
                       .on_request = on_request,
                       .on_summary = on_summary,
                       .arg = arg,
                       .sc = scratch_take()};
    memset(fail, 0, sizeof(*fail));
    enum store_rc rc = tx_begin_read(st);
    if (rc != STORE_OK)
        return rc;
    rc = run(&e, fail);
    log_msg(LOG_DEBUG, "candidates: %llu steps%s", e.work,
            e.gave_up == CAND_WORK_LIMIT  ? " (work limit)"
            : e.gave_up == CAND_CANCELLED ? " (cancelled)"
                                          : "");
    size_t failed_group = e.gave_up ? SIZE_MAX : e.resolving;
    engine_free(&e);
    if (rc != STORE_OK && fail->kind && failed_group != SIZE_MAX && !q->explain &&
        earlier_group_empty(st, q, failed_group)) {
        memset(fail, 0, sizeof(*fail));
        rc = STORE_OK; /* an empty answer, as upstream */
    }
    if (rc != STORE_OK) {
        tx_rollback(st);
        return fail->kind ? STORE_INVALID : rc;
    }
    return tx_commit(st);
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
