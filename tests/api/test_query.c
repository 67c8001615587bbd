/* api/query.c: required, member_of and resources parsing with Placement's messages. */
#include <check.h>
#include <string.h>

#include "api/query.h"
#include "server/microversion.h"
#include "support.h"

static struct req rq;

/* Resets rq for microversion 1.minor with the query "k=v&k2=v2" (no decoding). */
static void make(unsigned minor, const char *qs)
{
    req_init(&rq);
    rq.mv = MV(1, minor);
    char *copy = arena_strdup(&rq.arena, qs);
    rq.query = arena_alloc(&rq.arena, 16 * sizeof(*rq.query));
    for (char *item = strtok(copy, "&"); item; item = strtok(NULL, "&")) {
        char *eq = strchr(item, '=');
        if (eq)
            *eq = '\0';
        rq.query[rq.n_query].key = item;
        rq.query[rq.n_query].value = eq ? eq + 1 : NULL;
        rq.n_query++;
    }
}

static void teardown(void)
{
    req_release(&rq);
}

static void assert_failed(int rc, const char *detail)
{
    ck_assert_int_eq(rc, -1);
    ck_assert_int_eq(rq.err.status, 400);
    ck_assert_str_eq(rq.err.detail, detail);
}

START_TEST(required_plain_list_is_one_set_per_trait)
{
    struct trait_expr t;
    make(22, "required=A, B ,!C,!!D,A");
    ck_assert_int_eq(query_required(&rq, "required", &t), 0);
    ck_assert_uint_eq(t.n_all_of, 3);
    ck_assert_str_eq(t.all_of[0].names[0], "A");
    ck_assert_str_eq(t.all_of[1].names[0], "B");
    ck_assert_uint_eq(t.forbidden.n, 2);
    ck_assert_str_eq(t.forbidden.names[0], "C");
    ck_assert_str_eq(t.forbidden.names[1], "D");
}
END_TEST

START_TEST(required_before_1_39_keeps_only_the_last_and_refuses_in)
{
    struct trait_expr t;
    make(38, "required=A&required=B");
    ck_assert_int_eq(query_required(&rq, "required", &t), 0);
    ck_assert_uint_eq(t.n_all_of, 1);
    ck_assert_str_eq(t.all_of[0].names[0], "B");
    req_release(&rq);
    make(38, "required=in:A,B");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' "
                  "only supported since microversion 1.39. Got: in:A,B");
}
END_TEST

START_TEST(required_from_1_39_ands_repeats_and_ors_in)
{
    struct trait_expr t;
    make(39, "required1=in:A,B,A&required1=C,!D&required=X");
    ck_assert_int_eq(query_required(&rq, "required1", &t), 0);
    ck_assert_uint_eq(t.n_all_of, 2);
    ck_assert_uint_eq(t.all_of[0].n, 2);
    ck_assert_str_eq(t.all_of[0].names[1], "B");
    ck_assert_str_eq(t.all_of[1].names[0], "C");
    ck_assert_uint_eq(t.forbidden.n, 1);
    req_release(&rq);
    make(39, "required=in:A,!B");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' "
                  "does not support forbidden traits. Got: in:A,!B");
    req_release(&rq);
    make(39, "required=in:A,");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: Expected 'required' parameter value of the "
                  "form: in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: in:A,");
}
END_TEST

START_TEST(required_empty_items_and_early_forbidden_are_400)
{
    struct trait_expr t;
    make(22, "required=A,,B");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: Expected 'required' parameter value of the "
                  "form: HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: A,,B");
    req_release(&rq);
    make(21, "required=");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: Expected 'required' parameter value of the "
                  "form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty trait in: ");
    req_release(&rq);
    make(21, "required=!A");
    assert_failed(query_required(&rq, "required", &t),
                  "Invalid query string parameters: Expected 'required' parameter value of the "
                  "form: HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: !A");
}
END_TEST

START_TEST(member_of_forms_and_canonical_uuids)
{
    struct agg_expr a;
    make(32, "member_of=in:AAAAAAAA-0000-0000-0000-000000000001,aaaaaaaa000000000000000000000002"
             "&member_of=!in:aaaaaaaa-0000-0000-0000-000000000003");
    ck_assert_int_eq(query_member_of(&rq, "member_of", &a), 0);
    ck_assert_uint_eq(a.n_all_of, 1);
    ck_assert_uint_eq(a.all_of[0].n, 2);
    ck_assert_str_eq(a.all_of[0].names[0], "aaaaaaaa-0000-0000-0000-000000000001");
    ck_assert_str_eq(a.all_of[0].names[1], "aaaaaaaa-0000-0000-0000-000000000002");
    ck_assert_uint_eq(a.forbidden.n, 1);
    ck_assert_str_eq(a.forbidden.names[0], "aaaaaaaa-0000-0000-0000-000000000003");
}
END_TEST

