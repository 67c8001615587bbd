/* The allocation candidates engine: the shared tree cache follows writes,
 * and the search's work is bounded (pruning, work limit, cancellation,
 * overflow). */
#include <check.h>
#include <limits.h>
#include <stdio.h>

#include "candidates_fixtures.h"
#include "store/internal.h"
#include "store/tree_cache.h"

/* ---- The shared tree cache: never older than the reader's snapshot ---- */

static struct answer *run_vcpu_memory(void)
{
    return run(qb_one("VCPU:1,MEMORY_MB:512"));
}

START_TEST(cached_trees_follow_every_kind_of_write)
{
    packed_layout();
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_uint_gt(tree_cache_bytes(cand_st->trees), 0);
    alloc("cn1", "VCPU", 8);
    ASSERT_CANDS(run_vcpu_memory(), "cn2(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    test_sql(cand_st, "UPDATE inventories SET total = 16, max_unit = 16 WHERE resource_class_id = "
                      "(SELECT id FROM resource_classes WHERE name = 'VCPU') AND provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn1')");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    test_sql(cand_st, "DELETE FROM inventories WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn2') AND resource_class_id = "
                      "(SELECT id FROM resource_classes WHERE name = 'MEMORY_MB')");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    /* numa3 moves to cn2's tree: cn3 loses its VCPU, cn2 still has no memory. */
    test_sql(cand_st,
             "UPDATE providers SET parent_id = (SELECT id FROM providers WHERE name = 'cn2'), "
             "root_id = (SELECT id FROM providers WHERE name = 'cn2') WHERE name = 'numa3'");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1)");
    test_sql(cand_st, "DELETE FROM allocations");
    test_sql(cand_st, "DELETE FROM inventories WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn1')");
    test_sql(cand_st, "DELETE FROM providers WHERE name = 'cn1'");
    ASSERT_CANDS(run_vcpu_memory(), "");
}
END_TEST

START_TEST(cached_traits_and_aggregates_follow_writes)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1");
    root_req(b, PACKED);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); numa3(VCPU=1)");
    test_sql(cand_st, "DELETE FROM provider_traits WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn3')");
    b = qb_one("VCPU:1");
    root_req(b, PACKED);
    ASSERT_CANDS(run(b), "cn1(VCPU=1)");
    b = qb_one("VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); cn2(VCPU=1)");
    test_sql(cand_st, "DELETE FROM provider_aggregates WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn2')");
    agg("cn3", AGG_A);
    b = qb_one("VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); numa3(VCPU=1)");
}
END_TEST

/* Roots in three blocks, one tree whose child was created in the last block,
 * and writes through another connection (another process, for all the
 * cache knows). */
