/* Prometheus metrics: counters kept by the request path, rendered in the
 * text exposition format (0.0.4) on a listener of their own
 * (--metrics-listen). The request hooks are lock-free: a few relaxed atomic
 * adds per request. */
#ifndef PLACID_SERVER_METRICS_H
#define PLACID_SERVER_METRICS_H

#include <stdbool.h>
#include <stddef.h>

/* The database's figures, gathered at scrape time by whoever owns the
 * database (main.c, from store_stats_get()), so server/ needs no store/. */
struct metrics_db {
    unsigned long long busy, pool_waits, tree_hits, tree_misses, tree_bytes;
    long long wal_bytes; /* -1: unknown */
    unsigned long long pool_size, pool_open, pool_in_use;
    double pool_wait_seconds;
    bool postgresql; /* the figures below are shown only then */
    unsigned long long reconnects, connect_failures, unavailable;
    unsigned long long retries_serialization, retries_deadlock, retries_connection;
};
typedef void metrics_db_fn(struct metrics_db *out, void *arg);

/* Call once at start, before any thread: records the start time and the
 * source of the database's figures (db may be NULL: none). */
void metrics_init(metrics_db_fn *db, void *arg);

/* A request has started / ended. route is the matched route's pattern
 * (static storage) or NULL when none matched; method any string (unknown
 * methods are counted as OTHER). */
void metrics_request_begin(void);
void metrics_request_end(const char *route, const char *method, int status, double seconds);

/* One allocation-candidates answer with n candidates. */
void metrics_observe_candidates(size_t n);

/* The whole exposition text, NUL-terminated; *len gets its length. The
 * caller frees it. */
char *metrics_render(size_t *len);

struct metrics_server;

/* Serves GET /metrics on host:port (numeric IPv4) with one thread. NULL
 * and a one-line reason in err when the address cannot be bound. */
struct metrics_server *metrics_listen(const char *host, unsigned short port, char *err,
                                      size_t errsz);
unsigned short metrics_port(const struct metrics_server *ms);
void metrics_stop(struct metrics_server *ms);

#endif
