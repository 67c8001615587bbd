#include "store/stats.h"

#include "store/store.h"

struct store_counters store_counters;

void store_stats_get(struct store_stats *out)
{
    out->busy = atomic_load_explicit(&store_counters.busy, memory_order_relaxed);
    out->pool_waits = atomic_load_explicit(&store_counters.pool_waits, memory_order_relaxed);
    out->tree_hits = atomic_load_explicit(&store_counters.tree_hits, memory_order_relaxed);
    out->tree_misses = atomic_load_explicit(&store_counters.tree_misses, memory_order_relaxed);
    long long bytes = atomic_load_explicit(&store_counters.tree_bytes, memory_order_relaxed);
    out->tree_bytes = bytes > 0 ? (unsigned long long)bytes : 0;
}
