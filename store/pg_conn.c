/* The PostgreSQL connection pool: libpq connections opened on demand, reset
 * after they broke, and conninfo strings masked for the log. */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/pg_conn.h"
#include "store/stats.h"

/* ---- Masking passwords ---- */

/* A bounded output: writes what fits, always NUL-terminated. */
struct outbuf {
    char *p;
    size_t size, len;
};

static void put(struct outbuf *o, const char *s, size_t n)
{
    if (o->size == 0)
        return;
    size_t room = o->size - 1 - o->len;
    if (n > room)
        n = room;
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(struct outbuf *o, const char *s)
{
    put(o, s, strlen(s));
}

static bool is_uri(const char *s)
{
    return strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0;
}

/* postgresql://user:PASSWORD@host:port/db?k=v&password=PASSWORD. The user
 * information is taken to end at the last '@' of the whole string, not the
 * first '/' or '?' as libpq parses it: a password mistyped with a raw '/'
 * or '?' is then still masked (masking too much is harmless). */
static void mask_uri(const char *s, size_t n, struct outbuf *o)
{
    const char *end = s + n, *rest = strstr(s, "://") + 3;
    put(o, s, (size_t)(rest - s));
    const char *at = NULL;
    for (const char *p = rest; p < end; p++)
        if (*p == '@')
            at = p;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        put(o, rest, (size_t)((colon ? colon + 1 : at) - rest));
        if (colon)
            puts_(o, "***");
        rest = at;
    }
    const char *q = memchr(rest, '?', (size_t)(end - rest));
    if (!q) {
        put(o, rest, (size_t)(end - rest));
        return;
    }
    put(o, rest, (size_t)(q + 1 - rest));
    for (const char *p = q + 1; p < end;) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        size_t len = (size_t)((amp ? amp : end) - p);
        if (len >= 9 && strncmp(p, "password=", 9) == 0)
            puts_(o, "password=***");
        else
            put(o, p, len);
        p += len;
        if (p < end) {
            put(o, "&", 1);
            p++;
        }
    }
}

/* keyword = value pairs as libpq parses them: a value is 'quoted' (with
 * \' and \\ escapes) or runs to the next space. A malformed rest is
 * dropped rather than copied, since it might hold a password. */
static void mask_keywords(const char *p, struct outbuf *o)
{
    while (*p) {
        if (isspace((unsigned char)*p)) {
            put(o, p++, 1);
            continue;
        }
        const char *k = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - k);
        put(o, k, klen);
        while (isspace((unsigned char)*p))
            put(o, p++, 1);
        if (*p != '=')
            return;
        put(o, p++, 1);
        while (isspace((unsigned char)*p))
            put(o, p++, 1);
        const char *v = p;
        bool quoted = *p == '\'';
        for (p += quoted; *p && (quoted ? *p != '\'' : !isspace((unsigned char)*p)); p++)
            if (*p == '\\' && p[1])
                p++;
        if (quoted && *p)
            p++;
        if (klen == 8 && strncmp(k, "password", 8) == 0)
            puts_(o, "***");
        else if (!quoted && is_uri(v))
            mask_uri(v, (size_t)(p - v), o); /* dbname may be a whole URI */
        else
            put(o, v, (size_t)(p - v));
    }
}

void pg_conninfo_masked(const char *conninfo, char *out, size_t outsz)
{
    struct outbuf o = {out, outsz, 0};
    if (outsz)
        out[0] = '\0';
    if (is_uri(conninfo))
        mask_uri(conninfo, strlen(conninfo), &o);
    else
        mask_keywords(conninfo, &o);
}

void pg_error_line(const char *msg, char *out, size_t outsz)
{
    if (!msg || !*msg)
        msg = "unknown error";
    size_t n = strcspn(msg, "\n");
    snprintf(out, outsz, "%.*s", (int)(n < 1024 ? n : 1024), msg);
}

