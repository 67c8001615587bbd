/* store/allocations.c and store/usages.c: consumers, capacity, generations,
 * the reshaper and usage sums. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define U1 "00000000-0000-0000-0000-000000000001"
#define U2 "00000000-0000-0000-0000-000000000002"
#define UX "00000000-0000-0000-0000-0000000000ff"
#define C1 "cccccccc-0000-0000-0000-000000000001"
#define C2 "cccccccc-0000-0000-0000-000000000002"
#define C3 "cccccccc-0000-0000-0000-000000000003"

static struct store *st;
static char path[96];
static long long rp1, rp2;

static void setup(void)
{
    struct acct_failure fail;
    st = test_store_open(path);
    rp1 = test_provider(st, U1, "cn1", NULL);
    rp2 = test_provider(st, U2, "cn2", NULL);
    struct inventory set1[] = {test_inventory("VCPU", 4), test_inventory("DISK_GB", 100)};
    set1[1].min_unit = 10;
    set1[1].step_size = 10;
    set1[1].max_unit = 50;
    ck_assert_int_eq(store_inventories_replace(st, rp1, 0, set1, 2, NULL, &fail), STORE_OK);
    struct inventory set2[] = {test_inventory("VCPU", 2)};
    ck_assert_int_eq(store_inventories_replace(st, rp2, 0, set2, 1, NULL, &fail), STORE_OK);
}

static void teardown(void)
{
    test_store_close(st, path);
}

static long long generation(const char *uuid)
{
    struct provider_ref ref;
    ck_assert_int_eq(store_provider_ref(st, uuid, &ref), STORE_OK);
    return ref.generation;
}

static int sum_rows(void *arg, const struct usage_row *row)
{
    char *out = arg;
    char item[300];
    snprintf(item, sizeof(item), "%s%s%s%s=%lld", out[0] ? "," : "", row->group ? row->group : "",
             row->group ? ":" : "", row->resource_class, row->used);
    strcat(out, item);
    if (row->group) {
        snprintf(item, sizeof(item), "/%lld", row->consumer_count);
        strcat(out, item);
    }
    return 0;
}

static const char *usages(long long id)
{
    static char out[1024];
    out[0] = '\0';
    struct provider_ref ref;
    ck_assert_int_eq(store_provider_usages(st, id == rp1 ? U1 : U2, &ref, sum_rows, out), STORE_OK);
    ck_assert_int_eq(ref.id, id);
    return out;
}

static struct consumer_allocs consumer(const char *uuid, const struct alloc_item *items, size_t n)
{
    struct consumer_allocs c = {.uuid = uuid, .project_id = "proj", .user_id = "user",
                                .items = items, .n_items = n};
    return c;
}

static enum store_rc put(const char *uuid, const struct alloc_item *items, size_t n,
                         struct acct_failure *fail)
{
    struct consumer_allocs c = consumer(uuid, items, n);
    return store_allocations_replace(st, &c, 1, fail);
}

static struct consumer_info info_of(const char *uuid, enum store_rc want)
{
    struct consumer_info info;
    memset(&info, 0, sizeof(info));
    ck_assert_int_eq(store_consumer_allocations(st, uuid, &info, NULL, NULL) == STORE_OK
                         ? STORE_OK
                         : STORE_NOT_FOUND,
                     want);
    return info;
}

static int no_rows(void *arg, const struct allocation_row *row)
{
    (void)arg;
    (void)row;
    return 0;
}

START_TEST(first_write_creates_the_consumer_and_bumps_every_generation)
{
    struct alloc_item items[] = {{U1, "VCPU", 2}, {U1, "DISK_GB", 20}, {U2, "VCPU", 1}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, items, 3, &fail), STORE_OK);
    ck_assert_int_eq(generation(U1), 2);
    ck_assert_int_eq(generation(U2), 2);
    struct consumer_info info;
    ck_assert_int_eq(store_consumer_allocations(st, C1, &info, no_rows, NULL), STORE_OK);
    ck_assert_int_eq(info.generation, 1);
    ck_assert_str_eq(info.project_id, "proj");
    ck_assert_str_eq(info.user_id, "user");
    ck_assert_str_eq(info.consumer_type, STORE_CONSUMER_TYPE_UNKNOWN); /* no type given */
    ck_assert_str_eq(usages(rp1), "VCPU=2,DISK_GB=20");
}
END_TEST

