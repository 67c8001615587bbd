/* api/inventories.c through api_dispatch: bodies, bounds, capacity rule,
 * generation checks and bumps, in-use rules and Placement's messages. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define RP "/resource_providers/c0000000-0000-0000-0000-000000000001"
#define RP_UUID "c0000000-0000-0000-0000-000000000001"

static struct test_env env;
static struct test_reply last; /* the last response */

static void setup(void)
{
    test_env_open_provider(&env, RP_UUID, "cn1", NULL);
}

static void teardown(void)
{
    test_env_close_reply(&env, &last);
}

static int call(const char *method, const char *path, const char *version, const char *body)
{
    return test_call_keep(&env, &last, method, path, version, body);
}

static long long int_at(const char *key)
{
    const json_t *v = json_object_get(last.doc, key);
    ck_assert_msg(json_is_integer(v), "no integer %s", key);
    return (long long)json_integer_value(v);
}

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(last.detail, text), "detail: %s", last.detail)

START_TEST(missing_provider_is_404_with_upstream_wording)
{
    ck_assert_int_eq(call("GET", "/resource_providers/7260669a-e3d4-4867-aaa7-683e2ab6958c/inventories",
                          NULL, NULL),
                     404);
    ASSERT_DETAIL("No resource provider with uuid 7260669a-e3d4-4867-aaa7-683e2ab6958c found : ");
    ck_assert_int_eq(call("DELETE", "/resource_providers/7260669a-e3d4-4867-aaa7-683e2ab6958c/inventories",
                          "1.5", NULL),
                     404);
}
END_TEST

START_TEST(post_creates_with_defaults_location_and_generation)
{
    ck_assert_int_eq(call("GET", RP "/inventories", NULL, NULL), 200);
    ck_assert_int_eq(int_at("resource_provider_generation"), 0);
    ck_assert_uint_eq(json_object_size(json_object_get(last.doc, "inventories")), 0);
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 2048, \"reserved\": 512}"),
                     201);
    ck_assert_str_eq(last.location, RP "/inventories/DISK_GB");
    ck_assert_int_eq(int_at("resource_provider_generation"), 1);
    ck_assert_int_eq(int_at("total"), 2048);
    ck_assert_int_eq(int_at("min_unit"), 1);
    ck_assert_int_eq(int_at("max_unit"), 2147483647);
    ck_assert_int_eq(int_at("step_size"), 1);
    ck_assert(json_real_value(json_object_get(last.doc, "allocation_ratio")) == 1.0);
    ck_assert_int_eq(call("GET", RP "/inventories/DISK_GB", "1.15", NULL), 200);
    ck_assert_int_eq(int_at("reserved"), 512);
    ck_assert_int_ne(last.modified, 0);
    ck_assert_int_eq(call("GET", RP "/inventories/DISK_GB", "1.14", NULL), 200);
    ck_assert_int_eq(last.modified, 0);
}
END_TEST

START_TEST(schema_errors_read_like_jsonschema)
{
    ck_assert_int_eq(call("POST", RP "/inventories", NULL, "{\"resource_class\": \"DISK_GB\"}"),
                     400);
    ASSERT_DETAIL("JSON does not validate: 'total' is a required property");
    ck_assert_int_eq(
        call("POST", RP "/inventories", NULL, "{\"resource_class\": \"DISK_GB\", \"total\": -1}"),
        400);
    ASSERT_DETAIL("-1 is less than the minimum of 1");
    ASSERT_DETAIL("Failed validating 'minimum' in schema['properties']['total']");
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 2147483648}"),
                     400);
    ASSERT_DETAIL("2147483648 is greater than the maximum of 2147483647");
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 10,"
                          " \"allocation_ratio\": 3.40282e+39}"),
                     400);
    ASSERT_DETAIL("3.40282e+39 is greater than the maximum of 3.40282e+38");
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"bad_class\", \"total\": 10}"),
                     400);
    ASSERT_DETAIL("'bad_class' does not match '^[A-Z0-9_]+$'");
    ck_assert_int_eq(call("PUT", RP "/inventories", NULL,
                          "{\"resource_provider_generation\": 0, \"inventories\":"
                          " {\"DISK_GB\": {\"total\": 1, \"bad_field\": 1}}}"),
                     400);
    ASSERT_DETAIL("Additional properties are not allowed ('bad_field' was unexpected)");
    /* A real with no fraction is an integer to jsonschema. */
    ck_assert_int_eq(
        call("POST", RP "/inventories", NULL, "{\"resource_class\": \"VCPU\", \"total\": 4.0}"),
        201);
}
END_TEST

