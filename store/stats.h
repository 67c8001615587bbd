/* Counters the store keeps for GET /metrics (store/ internal): plain
 * process-wide atomics, each hook one relaxed increment. Read them through
 * store_stats_get() (store.h). */
#ifndef PLACID_STORE_STATS_H
#define PLACID_STORE_STATS_H

#include <stdatomic.h>
#include <time.h>

struct store_counters {
    atomic_ullong busy;        /* SQLITE_BUSY/LOCKED past the busy timeout */
    atomic_ullong pool_waits;  /* store_acquire found no free connection */
    atomic_ullong tree_hits;   /* tree cache: block found at its version */
    atomic_ullong tree_misses; /* tree cache: block read from the database */
    atomic_llong tree_bytes;   /* bytes listed in the tree caches */
    /* The request connection pools (SQLite or PostgreSQL). */
    atomic_llong pool_size;      /* connections the pools may open */
    atomic_llong pool_open;      /* connections open now */
    atomic_llong pool_in_use;    /* connections borrowed now */
    atomic_ullong pool_wait_ns;  /* time borrowers waited for a free connection */
    /* PostgreSQL only. */
    atomic_ullong reconnects;       /* connections re-established after a break or outage */
    atomic_ullong connect_failures; /* connection attempts that failed */
    atomic_ullong retries_serialization; /* units run again after 40001 */
    atomic_ullong retries_deadlock;      /* ... after 40P01 */
    atomic_ullong retries_connection;    /* ... after the connection broke before COMMIT */
    atomic_ullong unavailable;           /* units failed: the database could not be reached */
};

extern struct store_counters store_counters;

#define STORE_STAT_ADD(field, n) \
    atomic_fetch_add_explicit(&store_counters.field, (n), memory_order_relaxed)

/* Nanoseconds on the monotonic clock, for STORE_STAT_ADD(pool_wait_ns). */
static inline unsigned long long store_stat_now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000000ULL + (unsigned long long)t.tv_nsec;
}

#endif