/* ---- One connection ---- */

/* libpq prints notices (e.g. "relation already exists, skipping") on
 * stderr by default; they belong in the log, and only when debugging. */
static void on_notice(void *arg, const char *message)
{
    char line[512];
    (void)arg;
    pg_error_line(message, line, sizeof(line));
    log_msg(LOG_DEBUG, "store: postgresql: %s", line);
}

PGconn *pg_conn_open(const char *conninfo, char *err, size_t errsz)
{
    /* Parameters before dbname are defaults: those of the expanded
     * conninfo (dbname, expand_dbname = 1) override them. jit=off: JIT
     * compilation pays off for long analytic queries, never for ours; it
     * was seen compiling for 1.3 s to run a provider list of 2,000 rows
     * (an "options" in the conninfo replaces this default). */
    const char *const keys[] = {"connect_timeout", "application_name", "options", "dbname", NULL};
    const char *const vals[] = {PG_CONNECT_TIMEOUT_DEFAULT, "placid", "-c jit=off", conninfo, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (conn && PQstatus(conn) == CONNECTION_OK) {
        PQsetNoticeProcessor(conn, on_notice, NULL);
        return conn;
    }
    char masked[512], why[512];
    pg_conninfo_masked(conninfo, masked, sizeof(masked));
    pg_error_line(conn ? PQerrorMessage(conn) : "out of memory", why, sizeof(why));
    snprintf(err, errsz, "database unreachable: %s: %s", masked, why);
    PQfinish(conn);
    return NULL;
}

/* ---- The pool ---- */

struct pg_pool {
    pthread_mutex_t mu;
    pthread_cond_t freed;
    char *conninfo;   /* owned */
    char masked[512]; /* conninfo with the password masked, for the log */
    unsigned size;
    PGconn **conns; /* size slots; NULL: not open */
    bool *busy;     /* slot borrowed (or being opened) */
    bool down;      /* the last attempt found the database unreachable */
    long long failed_at_ms;      /* when (monotonic) */
    long long retry_interval_ms; /* no new attempt sooner while down */
    unsigned long long attempts; /* connection attempts (opens and resets) */
    long long lock_timeout_ms;   /* of write units; 0: none */
};

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

struct pg_pool *pg_pool_open(const char *conninfo, unsigned size, char *err, size_t errsz)
{
    PGconn *first = pg_conn_open(conninfo, err, errsz);
    if (!first)
        return NULL;
    struct pg_pool *pool = xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->mu, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pool->conninfo = xstrdup(conninfo);
    pg_conninfo_masked(conninfo, pool->masked, sizeof(pool->masked));
    pool->size = size ? size : 1;
    pool->conns = xcalloc(pool->size, sizeof(*pool->conns));
    pool->busy = xcalloc(pool->size, sizeof(*pool->busy));
    pool->conns[0] = first;
    pool->retry_interval_ms = PG_RETRY_INTERVAL_MS;
    pool->attempts = 1;
    STORE_STAT_ADD(pool_size, (long long)pool->size);
    STORE_STAT_ADD(pool_open, 1);
    log_msg(LOG_INFO, "store: PostgreSQL %s, up to %u connections", pool->masked, pool->size);
    return pool;
}

void pg_pool_close(struct pg_pool *pool)
{
    if (!pool)
        return;
    STORE_STAT_ADD(pool_size, -(long long)pool->size);
    STORE_STAT_ADD(pool_open, -(long long)pg_pool_open_count(pool));
    for (unsigned i = 0; i < pool->size; i++)
        PQfinish(pool->conns[i]);
    free(pool->conns);
    free(pool->busy);
    free(pool->conninfo);
    pthread_cond_destroy(&pool->freed);
    pthread_mutex_destroy(&pool->mu);
    free(pool);
}

/* Logs the transitions between reachable and unreachable, not every
 * refused request of an outage. Returns whether this was such a
 * transition. */
static bool note_reachable(struct pg_pool *pool, bool up, const char *why)
{
    pthread_mutex_lock(&pool->mu);
    bool changed = pool->down == up;
    pool->down = !up;
    if (!up)
        pool->failed_at_ms = now_ms();
    pthread_mutex_unlock(&pool->mu);
    if (!up)
        STORE_STAT_ADD(connect_failures, 1);
    if (changed && up)
        log_msg(LOG_INFO, "store: database reachable again: %s", pool->masked);
    else if (changed)
        log_msg(LOG_WARN, "store: database unreachable: %s: %s", pool->masked, why);
    return changed;
}

/* Takes a free open slot, else an empty one, else waits. Returns its index. */
static unsigned slot_take(struct pg_pool *pool)
{
    unsigned long long waited_since = 0;
    pthread_mutex_lock(&pool->mu);
    for (;;) {
        unsigned empty = pool->size;
        for (unsigned i = 0; i < pool->size; i++) {
            if (pool->busy[i])
                continue;
            if (pool->conns[i]) {
                pool->busy[i] = true;
                pthread_mutex_unlock(&pool->mu);
                if (waited_since)
                    STORE_STAT_ADD(pool_wait_ns, store_stat_now_ns() - waited_since);
                return i;
            }
            if (empty == pool->size)
                empty = i;
        }
        if (empty < pool->size) {
            pool->busy[empty] = true;
            pthread_mutex_unlock(&pool->mu);
            if (waited_since)
                STORE_STAT_ADD(pool_wait_ns, store_stat_now_ns() - waited_since);
            return empty;
        }
        if (!waited_since) {
            STORE_STAT_ADD(pool_waits, 1);
            waited_since = store_stat_now_ns();
        }
        pthread_cond_wait(&pool->freed, &pool->mu);
    }
}

static void slot_give(struct pg_pool *pool, unsigned i)
{
    pthread_mutex_lock(&pool->mu);
    pool->busy[i] = false;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->mu);
}