START_TEST(capacity_rule_changes_at_1_26)
{
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 256, \"reserved\": 512}"),
                     400);
    ASSERT_DETAIL("Unable to create inventory for resource provider " RP_UUID);
    ASSERT_DETAIL("The reserved value is greater than or equal to total.");
    const char *full = "{\"resource_provider_generation\": 0,"
                       " \"inventories\": {\"IPV4_ADDRESS\": {\"total\": 253, \"reserved\": 253}}}";
    ck_assert_int_eq(call("PUT", RP "/inventories", "1.25", full), 400);
    ASSERT_DETAIL("greater than or equal to total");
    ck_assert_int_eq(call("PUT", RP "/inventories", "1.26", full), 200);
    ck_assert_int_eq(int_at("resource_provider_generation"), 1);
    ck_assert_int_eq(call("PUT", RP "/inventories/IPV4_ADDRESS", "1.26",
                          "{\"resource_provider_generation\": 1, \"total\": 10,"
                          " \"reserved\": 11}"),
                     400);
    ASSERT_DETAIL("The reserved value is greater than total.");
}
END_TEST

START_TEST(every_write_bumps_the_generation_once)
{
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 10}"),
                     201);
    ck_assert_int_eq(call("PUT", RP "/inventories/DISK_GB", NULL,
                          "{\"resource_provider_generation\": 1, \"total\": 10}"),
                     200);
    ck_assert_int_eq(int_at("resource_provider_generation"), 2);
    ck_assert_int_eq(call("PUT", RP "/inventories", NULL,
                          "{\"resource_provider_generation\": 2,"
                          " \"inventories\": {\"DISK_GB\": {\"total\": 10}}}"),
                     200);
    ck_assert_int_eq(int_at("resource_provider_generation"), 3);
    ck_assert_int_eq(call("DELETE", RP "/inventories/DISK_GB", NULL, NULL), 204);
    ck_assert_int_eq(call("DELETE", RP "/inventories", "1.5", NULL), 204);
    ck_assert_int_eq(call("DELETE", RP "/inventories", "1.5", NULL), 204);
    ck_assert_int_eq(call("GET", RP "/inventories", NULL, NULL), 200);
    ck_assert_int_eq(int_at("resource_provider_generation"), 6);
    ck_assert_int_eq(call("DELETE", RP "/inventories", "1.4", NULL), 405);
}
END_TEST

START_TEST(generation_mismatch_and_duplicates_are_concurrent_updates)
{
    ck_assert_int_eq(call("PUT", RP "/inventories", "1.23",
                          "{\"resource_provider_generation\": 5, \"inventories\": {}}"),
                     409);
    ASSERT_DETAIL("resource provider generation conflict");
    ck_assert_str_eq(test_error_code(last.doc), "placement.concurrent_update");
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"DISK_GB\", \"total\": 10}"),
                     201);
    ck_assert_int_eq(call("POST", RP "/inventories", "1.23",
                          "{\"resource_class\": \"DISK_GB\", \"total\": 10}"),
                     409);
    ASSERT_DETAIL("Update conflict");
    ck_assert_str_eq(test_error_code(last.doc), "placement.concurrent_update");
    ck_assert_int_eq(call("PUT", RP "/inventories/DISK_GB", "1.23",
                          "{\"resource_provider_generation\": 0, \"total\": 10}"),
                     409);
    ck_assert_str_eq(test_error_code(last.doc), "placement.concurrent_update");
}
END_TEST

