/* agent/token.c: where placid-agent's token may come from and what it may
 * look like (issue 14, item 12). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/token.h"
#include "support.h"

START_TEST(loopback_urls_are_recognised)
{
    static const char *const yes[] = {
        "http://127.0.0.1:8778",      "http://127.1.2.3/",         "https://localhost:8778/x",
        "http://LOCALHOST",           "http://[::1]:8778",         "http://[::ffff:127.0.0.1]:1/",
        "http://user:pw@127.0.0.1:9", "127.0.0.1:8778",
    };
    static const char *const no[] = {
        "http://10.0.0.1:8778",     "http://placid.example:8778", "http://0.0.0.0:8778",
        "http://[::2]:8778",        "http://128.0.0.1",           "http://localhost.evil.com/",
        "http://127.0.0.1.nip.io/", "http://[::1",                "http://",
        "",                         "http://[::ffff:10.0.0.1]/",  "http://127.0.0.1@evil.com/",
    };
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        ck_assert_msg(agent_url_is_loopback(yes[i]), "%s", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        ck_assert_msg(!agent_url_is_loopback(no[i]), "%s", no[i]);
}
END_TEST

START_TEST(a_long_token_is_accepted_whole_up_to_the_limit)
{
    char err[256];
    char *t = malloc(AGENT_MAX_TOKEN + 2);
    memset(t, 'a', AGENT_MAX_TOKEN);
    t[AGENT_MAX_TOKEN] = '\0';
    ck_assert_int_eq(agent_token_check(t, err, sizeof(err)), 0);
    t[AGENT_MAX_TOKEN] = 'a';
    t[AGENT_MAX_TOKEN + 1] = '\0';
    ck_assert_int_eq(agent_token_check(t, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "the token is 8193 characters long; at most 8192 are accepted");
    free(t);
}
END_TEST

START_TEST(tokens_that_would_break_the_header_are_refused)
{
    char err[256];
    ck_assert_int_eq(agent_token_check("", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "the token is empty");
    ck_assert_int_eq(agent_token_check("abc\r\nX-Evil: 1", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "the token has a space, control or non-ASCII character at position 4");
    ck_assert_int_eq(agent_token_check("a b", err, sizeof(err)), -1);
    ck_assert_int_eq(agent_token_check("caf\xc3\xa9", err, sizeof(err)), -1);
    ck_assert_int_eq(agent_token_check("gAAAAABk-_=.~", err, sizeof(err)), 0);
}
END_TEST

/* Writes text to a new temporary file; the path goes into path[64]. */
static void temp_file(char path[64], const char *text, size_t len)
{
    snprintf(path, 64, "/tmp/placid-token-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    close(fd);
}

START_TEST(the_token_file_gives_its_first_line_stripped)
{
    char path[64], err[256];
    temp_file(path, "  s3cret-token \r\nsecond line\n", 29);
    char *t = agent_token_read_file(path, err, sizeof(err));
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t, "s3cret-token");
    free(t);
    unlink(path);
    temp_file(path, "no-newline", 10);
    t = agent_token_read_file(path, err, sizeof(err));
    ck_assert_str_eq(t, "no-newline");
    free(t);
    unlink(path);
}
END_TEST

START_TEST(a_bad_token_file_is_a_one_line_error)
{
    char path[64], err[256];
    ck_assert_ptr_null(agent_token_read_file("/nonexistent/token", err, sizeof(err)));
    ck_assert_str_eq(err, "cannot read token file /nonexistent/token: No such file or directory");
    temp_file(path, "\n", 1);
    ck_assert_ptr_null(agent_token_read_file(path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, ": the token is empty"));
    unlink(path);
    size_t n = 3 * AGENT_MAX_TOKEN;
    char *big = malloc(n);
    memset(big, 'x', n);
    temp_file(path, big, n);
    ck_assert_ptr_null(agent_token_read_file(path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "the first line is too long (at most 8192 characters)"));
    unlink(path);
    free(big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_token");
    TCase *tc = tcase_create("agent_token");
    tcase_add_test(tc, loopback_urls_are_recognised);
    tcase_add_test(tc, a_long_token_is_accepted_whole_up_to_the_limit);
    tcase_add_test(tc, tokens_that_would_break_the_header_are_refused);
    tcase_add_test(tc, the_token_file_gives_its_first_line_stripped);
    tcase_add_test(tc, a_bad_token_file_is_a_one_line_error);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
