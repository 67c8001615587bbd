/* The cursor API of store/ (internal to store/): every unit of work is
 * written once against these functions, never against sqlite3_* or PQ*
 * directly, and each backend implements them (SQLite: store/sql_sqlite_cursor.c;
 * PostgreSQL: store/sql_pg.c). The design is docs/postgresql.md §1 and §3.
 *
 * A statement is one of the registry's ids (store/statements.h), prepared
 * when its connection opened, so getting one never fails. Parameters are
 * numbered from 1 (?1 on SQLite, $1 on PostgreSQL); columns from 0. Every
 * error is logged here with the statement's name, so callers only pass
 * the result on. */
#ifndef PLACID_STORE_SQL_H
#define PLACID_STORE_SQL_H

#include <stdbool.h>
#include <stddef.h>

#include "store/statements.h"
#include "store/store.h"

/* A statement in use on one connection. Owned by the connection: never
 * freed by its user; pair every sql_get() with one sql_done(). */
struct sql;

/* Statement id of st's connection, ready for binding. Never NULL. */
struct sql *sql_get(struct store *st, enum stmt_id id);

/* Binds parameter n (1-based). Unbound parameters are SQL NULL. */
void sql_bind_i64(struct sql *q, int n, long long v);
void sql_bind_f64(struct sql *q, int n, double v);
/* s is copied; NULL binds SQL NULL. */
void sql_bind_text(struct sql *q, int n, const char *s);
/* A whole list as ONE parameter (k may be 0), copied: SQLite binds a JSON
 * array for "IN (SELECT value FROM json_each(?n))", PostgreSQL an
 * int8[]/text[] for "= ANY($n)". So no statement text is built at run
 * time. */
void sql_bind_ids(struct sql *q, int n, const long long *ids, size_t k);
void sql_bind_texts(struct sql *q, int n, const char *const *s, size_t k);
/* A JSON document as one parameter, copied; NULL binds SQL NULL. For the
 * shapes a flat list cannot carry (lists of lists, pairs), read with
 * json_each() on SQLite and bound as jsonb on PostgreSQL. */
void sql_bind_json(struct sql *q, int n, const char *json);

/* Runs the statement to its next row. STORE_OK: a row is current (read it
 * with sql_col_*); STORE_NOT_FOUND: no (more) rows, the statement is
 * finished; anything else is the mapped error (STORE_BUSY, STORE_DUPLICATE,
 * STORE_IN_USE, STORE_CONFLICT for a serialization failure, STORE_ERROR),
 * already logged. */
enum store_rc sql_step(struct sql *q);

/* Runs a statement whose rows, if any, do not matter (INSERT, UPDATE,
 * DELETE): STORE_OK once it has run, else the mapped error. q stays in use
 * (sql_changes() may be read) until sql_done(). */
enum store_rc sql_exec(struct sql *q);

/* sql_exec() then sql_done(): the common one-line write. */
enum store_rc sql_run(struct sql *q);

/* Column col of the current row. A NULL reads as 0, 0.0 or "". Text is
 * borrowed: valid until the next sql_step() or sql_done() on q. */
long long sql_col_i64(struct sql *q, int col);
double sql_col_f64(struct sql *q, int col);
const char *sql_col_text(struct sql *q, int col);
bool sql_col_null(struct sql *q, int col);

/* Copies text column col whole into dst (size bytes). A value that does
 * not fit is never cut (a cut can split a UTF-8 character): dst becomes ""
 * and the result is STORE_ERROR, logged. Else STORE_OK. */
enum store_rc sql_col_copy(struct sql *q, int col, char *dst, size_t size);

/* Rows the last run of this write statement changed (read it before
 * sql_done()). */
long long sql_changes(struct sql *q);

/* The id of the row the last run of this INSERT made (read it after
 * sql_exec(), before sql_done()). SQLite gives its rowid, so the text needs
 * no RETURNING (which costs SQLite a temporary table per run);
 * PostgreSQL's text ends in "RETURNING id" and this reads that column. */
long long sql_insert_id(struct sql *q);

/* Resets q and clears its bindings; it may be got again. Always call it,
 * whatever sql_step() returned. NULL is a no-op. */
void sql_done(struct sql *q);

