/* Building the candidates engine's in-memory trees (a "world": the provider
 * trees of one block, or the sharing providers' trees) from rows, and the
 * engine's small memory helpers. Pure: the rows come from
 * store/candidates_load.c, or from a test's hand-built trees. A finished
 * world is immutable and may be shared by concurrent requests (the tree
 * cache). See store/candidates_internal.h. */
#define _GNU_SOURCE /* mremap */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "store/candidates_internal.h"

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

void grow_to(void **v, size_t *cap, size_t need, size_t elem)
{
    size_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    if (n * elem >= MAP_MIN)
        *v = map_resize(*v, *cap * elem, n * elem);
    else
        *v = xrealloc(*v, n * elem);
    *cap = n;
}

void array_free(void *v, size_t cap, size_t elem)
{
    if (cap * elem >= MAP_MIN)
        munmap(v, cap * elem);
    else
        free(v);
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

void world_free(struct world *w)
{
    array_free(w->provs, w->cap, sizeof(*w->provs));
    array_free(w->inv, w->cap_inv, sizeof(*w->inv));
    array_free(w->traits, w->cap_traits, sizeof(*w->traits));
    array_free(w->aggs, w->cap_aggs, sizeof(*w->aggs));
    idmap_free(&w->index);
    array_free(w->roots, w->cap_roots, sizeof(*w->roots));
    memset(w, 0, sizeof(*w));
}

/* Empties w but keeps its arrays for the next batch or request. */
void world_reset(struct world *w)
{
    w->n = w->n_inv = w->n_traits = w->n_aggs = w->n_roots = 0;
    idmap_clear(&w->index, 0);
}

size_t world_bytes(const struct world *w)
{
    return w->cap * sizeof(*w->provs) + w->cap_inv * sizeof(*w->inv) +
           (w->cap_traits + w->cap_aggs) * sizeof(long long) + idmap_bytes(&w->index) +
           w->cap_roots * sizeof(*w->roots);
}

/* Finds the provider of a row: rows come in provider order, so the cursor
 * only moves forward; the linear fallback keeps a surprise harmless. */
struct cprov *world_row_provider(struct world *w, size_t first, size_t *cur, long long id)
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

struct cprov *world_add_provider(struct world *w, long long id, long long root_id,
                                 long long parent_id, const char *uuid)
{
    grow((void **)&w->provs, &w->cap, w->n + 1, sizeof(*w->provs));
    struct cprov *p = &w->provs[w->n++];
    memset(p, 0, sizeof(*p));
    p->id = id;
    p->root_id = root_id;
    p->parent_id = parent_id;
    size_t len = uuid ? strlen(uuid) : 0;
    len = len < sizeof(p->uuid) ? len : sizeof(p->uuid) - 1;
    memcpy(p->uuid, uuid ? uuid : "", len);
    p->uuid[len] = '\0';
    return p;
}

/* Guesses: most providers have a few inventories, traits and aggregates. */
void world_reserve_rows(struct world *w, size_t added)
{
    grow((void **)&w->inv, &w->cap_inv, w->n_inv + 4 * added, sizeof(*w->inv));
    grow((void **)&w->traits, &w->cap_traits, w->n_traits + 3 * added, sizeof(*w->traits));
    grow((void **)&w->aggs, &w->cap_aggs, w->n_aggs + 3 * added, sizeof(*w->aggs));
}

void world_add_inventory(struct world *w, struct cprov *p, const struct cinv *row)
{
    grow((void **)&w->inv, &w->cap_inv, w->n_inv + 1, sizeof(*w->inv));
    if (!p->n_inv)
        p->inv_off = w->n_inv;
    struct cinv *v = &w->inv[w->n_inv++];
    p->n_inv++;
    *v = *row;
    /* Placement's capacity: int((total - reserved) * allocation_ratio). */
    v->capacity = clamp_ll((double)sat_sub(v->total, v->reserved) * v->ratio);
    v->used = 0;
}

void world_set_usage(struct world *w, struct cprov *p, long long rc, long long used)
{
    for (size_t i = 0; i < p->n_inv; i++)
        if (w->inv[p->inv_off + i].rc_id == rc)
            w->inv[p->inv_off + i].used = used;
}

void world_add_trait(struct world *w, struct cprov *p, long long trait_id)
{
    grow((void **)&w->traits, &w->cap_traits, w->n_traits + 1, sizeof(*w->traits));
    if (!p->n_traits)
        p->trait_off = w->n_traits;
    w->traits[w->n_traits++] = trait_id;
    p->n_traits++;
}

void world_add_aggregate(struct world *w, struct cprov *p, long long agg_id)
{
    grow((void **)&w->aggs, &w->cap_aggs, w->n_aggs + 1, sizeof(*w->aggs));
    if (!p->n_aggs)
        p->agg_off = w->n_aggs;
    w->aggs[w->n_aggs++] = agg_id;
    p->n_aggs++;
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
        if (x->rc_id != y->rc_id || x->total != y->total || x->reserved != y->reserved ||
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
void world_finalize(struct world *w, long long shares_trait)
{
    idmap_clear(&w->index, w->n);
    for (size_t k = 0; k < w->n; k++) {
        struct cprov *p = &w->provs[k];
        p->inv = p->n_inv ? &w->inv[p->inv_off] : NULL;
        p->traits = p->n_traits ? &w->traits[p->trait_off] : NULL;
        p->aggs = p->n_aggs ? &w->aggs[p->agg_off] : NULL;
        p->sharing = shares_trait && has_id(p->traits, p->n_traits, shares_trait);
        idmap_put(&w->index, (uint64_t)p->id, k + 1);
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

/* ---- Names ---- */

const char *engine_name(struct engine *e, enum name_kind kind, long long id)
{
    struct idmap *names = kind == NAME_RC ? &e->names.rc : &e->names.trait;
    uintptr_t known = idmap_get(names, (uint64_t)id);
    if (known)
        return (const char *)known;
    const char *name = e->names.fetch(e, kind, id);
    idmap_put(names, (uint64_t)id, (uintptr_t)name);
    return name;
}
