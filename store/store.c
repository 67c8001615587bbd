#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"
#include "store/pg_store.h"
#include "store/stats.h"
#include "store/tree_cache.h"

long long store_now(void)
{
    return (long long)time(NULL);
}

void stmt_done(sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

int column_text_copy(sqlite3_stmt *s, int col, char *dst, size_t size)
{
    const unsigned char *text = sqlite3_column_text(s, col);
    size_t len = text ? (size_t)sqlite3_column_bytes(s, col) : 0;
    if (len >= size) {
        log_msg(LOG_ERROR, "store: %s of %zu bytes does not fit in %zu: refused, not cut",
                sqlite3_column_name(s, col), len, size);
        dst[0] = '\0';
        return SQLITE_TOOBIG;
    }
    memcpy(dst, text ? (const char *)text : "", len);
    dst[len] = '\0';
    return SQLITE_OK;
}

void stmt_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    sqlite3_bind_text(stmt, idx, s, -1, SQLITE_TRANSIENT);
}

enum store_rc store_rc_from_sqlite(struct store *st, int rc, const char *what)
{
    return sqlite_rc_map(st->db, rc, what);
}

enum store_rc sqlite_rc_map(sqlite3 *db, int rc, const char *what)
{
    switch (rc) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_BUSY_SNAPSHOT:
        STORE_STAT_ADD(busy, 1);
        return STORE_BUSY;
    case SQLITE_TOOBIG: /* column_text_copy() has said which value */
        return STORE_ERROR;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return STORE_DUPLICATE;
    case SQLITE_CONSTRAINT_FOREIGNKEY:
    case SQLITE_CONSTRAINT_TRIGGER: /* how SQLite reports a blocked ON DELETE RESTRICT */
        return STORE_IN_USE;
    default:
        log_msg(LOG_ERROR, "store: %s failed: %s (%d)", what, sqlite3_errmsg(db), rc);
        return STORE_ERROR;
    }
}

enum store_rc stmt_exec(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    enum store_rc out = store_rc_from_sqlite(st, rc, what);
    stmt_done(stmt);
    return out;
}

enum store_rc stmt_exec_id(struct store *st, enum stmt_id sid, long long id, const char *what)
{
    sqlite3_stmt *stmt = stmt_of(st, sid);
    sqlite3_bind_int64(stmt, 1, id);
    return stmt_exec(st, stmt, what);
}

enum store_rc stmt_row(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    return rc == SQLITE_DONE ? STORE_NOT_FOUND : store_rc_from_sqlite(st, rc, what);
}

enum store_rc stmt_flag_id(struct store *st, enum stmt_id sid, long long id, bool *out,
                           const char *what)
{
    sqlite3_stmt *stmt = stmt_of(st, sid);
    sqlite3_bind_int64(stmt, 1, id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *out = sqlite3_column_int(stmt, 0) != 0;
    enum store_rc out_rc = store_rc_from_sqlite(st, rc, what);
    stmt_done(stmt);
    return out_rc;
}

char *json_ids_write(char *buf, const long long *ids, size_t n)
{
    char *p = buf;
    *p++ = '[';
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s%lld", i ? "," : "", ids[i]);
    *p++ = ']';
    *p = '\0';
    return buf;
}

char *json_id_array(const long long *ids, size_t n)
{
    return json_ids_write(xmalloc(JSON_IDS_SIZE(n)), ids, n);
}

char *json_text_array(const char *const *strings, size_t n)
{
    size_t cap = 3;
    for (size_t i = 0; i < n; i++)
        cap += strlen(strings[i]) * 6 + 3; /* worst case: every byte as \u00XX */
    char *out = xmalloc(cap), *p = out;
    *p++ = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const unsigned char *c = (const unsigned char *)strings[i]; *c; c++) {
            if (*c == '"' || *c == '\\') {
                *p++ = '\\';
                *p++ = (char)*c;
            } else if (*c < 0x20) {
                p += sprintf(p, "\\u%04x", *c);
            } else {
                *p++ = (char)*c;
            }
        }
        *p++ = '"';
    }
    *p++ = ']';
    *p = '\0';
    return out;
}

