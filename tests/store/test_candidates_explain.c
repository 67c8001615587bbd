/* The allocation candidates engine's explanation: what each constraint
 * cost, per group, and the near misses. */
#include <check.h>
#include <stdio.h>

#include "candidates_fixtures.h"

START_TEST(explain_packed_ring_names_the_missing_root_trait_and_counts_like_the_query)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    root_req(b, PACKED);
    struct xanswer *a = explain(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    /* cn1, cn2, cn3 and the sharing ss are roots. */
    ck_assert_uint_eq(a->x.trees, 4);
    ck_assert_uint_eq(a->x.trees_ok, 2);
    ck_assert_uint_eq(a->x.candidates, 2); /* as packed_case1 */
    /* ss fails earlier (no VCPU... but root_required comes first in the
     * order: it lacks the trait too). */
    ck_assert_str_eq(a->why, "root_required:" PACKED "=2");
    ck_assert_str_eq(a->groups[0], "no_inventory/0:VCPU=1");
    ck_assert_uint_eq(a->x.groups[0].trees_ok, 3);
    ck_assert_str_eq(a->near, "cn2:root_required:" PACKED "(0>0)");
}
END_TEST

START_TEST(explain_capacity_max_unit_and_step_with_near_misses_nearest_first)
{
    rp("full", NULL);
    inv_full("full", "VCPU", 8, 0, 1, 8, 1, 1.0);
    alloc("full", "VCPU", 6); /* 2 free */
    rp("fuller", NULL);
    inv_full("fuller", "VCPU", 8, 0, 1, 8, 1, 1.0);
    alloc("fuller", "VCPU", 7); /* 1 free */
    rp("small", NULL);
    inv_full("small", "VCPU", 64, 0, 1, 2, 1, 1.0); /* max_unit 2 */
    rp("stepped", NULL);
    inv_full("stepped", "VCPU", 64, 0, 4, 64, 4, 1.0); /* min_unit 4, step 4 */
    rp_inv("none", NULL, "MEMORY_MB", 64);
    rp_inv("ok", NULL, "VCPU", 8);
    struct qb *b = qb_one("VCPU:3");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 6);
    ck_assert_uint_eq(a->x.trees_ok, 1);
    ck_assert_uint_eq(a->x.candidates, 1);
    ck_assert_str_eq(a->why, "no_inventory/0:VCPU=1 capacity/0:VCPU(3>2)=2 max_unit/0:VCPU(3>2)=1 "
                             "min_unit_step/0:VCPU(3>4)=1");
    /* Nearest first (K = 3): full and small miss 1 of 3 (ties in tree
     * order), min_unit/step counts 0.5, fuller (2 of 3) is cut. */
    ck_assert_str_eq(a->near, "full:capacity:VCPU(3>2) small:max_unit:VCPU(3>2) "
                              "stepped:min_unit_step:VCPU(3>4)");
}
END_TEST

/* A tree of one provider takes a short path (issue 12, explain's cost):
 * the first failure over all classes in the constraint order, and a near
 * miss only when it failed one check; a two-provider tree the general one. */
START_TEST(explain_lone_providers_first_failure_across_classes)
{
    rp("a", NULL); /* VCPU: max_unit 2; MEMORY_MB: 4 free */
    inv_full("a", "VCPU", 8, 0, 1, 2, 1, 1.0);
    inv("a", "MEMORY_MB", 64);
    alloc("a", "MEMORY_MB", 60);
    rp("b", NULL); /* MEMORY_MB: max_unit 5 */
    inv("b", "VCPU", 8);
    inv_full("b", "MEMORY_MB", 64, 0, 1, 5, 1, 1.0);
    rp("c", NULL); /* VCPU: min_unit 4, step 4 */
    inv_full("c", "VCPU", 8, 0, 4, 8, 4, 1.0);
    inv("c", "MEMORY_MB", 64);
    rp("d", NULL); /* no MEMORY_MB */
    inv("d", "VCPU", 8);
    rp("t", NULL); /* two providers: VCPU on the root, MEMORY_MB 9 free on a child */
    inv("t", "VCPU", 8);
    rp("tc", "t");
    inv_full("tc", "MEMORY_MB", 9, 0, 1, 64, 1, 1.0);
    struct qb *b = qb_one("VCPU:3,MEMORY_MB:10");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 5);
    ck_assert_uint_eq(a->x.trees_ok, 0);
    ck_assert_str_eq(a->why, "no_inventory/0:MEMORY_MB=1 capacity/0:MEMORY_MB(10>9)=2 "
                             "max_unit/0:MEMORY_MB(10>5)=1 min_unit_step/0:VCPU(3>4)=1");
    ck_assert_str_eq(a->groups[0], a->why);
    /* Near misses of the failing class: tc is 0.1 short, b and c 0.5 (in
     * tree order), a 0.6 (cut at K = 3); d, without the class, is none. */
    ck_assert_str_eq(a->near, "tc:capacity:MEMORY_MB(10>9) b:max_unit:MEMORY_MB(10>5) "
                              "c:min_unit_step:VCPU(3>4)");
}
END_TEST

