/* api/resource_classes.c through api_dispatch: statuses, messages, headers. */
#include <check.h>
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

START_TEST(list_shows_every_class_in_id_order_with_links)
{
    struct req rq;
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_A", "1.7", NULL), 201);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes", "1.2", NULL), 200);
    json_t *list = json_object_get(rq.reply, "resource_classes");
    ck_assert_uint_eq(json_array_size(list), 22);
    const char *name, *rel, *href;
    ck_assert_int_eq(json_unpack(json_array_get(list, 0), "{s:s, s:[{s:s, s:s}]}", "name", &name,
                                 "links", "rel", &rel, "href", &href),
                     0);
    ck_assert_str_eq(name, "VCPU");
    ck_assert_str_eq(rel, "self");
    ck_assert_str_eq(href, "/resource_classes/VCPU");
    ck_assert_int_eq(json_unpack(json_array_get(list, 21), "{s:s}", "name", &name), 0);
    ck_assert_str_eq(name, "CUSTOM_A");
    ck_assert_int_eq(rq.last_modified, 0); /* 1.2: no Last-Modified */
    req_release(&rq);
}
END_TEST

START_TEST(gets_have_last_modified_from_1_15)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes", "1.15", NULL), 200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes/VCPU", "1.15", NULL), 200);
    ck_assert_int_gt(rq.last_modified, 0);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes/VCPU", "1.14", NULL), 200);
    ck_assert_int_eq(rq.last_modified, 0);
    req_release(&rq);
}
END_TEST

START_TEST(routes_are_hidden_before_1_2)
{
    ck_assert_int_eq(test_status(&env, "GET", "/resource_classes", "1.1", NULL), 404);
    ck_assert_int_eq(test_status(&env, "GET", "/resource_classes/VCPU", "1.1", NULL), 404);
}
END_TEST

START_TEST(post_creates_with_location_and_no_body)
{
    struct req rq;
    ck_assert_int_eq(
        test_call(&env, &rq, "POST", "/resource_classes", "1.15", "{\"name\": \"CUSTOM_GOLD\"}"),
        201);
    ck_assert_ptr_null(rq.reply);
    ck_assert_str_eq(test_header(&rq, "Location"), "/resource_classes/CUSTOM_GOLD");
    ck_assert_int_eq(rq.last_modified, 0); /* never on POST */
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes/CUSTOM_GOLD", "1.2", NULL),
                     200);
    const char *name;
    ck_assert_int_eq(json_unpack(rq.reply, "{s:s}", "name", &name), 0);
    ck_assert_str_eq(name, "CUSTOM_GOLD");
    req_release(&rq);
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{\"name\": \"CUSTOM_GOLD\"}", 409,
                      NULL, "Conflicting resource class already exists: CUSTOM_GOLD");
}
END_TEST

START_TEST(post_validates_like_jsonschema)
{
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{\"name\": \"FOO\"}", 400, NULL,
                      "JSON does not validate: 'FOO' does not match '^CUSTOM_[A-Z0-9_]+$'");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{\"name\": \"VCPU\"}", 400, NULL,
                      "Failed validating 'pattern'");
    test_expect_error(&env, "POST", "/resource_classes", "1.2",
                      "{\"name\": \"CUSTOM_Illegal&@!Name?\"}", 400, NULL,
                      "JSON does not validate");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{\"name\": 5}", 400, NULL,
                      "5 is not of type 'string'");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{}", 400, NULL,
                      "'name' is a required property");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "[]", 400, NULL,
                      "[] is not of type 'object'");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", "{\"name\": \"CUSTOM_A\\u0000B\"}",
                      400, NULL, "Malformed JSON: strings must not contain \\u0000");
    test_expect_error(&env, "POST", "/resource_classes", "1.2",
                      "{\"name\": \"CUSTOM_A\", \"additional\": \"additional\"}", 400, NULL,
                      "Additional properties are not allowed ('additional' was unexpected)");

    char body[400] = "{\"name\": \"CUSTOM_";
    memset(body + strlen(body), 'S', 250); /* 257 characters in all */
    strcat(body, "\"}");
    test_expect_error(&env, "POST", "/resource_classes", "1.2", body, 400, NULL,
                      "Failed validating 'maxLength'");
}
END_TEST

START_TEST(get_unknown_class_is_404)
{
    test_expect_error(&env, "GET", "/resource_classes/CUSTOM_NOPE", "1.2", NULL, 404, NULL,
                      "No such resource class CUSTOM_NOPE.");
}
END_TEST

