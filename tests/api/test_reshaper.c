/* api/reshaper.c through api_dispatch: an atomic move of inventory and
 * allocations to a child provider, and each way it is refused. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define RP "c0000000-0000-0000-0000-000000000001"
#define CHILD "c0000000-0000-0000-0000-000000000002"
#define C1 "e0000000-0000-0000-0000-000000000001"

static struct test_env env;
static json_t *last;
static char detail[1024];

static int call(const char *method, const char *path, const char *version, const char *body)
{
    struct req rq;
    int status = test_call(&env, &rq, method, path, version, body);
    json_decref(last);
    last = test_response(&rq);
    snprintf(detail, sizeof(detail), "%s", rq.err.detail);
    req_release(&rq);
    return status;
}

static void setup(void)
{
    struct provider p;
    enum provider_problem why;
    struct acct_failure fail;
    test_env_open(&env);
    last = NULL;
    struct store *st = store_acquire(env.pool);
    ck_assert_int_eq(store_provider_create(st, RP, "cn1", NULL, &p, &why), STORE_OK);
    struct inventory inv[2] = {
        {.resource_class = "VCPU", .total = 8, .min_unit = 1, .max_unit = 8, .step_size = 1,
         .allocation_ratio = 1.0},
        {.resource_class = "DISK_GB", .total = 100, .min_unit = 1, .max_unit = 100,
         .step_size = 1, .allocation_ratio = 1.0}};
    ck_assert_int_eq(store_inventories_replace(st, p.id, 0, inv, 2, NULL, &fail), STORE_OK);
    ck_assert_int_eq(store_provider_create(st, CHILD, "numa0", RP, &p, &why), STORE_OK);
    store_release(env.pool, st);
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28",
                          "{\"allocations\": {\"" RP "\": {\"resources\": {\"VCPU\": 4,"
                          " \"DISK_GB\": 10}}}, \"project_id\": \"p\", \"user_id\": \"u\","
                          " \"consumer_generation\": null}"),
                     204);
}

static void teardown(void)
{
    json_decref(last);
    test_env_close(&env);
}

static long long int_at(const char *a, const char *b)
{
    const json_t *v = json_object_get(last, a);
    if (b)
        v = json_object_get(v, b);
    ck_assert(json_is_integer(v));
    return (long long)json_integer_value(v);
}

/* Moves VCPU and the consumer's VCPU allocation to the child. */
static char *move_body(long long rp_gen, const char *vcpu_class, long long consumer_gen)
{
    static char buf[2048];
    snprintf(buf, sizeof(buf),
             "{\"inventories\": {"
             "\"" RP "\": {\"resource_provider_generation\": %lld,"
             " \"inventories\": {\"DISK_GB\": {\"total\": 100}}},"
             "\"" CHILD "\": {\"resource_provider_generation\": 0,"
             " \"inventories\": {\"%s\": {\"total\": 8}}}},"
             " \"allocations\": {\"" C1 "\": {\"allocations\": {"
             "\"" RP "\": {\"resources\": {\"DISK_GB\": 10}},"
             "\"" CHILD "\": {\"resources\": {\"VCPU\": 4}}},"
             " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": %lld}}}",
             rp_gen, vcpu_class, consumer_gen);
    return buf;
}

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(detail, text), "detail: %s", detail)

START_TEST(reshape_moves_everything_at_once)
{
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", move_body(2, "VCPU", 1)), 204);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP "/usages", NULL, NULL), 200);
    ck_assert_int_eq(json_object_size(json_object_get(last, "usages")), 1);
    ck_assert_int_eq(int_at("usages", "DISK_GB"), 10);
    ck_assert_int_eq(int_at("resource_provider_generation", NULL), 5);
    ck_assert_int_eq(call("GET", "/resource_providers/" CHILD "/usages", NULL, NULL), 200);
    ck_assert_int_eq(int_at("usages", "VCPU"), 4);
    ck_assert_int_eq(int_at("resource_provider_generation", NULL), 3);
    ck_assert_int_eq(call("GET", "/allocations/" C1, "1.28", NULL), 200);
    ck_assert_int_eq(int_at("consumer_generation", NULL), 2);
}
END_TEST

START_TEST(refusals_leave_everything_as_it_was)
{
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", move_body(1, "VCPU", 1)), 409);
    ASSERT_DETAIL("resource provider generation conflict for provider " RP ": actual: 2, given: 1");
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", move_body(2, "VCPU", 7)), 409);
    ASSERT_DETAIL("consumer generation conflict - expected 1 but got 7");
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", move_body(2, "DISK_OF_STEEL", 1)), 400);
    ASSERT_DETAIL("malformed reshaper data: No such resource class DISK_OF_STEEL.");
    /* The allocations stay on the parent, so VCPU cannot leave it. */
    ck_assert_int_eq(call("POST", "/reshaper", "1.30",
                          "{\"inventories\": {\"" RP "\": {\"resource_provider_generation\": 2,"
                          " \"inventories\": {\"DISK_GB\": {\"total\": 100}}}},"
                          " \"allocations\": {}}"),
                     409);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(last, "errors"), 0), "code")),
                     "placement.inventory.inuse");
    ck_assert_int_eq(call("POST", "/reshaper", "1.30",
                          "{\"inventories\": {\"39bafc00-3fff-444d-b87a-2ead3f866e05\":"
                          " {\"resource_provider_generation\": 0, \"inventories\": {}}},"
                          " \"allocations\": {}}"),
                     400);
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_array_get(json_object_get(last, "errors"), 0), "code")),
                     "placement.resource_provider.not_found");
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", "{\"inventories\": {}}"), 400);
    ASSERT_DETAIL("JSON does not validate");
    ck_assert_int_eq(call("POST", "/reshaper", "1.29", move_body(2, "VCPU", 1)), 404);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP "/usages", NULL, NULL), 200);
    ck_assert_int_eq(int_at("usages", "VCPU"), 4);
    ck_assert_int_eq(int_at("resource_provider_generation", NULL), 2);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api_reshaper");
    TCase *tc = tcase_create("reshaper");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, reshape_moves_everything_at_once);
    tcase_add_test(tc, refusals_leave_everything_as_it_was);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