/* An unknown name the plain query never reaches (it stops at the first
 * group or root_required that matches nothing): the explanation answers
 * too, the name matching nothing; where the plain query fails, it fails. */
static struct qb *unknown_after_empty(int which)
{
    struct qb *b = qb_new();
    if (which == 0) { /* an aggregate nobody is in, then the trait, in one group */
        group(b, "", "VCPU:1");
        member_of(b, 0, AGG_B);
        req(b, 0, "CUSTOM_NOPE");
    } else if (which == 1) { /* root_required nobody has, then the trait */
        group(b, "", "VCPU:1");
        root_req(b, "CUSTOM_GOLD");
        req(b, 0, "CUSTOM_NOPE");
    } else if (which == 2) { /* a group that fits nowhere, then the class */
        group(b, "1", "VCPU:100");
        group(b, "2", "CUSTOM_NOPE:1");
    } else { /* nothing empty before the unknown trait */
        group(b, "", "VCPU:1");
        req(b, 0, "CUSTOM_NOPE");
    }
    return b;
}

START_TEST(explain_answers_where_the_plain_query_answers)
{
    rp_inv("cn1", NULL, "VCPU", 8);
    trait("cn1", "CUSTOM_SILVER");
    agg("cn1", AGG_A);
    rp("cn2", NULL); /* makes AGG_B and CUSTOM_GOLD known */
    agg("cn2", AGG_B);
    trait("cn2", "CUSTOM_GOLD");
    test_sql(cand_st, "DELETE FROM provider_aggregates WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn2')");
    test_sql(cand_st, "DELETE FROM provider_traits WHERE provider_id = "
                      "(SELECT id FROM providers WHERE name = 'cn2')");
    const char *why[] = {"aggregates/0=2", "traits/0:CUSTOM_NOPE=1 root_required:CUSTOM_GOLD=1",
                         "no_inventory/1:CUSTOM_NOPE=1 no_inventory/0:VCPU=1"};
    const char *group_why[] = {"aggregates/0=2", "traits/0:CUSTOM_NOPE=1 no_inventory/0:VCPU=1",
                               "no_inventory/1:CUSTOM_NOPE=2"};
    for (int i = 0; i < 3; i++) {
        struct answer *p = run(unknown_after_empty(i));
        ck_assert_int_eq(p->rc, STORE_OK);
        ck_assert_uint_eq(p->n_cands, 0);
        struct xanswer *a = explain(unknown_after_empty(i));
        ck_assert_msg(a->rc == STORE_OK, "case %d: rc %d", i, a->rc);
        ck_assert_uint_eq(a->x.trees, 2);
        ck_assert_uint_eq(a->x.candidates, 0);
        ck_assert_str_eq(a->why, why[i]);
        ck_assert_str_eq(a->groups[i == 2 ? 1 : 0], group_why[i]);
    }
    struct answer *p = run(unknown_after_empty(3));
    ck_assert_int_eq(p->rc, STORE_INVALID);
    ck_assert_int_eq(p->fail.kind, CAND_BAD_TRAIT);
    struct xanswer *a = explain(unknown_after_empty(3));
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
    ck_assert_str_eq(a->fail.name, "CUSTOM_NOPE");
}
END_TEST

START_TEST(explain_traits_aggregates_and_in_tree_in_order)
{
    rp_inv("cn1", NULL, "VCPU", 8);
    agg("cn1", AGG_A);
    rp_inv("cn2", NULL, "VCPU", 8);
    agg("cn2", AGG_A);
    trait("cn2", "CUSTOM_GOLD");
    rp_inv("cn3", NULL, "VCPU", 8);
    agg("cn3", AGG_B);
    trait("cn3", "CUSTOM_GOLD");
    rp_inv("cn4", NULL, "VCPU", 8);
    agg("cn4", AGG_A);
    trait("cn4", "CUSTOM_GOLD");
    trait("cn4", "CUSTOM_BAD");
    trait("cn1", "CUSTOM_BAD");
    struct qb *b = qb_one("VCPU:1");
    member_of(b, 0, AGG_A);
    req(b, 0, "CUSTOM_GOLD");
    req(b, 0, "!CUSTOM_BAD");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 1); /* cn2 */
    /* cn3: wrong aggregate; cn1 and cn4: forbidden trait (first failing in
     * the order: forbidden CUSTOM_BAD is checked on each provider); */
    ck_assert_str_eq(a->why, "aggregates/0=1 traits/0:CUSTOM_BAD!=2");
    /* A forbidden aggregate: on the provider, or (unsuffixed) on its root. */
    b = qb_one("VCPU:1");
    member_of(b, 0, "!" AGG_B);
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 3);
    ck_assert_str_eq(a->why, "aggregates/0!=1");
    b = qb_new();
    group(b, "1", "VCPU:1");
    req(b, 0, "CUSTOM_GOLD");
    b->groups[0].in_tree = uuid_of("cn3");
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 1);
    ck_assert_str_eq(a->why, "in_tree/0=3");
    /* A required trait nobody in the tree has, and any-of sets named. */
    b = qb_new();
    group(b, "1", "VCPU:1");
    req(b, 0, "CUSTOM_GOLD");
    a = explain(b);
    ck_assert_str_eq(a->why, "traits/0:CUSTOM_GOLD=1");
    ck_assert_str_eq(a->near, "cn1:traits:CUSTOM_GOLD(0>0)");
    /* Each required trait is on a usable provider, never both on one. */
    rp("t", NULL);
    rp_inv("ta", "t", "PCPU", 1);
    trait("ta", "CUSTOM_A");
    rp_inv("tb", "t", "PCPU", 1);
    trait("tb", "CUSTOM_B");
    b = qb_one("PCPU:1");
    req(b, 0, "CUSTOM_A");
    req(b, 0, "CUSTOM_B");
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 0);
    ck_assert_str_eq(a->why, "traits/0=1 no_inventory/0:PCPU=4");
    /* ... and the group's own count says so (it has no choice in t). */
    ck_assert_str_eq(a->groups[0], "traits/0=1 no_inventory/0:PCPU=4");
    ck_assert_uint_eq(a->x.groups[0].trees_ok, 0);
    ck_assert_str_eq(a->near, "");
}
END_TEST