START_TEST(put_1_6_renames_a_custom_class)
{
    struct req rq;
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_A", "1.7", NULL), 201);
    /* From 1.7 PUT only confirms the class: a body is ignored. */
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_A", "1.15",
                               "{\"name\": \"CUSTOM_B\"}"),
                     204);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_A", "1.6",
                               "{\"name\": \"CUSTOM_B\"}"),
                     200);
    const char *name, *href;
    ck_assert_int_eq(
        json_unpack(rq.reply, "{s:s, s:[{s:s}]}", "name", &name, "links", "href", &href), 0);
    ck_assert_str_eq(name, "CUSTOM_B");
    ck_assert_str_eq(href, "/resource_classes/CUSTOM_B");
    req_release(&rq);
    ck_assert_int_eq(test_status(&env, "GET", "/resource_classes/CUSTOM_A", "1.6", NULL), 404);
}
END_TEST

START_TEST(put_1_6_refuses_standard_unknown_and_taken_names)
{
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_A", "1.7", NULL), 201);
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_B", "1.7", NULL), 201);
    test_expect_error(&env, "PUT", "/resource_classes/VCPU", "1.6", "{\"name\": \"CUSTOM_A\"}", 400,
                      NULL, "Cannot update standard resource class VCPU");
    test_expect_error(&env, "PUT", "/resource_classes/CUSTOM_B", "1.6", "{\"name\": \"CUSTOM_A\"}",
                      409, NULL, "Resource class already exists: CUSTOM_A");
    test_expect_error(&env, "PUT", "/resource_classes/CUSTOM_X", "1.6", "{\"name\": \"CUSTOM_Y\"}",
                      404, NULL, "No such resource class CUSTOM_X.");
    /* The body is validated before the class is looked up. */
    test_expect_error(&env, "PUT", "/resource_classes/CUSTOM_X", "1.6", "{\"name\": \"VCPU\"}", 400,
                      NULL, "JSON does not validate");
}
END_TEST

START_TEST(put_1_7_creates_then_confirms)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_COW", "1.15", NULL),
                     201);
    ck_assert_str_eq(test_header(&rq, "Location"), "/resource_classes/CUSTOM_COW");
    ck_assert_int_eq(rq.last_modified, 0);
    ck_assert_ptr_null(rq.reply);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_COW", "1.7", NULL), 204);
    ck_assert_str_eq(test_header(&rq, "Location"), "/resource_classes/CUSTOM_COW");
    req_release(&rq);
    test_expect_error(&env, "PUT", "/resource_classes/VCPU", "1.7", NULL, 400, NULL,
                      "JSON does not validate: 'VCPU' does not match '^CUSTOM_[A-Z0-9_]+$'");
    test_expect_error(&env, "PUT", "/resource_classes/VCPU", "1.7", NULL, 400, NULL,
                      "Failed validating 'pattern' in schema['properties']['name']");
    test_expect_error(&env, "PUT", "/resource_classes/COW", "1.7", NULL, 400, NULL,
                      "Failed validating 'pattern'");
}
END_TEST

START_TEST(delete_follows_placement_rules)
{
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_GOLD", "1.7", NULL), 201);
    test_expect_error(
        &env, "DELETE", "/resource_classes/VCPU", "1.2", NULL, 400, NULL,
        "Error in delete resource class: Cannot delete standard resource class VCPU.");

    /* An inventory of the class makes it in use. */
    test_sql_file(env.path,
                  "INSERT INTO providers(id, uuid, name, root_id, created_at)"
                  " VALUES (1, 'u1', 'rp1', 1, 0);"
                  "INSERT INTO inventories(provider_id, resource_class_id, total, created_at)"
                  " SELECT 1, id, 5, 0 FROM resource_classes WHERE name = 'CUSTOM_GOLD'");
    test_expect_error(
        &env, "DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL, 409, NULL,
        "Error in delete resource class: Cannot delete resource class CUSTOM_GOLD. Class "
        "is in use in inventory.");
    test_sql_file(env.path, "DELETE FROM inventories");

    ck_assert_int_eq(test_status(&env, "DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL),
                     204);
    test_expect_error(&env, "DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL, 404, NULL,
                      "No such resource class CUSTOM_GOLD.");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("api_resource_classes");
    TCase *tc = tcase_create("resource_classes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, list_shows_every_class_in_id_order_with_links);
    tcase_add_test(tc, gets_have_last_modified_from_1_15);
    tcase_add_test(tc, routes_are_hidden_before_1_2);
    tcase_add_test(tc, post_creates_with_location_and_no_body);
    tcase_add_test(tc, post_validates_like_jsonschema);
    tcase_add_test(tc, get_unknown_class_is_404);
    tcase_add_test(tc, put_1_6_renames_a_custom_class);
    tcase_add_test(tc, put_1_6_refuses_standard_unknown_and_taken_names);
    tcase_add_test(tc, put_1_7_creates_then_confirms);
    tcase_add_test(tc, delete_follows_placement_rules);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
