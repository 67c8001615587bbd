/* GET|HEAD /healthcheck: oslo.middleware's healthcheck over the database. */
#include <check.h>
#include <sqlite3.h>
#include <string.h>

#include "support.h"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
}

static void teardown(void)
{
    test_env_close(&env);
}

/* A request as a client sends it: no version header, token may be NULL. */
static int call(struct req *rq, const char *method, const char *token, const char *accept)
{
    req_init(rq);
    rq->method = method;
    rq->path = "/healthcheck";
    rq->token = token;
    rq->accept = accept;
    api_dispatch(rq, &env.ctx);
    return rq->err.status ? rq->err.status : rq->status;
}

static const char *text_of(const struct req *rq)
{
    ck_assert_ptr_nonnull(rq->reply_text);
    return rq->reply_text;
}

START_TEST(plain_ok_without_token_for_any_accept)
{
    static const char *const accepts[] = {NULL, "*/*", "text/plain", "text/html"};
    for (size_t i = 0; i < 4; i++) {
        struct req rq;
        ck_assert_int_eq(call(&rq, "GET", NULL, accepts[i]), 200);
        ck_assert_str_eq(text_of(&rq), "OK");
        ck_assert_uint_eq(rq.reply_text_len, 2);
        ck_assert_str_eq(rq.reply_type, "text/plain; charset=UTF-8");
        req_release(&rq);
    }
}
END_TEST

START_TEST(head_is_204)
{
    struct req rq;
    ck_assert_int_eq(call(&rq, "HEAD", NULL, NULL), 204);
    ck_assert_ptr_null(rq.reply_text);
    req_release(&rq);
}
END_TEST

START_TEST(json_form_is_oslo_simple_without_admin)
{
    struct req rq;
    ck_assert_int_eq(call(&rq, "GET", "someone", "application/json"), 200);
    json_t *doc = test_response(&rq);
    json_t *want = json_pack("{s:b,s:[s]}", "detailed", 0, "reasons", "OK");
    ck_assert_int_eq(json_equal(doc, want), 1);
    json_decref(want);
    json_decref(doc);
    req_release(&rq);
}
END_TEST

START_TEST(admin_gets_details)
{
    struct req rq;
    struct store *st = store_acquire(env.pool);
    test_provider(st, "c0000000-0000-0000-0000-000000000001", "rp1", NULL);
    store_release(env.pool, st);
    ck_assert_int_eq(call(&rq, "GET", "admin", "application/json"), 200);
    json_t *doc = test_response(&rq);
    int detailed = 0, schema = 0;
    json_int_t providers = -1;
    const char *reason = NULL, *cls = NULL;
    ck_assert_int_eq(json_unpack(doc, "{s:b,s:[{s:s,s:s}],s:{s:i,s:I}}", "detailed", &detailed,
                                 "reasons", "reason", &reason, "class", &cls, "database",
                                 "schema_version", &schema, "resource_providers", &providers),
                     0);
    ck_assert_int_eq(detailed, 1);
    ck_assert_str_eq(reason, "OK");
    ck_assert_str_eq(cls, "DatabaseHealthcheck");
    ck_assert_int_eq(schema, store_schema_version());
    ck_assert_int_eq(providers, 1);
    json_decref(doc);
    req_release(&rq);
}
END_TEST

START_TEST(other_methods_are_405)
{
    struct req rq;
    ck_assert_int_eq(call(&rq, "POST", NULL, NULL), 405);
    req_release(&rq);
}
END_TEST

/* Another process holds the write lock past the busy timeout: 503 with the
 * reason. */
START_TEST(locked_database_is_503)
{
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(env.path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct req rq;
    ck_assert_int_eq(call(&rq, "GET", NULL, NULL), 503);
    ck_assert_ptr_nonnull(strstr(text_of(&rq), "database unavailable"));
    req_release(&rq);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    ck_assert_int_eq(call(&rq, "GET", NULL, NULL), 200);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("healthcheck");
    TCase *tc = tcase_create("healthcheck");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, plain_ok_without_token_for_any_accept);
    tcase_add_test(tc, head_is_204);
    tcase_add_test(tc, json_form_is_oslo_simple_without_admin);
    tcase_add_test(tc, admin_gets_details);
    tcase_add_test(tc, other_methods_are_405);
    tcase_add_test_sqlite_only(tc, locked_database_is_503,
                               "holds SQLite's write lock from a second connection "
                               "(PostgreSQL outages: store/test_pg_conn, e2e pg_backend)");
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
