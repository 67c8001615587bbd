#include "core/idmap.h"

#include <stdlib.h>
#include <string.h>

#define IDMAP_MIN 16

/* The smallest table, a power of two, that keeps n keys at most half full. */
static size_t table_for(size_t n)
{
    size_t cap = IDMAP_MIN;
    while (cap < 2 * n)
        cap *= 2;
    return cap;
}

static void rehash(struct idmap *m, size_t cap)
{
    struct idmap old = *m;
    m->slots = xcalloc(cap, sizeof(*m->slots));
    m->cap = cap;
    for (size_t i = 0; i < old.cap; i++) {
        if (!old.slots[i].val)
            continue;
        size_t j = idmap_hash(old.slots[i].key) & (cap - 1);
        while (m->slots[j].val)
            j = (j + 1) & (cap - 1);
        m->slots[j] = old.slots[i];
    }
    free(old.slots);
}

uintptr_t *idmap_slot(struct idmap *m, uint64_t key)
{
    if (2 * (m->n + 1) > m->cap)
        rehash(m, table_for(m->n + 1));
    size_t mask = m->cap - 1, i = idmap_hash(key) & mask;
    while (m->slots[i].val && m->slots[i].key != key)
        i = (i + 1) & mask;
    if (!m->slots[i].val) {
        m->slots[i].key = key;
        m->n++;
    }
    return &m->slots[i].val;
}

void idmap_put(struct idmap *m, uint64_t key, uintptr_t val)
{
    *idmap_slot(m, key) = val;
}

void idmap_clear(struct idmap *m, size_t n)
{
    size_t cap = table_for(n);
    if (cap > m->cap) {
        free(m->slots);
        m->slots = xcalloc(cap, sizeof(*m->slots));
        m->cap = cap;
    } else if (m->n) {
        memset(m->slots, 0, m->cap * sizeof(*m->slots));
    }
    m->n = 0;
}

size_t idmap_bytes(const struct idmap *m)
{
    return m->cap * sizeof(*m->slots);
}

void idmap_free(struct idmap *m)
{
    free(m->slots);
    *m = (struct idmap){0};
}
