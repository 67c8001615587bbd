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
static struct test_reply last;

static int call(const char *method, const char *path, const char *version, const char *body)
{
    return test_call_keep(&env, &last, method, path, version, body);
}

static void setup(void)
{
    test_env_open(&env);
    struct store *st = store_acquire(env.pool);
    test_provider_with_inventory(st, RP, "cn1", NULL, "VCPU=8,DISK_GB=100");
    test_provider(st, CHILD, "numa0", RP);
    store_release(env.pool, st);
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28",
                          "{\"allocations\": {\"" RP "\": {\"resources\": {\"VCPU\": 4,"
                          " \"DISK_GB\": 10}}}, \"project_id\": \"p\", \"user_id\": \"u\","
                          " \"consumer_generation\": null}"),
                     204);
}

static void teardown(void)
{
    test_env_close_reply(&env, &last);
}

static long long int_at(const char *a, const char *b)
{
    const json_t *v = json_object_get(last.doc, a);
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

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(last.detail, text), "detail: %s", last.detail)

START_TEST(reshape_moves_everything_at_once)
{
    ck_assert_int_eq(call("POST", "/reshaper", "1.30", move_body(2, "VCPU", 1)), 204);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP "/usages", NULL, NULL), 200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "usages")), 1);
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
    ck_assert_str_eq(test_error_code(last.doc), "placement.inventory.inuse");
    ck_assert_int_eq(call("POST", "/reshaper", "1.30",
                          "{\"inventories\": {\"39bafc00-3fff-444d-b87a-2ead3f866e05\":"
                          " {\"resource_provider_generation\": 0, \"inventories\": {}}},"
                          " \"allocations\": {}}"),
                     400);
    ck_assert_str_eq(test_error_code(last.doc), "placement.resource_provider.not_found");
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
    return test_run_suite(suite());
}
