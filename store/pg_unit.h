/* Units of work on PostgreSQL (store/ only): one transaction per call, at
 * the isolation level of its kind, retried when PostgreSQL aborted it for a
 * reason that a new attempt can cure. The rule, from docs/postgresql.md:
 *
 *   - writes run READ COMMITTED (generation compare-and-set is an UPDATE ...
 *     WHERE generation = $n, which PostgreSQL re-checks on the committed
 *     row; capacity checks lock their providers FOR UPDATE in id order);
 *     reads run REPEATABLE READ READ ONLY (one snapshot, never aborted);
 *   - serialization failures (40001) and deadlocks (40P01) roll back and
 *     run the whole unit again, at most PG_UNIT_RETRIES times after 1-5 ms
 *     of jitter, then give the caller's "exhausted" result (STORE_CONFLICT,
 *     409, for units that carry a generation; STORE_BUSY, 503, else);
 *   - a connection lost before COMMIT was sent lost nothing: the unit runs
 *     once more on a reset connection; lost during COMMIT the outcome is
 *     unknown, so STORE_BUSY and no retry (a read's COMMIT changes
 *     nothing: its reads are done, so STORE_OK);
 *   - an unreachable database is STORE_BUSY at once;
 *   - a write waits for a lock at most the pool's lock timeout
 *     (pg_pool_set_lock_timeout), then fails with 55P03: STORE_BUSY;
 *   - a body that has handed rows to its caller (u->emitted, set through
 *     unit_emitted() in store/sql.h) is never run again: a serialization
 *     failure or deadlock then gives the exhausted result at once, a lost
 *     connection STORE_BUSY. */
#ifndef PLACID_STORE_PG_UNIT_H
#define PLACID_STORE_PG_UNIT_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "store/pg_conn.h"
#include "store/store.h"

#define PG_UNIT_RETRIES 3

enum pg_unit_kind {
    PG_UNIT_WRITE, /* BEGIN ISOLATION LEVEL READ COMMITTED */
    PG_UNIT_READ,  /* BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY */
};

/* What a unit's body sees: its connection, inside the transaction. */
struct pg_unit {
    PGconn *conn;
    unsigned attempt;  /* 0 on the first run, 1 on the first retry... */
    char sqlstate[6];  /* of the last failed statement ("" when none) */
    bool retryable;    /* that failure was 40001 or 40P01 */
    bool lost;         /* the connection broke */
    bool emitted;      /* the body handed rows to its caller: never run again */
};

/* The body: runs its statements on u->conn and returns STORE_OK to commit,
 * or any other result to roll back, normally the one pg_unit_check gave. */
typedef enum store_rc pg_unit_fn(struct pg_unit *u, void *arg);

/* Checks the result of a statement the body ran (the caller still
 * PQclear()s it). STORE_OK when it succeeded; else records the SQLSTATE in
 * u and maps it: unique violation (23505) STORE_DUPLICATE, foreign key
 * (23503) STORE_IN_USE, serialization failure or deadlock STORE_CONFLICT
 * (u->retryable), connection lost (class 08, 57P0x, a broken connection)
 * or lock/statement timeout (55P03, 57014) STORE_BUSY, anything else
 * STORE_ERROR, logged with what. */
enum store_rc pg_unit_check(struct pg_unit *u, const PGresult *res, const char *what);

/* Runs fn(u, arg) in a transaction of kind on a connection of pool,
 * commits when it returns STORE_OK, and applies the retry rule above;
 * exhausted is the result when every retry was aborted again. *attempts
 * (may be NULL) receives the number of runs of fn. Returns STORE_OK once
 * committed, else the body's (or the commit's) result. */
enum store_rc pg_unit_run(struct pg_pool *pool, enum pg_unit_kind kind, enum store_rc exhausted,
                          pg_unit_fn *fn, void *arg, unsigned *attempts);

#endif
