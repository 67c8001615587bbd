/* The JSON text writer: escaping, integers, and large replies in kept
 * mappings. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_text.h"
#include "server/req.h"
#include "support.h"

/* jt_str(s) as a NUL-terminated string (static buffer). */
static const char *quoted(const char *s)
{
    static char out[1024];
    struct jtext b = {0};
    jt_str(&b, s);
    ck_assert_uint_lt(b.n, sizeof(out));
    memcpy(out, b.p, b.n);
    out[b.n] = '\0';
    jt_free(&b);
    return out;
}

START_TEST(plain_strings_are_copied_between_quotes)
{
    ck_assert_str_eq(quoted(""), "\"\"");
    ck_assert_str_eq(quoted("VCPU"), "\"VCPU\"");
    ck_assert_str_eq(quoted("c0000000-0000-0000-0000-000000000001"),
                     "\"c0000000-0000-0000-0000-000000000001\"");
    ck_assert_str_eq(quoted("caf\xc3\xa9 \x7f~"), "\"caf\xc3\xa9 \x7f~\"");
}
END_TEST

/* Every byte that needs escaping, at every position of an 8-byte word and in
 * the tail after the last whole word. */
START_TEST(special_bytes_are_escaped_wherever_they_are)
{
    const char specials[] = {'"', '\\', '\n', '\x01', '\x1f'};
    const char *escaped[] = {"\\\"", "\\\\", "\\u000a", "\\u0001", "\\u001f"};
    for (size_t k = 0; k < sizeof(specials); k++)
        for (size_t pos = 0; pos < 19; pos++) {
            char in[20], want[64];
            memset(in, 'a', 19);
            in[19] = '\0';
            in[pos] = specials[k];
            size_t n = 0;
            want[n++] = '"';
            for (size_t i = 0; i < 19; i++) {
                if (i == pos) {
                    strcpy(want + n, escaped[k]);
                    n += strlen(escaped[k]);
                } else {
                    want[n++] = 'a';
                }
            }
            want[n++] = '"';
            want[n] = '\0';
            ck_assert_str_eq(quoted(in), want);
        }
}
END_TEST

START_TEST(integers_include_the_extremes)
{
    struct jtext b = {0};
    long long v[] = {0, 7, -7, 1234567890123LL, LLONG_MAX, LLONG_MIN};
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        jt_int(&b, v[i]);
        JT_LIT(&b, ",");
    }
    jt_raw(&b, "", 1);
    ck_assert_str_eq(b.p, "0,7,-7,1234567890123,9223372036854775807,-9223372036854775808,");
    jt_free(&b);
}
END_TEST

/* Replies past the mapping threshold, several in a row so that kept
 * mappings are reused, each with exactly its own text. */
START_TEST(large_replies_reuse_mappings_and_keep_their_text)
{
    for (int round = 0; round < 4; round++) {
        struct jtext parts[2] = {{0}, {0}};
        size_t lines = 20000 + 130000 * (size_t)round; /* the last one past 2 MiB */
        for (size_t i = 0; i < lines; i++) {
            jt_int(&parts[0], (long long)i + round);
            JT_LIT(&parts[0], "\n");
        }
        JT_LIT(&parts[1], "end");
        struct req rq;
        req_init(&rq);
        jt_reply(&rq, parts, 2);
        ck_assert_ptr_nonnull(rq.reply_text);
        ck_assert_uint_eq(strlen(rq.reply_text), rq.reply_text_len);
        char *p = rq.reply_text;
        size_t bad = 0; /* counted, not asserted per line: Check's asserts are slow */
        for (size_t i = 0; i < lines; i++) {
            char *end;
            bad += strtoll(p, &end, 10) != (long long)i + round || *end != '\n';
            p = end + 1;
        }
        ck_assert_uint_eq(bad, 0);
        ck_assert_str_eq(p, "end");
        req_release(&rq);
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("json_text");
    TCase *tc = tcase_create("writer");
    tcase_add_test(tc, plain_strings_are_copied_between_quotes);
    tcase_add_test(tc, special_bytes_are_escaped_wherever_they_are);
    tcase_add_test(tc, integers_include_the_extremes);
    tcase_add_test(tc, large_replies_reuse_mappings_and_keep_their_text);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
