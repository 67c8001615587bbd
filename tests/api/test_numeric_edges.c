/* Numeric edges of inventories and allocations, as Placement 8.0.0 answers
 * them (checked against the real service): the schema bounds (integers
 * <= 2147483647, allocation_ratio <= 3.40282e+38) with jsonschema's
 * messages, integral reals of any size as integers, capacities far beyond
 * any integer type (a ratio of 1e30 is valid), and allocation amounts
 * without a schema maximum that fail max_unit instead of overflowing. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define RP_UUID "c0000000-0000-0000-0000-000000000001"
#define RP "/resource_providers/" RP_UUID

static struct test_env env;
static struct test_reply last;

static void setup(void)
{
    test_env_open_provider(&env, RP_UUID, "cn1", NULL);
}

static void teardown(void)
{
    test_env_close_reply(&env, &last);
}

#define ASSERT_DETAIL(text) ck_assert_msg(strstr(last.detail, text), "detail: %s", last.detail)

/* PUT .../inventories with one VCPU record (generation 0) at version. */
static int put_vcpu(const char *version, const char *record)
{
    char body[512];
    snprintf(body, sizeof(body),
             "{\"resource_provider_generation\": 0, \"inventories\": {\"VCPU\": %s}}", record);
    return test_call_keep(&env, &last, "PUT", RP "/inventories", version, body);
}

static const json_t *vcpu_field(const char *key)
{
    return json_object_get(json_object_get(json_object_get(last.doc, "inventories"), "VCPU"), key);
}

struct edge {
    const char *version;
    const char *record;
    int status;
    const char *detail; /* a part of the error detail, NULL for a success */
};

#define SCHEMA_PATH "schema['properties']['inventories']['patternProperties']['^[A-Z0-9_]+$']"

static const struct edge INVENTORY_EDGES[] = {
    /* Every integer field at its maximum is valid... */
    {"1.39", "{\"total\": 2147483647}", 200, NULL},
    {"1.39", "{\"total\": 2147483647, \"reserved\": 2147483647}", 200, NULL},
    {"1.39", "{\"total\": 5, \"min_unit\": 2147483647}", 200, NULL},
    {"1.39", "{\"total\": 5, \"max_unit\": 2147483647}", 200, NULL},
    {"1.39", "{\"total\": 5, \"step_size\": 2147483647}", 200, NULL},
    {"1.39", "{\"total\": 2147483647, \"reserved\": 2147483646, \"min_unit\": 2147483647,"
             " \"max_unit\": 2147483647, \"step_size\": 2147483647,"
             " \"allocation_ratio\": 3.40282e+38}", 200, NULL},
    /* ...and one more is refused by the schema, naming the field. */
    {"1.39", "{\"total\": 2147483648}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['total']"},
    {"1.39", "{\"total\": 2147483648}", 400,
     "2147483648 is greater than the maximum of 2147483647"},
    {"1.39", "{\"total\": 5, \"reserved\": 2147483648}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['reserved']"},
    {"1.39", "{\"total\": 5, \"min_unit\": 2147483648}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['min_unit']"},
    {"1.39", "{\"total\": 5, \"max_unit\": 2147483648}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['max_unit']"},
    {"1.39", "{\"total\": 5, \"step_size\": 2147483648}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['step_size']"},
    {"1.39", "{\"total\": 2147483648.0}", 400,
     "2147483648.0 is greater than the maximum of 2147483647"},
    /* An integral real past long long is still an integer: "maximum" fails. */
    {"1.39", "{\"total\": 1e20}", 400, "1e+20 is greater than the maximum of 2147483647"},
    {"1.39", "{\"total\": 5, \"step_size\": -1e20}", 400, "-1e+20 is less than the minimum of 1"},
    /* Minimums. */
    {"1.39", "{\"total\": 0}", 400, "0 is less than the minimum of 1"},
    {"1.39", "{\"total\": 5, \"reserved\": -1}", 400, "-1 is less than the minimum of 0"},
    {"1.39", "{\"total\": 5, \"min_unit\": 0}", 400, "0 is less than the minimum of 1"},
    {"1.39", "{\"total\": 5, \"max_unit\": 0}", 400, "0 is less than the minimum of 1"},
    {"1.39", "{\"total\": 5, \"step_size\": 0}", 400, "0 is less than the minimum of 1"},
    /* allocation_ratio: a number up to SQL_SP_FLOAT_MAX; huge capacities are fine. */
    {"1.39", "{\"total\": 1, \"allocation_ratio\": 1e30}", 200, NULL},
    {"1.39", "{\"total\": 2147483647, \"allocation_ratio\": 3.40282e+38}", 200, NULL},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": 3.40283e+38}", 400,
     "Failed validating 'maximum' in " SCHEMA_PATH "['properties']['allocation_ratio']"},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": 3.40283e+38}", 400,
     "3.40283e+38 is greater than the maximum of 3.40282e+38"},
    /* No minimum in the schema: the capacity rule refuses what is negative
     * (and, before 1.26, zero), with its own message. */
    {"1.39", "{\"total\": 1, \"allocation_ratio\": -1.5}", 400,
     "Invalid inventory for 'VCPU' on resource provider '" RP_UUID
     "'. The reserved value is greater than total."},
    {"1.25", "{\"total\": 1, \"allocation_ratio\": -1.5}", 400,
     "The reserved value is greater than or equal to total."},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": -1e30}", 400,
     "The reserved value is greater than total."},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": 0}", 200, NULL},
    {"1.25", "{\"total\": 1, \"allocation_ratio\": 0}", 400,
     "The reserved value is greater than or equal to total."},
    {"1.25", "{\"total\": 1, \"allocation_ratio\": 1e-30}", 400,
     "The reserved value is greater than or equal to total."},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": 1e-30}", 200, NULL},
    {"1.39", "{\"total\": 1, \"allocation_ratio\": -0.5}", 200, NULL}, /* int(-0.5) == 0 */
};

