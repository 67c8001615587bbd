/* Units of work on PostgreSQL: a transaction per call and the retry rule
 * of store/pg_unit.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "store/pg_unit.h"
#include "store/stats.h"

/* Why these levels: docs/postgresql.md, section 2. Writes wait for each
 * other on row locks instead of aborting; a read sees one snapshot, which
 * the tree cache's (block, version) pairs need, and a read-only
 * REPEATABLE READ transaction is never aborted for serialization. */
static const char *const begin_sql[] = {
    [PG_UNIT_WRITE] = "BEGIN ISOLATION LEVEL READ COMMITTED",
    [PG_UNIT_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
};

/* BEGIN, and for a write the pool's lock_timeout, in one round trip: a
 * write stuck behind a lock (another node's transaction that hangs, a
 * long DDL) fails with 55P03 after it instead of holding its worker
 * forever. SET LOCAL ends with the transaction. Reads take no row locks
 * (and no table lock that a writer's would block), so they need none. */
static void begin_text(struct pg_pool *pool, enum pg_unit_kind kind, char *out, size_t size)
{
    long long ms = kind == PG_UNIT_WRITE ? pg_pool_lock_timeout(pool) : 0;
    if (ms > 0)
        snprintf(out, size, "%s; SET LOCAL lock_timeout = %lld", begin_sql[kind], ms);
    else
        snprintf(out, size, "%s", begin_sql[kind]);
}

static bool state_is(const char *state, const char *want)
{
    return strncmp(state, want, strlen(want)) == 0;
}

/* The connection is gone: class 08 (connection exception), 57P01-57P03
 * (the server is shutting down or terminated this backend), or libpq
 * already knows it is broken. */
static bool connection_lost(PGconn *conn, const char *state)
{
    return PQstatus(conn) == CONNECTION_BAD || state_is(state, "08") ||
           state_is(state, "57P01") || state_is(state, "57P02") || state_is(state, "57P03");
}

enum store_rc pg_unit_check(struct pg_unit *u, const PGresult *res, const char *what)
{
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return STORE_OK;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(u->sqlstate, sizeof(u->sqlstate), "%s", state ? state : "");
    if (state_is(u->sqlstate, "40001") || state_is(u->sqlstate, "40P01")) {
        u->retryable = true;
        return STORE_CONFLICT;
    }
    if (connection_lost(u->conn, u->sqlstate)) {
        u->lost = true;
        return STORE_BUSY;
    }
    if (state_is(u->sqlstate, "23505"))
        return STORE_DUPLICATE;
    if (state_is(u->sqlstate, "23503"))
        return STORE_IN_USE;
    if (state_is(u->sqlstate, "55P03") || state_is(u->sqlstate, "57014")) {
        log_msg(LOG_WARN, "store: %s: %s", what,
                state_is(u->sqlstate, "55P03") ? "waited longer than --db-lock-timeout for a lock"
                                      : "cancelled (statement timeout)");
        return STORE_BUSY;
    }
    char why[512];
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    pg_error_line(primary ? primary : PQerrorMessage(u->conn), why, sizeof(why));
    log_msg(LOG_ERROR, "store: %s: %s (SQLSTATE %s)", what, why, u->sqlstate);
    return STORE_ERROR;
}

/* One run of the body and its commit or rollback. *commit_lost: the
 * connection broke during COMMIT, so whether it committed is unknown;
 * except for a read, whose COMMIT changes nothing: its reads were all
 * done, in one snapshot, so it succeeded. */
static enum store_rc run_once(struct pg_unit *u, enum pg_unit_kind kind, pg_unit_fn *fn,
                              void *arg, bool *commit_lost)
{
    enum store_rc rc = fn(u, arg);
    /* No statement of the body failed (one that did and was ignored makes
     * even a read's outcome unknown). */
    bool body_clean = !u->lost && u->sqlstate[0] == '\0';
    if (rc != STORE_OK) {
        if (!u->lost)
            PQclear(PQexec(u->conn, "ROLLBACK"));
        return rc;
    }
    PGresult *res = PQexec(u->conn, "COMMIT");
    rc = pg_unit_check(u, res, "COMMIT");
    if (rc == STORE_OK && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
        /* PostgreSQL answers COMMIT of a failed transaction with ROLLBACK:
         * the body went on after an error it should have returned. */
        log_msg(LOG_ERROR, "store: a unit of work ignored a failed statement; rolled back");
        rc = STORE_ERROR;
    }
    PQclear(res);
    *commit_lost = rc != STORE_OK && u->lost;
    return *commit_lost && kind == PG_UNIT_READ && body_clean ? STORE_OK : rc;
}

/* 1-5 ms, from the clock's nanoseconds: enough to move racing nodes apart. */
static void backoff(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    struct timespec d = {0, (1 + now.tv_nsec % 5) * 1000000L};
    nanosleep(&d, NULL);
}

/* Counts a retry of u by its cause (the metrics' retries by SQLSTATE). */
static void count_retry(const struct pg_unit *u)
{
    if (u->lost)
        STORE_STAT_ADD(retries_connection, 1);
    else if (strcmp(u->sqlstate, "40P01") == 0)
        STORE_STAT_ADD(retries_deadlock, 1);
    else
        STORE_STAT_ADD(retries_serialization, 1);
}

enum store_rc pg_unit_run(struct pg_pool *pool, enum pg_unit_kind kind, enum store_rc exhausted,
                          pg_unit_fn *fn, void *arg, unsigned *attempts)
{
    enum store_rc rc;
    unsigned runs = 0, retries = 0;
    bool reconnected = false, unreachable = false;
    for (;;) {
        struct pg_unit u = {.attempt = runs};
        bool commit_lost = false;
        if ((rc = pg_pool_acquire(pool, &u.conn)) != STORE_OK) {
            unreachable = rc == STORE_BUSY;
            break;
        }
        char begin[128];
        begin_text(pool, kind, begin, sizeof(begin));
        rc = pg_pool_begin(pool, u.conn, begin);
        bool began = rc == STORE_OK;
        if (began) {
            runs++;
            rc = run_once(&u, kind, fn, arg, &commit_lost);
        }
        pg_pool_release(pool, u.conn);
        /* BEGIN is STORE_BUSY only when it could not reconnect. */
        unreachable = rc == STORE_BUSY && (!began || u.lost);
        if (rc == STORE_OK || commit_lost)
            break;
        if (u.emitted && (u.retryable || u.lost)) {
            /* A second run would hand the caller its rows again. */
            log_msg(LOG_WARN, "store: unit of work %s after it returned rows; not run again",
                    u.lost ? "lost its connection" : "aborted");
            rc = u.lost ? STORE_BUSY : exhausted;
            break;
        }
        if (u.retryable && retries < PG_UNIT_RETRIES) {
            retries++;
            count_retry(&u);
            log_msg(LOG_DEBUG, "store: unit of work aborted (SQLSTATE %s), retry %u", u.sqlstate,
                    retries);
            backoff();
            continue;
        }
        if (u.retryable) {
            log_msg(LOG_WARN, "store: unit of work aborted %u times (SQLSTATE %s), giving up",
                    runs, u.sqlstate);
            rc = exhausted;
            break;
        }
        if (u.lost && !reconnected) {
            reconnected = true; /* nothing was committed: run it once more */
            count_retry(&u);
            continue;
        }
        break;
    }
    if (unreachable)
        STORE_STAT_ADD(unavailable, 1);
    if (attempts)
        *attempts = runs;
    return rc;
}
