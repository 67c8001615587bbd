/* store/sql.h over SQLite: a struct sql is a registry statement prepared at
 * open (struct sql_sqlite), and its functions are thin direct calls into
 * sqlite3_*. Another backend (ops set) is reached through its table; the
 * branch on ops is the whole cost of the indirection on SQLite. Lists are
 * bound as JSON arrays for json_each(?n). */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "store/internal.h"

/* Lists of up to this many ids are written on the stack (SQLite copies
 * them); longer ones in heap memory that SQLite frees. */
#define IDS_ON_STACK 32

static inline sqlite3_stmt *stmt_of_sql(struct sql *q)
{
    return ((struct sql_sqlite *)q)->stmt;
}

static inline const char *sql_name(const struct sql *q)
{
    return store_stmt_names[q->id];
}

struct sql *sql_get(struct store *st, enum stmt_id id)
{
    if (st->ops)
        return st->ops->get(st, id);
    return &st->stmts[id].base;
}

void sql_bind_i64(struct sql *q, int n, long long v)
{
    if (q->ops) {
        q->ops->bind_i64(q, n, v);
        return;
    }
    sqlite3_bind_int64(stmt_of_sql(q), n, v);
}

void sql_bind_f64(struct sql *q, int n, double v)
{
    if (q->ops) {
        q->ops->bind_f64(q, n, v);
        return;
    }
    sqlite3_bind_double(stmt_of_sql(q), n, v);
}

void sql_bind_text(struct sql *q, int n, const char *s)
{
    if (q->ops) {
        q->ops->bind_text(q, n, s);
        return;
    }
    if (s)
        sqlite3_bind_text(stmt_of_sql(q), n, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt_of_sql(q), n);
}

void sql_bind_ids(struct sql *q, int n, const long long *ids, size_t k)
{
    if (q->ops) {
        q->ops->bind_ids(q, n, ids, k);
        return;
    }
    if (k <= IDS_ON_STACK) {
        char buf[JSON_IDS_SIZE(IDS_ON_STACK)];
        sqlite3_bind_text(stmt_of_sql(q), n, json_ids_write(buf, ids, k), -1, SQLITE_TRANSIENT);
    } else {
        sqlite3_bind_text(stmt_of_sql(q), n, json_id_array(ids, k), -1, free);
    }
}

void sql_bind_texts(struct sql *q, int n, const char *const *s, size_t k)
{
    if (q->ops) {
        q->ops->bind_texts(q, n, s, k);
        return;
    }
    sqlite3_bind_text(stmt_of_sql(q), n, json_text_array(s, k), -1, free);
}

void sql_bind_json(struct sql *q, int n, const char *json)
{
    if (q->ops) {
        q->ops->bind_json(q, n, json);
        return;
    }
    sql_bind_text(q, n, json);
}

enum store_rc sql_step(struct sql *q)
{
    if (q->ops)
        return q->ops->step(q);
    sqlite3_stmt *s = stmt_of_sql(q);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        return STORE_OK;
    if (rc == SQLITE_DONE)
        return STORE_NOT_FOUND;
    return sqlite_rc_map(sqlite3_db_handle(s), rc, sql_name(q));
}

enum store_rc sql_exec(struct sql *q)
{
    enum store_rc rc = sql_step(q);
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

enum store_rc sql_run(struct sql *q)
{
    enum store_rc rc = sql_exec(q);
    sql_done(q);
    return rc;
}

long long sql_col_i64(struct sql *q, int col)
{
    if (q->ops)
        return q->ops->col_i64(q, col);
    return sqlite3_column_int64(stmt_of_sql(q), col);
}

double sql_col_f64(struct sql *q, int col)
{
    if (q->ops)
        return q->ops->col_f64(q, col);
    return sqlite3_column_double(stmt_of_sql(q), col);
}

const char *sql_col_text(struct sql *q, int col)
{
    if (q->ops)
        return q->ops->col_text(q, col);
    const unsigned char *text = sqlite3_column_text(stmt_of_sql(q), col);
    return text ? (const char *)text : "";
}

bool sql_col_null(struct sql *q, int col)
{
    if (q->ops)
        return q->ops->col_null(q, col);
    return sqlite3_column_type(stmt_of_sql(q), col) == SQLITE_NULL;
}

enum store_rc sql_col_copy(struct sql *q, int col, char *dst, size_t size)
{
    const char *text;
    size_t len;
    if (q->ops) {
        text = q->ops->col_text(q, col);
        len = strlen(text);
    } else {
        sqlite3_stmt *s = stmt_of_sql(q);
        const unsigned char *t = sqlite3_column_text(s, col);
        text = t ? (const char *)t : "";
        len = t ? (size_t)sqlite3_column_bytes(s, col) : 0;
    }
    if (len >= size) {
        log_msg(LOG_ERROR, "store: %s: column %d of %zu bytes does not fit in %zu: refused, not cut",
                sql_name(q), col, len, size);
        dst[0] = '\0';
        return STORE_ERROR;
    }
    memcpy(dst, text, len + 1);
    return STORE_OK;
}

long long sql_changes(struct sql *q)
{
    if (q->ops)
        return q->ops->changes(q);
    return (long long)sqlite3_changes64(sqlite3_db_handle(stmt_of_sql(q)));
}

long long sql_insert_id(struct sql *q)
{
    if (q->ops)
        return q->ops->insert_id(q);
    return (long long)sqlite3_last_insert_rowid(sqlite3_db_handle(stmt_of_sql(q)));
}

void sql_done(struct sql *q)
{
    if (!q)
        return;
    if (q->ops) {
        q->ops->done(q);
        return;
    }
    sqlite3_stmt *s = stmt_of_sql(q);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
}

/* One unit in its own (or the enclosing) transaction of this connection. */
static enum store_rc unit_run(struct store *st, enum unit_kind kind, unit_fn *fn, void *arg)
{
    enum store_rc rc = kind == UNIT_READ ? tx_begin_read(st) : tx_begin_write(st);
    if (rc != STORE_OK)
        return rc;
    rc = fn(st, arg);
    if (rc != STORE_OK || kind == UNIT_READ) {
        tx_rollback(st); /* a failure, or a read: nothing to keep */
        return rc;
    }
    return tx_commit(st);
}

struct grouped {
    unit_fn *fn;
    void *arg;
};

/* The group commit job of a grouped unit: the batch's transaction is open,
 * so the unit's own begin and commit nest in it. */
static enum store_rc grouped_job(struct store *st, void *arg)
{
    struct grouped *g = arg;
    return unit_run(st, UNIT_WRITE, g->fn, g->arg);
}

void unit_emitted(struct store *st)
{
    if (st->ops)
        st->ops->emitted(st);
}

enum store_rc store_unit(struct store *st, enum unit_kind kind, enum store_rc exhausted,
                         unit_fn *fn, void *arg)
{
    if (st->ops)
        return st->ops->unit(st, kind, exhausted, fn, arg);
    (void)exhausted; /* SQLite's writers wait on the lock: nothing to retry */
    if (kind == UNIT_GROUPED_WRITE && st->tx_depth == 0) {
        struct grouped g = {fn, arg};
        return store_grouped_write(st, grouped_job, &g);
    }
    return unit_run(st, kind, fn, arg);
}