START_TEST(inventory_edge)
{
    const struct edge *e = &INVENTORY_EDGES[_i];
    int status = put_vcpu(e->version, e->record);
    ck_assert_msg(status == e->status, "%s at %s: %d (%s)", e->record, e->version, status,
                  last.detail);
    if (e->detail)
        ASSERT_DETAIL(e->detail);
}
END_TEST

START_TEST(a_ratio_of_1e30_reads_back_and_holds_the_largest_amounts)
{
    ck_assert_int_eq(put_vcpu("1.39", "{\"total\": 1, \"allocation_ratio\": 1e30}"), 200);
    ck_assert(json_real_value(vcpu_field("allocation_ratio")) == 1e30);
    const char *claim = "{\"allocations\": {\"" RP_UUID "\": {\"resources\": {\"VCPU\": 2147483647}}},"
                        " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": null}";
    ck_assert_int_eq(test_call_keep(&env, &last, "PUT",
                                    "/allocations/e0000000-0000-0000-0000-000000000001", "1.28",
                                    claim),
                     204);
    ck_assert_int_eq(test_call_keep(&env, &last, "PUT",
                                    "/allocations/e0000000-0000-0000-0000-000000000002", "1.28",
                                    claim),
                     204);
    ck_assert_int_eq(test_call_keep(&env, &last, "GET", RP "/usages", NULL, NULL), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(last.doc, "usages"), "VCPU")),
                     4294967294LL);
    ck_assert_int_eq(test_call_keep(&env, &last, "GET",
                                    "/resource_providers?resources=VCPU:2147483647", "1.39", NULL),
                     200);
    ck_assert_uint_eq(json_array_size(json_object_get(last.doc, "resource_providers")), 1);
}
END_TEST

/* Allocation amounts: "minimum": 1 and no maximum in Placement's schema;
 * amounts past max_unit are a 409 of the constraint check. */
static const struct edge ALLOCATION_EDGES[] = {
    {"1.28", "2147483647", 204, NULL},
    {"1.28", "2147483648", 409, "The requested amount would violate inventory constraints."},
    {"1.28", "9223372036854775807", 409,
     "The requested amount would violate inventory constraints."},
    {"1.28", "1e20", 409, "The requested amount would violate inventory constraints."},
    {"1.28", "2147483647.0", 204, NULL},
    {"1.28", "0", 400, "0 is less than the minimum of 1"},
    {"1.28", "-1", 400, "-1 is less than the minimum of 1"},
    {"1.28", "-1e20", 400, "-1e+20 is less than the minimum of 1"},
    {"1.28", "1.5", 400, "1.5 is not of type 'integer'"},
};

START_TEST(allocation_edge)
{
    const struct edge *e = &ALLOCATION_EDGES[_i];
    ck_assert_int_eq(put_vcpu("1.39", "{\"total\": 2147483647}"), 200);
    char body[512];
    snprintf(body, sizeof(body),
             "{\"allocations\": {\"" RP_UUID "\": {\"resources\": {\"VCPU\": %s}}},"
             " \"project_id\": \"p\", \"user_id\": \"u\", \"consumer_generation\": null}",
             e->record);
    int status = test_call_keep(&env, &last, "PUT",
                                "/allocations/e0000000-0000-0000-0000-000000000001", e->version,
                                body);
    ck_assert_msg(status == e->status, "amount %s: %d (%s)", e->record, status, last.detail);
    if (e->detail)
        ASSERT_DETAIL(e->detail);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_numeric_edges");
    TCase *tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, inventory_edge, 0,
                        (int)(sizeof(INVENTORY_EDGES) / sizeof(INVENTORY_EDGES[0])));
    tcase_add_test(tc, a_ratio_of_1e30_reads_back_and_holds_the_largest_amounts);
    tcase_add_loop_test(tc, allocation_edge, 0,
                        (int)(sizeof(ALLOCATION_EDGES) / sizeof(ALLOCATION_EDGES[0])));
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
