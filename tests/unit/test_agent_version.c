/* agent/version.c: libvirt/QEMU version parsing and the packed-ring gate. */
#include <check.h>
#include <string.h>

#include "agent/version.h"
#include "support.h"

static struct agent_version v3(int a, int b, int c)
{
    struct agent_version v = {a, b, c};
    return v;
}

static void assert_version(const struct agent_version *v, int a, int b, int c)
{
    ck_assert_int_eq(v->major, a);
    ck_assert_int_eq(v->minor, b);
    ck_assert_int_eq(v->micro, c);
}

START_TEST(libvirt_outputs_are_parsed)
{
    struct agent_version v;
    ck_assert(agent_version_from_output("libvirtd (libvirt) 9.0.0\n", &v));
    assert_version(&v, 9, 0, 0);
    ck_assert(agent_version_from_output("virtqemud (libvirt) 10.10.0", &v));
    assert_version(&v, 10, 10, 0);
    ck_assert(agent_version_from_output("6.2.0\n", &v)); /* virsh --version */
    assert_version(&v, 6, 2, 0);
}
END_TEST

START_TEST(qemu_outputs_are_parsed_ignoring_the_package_suffix)
{
    struct agent_version v;
    ck_assert(agent_version_from_output(
        "QEMU emulator version 7.2.15 (Debian 1:7.2+dfsg-7+deb12u12)\n"
        "Copyright (c) 2003-2022 Fabrice Bellard and the QEMU Project developers\n",
        &v));
    assert_version(&v, 7, 2, 15);
    ck_assert(agent_version_from_output(
        "QEMU emulator version 4.2.0 (qemu-kvm-4.2.0-29.module+el8.2.1+7297+a825794d)", &v));
    assert_version(&v, 4, 2, 0);
    ck_assert(agent_version_from_output("QEMU emulator version 8.2", &v));
    assert_version(&v, 8, 2, 0);
}
END_TEST

START_TEST(numbers_glued_to_words_or_without_a_dot_are_not_versions)
{
    struct agent_version v;
    ck_assert(agent_version_from_output("qemu-system-x86_64 build 12 version 5.2.1", &v));
    assert_version(&v, 5, 2, 1);
    ck_assert(!agent_version_from_output("no version here", &v));
    ck_assert(!agent_version_from_output("x86_64 build 42\n1.2.3 on the second line", &v));
    ck_assert(!agent_version_from_output("", &v));
}
END_TEST

START_TEST(stated_versions_must_be_the_whole_string)
{
    struct agent_version v;
    ck_assert(agent_version_parse("6.3.0", &v));
    assert_version(&v, 6, 3, 0);
    ck_assert(agent_version_parse(" 4.2 ", &v));
    assert_version(&v, 4, 2, 0);
    ck_assert(!agent_version_parse("6", &v));
    ck_assert(!agent_version_parse("6.3.0-rc1", &v));
    ck_assert(!agent_version_parse("v6.3.0", &v));
    ck_assert(!agent_version_parse("", &v));
    ck_assert(!agent_version_parse("6..3", &v));
}
END_TEST

START_TEST(comparison_is_numeric_per_component)
{
    struct agent_version a = v3(6, 10, 0), b = v3(6, 3, 0), c = v3(6, 3, 0), d = v3(6, 3, 1);
    ck_assert_int_gt(agent_version_cmp(&a, &b), 0);
    ck_assert_int_eq(agent_version_cmp(&b, &c), 0);
    ck_assert_int_lt(agent_version_cmp(&c, &d), 0);
    struct agent_version e = v3(10, 0, 0), f = v3(9, 99, 99);
    ck_assert_int_gt(agent_version_cmp(&e, &f), 0);
}
END_TEST

START_TEST(packed_ring_needs_libvirt_6_3_and_qemu_4_2)
{
    char why[200];
    struct agent_version l62 = v3(6, 2, 0), l63 = v3(6, 3, 0), l80 = v3(8, 0, 0);
    struct agent_version q41 = v3(4, 1, 1), q42 = v3(4, 2, 0), q62 = v3(6, 2, 0);

    ck_assert(!agent_packed_ring_supported(&l62, &q42, why, sizeof(why)));
    ck_assert_str_eq(why, "libvirt 6.2.0 < 6.3.0");
    ck_assert(agent_packed_ring_supported(&l63, &q42, why, sizeof(why)));
    ck_assert_str_eq(why, "libvirt 6.3.0 >= 6.3.0 and QEMU 4.2.0 >= 4.2.0");
    ck_assert(agent_packed_ring_supported(&l80, &q62, why, sizeof(why)));
    ck_assert(!agent_packed_ring_supported(&l80, &q41, why, sizeof(why)));
    ck_assert_str_eq(why, "QEMU 4.1.1 < 4.2.0");
}
END_TEST

START_TEST(unknown_versions_never_report_the_trait)
{
    char why[200];
    struct agent_version l = v3(9, 0, 0), q = v3(7, 2, 0);
    ck_assert(!agent_packed_ring_supported(NULL, &q, why, sizeof(why)));
    ck_assert_str_eq(why, "libvirt version unknown");
    ck_assert(!agent_packed_ring_supported(&l, NULL, why, sizeof(why)));
    ck_assert_str_eq(why, "QEMU version unknown");
    ck_assert(!agent_packed_ring_supported(NULL, NULL, why, sizeof(why)));
}
END_TEST

START_TEST(format_writes_three_components)
{
    char buf[32];
    struct agent_version v = v3(10, 2, 0);
    ck_assert_str_eq(agent_version_format(&v, buf), "10.2.0");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("agent_version");
    TCase *tc = tcase_create("agent_version");
    tcase_add_test(tc, libvirt_outputs_are_parsed);
    tcase_add_test(tc, qemu_outputs_are_parsed_ignoring_the_package_suffix);
    tcase_add_test(tc, numbers_glued_to_words_or_without_a_dot_are_not_versions);
    tcase_add_test(tc, stated_versions_must_be_the_whole_string);
    tcase_add_test(tc, comparison_is_numeric_per_component);
    tcase_add_test(tc, packed_ring_needs_libvirt_6_3_and_qemu_4_2);
    tcase_add_test(tc, unknown_versions_never_report_the_trait);
    tcase_add_test(tc, format_writes_three_components);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
