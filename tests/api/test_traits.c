/* api/traits.c through api_dispatch: /traits and provider trait sets. */
#include <check.h>
#include <string.h>

#include "support.h"

#define RP_UUID   "c0000000-0000-0000-0000-000000000001"
#define RP_TRAITS "/resource_providers/" RP_UUID "/traits"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
    /* One provider, generation 0, made directly: its API is another area's. */
    test_sql_file(env.path, "INSERT INTO providers(id, uuid, name, root_id, created_at)"
                            " VALUES (1, '" RP_UUID "', 'rp1', 1, 0)");
}

static void teardown(void)
{
    test_env_close(&env);
}

/* GET path (1.6) and return the "traits" list joined with ','. */
static char *list_names(const char *path)
{
    static char out[16384];
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", path, "1.6", NULL), 200);
    json_t *traits = json_object_get(rq.reply, "traits");
    out[0] = '\0';
    for (size_t i = 0; i < json_array_size(traits); i++) {
        if (i)
            strcat(out, ",");
        strcat(out, json_string_value(json_array_get(traits, i)));
    }
    req_release(&rq);
    return out;
}

static long long put_traits(const char *body, int want_status)
{
    struct req rq;
    json_int_t gen = -1;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", RP_TRAITS, "1.6", body), want_status);
    if (want_status == 200)
        ck_assert_int_eq(json_unpack(rq.reply, "{s:I}", "resource_provider_generation", &gen), 0);
    req_release(&rq);
    return gen;
}

START_TEST(put_trait_creates_then_confirms_with_location)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/traits/CUSTOM_T1", "1.6", NULL), 201);
    ck_assert_str_eq(test_header(&rq, "Location"), "/traits/CUSTOM_T1");
    ck_assert_ptr_null(rq.reply);
    ck_assert_int_eq(rq.last_modified, 0); /* 1.6: no cache headers */
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/traits/CUSTOM_T1", "1.15", NULL), 204);
    ck_assert_str_eq(test_header(&rq, "Location"), "/traits/CUSTOM_T1");
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
}
END_TEST

START_TEST(put_trait_needs_a_valid_custom_name)
{
    static const char msg[] = "The trait is invalid. A valid trait must be no longer than 255 "
                              "characters, start with the prefix \"CUSTOM_\" and use following "
                              "characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"";
    char path[320] = "/traits/CUSTOM_";
    memset(path + strlen(path), 'A', 249); /* 256 characters of name */
    test_expect_error(&env, "PUT", "/traits/TRAIT_X", "1.6", NULL, 400, NULL, msg);
    test_expect_error(&env, "PUT", "/traits/CUSTOM_ABC:1", "1.6", NULL, 400, NULL, msg);
    test_expect_error(&env, "PUT", "/traits/HW_CPU_X86_SSE", "1.6", NULL, 400, NULL, msg);
    test_expect_error(&env, "PUT", path, "1.6", NULL, 400, NULL, msg);
    path[strlen(path) - 1] = '\0'; /* 255 is fine */
    ck_assert_int_eq(test_status(&env, "PUT", path, "1.6", NULL), 201);
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_T1", "1.5", NULL), 404);
}
END_TEST

START_TEST(get_trait_is_204_or_404)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/traits/HW_CPU_X86_SSE", "1.15", NULL), 204);
    ck_assert_int_gt(rq.last_modified, 0);
    ck_assert_ptr_null(rq.reply);
    req_release(&rq);
    test_expect_error(&env, "GET", "/traits/NON_EXISTED", "1.6", NULL, 404, NULL,
                      "No such trait(s): NON_EXISTED.");
}
END_TEST

START_TEST(delete_trait_checks_existence_standard_and_use)
{
    test_expect_error(&env, "DELETE", "/traits/CUSTOM_NOPE", "1.6", NULL, 404, NULL,
                      "No such trait(s): CUSTOM_NOPE.");
    test_expect_error(&env, "DELETE", "/traits/HW_CPU_X86_SSE", "1.6", NULL, 400, NULL,
                      "Cannot delete standard trait HW_CPU_X86_SSE.");
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_T1", "1.6", NULL), 201);
    put_traits("{\"traits\": [\"CUSTOM_T1\"], \"resource_provider_generation\": 0}", 200);
    test_expect_error(&env, "DELETE", "/traits/CUSTOM_T1", "1.6", NULL, 409, NULL,
                      "The trait CUSTOM_T1 is in use by a resource provider.");
    ck_assert_int_eq(test_status(&env, "DELETE", RP_TRAITS, "1.6", NULL), 204);
    ck_assert_int_eq(test_status(&env, "DELETE", "/traits/CUSTOM_T1", "1.6", NULL), 204);
    ck_assert_int_eq(test_status(&env, "GET", "/traits/CUSTOM_T1", "1.6", NULL), 404);
}
END_TEST

