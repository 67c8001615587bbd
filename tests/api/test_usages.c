/* api/usages.c through api_dispatch: provider usages, project usages,
 * query validation and the 1.38 consumer type grouping. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define RP1 "c0000000-0000-0000-0000-000000000001"
#define PROJ "f0000000-0000-0000-0000-00000000000a"

static struct test_env env;
static struct test_reply last;

static void setup(void)
{
    test_env_open_provider(&env, RP1, "cn1", "VCPU=8,DISK_GB=100");
}

static void teardown(void)
{
    test_env_close_reply(&env, &last);
}

static int call(const char *method, const char *path, const char *version, const char *body)
{
    return test_call_keep(&env, &last, method, path, version, body);
}

static long long usage(const char *group, const char *key)
{
    const json_t *u = json_object_get(last.doc, "usages");
    if (group)
        u = json_object_get(u, group);
    const json_t *v = json_object_get(u, key);
    ck_assert_msg(json_is_integer(v), "no usage %s/%s", group ? group : "", key);
    return (long long)json_integer_value(v);
}

static void put(const char *consumer, const char *user, const char *type, const char *resources)
{
    char path[128], body[1024];
    snprintf(path, sizeof(path), "/allocations/%s", consumer);
    snprintf(body, sizeof(body),
             "{\"allocations\": {\"" RP1 "\": {\"resources\": {%s}}}, \"project_id\": \"" PROJ
             "\", \"user_id\": \"%s\", \"consumer_generation\": null%s%s%s}",
             resources, user, type ? ", \"consumer_type\": \"" : "", type ? type : "",
             type ? "\"" : "");
    ck_assert_int_eq(call("PUT", path, type ? "1.38" : "1.28", body), 204);
}

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(last.detail, text), "detail: %s", last.detail)

START_TEST(provider_usages_list_every_inventory_class)
{
    ck_assert_int_eq(call("GET", "/resource_providers/" RP1 "/usages", NULL, NULL), 200);
    ck_assert_int_eq(usage(NULL, "VCPU"), 0);
    ck_assert_int_eq(usage(NULL, "DISK_GB"), 0);
    ck_assert_int_eq(last.modified, 0);
    put("e0000000-0000-0000-0000-000000000001", "u1", NULL, "\"VCPU\": 2");
    put("e0000000-0000-0000-0000-000000000002", "u1", NULL, "\"VCPU\": 3");
    ck_assert_int_eq(call("GET", "/resource_providers/" RP1 "/usages", "1.15", NULL), 200);
    ck_assert_int_eq(usage(NULL, "VCPU"), 5);
    ck_assert_int_eq(json_integer_value(json_object_get(last.doc, "resource_provider_generation")),
                     3);
    ck_assert_int_ne(last.modified, 0);
    ck_assert_int_eq(
        call("GET", "/resource_providers/fae14fa3-4b43-498c-a33c-4a1d00edb577/usages", NULL, NULL),
        404);
    ASSERT_DETAIL("No resource provider with uuid fae14fa3-4b43-498c-a33c-4a1d00edb577 found: ");
}
END_TEST

START_TEST(project_usages_validate_the_query)
{
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.8", NULL), 404);
    ck_assert_int_eq(call("GET", "/usages", "1.9", NULL), 400);
    ASSERT_DETAIL("Invalid query string parameters: 'project_id' is a required property");
    ck_assert_int_eq(call("GET", "/usages?project_id=", "1.9", NULL), 400);
    ASSERT_DETAIL("Failed validating 'minLength'");
    ck_assert_int_eq(call("GET", "/usages?project_id=x&dummy=1", "1.9", NULL), 400);
    ASSERT_DETAIL("Additional properties are not allowed ('dummy' was unexpected)");
    ck_assert_int_eq(call("GET", "/usages?project_id=x&consumer_type=all", "1.37", NULL), 400);
    ck_assert_int_eq(call("GET", "/usages?project_id=x&consumer_type=bad", "1.38", NULL), 400);
    ASSERT_DETAIL("'bad' does not match '^[A-Z0-9_]+$|^all|^unknown$'");
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.9", NULL), 200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "usages")), 0);
}
END_TEST

START_TEST(project_usages_by_user_and_consumer_type)
{
    put("e0000000-0000-0000-0000-000000000001", "u1", "INSTANCE", "\"VCPU\": 2, \"DISK_GB\": 10");
    put("e0000000-0000-0000-0000-000000000002", "u1", "PONY", "\"DISK_GB\": 10");
    put("e0000000-0000-0000-0000-000000000003", "u2", NULL, "\"VCPU\": 1, \"DISK_GB\": 1");
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.37", NULL), 200);
    ck_assert_int_eq(usage(NULL, "VCPU"), 3);
    ck_assert_int_eq(usage(NULL, "DISK_GB"), 21);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ "&user_id=u2", "1.9", NULL), 200);
    ck_assert_int_eq(usage(NULL, "DISK_GB"), 1);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.38", NULL), 200);
    ck_assert_int_eq(usage("INSTANCE", "consumer_count"), 1);
    ck_assert_int_eq(usage("INSTANCE", "VCPU"), 2);
    ck_assert_int_eq(usage("PONY", "DISK_GB"), 10);
    ck_assert_int_eq(usage("unknown", "consumer_count"), 1);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ "&consumer_type=all", "1.38", NULL),
                     200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "usages")), 1);
    ck_assert_int_eq(usage("all", "consumer_count"), 3);
    ck_assert_int_eq(usage("all", "DISK_GB"), 21);
    ck_assert_int_eq(
        call("GET", "/usages?project_id=" PROJ "&consumer_type=unknown", "1.38", NULL), 200);
    ck_assert_int_eq(usage("unknown", "VCPU"), 1);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ "&consumer_type=PONY", "1.38", NULL),
                     200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "usages")), 1);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ "&consumer_type=ALL", "1.38", NULL),
                     200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "usages")), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api_usages");
    TCase *tc = tcase_create("usages");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, provider_usages_list_every_inventory_class);
    tcase_add_test(tc, project_usages_validate_the_query);
    tcase_add_test(tc, project_usages_by_user_and_consumer_type);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
