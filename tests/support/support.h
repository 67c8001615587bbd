/* Test support: fresh databases and fake requests through api_dispatch. */
#ifndef PLACID_TESTS_SUPPORT_H
#define PLACID_TESTS_SUPPORT_H

#include <check.h>
#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "api/api.h"
#include "backend.h"
#include "core/util.h"
#include "server/req.h"
#include "store/store.h"

struct test_env {
    char dir[64];  /* temporary directory holding the database */
    char path[96]; /* database file (PostgreSQL: the URI of its database) */
    struct store_pool *pool;
    struct api_ctx ctx;
};

/* Creates a migrated database in a new temporary directory with a pool of
 * one connection. Aborts the test on failure. */
void test_env_open(struct test_env *env);
/* Closes the pool and removes the directory. */
void test_env_close(struct test_env *env);

/* A single migrated store on a new temporary file; free with test_store_close(). */
struct store *test_store_open(char path_out[96]);
void test_store_close(struct store *st, const char *path);

/* Sends a fake request through api_dispatch and returns the status.
 * path may carry "?k=v&k2" (no URL decoding). version is "1.N", "latest" or
 * NULL (1.0). body is JSON text or NULL. The token is "admin". rq is
 * initialised here and must be released by the caller with req_release(). */
int test_call(struct test_env *env, struct req *rq, const char *method, const char *path,
              const char *version, const char *body);

/* Same as test_call but releases rq and returns only the status. */
int test_status(struct test_env *env, const char *method, const char *path, const char *version,
                const char *body);

/* The JSON document the client would see (reply or error body): new reference. */
json_t *test_response(const struct req *rq);

/* The value of response header name (compared case-insensitively) that rq
 * carries, or NULL. Borrowed from rq: valid until req_release(). */
const char *test_header(const struct req *rq, const char *name);

/* Sends a request like test_call() and releases it, asserting that the status
 * is status, that the error detail contains want and, when code is not NULL,
 * that the error code is code. */
void test_expect_error(struct test_env *env, const char *method, const char *path,
                       const char *version, const char *body, int status, const char *code,
                       const char *want);

/* What an api test keeps of its last request once the request is released. */
struct test_reply {
    json_t *doc;        /* test_response(): owned, released by the next call or test_reply_free() */
    char detail[1024];  /* the error detail, "" without an error */
    char location[256]; /* the Location header, "" without one */
    time_t modified;    /* the request's Last-Modified mark */
};

/* Sends a request like test_status() and keeps its response in *last,
 * releasing the document last held. Returns the status. */
int test_call_keep(struct test_env *env, struct test_reply *last, const char *method,
                   const char *path, const char *version, const char *body);

/* Releases last->doc and clears *last; safe on a zeroed struct. */
void test_reply_free(struct test_reply *last);

/* An api suite's teardown: test_reply_free(last), then test_env_close(env). */
void test_env_close_reply(struct test_env *env, struct test_reply *last);

/* The code of the first error in an error body doc, "" when it has none.
 * Borrowed from doc. */
const char *test_error_code(const json_t *doc);

/* ---- Fixtures written through the store ---- */

/* An inventory record of class rc with total units and Placement's defaults
 * otherwise (reserved 0, min_unit 1, step_size 1, allocation_ratio 1.0),
 * except max_unit, which is total. */
struct inventory test_inventory(const char *rc, long long total);

/* Parses "RC=total[,RC=total...]" into records made by test_inventory()
 * and returns how many it wrote; more than cap fails the test. */
size_t test_inventories_parse(const char *spec, struct inventory *out, size_t cap);

/* Creates provider uuid named name under parent (a uuid, or NULL for a root)
 * and returns its id. Fails the test when the store refuses. */
long long test_provider(struct store *st, const char *uuid, const char *name, const char *parent);

/* test_provider(), then the inventory of spec (as test_inventories_parse(),
 * at most 8 classes) at generation 0. Returns the provider id. */
long long test_provider_with_inventory(struct store *st, const char *uuid, const char *name,
                                       const char *parent, const char *spec);

/* An api suite's set-up: test_env_open(env), then root provider uuid
 * named name with the inventory of spec (NULL: none), written through the
 * store like test_provider_with_inventory(). */
void test_env_open_provider(struct test_env *env, const char *uuid, const char *name,
                            const char *spec);

/* ---- Raw SQL for set-up the store has no API for ---- */

/* Runs the SQL made from fmt (at most 4095 bytes) on st's own connection
 * (PostgreSQL: on a connection of the test's own to st's database, in
 * autocommit). Fails the test (with the database's message) on any error. */
void test_sql(struct store *st, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Runs the query made from fmt on st's database and returns the first
 * column of its first row as a number (0 without rows). Fails the test on
 * any error. */
long long test_sql_value(struct store *st, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Runs sql on a second connection to the database file at path (PostgreSQL:
 * the URI of the test's database). Fails the test (with the database's
 * message) on any error. */
void test_sql_file(const char *path, const char *sql);

/* Runs the suite in Check's default (fork) mode, frees it and returns the
 * process exit status: EXIT_SUCCESS when every test passed. On PostgreSQL
 * (test_on_pg) it first starts the throwaway server and migrates the
 * template database (exit PG_TEST_SKIP, 77, when PostgreSQL cannot be had
 * outside CI), and stops the server after. */
int test_run_suite(Suite *s);

#endif
