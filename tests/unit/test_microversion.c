/* Microversion header parsing. */
#include <check.h>

#include "server/microversion.h"
#include "support.h"

static enum mv_result parse(const char *h, unsigned *mv)
{
    char err[128];
    return mv_parse(h, mv, err, sizeof(err));
}

START_TEST(absent_header_is_1_0)
{
    unsigned mv = 99;
    ck_assert_int_eq(parse(NULL, &mv), MV_OK);
    ck_assert_uint_eq(mv, MV(1, 0));
}
END_TEST

START_TEST(latest_is_1_39)
{
    unsigned mv;
    ck_assert_int_eq(parse("placement latest", &mv), MV_OK);
    ck_assert_uint_eq(mv, MV(1, 39));
}
END_TEST

START_TEST(leading_zeros_parse_as_ints)
{
    unsigned mv;
    ck_assert_int_eq(parse("placement 1.05", &mv), MV_OK);
    ck_assert_uint_eq(mv, MV(1, 5));
}
END_TEST

START_TEST(last_placement_entry_wins_and_other_services_are_ignored)
{
    unsigned mv;
    ck_assert_int_eq(parse("compute 2.1, PLACEMENT 1.2, placement 1.17", &mv), MV_OK);
    ck_assert_uint_eq(mv, MV(1, 17));
    ck_assert_int_eq(parse("compute 2.1", &mv), MV_OK);
    ck_assert_uint_eq(mv, MV(1, 0));
}
END_TEST

START_TEST(malformed_values_are_400)
{
    unsigned mv;
    char err[128];
    ck_assert_int_eq(mv_parse("placement foo", &mv, err, sizeof(err)), MV_MALFORMED);
    ck_assert_str_eq(err, "invalid version string: foo; invalid literal for int() with base 10: "
                          "'foo'");
    ck_assert_int_eq(parse("placement 1", &mv), MV_MALFORMED);
    ck_assert_int_eq(parse("placement 1.x", &mv), MV_MALFORMED);
}
END_TEST

/* Upstream appends Python's reason (oracle/edge-cases.txt, "ver: foo"). */
START_TEST(malformed_messages_carry_pythons_reason)
{
    unsigned mv;
    char err[256];
    ck_assert_int_eq(mv_parse("placement 1.2.3", &mv, err, sizeof(err)), MV_MALFORMED);
    ck_assert_str_eq(err, "invalid version string: 1.2.3; invalid literal for int() with base "
                          "10: '2.3'");
    ck_assert_int_eq(mv_parse("placement pony.horse", &mv, err, sizeof(err)), MV_MALFORMED);
    ck_assert_str_eq(err, "invalid version string: pony.horse; invalid literal for int() with "
                          "base 10: 'pony'");
    ck_assert_int_eq(mv_parse("placement 1", &mv, err, sizeof(err)), MV_MALFORMED);
    ck_assert_str_eq(err, "invalid version string: 1; Version.__new__() missing 1 required "
                          "positional argument: 'minor'");
}
END_TEST

START_TEST(out_of_range_values_are_406)
{
    unsigned mv;
    char err[128];
    ck_assert_int_eq(mv_parse("placement 1.40", &mv, err, sizeof(err)), MV_UNACCEPTABLE);
    ck_assert_str_eq(err, "Unacceptable version header: 1.40");
    ck_assert_int_eq(parse("placement 2.0", &mv), MV_UNACCEPTABLE);
    ck_assert_int_eq(parse("placement 0.9", &mv), MV_UNACCEPTABLE);
}
END_TEST

START_TEST(format_round_trips)
{
    char buf[16];
    ck_assert_str_eq(mv_format(MV(1, 39), buf), "1.39");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("microversion");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, absent_header_is_1_0);
    tcase_add_test(tc, latest_is_1_39);
    tcase_add_test(tc, leading_zeros_parse_as_ints);
    tcase_add_test(tc, last_placement_entry_wins_and_other_services_are_ignored);
    tcase_add_test(tc, malformed_values_are_400);
    tcase_add_test(tc, malformed_messages_carry_pythons_reason);
    tcase_add_test(tc, out_of_range_values_are_406);
    tcase_add_test(tc, format_round_trips);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
