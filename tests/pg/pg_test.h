/* A throwaway PostgreSQL for the Check tests of the PostgreSQL backend
 * (tests/store/test_pg_*.c), started once per test executable through
 * tests/pg/pg, with a fresh database per test. */
#ifndef PLACID_TESTS_PG_TEST_H
#define PLACID_TESTS_PG_TEST_H

#include <stddef.h>

/* Exit status ctest counts as skipped (SKIP_RETURN_CODE). */
#define PG_TEST_SKIP 77

/* Starts the server (call in main(), before srunner_run_all: the forked
 * tests inherit it). 0 when it runs; PG_TEST_SKIP, after printing why, when
 * PostgreSQL 15 cannot be installed here and CI is not "true"; else 1
 * (printed). Stop it with pg_test_down(). */
int pg_test_up(void);

/* Runs suite s (tests/support's test_run_suite), then pg_test_down();
 * returns main()'s exit status. */
struct Suite;
int pg_test_run_suite(struct Suite *s);

/* Stops the server by its PID and removes its directory. */
void pg_test_down(void);

/* The server's directory (holds pgpass, a passfile line for the role). */
const char *pg_test_dir(void);

/* The URI of the database "placid" as role placid (with its password). */
const char *pg_test_uri(void);

/* Creates a new empty database owned by role placid and writes its URI
 * into out (size bytes). Fails the test on error. */
void pg_test_new_db(char *out, size_t size);

/* tests/pg/pg CMD DIR for "stop", "start" or "restart". 0 on success. */
int pg_test_ctl(const char *cmd);

/* Runs sql on uri (a new connection) and returns the first column of its
 * first row as a number (0 when it returns no rows); fails the test when
 * the statement fails. */
long long pg_test_value(const char *uri, const char *sql);

/* A fresh migrated database (its URI into uri, size bytes), a pool of
 * `connections` on it, a backend and one store handle, for the suites that
 * drive the PostgreSQL backend directly. Fails the test on error. Free
 * with pg_test_store_close(). */
struct pg_pool;
struct pg_backend;
struct store;
void pg_test_store_open(char *uri, size_t size, unsigned connections, struct pg_pool **pool,
                        struct pg_backend **be, struct store **st);
void pg_test_store_close(struct pg_pool *pool, struct pg_backend *be, struct store *st);

#endif
