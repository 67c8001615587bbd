/* api/allocations.c through api_dispatch: every body format, consumer
 * generations and types, capacity messages, POST atomicity, reads. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define RP1 "c0000000-0000-0000-0000-000000000001"
#define RP2 "c0000000-0000-0000-0000-000000000002"
#define C1 "e0000000-0000-0000-0000-000000000001"
#define C2 "e0000000-0000-0000-0000-000000000002"
#define C3 "e0000000-0000-0000-0000-000000000003"
#define PROJ "f0000000-0000-0000-0000-00000000000a"
#define USER "f0000000-0000-0000-0000-00000000000b"

static struct test_env env;
static struct test_reply last;

static void provider(struct store *st, const char *uuid, const char *name, const char *spec)
{
    struct inventory set[2];
    struct acct_failure fail;
    long long id = test_provider(st, uuid, name, NULL);
    size_t n = test_inventories_parse(spec, set, 2);
    /* No max_unit limit: an over-ask must fail on capacity, the message
     * these tests check. */
    for (size_t i = 0; i < n; i++)
        set[i].max_unit = 2147483647;
    ck_assert_int_eq(store_inventories_replace(st, id, 0, set, n, NULL, &fail), STORE_OK);
}

static void setup(void)
{
    test_env_open(&env);
    struct store *st = store_acquire(env.pool);
    provider(st, RP1, "cn1", "VCPU=8,MEMORY_MB=1024");
    provider(st, RP2, "cn2", "VCPU=2");
    store_release(env.pool, st);
}

static void teardown(void)
{
    test_env_close_reply(&env, &last);
}

static int call(const char *method, const char *path, const char *version, const char *body)
{
    return test_call_keep(&env, &last, method, path, version, body);
}

static long long path_int(const char *fmt, ...) PRINTF_LIKE(1, 2);
static long long path_int(const char *fmt, ...)
{
    /* A JSON pointer-like walk: keys separated by '/'. */
    char path[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof(path), fmt, ap);
    va_end(ap);
    const json_t *v = last.doc;
    for (char *k = strtok(path, "/"); k && v; k = strtok(NULL, "/"))
        v = json_object_get(v, k);
    ck_assert_msg(json_is_integer(v), "no integer at %s", fmt);
    return (long long)json_integer_value(v);
}

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(last.detail, text), "detail: %s", last.detail)

/* A 1.28+ PUT body on one provider. gen is "null" or a number. */
static char *body_28(const char *rp, const char *resources, const char *gen, const char *extra)
{
    static char buf[1024];
    snprintf(buf, sizeof(buf),
             "{\"allocations\": {\"%s\": {\"resources\": {%s}}}, \"project_id\": \"" PROJ
             "\", \"user_id\": \"" USER "\", \"consumer_generation\": %s%s}",
             rp, resources, gen, extra ? extra : "");
    return buf;
}

START_TEST(list_form_before_1_12_and_incomplete_consumer)
{
    ck_assert_int_eq(call("PUT", "/allocations/" C1, NULL,
                          "{\"allocations\": [{\"resource_provider\": {\"uuid\": \"" RP1
                          "\"}, \"resources\": {\"VCPU\": 2}}]}"),
                     204);
    ck_assert_int_eq(call("GET", "/allocations/" C1, NULL, NULL), 200);
    ck_assert_int_eq(path_int("allocations/" RP1 "/resources/VCPU"), 2);
    ck_assert_int_eq(path_int("allocations/" RP1 "/generation"), 2);
    ck_assert_uint_eq(json_object_size(last.doc), 1);
    ck_assert_int_eq(call("GET", "/allocations/" C1, "1.12", NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(last.doc, "project_id")),
                     "00000000-0000-0000-0000-000000000000");
    /* project_id/user_id are refused before 1.8 and required from 1.8. */
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.8",
                          "{\"allocations\": [{\"resource_provider\": {\"uuid\": \"" RP1
                          "\"}, \"resources\": {\"VCPU\": 2}}]}"),
                     400);
    ASSERT_DETAIL("Failed validating 'required' in schema");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, NULL,
                          "{\"allocations\": []}"),
                     400);
    ASSERT_DETAIL("Failed validating 'minItems'");
}
END_TEST