START_TEST(unknown_and_missing_classes)
{
    ck_assert_int_eq(call("PUT", RP "/inventories", NULL,
                          "{\"resource_provider_generation\": 0,"
                          " \"inventories\": {\"HOUSE\": {\"total\": 1}}}"),
                     400);
    ASSERT_DETAIL("Unknown resource class in inventory for resource provider " RP_UUID
                  ": No such resource class HOUSE.");
    ck_assert_int_eq(call("POST", RP "/inventories", NULL,
                          "{\"resource_class\": \"NO_CLASS_14\", \"total\": 1}"),
                     400);
    ASSERT_DETAIL("No such resource class NO_CLASS_14");
    ck_assert_int_eq(call("PUT", RP "/inventories/MEMORY_MB", NULL,
                          "{\"resource_provider_generation\": 0, \"total\": 1}"),
                     400);
    ASSERT_DETAIL("No inventory record with resource class for resource provider " RP_UUID);
    ck_assert_int_eq(call("GET", RP "/inventories/HOUSE", NULL, NULL), 404);
    ASSERT_DETAIL("No inventory of class HOUSE for " RP_UUID);
    ck_assert_int_eq(call("DELETE", RP "/inventories/IPV4_ADDRESS", NULL, NULL), 404);
    ASSERT_DETAIL("No inventory of class IPV4_ADDRESS found for delete");
}
END_TEST

START_TEST(inventory_in_use_cannot_go)
{
    ck_assert_int_eq(call("PUT", RP "/inventories", NULL,
                          "{\"resource_provider_generation\": 0, \"inventories\":"
                          " {\"VCPU\": {\"total\": 8}, \"DISK_GB\": {\"total\": 100}}}"),
                     200);
    ck_assert_int_eq(call("PUT", "/allocations/a0b15655-273a-4b3d-9792-2e579b7d5ad9", NULL,
                          "{\"allocations\": [{\"resource_provider\": {\"uuid\": \"" RP_UUID
                          "\"}, \"resources\": {\"VCPU\": 1, \"DISK_GB\": 5}}]}"),
                     204);
    ck_assert_int_eq(call("PUT", RP "/inventories", "1.23",
                          "{\"resource_provider_generation\": 2, \"inventories\": {}}"),
                     409);
    ck_assert_str_eq(test_error_code(last.doc), "placement.inventory.inuse");
    ck_assert_int_eq(call("DELETE", RP "/inventories", "1.23", NULL), 409);
    ck_assert_str_eq(test_error_code(last.doc), "placement.inventory.inuse");
    ASSERT_DETAIL("Inventory for 'VCPU, DISK_GB' on resource provider '" RP_UUID "' in use.");
    ck_assert_int_eq(call("DELETE", RP "/inventories/VCPU", "1.23", NULL), 409);
    ck_assert_str_eq(test_error_code(last.doc), "placement.concurrent_update");
    /* Shrinking below the usage is allowed (upstream only logs it). */
    ck_assert_int_eq(call("PUT", RP "/inventories", NULL,
                          "{\"resource_provider_generation\": 2, \"inventories\":"
                          " {\"VCPU\": {\"total\": 1}, \"DISK_GB\": {\"total\": 1}}}"),
                     200);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("api_inventories");
    TCase *tc = tcase_create("inventories");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, missing_provider_is_404_with_upstream_wording);
    tcase_add_test(tc, post_creates_with_defaults_location_and_generation);
    tcase_add_test(tc, schema_errors_read_like_jsonschema);
    tcase_add_test(tc, capacity_rule_changes_at_1_26);
    tcase_add_test(tc, every_write_bumps_the_generation_once);
    tcase_add_test(tc, generation_mismatch_and_duplicates_are_concurrent_updates);
    tcase_add_test(tc, unknown_and_missing_classes);
    tcase_add_test(tc, inventory_in_use_cannot_go);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
