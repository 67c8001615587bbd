/* The shared cache of finished tree blocks: see store/tree_cache.h. The
 * table is an array indexed by block number (root ids are dense rowids, so
 * it holds about one pointer per 64 providers), under one mutex held only
 * for a lookup or a swap. */
#include "store/tree_cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/util.h"
#include "store/stats.h"

struct tree_cache {
    pthread_mutex_t lock;
    struct tree_entry **slots; /* by block */
    size_t n_slots;
    size_t budget, bytes;
    tree_destroy_fn *destroy;
};

struct tree_cache *tree_cache_new(size_t budget, tree_destroy_fn *destroy)
{
    struct tree_cache *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->budget = budget;
    c->destroy = destroy;
    return c;
}

static void entry_destroy(struct tree_cache *c, struct tree_entry *e)
{
    c->destroy(e->obj);
    free(e);
}

void tree_cache_free(struct tree_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_slots; i++)
        if (c->slots[i])
            entry_destroy(c, c->slots[i]);
    STORE_STAT_ADD(tree_bytes, -(long long)c->bytes);
    free(c->slots);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void tree_cache_set_budget(struct tree_cache *c, size_t budget)
{
    pthread_mutex_lock(&c->lock);
    c->budget = budget;
    pthread_mutex_unlock(&c->lock);
}

static struct tree_entry *slot_of(const struct tree_cache *c, long long block)
{
    return block >= 0 && (size_t)block < c->n_slots ? c->slots[block] : NULL;
}

struct tree_entry *tree_cache_get(struct tree_cache *c, long long block, long long version)
{
    pthread_mutex_lock(&c->lock);
    struct tree_entry *e = slot_of(c, block);
    if (e && e->version == version)
        e->refs++;
    else
        e = NULL;
    if (e)
        STORE_STAT_ADD(tree_hits, 1);
    else
        STORE_STAT_ADD(tree_misses, 1);
    pthread_mutex_unlock(&c->lock);
    return e;
}

/* Unlists the entry of block (the caller holds the lock); it is destroyed
 * now or by its last reader. */
static void unlist(struct tree_cache *c, long long block)
{
    struct tree_entry *old = c->slots[block];
    c->slots[block] = NULL;
    c->bytes -= old->bytes;
    STORE_STAT_ADD(tree_bytes, -(long long)old->bytes);
    old->listed = 0;
    if (!old->refs)
        entry_destroy(c, old);
}

/* Lists e in place of an older version of its block when the budget allows
 * (the caller holds the lock). */
static void try_list(struct tree_cache *c, struct tree_entry *e)
{
    struct tree_entry *old = slot_of(c, e->block);
    if (old && old->version >= e->version)
        return; /* a reader with a newer snapshot got there first */
    size_t freed = old ? old->bytes : 0;
    if (c->bytes - freed + e->bytes > c->budget)
        return;
    if ((size_t)e->block >= c->n_slots) {
        size_t n = c->n_slots ? c->n_slots : 64;
        while (n <= (size_t)e->block)
            n *= 2;
        c->slots = xrealloc(c->slots, n * sizeof(*c->slots));
        for (size_t i = c->n_slots; i < n; i++)
            c->slots[i] = NULL;
        c->n_slots = n;
    }
    if (old)
        unlist(c, e->block);
    c->slots[e->block] = e;
    c->bytes += e->bytes;
    STORE_STAT_ADD(tree_bytes, (long long)e->bytes);
    e->listed = 1;
}

struct tree_entry *tree_cache_adopt(struct tree_cache *c, long long block, long long version,
                                    void *obj, size_t bytes)
{
    struct tree_entry *e = xcalloc(1, sizeof(*e));
    *e = (struct tree_entry){.block = block, .version = version, .obj = obj, .bytes = bytes,
                             .refs = 1};
    if (block < 0)
        return e;
    pthread_mutex_lock(&c->lock);
    try_list(c, e);
    pthread_mutex_unlock(&c->lock);
    return e;
}

void tree_cache_release(struct tree_cache *c, struct tree_entry *e)
{
    pthread_mutex_lock(&c->lock);
    bool gone = --e->refs == 0 && !e->listed;
    pthread_mutex_unlock(&c->lock);
    if (gone)
        entry_destroy(c, e);
}

size_t tree_cache_bytes(struct tree_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->bytes;
    pthread_mutex_unlock(&c->lock);
    return n;
}
