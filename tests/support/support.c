#include "support.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "server/microversion.h"
#include "store/internal.h"

void test_env_open(struct test_env *env)
{
    char err[256];
    memset(env, 0, sizeof(*env));
    strcpy(env->dir, "/tmp/placid-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(env->dir));
    snprintf(env->path, sizeof(env->path), "%s/test.db", env->dir);
    if (test_on_pg()) {
        env->pool = pgb_pool_open(env->path, sizeof(env->path), 1);
        env->ctx.pool = env->pool;
        env->ctx.admin_token = "admin";
        return;
    }
    env->pool = store_pool_open(env->path, 1, err, sizeof(err));
    ck_assert_msg(env->pool != NULL, "store_pool_open: %s", err);
    env->ctx.pool = env->pool;
    env->ctx.admin_token = "admin";
}

static void remove_db_files(const char *path)
{
    char p[128];
    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

void test_env_close(struct test_env *env)
{
    if (test_on_pg()) {
        pgb_pool_close(env->pool, env->path);
        rmdir(env->dir);
        return;
    }
    store_pool_close(env->pool);
    remove_db_files(env->path);
    rmdir(env->dir);
}

struct store *test_store_open(char path_out[96])
{
    char err[256], dir[64];
    if (test_on_pg())
        return pgb_store_open(path_out, 96);
    strcpy(dir, "/tmp/placid-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path_out, 96, "%s/test.db", dir);
    struct store *st = store_open(path_out, err, sizeof(err));
    ck_assert_msg(st != NULL, "store_open: %s", err);
    /* Fixtures write row by row: an fsync each (synchronous=FULL) would
     * make set-up, not the code under test, the cost of a test. */
    test_sql(st, "PRAGMA synchronous=OFF");
    return st;
}

void test_store_close(struct store *st, const char *path)
{
    char dir[96];
    if (test_on_pg()) {
        pgb_store_close(st, path);
        return;
    }
    store_close(st);
    remove_db_files(path);
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        rmdir(dir);
    }
}

static void add_query(struct req *rq, const char *qs)
{
    char *copy = arena_strdup(&rq->arena, qs);
    size_t n = 1;
    for (const char *p = qs; *p; p++)
        n += *p == '&';
    rq->query = arena_alloc(&rq->arena, n * sizeof(*rq->query));
    for (char *item = strtok(copy, "&"); item; item = strtok(NULL, "&")) {
        char *eq = strchr(item, '=');
        if (eq)
            *eq = '\0';
        rq->query[rq->n_query].key = item;
        rq->query[rq->n_query].value = eq ? eq + 1 : NULL;
        rq->n_query++;
    }
}

int test_call(struct test_env *env, struct req *rq, const char *method, const char *path,
              const char *version, const char *body)
{
    char err[128];
    req_init(rq);
    rq->method = method;
    const char *q = strchr(path, '?');
    rq->path = q ? arena_strndup(&rq->arena, path, (size_t)(q - path)) : path;
    if (q)
        add_query(rq, q + 1);
    if (version) {
        char header[64];
        snprintf(header, sizeof(header), "placement %s", version);
        ck_assert_int_eq(mv_parse(header, &rq->mv, err, sizeof(err)), MV_OK);
    }
    rq->token = "admin";
    rq->accept = "application/json";
    if (body) {
        rq->raw_body = body;
        rq->body_len = strlen(body);
        rq->content_length = (long long)rq->body_len;
        rq->content_type = "application/json";
    }
    api_dispatch(rq, &env->ctx);
    return rq->err.status ? rq->err.status : rq->status;
}

int test_status(struct test_env *env, const char *method, const char *path, const char *version,
                const char *body)
{
    struct req rq;
    int status = test_call(env, &rq, method, path, version, body);
    req_release(&rq);
    return status;
}

json_t *test_response(const struct req *rq)
{
    if (rq->err.status)
        return req_error_to_json(rq, rq->method);
    if (rq->reply_text)
        return json_loadb(rq->reply_text, rq->reply_text_len, 0, NULL);
    return rq->reply ? json_incref(rq->reply) : json_null();
}

const char *test_header(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_headers; i++)
        if (strcasecmp(rq->headers[i].key, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

void test_expect_error(struct test_env *env, const char *method, const char *path,
                       const char *version, const char *body, int status, const char *code,
                       const char *want)
{
    struct req rq;
    ck_assert_int_eq(test_call(env, &rq, method, path, version, body), status);
    if (code)
        ck_assert_str_eq(rq.err.code, code);
    ck_assert_msg(strstr(rq.err.detail, want), "detail \"%s\" lacks \"%s\"", rq.err.detail, want);
    req_release(&rq);
}

void test_env_close_reply(struct test_env *env, struct test_reply *last)
{
    test_reply_free(last);
    test_env_close(env);
}

int test_call_keep(struct test_env *env, struct test_reply *last, const char *method,
                   const char *path, const char *version, const char *body)
{
    struct req rq;
    int status = test_call(env, &rq, method, path, version, body);
    const char *location = test_header(&rq, "Location");
    json_decref(last->doc);
    last->doc = test_response(&rq);
    snprintf(last->detail, sizeof(last->detail), "%s", rq.err.detail);
    snprintf(last->location, sizeof(last->location), "%s", location ? location : "");
    last->modified = rq.last_modified;
    req_release(&rq);
    return status;
}

void test_reply_free(struct test_reply *last)
{
    json_decref(last->doc);
    memset(last, 0, sizeof(*last));
}

const char *test_error_code(const json_t *doc)
{
    const char *code = json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "errors"), 0), "code"));
    return code ? code : "";
}