START_TEST(malformed_consumer_and_dict_form_schema)
{
    ck_assert_int_eq(call("PUT", "/allocations/not-a-uuid", NULL, "{}"), 400);
    ASSERT_DETAIL("Malformed consumer_uuid: not-a-uuid");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.12",
                          "{\"allocations\": {}, \"project_id\": \"p\", \"user_id\": \"u\"}"),
                     400);
    ASSERT_DETAIL("JSON does not validate: {} does not have enough properties");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.12",
                          "{\"allocations\": {\"nice_house_friend\": {\"resources\":"
                          " {\"VCPU\": 1}}}, \"project_id\": \"p\", \"user_id\": \"u\"}"),
                     400);
    ASSERT_DETAIL("'nice_house_friend' does not match any of the regexes: "
                  "'^[0-9a-fA-F-]{36}$'");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28",
                          "{\"allocations\": {}, \"project_id\": \"p\", \"user_id\": \"u\"}"),
                     400);
    ASSERT_DETAIL("'consumer_generation' is a required property");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.12",
                          "{\"allocations\": {\"" RP1 "\": {\"resources\": {\"VCPU\": 0}}},"
                          " \"project_id\": \"p\", \"user_id\": \"u\"}"),
                     400);
    ASSERT_DETAIL("0 is less than the minimum of 1");
}
END_TEST

START_TEST(consumer_generation_conflicts_use_novas_wording)
{
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"VCPU\": 1", "5", 0)),
                     409);
    ASSERT_DETAIL("consumer generation conflict - expected null but got 5");
    ck_assert_str_eq(test_error_code(last.doc), "placement.concurrent_update");
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"VCPU\": 1", "null", 0)), 204);
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"VCPU\": 1", "null", 0)), 409);
    ASSERT_DETAIL("consumer generation conflict - expected 1 but got None");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"VCPU\": 1", "1", 0)),
                     204);
    ck_assert_int_eq(call("GET", "/allocations/" C1, "1.28", NULL), 200);
    ck_assert_int_eq(path_int("consumer_generation"), 2);
    /* Emptying the allocations deletes the consumer. */
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "", "2", 0)), 400);
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28",
                          "{\"allocations\": {}, \"project_id\": \"" PROJ "\", \"user_id\": \"" USER
                          "\", \"consumer_generation\": 2}"),
                     204);
    ck_assert_int_eq(call("GET", "/allocations/" C1, "1.28", NULL), 200);
    ck_assert_uint_eq(json_object_size(last.doc), 1);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "allocations")), 0);
}
END_TEST

START_TEST(capacity_and_inventory_failures)
{
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28", body_28(RP2, "\"VCPU\": 3", "null", 0)),
                     409);
    ASSERT_DETAIL("Unable to allocate inventory: Unable to create allocation for 'VCPU' on "
                  "resource provider '" RP2 "'. The requested amount would exceed the capacity.");
    ck_assert_str_eq(test_error_code(last.doc), "placement.undefined_code");
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.28", body_28(RP2, "\"DISK_GB\": 3", "null", 0)), 409);
    ASSERT_DETAIL("Inventory for 'DISK_GB' on resource provider '" RP2 "' invalid.");
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"COWS\": 3", "null", 0)), 400);
    ASSERT_DETAIL("Unable to allocate inventory for consumer " C1 ": No such resource class COWS.");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28",
                          body_28("be8b9cba-e7db-4a12-a386-99b4242167fe", "\"VCPU\": 1", "null", 0)),
                     400);
    ASSERT_DETAIL("Allocation for resource provider 'be8b9cba-e7db-4a12-a386-99b4242167fe' that "
                  "does not exist.");
}
END_TEST

