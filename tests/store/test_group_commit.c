/* store/group_commit.c through a pool: concurrent allocation writes share
 * transactions, yet each stays all or nothing, sees exactly the earlier
 * writes that succeeded, and is durable once acknowledged. */
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h" /* tx_begin_write: holds the write lock */
#include "support.h"

#define THREADS 8
#define WRITES  30 /* per thread */
#define CAPACITY 100
#define RP  "00000000-0000-0000-0000-000000000001"
#define BAD "00000000-0000-0000-0000-0000000000ff" /* no such provider */

static struct store_pool *pool;
static char path[96];
static pthread_barrier_t start;

static void setup(void)
{
    char err[256];
    struct store *st = test_store_open(path);
    test_provider_with_inventory(st, RP, "cn1", NULL, "VCPU=100");
    store_close(st);
    pool = store_pool_open(path, 4, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
}

static void teardown(void)
{
    store_pool_close(pool);
    char err[256];
    test_store_close(store_open(path, err, sizeof(err)), path);
}

static void consumer_uuid(char out[37], int thread, int i)
{
    snprintf(out, 37, "cccccccc-%04d-0000-0000-%012d", thread, i);
}

struct outcome {
    int thread;
    int granted, refused;
    enum store_rc unexpected;
};

/* Every third write is a POST-like pair whose second consumer names an
 * unknown provider: the first consumer must not be written either. */
static void *writer(void *arg)
{
    struct outcome *o = arg;
    pthread_barrier_wait(&start);
    for (int i = 0; i < WRITES; i++) {
        char u1[37], u2[37];
        consumer_uuid(u1, o->thread, 2 * i);
        consumer_uuid(u2, o->thread, 2 * i + 1);
        struct alloc_item good = {RP, "VCPU", 1}, bad = {BAD, "VCPU", 1};
        struct consumer_allocs c[2] = {
            {.uuid = u1, .project_id = "p", .user_id = "u", .items = &good, .n_items = 1},
            {.uuid = u2, .project_id = "p", .user_id = "u", .items = &bad, .n_items = 1}};
        struct acct_failure fail;
        struct store *st = store_acquire(pool);
        enum store_rc rc = store_allocations_replace(st, c, i % 3 == 2 ? 2 : 1, &fail);
        store_release(pool, st);
        if (i % 3 == 2) {
            if (rc != STORE_NOT_FOUND || fail.kind != ACCT_PROVIDER_MISSING)
                o->unexpected = rc;
        } else if (rc == STORE_OK) {
            o->granted++;
        } else if (rc == STORE_INVALID && fail.kind == ACCT_CAPACITY) {
            o->refused++;
        } else {
            o->unexpected = rc;
        }
    }
    return NULL;
}

static bool consumer_exists(struct store *st, int thread, int i)
{
    char u[37];
    consumer_uuid(u, thread, i);
    struct consumer_info info;
    return store_consumer_allocations(st, u, &info, NULL, NULL) == STORE_OK;
}

START_TEST(concurrent_writes_are_grouped_yet_each_all_or_nothing)
{
    pthread_t t[THREADS];
    struct outcome o[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (int k = 0; k < THREADS; k++) {
        o[k] = (struct outcome){.thread = k};
        pthread_create(&t[k], NULL, writer, &o[k]);
    }
    int granted = 0, refused = 0;
    for (int k = 0; k < THREADS; k++) {
        pthread_join(t[k], NULL);
        ck_assert_msg(o[k].unexpected == STORE_OK, "thread %d: unexpected %d", k,
                      o[k].unexpected);
        granted += o[k].granted;
        refused += o[k].refused;
    }
    pthread_barrier_destroy(&start);
    /* Jobs of one batch see the earlier ones: never more than the capacity. */
    ck_assert_int_eq(granted, CAPACITY);
    ck_assert_int_eq(granted + refused, THREADS * (WRITES - WRITES / 3));
    struct store_write_stats ws;
    store_pool_write_stats(pool, &ws);
    ck_assert_uint_eq(ws.grouped_writes, THREADS * WRITES);
    ck_assert_msg(ws.batches < ws.grouped_writes, "no write was grouped: %llu batches",
                  ws.batches);

    /* What was acknowledged is there, on a fresh connection; the refused
     * pairs left nothing, not even their valid first consumer. */
    char err[256];
    struct store *st = store_open(path, err, sizeof(err));
    ck_assert_ptr_nonnull(st);
    int present = 0;
    for (int k = 0; k < THREADS; k++)
        for (int i = 0; i < WRITES; i++) {
            bool first = consumer_exists(st, k, 2 * i);
            ck_assert(!consumer_exists(st, k, 2 * i + 1));
            if (i % 3 == 2)
                ck_assert_msg(!first, "half of a refused pair was written");
            present += first;
        }
    ck_assert_int_eq(present, CAPACITY);
    store_close(st);
}
END_TEST

/* ---- A waiting write lends its connection ---- */

struct parked {
    struct store_pool *pool;
    atomic_int acquired, done;
    enum store_rc rc;
};

static void *parked_writer(void *arg)
{
    struct parked *p = arg;
    struct alloc_item item = {RP, "VCPU", 1};
    struct consumer_allocs c = {.uuid = "dddddddd-0000-0000-0000-000000000001",
                                .project_id = "p", .user_id = "u", .items = &item, .n_items = 1};
    struct acct_failure fail;
    struct store *st = store_acquire(p->pool);
    atomic_store(&p->acquired, 1);
    p->rc = store_allocations_replace(st, &c, 1, &fail);
    store_release(p->pool, st);
    atomic_store(&p->done, 1);
    return NULL;
}

/* A pool of one connection: while a write waits for its batch (held back
 * here by another connection's write lock), its connection serves another
 * request; the write then completes on a connection it gets back. */
START_TEST(a_write_waiting_for_its_batch_lends_its_connection)
{
    char err[256];
    store_pool_close(pool);
    pool = store_pool_open(path, 1, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    struct store *locker = store_open(path, err, sizeof(err));
    ck_assert_ptr_nonnull(locker);
    ck_assert_int_eq(tx_begin_write(locker), STORE_OK);

    struct parked p = {.pool = pool};
    pthread_t t;
    pthread_create(&t, NULL, parked_writer, &p);
    while (!atomic_load(&p.acquired))
        sched_yield();
    struct store *st = store_acquire(pool); /* before: waited for the batch */
    ck_assert_msg(!atomic_load(&p.done), "the connection came back only after the write");
    struct consumer_info info;
    ck_assert_int_eq(store_consumer_allocations(st, "dddddddd-0000-0000-0000-000000000001",
                                                &info, NULL, NULL),
                     STORE_NOT_FOUND);
    store_release(pool, st);
    tx_rollback(locker);
    pthread_join(t, NULL);
    ck_assert_int_eq(p.rc, STORE_OK);
    st = store_acquire(pool);
    ck_assert_int_eq(store_consumer_allocations(st, "dddddddd-0000-0000-0000-000000000001",
                                                &info, NULL, NULL),
                     STORE_OK);
    store_release(pool, st);
    store_close(locker);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_group_commit");
    TCase *tc = tcase_create("group_commit");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, concurrent_writes_are_grouped_yet_each_all_or_nothing);
    tcase_add_test(tc, a_write_waiting_for_its_batch_lends_its_connection);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