struct inventory test_inventory(const char *rc, long long total)
{
    struct inventory inv = {
        .total = total, .min_unit = 1, .max_unit = total, .step_size = 1, .allocation_ratio = 1.0};
    snprintf(inv.resource_class, sizeof(inv.resource_class), "%s", rc);
    return inv;
}

size_t test_inventories_parse(const char *spec, struct inventory *out, size_t cap)
{
    char copy[256];
    size_t n = 0;
    snprintf(copy, sizeof(copy), "%s", spec);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        char *eq = strchr(tok, '=');
        ck_assert_msg(eq != NULL, "inventory spec \"%s\" lacks '='", spec);
        ck_assert_msg(n < cap, "inventory spec \"%s\" has more than %zu classes", spec, cap);
        *eq = '\0';
        out[n++] = test_inventory(tok, atoll(eq + 1));
    }
    return n;
}

long long test_provider(struct store *st, const char *uuid, const char *name, const char *parent)
{
    struct provider p;
    enum provider_problem why;
    ck_assert_int_eq(store_provider_create(st, uuid, name, parent, &p, &why), STORE_OK);
    return p.id;
}

long long test_provider_with_inventory(struct store *st, const char *uuid, const char *name,
                                       const char *parent, const char *spec)
{
    struct inventory set[8];
    struct acct_failure fail;
    long long id = test_provider(st, uuid, name, parent);
    size_t n = test_inventories_parse(spec, set, 8);
    ck_assert_int_eq(store_inventories_replace(st, id, 0, set, n, NULL, &fail), STORE_OK);
    return id;
}

void test_env_open_provider(struct test_env *env, const char *uuid, const char *name,
                            const char *spec)
{
    test_env_open(env);
    struct store *st = store_acquire(env->pool);
    if (spec)
        test_provider_with_inventory(st, uuid, name, NULL, spec);
    else
        test_provider(st, uuid, name, NULL);
    store_release(env->pool, st);
}

void test_sql(struct store *st, const char *fmt, ...)
{
    char sql[4096];
    char *err = NULL;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    ck_assert_msg(len >= 0 && (size_t)len < sizeof(sql), "SQL too long: %.80s...", sql);
    if (st->ops) {
        pgb_exec(pgb_current(), sql);
        return;
    }
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &err);
    ck_assert_msg(rc == SQLITE_OK, "%s: %s", sql, err ? err : "?");
    sqlite3_free(err);
}

long long test_sql_value(struct store *st, const char *fmt, ...)
{
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    ck_assert_msg(len >= 0 && (size_t)len < sizeof(sql), "SQL too long: %.80s...", sql);
    if (st->ops)
        return pgb_value(pgb_current(), sql);
    sqlite3_stmt *s;
    ck_assert_msg(sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(st->db));
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : 0;
    sqlite3_finalize(s);
    return v;
}

void test_sql_file(const char *path, const char *sql)
{
    sqlite3 *db;
    if (test_on_pg()) {
        pgb_exec(path, sql);
        return;
    }
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_msg(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s: %s", sql,
                  sqlite3_errmsg(db));
    sqlite3_close(db);
}

int test_run_suite(Suite *s)
{
    /* The test_pg_* suites start their server in main(); the @pg entries of
     * the shared suites have theirs started here. */
    bool pg = test_on_pg();
    SRunner *sr = srunner_create(s);
    if (test_backend_check() != 0) {
        srunner_free(sr);
        return EXIT_FAILURE;
    }
    if (pg) {
        int up = pgb_suite_up();
        if (up != 0) {
            srunner_free(sr);
            return up;
        }
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (pg)
        pgb_suite_down();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
