/* store/inventories.c: inventory records and the provider generation rule. */
#include <check.h>
#include <string.h>

#include "support.h"

#define U1 "00000000-0000-0000-0000-000000000001"
#define C1 "cccccccc-0000-0000-0000-000000000001"

static struct store *st;
static char path[96];
static long long rp; /* provider id of U1 */

static void setup(void)
{
    st = test_store_open(path);
    rp = test_provider(st, U1, "cn1", NULL);
}

static void teardown(void)
{
    test_store_close(st, path);
}

static long long generation(void)
{
    struct provider_ref ref;
    ck_assert_int_eq(store_provider_ref(st, U1, &ref), STORE_OK);
    return ref.generation;
}

static int collect(void *arg, const struct inventory *i)
{
    char *out = arg;
    char item[300];
    snprintf(item, sizeof(item), "%s%s=%lld", out[0] ? "," : "", i->resource_class, i->total);
    strcat(out, item);
    return 0;
}

static const char *listing(void)
{
    static char out[1024];
    out[0] = '\0';
    struct provider_ref ref;
    ck_assert_int_eq(store_inventories_list(st, U1, &ref, collect, out), STORE_OK);
    ck_assert_int_eq(ref.id, rp);
    return out;
}

static void allocate(const char *rc, long long used)
{
    struct alloc_item item = {U1, rc, used};
    struct consumer_allocs c = {.uuid = C1, .project_id = "p", .user_id = "u",
                                .items = &item, .n_items = 1};
    struct acct_failure fail;
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
}

START_TEST(replace_writes_every_class_and_bumps_the_generation_once)
{
    struct inventory set[] = {test_inventory("VCPU", 8), test_inventory("DISK_GB", 100)};
    struct acct_failure fail;
    long long gen = -1;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 2, &gen, &fail), STORE_OK);
    ck_assert_int_eq(gen, 1);
    ck_assert_str_eq(listing(), "VCPU=8,DISK_GB=100");
    /* The same set again still bumps (upstream always increments). */
    ck_assert_int_eq(store_inventories_replace(st, rp, 1, set, 2, &gen, &fail), STORE_OK);
    ck_assert_int_eq(gen, 2);
    ck_assert_int_eq(generation(), 2);
}
END_TEST

START_TEST(replace_deletes_missing_classes_and_keeps_the_rest)
{
    struct inventory set[] = {test_inventory("VCPU", 8), test_inventory("DISK_GB", 100)};
    struct inventory smaller[] = {test_inventory("DISK_GB", 50)};
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 2, NULL, &fail), STORE_OK);
    ck_assert_int_eq(store_inventories_replace(st, rp, 1, smaller, 1, NULL, &fail), STORE_OK);
    ck_assert_str_eq(listing(), "DISK_GB=50");
    ck_assert_int_eq(store_inventories_replace(st, rp, -1, NULL, 0, NULL, &fail), STORE_OK);
    ck_assert_str_eq(listing(), "");
    ck_assert_int_eq(generation(), 3);
}
END_TEST

START_TEST(stale_generation_is_a_conflict_and_writes_nothing)
{
    struct inventory set[] = {test_inventory("VCPU", 8)};
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 7, set, 1, NULL, &fail), STORE_CONFLICT);
    ck_assert_int_eq(fail.kind, ACCT_PROVIDER_GENERATION);
    ck_assert_int_eq(fail.expected, 0);
    ck_assert_int_eq(fail.got, 7);
    ck_assert_str_eq(listing(), "");
    ck_assert_int_eq(generation(), 0);
}
END_TEST

START_TEST(unknown_class_fails_before_anything_is_written)
{
    struct inventory set[] = {test_inventory("VCPU", 8), test_inventory("HOUSE", 1)};
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 2, NULL, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_CLASS_MISSING);
    ck_assert_str_eq(fail.classes, "HOUSE");
    ck_assert_str_eq(listing(), "");
    ck_assert_int_eq(generation(), 0);
}
END_TEST

