/* A string-keyed hash map from names to indices, kept in a request arena:
 * the lookup of request groups by suffix (GET /allocation_candidates and the
 * scheduling translator), so thousands of suffixes cost linear, not
 * quadratic, time.
 *
 * Ownership: the table lives in the arena given to strmap_init() and is
 * released with it; there is no free function. Keys are borrowed: each key
 * must stay valid (unchanged) as long as the map is used, which an arena
 * string does. */
#ifndef PLACID_API_STRMAP_H
#define PLACID_API_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/util.h"

struct strmap_slot;
struct strmap {
    struct arena *arena;
    struct strmap_slot *slots;
    size_t cap, n; /* cap is 0 or a power of two */
};

/* Starts an empty map whose table will live in a. */
void strmap_init(struct strmap *m, struct arena *a);

/* Looks key up: true with *value set when present, else false. */
bool strmap_get(const struct strmap *m, const char *key, size_t *value);

/* Maps key to value, replacing an earlier value for an equal key. Borrows
 * key (see above). */
void strmap_put(struct strmap *m, const char *key, size_t value);

#endif
