/* /resource_providers handlers through api_dispatch. */
#include <check.h>
#include <string.h>

#include "support.h"

#define U1   "00000000-0000-0000-0000-000000000001"
#define U2   "00000000-0000-0000-0000-000000000002"
#define U3   "00000000-0000-0000-0000-000000000003"
#define AGG1 "aaaaaaaa-0000-0000-0000-000000000001"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
}

static void teardown(void)
{
    test_env_close(&env);
}

static void post(const char *uuid, const char *name, const char *parent)
{
    char body[256];
    if (parent)
        snprintf(body, sizeof(body),
                 "{\"uuid\":\"%s\",\"name\":\"%s\",\"parent_provider_uuid\":\"%s\"}", uuid, name,
                 parent);
    else
        snprintf(body, sizeof(body), "{\"uuid\":\"%s\",\"name\":\"%s\"}", uuid, name);
    ck_assert_int_eq(test_status(&env, "POST", "/resource_providers", "1.20", body), 200);
}

/* Number of providers GET /resource_providers?<qs> returns at version. */
static int count(const char *qs, const char *version)
{
    struct req rq;
    char path[512];
    snprintf(path, sizeof(path), "/resource_providers?%s", qs);
    ck_assert_int_eq(test_call(&env, &rq, "GET", path, version, NULL), 200);
    json_t *doc = test_response(&rq);
    int n = (int)json_array_size(json_object_get(doc, "resource_providers"));
    json_decref(doc);
    req_release(&rq);
    return n;
}

START_TEST(post_before_1_20_is_201_without_body_and_with_location)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", "/resource_providers", "1.19",
                               "{\"name\":\"cn1\",\"uuid\":\"" U1 "\"}"),
                     201);
    ck_assert_ptr_null(rq.reply);
    ck_assert_ptr_nonnull(strstr(test_header(&rq, "Location"), "/resource_providers/" U1));
    req_release(&rq);
}
END_TEST

START_TEST(post_from_1_20_returns_the_provider_with_normalised_uuid)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", "/resource_providers", "1.20",
                               "{\"name\":\"cn1\",\"uuid\":\"C00000000000000000000000000000AB\"}"),
                     200);
    const char *uuid;
    json_int_t gen;
    json_t *links;
    ck_assert_int_eq(json_unpack(rq.reply, "{s:s, s:I, s:o}", "uuid", &uuid, "generation", &gen,
                                 "links", &links),
                     0);
    ck_assert_str_eq(uuid, "c0000000-0000-0000-0000-0000000000ab");
    ck_assert_int_eq(gen, 0);
    ck_assert_uint_eq(json_array_size(links), 6);
    ck_assert_ptr_nonnull(test_header(&rq, "Location"));
    ck_assert(json_is_null(json_object_get(rq.reply, "parent_provider_uuid")));
    req_release(&rq);
}
END_TEST

START_TEST(links_and_tree_fields_follow_the_microversion)
{
    struct req rq;
    post(U1, "cn1", NULL);
    static const struct {
        const char *version;
        size_t links, keys;
    } cases[] = {{"1.0", 3, 4}, {"1.1", 4, 4}, {"1.6", 5, 4}, {"1.11", 6, 4}, {"1.14", 6, 6}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(
            test_call(&env, &rq, "GET", "/resource_providers/" U1, cases[i].version, NULL), 200);
        ck_assert_uint_eq(json_array_size(json_object_get(rq.reply, "links")), cases[i].links);
        ck_assert_uint_eq(json_object_size(rq.reply), cases[i].keys);
        req_release(&rq);
    }
}
END_TEST

START_TEST(duplicates_are_409_with_the_messages_nova_matches)
{
    post(U1, "cn1", NULL);
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"cn1\",\"uuid\":\"" U2 "\"}", 409, "placement.duplicate_name",
                      "Conflicting resource provider name: cn1 already exists.");
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"cn1\",\"uuid\":\"" U1 "\"}", 409, "placement.duplicate_name",
                      "Conflicting resource provider uuid: " U1 " already exists.");
    post(U2, "cn2", NULL);
    test_expect_error(&env, "PUT", "/resource_providers/" U2, "1.20", "{\"name\":\"cn1\"}", 409,
                      "placement.duplicate_name",
                      "Conflicting resource provider cn1 already exists.");
}
END_TEST

