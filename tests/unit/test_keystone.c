/* Keystone mode's pure parts: the credentials file and Keystone's times. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/keystone.h"
#include "support.h"

static void write_file(char path[64], const char *text)
{
    strcpy(path, "/tmp/placid-ks-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

START_TEST(credentials_file_with_keystone_authtoken_names)
{
    char path[64], err[256];
    struct keystone_credentials c;
    write_file(path, "[keystone_authtoken]\n# comment\nauth_url = http://x/v3\n"
                     "username = placement \n  password=p = q\nproject_name = service\n"
                     "project_domain_name = Ops\n");
    ck_assert_int_eq(keystone_read_credentials(path, &c, err, sizeof(err)), 0);
    ck_assert_str_eq(c.username, "placement");
    ck_assert_str_eq(c.password, "p = q");
    ck_assert_str_eq(c.project_name, "service");
    ck_assert_str_eq(c.user_domain_name, "Default");
    ck_assert_str_eq(c.project_domain_name, "Ops");
    unlink(path);

    write_file(path, "username = placement\nproject_name = service\n");
    ck_assert_int_eq(keystone_read_credentials(path, &c, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "password is missing"), "%s", err);
    unlink(path);

    write_file(path, "username placement\n");
    ck_assert_int_eq(keystone_read_credentials(path, &c, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "line 1"), "%s", err);
    unlink(path);

    ck_assert_int_eq(keystone_read_credentials("/nonexistent", &c, err, sizeof(err)), -1);
}
END_TEST

START_TEST(keystone_times)
{
    ck_assert_int_eq(keystone_parse_time("1970-01-01T00:01:40.000000Z"), 100);
    ck_assert_int_eq(keystone_parse_time("2026-12-06T19:13:07.000000Z"), 1796584387);
    ck_assert_int_eq(keystone_parse_time("yesterday"), -1);
    ck_assert_int_eq(keystone_parse_time(NULL), -1);
}
END_TEST

START_TEST(config_is_checked)
{
    char err[256];
    struct keystone_config cfg = {.url = "ftp://x", .credentials = "/nonexistent"};
    ck_assert_ptr_null(keystone_new(&cfg, err, sizeof(err)));
    cfg.url = "http://127.0.0.1:1/v3";
    ck_assert_ptr_null(keystone_new(&cfg, err, sizeof(err)));
    ck_assert_msg(strstr(err, "/nonexistent"), "%s", err);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keystone");
    TCase *tc = tcase_create("keystone");
    tcase_add_test(tc, credentials_file_with_keystone_authtoken_names);
    tcase_add_test(tc, keystone_times);
    tcase_add_test(tc, config_is_checked);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
