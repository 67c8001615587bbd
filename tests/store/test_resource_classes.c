/* store/resource_classes.c: listing, custom ids, rename and delete rules. */
#include <check.h>
#include <string.h>

#include "store/store.h"
#include "support.h"

static char path[96];
static struct store *st;

static void setup(void)
{
    st = test_store_open(path);
}

static void teardown(void)
{
    test_store_close(st, path);
}

struct seen {
    long long ids[64];
    char names[64][256];
    size_t n;
    size_t stop_after; /* 0: never stop */
};

static int collect(void *arg, const struct resource_class *row)
{
    struct seen *s = arg;
    ck_assert_uint_lt(s->n, 64);
    s->ids[s->n] = row->id;
    strcpy(s->names[s->n], row->name);
    s->n++;
    return s->stop_after && s->n >= s->stop_after;
}

static long long create(const char *name)
{
    struct resource_class row;
    bool created = false;
    ck_assert_int_eq(store_resource_class_create(st, name, true, &row, &created), STORE_OK);
    ck_assert(created);
    ck_assert_str_eq(row.name, name);
    return row.id;
}

START_TEST(list_is_in_id_order_with_the_standard_classes_first)
{
    struct seen s = {0};
    create("CUSTOM_B");
    create("CUSTOM_A");
    ck_assert_int_eq(store_resource_classes_list(st, collect, &s), STORE_OK);
    ck_assert_uint_eq(s.n, 23);
    ck_assert_str_eq(s.names[0], "VCPU");
    ck_assert_str_eq(s.names[20], "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC");
    ck_assert_str_eq(s.names[21], "CUSTOM_B"); /* id order, not name order */
    ck_assert_str_eq(s.names[22], "CUSTOM_A");
    for (size_t i = 1; i < s.n; i++)
        ck_assert_int_lt(s.ids[i - 1], s.ids[i]);
}
END_TEST

START_TEST(a_callback_can_stop_the_list_early)
{
    struct seen s = {.stop_after = 3};
    ck_assert_int_eq(store_resource_classes_list(st, collect, &s), STORE_OK);
    ck_assert_uint_eq(s.n, 3);
}
END_TEST

START_TEST(custom_ids_start_at_10000_and_follow_the_highest_id)
{
    ck_assert_int_eq(create("CUSTOM_A"), 10000);
    ck_assert_int_eq(create("CUSTOM_B"), 10001);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_A"), STORE_OK);
    ck_assert_int_eq(create("CUSTOM_C"), 10002);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_C"), STORE_OK);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_B"), STORE_OK);
    ck_assert_int_eq(create("CUSTOM_D"), 10000);
}
END_TEST

START_TEST(create_of_an_existing_name_is_duplicate_or_idempotent)
{
    struct resource_class row;
    bool created = true;
    long long id = create("CUSTOM_A");
    ck_assert_int_eq(store_resource_class_create(st, "CUSTOM_A", true, NULL, NULL),
                     STORE_DUPLICATE);
    ck_assert_int_eq(store_resource_class_create(st, "CUSTOM_A", false, &row, &created), STORE_OK);
    ck_assert(!created);
    ck_assert_int_eq(row.id, id);
    ck_assert_int_gt(row.created_at, 0);
}
END_TEST

START_TEST(get_finds_by_exact_name)
{
    struct resource_class row;
    ck_assert_int_eq(store_resource_class_get(st, "DISK_GB", &row), STORE_OK);
    ck_assert_int_eq(row.id, 2);
    ck_assert_int_gt(row.created_at, 0);
    ck_assert_int_eq(row.updated_at, 0);
    ck_assert_int_eq(store_resource_class_get(st, "disk_gb", &row), STORE_NOT_FOUND);
}
END_TEST

START_TEST(rename_changes_the_name_and_sets_updated_at)
{
    struct resource_class row;
    long long id = create("CUSTOM_A");
    ck_assert_int_eq(store_resource_class_rename(st, "CUSTOM_A", "CUSTOM_Z", &row), STORE_OK);
    ck_assert_int_eq(row.id, id);
    ck_assert_str_eq(row.name, "CUSTOM_Z");
    ck_assert_int_gt(row.updated_at, 0);
    ck_assert_int_eq(store_resource_class_get(st, "CUSTOM_A", &row), STORE_NOT_FOUND);
}
END_TEST

START_TEST(rename_refuses_standard_missing_and_taken_names)
{
    create("CUSTOM_A");
    create("CUSTOM_B");
    /* Standard is checked before the new name, even when that is taken. */
    ck_assert_int_eq(store_resource_class_rename(st, "VCPU", "CUSTOM_A", NULL), STORE_INVALID);
    ck_assert_int_eq(store_resource_class_rename(st, "CUSTOM_NO", "CUSTOM_C", NULL),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(store_resource_class_rename(st, "CUSTOM_B", "CUSTOM_A", NULL),
                     STORE_DUPLICATE);
    struct resource_class row;
    ck_assert_int_eq(store_resource_class_get(st, "CUSTOM_B", &row), STORE_OK);
}
END_TEST

START_TEST(delete_refuses_standard_and_missing_classes)
{
    ck_assert_int_eq(store_resource_class_delete(st, "VCPU"), STORE_INVALID);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_NO"), STORE_NOT_FOUND);
}
END_TEST

START_TEST(delete_of_a_class_with_inventory_is_in_use)
{
    long long id = create("CUSTOM_GOLD");
    char sql[512];
    snprintf(
        sql, sizeof(sql),
        "INSERT INTO providers(id, uuid, name, root_id, created_at) VALUES (1, 'u1', 'rp1', 1, 0);"
        "INSERT INTO inventories(provider_id, resource_class_id, total, created_at)"
        " VALUES (1, %lld, 10, 0);",
        id);
    test_sql_file(path, sql);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_GOLD"), STORE_IN_USE);
    test_sql_file(path, "DELETE FROM inventories");
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_GOLD"), STORE_OK);
    ck_assert_int_eq(store_resource_class_delete(st, "CUSTOM_GOLD"), STORE_NOT_FOUND);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_resource_classes");
    TCase *tc = tcase_create("resource_classes");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, list_is_in_id_order_with_the_standard_classes_first);
    tcase_add_test(tc, a_callback_can_stop_the_list_early);
    tcase_add_test(tc, custom_ids_start_at_10000_and_follow_the_highest_id);
    tcase_add_test(tc, create_of_an_existing_name_is_duplicate_or_idempotent);
    tcase_add_test(tc, get_finds_by_exact_name);
    tcase_add_test(tc, rename_changes_the_name_and_sets_updated_at);
    tcase_add_test(tc, rename_refuses_standard_missing_and_taken_names);
    tcase_add_test(tc, delete_refuses_standard_and_missing_classes);
    tcase_add_test(tc, delete_of_a_class_with_inventory_is_in_use);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