START_TEST(explain_nested_sharing_and_granular_groups)
{
    packed_layout();
    rp_inv("cn5", NULL, "MEMORY_MB", 4096);
    rp_inv("numa5", "cn5", "VCPU", 2);
    struct qb *b = qb_one("MEMORY_MB:512,DISK_GB:100");
    group(b, "1", "VCPU:4");
    b->q.isolate = true;
    struct xanswer *a = explain(b);
    /* cn1, cn2: VCPU on the root, DISK_GB shared via A: ok. cn3: no disk.
     * cn5: no disk, VCPU too small. ss: its own tree, no MEMORY_MB. */
    ck_assert_uint_eq(a->x.trees, 5);
    ck_assert_uint_eq(a->x.trees_ok, 2);
    ck_assert_str_eq(a->why, "no_inventory/0:DISK_GB=2 no_inventory/0:MEMORY_MB=1");
    ck_assert_str_eq(a->groups[0], "no_inventory/0:DISK_GB=2 no_inventory/0:MEMORY_MB=1");
    ck_assert_str_eq(a->groups[1], "no_inventory/1:VCPU=1 capacity/1:VCPU(4>2)=1");
    ck_assert_uint_eq(a->x.groups[1].trees_ok, 3);
}
END_TEST

START_TEST(explain_same_subtree_isolate_and_summed_amounts)
{
    rp("cn", NULL);
    rp_inv("numa0", "cn", "VCPU", 4);
    rp_inv("fpga1", "cn", "FPGA", 1);
    struct qb *b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    same_subtree(b, "_C", "_A");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 0);
    ck_assert_str_eq(a->why, "same_subtree=1");
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "VCPU:1");
    b->q.isolate = true;
    ck_assert_str_eq(explain(b)->why, "isolate=1");
    b = qb_new();
    group(b, "1", "VCPU:3");
    group(b, "2", "VCPU:3");
    ck_assert_str_eq(explain(b)->why, "combined:VCPU(6>4)=1");
}
END_TEST

START_TEST(explain_counts_do_not_change_the_answer)
{
    packed_layout();
    const char *queries[] = {"VCPU:1", "VCPU:1,MEMORY_MB:512", "DISK_GB:10", "VCPU:9"};
    for (size_t i = 0; i < 4; i++) {
        struct qb *b = qb_one(queries[i]);
        b->q.limit = 1;
        size_t plain_all;
        struct qb *c = qb_one(queries[i]);
        plain_all = run(c)->n_cands;
        struct xanswer *a = explain(b);
        ck_assert_uint_eq(a->x.candidates, plain_all);
    }
    /* No root has the trait: every tree is charged to it, not skipped. */
    struct qb *b = qb_one("VCPU:1");
    root_req(b, "CUSTOM_NOBODY");
    trait("cn1", "CUSTOM_OTHER");
    test_sql(cand_st, "INSERT INTO traits(name, created_at) VALUES ('CUSTOM_NOBODY', 0)");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 4);
    ck_assert_str_eq(a->why, "root_required:CUSTOM_NOBODY=4");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("candidates_explain");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, cand_fixture_setup, cand_fixture_teardown);
    tcase_add_test(tc, explain_packed_ring_names_the_missing_root_trait_and_counts_like_the_query);
    tcase_add_test(tc, explain_capacity_max_unit_and_step_with_near_misses_nearest_first);
    tcase_add_test(tc, explain_lone_providers_first_failure_across_classes);
    tcase_add_test(tc, explain_answers_where_the_plain_query_answers);
    tcase_add_test(tc, explain_traits_aggregates_and_in_tree_in_order);
    tcase_add_test(tc, explain_nested_sharing_and_granular_groups);
    tcase_add_test(tc, explain_same_subtree_isolate_and_summed_amounts);
    tcase_add_test(tc, explain_counts_do_not_change_the_answer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
