/* The PostgreSQL backend seen from store/store.c's pool functions (store/
 * only). This header needs no libpq, so the SQLite-only build includes it
 * too: without PLACID_POSTGRESQL a PostgreSQL conninfo is refused with a
 * one-line reason. */
#ifndef PLACID_STORE_PG_STORE_H
#define PLACID_STORE_PG_STORE_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

struct pg_store_pool;

/* How long pg_store_pool_open() waits for an unreachable database
 * (store_pool_open_wait). */
struct pg_wait {
    unsigned seconds;
    bool (*stop)(void *arg); /* may be NULL */
    void *stop_arg;
};

#ifdef PLACID_POSTGRESQL
/* Opens a pool of at most n connections on conninfo, runs the migrations
 * (advisory-locked: several nodes may start at once) and syncs the standard
 * names. An unreachable database is waited for as wait says (NULL: not at
 * all). NULL with a one-line reason in err (password masked). */
struct pg_store_pool *pg_store_pool_open(const char *conninfo, unsigned n,
                                         const struct pg_wait *wait, char *err, size_t errsz);
void pg_store_pool_close(struct pg_store_pool *p);

/* store_pool_set_db_lock_timeout() on PostgreSQL. */
void pg_store_pool_set_lock_timeout(struct pg_store_pool *p, unsigned ms);

/* store_pool_set_tree_cache() on PostgreSQL: the budget of the node's
 * tree cache, shared by its handles. */
void pg_store_pool_set_tree_cache(struct pg_store_pool *p, size_t bytes);

/* A handle for one request (it holds no connection: each unit of work
 * borrows one), and its return. */
struct store *pg_store_pool_acquire(struct pg_store_pool *p);
void pg_store_pool_release(struct pg_store_pool *p, struct store *st);

/* store_health_check() on PostgreSQL: one write unit reads the schema
 * version and the provider count and writes (the version row's unchanged
 * value), so a failover that left this node on a read-only server fails. */
enum store_rc pg_store_health_check(struct store *st, struct store_health *out);
#else
static inline struct pg_store_pool *pg_store_pool_open(const char *conninfo, unsigned n,
                                                       const struct pg_wait *wait, char *err,
                                                       size_t errsz)
{
    (void)conninfo;
    (void)n;
    (void)wait;
    snprintf(err, errsz, "this placid was built without PostgreSQL support (libpq-dev)");
    return NULL;
}
static inline void pg_store_pool_close(struct pg_store_pool *p) { (void)p; }
static inline void pg_store_pool_set_lock_timeout(struct pg_store_pool *p, unsigned ms)
{
    (void)p;
    (void)ms;
}
static inline void pg_store_pool_set_tree_cache(struct pg_store_pool *p, size_t bytes)
{
    (void)p;
    (void)bytes;
}
static inline struct store *pg_store_pool_acquire(struct pg_store_pool *p)
{
    (void)p;
    return NULL;
}
static inline void pg_store_pool_release(struct pg_store_pool *p, struct store *st)
{
    (void)p;
    (void)st;
}
static inline enum store_rc pg_store_health_check(struct store *st, struct store_health *out)
{
    (void)st;
    (void)out;
    return STORE_ERROR;
}
#endif

#endif
