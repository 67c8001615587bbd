/* store_stats_get(): the counters behind GET /metrics. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <stdlib.h>

#include "store/internal.h" /* tx_begin_write */
#include "store/tree_cache.h"
#include "support.h"

static void destroy(void *obj)
{
    free(obj);
}

START_TEST(tree_cache_hits_misses_and_bytes)
{
    struct store_stats before, after;
    store_stats_get(&before);
    struct tree_cache *c = tree_cache_new(1 << 20, destroy);
    ck_assert_ptr_null(tree_cache_get(c, 1, 1)); /* miss */
    tree_cache_release(c, tree_cache_adopt(c, 1, 1, malloc(8), 1000));
    struct tree_entry *e = tree_cache_get(c, 1, 1); /* hit */
    ck_assert_ptr_nonnull(e);
    tree_cache_release(c, e);
    store_stats_get(&after);
    ck_assert_uint_eq(after.tree_misses - before.tree_misses, 1);
    ck_assert_uint_eq(after.tree_hits - before.tree_hits, 1);
    ck_assert_uint_eq(after.tree_bytes - before.tree_bytes, 1000);
    tree_cache_free(c);
    store_stats_get(&after);
    ck_assert_uint_eq(after.tree_bytes, before.tree_bytes);
}
END_TEST

/* A write refused because another connection holds the lock is counted. */
START_TEST(busy_is_counted)
{
    struct test_env env;
    struct store_stats before, after;
    test_env_open(&env);
    sqlite3 *other = NULL;
    ck_assert_int_eq(sqlite3_open(env.path, &other), SQLITE_OK);
    ck_assert_int_eq(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    store_stats_get(&before);
    struct store *st = store_acquire(env.pool);
    ck_assert_int_eq(tx_begin_write(st), STORE_BUSY);
    store_release(env.pool, st);
    store_stats_get(&after);
    ck_assert_uint_eq(after.busy - before.busy, 1);
    sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(other);
    test_env_close(&env);
}
END_TEST

static void *acquire_and_release(void *arg)
{
    struct test_env *env = arg;
    store_release(env->pool, store_acquire(env->pool));
    return NULL;
}

/* The pool gauges follow borrows, and a borrower that waited is counted
 * with the time it waited. */
START_TEST(pool_gauges_and_waits)
{
    struct test_env env;
    struct store_stats before, held, after;
    store_stats_get(&before);
    test_env_open(&env); /* a pool of one connection */
    struct store *st = store_acquire(env.pool);
    store_stats_get(&held);
    ck_assert_uint_eq(held.pool_size - before.pool_size, 1);
    ck_assert_uint_eq(held.pool_open - before.pool_open, 1);
    ck_assert_uint_eq(held.pool_in_use - before.pool_in_use, 1);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, acquire_and_release, &env), 0);
    do { /* until the other borrower waits */
        sched_yield();
        store_stats_get(&after);
    } while (after.pool_waits == held.pool_waits);
    store_release(env.pool, st);
    pthread_join(t, NULL);
    store_stats_get(&after);
    ck_assert_uint_eq(after.pool_waits - held.pool_waits, 1);
    ck_assert(after.pool_wait_seconds > held.pool_wait_seconds);
    ck_assert_uint_eq(after.pool_in_use, before.pool_in_use);
    test_env_close(&env);
    store_stats_get(&after);
    ck_assert_uint_eq(after.pool_size, before.pool_size);
    ck_assert_uint_eq(after.pool_open, before.pool_open);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, tree_cache_hits_misses_and_bytes);
    tcase_add_test(tc, busy_is_counted);
    tcase_add_test(tc, pool_gauges_and_waits);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
