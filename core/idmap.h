/* An open-addressing hash map from a 64-bit key (an id, or an address cast
 * to uintptr_t) to a non-zero value (an index + 1, a pointer cast to
 * uintptr_t, or bits): linear probing over a power-of-two table kept at
 * most half full. The candidates engine's one map type. Zero-initialized is
 * an empty map; not thread-safe. */
#ifndef PLACID_CORE_IDMAP_H
#define PLACID_CORE_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/util.h"

struct idmap_slot {
    uint64_t key;
    uintptr_t val; /* 0: a free slot */
};

struct idmap {
    struct idmap_slot *slots; /* malloc'd; cap of them */
    size_t cap, n;
};

static inline size_t idmap_hash(uint64_t key)
{
    uint64_t h = key * FIBONACCI_HASH_MULT;
    return (size_t)(h ^ (h >> 29));
}

/* The value of key, or 0 when m does not hold it. */
static inline uintptr_t idmap_get(const struct idmap *m, uint64_t key)
{
    if (!m->cap)
        return 0;
    size_t mask = m->cap - 1;
    for (size_t i = idmap_hash(key) & mask; m->slots[i].val; i = (i + 1) & mask)
        if (m->slots[i].key == key)
            return m->slots[i].val;
    return 0;
}

/* The value of key, for the caller to read or change: a new entry holds 0,
 * and the caller must store a non-zero value in it before the next call on
 * m. Grows m as needed (aborts when out of memory). */
uintptr_t *idmap_slot(struct idmap *m, uint64_t key);

/* Sets key to val (non-zero). */
void idmap_put(struct idmap *m, uint64_t key, uintptr_t val);

/* Empties m, with room for n keys before it grows. */
void idmap_clear(struct idmap *m, size_t n);

/* Bytes of m's table. */
size_t idmap_bytes(const struct idmap *m);

/* Frees m's table; m is then empty. */
void idmap_free(struct idmap *m);

#endif