START_TEST(bad_bodies_are_schema_errors)
{
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"x\",\"uuid\":\"nope\"}", 400, NULL,
                      "JSON does not validate: 'nope' is not a 'uuid'");
    test_expect_error(&env, "POST", "/resource_providers", "1.13",
                      "{\"name\":\"x\",\"parent_provider_uuid\":\"" U1 "\"}", 400, NULL,
                      "Additional properties are not allowed");
    test_expect_error(&env, "POST", "/resource_providers", "1.20", "{\"uuid\":\"" U1 "\"}", 400,
                      NULL, "'name' is a required property");
    char body[300];
    snprintf(body, sizeof(body), "{\"name\":\"%0201d\"}", 0);
    test_expect_error(&env, "POST", "/resource_providers", "1.20", body, 400, NULL,
                      "Failed validating 'maxLength'");
    post(U1, "cn1", NULL);
    test_expect_error(&env, "PUT", "/resource_providers/" U1, "1.20",
                      "{\"name\":\"x\",\"uuid\":\"" U1 "\"}", 400, NULL,
                      "Additional properties are not allowed ('uuid' was unexpected)");
}
END_TEST

/* The provider schemas go through api/jsonschema.c, so they report the error
 * Python's jsonschema picks: the first failing keyword in schema order among
 * the shallowest (required before additionalProperties), values in repr(),
 * anyOf for parent_provider_uuid, the name's length in characters. */
START_TEST(bodies_fail_as_jsonschema_reports_them)
{
    test_expect_error(&env, "POST", "/resource_providers", "1.20", "{\"foo\":1}", 400, NULL,
                      "JSON does not validate: 'name' is a required property");
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"x\",\"uuid\":\"it's\"}", 400, NULL,
                      "JSON does not validate: \"it's\" is not a 'uuid'");
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"x\",\"parent_provider_uuid\":5}", 400, NULL,
                      "JSON does not validate: 5 is not valid under any of the given schemas");
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"x\",\"parent_provider_uuid\":\"nope\"}", 400, NULL,
                      "Failed validating 'anyOf' in schema['properties']['parent_provider_uuid']");
    test_expect_error(&env, "POST", "/resource_providers", "1.20", "{\"name\":null}", 400, NULL,
                      "JSON does not validate: None is not of type 'string'");
    char body[1000];
    snprintf(body, sizeof(body), "{\"name\":\"");
    for (int i = 0; i < PROVIDER_NAME_MAX; i++)
        strcat(body, "\u00e9");
    strcat(body, "\"}");
    ck_assert_int_eq(test_status(&env, "POST", "/resource_providers", "1.20", body), 200);
    post(U1, "cn1", NULL);
    test_expect_error(&env, "PUT", "/resource_providers/" U1, "1.20", "[]", 400, NULL,
                      "JSON does not validate: [] is not of type 'object'");
}
END_TEST

START_TEST(put_renames_keeps_generation_and_404s_first)
{
    struct req rq;
    post(U1, "cn1", NULL);
    ck_assert_int_eq(
        test_call(&env, &rq, "PUT", "/resource_providers/" U1, "1.15", "{\"name\":\"new name\"}"),
        200);
    ck_assert_str_eq(json_string_value(json_object_get(rq.reply, "name")), "new name");
    ck_assert_int_eq(json_integer_value(json_object_get(rq.reply, "generation")), 0);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    test_expect_error(&env, "PUT", "/resource_providers/" U2, "1.20", "{\"bad\":1}", 404, NULL,
                      "No resource provider with uuid " U2 " found");
}
END_TEST

START_TEST(parent_rules_by_microversion)
{
    post(U1, "parent", NULL);
    post(U3, "other", NULL);
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"c\",\"uuid\":\"" U2 "\",\"parent_provider_uuid\":\"" U2 "\"}",
                      400, NULL, "parent provider UUID cannot be same as UUID");
    test_expect_error(&env, "POST", "/resource_providers", "1.20",
                      "{\"name\":\"c\",\"parent_provider_uuid\":\"" AGG1 "\"}", 400, NULL,
                      "parent provider UUID does not exist.");
    post(U2, "child", U1);
    test_expect_error(&env, "PUT", "/resource_providers/" U2, "1.36",
                      "{\"name\":\"child\",\"parent_provider_uuid\":null}", 400, NULL,
                      "un-parenting a provider is not currently allowed.");
    test_expect_error(&env, "PUT", "/resource_providers/" U2, "1.36",
                      "{\"name\":\"child\",\"parent_provider_uuid\":\"" U3 "\"}", 400, NULL,
                      "re-parenting a provider is not currently allowed.");
    test_expect_error(&env, "PUT", "/resource_providers/" U1, "1.37",
                      "{\"name\":\"parent\",\"parent_provider_uuid\":\"" U2 "\"}", 400, NULL,
                      "creating loop in the provider tree is not allowed.");

    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_providers/" U2, "1.37",
                               "{\"name\":\"child\",\"parent_provider_uuid\":\"" U3 "\"}"),
                     200);
    ck_assert_str_eq(json_string_value(json_object_get(rq.reply, "root_provider_uuid")), U3);
    req_release(&rq);
}
END_TEST