/* The outermost transaction is over (committed, rolled back or never begun). */
static void tx_ended(struct store *st)
{
    st->tx_depth = 0;
    if (st->reading)
        ckpt_reader_leave(st->ck);
    st->reading = false;
}

static enum store_rc tx_begin(struct store *st, enum stmt_id begin)
{
    if (st->ops) {
        /* A unit of work not yet written on store/sql.h: SQLite only. */
        log_msg(LOG_ERROR, "store: this operation is not available on %s yet", st->ops->name);
        return STORE_ERROR;
    }
    if (st->tx_depth++ > 0)
        return STORE_OK; /* nested: the outer transaction covers it */
    st->reading = begin == STMT_BEGIN_READ;
    if (st->reading)
        ckpt_reader_enter(st->ck);
    enum store_rc rc = stmt_exec(st, stmt_of(st, begin), store_stmt_names[begin]);
    if (rc != STORE_OK)
        tx_ended(st);
    return rc;
}

enum store_rc tx_begin_write(struct store *st)
{
    return tx_begin(st, STMT_BEGIN_WRITE);
}

enum store_rc tx_begin_read(struct store *st)
{
    return tx_begin(st, STMT_BEGIN_READ);
}

enum store_rc tx_commit(struct store *st)
{
    if (st->tx_depth <= 0 || --st->tx_depth > 0)
        return STORE_OK;
    enum store_rc rc = stmt_exec(st, stmt_of(st, STMT_COMMIT), "commit");
    if (rc != STORE_OK)
        stmt_exec(st, stmt_of(st, STMT_ROLLBACK), "rollback");
    tx_ended(st);
    return rc;
}

void tx_rollback(struct store *st)
{
    if (st->tx_depth <= 0 || --st->tx_depth > 0)
        return;
    if (!sqlite3_get_autocommit(st->db))
        stmt_exec(st, stmt_of(st, STMT_ROLLBACK), "rollback");
    tx_ended(st);
}

/* WAL frames after which a lone store's commit runs a PASSIVE checkpoint
 * (SQLite's default). A pool replaces this hook by its checkpointer's
 * (store/checkpoint.c), which keeps checkpoints off the request path. */
#define WAL_CHECKPOINT_FRAMES 1000

static int on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)arg;
    if (frames >= WAL_CHECKPOINT_FRAMES)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

