/* store/sql.h over PostgreSQL (store/ only). A PostgreSQL "struct store"
 * is a handle a request holds, as a pool connection is on SQLite; it owns
 * no connection of its own: each unit of work borrows one from the
 * backend's pg_pool for its transaction (store/pg_unit.c), and statements
 * run on that connection. Every statement id is prepared on a connection,
 * as "s<id>" from pg_sql_text(), the first time a unit gets it after it
 * opened or was reset (a new server backend), so sql_get() never fails. */
#ifndef PLACID_STORE_PG_CURSOR_H
#define PLACID_STORE_PG_CURSOR_H

#include <libpq-fe.h>
#include <stddef.h>

#include "store/pg_conn.h"
#include "store/store.h"

/* The state shared by every store handle on one database. */
struct pg_backend;

/* A backend over pool (borrowed: the caller closes it after the backend).
 * NULL only when out of memory. Free with pg_backend_close(). */
struct pg_backend *pg_backend_new(struct pg_pool *pool);
void pg_backend_close(struct pg_backend *be);

/* Sets the byte budget of be's tree cache (--tree-cache-mb; 0: keeps
 * none). Blocks already listed stay until replaced. */
void pg_backend_set_tree_cache(struct pg_backend *be, size_t bytes);

/* A store handle whose units run on be's connections. Free with
 * pg_store_free(); NULL only when out of memory. */
struct store *pg_store_new(struct pg_backend *be);
void pg_store_free(struct store *st);

/* The connection of the unit running on st (inside store_unit's fn), for
 * the backend's own statements outside the registry; NULL outside one. */
PGconn *pg_store_conn(struct store *st);

/* Prepares every statement id on conn as "s<id>". 0, or -1 with a one-line
 * reason naming the statement in err. */
int pg_prepare_all(PGconn *conn, char *err, size_t errsz);

/* How many times statements were prepared on a (new or reset) connection:
 * for tests. */
unsigned pg_backend_prepares(struct pg_backend *be);

/* How many times units ran again after a serialization failure, a
 * deadlock or a lost connection (runs beyond each unit's first): for tests
 * and metrics. */
unsigned long long pg_backend_reruns(struct pg_backend *be);

#endif
