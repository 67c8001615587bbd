/* Test support: fresh databases and fake requests through api_dispatch. */
#ifndef PLACID_TESTS_SUPPORT_H
#define PLACID_TESTS_SUPPORT_H

#include <check.h>
#include <jansson.h>

#include "api/api.h"
#include "server/req.h"
#include "store/store.h"

struct test_env {
    char dir[64];  /* temporary directory holding the database */
    char path[96]; /* database file */
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

#endif