static sqlite3 *open_connection(const char *path, char *err, size_t errsz)
{
    sqlite3 *db = NULL;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &db, flags, NULL) != SQLITE_OK) {
        char printable[1024]; /* a conninfo reaching here is shown without its password */
        store_db_printable(path, printable, sizeof(printable));
        snprintf(err, errsz, "cannot open database %s: %s", printable,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_wal_hook(db, on_wal_commit, NULL);
    char *msg = NULL;
    if (sqlite3_exec(db,
                     /* FULL: a commit is on disk before it is acknowledged. */
                     "PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL; "
                     "PRAGMA journal_size_limit=16777216; "
                     "PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;",
                     NULL, NULL, &msg) != SQLITE_OK) {
        snprintf(err, errsz, "cannot use database %s: %s", path, msg ? msg : "?");
        sqlite3_free(msg);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

static struct store *store_wrap(sqlite3 *db)
{
    struct store *st = xcalloc(1, sizeof(*st));
    st->db = db;
    return st;
}

/* Another connection to a database that store_open() has migrated, with
 * every statement prepared. NULL with the reason in err. */
static struct store *store_connect(const char *path, char *err, size_t errsz)
{
    sqlite3 *db = open_connection(path, err, errsz);
    if (!db)
        return NULL;
    struct store *st = store_wrap(db);
    if (stmts_prepare(st, err, errsz) != 0) {
        store_close(st);
        return NULL;
    }
    return st;
}

struct store *store_open(const char *path, char *err, size_t errsz)
{
    sqlite3 *db = open_connection(path, err, errsz);
    if (!db)
        return NULL;
    struct store *st = store_wrap(db);
    /* The statements prepare against the migrated schema; the standard
     * names are then written with them. */
    if (store_migrate(st, err, errsz) != 0 || stmts_prepare(st, err, errsz) != 0 ||
        store_sync_standard_names(st, err, errsz) != 0) {
        store_close(st);
        return NULL;
    }
    st->trees = tree_cache_new(STORE_TREE_CACHE_DEFAULT, candidates_trees_destroy);
    st->owns_trees = true;
    return st;
}

int stmts_prepare(struct store *st, char *err, size_t errsz)
{
    for (int id = 0; id < STMT__COUNT; id++) {
        st->stmts[id].base.id = (enum stmt_id)id;
        if (sqlite3_prepare_v3(st->db, sqlite_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                               &st->stmts[id].stmt, NULL) != SQLITE_OK) {
            snprintf(err, errsz, "cannot prepare statement %s: %s", store_stmt_names[id],
                     sqlite3_errmsg(st->db));
            return -1;
        }
    }
    return 0;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int id = 0; id < STMT__COUNT; id++)
        sqlite3_finalize(st->stmts[id].stmt);
    sqlite3_close(st->db);
    name_memo_free(&st->names);
    if (st->owns_trees)
        tree_cache_free(st->trees);
    free(st);
}

/* Connections are opened as concurrency demands, up to cap: an idle worker
 * thread costs no connection, and the free list is a stack, so a light load
 * keeps reusing the same warm few. */
struct store_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned cap, n, n_free; /* n: opened or being opened */
    char *path;
    struct tree_cache *trees; /* the first connection's, shared */
    struct store **all;      /* all[0 .. n-1]; NULL while being opened */
    struct store **free_list;
    struct checkpointer *ck;
    struct committer *gc;
    struct pg_store_pool *pg; /* PostgreSQL (store/pg_store.c): nothing above is used */
    bool counted;             /* in store_counters' pool gauges (SQLite) */
};

/* A pool connection: shares the first one's tree cache and the pool's
 * checkpointer and committer. */
static void pool_adopt(struct store_pool *pool, struct store *st)
{
    st->trees = pool->trees;
    st->pool = pool;
    st->ck = pool->ck;
    st->gc = pool->gc;
    sqlite3_wal_hook(st->db, ckpt_on_wal_commit, pool->ck);
}

/* A pool of the PostgreSQL backend, behind the same functions. */
static struct store_pool *pool_open_pg(const char *conninfo, unsigned n,
                                       const struct pg_wait *wait, char *err, size_t errsz)
{
    struct pg_store_pool *pg = pg_store_pool_open(conninfo, n ? n : 1, wait, err, errsz);
    if (!pg)
        return NULL;
    struct store_pool *pool = xcalloc(1, sizeof(*pool));
    pool->pg = pg;
    return pool;
}

struct store_pool *store_pool_open(const char *path, unsigned n, char *err, size_t errsz)
{
    if (store_db_is_postgresql(path))
        return pool_open_pg(path, n, NULL, err, errsz);
    struct store *first = store_open(path, err, errsz);
    if (!first)
        return NULL;
    struct store_pool *pool = xcalloc(1, sizeof(*pool));
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->freed, NULL);
    pool->cap = n ? n : 1;
    pool->path = xstrdup(path);
    pool->all = xcalloc(pool->cap, sizeof(*pool->all));
    pool->free_list = xcalloc(pool->cap, sizeof(*pool->free_list));
    pool->all[0] = first;
    pool->n = 1;
    pool->trees = first->trees;
    sqlite3 *ck_db = open_connection(path, err, errsz);
    if (!ck_db) {
        store_pool_close(pool);
        return NULL;
    }
    pool->ck = ckpt_start(ck_db);
    struct store *gc_st = store_connect(path, err, errsz);
    if (!gc_st) {
        store_pool_close(pool);
        return NULL;
    }
    gc_st->trees = first->trees;
    sqlite3_wal_hook(gc_st->db, ckpt_on_wal_commit, pool->ck);
    pool->gc = gc_start(gc_st);
    pool_adopt(pool, first);
    pool->free_list[pool->n_free++] = first;
    STORE_STAT_ADD(pool_size, (long long)pool->cap);
    STORE_STAT_ADD(pool_open, 1);
    pool->counted = true;
    return pool;
}

