/* The shared cache of tree blocks: versions, references, budget. */
#include <check.h>
#include <stdlib.h>

#include "store/tree_cache.h"
#include "support.h"

static int destroyed;

static void count_destroy(void *obj)
{
    free(obj);
    destroyed++;
}

static void *obj(void)
{
    return malloc(16);
}

START_TEST(a_block_is_found_only_at_its_version)
{
    struct tree_cache *c = tree_cache_new(1000, count_destroy);
    destroyed = 0;
    ck_assert_ptr_null(tree_cache_get(c, 3, 1));
    struct tree_entry *e = tree_cache_adopt(c, 3, 1, obj(), 100);
    ck_assert(e->listed);
    tree_cache_release(c, e);
    ck_assert_int_eq(destroyed, 0);
    struct tree_entry *hit = tree_cache_get(c, 3, 1);
    ck_assert_ptr_eq(hit, e);
    tree_cache_release(c, hit);
    ck_assert_ptr_null(tree_cache_get(c, 3, 2));
    ck_assert_ptr_null(tree_cache_get(c, 2, 1));
    ck_assert_ptr_null(tree_cache_get(c, 300, 1));
    ck_assert_uint_eq(tree_cache_bytes(c), 100);
    tree_cache_free(c);
    ck_assert_int_eq(destroyed, 1);
}
END_TEST

START_TEST(a_newer_version_replaces_an_older_one_after_its_last_reader)
{
    struct tree_cache *c = tree_cache_new(1000, count_destroy);
    destroyed = 0;
    struct tree_entry *old = tree_cache_adopt(c, 0, 1, obj(), 100);
    struct tree_entry *fresh = tree_cache_adopt(c, 0, 2, obj(), 200);
    ck_assert(fresh->listed);
    ck_assert(!old->listed);
    ck_assert_int_eq(destroyed, 0); /* still read by its adopter */
    tree_cache_release(c, old);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_uint_eq(tree_cache_bytes(c), 200);
    tree_cache_release(c, fresh);
    struct tree_entry *hit = tree_cache_get(c, 0, 2);
    ck_assert_ptr_eq(hit, fresh);
    tree_cache_release(c, hit);
    tree_cache_free(c);
    ck_assert_int_eq(destroyed, 2);
}
END_TEST

START_TEST(an_older_snapshot_never_replaces_a_newer_block)
{
    struct tree_cache *c = tree_cache_new(1000, count_destroy);
    destroyed = 0;
    tree_cache_release(c, tree_cache_adopt(c, 5, 7, obj(), 100));
    struct tree_entry *late = tree_cache_adopt(c, 5, 6, obj(), 100);
    ck_assert(!late->listed);
    tree_cache_release(c, late);
    ck_assert_int_eq(destroyed, 1);
    struct tree_entry *hit = tree_cache_get(c, 5, 7);
    ck_assert_ptr_nonnull(hit);
    tree_cache_release(c, hit);
    tree_cache_free(c);
}
END_TEST

START_TEST(the_budget_bounds_what_is_listed)
{
    struct tree_cache *c = tree_cache_new(250, count_destroy);
    destroyed = 0;
    tree_cache_release(c, tree_cache_adopt(c, 0, 1, obj(), 100));
    tree_cache_release(c, tree_cache_adopt(c, 1, 1, obj(), 100));
    struct tree_entry *over = tree_cache_adopt(c, 2, 1, obj(), 100);
    ck_assert(!over->listed);
    tree_cache_release(c, over);
    ck_assert_int_eq(destroyed, 1);
    ck_assert_uint_eq(tree_cache_bytes(c), 200);
    /* Replacing a listed block only counts the difference. */
    struct tree_entry *bigger = tree_cache_adopt(c, 1, 2, obj(), 150);
    ck_assert(bigger->listed);
    tree_cache_release(c, bigger);
    ck_assert_uint_eq(tree_cache_bytes(c), 250);
    tree_cache_set_budget(c, 0);
    struct tree_entry *none = tree_cache_adopt(c, 9, 1, obj(), 1);
    ck_assert(!none->listed);
    tree_cache_release(c, none);
    tree_cache_free(c);
    ck_assert_int_eq(destroyed, 5);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("tree_cache");
    TCase *tc = tcase_create("cache");
    tcase_add_test(tc, a_block_is_found_only_at_its_version);
    tcase_add_test(tc, a_newer_version_replaces_an_older_one_after_its_last_reader);
    tcase_add_test(tc, an_older_snapshot_never_replaces_a_newer_block);
    tcase_add_test(tc, the_budget_bounds_what_is_listed);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
