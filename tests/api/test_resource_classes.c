/* api/resource_classes.c through api_dispatch: statuses, messages, headers. */
#include <check.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static const char *header(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_headers; i++)
        if (strcasecmp(rq->headers[i].key, name) == 0)
            return rq->headers[i].value;
    return NULL;
}

/* Asserts status and that the error detail contains want. */
static void expect_error(const char *method, const char *path, const char *version,
                         const char *body, int status, const char *want)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, method, path, version, body), status);
    ck_assert_msg(strstr(rq.err.detail, want), "detail \"%s\" lacks \"%s\"", rq.err.detail, want);
    req_release(&rq);
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
    ck_assert_str_eq(header(&rq, "Location"), "/resource_classes/CUSTOM_GOLD");
    ck_assert_int_eq(rq.last_modified, 0); /* never on POST */
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/resource_classes/CUSTOM_GOLD", "1.2", NULL),
                     200);
    const char *name;
    ck_assert_int_eq(json_unpack(rq.reply, "{s:s}", "name", &name), 0);
    ck_assert_str_eq(name, "CUSTOM_GOLD");
    req_release(&rq);
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": \"CUSTOM_GOLD\"}", 409,
                 "Conflicting resource class already exists: CUSTOM_GOLD");
}
END_TEST

START_TEST(post_validates_like_jsonschema)
{
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": \"FOO\"}", 400,
                 "JSON does not validate: 'FOO' does not match '^CUSTOM_[A-Z0-9_]+$'");
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": \"VCPU\"}", 400,
                 "Failed validating 'pattern'");
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": \"CUSTOM_Illegal&@!Name?\"}", 400,
                 "JSON does not validate");
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": 5}", 400,
                 "5 is not of type 'string'");
    expect_error("POST", "/resource_classes", "1.2", "{}", 400, "'name' is a required property");
    expect_error("POST", "/resource_classes", "1.2", "[]", 400, "[] is not of type 'object'");
    expect_error("POST", "/resource_classes", "1.2", "{\"name\": \"CUSTOM_A\\u0000B\"}", 400,
                 "Malformed JSON: strings must not contain \\u0000");
    expect_error("POST", "/resource_classes", "1.2",
                 "{\"name\": \"CUSTOM_A\", \"additional\": \"additional\"}", 400,
                 "Additional properties are not allowed ('additional' was unexpected)");

    char body[400] = "{\"name\": \"CUSTOM_";
    memset(body + strlen(body), 'S', 250); /* 257 characters in all */
    strcat(body, "\"}");
    expect_error("POST", "/resource_classes", "1.2", body, 400, "Failed validating 'maxLength'");
}
END_TEST

START_TEST(get_unknown_class_is_404)
{
    expect_error("GET", "/resource_classes/CUSTOM_NOPE", "1.2", NULL, 404,
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
    expect_error("PUT", "/resource_classes/VCPU", "1.6", "{\"name\": \"CUSTOM_A\"}", 400,
                 "Cannot update standard resource class VCPU");
    expect_error("PUT", "/resource_classes/CUSTOM_B", "1.6", "{\"name\": \"CUSTOM_A\"}", 409,
                 "Resource class already exists: CUSTOM_A");
    expect_error("PUT", "/resource_classes/CUSTOM_X", "1.6", "{\"name\": \"CUSTOM_Y\"}", 404,
                 "No such resource class CUSTOM_X.");
    /* The body is validated before the class is looked up. */
    expect_error("PUT", "/resource_classes/CUSTOM_X", "1.6", "{\"name\": \"VCPU\"}", 400,
                 "JSON does not validate");
}
END_TEST

START_TEST(put_1_7_creates_then_confirms)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_COW", "1.15", NULL),
                     201);
    ck_assert_str_eq(header(&rq, "Location"), "/resource_classes/CUSTOM_COW");
    ck_assert_int_eq(rq.last_modified, 0);
    ck_assert_ptr_null(rq.reply);
    req_release(&rq);
    ck_assert_int_eq(test_call(&env, &rq, "PUT", "/resource_classes/CUSTOM_COW", "1.7", NULL), 204);
    ck_assert_str_eq(header(&rq, "Location"), "/resource_classes/CUSTOM_COW");
    req_release(&rq);
    expect_error("PUT", "/resource_classes/VCPU", "1.7", NULL, 400,
                 "JSON does not validate: 'VCPU' does not match '^CUSTOM_[A-Z0-9_]+$'");
    expect_error("PUT", "/resource_classes/VCPU", "1.7", NULL, 400,
                 "Failed validating 'pattern' in schema['properties']['name']");
    expect_error("PUT", "/resource_classes/COW", "1.7", NULL, 400, "Failed validating 'pattern'");
}
END_TEST

START_TEST(delete_follows_placement_rules)
{
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_classes/CUSTOM_GOLD", "1.7", NULL), 201);
    expect_error("DELETE", "/resource_classes/VCPU", "1.2", NULL, 400,
                 "Error in delete resource class: Cannot delete standard resource class VCPU.");

    /* An inventory of the class makes it in use. */
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(env.path, &db), SQLITE_OK);
    ck_assert_int_eq(
        sqlite3_exec(db,
                     "INSERT INTO providers(id, uuid, name, root_id, created_at)"
                     " VALUES (1, 'u1', 'rp1', 1, 0);"
                     "INSERT INTO inventories(provider_id, resource_class_id, total, created_at)"
                     " SELECT 1, id, 5, 0 FROM resource_classes WHERE name = 'CUSTOM_GOLD'",
                     NULL, NULL, NULL),
        SQLITE_OK);
    expect_error("DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL, 409,
                 "Error in delete resource class: Cannot delete resource class CUSTOM_GOLD. Class "
                 "is in use in inventory.");
    ck_assert_int_eq(sqlite3_exec(db, "DELETE FROM inventories", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    ck_assert_int_eq(test_status(&env, "DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL),
                     204);
    expect_error("DELETE", "/resource_classes/CUSTOM_GOLD", "1.2", NULL, 404,
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
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
