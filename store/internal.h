/* Declarations shared by the files of store/ only. */
#ifndef PLACID_STORE_INTERNAL_H
#define PLACID_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/name_memo.h"
#include "store/sql.h"
#include "store/statements.h"
#include "store/store.h"

struct tree_cache;
struct checkpointer;
struct committer;

struct sql_ops;

/* A statement of the registry on an SQLite connection: store/sql.h's
 * struct sql (ops NULL) and its prepared statement. base.st stays NULL:
 * a parked connection (group commit) moves to another handle, and SQLite
 * finds the connection from the statement. */
struct sql_sqlite {
    struct sql base;
    sqlite3_stmt *stmt;
};

struct store {
    const struct sql_ops *ops; /* the backend of store/sql.h: NULL for SQLite */
    sqlite3 *db;
    struct sql_sqlite stmts[STMT__COUNT]; /* every static statement, prepared at open */
    int tx_depth;             /* >0 inside a transaction started by tx_begin_* */
    bool reading;             /* the outermost transaction is a read (tx_begin_read) */
    struct checkpointer *ck;  /* the pool's checkpointer (NULL for a lone store): borrowed */
    struct committer *gc;     /* the pool's group committer (NULL for a lone store and for
                               * the committer's own connection): borrowed */
    struct tree_cache *trees; /* shared by the connections of one database */
    bool owns_trees;          /* this connection frees it */
    struct store_pool *pool;  /* the pool it belongs to (NULL for a lone store): borrowed */
    unsigned slot;            /* its index in the pool */
    struct name_memo names;   /* standard names' ids read so far: owned */
};

/* Frees an object of the tree cache (store/candidates_load.c makes them). */
void candidates_trees_destroy(void *obj);

/* Prepares every statement of sqlite_sql[] on st's connection (with
 * SQLITE_PREPARE_PERSISTENT), after the migrations. Returns 0, or -1 with
 * a one-line reason naming the statement and SQLite's error in err. */
int stmts_prepare(struct store *st, char *err, size_t errsz);

/* The prepared statement id of st: owned by the store (never finalize);
 * pair each use with stmt_done(). Never NULL once st is open. */
static inline sqlite3_stmt *stmt_of(struct store *st, enum stmt_id id)
{
    return st->stmts[id].stmt;
}

/* Resets the statement and clears its bindings. */
void stmt_done(sqlite3_stmt *stmt);

/* Copies text column col of s's current row (NULL as "") whole into dst,
 * which holds size bytes. A value that does not fit is never cut (a cut
 * can split a UTF-8 character, and the API would then drop the field): dst
 * becomes "" and the result is SQLITE_TOOBIG, logged, which
 * store_rc_from_sqlite() maps to STORE_ERROR. Else SQLITE_OK. */
int column_text_copy(sqlite3_stmt *s, int col, char *dst, size_t size);

/* Binds a text parameter (copied by SQLite). */
void stmt_bind_text(sqlite3_stmt *stmt, int idx, const char *s);

/* Transactions: writes begin IMMEDIATE, multi-statement reads plain BEGIN. */
enum store_rc tx_begin_write(struct store *st);
enum store_rc tx_begin_read(struct store *st);
enum store_rc tx_commit(struct store *st);
void tx_rollback(struct store *st);

/* ---- Helpers over store/sql.h (store/sql_common.c), for every backend ---- */

/* The result of a row loop "while ((rc = sql_step(q)) == STORE_OK)": the
 * end of the rows, or a stop asked for by a row callback, is STORE_OK. */
static inline enum store_rc rows_end(enum store_rc rc)
{
    return rc == STORE_NOT_FOUND ? STORE_OK : rc;
}

/* sql_run() of statement sid with ?1 bound to id. */
enum store_rc sql_run_id(struct store *st, enum stmt_id sid, long long id);

/* Runs statement sid, a query of one truth value ("SELECT EXISTS (...)" or
 * "SELECT 1 ... LIMIT 1") with ?1 bound to id: *out is whether a non-zero
 * row came back. */
enum store_rc sql_flag_id(struct store *st, enum stmt_id sid, long long id, bool *out);

/* The body of a provider_read(): ref is the provider, found. */
typedef enum store_rc provider_read_fn(struct store *st, const struct provider_ref *ref,
                                       void *arg);

/* A read unit scoped to one provider: looks the provider up into *ref and
 * runs fn in the same snapshot. STORE_NOT_FOUND (ref->id 0, fn not run)
 * when no provider has this uuid; else fn's result. */
enum store_rc provider_read(struct store *st, const char *uuid, struct provider_ref *ref,
                            provider_read_fn *fn, void *arg);

/* Maps an SQLite result code to a store result, logging unexpected ones
 * with what (an identifier of the failing step). */
enum store_rc store_rc_from_sqlite(struct store *st, int rc, const char *what);
/* The same for a connection db. */
enum store_rc sqlite_rc_map(sqlite3 *db, int rc, const char *what);

/* Runs a statement that returns no rows (INSERT/UPDATE/DELETE) and resets
 * it. Returns STORE_OK or the mapped error. */
enum store_rc stmt_exec(struct store *st, sqlite3_stmt *stmt, const char *what);