START_TEST(post_is_one_transaction)
{
    char body[2048];
    /* Three 1-VCPU consumers on a 2-VCPU provider: nothing is written. */
    snprintf(body, sizeof(body),
             "{\"" C1 "\": {\"allocations\": {\"" RP2 "\": {\"resources\": {\"VCPU\": 1}}},"
             " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": null},"
             " \"" C2 "\": {\"allocations\": {\"" RP2 "\": {\"resources\": {\"VCPU\": 1}}},"
             " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": null},"
             " \"" C3 "\": {\"allocations\": {\"" RP2 "\": {\"resources\": {\"VCPU\": 1}}},"
             " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": null}}");
    ck_assert_int_eq(call("POST", "/allocations", "1.28", body), 409);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP2 "/usages", NULL, NULL), 200);
    ck_assert_int_eq(path_int("usages/VCPU"), 0);
    ck_assert_int_eq(path_int("resource_provider_generation"), 1);
    ck_assert_int_eq(call("POST", "/allocations", "1.12", "{}"), 404);
    ck_assert_int_eq(call("POST", "/allocations", "1.13", "{}"), 400);
    ck_assert_int_eq(call("POST", "/allocations", "1.13",
                          "{\"" C1 "\": {\"allocations\": {\"" RP1 "\": {\"resources\":"
                          " {\"CUSTOM_PONY\": 1}}}, \"project_id\": \"p\", \"user_id\": \"u\"}}"),
                     400);
    ASSERT_DETAIL("Unable to allocate inventory No such resource class CUSTOM_PONY.");
}
END_TEST

START_TEST(post_moves_and_clears_consumers)
{
    ck_assert_int_eq(call("POST", "/allocations", "1.13",
                          "{\"" C1 "\": {\"allocations\": {\"" RP1 "\": {\"resources\":"
                          " {\"VCPU\": 2, \"MEMORY_MB\": 512}}}, \"project_id\": \"" PROJ
                          "\", \"user_id\": \"" USER "\"},"
                          " \"" C2 "\": {\"allocations\": {\"" RP2 "\": {\"resources\":"
                          " {\"VCPU\": 1}}}, \"project_id\": \"" PROJ "\", \"user_id\": \"" USER
                          "\"}}"),
                     204);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.9", NULL), 200);
    ck_assert_int_eq(path_int("usages/VCPU"), 3);
    ck_assert_int_eq(call("POST", "/allocations", "1.28",
                          "{\"" C2 "\": {\"allocations\": {}, \"project_id\": \"" PROJ
                          "\", \"user_id\": \"" USER "\", \"consumer_generation\": 1}}"),
                     204);
    ck_assert_int_eq(call("GET", "/usages?project_id=" PROJ, "1.9", NULL), 200);
    ck_assert_int_eq(path_int("usages/VCPU"), 2);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP1 "/allocations", "1.28", NULL), 200);
    ck_assert_int_eq(path_int("allocations/" C1 "/resources/MEMORY_MB"), 512);
    ck_assert_int_eq(path_int("allocations/" C1 "/consumer_generation"), 1);
    ck_assert_int_eq(path_int("resource_provider_generation"), 2);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP1 "/allocations", NULL, NULL), 200);
    ck_assert_ptr_null(json_object_get(
        json_object_get(json_object_get(last.doc, "allocations"), C1), "consumer_generation"));
}
END_TEST

START_TEST(mappings_are_accepted_from_1_34_only)
{
    const char *mappings = ", \"mappings\": {\"\": [\"" RP1 "\"], \"NET1\": [\"" RP1 "\"]}";
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.33", body_28(RP1, "\"VCPU\": 1", "null", mappings)),
        400);
    ASSERT_DETAIL("Additional properties are not allowed ('mappings' was unexpected)");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.34",
                          body_28(RP1, "\"VCPU\": 1", "null", ", \"mappings\": {\"alpha\": \"beta\"}")),
                     400);
    ASSERT_DETAIL("JSON does not validate: 'beta' is not of type 'array'");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.34",
                          body_28(RP1, "\"VCPU\": 1", "null", ", \"mappings\": {}")),
                     400);
    ASSERT_DETAIL("JSON does not validate: {} does not have enough properties");
    ck_assert_int_eq(
        call("PUT", "/allocations/" C1, "1.34", body_28(RP1, "\"VCPU\": 1", "null", mappings)),
        204);
}
END_TEST