/* Slots are written under the lock, since slot_of() and
 * pg_pool_open_count() read all of them; a borrower reads its own. */
static void slot_set(struct pg_pool *pool, unsigned i, PGconn *conn)
{
    pthread_mutex_lock(&pool->mu);
    STORE_STAT_ADD(pool_open, (conn != NULL) - (pool->conns[i] != NULL));
    pool->conns[i] = conn;
    pthread_mutex_unlock(&pool->mu);
}

/* Whether a connection attempt may be made now: not while the database
 * is known down and the last attempt is younger than the retry interval. */
static bool attempt_allowed(struct pg_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    bool ok = !pool->down || now_ms() - pool->failed_at_ms >= pool->retry_interval_ms;
    if (ok)
        pool->attempts++;
    pthread_mutex_unlock(&pool->mu);
    return ok;
}

/* Opens slot i's connection, or resets it if it broke; outside the lock,
 * since either may wait for the network. */
static enum store_rc slot_connect(struct pg_pool *pool, unsigned i)
{
    char why[512];
    bool need = !pool->conns[i] || PQstatus(pool->conns[i]) != CONNECTION_OK;
    bool reset = pool->conns[i] && need;
    if (need && !attempt_allowed(pool))
        return STORE_BUSY;
    if (!pool->conns[i]) {
        PGconn *conn = pg_conn_open(pool->conninfo, why, sizeof(why));
        if (!conn) {
            note_reachable(pool, false, why);
            return STORE_BUSY;
        }
        slot_set(pool, i, conn);
    } else if (PQstatus(pool->conns[i]) != CONNECTION_OK) {
        PQreset(pool->conns[i]);
        if (PQstatus(pool->conns[i]) != CONNECTION_OK) {
            pg_error_line(PQerrorMessage(pool->conns[i]), why, sizeof(why));
            note_reachable(pool, false, why);
            return STORE_BUSY;
        }
        PQsetNoticeProcessor(pool->conns[i], on_notice, NULL);
    }
    if (note_reachable(pool, true, NULL) || reset)
        STORE_STAT_ADD(reconnects, 1);
    return STORE_OK;
}