START_TEST(replacing_moves_the_allocations_and_touches_only_the_new_providers)
{
    struct alloc_item first[] = {{U1, "VCPU", 2}}, second[] = {{U2, "VCPU", 2}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, first, 1, &fail), STORE_OK);
    ck_assert_int_eq(put(C1, second, 1, &fail), STORE_OK);
    ck_assert_str_eq(usages(rp1), "VCPU=0,DISK_GB=0");
    ck_assert_str_eq(usages(rp2), "VCPU=2");
    ck_assert_int_eq(generation(U1), 2);
    ck_assert_int_eq(generation(U2), 2);
    ck_assert_int_eq(info_of(C1, STORE_OK).generation, 2);
}
END_TEST

START_TEST(capacity_is_checked_against_everybody_else)
{
    struct alloc_item three[] = {{U1, "VCPU", 3}}, two[] = {{U1, "VCPU", 2}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, three, 1, &fail), STORE_OK);
    ck_assert_int_eq(put(C2, two, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_CAPACITY);
    ck_assert_str_eq(fail.classes, "VCPU");
    ck_assert_str_eq(fail.providers, U1);
    /* The consumer's own old allocation does not count against it. */
    struct alloc_item four[] = {{U1, "VCPU", 4}};
    ck_assert_int_eq(put(C1, four, 1, &fail), STORE_OK);
    info_of(C2, STORE_NOT_FOUND);
    ck_assert_str_eq(usages(rp1), "VCPU=4,DISK_GB=0");
}
END_TEST

START_TEST(min_max_and_step_are_constraints)
{
    struct alloc_item small[] = {{U1, "DISK_GB", 5}}, big[] = {{U1, "DISK_GB", 60}},
                      odd[] = {{U1, "DISK_GB", 15}}, fine[] = {{U1, "DISK_GB", 50}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, small, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_CONSTRAINTS);
    ck_assert_int_eq(put(C1, big, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_CONSTRAINTS);
    ck_assert_int_eq(put(C1, odd, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_CONSTRAINTS);
    ck_assert_int_eq(put(C1, fine, 1, &fail), STORE_OK);
}
END_TEST

START_TEST(missing_inventory_provider_and_class_are_told_apart)
{
    struct alloc_item no_inv[] = {{U2, "DISK_GB", 10}}, partial[] = {{U1, "MEMORY_MB", 1}},
                      no_rp[] = {{UX, "VCPU", 1}}, no_rc[] = {{U1, "COWS", 1}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, no_inv, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_NO_INVENTORY);
    ck_assert_str_eq(fail.classes, "DISK_GB");
    ck_assert_str_eq(fail.providers, U2);
    ck_assert_int_eq(put(C1, partial, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_NO_INVENTORY);
    ck_assert_int_eq(put(C1, no_rp, 1, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_PROVIDER_MISSING);
    ck_assert_str_eq(fail.providers, UX);
    ck_assert_int_eq(put(C1, no_rc, 1, &fail), STORE_NOT_FOUND);
    ck_assert_int_eq(fail.kind, ACCT_CLASS_MISSING);
    ck_assert_str_eq(fail.classes, "COWS");
    info_of(C1, STORE_NOT_FOUND);
    ck_assert_int_eq(generation(U1), 1);
}
END_TEST

START_TEST(consumer_generation_rules_of_1_28)
{
    struct alloc_item items[] = {{U1, "VCPU", 1}};
    struct consumer_allocs c = consumer(C1, items, 1);
    struct acct_failure fail;
    c.check_generation = true;
    c.generation = 5;
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_CONFLICT);
    ck_assert_int_eq(fail.kind, ACCT_CONSUMER_GENERATION);
    ck_assert(fail.expected_null);
    ck_assert_int_eq(fail.got, 5);
    c.generation_null = true;
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_CONFLICT);
    ck_assert(!fail.expected_null && fail.got_null);
    ck_assert_int_eq(fail.expected, 1);
    c.generation_null = false;
    c.generation = 1;
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    ck_assert_int_eq(info_of(C1, STORE_OK).generation, 2);
}
END_TEST

START_TEST(emptying_a_consumer_deletes_it_and_touches_its_old_providers)
{
    struct alloc_item items[] = {{U1, "VCPU", 1}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, items, 1, &fail), STORE_OK);
    ck_assert_int_eq(put(C1, NULL, 0, &fail), STORE_OK);
    info_of(C1, STORE_NOT_FOUND);
    ck_assert_int_eq(generation(U1), 3);
    /* An empty write for an unknown consumer creates nothing. */
    ck_assert_int_eq(put(C2, NULL, 0, &fail), STORE_OK);
    info_of(C2, STORE_NOT_FOUND);
}
END_TEST

START_TEST(several_consumers_are_all_or_nothing)
{
    /* Bug 1778743: three 1-VCPU consumers on a 2-VCPU provider. */
    struct alloc_item one[] = {{U2, "VCPU", 1}};
    struct consumer_allocs c[] = {consumer(C1, one, 1), consumer(C2, one, 1),
                                  consumer(C3, one, 1)};
    struct acct_failure fail;
    ck_assert_int_eq(store_allocations_replace(st, c, 3, &fail), STORE_INVALID);
    ck_assert_int_eq(fail.kind, ACCT_CAPACITY);
    ck_assert_str_eq(usages(rp2), "VCPU=0");
    info_of(C1, STORE_NOT_FOUND);
    ck_assert_int_eq(store_allocations_replace(st, c, 2, &fail), STORE_OK);
    ck_assert_str_eq(usages(rp2), "VCPU=2");
    ck_assert_int_eq(generation(U2), 2);
}
END_TEST

START_TEST(an_existing_overage_may_shrink_but_not_grow)
{
    struct alloc_item four[] = {{U1, "VCPU", 4}}, three[] = {{U1, "VCPU", 3}},
                      five[] = {{U1, "VCPU", 5}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, four, 1, &fail), STORE_OK);
    struct inventory less[] = {test_inventory("VCPU", 2), test_inventory("DISK_GB", 100)};
    less[0].max_unit = 8;
    ck_assert_int_eq(store_inventories_replace(st, rp1, generation(U1), less, 2, NULL, &fail),
                     STORE_OK);
    ck_assert_int_eq(put(C1, five, 1, &fail), STORE_INVALID);
    ck_assert_int_eq(put(C1, three, 1, &fail), STORE_OK);
    ck_assert_str_eq(usages(rp1), "VCPU=3,DISK_GB=0");
}
END_TEST

