/* Open addressing with linear probing; the table doubles at half load. */
#include "api/strmap.h"

#include <stdint.h>
#include <string.h>

struct strmap_slot {
    const char *key; /* NULL: empty */
    uint64_t hash;
    size_t value;
};

void strmap_init(struct strmap *m, struct arena *a)
{
    memset(m, 0, sizeof(*m));
    m->arena = a;
}

/* The slot holding key, or the empty slot where it would go. */
static struct strmap_slot *find_slot(const struct strmap *m, const char *key, uint64_t hash)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key || (s->hash == hash && strcmp(s->key, key) == 0))
            return s;
    }
}

bool strmap_get(const struct strmap *m, const char *key, size_t *value)
{
    if (!m->cap)
        return false;
    const struct strmap_slot *s = find_slot(m, key, str_hash64(key));
    if (!s->key)
        return false;
    *value = s->value;
    return true;
}

static void grow(struct strmap *m)
{
    struct strmap_slot *old = m->slots;
    size_t old_cap = m->cap;
    m->cap = old_cap ? 2 * old_cap : 16;
    m->slots = arena_alloc(m->arena, m->cap * sizeof(*m->slots));
    memset(m->slots, 0, m->cap * sizeof(*m->slots));
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].key)
            *find_slot(m, old[i].key, old[i].hash) = old[i];
}

void strmap_put(struct strmap *m, const char *key, size_t value)
{
    if (2 * (m->n + 1) > m->cap)
        grow(m);
    uint64_t hash = str_hash64(key);
    struct strmap_slot *s = find_slot(m, key, hash);
    if (!s->key)
        m->n++;
    *s = (struct strmap_slot){.key = key, .hash = hash, .value = value};
}
