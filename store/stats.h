/* Counters the store keeps for GET /metrics (store/ internal): plain
 * process-wide atomics, each hook one relaxed increment. Read them through
 * store_stats_get() (store.h). */
#ifndef PLACID_STORE_STATS_H
#define PLACID_STORE_STATS_H

#include <stdatomic.h>

struct store_counters {
    atomic_ullong busy;        /* SQLITE_BUSY/LOCKED past the busy timeout */
    atomic_ullong pool_waits;  /* store_acquire found no free connection */
    atomic_ullong tree_hits;   /* tree cache: block found at its version */
    atomic_ullong tree_misses; /* tree cache: block read from the database */
    atomic_llong tree_bytes;   /* bytes listed in the tree caches */
};

extern struct store_counters store_counters;

#define STORE_STAT_ADD(field, n) \
    atomic_fetch_add_explicit(&store_counters.field, (n), memory_order_relaxed)

#endif
