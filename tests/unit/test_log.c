/* server/log.c: escaping of logged fields in both formats. */
#include <check.h>
#include <string.h>

#include "core/log.h"
#include "support.h"

static const char *esc(const char *s, enum log_format f)
{
    static char out[256];
    size_t n = log_escape(out, sizeof(out), s, f);
    ck_assert_uint_eq(n, strlen(out));
    return out;
}

START_TEST(text_escapes_controls_and_bad_bytes)
{
    ck_assert_str_eq(esc("/plain/path?a=1", LOG_TEXT), "/plain/path?a=1");
    ck_assert_str_eq(esc("/x\nfake", LOG_TEXT), "/x\\nfake");
    ck_assert_str_eq(esc("a\rb\tc\x1b[0m\x7f", LOG_TEXT), "a\\rb\\tc\\x1b[0m\\x7f");
    ck_assert_str_eq(esc("back\\slash \"q\"", LOG_TEXT), "back\\\\slash \"q\"");
    ck_assert_str_eq(esc("caf\xc3\xa9 \xe2\x82\xac", LOG_TEXT), "caf\xc3\xa9 \xe2\x82\xac");
    ck_assert_str_eq(esc("nel\xc2\x85ls\xe2\x80\xa8ps\xe2\x80\xa9", LOG_TEXT),
                     "nel\\u0085ls\\u2028ps\\u2029");
    ck_assert_str_eq(esc("bad\xff\xc3(\xed\xa0\x80\xf0\x82\x82\xac", LOG_TEXT),
                     "bad\\xff\\xc3(\\xed\\xa0\\x80\\xf0\\x82\\x82\\xac");
}
END_TEST

START_TEST(json_escapes_for_a_json_string)
{
    ck_assert_str_eq(esc("/x\nfake", LOG_JSON), "/x\\nfake");
    ck_assert_str_eq(esc("q\"b\\", LOG_JSON), "q\\\"b\\\\");
    ck_assert_str_eq(esc("\x01\x1b\x7f\xc2\x85", LOG_JSON), "\\u0001\\u001b\\u007f\\u0085");
    ck_assert_str_eq(esc("bad\xff", LOG_JSON), "bad\\\\xff");
    ck_assert_str_eq(esc("caf\xc3\xa9", LOG_JSON), "caf\xc3\xa9");
}
END_TEST

START_TEST(output_is_cut_safely)
{
    char small[8];
    size_t n = log_escape(small, sizeof(small), "\n\n\n\n\n\n", LOG_TEXT);
    ck_assert_uint_eq(n, 12);
    ck_assert_uint_eq(strlen(small), 7);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, text_escapes_controls_and_bad_bytes);
    tcase_add_test(tc, json_escapes_for_a_json_string);
    tcase_add_test(tc, output_is_cut_safely);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
