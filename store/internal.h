/* Declarations shared by the files of store/ only. */
#ifndef PLACID_STORE_INTERNAL_H
#define PLACID_STORE_INTERNAL_H

#include <sqlite3.h>

#include "store/store.h"

#define STMT_CACHE_SIZE 256

struct stmt_slot {
    const char *sql; /* the static string the statement was prepared from */
    sqlite3_stmt *stmt;
};

struct store {
    sqlite3 *db;
    struct stmt_slot cache[STMT_CACHE_SIZE];
    int tx_depth; /* >0 inside a transaction started by tx_begin_* */
};

/* Returns the cached statement for sql, prepared on first use with
 * SQLITE_PREPARE_PERSISTENT. sql must be a string with static storage: the
 * cache is keyed by its address. The store owns the statement; pair each use
 * with stmt_done(). Returns NULL (logged) when the SQL does not prepare. */
sqlite3_stmt *stmt_get(struct store *st, const char *sql);

/* Resets the statement and clears its bindings. */
void stmt_done(sqlite3_stmt *stmt);

/* Binds a text parameter (copied by SQLite). */
void stmt_bind_text(sqlite3_stmt *stmt, int idx, const char *s);

/* Transactions: writes begin IMMEDIATE, multi-statement reads plain BEGIN. */
enum store_rc tx_begin_write(struct store *st);
enum store_rc tx_begin_read(struct store *st);
enum store_rc tx_commit(struct store *st);
void tx_rollback(struct store *st);

/* Maps an SQLite result code to a store result, logging unexpected ones
 * with what (an identifier of the failing step). */
enum store_rc store_rc_from_sqlite(struct store *st, int rc, const char *what);

/* Runs a statement that returns no rows (INSERT/UPDATE/DELETE) and resets
 * it. Returns STORE_OK or the mapped error. */
enum store_rc stmt_exec(struct store *st, sqlite3_stmt *stmt, const char *what);

/* Applies the embedded migrations and standard names. 0 on success, else -1
 * with the reason in err. */
int store_migrate(struct store *st, char *err, size_t errsz);

/* Current time in whole seconds, the unit of every created_at/updated_at. */
long long store_now(void);

#endif
