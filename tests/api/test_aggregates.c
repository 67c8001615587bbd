/* GET/PUT /resource_providers/{uuid}/aggregates through api_dispatch. */
#include <check.h>
#include <string.h>

#include "support.h"

#define U1   "00000000-0000-0000-0000-000000000001"
#define U9   "00000000-0000-0000-0000-000000000009"
#define AGG1 "aaaaaaaa-0000-0000-0000-000000000001"
#define AGG2 "aaaaaaaa-0000-0000-0000-000000000002"
#define PATH "/resource_providers/" U1 "/aggregates"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
    ck_assert_int_eq(test_status(&env, "POST", "/resource_providers", "1.20",
                                 "{\"name\":\"cn1\",\"uuid\":\"" U1 "\"}"),
                     200);
}

static void teardown(void)
{
    test_env_close(&env);
}

static long long provider_generation(void)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_providers/" U1, "1.14", NULL), 200);
    long long gen = json_integer_value(json_object_get(rq.reply, "generation"));
    req_release(&rq);
    return gen;
}

START_TEST(old_format_is_a_bare_list_without_generation_bump)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", PATH, "1.1", "[\"" AGG1 "\"]"), 200);
    ck_assert_ptr_null(json_object_get(rq.reply, "resource_provider_generation"));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(rq.reply, "aggregates"), 0)),
                     AGG1);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(provider_generation(), 0);
    ck_assert_int_eq(test_call(&env, &rq, "GET", PATH, "1.18", NULL), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(rq.reply, "aggregates")), 1);
    ck_assert_ptr_null(json_object_get(rq.reply, "resource_provider_generation"));
    req_release(&rq);
}
END_TEST

START_TEST(new_format_checks_and_bumps_the_generation)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", PATH, "1.19",
                               "{\"aggregates\":[\"" AGG1 "\",\"" AGG2 "\"],"
                               "\"resource_provider_generation\":0}"),
                     200);
    ck_assert_int_eq(json_integer_value(json_object_get(rq.reply, "resource_provider_generation")),
                     1);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(provider_generation(), 1);

    ck_assert_int_eq(test_call(&env, &rq, "PUT", PATH, "1.23",
                               "{\"aggregates\":[],\"resource_provider_generation\":0}"),
                     409);
    ck_assert_str_eq(rq.err.code, "placement.concurrent_update");
    req_release(&rq);

    ck_assert_int_eq(test_call(&env, &rq, "GET", PATH, "1.19", NULL), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(rq.reply, "aggregates")), 2);
    ck_assert_int_eq(json_integer_value(json_object_get(rq.reply, "resource_provider_generation")),
                     1);
    req_release(&rq);
}
END_TEST

START_TEST(bodies_must_match_the_version_schema)
{
    test_expect_error(&env, "PUT", PATH, "1.19", "[\"" AGG1 "\"]", 400, NULL,
                      "JSON does not validate");
    test_expect_error(&env, "PUT", PATH, "1.18",
                      "{\"aggregates\":[],\"resource_provider_generation\":0}", 400, NULL,
                      "JSON does not validate");
    test_expect_error(&env, "PUT", PATH, "1.19", "{\"aggregates\":[]}", 400, NULL,
                      "'resource_provider_generation' is a required property");
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":[\"harry\"],\"resource_provider_generation\":0}", 400, NULL,
                      "is not a 'uuid'");
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":[\"" AGG1 "\",\"" AGG1
                      "\"],\"resource_provider_generation\":0}",
                      400, NULL, "has non-unique elements");
    ck_assert_int_eq(provider_generation(), 0);
}
END_TEST

/* Messages quote values as Python's repr() does, as Placement's jsonschema
 * messages do: None, True, 1.0, "it's". */
START_TEST(schema_messages_quote_values_as_python)
{
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":null,\"resource_provider_generation\":0}", 400, NULL,
                      "JSON does not validate: None is not of type 'array'");
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":[true],\"resource_provider_generation\":0}", 400, NULL,
                      "JSON does not validate: True is not of type 'string'");
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":[\"it's\"],\"resource_provider_generation\":0}", 400,
                      NULL, "JSON does not validate: \"it's\" is not a 'uuid'");
    test_expect_error(&env, "PUT", PATH, "1.19",
                      "{\"aggregates\":[],\"resource_provider_generation\":false}", 400, NULL,
                      "JSON does not validate: False is not of type 'integer'");
    test_expect_error(&env, "PUT", PATH, "1.1", "[1.0]", 400, NULL,
                      "JSON does not validate: 1.0 is not of type 'string'");
}
END_TEST

START_TEST(unknown_provider_is_404_before_the_body)
{
    test_expect_error(&env, "GET", "/resource_providers/" U9 "/aggregates", "1.19", NULL, 404, NULL,
                      "No resource provider with uuid " U9 " found");
    test_expect_error(&env, "PUT", "/resource_providers/" U9 "/aggregates", "1.19", "[]", 404, NULL,
                      "No resource provider with uuid " U9 " found");
    ck_assert_int_eq(test_status(&env, "GET", PATH, "1.0", NULL), 404);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_aggregates");
    TCase *tc = tcase_create("aggregates");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, old_format_is_a_bare_list_without_generation_bump);
    tcase_add_test(tc, new_format_checks_and_bumps_the_generation);
    tcase_add_test(tc, bodies_must_match_the_version_schema);
    tcase_add_test(tc, schema_messages_quote_values_as_python);
    tcase_add_test(tc, unknown_provider_is_404_before_the_body);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
