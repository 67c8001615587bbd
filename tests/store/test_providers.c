/* store/providers.c: create, update (re-parenting), delete and the filtered list. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"
#include "support.h"

#define U1   "00000000-0000-0000-0000-000000000001"
#define U2   "00000000-0000-0000-0000-000000000002"
#define U3   "00000000-0000-0000-0000-000000000003"
#define U4   "00000000-0000-0000-0000-000000000004"
#define AGG1 "aaaaaaaa-0000-0000-0000-000000000001"
#define AGG2 "aaaaaaaa-0000-0000-0000-000000000002"

static struct store *st;
static char path[96];

static void setup(void)
{
    st = test_store_open(path);
}

static void teardown(void)
{
    test_store_close(st, path);
}

static struct provider create(const char *uuid, const char *name, const char *parent)
{
    struct provider p;
    enum provider_problem why;
    ck_assert_int_eq(store_provider_create(st, uuid, name, parent, &p, &why), STORE_OK);
    return p;
}

/* Lists with f and writes the names, comma-separated, into out. */
static int collect(void *arg, const struct provider *p)
{
    char *out = arg;
    if (out[0])
        strcat(out, ",");
    strcat(out, p->name);
    return 0;
}

static const char *list(const struct provider_filter *f)
{
    static char out[512];
    out[0] = '\0';
    ck_assert_int_eq(store_provider_list(st, f, collect, out), STORE_OK);
    return out;
}

START_TEST(create_starts_at_generation_zero_as_its_own_root)
{
    struct provider p = create(U1, "cn1", NULL);
    ck_assert_str_eq(p.uuid, U1);
    ck_assert_str_eq(p.name, "cn1");
    ck_assert_int_eq(p.generation, 0);
    ck_assert_str_eq(p.parent_uuid, "");
    ck_assert_str_eq(p.root_uuid, U1);
    ck_assert_int_gt(p.created_at, 0);
    ck_assert_int_eq(p.updated_at, 0);

    struct provider_ref ref;
    ck_assert_int_eq(store_provider_ref(st, U1, &ref), STORE_OK);
    ck_assert_int_eq(ref.root_id, ref.id);
}
END_TEST

START_TEST(child_takes_the_root_of_its_parent)
{
    create(U1, "cn1", NULL);
    create(U2, "numa", U1);
    struct provider c = create(U3, "pf", U2);
    ck_assert_str_eq(c.parent_uuid, U2);
    ck_assert_str_eq(c.root_uuid, U1);
}
END_TEST

