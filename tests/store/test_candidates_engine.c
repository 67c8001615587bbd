/* The allocation candidates engine on fixtures written with plain SQL:
 * packed-ring cases, limits and order, capacity, sharing, aggregates,
 * in_tree, same_subtree and unknown names. */
#include <check.h>
#include <stdio.h>

#include "candidates_fixtures.h"

/* ---- packed-ring.md section 6, cases 1 to 6 ---- */

START_TEST(packed_case1_root_required_keeps_trees_whose_root_has_the_trait)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    root_req(b, PACKED);
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn3 numa3");
}
END_TEST

START_TEST(packed_case2_no_trait_term_gives_every_host)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2 cn3 numa3");
}
END_TEST

START_TEST(packed_case4_forbidden_trait_excludes_trees_using_a_provider_with_it)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    req(b, 0, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn2");
}
END_TEST

START_TEST(packed_root_forbidden_keeps_roots_without_the_trait)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    root_req(b, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)");
}
END_TEST

START_TEST(packed_case5_required_is_tied_to_the_providers_used)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1");
    req(b, 0, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1");
}
END_TEST

START_TEST(packed_case5_root_required_lets_a_child_supply_the_vcpu)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1");
    root_req(b, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(VCPU=1); numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn3 numa3");
}
END_TEST

START_TEST(packed_case6_forbidden_and_root_required_same_trait_is_empty)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    req(b, 0, "!" PACKED);
    root_req(b, PACKED);
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    ck_assert_uint_eq(a->n_sums, 0);
}
END_TEST

START_TEST(packed_required_with_sharing_disk)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512,DISK_GB:10");
    req(b, 0, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1)+ss(DISK_GB=10)");
    ck_assert_str_eq(a->sums, "cn1 ss");
    ck_assert_str_eq(a->maps, "|:cn1,ss");
}
END_TEST

START_TEST(packed_root_forbidden_with_sharing_disk)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512,DISK_GB:10");
    root_req(b, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)+ss(DISK_GB=10)");
    ck_assert_str_eq(a->sums, "cn2 ss");
}
END_TEST

START_TEST(packed_old_microversion_drops_multi_provider_trees)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    b->q.nested_aware = false;
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2");
}
END_TEST

START_TEST(packed_granular_isolate_and_none)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MEMORY_MB:512");
    b->q.isolate = true;
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->maps, "|1:numa3|2:cn3");
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MEMORY_MB:512");
    a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
}
END_TEST

/* ---- Limits, order, randomization ---- */

START_TEST(order_is_by_anchor_id_and_limit_keeps_a_prefix)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MEMORY_MB:512");
    struct answer *a = run(b);
    ck_assert_str_eq(a->cands, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                               "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    b = qb_one("VCPU:1,MEMORY_MB:512");
    b->q.limit = 2;
    a = run(b);
    ck_assert_str_eq(a->cands, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2");
}
END_TEST

START_TEST(limit_cuts_summaries_to_the_kept_trees)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1");
    b->q.limit = 1;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 1);
    ck_assert_str_eq(a->cands, "cn1(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1");
}
END_TEST

START_TEST(limit_over_many_flat_providers_stops_early)
{
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "h%03d", i);
        rp_inv(name, NULL, "VCPU", 4);
    }
    struct qb *b = qb_one("VCPU:1");
    b->q.limit = 10;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 10);
    ck_assert_uint_eq(a->n_sums, 10);
    ck_assert_str_eq(sum_names[0], "h000");
    b = qb_one("VCPU:1");
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 300);
    ck_assert_uint_eq(a->n_sums, 300);
}
END_TEST

START_TEST(randomize_with_limit_samples_from_the_full_answer)
{
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "h%02d", i);
        rp_inv(name, NULL, "VCPU", 4);
    }
    struct qb *b = qb_one("VCPU:1");
    b->q.limit = 5;
    b->q.randomize = true;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 5);
    ck_assert_uint_eq(a->n_sums, 5);
    b = qb_one("VCPU:1");
    b->q.randomize = true;
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 40);
    ck_assert_uint_eq(a->n_sums, 40);
}
END_TEST

/* ---- Capacity, summaries ---- */