START_TEST(project_user_and_type_follow_the_latest_write)
{
    struct alloc_item items[] = {{U1, "VCPU", 1}};
    struct consumer_allocs c = consumer(C1, items, 1);
    struct acct_failure fail;
    c.consumer_type = "INSTANCE";
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    c.project_id = "other";
    c.consumer_type = NULL; /* before 1.38 the type is kept */
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    struct consumer_info info = info_of(C1, STORE_OK);
    ck_assert_str_eq(info.project_id, "other");
    ck_assert_str_eq(info.consumer_type, "INSTANCE");
    c.consumer_type = "MIGRATION";
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    ck_assert_str_eq(info_of(C1, STORE_OK).consumer_type, "MIGRATION");
}
END_TEST

static int count_rows(void *arg, const struct allocation_row *row)
{
    int *n = arg;
    ck_assert_int_gt(row->used, 0);
    (*n)++;
    return 0;
}

START_TEST(delete_removes_allocations_without_touching_generations)
{
    struct alloc_item items[] = {{U1, "VCPU", 1}, {U2, "VCPU", 1}};
    struct acct_failure fail;
    ck_assert_int_eq(put(C1, items, 2, &fail), STORE_OK);
    struct provider_ref ref;
    int n = 0;
    ck_assert_int_eq(store_provider_allocations(st, U1, &ref, count_rows, &n), STORE_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(store_consumer_delete(st, C1), STORE_OK);
    ck_assert_int_eq(store_consumer_delete(st, C1), STORE_NOT_FOUND);
    n = 0;
    ck_assert_int_eq(store_provider_allocations(st, U1, &ref, count_rows, &n), STORE_OK);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(generation(U1), 2);
}
END_TEST

START_TEST(project_usages_group_by_consumer_type)
{
    struct alloc_item a[] = {{U1, "VCPU", 1}, {U1, "DISK_GB", 10}}, b[] = {{U1, "VCPU", 2}},
                      d[] = {{U2, "VCPU", 1}};
    struct consumer_allocs c[] = {consumer(C1, a, 2), consumer(C2, b, 1), consumer(C3, d, 1)};
    struct acct_failure fail;
    c[0].consumer_type = "INSTANCE";
    c[1].consumer_type = "INSTANCE";
    c[2].user_id = "alt";
    ck_assert_int_eq(store_allocations_replace(st, c, 3, &fail), STORE_OK);
    char out[1024] = "";
    ck_assert_int_eq(
        store_usages_by_project(st, "proj", NULL, USAGE_BY_TYPE, NULL, sum_rows, out), STORE_OK);
    ck_assert_str_eq(out, "unknown:VCPU=1/1,INSTANCE:VCPU=3/2,INSTANCE:DISK_GB=10/2");
    out[0] = '\0';
    ck_assert_int_eq(store_usages_by_project(st, "proj", NULL, USAGE_ALL, NULL, sum_rows, out),
                     STORE_OK);
    ck_assert_str_eq(out, "all:VCPU=4/3,all:DISK_GB=10/3");
    out[0] = '\0';
    ck_assert_int_eq(
        store_usages_by_project(st, "proj", "alt", USAGE_UNKNOWN, NULL, sum_rows, out), STORE_OK);
    ck_assert_str_eq(out, "unknown:VCPU=1/1");
    out[0] = '\0';
    ck_assert_int_eq(
        store_usages_by_project(st, "proj", NULL, USAGE_ONE_TYPE, "COW", sum_rows, out),
        STORE_OK);
    ck_assert_str_eq(out, "");
    out[0] = '\0';
    ck_assert_int_eq(store_usages_by_project(st, "nope", NULL, USAGE_ALL, NULL, sum_rows, out),
                     STORE_OK);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(reshape_moves_inventory_and_allocations_to_a_child)
{
    struct acct_failure fail;
    struct alloc_item vcpu[] = {{U1, "VCPU", 3}};
    ck_assert_int_eq(put(C1, vcpu, 1, &fail), STORE_OK);
    long long child = test_provider(st, UX, "child", U1);
    (void)child;
    struct inventory parent_inv[] = {test_inventory("DISK_GB", 100)};
    struct inventory child_inv[] = {test_inventory("VCPU", 4)};
    struct reshape_inventory ri[] = {{U1, 2, parent_inv, 1}, {UX, 0, child_inv, 1}};
    struct alloc_item moved[] = {{UX, "VCPU", 3}};
    struct consumer_allocs c = consumer(C1, moved, 1);
    c.check_generation = true;
    c.generation = 1;
    ck_assert_int_eq(store_reshape(st, ri, 2, &c, 1, &fail), STORE_OK);
    ck_assert_str_eq(usages(rp1), "DISK_GB=0");
    /* The parent: interim and final inventories (its allocations moved away,
     * which upstream does not count as touching it); the child: interim,
     * allocations and final. */
    ck_assert_int_eq(generation(U1), 4);
    ck_assert_int_eq(generation(UX), 3);
    ck_assert_int_eq(info_of(C1, STORE_OK).generation, 2);
}
END_TEST

START_TEST(reshape_is_all_or_nothing)
{
    struct acct_failure fail;
    struct alloc_item vcpu[] = {{U1, "VCPU", 3}};
    ck_assert_int_eq(put(C1, vcpu, 1, &fail), STORE_OK);
    struct inventory parent_inv[] = {test_inventory("DISK_GB", 100)};
    struct reshape_inventory ri[] = {{U1, 2, parent_inv, 1}};
    /* The allocations stay where they are, so dropping VCPU is refused. */
    ck_assert_int_eq(store_reshape(st, ri, 1, NULL, 0, &fail), STORE_IN_USE);
    ck_assert_int_eq(fail.kind, ACCT_INVENTORY_IN_USE);
    ck_assert_str_eq(usages(rp1), "VCPU=3,DISK_GB=0");
    ck_assert_int_eq(generation(U1), 2);
    ri[0].generation = 1;
    ck_assert_int_eq(store_reshape(st, ri, 1, NULL, 0, &fail), STORE_CONFLICT);
    ck_assert_int_eq(fail.kind, ACCT_PROVIDER_GENERATION);
    ck_assert_int_eq(fail.expected, 2);
}
END_TEST

/* Two connections race for the last units: BEGIN IMMEDIATE serialises them
 * (PostgreSQL: the provider row locks), so exactly the capacity is granted. */
struct racer {
    const char *consumer;
    int ok;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    struct store *mine = test_store_connect(path);
    for (int i = 0; i < 20; i++) {
        char uuid[37];
        snprintf(uuid, sizeof(uuid), "%.24s%012d", r->consumer, i);
        struct alloc_item item = {U2, "VCPU", 1};
        struct consumer_allocs c = {.uuid = uuid, .project_id = "p", .user_id = "u",
                                    .items = &item, .n_items = 1};
        struct acct_failure fail;
        if (store_allocations_replace(mine, &c, 1, &fail) == STORE_OK)
            r->ok++;
    }
    test_store_disconnect(mine, path);
    return NULL;
}

START_TEST(racing_connections_never_oversubscribe)
{
    struct racer a = {"aaaaaaaa-0000-0000-0000-", 0}, b = {"bbbbbbbb-0000-0000-0000-", 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    ck_assert_int_eq(a.ok + b.ok, 2);
    ck_assert_str_eq(usages(rp2), "VCPU=2");
}
END_TEST

/* The read units of GET .../usages and .../allocations of a provider: the
 * provider and its rows come from one read transaction, over on return. */
static int usage_in_transaction(void *arg, const struct usage_row *row)
{
    (void)row;
    ck_assert_msg(test_in_transaction(st), "rows must come from the unit's snapshot");
    (*(int *)arg)++;
    return 0;
}

static int allocation_in_transaction(void *arg, const struct allocation_row *row)
{
    (void)row;
    ck_assert_msg(test_in_transaction(st), "rows must come from the unit's snapshot");
    (*(int *)arg)++;
    return 0;
}

START_TEST(provider_reads_take_the_provider_and_rows_from_one_snapshot)
{
    struct alloc_item items[] = {{U1, "VCPU", 2}};
    struct acct_failure fail;
    struct provider_ref ref = {.id = -1};
    int n = 0;
    ck_assert_int_eq(put(C1, items, 1, &fail), STORE_OK);
    ck_assert_int_eq(store_provider_usages(st, U1, &ref, usage_in_transaction, &n), STORE_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ref.generation, 2);
    ck_assert(!test_in_transaction(st));
    ck_assert_int_eq(store_provider_allocations(st, U1, &ref, allocation_in_transaction, &n),
                     STORE_OK);
    ck_assert_int_eq(n, 3);
    ck_assert(!test_in_transaction(st));
    ck_assert_int_eq(store_provider_usages(st, UX, &ref, usage_in_transaction, &n),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, 0);
    ref.id = -1;
    ck_assert_int_eq(store_provider_allocations(st, UX, &ref, allocation_in_transaction, &n),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, 0);
    ck_assert_int_eq(n, 3);
    ck_assert(!test_in_transaction(st));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("store_allocations");
    TCase *tc = tcase_create("allocations");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, first_write_creates_the_consumer_and_bumps_every_generation);
    tcase_add_test(tc, replacing_moves_the_allocations_and_touches_only_the_new_providers);
    tcase_add_test(tc, capacity_is_checked_against_everybody_else);
    tcase_add_test(tc, min_max_and_step_are_constraints);
    tcase_add_test(tc, missing_inventory_provider_and_class_are_told_apart);
    tcase_add_test(tc, consumer_generation_rules_of_1_28);
    tcase_add_test(tc, emptying_a_consumer_deletes_it_and_touches_its_old_providers);
    tcase_add_test(tc, several_consumers_are_all_or_nothing);
    tcase_add_test(tc, an_existing_overage_may_shrink_but_not_grow);
    tcase_add_test(tc, project_user_and_type_follow_the_latest_write);
    tcase_add_test(tc, delete_removes_allocations_without_touching_generations);
    tcase_add_test(tc, project_usages_group_by_consumer_type);
    tcase_add_test(tc, reshape_moves_inventory_and_allocations_to_a_child);
    tcase_add_test(tc, reshape_is_all_or_nothing);
    tcase_add_test(tc, provider_reads_take_the_provider_and_rows_from_one_snapshot);
    tcase_add_test(tc, racing_connections_never_oversubscribe);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
