/* store/sql.h over libpq: statements prepared per connection as "s<id>",
 * parameters sent as text (lists as array literals for "= ANY($n)"), the
 * rows read from the PGresult kept until sql_done(), and store_unit() over
 * pg_unit_run() (its isolation levels and retry rule). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"
#include "store/pg_cursor.h"
#include "store/pg_unit.h"
#include "store/sql.h"
#include "store/sql_pg.h"
#include "store/stats.h"
#include "store/tree_cache.h"

#define PG_MAX_PARAMS 16
#define PG_BOOLOID 16 /* pg_type.oid of boolean: read as 0/1 */

struct pg_stmt {
    struct sql base;
    struct pg_store *owner;    /* borrowed */
    char *values[PG_MAX_PARAMS]; /* owned; NULL binds SQL NULL */
    PGresult *res;             /* owned until sql_done() */
    int row, nrows;
    bool used; /* got since its last reset */
    bool ran;
    bool bad_text; /* a text parameter is not valid UTF-8 */
    enum store_rc failed; /* a bind or the execution failed: every step returns it */
};

struct pg_store {
    struct store base; /* first: a struct store * is a struct pg_store * */
    struct pg_backend *be;
    struct pg_unit *unit; /* the unit running on this handle, NULL outside one */
    struct pg_stmt stmts[STMT__COUNT];
};

/* A connection seen by a unit, and the server backend its statements were
 * prepared on (a reset connection has a new one, without them). */
struct pg_seen {
    PGconn *conn;
    int pid;
};

struct pg_backend {
    struct pg_pool *pool; /* borrowed */
    pthread_mutex_t mu;   /* guards seen, nseen, prepares, reruns */
    struct pg_seen *seen;
    size_t nseen;
    unsigned prepares;
    unsigned long long reruns; /* runs of units beyond their first */
    struct tree_cache *trees; /* the candidates engine's, shared by the handles: owned */
};

static const struct sql_ops pg_ops;

struct pg_backend *pg_backend_new(struct pg_pool *pool)
{
    struct pg_backend *be = calloc(1, sizeof(*be));
    if (!be)
        return NULL;
    be->pool = pool;
    be->trees = tree_cache_new(STORE_TREE_CACHE_DEFAULT, candidates_trees_destroy);
    pthread_mutex_init(&be->mu, NULL);
    return be;
}

void pg_backend_close(struct pg_backend *be)
{
    if (!be)
        return;
    pthread_mutex_destroy(&be->mu);
    tree_cache_free(be->trees);
    free(be->seen);
    free(be);
}

void pg_backend_set_tree_cache(struct pg_backend *be, size_t bytes)
{
    tree_cache_set_budget(be->trees, bytes);
}

unsigned pg_backend_prepares(struct pg_backend *be)
{
    pthread_mutex_lock(&be->mu);
    unsigned n = be->prepares;
    pthread_mutex_unlock(&be->mu);
    return n;
}

unsigned long long pg_backend_reruns(struct pg_backend *be)
{
    pthread_mutex_lock(&be->mu);
    unsigned long long n = be->reruns;
    pthread_mutex_unlock(&be->mu);
    return n;
}

struct store *pg_store_new(struct pg_backend *be)
{
    struct pg_store *ps = calloc(1, sizeof(*ps));
    if (!ps)
        return NULL;
    ps->base.ops = &pg_ops;
    ps->base.trees = be->trees;
    ps->be = be;
    for (int id = 0; id < STMT__COUNT; id++) {
        struct pg_stmt *s = &ps->stmts[id];
        s->base.ops = &pg_ops;
        s->base.st = &ps->base;
        s->base.id = (enum stmt_id)id;
        s->owner = ps;
    }
    return &ps->base;
}

PGconn *pg_store_conn(struct store *st)
{
    struct pg_unit *u = ((struct pg_store *)st)->unit;
    return u ? u->conn : NULL;
}

static void stmt_reset(struct pg_stmt *s)
{
    PQclear(s->res);
    s->res = NULL;
    for (int i = 0; i < PG_MAX_PARAMS; i++) {
        free(s->values[i]);
        s->values[i] = NULL;
    }
    s->row = s->nrows = 0;
    s->used = s->ran = s->bad_text = false;
    s->failed = STORE_OK;
}

void pg_store_free(struct store *st)
{
    if (!st)
        return;
    struct pg_store *ps = (struct pg_store *)st;
    for (int id = 0; id < STMT__COUNT; id++)
        stmt_reset(&ps->stmts[id]);
    name_memo_free(&st->names);
    free(ps);
}