START_TEST(delete_codes_for_parents_and_missing_providers)
{
    post(U1, "parent", NULL);
    post(U2, "child", U1);
    test_expect_error(&env, "DELETE", "/resource_providers/" U1, "1.23", NULL, 409,
                      "placement.resource_provider.cannot_delete_parent",
                      "Unable to delete parent resource provider " U1
                      ": It has child resource providers.");
    ck_assert_int_eq(test_status(&env, "DELETE", "/resource_providers/" U2, NULL, NULL), 204);
    ck_assert_int_eq(test_status(&env, "DELETE", "/resource_providers/" U1, NULL, NULL), 204);
    test_expect_error(&env, "DELETE", "/resource_providers/" U1, NULL, NULL, 404, NULL,
                      "No resource provider with uuid " U1 " found for delete");
    test_expect_error(&env, "GET", "/resource_providers/random_sauce", NULL, NULL, 404, NULL,
                      "No resource provider with uuid random_sauce found");
}
END_TEST

START_TEST(list_query_keys_depend_on_the_microversion)
{
    test_expect_error(&env, "GET", "/resource_providers?member_of=" AGG1, "1.2", NULL, 400, NULL,
                      "Invalid query string parameters");
    test_expect_error(&env, "GET", "/resource_providers?resources=VCPU:1", "1.3", NULL, 400, NULL,
                      "Invalid query string parameters");
    test_expect_error(&env, "GET", "/resource_providers?required=HW_CPU_X86_SSE", "1.17", NULL, 400,
                      NULL, "Additional properties are not allowed");
    test_expect_error(&env, "GET", "/resource_providers?uuid=spameggs", "1.0", NULL, 400, NULL,
                      "Invalid query string parameters");
    ck_assert_int_eq(count("required=HW_CPU_X86_SSE", "1.18"), 0);
}
END_TEST

START_TEST(list_filters_and_unknown_names)
{
    post(U1, "parent", NULL);
    post(U2, "child", U1);
    post(U3, "other", NULL);
    ck_assert_int_eq(count("", "1.14"), 3);
    ck_assert_int_eq(count("name=other", "1.14"), 1);
    ck_assert_int_eq(count("uuid=" U2, "1.14"), 1);
    ck_assert_int_eq(count("in_tree=" U2, "1.14"), 2);
    /* An unknown tree is empty before the unknown trait can complain. */
    ck_assert_int_eq(count("in_tree=" AGG1 "&required=BOGUS", "1.18"), 0);
    test_expect_error(&env, "GET", "/resource_providers?required=HW_CPU_X86_SSE,BOGUS", "1.18",
                      NULL, 400, NULL,
                      "Invalid trait(s) in \"required\" parameter: No such trait(s): BOGUS.");
    test_expect_error(
        &env, "GET", "/resource_providers?resources=NOPE:1", "1.4", NULL, 400, NULL,
        "Invalid resource class in resources parameter: No such resource class NOPE.");
    ck_assert_int_eq(count("member_of=" AGG1, "1.3"), 0);
    ck_assert_int_eq(count("required=!HW_CPU_X86_SSE", "1.22"), 3);
}
END_TEST

START_TEST(list_last_modified_only_from_1_15)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_providers", "1.14", NULL), 200);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_providers", "1.15", NULL), 200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_providers");
    TCase *tc = tcase_create("providers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, post_before_1_20_is_201_without_body_and_with_location);
    tcase_add_test(tc, post_from_1_20_returns_the_provider_with_normalised_uuid);
    tcase_add_test(tc, links_and_tree_fields_follow_the_microversion);
    tcase_add_test(tc, duplicates_are_409_with_the_messages_nova_matches);
    tcase_add_test(tc, bad_bodies_are_schema_errors);
    tcase_add_test(tc, bodies_fail_as_jsonschema_reports_them);
    tcase_add_test(tc, put_renames_keeps_generation_and_404s_first);
    tcase_add_test(tc, parent_rules_by_microversion);
    tcase_add_test(tc, delete_codes_for_parents_and_missing_providers);
    tcase_add_test(tc, list_query_keys_depend_on_the_microversion);
    tcase_add_test(tc, list_filters_and_unknown_names);
    tcase_add_test(tc, list_last_modified_only_from_1_15);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