START_TEST(usage_and_reserved_shrink_capacity)
{
    rp("cn", NULL);
    inv_full("cn", "VCPU", 8, 2, 1, 8, 1, 2.0); /* capacity (8-2)*2 = 12 */
    alloc("cn", "VCPU", 10);
    struct qb *b = qb_one("VCPU:2");
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn(VCPU=2)");
    ck_assert_str_eq(a->sum_detail, "cn[parent=-,root=cn VCPU=10/12] ");
    b = qb_one("VCPU:3");
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(min_max_unit_and_step_size_are_checked)
{
    rp("cn", NULL);
    inv_full("cn", "MEMORY_MB", 4096, 0, 256, 2048, 256, 1.0);
    const char *ok[] = {"MEMORY_MB:256", "MEMORY_MB:2048", "MEMORY_MB:512"};
    const char *bad[] = {"MEMORY_MB:128", "MEMORY_MB:2304", "MEMORY_MB:300"};
    for (int i = 0; i < 3; i++) {
        struct qb *b = qb_one(ok[i]);
        ck_assert_uint_eq(run(b)->n_cands, 1);
        b = qb_one(bad[i]);
        ck_assert_uint_eq(run(b)->n_cands, 0);
    }
}
END_TEST

START_TEST(summaries_show_parent_root_traits_and_empty_providers)
{
    rp("cn", NULL);
    trait("cn", "HW_CPU_X86_AVX2");
    rp_inv("numa", "cn", "VCPU", 4);
    trait("numa", "CUSTOM_FOO");
    trait("numa", "HW_NUMA_ROOT");
    struct qb *b = qb_one("VCPU:1");
    struct answer *a = run(b);
    ck_assert_str_eq(a->sum_detail, "cn[parent=-,root=cn HW_CPU_X86_AVX2] "
                                    "numa[parent=cn,root=cn VCPU=0/4 HW_NUMA_ROOT CUSTOM_FOO] ");
}
END_TEST

START_TEST(groups_summing_the_same_provider_are_checked_again)
{
    rp("cn", NULL);
    inv_full("cn", "VGPU", 8, 0, 1, 2, 1, 1.0);
    struct qb *b = qb_one("VGPU:1");
    group(b, "1", "VGPU:1");
    ASSERT_CANDS(run(b), "cn(VGPU=2)");
    b = qb_one("VGPU:1");
    group(b, "1", "VGPU:1");
    group(b, "2", "VGPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 0); /* 3 > max_unit 2 */
}
END_TEST

/* ---- Sharing providers, aggregates, in_tree, same_subtree ---- */

START_TEST(sharing_only_candidate_is_reported_once)
{
    packed_layout();
    struct qb *b = qb_one("DISK_GB:100");
    struct answer *a = run(b);
    ck_assert_str_eq(a->cands, "ss(DISK_GB=100)");
    ck_assert_str_eq(a->sums, "ss");
}
END_TEST

START_TEST(sharing_needs_an_aggregate_and_the_trait)
{
    rp_inv("cn", NULL, "VCPU", 4);
    rp_inv("sh", NULL, "DISK_GB", 100);
    agg("cn", AGG_A);
    agg("sh", AGG_A);
    struct qb *b = qb_one("VCPU:1,DISK_GB:10");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    trait("sh", "MISC_SHARES_VIA_AGGREGATE");
    b = qb_one("VCPU:1,DISK_GB:10");
    ASSERT_CANDS(run(b), "cn(VCPU=1)+sh(DISK_GB=10)");
}
END_TEST

START_TEST(member_of_accepts_the_root_aggregate_for_children)
{
    rp("cn", NULL);
    rp_inv("numa", "cn", "VCPU", 4);
    agg("cn", AGG_A);
    rp_inv("other", NULL, "VCPU", 4);
    agg("other", AGG_B);
    struct qb *b = qb_one("VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "numa(VCPU=1)");
    b = qb_one("VCPU:1");
    member_of(b, 0, "!" AGG_A);
    ASSERT_CANDS(run(b), "other(VCPU=1)");
    /* A suffixed group needs the provider itself in the aggregate. */
    b = qb_new();
    group(b, "1", "VCPU:1");
    member_of(b, 0, AGG_A);
    ck_assert_uint_eq(run(b)->n_cands, 0);
}
END_TEST

START_TEST(unknown_aggregate_matches_nothing)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1");
    member_of(b, 0, "99999999-0000-0000-0000-000000000000");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(in_tree_keeps_the_group_in_one_tree)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1")->in_tree = uuid_of("numa3");
    ASSERT_CANDS(run(b), "numa3(VCPU=1)");
    b = qb_new();
    group(b, "", "VCPU:1,DISK_GB:10")->in_tree = uuid_of("cn1");
    ck_assert_uint_eq(run(b)->n_cands, 0); /* the sharing disk is out of the tree */
    b = qb_one("VCPU:1");
    group(b, "1", "DISK_GB:10")->in_tree = uuid_of("ss");
    ASSERT_CANDS(run(b), "cn1(VCPU=1)+ss(DISK_GB=10); cn2(VCPU=1)+ss(DISK_GB=10)");
}
END_TEST

START_TEST(same_subtree_ties_groups_under_one_provider)
{
    rp("cn", NULL);
    rp_inv("numa0", "cn", "VCPU", 4);
    rp_inv("fpga0", "numa0", "FPGA", 1);
    rp_inv("numa1", "cn", "VCPU", 4);
    rp_inv("fpga1", "numa1", "FPGA", 1);
    struct qb *b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 4);
    b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    same_subtree(b, "_C", "_A");
    a = run(b);
    ASSERT_CANDS(a, "fpga0(FPGA=1)+numa0(VCPU=1); fpga1(FPGA=1)+numa1(VCPU=1)");
}
END_TEST

START_TEST(resourceless_group_maps_a_provider_by_trait)
{
    rp("cn", NULL);
    rp("nic", "cn");
    trait("nic", "CUSTOM_HW_NIC_ROOT");
    rp_inv("pf", "nic", "CUSTOM_VF", 8);
    struct qb *b = qb_new();
    group(b, "_PORT", "CUSTOM_VF:2");
    group(b, "_NIC", "");
    req(b, 1, "CUSTOM_HW_NIC_ROOT");
    same_subtree(b, "_NIC", "_PORT");
    struct answer *a = run(b);
    ASSERT_CANDS(a, "pf(CUSTOM_VF=2)");
    ck_assert_str_eq(a->maps, "|_PORT:pf|_NIC:nic");
    ck_assert_str_eq(a->sums, "cn nic pf");
}
END_TEST

/* ---- Unknown names ---- */

START_TEST(unknown_names_are_reported)
{
    packed_layout();
    struct qb *b = qb_one("VCPU:1,MCPU:2");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_RESOURCE_CLASS);
    ck_assert_str_eq(a->fail.name, "MCPU");
    b = qb_one("VCPU:1");
    req(b, 0, "CUSTOM_NOPE");
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
    ck_assert_str_eq(a->fail.name, "CUSTOM_NOPE");
    b = qb_one("VCPU:1");
    root_req(b, "CUSTOM_ROOTLESS");
    a = run(b);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
}
END_TEST