struct store_pool *store_pool_open_wait(const char *path, unsigned n, unsigned wait_seconds,
                                        bool (*stop)(void *arg), void *stop_arg, char *err,
                                        size_t errsz)
{
    if (!store_db_is_postgresql(path) || wait_seconds == 0)
        return store_pool_open(path, n, err, errsz);
    struct pg_wait wait = {wait_seconds, stop, stop_arg};
    return pool_open_pg(path, n, &wait, err, errsz);
}

void store_pool_write_stats(struct store_pool *pool, struct store_write_stats *out)
{
    if (pool->pg) {
        *out = (struct store_write_stats){0};
        return;
    }
    gc_stats(pool->gc, &out->batches, &out->grouped_writes);
    out->wal_restarts = ckpt_restarts(pool->ck);
}

void store_pool_set_db_lock_timeout(struct store_pool *pool, unsigned ms)
{
    if (pool->pg)
        pg_store_pool_set_lock_timeout(pool->pg, ms);
}

void store_pool_set_tree_cache(struct store_pool *pool, size_t bytes)
{
    if (pool->pg) {
        pg_store_pool_set_tree_cache(pool->pg, bytes);
        return;
    }
    tree_cache_set_budget(pool->trees, bytes);
}

void store_pool_close(struct store_pool *pool)
{
    if (!pool)
        return;
    if (pool->pg) {
        pg_store_pool_close(pool->pg);
        free(pool);
        return;
    }
    if (pool->gc && pool->ck) {
        struct store_write_stats ws;
        store_pool_write_stats(pool, &ws);
        log_msg(LOG_INFO, "store: %llu group commits carried %llu writes; the WAL started over %llu times",
                ws.batches, ws.grouped_writes, ws.wal_restarts);
    }
    if (pool->counted) {
        STORE_STAT_ADD(pool_size, -(long long)pool->cap);
        STORE_STAT_ADD(pool_open, -(long long)pool->n);
    }
    gc_stop(pool->gc);
    ckpt_stop(pool->ck);
    /* The first connection owns the shared tree cache: close it last. */
    for (unsigned i = pool->n; i-- > 0;)
        store_close(pool->all[i]);
    free(pool->path);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool->all);
    free(pool->free_list);
    free(pool);
}

/* Opens connection number i of the pool (outside its lock: opening reads
 * the file). NULL, logged, when the database cannot be opened now. */
static struct store *pool_open_one(struct store_pool *pool, unsigned i)
{
    char err[512];
    struct store *st = store_connect(pool->path, err, sizeof(err));
    if (!st) {
        log_msg(LOG_ERROR, "store: connection %u: %s", i + 1, err);
        return NULL;
    }
    st->slot = i;
    pool_adopt(pool, st);
    return st;
}

