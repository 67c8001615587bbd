/* The PostgreSQL backend behind store_pool_open(): the libpq pool, the
 * migrations at start, request handles, and the health check. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"
#include "store/pg_conn.h"
#include "store/pg_cursor.h"
#include "store/pg_migrate.h"
#include "store/pg_store.h"
#include "store/pg_unit.h"
#include "store/sql.h"

struct pg_store_pool {
    struct pg_pool *pool;
    struct pg_backend *be;
    pthread_mutex_t mu;      /* guards free_list, nfree, cap */
    struct store **free_list; /* handles not in use: owned */
    size_t nfree, cap;
};

/* Migrates on one of the pool's connections (pg_migrate takes the
 * advisory lock, so nodes starting together migrate once). */
static int migrate(struct pg_pool *pool, char *err, size_t errsz)
{
    PGconn *conn;
    if (pg_pool_acquire(pool, &conn) != STORE_OK) {
        snprintf(err, errsz, "database unreachable during migration");
        return -1;
    }
    int rc = pg_migrate(conn, err, errsz);
    pg_pool_release(pool, conn);
    return rc;
}

static long long mono_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#define WAIT_FIRST_PAUSE_MS 250
#define WAIT_MAX_PAUSE_MS   5000
#define WAIT_LOG_EVERY_MS   5000

/* pg_pool_open(), tried again while the database cannot be reached and
 * wait allows (store_pool_open_wait). Only the connection is waited for: a
 * migration that fails is an error at once. */
static struct pg_pool *pool_open_waiting(const char *conninfo, unsigned n,
                                         const struct pg_wait *wait, char *err, size_t errsz)
{
    long long deadline = mono_ms() + (long long)(wait ? wait->seconds : 0) * 1000;
    long long pause = WAIT_FIRST_PAUSE_MS, logged = 0;
    for (;;) {
        struct pg_pool *pool = pg_pool_open(conninfo, n, err, errsz);
        long long now = mono_ms();
        if (pool || now >= deadline)
            return pool;
        if (!logged || now - logged >= WAIT_LOG_EVERY_MS) {
            log_msg(LOG_WARN, "store: %s; waiting for it (--db-wait: %lld s left)", err,
                    (deadline - now + 999) / 1000);
            logged = now;
        }
        long long ms = pause < deadline - now ? pause : deadline - now;
        struct timespec d = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
        nanosleep(&d, NULL);
        pause = pause * 2 < WAIT_MAX_PAUSE_MS ? pause * 2 : WAIT_MAX_PAUSE_MS;
        if (wait->stop && wait->stop(wait->stop_arg)) {
            snprintf(err, errsz, "stopped while waiting for the database");
            return NULL;
        }
    }
}

struct pg_store_pool *pg_store_pool_open(const char *conninfo, unsigned n,
                                         const struct pg_wait *wait, char *err, size_t errsz)
{
    struct pg_pool *pool = pool_open_waiting(conninfo, n, wait, err, errsz);
    if (!pool)
        return NULL;
    if (migrate(pool, err, errsz) != 0) {
        pg_pool_close(pool);
        return NULL;
    }
    struct pg_store_pool *p = xcalloc(1, sizeof(*p));
    p->pool = pool;
    p->be = pg_backend_new(pool);
    if (!p->be) {
        pg_pool_close(pool);
        free(p);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    return p;
}

void pg_store_pool_close(struct pg_store_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nfree; i++)
        pg_store_free(p->free_list[i]);
    free(p->free_list);
    pg_backend_close(p->be);
    pg_pool_close(p->pool);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

void pg_store_pool_set_lock_timeout(struct pg_store_pool *p, unsigned ms)
{
    pg_pool_set_lock_timeout(p->pool, ms);
}

void pg_store_pool_set_tree_cache(struct pg_store_pool *p, size_t bytes)
{
    pg_backend_set_tree_cache(p->be, bytes);
}

struct store *pg_store_pool_acquire(struct pg_store_pool *p)
{
    pthread_mutex_lock(&p->mu);
    struct store *st = p->nfree ? p->free_list[--p->nfree] : NULL;
    pthread_mutex_unlock(&p->mu);
    if (st)
        return st;
    st = pg_store_new(p->be);
    if (!st) {
        log_msg(LOG_ERROR, "store: out of memory");
        abort();
    }
    return st;
}

/* Every handle ever made comes back here, so the list never needs more
 * room than the number of handles; it grows with them. */
void pg_store_pool_release(struct pg_store_pool *p, struct store *st)
{
    pthread_mutex_lock(&p->mu);
    if (p->nfree == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->free_list = xrealloc(p->free_list, p->cap * sizeof(*p->free_list));
    }
    p->free_list[p->nfree++] = st;
    pthread_mutex_unlock(&p->mu);
}

static enum store_rc read_one(struct store *st, enum stmt_id id, long long *out)
{
    struct sql *q = sql_get(st, id);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        *out = sql_col_i64(q, 0);
    sql_done(q);
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;
}

static enum store_rc health(struct store *st, void *arg)
{
    struct store_health *out = arg;
    long long version = 0;
    enum store_rc rc = read_one(st, STMT_USER_VERSION, &version);
    if (rc == STORE_OK)
        rc = read_one(st, STMT_COUNT_PROVIDERS, &out->providers);
    if (rc != STORE_OK)
        return rc;
    out->schema_version = (int)version;
    /* A node left on a demoted primary (a hot standby) can read but not
     * write: unhealthy. */
    PGresult *res = PQexec(pg_store_conn(st), "SELECT pg_is_in_recovery()");
    bool standby = PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
                   PQgetvalue(res, 0, 0)[0] != 'f';
    PQclear(res);
    if (standby) {
        log_msg(LOG_ERROR, "store: health: the database is read-only (in recovery) or failed");
        return STORE_ERROR;
    }
    return STORE_OK;
}

enum store_rc pg_store_health_check(struct store *st, struct store_health *out)
{
    *out = (struct store_health){0};
    return store_unit(st, UNIT_WRITE, STORE_BUSY, health, out);
}