START_TEST(removing_classes_in_use_names_them_all_in_class_order)
{
    struct inventory set[] = {test_inventory("DISK_GB", 100), test_inventory("VCPU", 8),
                              test_inventory("MEMORY_MB", 64)};
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 3, NULL, &fail), STORE_OK);
    allocate("DISK_GB", 10);
    struct alloc_item items[] = {{U1, "DISK_GB", 10}, {U1, "VCPU", 1}};
    struct consumer_allocs c = {.uuid = C1, .project_id = "p", .user_id = "u",
                                .items = items, .n_items = 2};
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    long long gen = generation();
    struct inventory only_memory[] = {test_inventory("MEMORY_MB", 64)};
    ck_assert_int_eq(store_inventories_replace(st, rp, gen, only_memory, 1, NULL, &fail),
                     STORE_IN_USE);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_IN_USE);
    ck_assert_str_eq(fail.classes, "VCPU, DISK_GB");
    ck_assert_int_eq(generation(), gen);
    ck_assert_str_eq(listing(), "VCPU=8,MEMORY_MB=64,DISK_GB=100");
}
END_TEST

START_TEST(lowering_total_below_usage_is_allowed)
{
    struct inventory set[] = {test_inventory("VCPU", 8)};
    struct inventory less[] = {test_inventory("VCPU", 2)};
    struct acct_failure fail;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 1, NULL, &fail), STORE_OK);
    allocate("VCPU", 6);
    ck_assert_int_eq(store_inventories_replace(st, rp, 2, less, 1, NULL, &fail), STORE_OK);
    ck_assert_str_eq(listing(), "VCPU=2");
}
END_TEST

START_TEST(add_refuses_an_existing_class_and_bumps_on_success)
{
    struct inventory disk = test_inventory("DISK_GB", 100);
    struct acct_failure fail;
    long long gen;
    ck_assert_int_eq(store_inventory_add(st, rp, &disk, &gen, &fail), STORE_OK);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(store_inventory_add(st, rp, &disk, &gen, &fail), STORE_DUPLICATE);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_EXISTS);
    ck_assert_int_eq(generation(), 1);
    struct inventory bogus = test_inventory("NO_CLASS_14", 1);
    ck_assert_int_eq(store_inventory_add(st, rp, &bogus, &gen, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_CLASS_MISSING);
}
END_TEST