START_TEST(list_filters_by_name_and_association)
{
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_TRAIT_1", "1.6", NULL), 201);
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_TRAIT_2", "1.6", NULL), 201);
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_ANOTHER", "1.6", NULL), 201);
    ck_assert_str_eq(list_names("/traits?name=in:CUSTOM_TRAIT_2,NOPE,CUSTOM_TRAIT_1"),
                     "CUSTOM_TRAIT_1,CUSTOM_TRAIT_2");
    ck_assert_str_eq(list_names("/traits?name=startswith:CUSTOM_TRAIT"),
                     "CUSTOM_TRAIT_1,CUSTOM_TRAIT_2");
    ck_assert_str_eq(list_names("/traits?name=in:"), "");
    /* An unknown operator filters nothing, as upstream. */
    ck_assert_ptr_nonnull(strstr(list_names("/traits?name=other:x"), "HW_CPU_X86_SSE"));
    ck_assert_str_eq(list_names("/traits?associated=TRUE"), "");
    put_traits("{\"traits\": [\"CUSTOM_TRAIT_2\"], \"resource_provider_generation\": 0}", 200);
    ck_assert_str_eq(list_names("/traits?associated=true"), "CUSTOM_TRAIT_2");
    ck_assert_str_eq(list_names("/traits?associated=false&name=startswith:CUSTOM_"),
                     "CUSTOM_ANOTHER,CUSTOM_TRAIT_1");
}
END_TEST

START_TEST(list_rejects_bad_parameters)
{
    test_expect_error(
        &env, "GET", "/traits?name=in_abc", "1.6", NULL, 400, NULL,
        "Badly formatted name parameter. Expected name query string parameter in form: "
        "?name=[in|startswith]:[name1,name2|prefix]. Got: \"in_abc\"");
    test_expect_error(&env, "GET", "/traits?associated=xyz", "1.6", NULL, 400, NULL,
                      "The query parameter \"associated\" only accepts \"true\" or \"false\"");
    test_expect_error(&env, "GET", "/traits?invalid=abc", "1.6", NULL, 400, NULL,
                      "Invalid query string parameters: Additional properties are not allowed");
    ck_assert_int_eq(test_status(&env, "GET", "/traits", "1.5", NULL), 404);
}
END_TEST

START_TEST(list_has_last_modified_from_1_15)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/traits", "1.15", NULL), 200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/traits", "1.14", NULL), 200);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
}
END_TEST

START_TEST(provider_traits_start_empty_and_404_for_unknown_providers)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", RP_TRAITS, "1.6", NULL), 200);
    json_int_t gen = -1;
    json_t *traits = NULL;
    ck_assert_int_eq(json_unpack(rq.reply, "{s:o, s:I !}", "traits", &traits,
                                 "resource_provider_generation", &gen),
                     0);
    ck_assert_uint_eq(json_array_size(traits), 0);
    ck_assert_int_eq(gen, 0);
    req_release(&rq);
    test_expect_error(&env, "GET", "/resource_providers/non_existed/traits", "1.6", NULL, 404, NULL,
                      "No resource provider with uuid non_existed found");
    test_expect_error(&env, "DELETE", "/resource_providers/non_existed/traits", "1.6", NULL, 404,
                      NULL, "No resource provider with uuid non_existed found");
    test_expect_error(&env, "PUT", "/resource_providers/non_existed/traits", "1.6",
                      "{\"traits\": [], \"resource_provider_generation\": 0}", 404, NULL,
                      "No resource provider with uuid non_existed found");
}
END_TEST

START_TEST(put_provider_traits_bumps_the_generation_only_on_change)
{
    ck_assert_int_eq(test_status(&env, "PUT", "/traits/CUSTOM_T1", "1.6", NULL), 201);
    ck_assert_int_eq(put_traits("{\"traits\": [\"CUSTOM_T1\", \"HW_CPU_X86_SSE\", \"CUSTOM_T1\"],"
                                " \"resource_provider_generation\": 0}",
                                200),
                     1);
    ck_assert_str_eq(list_names(RP_TRAITS), "CUSTOM_T1,HW_CPU_X86_SSE");
    ck_assert_int_eq(put_traits("{\"traits\": [\"HW_CPU_X86_SSE\", \"CUSTOM_T1\"],"
                                " \"resource_provider_generation\": 1.0}",
                                200),
                     1);
    ck_assert_int_eq(put_traits("{\"traits\": [], \"resource_provider_generation\": 1}", 200), 2);
    ck_assert_str_eq(list_names(RP_TRAITS), "");
}
END_TEST

