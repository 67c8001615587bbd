/* store/aggregates.c: provider aggregate links and the generation rule. */
#include <check.h>
#include <string.h>

#include "support.h"

#define U1   "00000000-0000-0000-0000-000000000001"
#define U9   "00000000-0000-0000-0000-000000000009"
#define AGG1 "aaaaaaaa-0000-0000-0000-000000000001"
#define AGG2 "aaaaaaaa-0000-0000-0000-000000000002"

static struct store *st;
static char path[96];

static void setup(void)
{
    st = test_store_open(path);
    test_provider(st, U1, "cn1", NULL);
}

static void teardown(void)
{
    test_store_close(st, path);
}

static int collect(void *arg, const char *uuid)
{
    char *out = arg;
    if (out[0])
        strcat(out, ",");
    strcat(out, uuid);
    return 0;
}

static const char *aggregates(long long *gen)
{
    static char out[256];
    out[0] = '\0';
    ck_assert_int_eq(store_provider_aggregates_get(st, U1, gen, collect, out), STORE_OK);
    return out;
}

START_TEST(aggregate_ids_are_found_by_uuid)
{
    long long id = 0, again = 0;
    ck_assert_int_eq(store_aggregate_id(st, AGG1, &id), STORE_NOT_FOUND);
    const char *aggs[] = {AGG1};
    long long gen;
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, aggs, 1, NULL, &gen), STORE_OK);
    ck_assert_int_eq(store_aggregate_id(st, AGG1, &id), STORE_OK);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(store_aggregate_id(st, AGG1, &again), STORE_OK);
    ck_assert_int_eq(again, id);
    ck_assert_int_eq(store_aggregate_id(st, AGG2, &again), STORE_NOT_FOUND);
}
END_TEST

START_TEST(set_without_generation_neither_checks_nor_bumps)
{
    long long gen = -1;
    const char *aggs[] = {AGG1, AGG2};
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, aggs, 2, NULL, &gen), STORE_OK);
    ck_assert_int_eq(gen, 0);
    ck_assert_str_eq(aggregates(&gen), AGG1 "," AGG2);
    ck_assert_int_eq(gen, 0);
}
END_TEST

START_TEST(set_with_generation_bumps_once_and_replaces_the_set)
{
    long long gen, expect = 0;
    const char *first[] = {AGG1, AGG2}, *second[] = {AGG2};
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, first, 2, &expect, &gen), STORE_OK);
    ck_assert_int_eq(gen, 1);
    expect = 1;
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, second, 1, &expect, &gen), STORE_OK);
    ck_assert_int_eq(gen, 2);
    ck_assert_str_eq(aggregates(&gen), AGG2);
    ck_assert_int_eq(gen, 2);
}
END_TEST

START_TEST(stale_generation_is_a_conflict_and_changes_nothing)
{
    long long gen, expect = 0;
    const char *aggs[] = {AGG1};
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, aggs, 1, &expect, &gen), STORE_OK);
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, NULL, 0, &expect, &gen), STORE_CONFLICT);
    ck_assert_str_eq(aggregates(&gen), AGG1);
    ck_assert_int_eq(gen, 1);
}
END_TEST

START_TEST(duplicates_in_the_set_are_linked_once)
{
    long long gen;
    const char *aggs[] = {AGG1, AGG1};
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, aggs, 2, NULL, &gen), STORE_OK);
    ck_assert_str_eq(aggregates(&gen), AGG1);
}
END_TEST

START_TEST(unknown_provider_is_not_found)
{
    long long gen;
    char out[8] = "";
    ck_assert_int_eq(store_provider_aggregates_get(st, U9, &gen, collect, out), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_aggregates_set(st, U9, NULL, 0, NULL, &gen), STORE_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_aggregates");
    TCase *tc = tcase_create("aggregates");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, set_without_generation_neither_checks_nor_bumps);
    tcase_add_test(tc, set_with_generation_bumps_once_and_replaces_the_set);
    tcase_add_test(tc, stale_generation_is_a_conflict_and_changes_nothing);
    tcase_add_test(tc, duplicates_in_the_set_are_linked_once);
    tcase_add_test(tc, unknown_provider_is_not_found);
    tcase_add_test(tc, aggregate_ids_are_found_by_uuid);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