START_TEST(member_of_errors_follow_the_microversion)
{
    struct agg_expr a;
    make(23, "member_of_X=aaaaaaaa-0000-0000-0000-000000000001"
             "&member_of_X=aaaaaaaa-0000-0000-0000-000000000002");
    assert_failed(query_member_of(&rq, "member_of_X", &a),
                  "Multiple member_of_X parameters are not supported");
    req_release(&rq);
    make(31, "member_of=!aaaaaaaa-0000-0000-0000-000000000001");
    assert_failed(query_member_of(&rq, "member_of", &a),
                  "Forbidden member_of parameters are not supported in the specified "
                  "microversion");
    req_release(&rq);
    make(32, "member_of=aaaaaaaa-0000-0000-0000-000000000001,aaaaaaaa-0000-0000-0000-000000000002");
    assert_failed(query_member_of(&rq, "member_of", &a),
                  "Multiple values for 'member_of' must be prefixed with the 'in:' or '!in:' "
                  "keyword using the valid microversion. Got: "
                  "aaaaaaaa-0000-0000-0000-000000000001,aaaaaaaa-0000-0000-0000-000000000002");
    req_release(&rq);
    make(32, "member_of=in:aaaaaaaa-0000-0000-0000-000000000001,!x");
    assert_failed(query_member_of(&rq, "member_of", &a),
                  "Invalid query string parameters: Expected 'member_of' parameter to contain "
                  "valid UUID(s). Got: !x");
}
END_TEST

START_TEST(resources_parse_amounts_with_last_amount_winning)
{
    struct resource_amount *r;
    size_t n;
    make(4, "resources=VCPU:2,DISK_GB: 10 ,VCPU:3");
    ck_assert_int_eq(query_resources(&rq, "resources", &r, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(r[0].rc, "VCPU");
    ck_assert_int_eq(r[0].amount, 3);
    ck_assert_str_eq(r[1].rc, "DISK_GB");
    ck_assert_int_eq(r[1].amount, 10);
}
END_TEST

START_TEST(resources_errors_carry_placements_messages)
{
    struct resource_amount *r;
    size_t n;
    make(4, "resources=");
    assert_failed(query_resources(&rq, "resources", &r, &n),
                  "Badly formed resources parameter. Expected resources query string parameter "
                  "in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: empty string.");
    req_release(&rq);
    make(4, "resources=DISK_GB:500,");
    assert_failed(query_resources(&rq, "resources", &r, &n),
                  "Badly formed resources parameter. Expected resources query string parameter "
                  "in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: .");
    req_release(&rq);
    make(4, "resources=VCPU:fred");
    assert_failed(query_resources(&rq, "resources", &r, &n),
                  "Requested resource VCPU expected positive integer amount. Got: fred.");
    req_release(&rq);
    make(4, "resources=VCPU:-2");
    assert_failed(query_resources(&rq, "resources", &r, &n),
                  "Requested resource VCPU requires amount >= 1. Got: -2.");
}
END_TEST

START_TEST(absent_keys_give_empty_results)
{
    struct trait_expr t;
    struct agg_expr a;
    struct resource_amount *r;
    size_t n = 9;
    make(39, "other=1");
    ck_assert_int_eq(query_required(&rq, "required", &t), 0);
    ck_assert_int_eq(query_member_of(&rq, "member_of", &a), 0);
    ck_assert_int_eq(query_resources(&rq, "resources", &r, &n), 0);
    ck_assert_uint_eq(t.n_all_of + t.forbidden.n + a.n_all_of + a.forbidden.n + n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("query");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, required_plain_list_is_one_set_per_trait);
    tcase_add_test(tc, required_before_1_39_keeps_only_the_last_and_refuses_in);
    tcase_add_test(tc, required_from_1_39_ands_repeats_and_ors_in);
    tcase_add_test(tc, required_empty_items_and_early_forbidden_are_400);
    tcase_add_test(tc, member_of_forms_and_canonical_uuids);
    tcase_add_test(tc, member_of_errors_follow_the_microversion);
    tcase_add_test(tc, resources_parse_amounts_with_last_amount_winning);
    tcase_add_test(tc, resources_errors_carry_placements_messages);
    tcase_add_test(tc, absent_keys_give_empty_results);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