/* stmt_exec() of statement sid with ?1 bound to id. */
enum store_rc stmt_exec_id(struct store *st, enum stmt_id sid, long long id, const char *what);

/* Steps stmt, bound, for a query that returns at most one row. STORE_OK: the
 * row is current, so read its columns before stmt_done(); STORE_NOT_FOUND:
 * no row; otherwise the mapped error, logged with what. The caller calls
 * stmt_done(stmt) in every case. */
enum store_rc stmt_row(struct store *st, sqlite3_stmt *stmt, const char *what);

/* Runs statement sid, a query of one truth value ("SELECT EXISTS (...)")
 * with ?1 bound to id, and stores that value in *out. */
enum store_rc stmt_flag_id(struct store *st, enum stmt_id sid, long long id, bool *out,
                           const char *what);

/* ---- JSON arrays: a whole list bound as one parameter, read with
 * "json_each(?N)" ---- */

/* Bytes json_ids_write() needs for n ids (each at most 20 characters and a
 * comma, plus the brackets and the NUL). */
#define JSON_IDS_SIZE(n) ((n)*22 + 3)

/* Writes ids as a JSON array of integers ("[1,2]", "[]" for none) into buf,
 * which holds at least JSON_IDS_SIZE(n) bytes. Returns buf. */
char *json_ids_write(char *buf, const long long *ids, size_t n);

/* The same array in new memory: free() it. Aborts when out of memory. */
char *json_id_array(const long long *ids, size_t n);

/* The strings as a JSON array in new memory: '"' and '\\' escaped, control
 * bytes as \u00XX, bytes >= 0x80 unchanged (SQLite's JSON parser accepts
 * them). free() it. Aborts when out of memory. */
char *json_text_array(const char *const *strings, size_t n);

/* ---- Provider generations (Placement's increment_generation) ---- */

/* Reads the current generation of provider_id. STORE_OK or STORE_NOT_FOUND. */
enum store_rc provider_generation_read(struct store *st, long long provider_id, long long *gen);

/* Compare-and-set: generation gen -> gen + 1 (and updated_at = now).
 * STORE_CONFLICT when the provider's generation is no longer gen. *new_gen
 * (may be NULL) receives gen + 1. Must run inside a write transaction. */
enum store_rc provider_generation_bump(struct store *st, long long provider_id, long long gen,
                                       long long *new_gen);

/* ---- The background checkpointer (store/checkpoint.c) ---- */

/* Starts the checkpointer thread on its own connection db (which it owns
 * from now on and closes in ckpt_stop()). */
struct checkpointer *ckpt_start(sqlite3 *db);

/* Stops the thread (releasing any read transaction held at the gate), runs
 * a last PASSIVE checkpoint and closes its connection. NULL is a no-op. */
void ckpt_stop(struct checkpointer *ck);

/* The WAL hook of the pool's connections (arg: the checkpointer): records
 * the log's length and wakes the thread; never checkpoints itself. */
int ckpt_on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames);

/* Around every outermost read transaction of a pool connection: enter may
 * wait while the checkpointer restarts the log; leave tells it when the
 * last reader is gone. NULL (a lone store) is a no-op. */
void ckpt_reader_enter(struct checkpointer *ck);
void ckpt_reader_leave(struct checkpointer *ck);

/* How many times the log has been restarted (for tests). */
unsigned long long ckpt_restarts(struct checkpointer *ck);

/* ---- Group commit (store/group_commit.c) ---- */

/* A write of one request, run on the committer's connection inside the
 * batch's transaction (its own tx_begin_write/tx_commit nest as no-ops).
 * Anything but STORE_OK rolls back what it wrote, and only that. */
typedef enum store_rc gc_job_fn(struct store *st, void *arg);

/* Starts the committer thread on st, a connection it owns from now on. */
struct committer *gc_start(struct store *st);

/* Finishes the queued jobs, stops the thread, closes its connection. */
void gc_stop(struct committer *gc);

/* Runs fn(committer's store, arg) in the next batch and returns its result
 * once the batch is committed (durable) or failed. Blocks the caller. */
enum store_rc gc_run(struct committer *gc, gc_job_fn *fn, void *arg);

/* gc_run(st->gc, fn, arg) for a request holding st, a pool connection: the
 * request does not need its connection while it waits for the batch (the
 * job runs on the committer's), so st goes back to the pool for the wait
 * and st is given a connection again (perhaps another one) before this
 * returns. st must be outside any transaction. A lone store (no committer)
 * runs fn(st, arg) directly. */
enum store_rc store_grouped_write(struct store *st, gc_job_fn *fn, void *arg);

/* Batches committed and jobs run so far. */
void gc_stats(struct committer *gc, unsigned long long *batches, unsigned long long *jobs);

/* Applies the embedded migrations (raw SQL: before stmts_prepare()). 0 on
 * success, else -1 with the reason in err. */
int store_migrate(struct store *st, char *err, size_t errsz);

/* Inserts the standard resource classes (fixed ids) and traits that are
 * missing, so databases made by an older placid gain newer names (after
 * stmts_prepare()). 0 on success, else -1 with the reason in err. */
int store_sync_standard_names(struct store *st, char *err, size_t errsz);

/* Current time in whole seconds, the unit of every created_at/updated_at. */
long long store_now(void);

#endif