int pg_prepare_all(PGconn *conn, char *err, size_t errsz)
{
    for (int id = 0; id < STMT__COUNT; id++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", id);
        PGresult *res = PQprepare(conn, name, pg_sql_text((enum stmt_id)id), 0, NULL);
        bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
        if (!ok) {
            char why[512];
            pg_error_line(PQresultErrorMessage(res), why, sizeof(why));
            snprintf(err, errsz, "cannot prepare statement %s: %s", store_stmt_names[id], why);
        }
        PQclear(res);
        if (!ok)
            return -1;
    }
    return 0;
}

/* The entry of conn in be->seen, added when new. NULL when out of memory. */
static struct pg_seen *seen_entry(struct pg_backend *be, PGconn *conn)
{
    for (size_t i = 0; i < be->nseen; i++)
        if (be->seen[i].conn == conn)
            return &be->seen[i];
    struct pg_seen *grown = realloc(be->seen, (be->nseen + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    be->seen = grown;
    be->seen[be->nseen] = (struct pg_seen){conn, 0};
    return &be->seen[be->nseen++];
}

/* Prepares the statements on u's connection unless its current server
 * backend has them. Prepared statements outlive the transaction they were
 * made in, rolled back or not. */
static enum store_rc ensure_prepared(struct pg_backend *be, struct pg_unit *u)
{
    int pid = PQbackendPID(u->conn);
    pthread_mutex_lock(&be->mu);
    struct pg_seen *e = seen_entry(be, u->conn);
    bool have = e && e->pid == pid;
    pthread_mutex_unlock(&be->mu);
    if (!e)
        return STORE_ERROR;
    if (have)
        return STORE_OK;
    char err[640];
    if (pg_prepare_all(u->conn, err, sizeof(err)) != 0) {
        if (PQstatus(u->conn) == CONNECTION_BAD) {
            u->lost = true; /* pg_unit_run runs the unit once more on a reset connection */
            return STORE_BUSY;
        }
        log_msg(LOG_ERROR, "store: %s", err);
        return STORE_ERROR;
    }
    pthread_mutex_lock(&be->mu);
    e = seen_entry(be, u->conn); /* the array may have moved */
    if (e)
        e->pid = pid;
    be->prepares++;
    pthread_mutex_unlock(&be->mu);
    return STORE_OK;
}

/* ---- Statements ---- */

static struct sql *pg_get(struct store *st, enum stmt_id id)
{
    struct pg_stmt *s = &((struct pg_store *)st)->stmts[id];
    if (s->used)
        stmt_reset(s); /* got again without sql_done(): start afresh */
    s->used = true;
    return &s->base;
}

/* The slot of parameter n, or NULL (logged, and every step fails). */
static char **param_slot(struct pg_stmt *s, int n)
{
    if (n < 1 || n > pg_sql_nparams(s->base.id) || n > PG_MAX_PARAMS) {
        log_msg(LOG_ERROR, "store: %s: no parameter %d", store_stmt_names[s->base.id], n);
        s->failed = STORE_ERROR;
        return NULL;
    }
    free(s->values[n - 1]);
    s->values[n - 1] = NULL;
    return &s->values[n - 1];
}

static void set_param(struct pg_stmt *s, int n, char *value)
{
    char **slot = param_slot(s, n);
    if (!slot) {
        free(value);
        return;
    }
    if (!value) {
        log_msg(LOG_ERROR, "store: %s: out of memory", store_stmt_names[s->base.id]);
        s->failed = STORE_ERROR;
        return;
    }
    *slot = value;
}

static void pg_bind_i64(struct sql *q, int n, long long v)
{
    char *out = malloc(24);
    if (out)
        snprintf(out, 24, "%lld", v);
    set_param((struct pg_stmt *)q, n, out);
}

static void pg_bind_f64(struct sql *q, int n, double v)
{
    char *out = malloc(32);
    if (out)
        snprintf(out, 32, "%.17g", v);
    set_param((struct pg_stmt *)q, n, out);
}

static void pg_bind_text(struct sql *q, int n, const char *s)
{
    struct pg_stmt *st = (struct pg_stmt *)q;
    if (!s) {
        param_slot(st, n); /* SQL NULL */
        return;
    }
    if (!utf8_valid(s))
        st->bad_text = true;
    set_param(st, n, strdup(s));
}

/* A JSON document: the statement casts it ($n::jsonb). */
static void pg_bind_json(struct sql *q, int n, const char *json)
{
    pg_bind_text(q, n, json);
}

/* "{1,2,3}": an int8[] literal. */
static void pg_bind_ids(struct sql *q, int n, const long long *ids, size_t k)
{
    char *buf = malloc(k * 21 + 3);
    if (buf) {
        size_t o = 0;
        buf[o++] = '{';
        for (size_t i = 0; i < k; i++)
            o += (size_t)sprintf(buf + o, i ? ",%lld" : "%lld", ids[i]);
        buf[o++] = '}';
        buf[o] = '\0';
    }
    set_param((struct pg_stmt *)q, n, buf);
}

/* {"a","b\"c"}: a text[] literal, every element quoted, '"' and '\'
 * escaped with a backslash (array syntax, independent of
 * standard_conforming_strings: the literal is a parameter). */
static void pg_bind_texts(struct sql *q, int n, const char *const *s, size_t k)
{
    size_t len = 3;
    for (size_t i = 0; i < k; i++) {
        len += 2 * strlen(s[i]) + 3;
        if (!utf8_valid(s[i]))
            ((struct pg_stmt *)q)->bad_text = true;
    }
    char *buf = malloc(len);
    if (buf) {
        size_t o = 0;
        buf[o++] = '{';
        for (size_t i = 0; i < k; i++) {
            if (i)
                buf[o++] = ',';
            buf[o++] = '"';
            for (const char *c = s[i]; *c; c++) {
                if (*c == '"' || *c == '\\')
                    buf[o++] = '\\';
                buf[o++] = *c;
            }
            buf[o++] = '"';
        }
        buf[o++] = '}';
        buf[o] = '\0';
    }
    set_param((struct pg_stmt *)q, n, buf);
}

static enum store_rc exec_on(struct pg_stmt *s, struct pg_unit *u)
{
    char sname[16];
    const char *const *values = (const char *const *)s->values;
    int n = pg_sql_nparams(s->base.id);
    if (pg_sql_plan_each_time(s->base.id)) {
        s->res = PQexecParams(u->conn, pg_sql_text(s->base.id), n, NULL, values, NULL, NULL, 0);
    } else {
        snprintf(sname, sizeof(sname), "s%d", (int)s->base.id);
        s->res = PQexecPrepared(u->conn, sname, n, values, NULL, NULL, 0);
    }
    enum store_rc rc = pg_unit_check(u, s->res, store_stmt_names[s->base.id]);
    if (rc == STORE_OK)
        s->nrows = PQntuples(s->res);
    return rc;
}

/* Whether a statement only reads: SELECT, or WITH without a write in it. */
static bool reads_only(enum stmt_id id)
{
    const char *t = pg_sql_text(id);
    t += strspn(t, " \t\n");
    if (strncasecmp(t, "SELECT", 6) == 0)
        return true;
    return strncasecmp(t, "WITH", 4) == 0 && !strstr(t, "INSERT ") && !strstr(t, "UPDATE ") &&
           !strstr(t, "DELETE ");
}

/* A statement outside any unit (a lookup the API makes on its own) runs
 * alone in autocommit on a borrowed connection, given back at once: the
 * whole result is already on this side. A read that finds its connection
 * broken (say PostgreSQL restarted while it sat idle) runs once more on a
 * reset one, as a unit would; a write is not repeated (it may have
 * committed). */
static enum store_rc exec_alone(struct pg_stmt *s)
{
    struct pg_backend *be = s->owner->be;
    for (int run = 0;; run++) {
        struct pg_unit u = {0};
        enum store_rc rc = pg_pool_acquire(be->pool, &u.conn);
        if (rc != STORE_OK) {
            if (rc == STORE_BUSY)
                STORE_STAT_ADD(unavailable, 1);
            return rc;
        }
        rc = ensure_prepared(be, &u);
        if (rc == STORE_OK)
            rc = exec_on(s, &u);
        pg_pool_release(be->pool, u.conn);
        if (!u.lost || run > 0 || !reads_only(s->base.id)) {
            if (rc == STORE_BUSY && u.lost)
                STORE_STAT_ADD(unavailable, 1);
            return rc;
        }
        PQclear(s->res);
        s->res = NULL;
        STORE_STAT_ADD(retries_connection, 1);
    }
}

/* Sends the statement with its parameters; the whole result comes back. */
static enum store_rc execute(struct pg_stmt *s)
{
    struct pg_unit *u = s->owner->unit;
    return u ? exec_on(s, u) : exec_alone(s);
}

static enum store_rc pg_step(struct sql *q)
{
    struct pg_stmt *s = (struct pg_stmt *)q;
    if (s->failed != STORE_OK)
        return s->failed;
    if (!s->ran && s->bad_text && reads_only(s->base.id)) {
        /* Text that is not UTF-8 (a path or query the client escaped, e.g.
         * %ff) equals nothing PostgreSQL stores, since it stores only valid
         * UTF-8; it would refuse the parameter (22021) and fail the unit.
         * Every text a reading statement takes is compared for equality
         * (or is a LIKE prefix of trait names, which are ASCII), so it
         * finds no rows, as SQLite (which compares bytes) does. A write
         * still sends it and fails. */
        s->ran = true;
        s->row = s->nrows = 0;
        return STORE_NOT_FOUND;
    }
    if (!s->ran) {
        s->ran = true;
        s->row = 0;
        enum store_rc rc = execute(s);
        if (rc != STORE_OK)
            return s->failed = rc;
    } else if (s->row < s->nrows) {
        s->row++;
    }
    return s->row < s->nrows ? STORE_OK : STORE_NOT_FOUND;
}

/* The text of column col of the current row; NULL for SQL NULL or no row. */
static const char *value(struct pg_stmt *s, int col)
{
    if (!s->res || s->row >= s->nrows || col < 0 || col >= PQnfields(s->res) ||
        PQgetisnull(s->res, s->row, col))
        return NULL;
    return PQgetvalue(s->res, s->row, col);
}

static long long pg_col_i64(struct sql *q, int col)
{
    struct pg_stmt *s = (struct pg_stmt *)q;
    const char *v = value(s, col);
    if (!v)
        return 0;
    if (PQftype(s->res, col) == PG_BOOLOID)
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static double pg_col_f64(struct sql *q, int col)
{
    const char *v = value((struct pg_stmt *)q, col);
    return v ? strtod(v, NULL) : 0.0;
}

static const char *pg_col_text(struct sql *q, int col)
{
    const char *v = value((struct pg_stmt *)q, col);
    return v ? v : "";
}

static bool pg_col_null(struct sql *q, int col)
{
    return value((struct pg_stmt *)q, col) == NULL;
}

static long long pg_changes(struct sql *q)
{
    struct pg_stmt *s = (struct pg_stmt *)q;
    return s->res ? strtoll(PQcmdTuples(s->res), NULL, 10) : 0;
}

/* The text ends in "RETURNING id" (store/sql_pg.c): its one column. */
static long long pg_insert_id(struct sql *q)
{
    struct pg_stmt *s = (struct pg_stmt *)q;
    if (!s->res || s->nrows < 1 || PQnfields(s->res) < 1 || PQgetisnull(s->res, 0, 0)) {
        log_msg(LOG_ERROR, "store: %s returned no id", store_stmt_names[s->base.id]);
        return 0;
    }
    return strtoll(PQgetvalue(s->res, 0, 0), NULL, 10);
}

static void pg_done(struct sql *q)
{
    stmt_reset((struct pg_stmt *)q);
}

/* ---- Units of work ---- */

struct unit_call {
    struct pg_store *ps;
    unit_fn *fn;
    void *arg;
};

static enum store_rc unit_body(struct pg_unit *u, void *arg)
{
    struct unit_call *c = arg;
    enum store_rc rc = ensure_prepared(c->ps->be, u);
    if (rc != STORE_OK)
        return rc;
    c->ps->unit = u;
    rc = c->fn(&c->ps->base, c->arg);
    c->ps->unit = NULL;
    for (int id = 0; id < STMT__COUNT; id++) /* a result the body left behind */
        if (c->ps->stmts[id].used)
            stmt_reset(&c->ps->stmts[id]);
    return rc;
}

/* A grouped write is a plain write: PostgreSQL has its own group commit
 * (commit_delay), and a unit holds its connection only for its
 * transaction. */
static enum store_rc pg_unit(struct store *st, enum unit_kind kind, enum store_rc exhausted,
                             unit_fn *fn, void *arg)
{
    struct pg_store *ps = (struct pg_store *)st;
    if (ps->unit)
        return fn(st, arg); /* inside another unit: join its transaction */
    struct unit_call c = {ps, fn, arg};
    unsigned runs = 0;
    enum store_rc rc = pg_unit_run(ps->be->pool, kind == UNIT_READ ? PG_UNIT_READ : PG_UNIT_WRITE,
                                   exhausted, unit_body, &c, &runs);
    if (runs > 1) {
        pthread_mutex_lock(&ps->be->mu);
        ps->be->reruns += runs - 1;
        pthread_mutex_unlock(&ps->be->mu);
    }
    return rc;
}

static void pg_emitted(struct store *st)
{
    struct pg_unit *u = ((struct pg_store *)st)->unit;
    if (u)
        u->emitted = true;
}

static const struct sql_ops pg_ops = {
    .name = "postgresql",
    .get = pg_get,
    .bind_i64 = pg_bind_i64,
    .bind_f64 = pg_bind_f64,
    .bind_text = pg_bind_text,
    .bind_ids = pg_bind_ids,
    .bind_texts = pg_bind_texts,
    .bind_json = pg_bind_json,
    .step = pg_step,
    .col_i64 = pg_col_i64,
    .col_f64 = pg_col_f64,
    .col_text = pg_col_text,
    .col_null = pg_col_null,
    .changes = pg_changes,
    .insert_id = pg_insert_id,
    .done = pg_done,
    .unit = pg_unit,
    .emitted = pg_emitted,
};