START_TEST(update_needs_the_generation_and_an_existing_record)
{
    struct inventory disk = test_inventory("DISK_GB", 100), more = test_inventory("DISK_GB", 200);
    struct inventory memory = test_inventory("MEMORY_MB", 10);
    struct acct_failure fail;
    long long gen;
    ck_assert_int_eq(store_inventory_add(st, rp, &disk, &gen, &fail), STORE_OK);
    ck_assert_int_eq(store_inventory_update(st, rp, 0, &more, &gen, &fail), STORE_CONFLICT);
    ck_assert_int_eq(store_inventory_update(st, rp, 1, &memory, &gen, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_MISSING);
    ck_assert_int_eq(store_inventory_update(st, rp, 1, &more, &gen, &fail), STORE_OK);
    ck_assert_int_eq(gen, 2);
    struct inventory got;
    struct provider_ref ref;
    ck_assert_int_eq(store_inventory_get(st, U1, "DISK_GB", &ref, &got), STORE_OK);
    ck_assert_int_eq(got.total, 200);
    ck_assert_int_ne(got.updated_at, 0);
    ck_assert_int_eq(store_inventory_get(st, U1, "VCPU", &ref, &got), STORE_NOT_FOUND);
}
END_TEST

START_TEST(delete_refuses_a_class_in_use_and_a_missing_one)
{
    struct inventory set[] = {test_inventory("VCPU", 8), test_inventory("DISK_GB", 100)};
    struct acct_failure fail;
    long long gen;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 2, NULL, &fail), STORE_OK);
    allocate("VCPU", 1);
    ck_assert_int_eq(store_inventory_delete(st, rp, "VCPU", &gen, &fail), STORE_IN_USE);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_IN_USE);
    ck_assert_int_eq(store_inventory_delete(st, rp, "DISK_GB", &gen, &fail), STORE_OK);
    ck_assert_int_eq(gen, 3);
    ck_assert_int_eq(store_inventory_delete(st, rp, "DISK_GB", &gen, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_MISSING);
    ck_assert_int_eq(store_inventory_delete(st, rp, "HOUSE", &gen, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_CLASS_MISSING);
    ck_assert_int_eq(generation(), 3);
}
END_TEST

START_TEST(inventory_record_round_trips_every_field)
{
    struct inventory disk = {.total = 2048, .reserved = 512, .min_unit = 10, .max_unit = 1024,
                             .step_size = 10, .allocation_ratio = 1.5};
    strcpy(disk.resource_class, "DISK_GB");
    struct acct_failure fail;
    ck_assert_int_eq(store_inventory_add(st, rp, &disk, NULL, &fail), STORE_OK);
    struct inventory got;
    struct provider_ref ref;
    ck_assert_int_eq(store_inventory_get(st, U1, "DISK_GB", &ref, &got), STORE_OK);
    ck_assert_int_eq(got.total, 2048);
    ck_assert_int_eq(got.reserved, 512);
    ck_assert_int_eq(got.min_unit, 10);
    ck_assert_int_eq(got.max_unit, 1024);
    ck_assert_int_eq(got.step_size, 10);
    ck_assert_double_eq(got.allocation_ratio, 1.5);
    ck_assert_int_eq(got.rc_id, 2);
    ck_assert_int_ne(got.created_at, 0);
    ck_assert_int_eq(got.updated_at, 0);
}
END_TEST

/* The read units of GET .../inventories and .../inventories/{rc}: the
 * provider and its records come from one read transaction, which is over
 * when the call returns; a missing provider and a missing record differ. */
static int count_in_transaction(void *arg, const struct inventory *i)
{
    (void)i;
    ck_assert_msg(test_in_transaction(st), "rows must come from the unit's snapshot");
    (*(int *)arg)++;
    return 0;
}

START_TEST(reads_take_the_provider_and_records_from_one_snapshot)
{
    struct inventory set[] = {test_inventory("VCPU", 8), test_inventory("DISK_GB", 100)}, got;
    struct acct_failure fail;
    struct provider_ref ref = {.id = -1};
    int n = 0;
    ck_assert_int_eq(store_inventories_replace(st, rp, 0, set, 2, NULL, &fail), STORE_OK);
    ck_assert_int_eq(store_inventories_list(st, U1, &ref, count_in_transaction, &n), STORE_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ref.generation, 1);
    ck_assert(!test_in_transaction(st));
    ck_assert_int_eq(store_inventories_list(st, C1, &ref, count_in_transaction, &n),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, 0);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(store_inventory_get(st, C1, "VCPU", &ref, &got), STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, 0); /* no provider */
    ck_assert_int_eq(store_inventory_get(st, U1, "MEMORY_MB", &ref, &got), STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, rp); /* a provider, no such record */
    ck_assert(!test_in_transaction(st));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_inventories");
    TCase *tc = tcase_create("inventories");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, replace_writes_every_class_and_bumps_the_generation_once);
    tcase_add_test(tc, replace_deletes_missing_classes_and_keeps_the_rest);
    tcase_add_test(tc, stale_generation_is_a_conflict_and_writes_nothing);
    tcase_add_test(tc, unknown_class_fails_before_anything_is_written);
    tcase_add_test(tc, removing_classes_in_use_names_them_all_in_class_order);
    tcase_add_test(tc, lowering_total_below_usage_is_allowed);
    tcase_add_test(tc, add_refuses_an_existing_class_and_bumps_on_success);
    tcase_add_test(tc, update_needs_the_generation_and_an_existing_record);
    tcase_add_test(tc, delete_refuses_a_class_in_use_and_a_missing_one);
    tcase_add_test(tc, inventory_record_round_trips_every_field);
    tcase_add_test(tc, reads_take_the_provider_and_records_from_one_snapshot);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
