/* Placement's JSON error body. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "server/microversion.h"
#include "server/req.h"
#include "support.h"

static json_t *error_body(unsigned mv, int status, const char *code, const char *msg)
{
    struct req rq;
    req_init(&rq);
    rq.mv = mv;
    ck_assert_int_eq(req_fail(&rq, status, code, "%s", msg), -1);
    json_t *body = req_error_to_json(&rq, "GET");
    req_release(&rq);
    return body;
}

START_TEST(body_has_status_title_detail_request_id_and_no_code_before_1_23)
{
    json_t *body = error_body(MV(1, 22), 404, ERR_DEFAULT, "No resource provider with uuid x found");
    int status;
    const char *title, *detail, *rid;
    ck_assert_int_eq(json_unpack(body, "{s:[{s:i,s:s,s:s,s:s!}]!}", "errors", "status", &status,
                                 "title", &title, "detail", &detail, "request_id", &rid),
                     0);
    ck_assert_int_eq(status, 404);
    ck_assert_str_eq(title, "Not Found");
    ck_assert_str_eq(detail,
                     "The resource could not be found.\n\n No resource provider with uuid x found  ");
    ck_assert_int_eq(strncmp(rid, "req-", 4), 0);
    json_decref(body);
}
END_TEST

START_TEST(code_appears_from_1_23)
{
    json_t *body = error_body(MV(1, 23), 409, ERR_CONCURRENT_UPDATE, "generation conflict");
    const char *code;
    ck_assert_int_eq(json_unpack(body, "{s:[{s:s}]}", "errors", "code", &code), 0);
    ck_assert_str_eq(code, "placement.concurrent_update");
    json_decref(body);
    body = error_body(MV(1, 39), 400, NULL, "bad");
    ck_assert_int_eq(json_unpack(body, "{s:[{s:s}]}", "errors", "code", &code), 0);
    ck_assert_str_eq(code, "placement.undefined_code");
    json_decref(body);
}
END_TEST

START_TEST(first_error_wins)
{
    struct req rq;
    req_init(&rq);
    req_fail(&rq, 400, NULL, "first");
    req_fail(&rq, 409, NULL, "second");
    ck_assert_int_eq(rq.err.status, 400);
    ck_assert_str_eq(rq.err.detail, "first");
    req_release(&rq);
}
END_TEST

START_TEST(invalid_utf8_in_detail_is_replaced)
{
    json_t *body = error_body(MV(1, 0), 400, NULL, "bad \xff name");
    const char *detail;
    ck_assert_int_eq(json_unpack(body, "{s:[{s:s}]}", "errors", "detail", &detail), 0);
    ck_assert_ptr_nonnull(strstr(detail, "bad ? name"));
    json_decref(body);
}
END_TEST

/* Issue 14 item 10: whatever the request put in the message (here a version
 * header) reaches an HTML page only as text. */
START_TEST(html_error_page_escapes_what_it_echoes)
{
    struct req rq;
    req_init(&rq);
    req_fail(&rq, 400, NULL, "Invalid microversion: <script>alert('x&y\"')</script>");
    char *html = req_error_to_text(&rq, "GET", true);
    ck_assert_ptr_null(strstr(html, "<script"));
    ck_assert_ptr_nonnull(strstr(html, "&lt;script&gt;alert(&#x27;x&amp;y&quot;&#x27;)"
                                       "&lt;/script&gt;"));
    ck_assert_ptr_nonnull(strstr(html, "<h1>400 Bad Request</h1>"));
    free(html);
    char *text = req_error_to_text(&rq, "GET", false);
    ck_assert_ptr_nonnull(strstr(text, "<script>alert('x&y\"')</script>"));
    free(text);
    req_release(&rq);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("errors");
    TCase *tc = tcase_create("errors");
    tcase_add_test(tc, body_has_status_title_detail_request_id_and_no_code_before_1_23);
    tcase_add_test(tc, code_appears_from_1_23);
    tcase_add_test(tc, first_error_wins);
    tcase_add_test(tc, invalid_utf8_in_detail_is_replaced);
    tcase_add_test(tc, html_error_page_escapes_what_it_echoes);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