START_TEST(cached_blocks_see_writes_from_another_connection)
{
    char name[32];
    for (int i = 0; i < 140; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        rp_inv(name, NULL, "VCPU", 1);
    }
    rp_inv("late_child", "r3", "VCPU", 4);
    struct qb *b = qb_one("VCPU:2");
    ASSERT_CANDS(run(b), "late_child(VCPU=2)");
    b = qb_one("VCPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 141);
    test_sql_file(cand_db_path,
                  "UPDATE inventories SET total = 2, max_unit = 2 WHERE provider_id = "
                  "(SELECT id FROM providers WHERE name = 'r130')");
    test_sql_file(cand_db_path,
                  "UPDATE inventories SET total = 1, max_unit = 1 WHERE provider_id = "
                  "(SELECT id FROM providers WHERE name = 'late_child')");
    b = qb_one("VCPU:2");
    ASSERT_CANDS(run(b), "r130(VCPU=2)");
    test_sql_file(cand_db_path, "DELETE FROM inventories WHERE provider_id IN "
                                "(SELECT id FROM providers WHERE name IN ('r0', 'r70'))");
    b = qb_one("VCPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 139);
}
END_TEST

START_TEST(without_a_cache_budget_nothing_is_kept)
{
    packed_layout();
    tree_cache_set_budget(cand_st->trees, 0);
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_uint_eq(tree_cache_bytes(cand_st->trees), 0);
}
END_TEST

/* ---- Bounded work: pruning, the work limit, cancellation, overflow ---- */

static const char *const SUFFIXES[] = {"1", "2",  "3",  "4",  "5",  "6",  "7",  "8",
                                       "9", "10", "11", "12", "13", "14", "15", "16"};

/* A root r with n children c0.. holding `units` of CUSTOM_X each; distinct
 * children carry a trait of their own (so they are not twins). */
static void fan(int n, long long units, bool distinct)
{
    rp("r", NULL);
    for (int i = 0; i < n; i++) {
        char name[16], t[32];
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(t, sizeof(t), "CUSTOM_T%d", i);
        rp_inv(name, "r", "CUSTOM_X", units);
        if (distinct)
            trait(name, t);
    }
}

/* n suffixed groups of CUSTOM_X:1, optionally all in one same_subtree. */
static struct qb *fan_query(int n, bool subtree, unsigned long long work_limit)
{
    struct qb *b = qb_new();
    for (int i = 0; i < n; i++)
        group(b, SUFFIXES[i], "CUSTOM_X:1");
    if (subtree) {
        for (int i = 0; i < n; i++)
            b->subtree_names[0][i] = SUFFIXES[i];
        b->subtree[0] = (struct cand_names){b->subtree_names[0], (size_t)n};
        b->q.n_same_subtree = 1;
    }
    b->q.work_limit = work_limit;
    return b;
}

START_TEST(more_groups_than_the_tree_can_hold_is_rejected_before_enumeration)
{
    fan(10, 1, true);
    /* 11 groups, 10 units: without the capacity check this enumerates every
     * injective assignment (about 10^7 steps). */
    struct answer *a = run(fan_query(11, false, 1000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    /* The ten that fit: the first candidate comes at once. */
    struct qb *b = fan_query(10, false, 1000);
    b->q.limit = 1;
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 1);
}
END_TEST

START_TEST(max_unit_bounds_what_a_provider_can_give_all_groups)
{
    rp("r", NULL);
    for (int i = 0; i < 10; i++) {
        char name[16], t[32];
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(t, sizeof(t), "CUSTOM_T%d", i);
        rp(name, "r");
        inv_full(name, "CUSTOM_X", 5, 0, 1, 1, 1, 1.0); /* 5 free, at most 1 per candidate */
        trait(name, t);
    }
    struct answer *a = run(fan_query(11, false, 1000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(isolate_with_fewer_providers_than_groups_is_rejected_before_enumeration)
{
    fan(10, 5, true);
    struct qb *b = fan_query(11, false, 1000);
    b->q.isolate = true;
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(twins_are_not_enumerated_in_every_order)
{
    fan(10, 1, false);
    /* Only the leaf can tell (same_subtree of siblings never holds): one
     * failed twin stands for all the others at each depth. */
    struct answer *a = run(fan_query(10, true, 10000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(twins_that_lead_to_candidates_are_all_reported)
{
    fan(3, 1, false);
    struct answer *a = run(fan_query(3, false, 0));
    ck_assert_uint_eq(a->n_cands, 6); /* every order: the mappings differ */
    ck_assert_str_eq(a->maps, "|1:c0|2:c1|3:c2; |1:c0|2:c2|3:c1; |1:c1|2:c0|3:c2; "
                              "|1:c1|2:c2|3:c0; |1:c2|2:c0|3:c1; |1:c2|2:c1|3:c0");
    /* A provider that is not a twin (a trait of its own) must take group 1. */
    rp_inv("b", "r", "CUSTOM_X", 1);
    trait("b", "CUSTOM_B");
    struct qb *q = fan_query(3, false, 0);
    req(q, 0, "CUSTOM_B");
    group(q, "4", "CUSTOM_X:1");
    a = run(q);
    ck_assert_uint_eq(a->n_cands, 6);
    ck_assert_str_eq(a->maps, "|1:b|2:c0|3:c1|4:c2; |1:b|2:c0|3:c2|4:c1; |1:b|2:c1|3:c0|4:c2; "
                              "|1:b|2:c1|3:c2|4:c0; |1:b|2:c2|3:c0|4:c1; |1:b|2:c2|3:c1|4:c0");
}
END_TEST

START_TEST(a_search_past_the_work_limit_gives_up)
{
    fan(10, 1, true); /* no twins: nothing prunes the same_subtree search */
    struct answer *a = run(fan_query(10, true, 20000));
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_WORK_LIMIT);
}
END_TEST

static int n_polls;

static bool cancel_on_second_poll(void *arg)
{
    (void)arg;
    return ++n_polls >= 2;
}

START_TEST(a_cancelled_search_stops)
{
    fan(10, 1, true);
    struct qb *b = fan_query(10, true, 0);
    b->q.cancelled = cancel_on_second_poll;
    n_polls = 0;
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_CANCELLED);
    ck_assert_int_eq(n_polls, 2);
}
END_TEST

START_TEST(huge_amounts_and_capacities_do_not_overflow)
{
    rp("cn", NULL);
    inv_full("cn", "VCPU", LLONG_MAX, 0, 1, LLONG_MAX, 1, 1.0);
    alloc("cn", "VCPU", 5);
    rp("odd", NULL);
    inv_full("odd", "MEMORY_MB", 10, 0, 1, 10, 1, 1e30); /* capacity past int64 */
    struct qb *b = qb_one("VCPU:9223372036854775807");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    b = qb_new(); /* 2^62 + 2^62 overflows: more than any capacity */
    group(b, "1", "VCPU:4611686018427387904");
    group(b, "2", "VCPU:4611686018427387904");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    b = qb_new(); /* 2^63 - 10 <= 2^63 - 1 - 5 */
    group(b, "1", "VCPU:4611686018427387904");
    group(b, "2", "VCPU:4611686018427387894");
    ck_assert_uint_eq(run(b)->n_cands, 1);
    b = qb_one("MEMORY_MB:10");
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 1);
    ck_assert_str_eq(a->sum_detail, "odd[parent=-,root=odd MEMORY_MB=0/9223372036854775807] ");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("candidates_cache_and_work");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, cand_fixture_setup, cand_fixture_teardown);
    tcase_add_test(tc, cached_trees_follow_every_kind_of_write);
    tcase_add_test(tc, cached_traits_and_aggregates_follow_writes);
    tcase_add_test(tc, cached_blocks_see_writes_from_another_connection);
    tcase_add_test(tc, without_a_cache_budget_nothing_is_kept);
    tcase_add_test(tc, more_groups_than_the_tree_can_hold_is_rejected_before_enumeration);
    tcase_add_test(tc, max_unit_bounds_what_a_provider_can_give_all_groups);
    tcase_add_test(tc, isolate_with_fewer_providers_than_groups_is_rejected_before_enumeration);
    tcase_add_test(tc, twins_are_not_enumerated_in_every_order);
    tcase_add_test(tc, twins_that_lead_to_candidates_are_all_reported);
    tcase_add_test(tc, a_search_past_the_work_limit_gives_up);
    tcase_add_test(tc, a_cancelled_search_stops);
    tcase_add_test(tc, huge_amounts_and_capacities_do_not_overflow);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
