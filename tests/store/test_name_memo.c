/* store/name_memo.c: the ids of standard names are read once per store
 * handle; custom names are always read. */
#include <check.h>

#include "store/internal.h"
#include "store/name_memo.h"
#include "store/store.h"
#include "support.h"

START_TEST(memo_maps_standard_names_both_ways_and_ignores_custom_ones)
{
    struct name_memo m = {0};
    long long id = 0;
    ck_assert(!name_memo_id(&m, MEMO_TRAIT, "HW_CPU_X86_AVX2", &id));
    name_memo_note(&m, MEMO_TRAIT, "HW_CPU_X86_AVX2", 77);
    name_memo_note(&m, MEMO_RC, "VCPU", 0);
    name_memo_note(&m, MEMO_RC, "DISK_GB", 2);
    name_memo_note(&m, MEMO_TRAIT, "CUSTOM_X", 5);
    ck_assert(name_memo_id(&m, MEMO_TRAIT, "HW_CPU_X86_AVX2", &id));
    ck_assert_int_eq(id, 77);
    ck_assert_str_eq(name_memo_name(&m, MEMO_TRAIT, 77), "HW_CPU_X86_AVX2");
    ck_assert(name_memo_id(&m, MEMO_RC, "DISK_GB", &id));
    ck_assert_int_eq(id, 2);
    ck_assert_str_eq(name_memo_name(&m, MEMO_RC, 2), "DISK_GB");
    ck_assert(name_memo_id(&m, MEMO_RC, "VCPU", &id)); /* id 0 is an id */
    ck_assert_int_eq(id, 0);
    ck_assert_str_eq(name_memo_name(&m, MEMO_RC, 0), "VCPU");
    ck_assert(!name_memo_id(&m, MEMO_TRAIT, "CUSTOM_X", &id));
    ck_assert_ptr_null(name_memo_name(&m, MEMO_TRAIT, 5));
    ck_assert(!name_memo_id(&m, MEMO_RC, "HW_CPU_X86_AVX2", &id)); /* kinds apart */
    ck_assert_ptr_null(name_memo_name(&m, MEMO_RC, 77));
    name_memo_free(&m);
    ck_assert(!name_memo_id(&m, MEMO_TRAIT, "HW_CPU_X86_AVX2", &id));
}
END_TEST

/* The second lookup does not read the row: renamed behind the store's
 * back (which the API never does to a standard name), it is still found. */
START_TEST(standard_ids_are_read_once_per_handle)
{
    char path[96];
    struct store *st = test_store_open(path);
    long long first = 0, again = 0;
    ck_assert_int_eq(store_trait_id(st, "HW_CPU_X86_AVX2", &first), STORE_OK);
    ck_assert_int_eq(store_resource_class_id(st, "VCPU", &again), STORE_OK);
    test_sql_file(path, "UPDATE traits SET name = 'RENAMED_1' WHERE name = 'HW_CPU_X86_AVX2';"
                        "UPDATE resource_classes SET name = 'RENAMED_2' WHERE name = 'VCPU'");
    ck_assert_int_eq(store_trait_id(st, "HW_CPU_X86_AVX2", &again), STORE_OK);
    ck_assert_int_eq(again, first);
    ck_assert_int_eq(store_resource_class_id(st, "VCPU", &again), STORE_OK);
    ck_assert_int_eq(again, 0);
    test_store_close(st, path);
}
END_TEST

START_TEST(custom_names_are_read_every_time)
{
    char path[96];
    struct store *st = test_store_open(path);
    struct trait t;
    bool created;
    long long id = 0;
    ck_assert_int_eq(store_trait_ensure(st, "CUSTOM_GONE", &t, &created), STORE_OK);
    ck_assert_int_eq(store_trait_id(st, "CUSTOM_GONE", &id), STORE_OK);
    ck_assert_int_eq(id, t.id);
    ck_assert_int_eq(store_trait_delete(st, "CUSTOM_GONE"), STORE_OK);
    ck_assert_int_eq(store_trait_id(st, "CUSTOM_GONE", &id), STORE_NOT_FOUND);
    test_store_close(st, path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_name_memo");
    TCase *tc = tcase_create("name_memo");
    tcase_add_test(tc, memo_maps_standard_names_both_ways_and_ignores_custom_ones);
    tcase_add_test(tc, standard_ids_are_read_once_per_handle);
    tcase_add_test(tc, custom_names_are_read_every_time);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