START_TEST(consumer_type_from_1_38)
{
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.38", body_28(RP1, "\"VCPU\": 1", "null", 0)),
                     400);
    ASSERT_DETAIL("'consumer_type' is a required property");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.38",
                          body_28(RP1, "\"VCPU\": 1", "null", ", \"consumer_type\": \"instance\"")),
                     400);
    ASSERT_DETAIL("'instance' does not match '^[A-Z0-9_]+$'");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.38",
                          body_28(RP1, "\"VCPU\": 1", "null", ", \"consumer_type\": \"INSTANCE\"")),
                     204);
    ck_assert_int_eq(call("GET", "/allocations/" C1, "1.38", NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(last.doc, "consumer_type")), "INSTANCE");
    ck_assert_int_eq(
        call("PUT", "/allocations/" C2, "1.37", body_28(RP1, "\"VCPU\": 1", "null", 0)), 204);
    /* Written without a type: Placement's DEFAULT_CONSUMER_TYPE, never null. */
    ck_assert_int_eq(call("GET", "/allocations/" C2, "1.38", NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(last.doc, "consumer_type")), "unknown");
    ck_assert_int_eq(call("GET", "/allocations/" C2, "1.39", NULL), 200);
    ck_assert_str_eq(json_string_value(json_object_get(last.doc, "consumer_type")), "unknown");
    ck_assert_int_eq(call("GET", "/allocations/" C2, "1.37", NULL), 200);
    ck_assert_ptr_null(json_object_get(last.doc, "consumer_type"));
}
END_TEST

START_TEST(delete_and_missing_reads)
{
    ck_assert_int_eq(call("GET", "/allocations/" C1, NULL, NULL), 200);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "allocations")), 0);
    ck_assert_int_eq(call("DELETE", "/allocations/" C1, NULL, NULL), 404);
    ASSERT_DETAIL("No allocations for consumer '" C1 "'");
    ck_assert_int_eq(call("PUT", "/allocations/" C1, "1.28", body_28(RP1, "\"VCPU\": 1", "null", 0)),
                     204);
    ck_assert_int_eq(call("DELETE", "/allocations/" C1, NULL, NULL), 204);
    ck_assert_int_eq(call("GET", "/resource_providers/" RP1 "/usages", NULL, NULL), 200);
    ck_assert_int_eq(path_int("usages/VCPU"), 0);
    /* DELETE does not bump the provider generation. */
    ck_assert_int_eq(path_int("resource_provider_generation"), 2);
    ck_assert_int_eq(
        call("GET", "/resource_providers/cb8a3007-b93a-471f-9e1f-4d58355678bd/allocations", NULL,
             NULL),
        404);
    ASSERT_DETAIL("Resource provider 'cb8a3007-b93a-471f-9e1f-4d58355678bd' not found");
    ck_assert_int_eq(call("GET", "/allocations", NULL, NULL), 405);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api_allocations");
    TCase *tc = tcase_create("allocations");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, list_form_before_1_12_and_incomplete_consumer);
    tcase_add_test(tc, malformed_consumer_and_dict_form_schema);
    tcase_add_test(tc, consumer_generation_conflicts_use_novas_wording);
    tcase_add_test(tc, capacity_and_inventory_failures);
    tcase_add_test(tc, post_is_one_transaction);
    tcase_add_test(tc, post_moves_and_clears_consumers);
    tcase_add_test(tc, mappings_are_accepted_from_1_34_only);
    tcase_add_test(tc, consumer_type_from_1_38);
    tcase_add_test(tc, delete_and_missing_reads);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