struct store *store_acquire(struct store_pool *pool)
{
    if (pool->pg)
        return pg_store_pool_acquire(pool->pg);
    pthread_mutex_lock(&pool->lock);
    unsigned long long waited_since = 0;
    STORE_STAT_ADD(pool_in_use, 1);
    for (;;) {
        if (pool->n_free > 0) {
            struct store *st = pool->free_list[--pool->n_free];
            pthread_mutex_unlock(&pool->lock);
            if (waited_since)
                STORE_STAT_ADD(pool_wait_ns, store_stat_now_ns() - waited_since);
            return st;
        }
        if (pool->n < pool->cap)
            break;
        if (!waited_since) {
            STORE_STAT_ADD(pool_waits, 1);
            waited_since = store_stat_now_ns();
        }
        pthread_cond_wait(&pool->freed, &pool->lock);
    }
    if (waited_since)
        STORE_STAT_ADD(pool_wait_ns, store_stat_now_ns() - waited_since);
    unsigned i = pool->n++;
    pthread_mutex_unlock(&pool->lock);
    struct store *st = pool_open_one(pool, i);
    pthread_mutex_lock(&pool->lock);
    if (st) {
        pool->all[i] = st;
        STORE_STAT_ADD(pool_open, 1);
    } else {
        /* Give the slot back (only the last one can be; else keep it empty
         * and wait for a connection that exists). */
        if (i + 1 == pool->n)
            pool->n--;
        while (pool->n_free == 0)
            pthread_cond_wait(&pool->freed, &pool->lock);
        st = pool->free_list[--pool->n_free];
    }
    pthread_mutex_unlock(&pool->lock);
    return st;
}

void store_release(struct store_pool *pool, struct store *st)
{
    if (pool->pg) {
        pg_store_pool_release(pool->pg, st);
        return;
    }
    /* A handler that returned inside a transaction must not leak it into
     * the next request on this connection. */
    /* A statement left un-reset keeps its read snapshot (and blocks WAL
     * checkpoints), so later requests on this connection would see stale
     * data: reset it, and say which one it was. */
    for (sqlite3_stmt *s = sqlite3_next_stmt(st->db, NULL); s; s = sqlite3_next_stmt(st->db, s))
        if (sqlite3_stmt_busy(s)) {
            log_msg(LOG_ERROR, "store: statement left active: %.120s", sqlite3_sql(s));
            sqlite3_reset(s);
        }
    if (st->tx_depth > 0 || !sqlite3_get_autocommit(st->db)) {
        log_msg(LOG_ERROR, "store: connection released inside a transaction; rolling back");
        st->tx_depth = 1;
        tx_rollback(st);
    }
    STORE_STAT_ADD(pool_in_use, -1);
    pthread_mutex_lock(&pool->lock);
    pool->free_list[pool->n_free++] = st;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}

/* While a request waits for its group commit, its connection (the content
 * of *st) moves to a new handle on the free list, so other requests can use
 * it; st keeps only its pool. Returns the pool's committer. */
static struct committer *pool_park(struct store *st)
{
    struct store_pool *pool = st->pool;
    struct committer *gc = st->gc;
    struct store *held = xmalloc(sizeof(*held));
    *held = *st;
    pthread_mutex_lock(&pool->lock);
    pool->all[held->slot] = held;
    pool->free_list[pool->n_free++] = held;
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
    memset(st, 0, sizeof(*st));
    st->pool = pool;
    return gc;
}

/* Gives st a connection of its pool again (blocking as store_acquire()). */
static void pool_unpark(struct store *st)
{
    struct store_pool *pool = st->pool;
    struct store *got = store_acquire(pool);
    pthread_mutex_lock(&pool->lock);
    *st = *got;
    pool->all[st->slot] = st;
    pthread_mutex_unlock(&pool->lock);
    free(got);
}

enum store_rc store_grouped_write(struct store *st, gc_job_fn *fn, void *arg)
{
    if (!st->gc)
        return fn(st, arg);
    if (!st->pool)
        return gc_run(st->gc, fn, arg);
    struct committer *gc = pool_park(st);
    enum store_rc rc = gc_run(gc, fn, arg);
    pool_unpark(st);
    return rc;
}
