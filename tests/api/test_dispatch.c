/* The checks api_dispatch makes before any handler runs. */
#include <check.h>
#include <string.h>

#include "server/microversion.h"
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

START_TEST(root_needs_no_token)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/";
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.status, 200);
    const char *max;
    ck_assert_int_eq(json_unpack(rq.reply, "{s:[{s:s}]}", "versions", "max_version", &max), 0);
    ck_assert_str_eq(max, "1.39");
    req_release(&rq);
}
END_TEST

START_TEST(other_paths_need_a_token)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/resource_providers";
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 401);
    req_release(&rq);
}
END_TEST

START_TEST(non_admin_token_is_403_and_admin_with_project_is_admin)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/traits";
    rq.mv = 0x10006;
    rq.token = "user:project";
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 403);
    ck_assert_str_eq(rq.err.detail, "Policy does not allow placement:traits:list to be performed.");
    req_release(&rq);
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/";
    rq.token = "admin:proj";
    api_dispatch(&rq, &env.ctx);
    ck_assert(rq.is_admin);
    req_release(&rq);
}
END_TEST

START_TEST(body_without_json_content_type_is_415)
{
    struct req rq;
    req_init(&rq);
    rq.method = "POST";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.content_type = "text/plain";
    rq.content_length = 2;
    rq.raw_body = "{}";
    rq.body_len = 2;
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 415);
    req_release(&rq);
}
END_TEST

START_TEST(body_without_content_type_is_400)
{
    struct req rq;
    req_init(&rq);
    rq.method = "POST";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.content_length = 2;
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 400);
    ck_assert_str_eq(rq.err.detail, "content-type header required when content-length > 0");
    req_release(&rq);
}
END_TEST

START_TEST(malformed_json_is_400)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", "/resource_providers", "1.20", "{nope"), 400);
    ck_assert_int_eq(strncmp(rq.err.detail, "Malformed JSON: ", 16), 0);
    req_release(&rq);
}
END_TEST

START_TEST(accept_without_json_is_406)
{
    struct req rq;
    req_init(&rq);
    rq.method = "GET";
    rq.path = "/";
    rq.accept = "text/plain";
    api_dispatch(&rq, &env.ctx);
    ck_assert_int_eq(rq.err.status, 406);
    ck_assert_str_eq(rq.err.detail, "Only application/json is provided");
    req_release(&rq);
}
END_TEST

/* The detail the client sees: borrowed from doc. Read with getters rather
 * than json_unpack into a local, which GCC 12's -Wdangling-pointer (Release,
 * inlined) mistakes for returning the local's address. */
static const char *wire_detail(const json_t *doc)
{
    const json_t *errors = json_object_get(doc, "errors");
    const char *detail = json_string_value(json_object_get(json_array_get(errors, 0), "detail"));
    ck_assert_ptr_nonnull(detail);
    return detail;
}

#define RP_UUID "c0000000-0000-0000-0000-000000000001"

/* oracle/edge-cases.txt: a route that exists only from a later version
 * answers with webob's explanation and no message. */
START_TEST(version_gated_405_has_no_message)
{
    struct req rq;
    test_call(&env, &rq, "DELETE", "/resource_providers/" RP_UUID "/inventories", "1.4", NULL);
    ck_assert_int_eq(rq.err.status, 405);
    json_t *doc = test_response(&rq);
    ck_assert_str_eq(wire_detail(doc), "The method DELETE is not allowed for this resource. \n\n ");
    json_decref(doc);
    req_release(&rq);
}
END_TEST

/* oracle/edge-cases.txt "GET /usages": webob turns the newlines of a
 * multi-line message (jsonschema's) into spaces. */
START_TEST(multi_line_messages_arrive_on_one_line)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "GET", "/usages", "1.39", NULL), 400);
    ck_assert_ptr_nonnull(strchr(rq.err.detail, '\n'));
    json_t *doc = test_response(&rq);
    const char *detail = wire_detail(doc);
    const char *msg = strstr(detail, "\n\n ");
    ck_assert_ptr_nonnull(msg);
    ck_assert_ptr_null(strchr(msg + 3, '\n'));
    const char want[] = "Invalid query string parameters: 'project_id' is a required property"
                        "  Failed validating 'required' in schema";
    ck_assert_msg(strncmp(msg + 3, want, strlen(want)) == 0, "detail: %s", detail);
    json_decref(doc);
    req_release(&rq);
}
END_TEST

/* Issue 14 item 3: everything but the JSON body and the handler is decided
 * on the headers alone (no body, no store connection), in Placement's order. */
START_TEST(header_phase_decides_without_the_body)
{
    static const struct {
        const char *method, *path, *token;
        int status;
    } cases[] = {
        {"POST", "/resource_providers", NULL, 401},
        {"POST", "/resource_providers", "user", 403},
        {"POST", "/nowhere", "admin", 404},
        {"PATCH", "/resource_providers", "admin", 405},
        {"PATCH", "/nowhere", NULL, 401}, /* auth before routing */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct req rq;
        req_init(&rq);
        rq.method = cases[i].method;
        rq.path = cases[i].path;
        rq.token = cases[i].token;
        rq.mv = MV(1, 39);
        rq.mv_known = true;
        rq.content_type = "application/json";
        rq.content_length = 500000; /* announced, never present */
        ck_assert(!api_dispatch_headers(&rq, &env.ctx));
        ck_assert_int_eq(rq.err.status, cases[i].status);
        ck_assert_ptr_null(rq.route);
        req_release(&rq);
    }
    struct req rq;
    req_init(&rq);
    rq.method = "POST";
    rq.path = "/resource_providers";
    rq.token = "admin";
    rq.mv = MV(1, 39);
    rq.mv_known = true;
    rq.content_type = "application/json";
    rq.content_length = 17;
    ck_assert(api_dispatch_headers(&rq, &env.ctx));
    ck_assert_ptr_nonnull(rq.route);
    ck_assert_int_eq(rq.err.status, 0);
    rq.raw_body = "{\"name\": \"split\"}";
    rq.body_len = strlen(rq.raw_body);
    api_dispatch_body(&rq, &env.ctx);
    ck_assert_msg(rq.status == 200, "status %d err %d %s", rq.status, rq.err.status, rq.err.detail);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("dispatch");
    TCase *tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, root_needs_no_token);
    tcase_add_test(tc, header_phase_decides_without_the_body);
    tcase_add_test(tc, other_paths_need_a_token);
    tcase_add_test(tc, non_admin_token_is_403_and_admin_with_project_is_admin);
    tcase_add_test(tc, body_without_json_content_type_is_415);
    tcase_add_test(tc, body_without_content_type_is_400);
    tcase_add_test(tc, malformed_json_is_400);
    tcase_add_test(tc, accept_without_json_is_406);
    tcase_add_test(tc, version_gated_405_has_no_message);
    tcase_add_test(tc, multi_line_messages_arrive_on_one_line);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