/* ---- Units of work (docs/postgresql.md §3) ---- */

enum unit_kind {
    UNIT_READ,          /* one snapshot; nothing is kept (SQLite BEGIN, PostgreSQL
                         * REPEATABLE READ READ ONLY) */
    UNIT_WRITE,         /* all or nothing (SQLite BEGIN IMMEDIATE, PostgreSQL READ
                         * COMMITTED with ordered provider locks) */
    UNIT_GROUPED_WRITE, /* UNIT_WRITE that SQLite may batch with other requests' writes
                         * into one commit (store/group_commit.c); fn then runs on the
                         * committer's connection, the st it is given */
};

/* The body of a unit: runs its statements on st, returns STORE_OK to
 * commit, anything else to roll back. It may run more than once (the
 * PostgreSQL backend retries it after a serialization failure, a deadlock
 * or a connection lost before COMMIT), so it keeps its results in arg and
 * resets them at its start, and has no effect outside the database before
 * it returns, with one exception: rows it hands to its caller's callback
 * (a list streamed to the API). It calls unit_emitted() before each such
 * call, and a unit that has emitted is never run again: see
 * unit_emitted(). */
typedef enum store_rc unit_fn(struct store *st, void *arg);

/* Tells the unit running on st that its body is about to hand a row to
 * its caller (a row callback). From then on the unit is not run again:
 * a failure that would have been retried (serialization failure,
 * deadlock, connection lost) ends it with its exhausted result or
 * STORE_BUSY, and the caller discards what it received, as it does for
 * any failure. Why not retry: the caller has already seen rows that a
 * second run would hand it again (duplicates, or a mix of two
 * snapshots); buffering every row type until COMMIT would cost a copy of
 * every list on the common path for a failure that needs a server
 * restart, and the client retries a 503 anyway. Outside a unit, and on
 * SQLite (which never retries), it does nothing. */
void unit_emitted(struct store *st);

/* Runs fn(st, arg) inside one transaction of kind: commits when it returns
 * STORE_OK, rolls back otherwise. exhausted is the result when every retry
 * was aborted again (STORE_CONFLICT for a unit that takes a generation:
 * 409 concurrent update; STORE_BUSY otherwise: 503); SQLite never retries.
 * A unit run inside another (st already in a transaction) joins the outer
 * transaction. Returns STORE_OK once committed, else fn's result (or the
 * begin/commit failure). */
enum store_rc store_unit(struct store *st, enum unit_kind kind, enum store_rc exhausted,
                         unit_fn *fn, void *arg);

/* ---- The backend side ----
 *
 * Every struct sql a backend hands out begins with this header, and so does
 * the connection: ops NULL means SQLite, whose functions are called directly
 * (no indirect call on the default backend); any other backend sets ops in
 * struct store (store/internal.h) and in each of its statements, and the
 * functions above forward to it. */
struct sql_ops {
    const char *name; /* "postgresql" */
    struct sql *(*get)(struct store *st, enum stmt_id id);
    void (*bind_i64)(struct sql *q, int n, long long v);
    void (*bind_f64)(struct sql *q, int n, double v);
    void (*bind_text)(struct sql *q, int n, const char *s);
    void (*bind_ids)(struct sql *q, int n, const long long *ids, size_t k);
    void (*bind_texts)(struct sql *q, int n, const char *const *s, size_t k);
    void (*bind_json)(struct sql *q, int n, const char *json);
    enum store_rc (*step)(struct sql *q);
    long long (*col_i64)(struct sql *q, int col);
    double (*col_f64)(struct sql *q, int col);
    const char *(*col_text)(struct sql *q, int col); /* "" for NULL */
    bool (*col_null)(struct sql *q, int col);
    long long (*changes)(struct sql *q);
    long long (*insert_id)(struct sql *q);
    void (*done)(struct sql *q);
    enum store_rc (*unit)(struct store *st, enum unit_kind kind, enum store_rc exhausted,
                          unit_fn *fn, void *arg); /* UNIT_GROUPED_WRITE may run as UNIT_WRITE */
    void (*emitted)(struct store *st);
};

struct sql {
    const struct sql_ops *ops; /* NULL: SQLite */
    struct store *st;          /* the connection it belongs to: borrowed */
    enum stmt_id id;
};

#endif
