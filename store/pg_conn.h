/* PostgreSQL connections for the store (store/ only: the one place besides
 * store/pg_migrate.c that sees libpq). A pool of up to N libpq connections
 * per process, opened as concurrency needs them, each reset after it broke
 * (the server restarted, the network dropped it); while the database cannot
 * be reached a borrow answers STORE_BUSY, which the API turns into 503 with
 * Retry-After, and placid keeps running. Passwords never reach the log:
 * every conninfo it prints goes through pg_conninfo_masked(). */
#ifndef PLACID_STORE_PG_CONN_H
#define PLACID_STORE_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Seconds a connection attempt may take unless the conninfo says otherwise
 * (libpq's connect_timeout; its own default waits forever). */
#define PG_CONNECT_TIMEOUT_DEFAULT "5"

/* While the database is unreachable, a pool tries to connect at most once
 * per this many milliseconds; borrows in between answer STORE_BUSY at
 * once, so that a black-holed server (each attempt waiting the connect
 * timeout) does not hold every worker. */
#define PG_RETRY_INTERVAL_MS 1000

/* Copies conninfo (URI or keyword/value string) into out, which holds outsz
 * bytes, with every password replaced by "***": the one in a URI's user
 * information, a URI's password= parameter, and a keyword string's
 * password value (quoted or not). Cut to fit, always NUL-terminated. */
void pg_conninfo_masked(const char *conninfo, char *out, size_t outsz);

/* Copies the first line of a libpq message (PQerrorMessage,
 * PQresultErrorMessage) into out without its trailing newline: the log and
 * the start-up error are one line each. "unknown error" for NULL or "". */
void pg_error_line(const char *msg, char *out, size_t outsz);

/* Opens one connection (blocking; connect_timeout PG_CONNECT_TIMEOUT_DEFAULT
 * and application_name "placid" unless conninfo sets them). Notices go to
 * the log at debug level, not to stderr. Returns a new connection (the
 * caller PQfinish()es it), or NULL with "database unreachable: <masked
 * conninfo>: <libpq's reason>" in err. */
PGconn *pg_conn_open(const char *conninfo, char *err, size_t errsz);

struct pg_pool;

/* A pool of at most size (>= 1) connections to conninfo (copied). The
 * first is opened here, so that an unreachable database is a start-up
 * error: NULL with a one-line reason in err (as pg_conn_open). The others
 * open when concurrency needs them. Free with pg_pool_close(). */
struct pg_pool *pg_pool_open(const char *conninfo, unsigned size, char *err, size_t errsz);

/* Closes every connection. None may be borrowed. NULL is a no-op. */
void pg_pool_close(struct pg_pool *pool);

/* Borrows a connection into *conn: a free one (reset first if it is known
 * broken), else a new one while fewer than size are open; blocks while all
 * are borrowed. STORE_OK; STORE_BUSY (*conn NULL) when the database is
 * unreachable (logged once per outage, with the conninfo masked), and
 * without trying when the last attempt failed less than the retry interval
 * ago. Give it back with pg_pool_release(). */
enum store_rc pg_pool_acquire(struct pg_pool *pool, PGconn **conn);

/* Gives conn back, rolling back any transaction left open. */
void pg_pool_release(struct pg_pool *pool, PGconn *conn);

/* Starts a transaction on a borrowed conn with begin_sql (e.g. "BEGIN
 * ISOLATION LEVEL READ COMMITTED"). A connection that turns out broken at
 * BEGIN (say the server restarted while it sat idle) lost no work, so it
 * is reset and BEGIN tried once more. STORE_OK; STORE_BUSY when the
 * database is unreachable; STORE_ERROR (logged) for any other failure. */
enum store_rc pg_pool_begin(struct pg_pool *pool, PGconn *conn, const char *begin_sql);

/* How long a statement of a write unit may wait for a lock (PostgreSQL's
 * lock_timeout, set per transaction by store/pg_unit.c) before it fails
 * with 55P03, which the unit reports as STORE_BUSY. 0 (the default): wait
 * as long as it takes. */
void pg_pool_set_lock_timeout(struct pg_pool *pool, long long ms);
long long pg_pool_lock_timeout(struct pg_pool *pool);

/* Sets the retry interval (PG_RETRY_INTERVAL_MS by default; 0: try on
 * every borrow). */
void pg_pool_set_retry_interval(struct pg_pool *pool, long long ms);

/* Connection attempts made so far (opens and resets, the first included). */
unsigned long long pg_pool_attempts(struct pg_pool *pool);

/* Connections open now (borrowed or free), for tests and metrics. */
unsigned pg_pool_open_count(struct pg_pool *pool);

#endif
