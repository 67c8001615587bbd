/* core/idmap: the candidates engine's hash map from 64-bit keys to values. */
#include <check.h>
#include <stdint.h>

#include "core/idmap.h"
#include "support.h"

START_TEST(an_empty_map_holds_nothing)
{
    struct idmap m = {0};
    ck_assert_uint_eq(idmap_get(&m, 0), 0);
    ck_assert_uint_eq(idmap_get(&m, 42), 0);
    idmap_free(&m);
}
END_TEST

START_TEST(keys_keep_their_values_through_growth)
{
    struct idmap m = {0};
    for (long long k = -500; k < 500; k++) /* negative ids and 0 are keys too */
        idmap_put(&m, (uint64_t)k, (uintptr_t)(k + 1000));
    ck_assert_uint_eq(m.n, 1000);
    ck_assert_uint_ge(m.cap, 2000); /* at most half full */
    for (long long k = -500; k < 500; k++)
        ck_assert_uint_eq(idmap_get(&m, (uint64_t)k), (uintptr_t)(k + 1000));
    ck_assert_uint_eq(idmap_get(&m, 500), 0);
    idmap_put(&m, 7, 99); /* replaces */
    ck_assert_uint_eq(idmap_get(&m, 7), 99);
    ck_assert_uint_eq(m.n, 1000);
    idmap_free(&m);
    ck_assert_ptr_null(m.slots);
}
END_TEST

START_TEST(a_slot_is_found_or_added_with_zero)
{
    struct idmap m = {0};
    uintptr_t *v = idmap_slot(&m, 3);
    ck_assert_uint_eq(*v, 0);
    *v |= 1;
    *idmap_slot(&m, 3) |= 2;
    ck_assert_uint_eq(idmap_get(&m, 3), 3);
    ck_assert_uint_eq(m.n, 1);
    idmap_free(&m);
}
END_TEST

START_TEST(clear_empties_and_makes_room)
{
    struct idmap m = {0};
    for (uint64_t k = 1; k <= 100; k++)
        idmap_put(&m, k, k);
    size_t cap = m.cap;
    idmap_clear(&m, 10); /* smaller: the table is kept */
    ck_assert_uint_eq(m.cap, cap);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_uint_eq(idmap_get(&m, 50), 0);
    idmap_clear(&m, 1000); /* larger: room for 1000 keys at once */
    ck_assert_uint_ge(m.cap, 2000);
    ck_assert_uint_eq(idmap_bytes(&m), m.cap * sizeof(struct idmap_slot));
    idmap_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idmap");
    TCase *tc = tcase_create("idmap");
    tcase_add_test(tc, an_empty_map_holds_nothing);
    tcase_add_test(tc, keys_keep_their_values_through_growth);
    tcase_add_test(tc, a_slot_is_found_or_added_with_zero);
    tcase_add_test(tc, clear_empties_and_makes_room);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