START_TEST(put_provider_traits_checks_generation_before_names)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", RP_TRAITS, "1.23",
                               "{\"traits\": [\"NOPE\"], \"resource_provider_generation\": 5}"),
                     409);
    ck_assert_str_eq(rq.err.code, "placement.concurrent_update");
    ck_assert_str_eq(rq.err.detail, "Resource provider's generation already changed. Please "
                                    "update the generation and try again.");
    req_release(&rq);
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [\"NON_1\", \"HW_CPU_X86_SSE\", \"NON_2\", \"NON_1\"],"
                      " \"resource_provider_generation\": 0}",
                      400, NULL, "No such trait NON_1, NON_2");
    ck_assert_str_eq(list_names(RP_TRAITS), "");
    /* A NUL must not cut a name down to an existing trait (api_dispatch
     * refuses every string holding one). */
    test_expect_error(
        &env, "PUT", RP_TRAITS, "1.6",
        "{\"traits\": [\"HW_CPU_X86_SSE\\u0000X\"], \"resource_provider_generation\": 0}", 400,
        NULL, "Malformed JSON: strings must not contain \\u0000");
}
END_TEST

START_TEST(put_provider_traits_validates_the_body)
{
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6", "{\"traits\": [\"HW_CPU_X86_SSE\"]}", 400,
                      NULL, "'resource_provider_generation' is a required property");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [], \"resource_provider_generation\": \"invalid_generation\"}",
                      400, NULL, "'invalid_generation' is not of type 'integer'");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": \"invalid_type\", \"resource_provider_generation\": 1}", 400,
                      NULL, "'invalid_type' is not of type 'array'");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [], \"resource_provider_generation\": 1, \"additional\": 1}",
                      400, NULL,
                      "Additional properties are not allowed ('additional' was unexpected)");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [\"\"], \"resource_provider_generation\": 0}", 400, NULL,
                      "'' is too short");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [3], \"resource_provider_generation\": 0}", 400, NULL,
                      "3 is not of type 'string'");
    test_expect_error(&env, "PUT", RP_TRAITS, "1.6",
                      "{\"traits\": [], \"resource_provider_generation\": true}", 400, NULL,
                      "True is not of type 'integer'");
}
END_TEST

START_TEST(provider_trait_reads_and_writes_have_last_modified_from_1_15)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", RP_TRAITS, "1.15",
                               "{\"traits\": [\"HW_CPU_X86_SSE\"], "
                               "\"resource_provider_generation\": 0}"),
                     200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", RP_TRAITS, "1.15", NULL), 200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", RP_TRAITS, "1.14", NULL), 200);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "DELETE", RP_TRAITS, "1.15", NULL), 204);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
}
END_TEST

START_TEST(delete_provider_traits_bumps_only_when_there_were_traits)
{
    struct req rq;
    json_int_t gen = -1;
    ck_assert_int_eq(test_status(&env, "DELETE", RP_TRAITS, "1.6", NULL), 204);
    put_traits("{\"traits\": [\"HW_CPU_X86_SSE\"], \"resource_provider_generation\": 0}", 200);
    ck_assert_int_eq(test_status(&env, "DELETE", RP_TRAITS, "1.6", NULL), 204);
    ck_assert_int_eq(test_call(&env, &rq, "GET", RP_TRAITS, "1.6", NULL), 200);
    ck_assert_int_eq(json_unpack(rq.reply, "{s:I}", "resource_provider_generation", &gen), 0);
    ck_assert_int_eq(gen, 2); /* 0 -> 1 by the PUT, -> 2 by the second DELETE only */
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_traits");
    TCase *tc = tcase_create("traits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, put_trait_creates_then_confirms_with_location);
    tcase_add_test(tc, put_trait_needs_a_valid_custom_name);
    tcase_add_test(tc, get_trait_is_204_or_404);
    tcase_add_test(tc, delete_trait_checks_existence_standard_and_use);
    tcase_add_test(tc, list_filters_by_name_and_association);
    tcase_add_test(tc, list_rejects_bad_parameters);
    tcase_add_test(tc, list_has_last_modified_from_1_15);
    tcase_add_test(tc, provider_traits_start_empty_and_404_for_unknown_providers);
    tcase_add_test(tc, put_provider_traits_bumps_the_generation_only_on_change);
    tcase_add_test(tc, put_provider_traits_checks_generation_before_names);
    tcase_add_test(tc, put_provider_traits_validates_the_body);
    tcase_add_test(tc, provider_trait_reads_and_writes_have_last_modified_from_1_15);
    tcase_add_test(tc, delete_provider_traits_bumps_only_when_there_were_traits);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
