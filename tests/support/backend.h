/* The backend a test executable runs its stores on. ctest registers every
 * backend-neutral store and api suite twice (tests/CMakeLists.txt): as
 * area/name on SQLite and as area/name@pg with PLACID_TEST_BACKEND=postgresql
 * in its environment, so one source and one executable serve both. On
 * PostgreSQL, test_run_suite() starts a throwaway server (tests/pg/pg_test.c),
 * migrates one template database, and every test store or test_env is a
 * CREATE DATABASE ... TEMPLATE copy of it, dropped when the test closes it.
 * Included by support.h. */
#ifndef PLACID_TESTS_BACKEND_H
#define PLACID_TESTS_BACKEND_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>

struct store;
struct store_pool;

/* True when PLACID_TEST_BACKEND is "postgresql" (the @pg ctest entries). */
bool test_on_pg(void);

/* 0 when PLACID_TEST_BACKEND is unset, "sqlite" or "postgresql"; else 1,
 * after printing a one-line error (a misspelt backend must not quietly run
 * the suite on SQLite). test_run_suite() checks it first. */
int test_backend_check(void);

/* Adds test tf to tc on SQLite. On PostgreSQL the test is not added and a
 * line "skipped on PostgreSQL: NAME: WHY" is printed: for the few tests of a
 * shared suite that check an SQLite mechanism. */
#define tcase_add_test_sqlite_only(tc, tf, why) test_add_sqlite_only(tc, tf, #tf, why)
void test_add_sqlite_only(TCase *tc, const TTest *tf, const char *name, const char *why);

/* True when st, a store handle, is inside a transaction right now (SQLite:
 * its connection is out of autocommit; PostgreSQL: a unit of work runs on
 * it and its connection is in a transaction block). */
bool test_in_transaction(struct store *st);

/* Another store handle on the database of the test's store at path, for
 * tests that race two handles (SQLite: a new connection; PostgreSQL: a
 * handle of the same pool). Free with test_store_disconnect(). */
struct store *test_store_connect(const char *path);
void test_store_disconnect(struct store *st, const char *path);

/* ---- The PostgreSQL side, used by support.c (not by suites) ---- */

/* Before the suite runs on PostgreSQL: starts the server and migrates the
 * template. 0, PG_TEST_SKIP (77) or 1 as pg_test_up(). */
int pgb_suite_up(void);
void pgb_suite_down(void);

/* A pool of n connections on a new database copied from the template; its
 * URI is written into path (size bytes). Fails the test on error. */
struct store_pool *pgb_pool_open(char *path, size_t size, unsigned n);
/* Closes pool and drops its database. */
void pgb_pool_close(struct store_pool *pool, const char *path);

/* test_store_open() and test_store_close() on PostgreSQL. */
struct store *pgb_store_open(char *path, size_t size);
void pgb_store_close(struct store *st, const char *path);

/* Runs sql (one or more statements) on the database at uri; fails the test
 * with PostgreSQL's message on any error. */
void pgb_exec(const char *uri, const char *sql);
/* Runs sql on the database of the test's store and returns the first column
 * of its first row as a number (0 without rows). */
long long pgb_value(const char *uri, const char *sql);
/* The URI of the database of the open test store or test_env (one per test). */
const char *pgb_current(void);

#endif