static unsigned slot_of(struct pg_pool *pool, PGconn *conn)
{
    pthread_mutex_lock(&pool->mu);
    for (unsigned i = 0; i < pool->size; i++)
        if (pool->conns[i] == conn) {
            pthread_mutex_unlock(&pool->mu);
            return i;
        }
    abort(); /* not one of this pool's connections: a bug in the caller */
}

enum store_rc pg_pool_acquire(struct pg_pool *pool, PGconn **conn)
{
    unsigned i = slot_take(pool);
    enum store_rc rc = slot_connect(pool, i);
    if (rc != STORE_OK) {
        *conn = NULL;
        slot_give(pool, i);
        return rc;
    }
    *conn = pool->conns[i];
    STORE_STAT_ADD(pool_in_use, 1);
    return STORE_OK;
}

void pg_pool_release(struct pg_pool *pool, PGconn *conn)
{
    unsigned i = slot_of(pool, conn);
    PGTransactionStatusType ts = PQtransactionStatus(conn);
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
        PQclear(PQexec(conn, "ROLLBACK"));
    } else if (ts == PQTRANS_ACTIVE) {
        /* A command still under way (a caller bug): the connection cannot
         * be reused in that state, so it is closed and reopened on demand. */
        slot_set(pool, i, NULL);
        PQfinish(conn);
    }
    STORE_STAT_ADD(pool_in_use, -1);
    slot_give(pool, i);
}

static bool begin_once(PGconn *conn, const char *begin_sql)
{
    PGresult *res = PQexec(conn, begin_sql);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    PQclear(res);
    return ok;
}

enum store_rc pg_pool_begin(struct pg_pool *pool, PGconn *conn, const char *begin_sql)
{
    if (begin_once(conn, begin_sql))
        return STORE_OK;
    if (PQstatus(conn) == CONNECTION_OK) {
        char why[512];
        pg_error_line(PQerrorMessage(conn), why, sizeof(why));
        log_msg(LOG_ERROR, "store: %s: %s", begin_sql, why);
        return STORE_ERROR;
    }
    /* Broken while idle: nothing was lost, so reconnect and try again. */
    enum store_rc rc = slot_connect(pool, slot_of(pool, conn));
    if (rc != STORE_OK)
        return rc;
    if (begin_once(conn, begin_sql))
        return STORE_OK;
    return PQstatus(conn) == CONNECTION_OK ? STORE_ERROR : STORE_BUSY;
}

void pg_pool_set_lock_timeout(struct pg_pool *pool, long long ms)
{
    pthread_mutex_lock(&pool->mu);
    pool->lock_timeout_ms = ms;
    pthread_mutex_unlock(&pool->mu);
}

long long pg_pool_lock_timeout(struct pg_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    long long ms = pool->lock_timeout_ms;
    pthread_mutex_unlock(&pool->mu);
    return ms;
}

void pg_pool_set_retry_interval(struct pg_pool *pool, long long ms)
{
    pthread_mutex_lock(&pool->mu);
    pool->retry_interval_ms = ms;
    pthread_mutex_unlock(&pool->mu);
}

unsigned long long pg_pool_attempts(struct pg_pool *pool)
{
    pthread_mutex_lock(&pool->mu);
    unsigned long long n = pool->attempts;
    pthread_mutex_unlock(&pool->mu);
    return n;
}

unsigned pg_pool_open_count(struct pg_pool *pool)
{
    unsigned n = 0;
    pthread_mutex_lock(&pool->mu);
    for (unsigned i = 0; i < pool->size; i++)
        n += pool->conns[i] != NULL;
    pthread_mutex_unlock(&pool->mu);
    return n;
}
