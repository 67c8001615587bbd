#include "store/stats.h"

#include "store/store.h"

struct store_counters store_counters;

static unsigned long long load(atomic_ullong *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* A gauge, never shown below 0 (a test may close a pool it never counted). */
static unsigned long long gauge(atomic_llong *v)
{
    long long n = atomic_load_explicit(v, memory_order_relaxed);
    return n > 0 ? (unsigned long long)n : 0;
}

void store_stats_get(struct store_stats *out)
{
    out->busy = atomic_load_explicit(&store_counters.busy, memory_order_relaxed);
    out->pool_waits = atomic_load_explicit(&store_counters.pool_waits, memory_order_relaxed);
    out->tree_hits = atomic_load_explicit(&store_counters.tree_hits, memory_order_relaxed);
    out->tree_misses = atomic_load_explicit(&store_counters.tree_misses, memory_order_relaxed);
    out->tree_bytes = gauge(&store_counters.tree_bytes);
    out->pool_size = gauge(&store_counters.pool_size);
    out->pool_open = gauge(&store_counters.pool_open);
    out->pool_in_use = gauge(&store_counters.pool_in_use);
    out->pool_wait_seconds = (double)load(&store_counters.pool_wait_ns) / 1e9;
    out->reconnects = load(&store_counters.reconnects);
    out->connect_failures = load(&store_counters.connect_failures);
    out->retries_serialization = load(&store_counters.retries_serialization);
    out->retries_deadlock = load(&store_counters.retries_deadlock);
    out->retries_connection = load(&store_counters.retries_connection);
    out->unavailable = load(&store_counters.unavailable);
}