START_TEST(an_empty_earlier_group_hides_a_later_unknown_trait)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:1")->in_tree = "99999999-0000-0000-0000-000000000000";
    group(b, "2", "VCPU:1");
    req(b, 1, "CUSTOM_NOPE");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(a_group_matching_nothing_hides_a_later_unknown_class)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:100"); /* no provider has that much */
    group(b, "2", "MCPU:1");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MCPU:1");
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_str_eq(a->fail.name, "MCPU");
}
END_TEST

/* ---- The shared tree cache: never older than the reader's snapshot ---- */

static Suite *suite(void)
{
    Suite *s = suite_create("candidates_engine");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, cand_fixture_setup, cand_fixture_teardown);
    tcase_add_test(tc, packed_case1_root_required_keeps_trees_whose_root_has_the_trait);
    tcase_add_test(tc, packed_case2_no_trait_term_gives_every_host);
    tcase_add_test(tc, packed_case4_forbidden_trait_excludes_trees_using_a_provider_with_it);
    tcase_add_test(tc, packed_root_forbidden_keeps_roots_without_the_trait);
    tcase_add_test(tc, packed_case5_required_is_tied_to_the_providers_used);
    tcase_add_test(tc, packed_case5_root_required_lets_a_child_supply_the_vcpu);
    tcase_add_test(tc, packed_case6_forbidden_and_root_required_same_trait_is_empty);
    tcase_add_test(tc, packed_required_with_sharing_disk);
    tcase_add_test(tc, packed_root_forbidden_with_sharing_disk);
    tcase_add_test(tc, packed_old_microversion_drops_multi_provider_trees);
    tcase_add_test(tc, packed_granular_isolate_and_none);
    tcase_add_test(tc, order_is_by_anchor_id_and_limit_keeps_a_prefix);
    tcase_add_test(tc, limit_cuts_summaries_to_the_kept_trees);
    tcase_add_test(tc, limit_over_many_flat_providers_stops_early);
    tcase_add_test(tc, randomize_with_limit_samples_from_the_full_answer);
    tcase_add_test(tc, usage_and_reserved_shrink_capacity);
    tcase_add_test(tc, min_max_unit_and_step_size_are_checked);
    tcase_add_test(tc, summaries_show_parent_root_traits_and_empty_providers);
    tcase_add_test(tc, groups_summing_the_same_provider_are_checked_again);
    tcase_add_test(tc, sharing_only_candidate_is_reported_once);
    tcase_add_test(tc, sharing_needs_an_aggregate_and_the_trait);
    tcase_add_test(tc, member_of_accepts_the_root_aggregate_for_children);
    tcase_add_test(tc, unknown_aggregate_matches_nothing);
    tcase_add_test(tc, in_tree_keeps_the_group_in_one_tree);
    tcase_add_test(tc, same_subtree_ties_groups_under_one_provider);
    tcase_add_test(tc, resourceless_group_maps_a_provider_by_trait);
    tcase_add_test(tc, unknown_names_are_reported);
    tcase_add_test(tc, an_empty_earlier_group_hides_a_later_unknown_trait);
    tcase_add_test(tc, a_group_matching_nothing_hides_a_later_unknown_class);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