START_TEST(create_reports_which_field_is_taken)
{
    struct provider p;
    enum provider_problem why;
    create(U1, "cn1", NULL);
    ck_assert_int_eq(store_provider_create(st, U1, "cn1", NULL, &p, &why), STORE_DUPLICATE);
    ck_assert_int_eq(why, PROVIDER_DUPLICATE_UUID);
    ck_assert_int_eq(store_provider_create(st, U2, "cn1", NULL, &p, &why), STORE_DUPLICATE);
    ck_assert_int_eq(why, PROVIDER_DUPLICATE_NAME);
    ck_assert_int_eq(store_provider_create(st, U2, "x", U4, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_PARENT_MISSING);
    ck_assert_int_eq(store_provider_get(st, U2, &p), STORE_NOT_FOUND);
}
END_TEST

START_TEST(update_renames_without_bumping_the_generation)
{
    struct provider p;
    enum provider_problem why;
    create(U1, "cn1", NULL);
    create(U2, "cn2", NULL);
    struct provider_update upd = {.name = "renamed"};
    ck_assert_int_eq(store_provider_update(st, U1, &upd, &p, &why), STORE_OK);
    ck_assert_str_eq(p.name, "renamed");
    ck_assert_int_eq(p.generation, 0);
    ck_assert_int_gt(p.updated_at, 0);
    upd.name = "cn2";
    ck_assert_int_eq(store_provider_update(st, U1, &upd, &p, &why), STORE_DUPLICATE);
    ck_assert_int_eq(why, PROVIDER_DUPLICATE_NAME);
    ck_assert_int_eq(store_provider_update(st, U4, &upd, &p, &why), STORE_NOT_FOUND);
}
END_TEST

START_TEST(reparenting_needs_permission_except_from_no_parent)
{
    struct provider p;
    enum provider_problem why;
    create(U1, "a", NULL);
    create(U2, "b", NULL);
    create(U3, "c", NULL);
    struct provider_update upd = {.name = "c", .set_parent = true, .parent_uuid = U1};
    ck_assert_int_eq(store_provider_update(st, U3, &upd, &p, &why), STORE_OK);
    ck_assert_str_eq(p.root_uuid, U1);
    /* Same parent again is fine; another parent or none is not (before 1.37). */
    ck_assert_int_eq(store_provider_update(st, U3, &upd, &p, &why), STORE_OK);
    upd.parent_uuid = U2;
    ck_assert_int_eq(store_provider_update(st, U3, &upd, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_REPARENT_REFUSED);
    upd.parent_uuid = NULL;
    ck_assert_int_eq(store_provider_update(st, U3, &upd, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_UNPARENT_REFUSED);
    upd.parent_uuid = U4;
    ck_assert_int_eq(store_provider_update(st, U3, &upd, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_PARENT_MISSING);
}
END_TEST

START_TEST(moving_a_provider_moves_the_root_of_its_subtree)
{
    struct provider p;
    enum provider_problem why;
    create(U1, "a", NULL);
    create(U2, "b", U1);
    create(U3, "c", U2);
    create(U4, "other", NULL);
    struct provider_update upd = {
        .name = "b", .set_parent = true, .parent_uuid = U4, .allow_reparent = true};
    ck_assert_int_eq(store_provider_update(st, U2, &upd, &p, &why), STORE_OK);
    ck_assert_str_eq(p.root_uuid, U4);
    ck_assert_int_eq(store_provider_get(st, U3, &p), STORE_OK);
    ck_assert_str_eq(p.root_uuid, U4);
    /* Un-parenting makes b the root of c too. */
    upd.parent_uuid = NULL;
    ck_assert_int_eq(store_provider_update(st, U2, &upd, &p, &why), STORE_OK);
    ck_assert_str_eq(p.root_uuid, U2);
    ck_assert_str_eq(p.parent_uuid, "");
    ck_assert_int_eq(store_provider_get(st, U3, &p), STORE_OK);
    ck_assert_str_eq(p.root_uuid, U2);
}
END_TEST

START_TEST(a_provider_cannot_move_under_itself)
{
    struct provider p;
    enum provider_problem why;
    create(U1, "a", NULL);
    create(U2, "b", U1);
    create(U3, "c", U2);
    struct provider_update upd = {
        .name = "a", .set_parent = true, .parent_uuid = U3, .allow_reparent = true};
    ck_assert_int_eq(store_provider_update(st, U1, &upd, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_LOOP);
    upd.parent_uuid = U1;
    ck_assert_int_eq(store_provider_update(st, U1, &upd, &p, &why), STORE_INVALID);
    ck_assert_int_eq(why, PROVIDER_LOOP);
}
END_TEST

START_TEST(delete_refuses_parents_and_providers_with_allocations)
{
    struct provider p;
    create(U1, "a", NULL);
    create(U2, "b", U1);
    ck_assert_int_eq(store_provider_delete(st, U1), STORE_HAS_CHILDREN);
    test_sql(
        st,
        "INSERT INTO projects (id, external_id) VALUES (1, 'p');"
        "INSERT INTO users (id, external_id) VALUES (1, 'u');"
        "INSERT INTO consumers (id, uuid, project_id, user_id, created_at)"
        " VALUES (1, 'c', 1, 1, 0);"
        "INSERT INTO inventories (provider_id, resource_class_id, total, created_at)"
        " SELECT id, 0, 8, 0 FROM providers WHERE uuid = '" U2 "';"
        "INSERT INTO allocations (provider_id, consumer_id, resource_class_id, used, created_at)"
        " SELECT id, 1, 0, 1, 0 FROM providers WHERE uuid = '" U2 "';");
    ck_assert_int_eq(store_provider_delete(st, U2), STORE_IN_USE);
    test_sql(st, "DELETE FROM allocations");
    ck_assert_int_eq(store_provider_delete(st, U2), STORE_OK);
    ck_assert_int_eq(store_provider_get(st, U2, &p), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_delete(st, U2), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_delete(st, U1), STORE_OK);
}
END_TEST

START_TEST(delete_takes_inventories_traits_and_aggregate_links_along)
{
    long long gen;
    const char *aggs[] = {AGG1};
    create(U1, "a", NULL);
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, aggs, 1, NULL, &gen), STORE_OK);
    test_sql(st, "INSERT INTO inventories (provider_id, resource_class_id, total, created_at)"
                 " SELECT id, 0, 8, 0 FROM providers WHERE uuid = '" U1 "';"
                 "INSERT INTO provider_traits (provider_id, trait_id)"
                 " SELECT p.id, t.id FROM providers p, traits t WHERE p.uuid = '" U1 "' LIMIT 1;");
    ck_assert_int_eq(store_provider_delete(st, U1), STORE_OK);
    ck_assert_int_eq(test_sql_value(st, "SELECT (SELECT COUNT(*) FROM inventories) +"
                                        " (SELECT COUNT(*) FROM provider_traits) +"
                                        " (SELECT COUNT(*) FROM provider_aggregates)"),
                     0);
}
END_TEST

START_TEST(list_filters_by_name_uuid_and_tree)
{
    create(U1, "a", NULL);
    create(U2, "b", U1);
    create(U3, "c", NULL);
    ck_assert_str_eq(list(&(struct provider_filter){0}), "a,b,c");
    ck_assert_str_eq(list(&(struct provider_filter){.name = "b"}), "b");
    ck_assert_str_eq(list(&(struct provider_filter){.uuid = U3}), "c");
    ck_assert_str_eq(list(&(struct provider_filter){.in_tree = U2}), "a,b");
    ck_assert_str_eq(list(&(struct provider_filter){.in_tree = U4}), "");
}
END_TEST

START_TEST(list_filters_by_required_and_forbidden_traits)
{
    long long t1, t2;
    create(U1, "a", NULL);
    create(U2, "b", NULL);
    create(U3, "c", NULL);
    ck_assert_int_eq(store_trait_id(st, "HW_CPU_X86_AVX", &t1), STORE_OK);
    ck_assert_int_eq(store_trait_id(st, "HW_CPU_X86_SSE", &t2), STORE_OK);
    test_sql(st,
             "INSERT INTO provider_traits SELECT id, %lld FROM providers WHERE name IN ('a','b');"
             "INSERT INTO provider_traits SELECT id, %lld FROM providers WHERE name IN ('b','c');",
             t1, t2);
    struct id_set both[] = {{&t1, 1}, {&t2, 1}};
    ck_assert_str_eq(
        list(&(struct provider_filter){.required_traits = both, .n_required_traits = 2}), "b");
    long long any_ids[] = {t1, t2};
    struct id_set any = {any_ids, 2};
    ck_assert_str_eq(
        list(&(struct provider_filter){.required_traits = &any, .n_required_traits = 1}), "a,b,c");
    ck_assert_str_eq(list(&(struct provider_filter){.forbidden_traits = {&t2, 1}}), "a");
    ck_assert_str_eq(list(&(struct provider_filter){.required_traits = &both[0],
                                                    .n_required_traits = 1,
                                                    .forbidden_traits = {&t2, 1}}),
                     "a");
}
END_TEST

START_TEST(list_filters_by_aggregates)
{
    long long gen;
    const char *a1[] = {AGG1}, *a12[] = {AGG1, AGG2};
    create(U1, "a", NULL);
    create(U2, "b", NULL);
    create(U3, "c", NULL);
    ck_assert_int_eq(store_provider_aggregates_set(st, U1, a1, 1, NULL, &gen), STORE_OK);
    ck_assert_int_eq(store_provider_aggregates_set(st, U2, a12, 2, NULL, &gen), STORE_OK);
    struct uuid_set s1 = {a1, 1}, s2 = {&a12[1], 1}, any = {a12, 2};
    struct uuid_set and2[] = {s1, s2};
    ck_assert_str_eq(list(&(struct provider_filter){.member_of = &s1, .n_member_of = 1}), "a,b");
    ck_assert_str_eq(list(&(struct provider_filter){.member_of = and2, .n_member_of = 2}), "b");
    ck_assert_str_eq(list(&(struct provider_filter){.member_of = &any, .n_member_of = 1}), "a,b");
    ck_assert_str_eq(list(&(struct provider_filter){.forbidden_aggs = s2}), "a,c");
    const char *unknown[] = {"bbbbbbbb-0000-0000-0000-000000000000"};
    struct uuid_set none = {unknown, 1};
    ck_assert_str_eq(list(&(struct provider_filter){.member_of = &none, .n_member_of = 1}), "");
}
END_TEST

START_TEST(list_filters_by_capacity_units_and_step)
{
    /* a: DISK_GB total 1000 reserved 100, ratio 1.0, min 10, max 500, step 10, 300 used. */
    create(U1, "a", NULL);
    create(U2, "b", NULL);
    test_sql(
        st,
        "INSERT INTO inventories (provider_id, resource_class_id, total, reserved, min_unit,"
        " max_unit, step_size, allocation_ratio, created_at)"
        " SELECT id, 2, 1000, 100, 10, 500, 10, 1.0, 0 FROM providers WHERE name = 'a';"
        "INSERT INTO projects (id, external_id) VALUES (1, 'p');"
        "INSERT INTO users (id, external_id) VALUES (1, 'u');"
        "INSERT INTO consumers (id, uuid, project_id, user_id, created_at)"
        " VALUES (1, 'c', 1, 1, 0);"
        "INSERT INTO allocations (provider_id, consumer_id, resource_class_id, used, created_at)"
        " SELECT id, 1, 2, 300, 0 FROM providers WHERE name = 'a';");
    struct provider_amount r = {2, 500};
    struct provider_filter f = {.resources = &r, .n_resources = 1};
    ck_assert_str_eq(list(&f), "a"); /* 300 + 500 <= 900 */
    r.amount = 5;
    ck_assert_str_eq(list(&f), ""); /* below min_unit */
    r.amount = 510;
    ck_assert_str_eq(list(&f), ""); /* above max_unit */
    r.amount = 15;
    ck_assert_str_eq(list(&f), ""); /* not a multiple of step_size */
    test_sql(st, "UPDATE allocations SET used = 410");
    r.amount = 500;
    ck_assert_str_eq(list(&f), ""); /* 410 + 500 > 900 */
    r.rc_id = 0;
    r.amount = 10;
    ck_assert_str_eq(list(&f), ""); /* no VCPU inventory anywhere */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_providers");
    TCase *tc = tcase_create("providers");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, create_starts_at_generation_zero_as_its_own_root);
    tcase_add_test(tc, child_takes_the_root_of_its_parent);
    tcase_add_test(tc, create_reports_which_field_is_taken);
    tcase_add_test(tc, update_renames_without_bumping_the_generation);
    tcase_add_test(tc, reparenting_needs_permission_except_from_no_parent);
    tcase_add_test(tc, moving_a_provider_moves_the_root_of_its_subtree);
    tcase_add_test(tc, a_provider_cannot_move_under_itself);
    tcase_add_test(tc, delete_refuses_parents_and_providers_with_allocations);
    tcase_add_test(tc, delete_takes_inventories_traits_and_aggregate_links_along);
    tcase_add_test(tc, list_filters_by_name_uuid_and_tree);
    tcase_add_test(tc, list_filters_by_required_and_forbidden_traits);
    tcase_add_test(tc, list_filters_by_aggregates);
    tcase_add_test(tc, list_filters_by_capacity_units_and_step);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
