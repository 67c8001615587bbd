/* The write path on PostgreSQL (issue 13): units that stream rows to their
 * caller are never run twice with visible effects, against a throwaway
 * server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pg_test.h"
#include "store/candidates.h"
#include "store/internal.h"
#include "store/pg_conn.h"
#include "store/pg_cursor.h"
#include "store/pg_migrate.h"
#include "store/pg_unit.h"
#include "store/sql.h"
#include "support.h"

static char uri[512];
static struct pg_pool *pool;
static struct pg_backend *be;
static struct store *st;

/* A fresh migrated database, a pool of four connections and a handle. */
static void setup(void)
{
    pg_test_store_open(uri, sizeof(uri), 4, &pool, &be, &st);
}

static void teardown(void)
{
    pg_test_store_close(pool, be, st);
}

/* Ends the server backend of the unit running on s, from another session,
 * as a server restart or a network failure would. */
static void kill_unit_backend(struct store *s)
{
    char sql[96];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)::int", PQbackendPID(pg_store_conn(s)));
    ck_assert_int_eq(pg_test_value(uri, sql), 1);
}

/* ---- 1. A unit that has emitted rows is not run again ---- */

#define N_PROVIDERS 70 /* ids 1-70: two tree blocks (root_id >> 6), read one by one */

struct seen {
    int count[N_PROVIDERS + 1]; /* requests seen per provider number */
    int requests;
    bool killed;
};

static int provider_number(const char *uuid)
{
    return atoi(uuid + 24); /* "00000000-0000-4000-8000-0000000000NN" */
}

/* Counts each request by its provider; on the first one, kills the
 * connection of the unit that is streaming them. */
static int count_and_kill(void *arg, const struct cand_request *r)
{
    struct seen *s = arg;
    int n = provider_number(r->items[0].rp_uuid);
    ck_assert(n >= 1 && n <= N_PROVIDERS);
    s->count[n]++;
    s->requests++;
    if (!s->killed) {
        s->killed = true;
        kill_unit_backend(st);
    }
    return 0;
}

static int ignore_summary(void *arg, const struct cand_summary *s)
{
    (void)arg;
    (void)s;
    return 0;
}

/* The candidates run streams the requests of the first block, then reads
 * the second block's trees: the connection is gone by then. Run again, it
 * would hand the first block's requests to the caller a second time (the
 * caller would answer with duplicates); it must fail instead, as 503. */
START_TEST(a_candidates_run_that_lost_its_connection_after_a_row_is_not_run_again)
{
    for (int i = 1; i <= N_PROVIDERS; i++) {
        char uuid[40], name[16];
        snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d", i);
        snprintf(name, sizeof(name), "cn%d", i);
        test_provider_with_inventory(st, uuid, name, NULL, "VCPU=4");
    }
    const char *rc_names[] = {"VCPU"};
    long long amounts[] = {1};
    struct cand_group g = {.suffix = "", .rc_names = rc_names, .amounts = amounts, .n_res = 1};
    struct cand_query q = {.groups = &g, .n_groups = 1, .nested_aware = true};
    struct cand_failure fail;
    struct seen *s = calloc(1, sizeof(*s));
    enum store_rc rc = store_candidates_get(st, &q, count_and_kill, ignore_summary, s, &fail);
    ck_assert(s->killed);
    for (int i = 1; i <= N_PROVIDERS; i++)
        ck_assert_msg(s->count[i] <= 1, "provider %d emitted %d times", i, s->count[i]);
    ck_assert_int_eq(rc, STORE_BUSY);
    ck_assert_int_lt(s->requests, N_PROVIDERS);
    /* The next run, on a new connection, answers whole. */
    memset(s, 0, sizeof(*s));
    s->killed = true;
    ck_assert_int_eq(store_candidates_get(st, &q, count_and_kill, ignore_summary, s, &fail),
                     STORE_OK);
    ck_assert_int_eq(s->requests, N_PROVIDERS);
    free(s);
}
END_TEST

/* ---- 2. Providers a consumer leaves are in the lock set ---- */

#define PROVIDER_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define PROVIDER_B "bbbbbbbb-0000-4000-8000-00000000000b"
#define MOVES 40

struct mover {
    const char *consumer;
    bool a_first; /* starts on A and moves to B first */
    pthread_barrier_t *step;
    int failures;
    enum store_rc last_failure;
    int puts_on_a, puts_on_b;
};

/* PUT /allocations/{consumer} of 1 VCPU on A or B, MOVES times, turn
 * about; each move starts together with the other mover's. */
static void *mover_run(void *arg)
{
    struct mover *m = arg;
    struct store *mine = pg_store_new(be);
    for (int i = 0; i < MOVES; i++) {
        bool on_a = (i % 2 == 0) == m->a_first;
        struct alloc_item item = {on_a ? PROVIDER_A : PROVIDER_B, "VCPU", 1};
        struct consumer_allocs c = {.uuid = m->consumer, .project_id = "p", .user_id = "u",
                                    .items = &item, .n_items = 1};
        struct acct_failure fail;
        pthread_barrier_wait(m->step);
        enum store_rc rc = store_allocations_replace(mine, &c, 1, &fail);
        if (rc != STORE_OK) {
            m->failures++;
            m->last_failure = rc;
        } else if (on_a) {
            m->puts_on_a++;
        } else {
            m->puts_on_b++;
        }
    }
    pg_store_free(mine);
    return NULL;
}

/* Two consumers moving between providers A and B in opposite directions,
 * A and B in different tree blocks (ids 1 and 101: blocks 0 and 1). A move
 * deletes the allocation on the provider it leaves, which bumps that
 * provider's block: unless that provider was locked with the new one, in
 * ascending order, the two movers lock the two blocks in opposite orders
 * and PostgreSQL aborts one of them for a deadlock (then retried: slow, and
 * a 409 once the retries run out). */
START_TEST(consumers_moving_in_opposite_directions_never_deadlock)
{
    test_provider_with_inventory(st, PROVIDER_A, "a", NULL, "VCPU=8");
    pg_test_value(uri, "SELECT setval(pg_get_serial_sequence('providers', 'id'), 100)");
    test_provider_with_inventory(st, PROVIDER_B, "b", NULL, "VCPU=8");
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(DISTINCT root_id >> 6) FROM providers"), 2);
    pthread_barrier_t step;
    pthread_barrier_init(&step, NULL, 2);
    struct mover m[2] = {
        {.consumer = "c0000000-0000-4000-8000-000000000001", .a_first = true, .step = &step},
        {.consumer = "c0000000-0000-4000-8000-000000000002", .a_first = false, .step = &step},
    };
    unsigned long long reruns = pg_backend_reruns(be);
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, mover_run, &m[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&step);
    for (int i = 0; i < 2; i++)
        ck_assert_msg(m[i].failures == 0, "mover %d: %d failures (last %d)", i, m[i].failures,
                      m[i].last_failure);
    ck_assert_uint_eq(pg_backend_reruns(be) - reruns, 0);
    /* Each PUT bumped the provider it went to (the inventory made 1). */
    ck_assert_int_eq(pg_test_value(uri, "SELECT generation FROM providers WHERE uuid = '" PROVIDER_A
                                        "'"),
                     1 + m[0].puts_on_a + m[1].puts_on_a);
    ck_assert_int_eq(pg_test_value(uri, "SELECT generation FROM providers WHERE uuid = '" PROVIDER_B
                                        "'"),
                     1 + m[0].puts_on_b + m[1].puts_on_b);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM allocations"), 2);
    ck_assert_int_eq(pg_test_value(uri, "SELECT max(generation) FROM consumers"), MOVES);
}
END_TEST

#define CONSUMER_X "c0000000-0000-4000-8000-0000000000e1"
#define CONSUMER_Y "c0000000-0000-4000-8000-0000000000e2"

struct write_thread {
    bool delete_x; /* DELETE /allocations/X, else PUT Y on A and B */
    enum store_rc rc;
};

static void *write_thread_run(void *arg)
{
    struct write_thread *w = arg;
    struct store *mine = pg_store_new(be);
    struct alloc_item ab[] = {{PROVIDER_A, "VCPU", 1}, {PROVIDER_B, "VCPU", 1}};
    struct consumer_allocs y = {.uuid = CONSUMER_Y, .project_id = "p", .user_id = "u",
                                .items = ab, .n_items = 2};
    struct acct_failure fail;
    w->rc = w->delete_x ? store_consumer_delete(mine, CONSUMER_X)
                        : store_allocations_replace(mine, &y, 1, &fail);
    pg_store_free(mine);
    return NULL;
}

/* Sessions of this test's database waiting for a lock. */
static long long lock_waiters(void)
{
    return pg_test_value(uri, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type ="
                              " 'Lock' AND datname = current_database()");
}

static void wait_for_lock_waiters(long long n)
{
    for (int i = 0; i < 600 && lock_waiters() < n; i++) {
        struct timespec d = {0, 20 * 1000000L};
        nanosleep(&d, NULL);
    }
    ck_assert_int_eq(lock_waiters(), n);
}

/* DELETE /allocations/X removes X's rows in their stored order, B's then
 * A's, and each removal bumps its provider's block (B's block 1, then A's
 * block 0). A claim for Y on A and B takes blocks 0 then 1. Set up so that
 * the claim waits for block 0 (held by a third session) before the delete
 * starts: unless the delete takes its providers in the writers' order
 * first, it takes block 1, queues for block 0 behind the claim, and the
 * claim, once it has block 0, waits for block 1: a deadlock. */
START_TEST(a_consumer_delete_and_a_claim_on_its_providers_never_deadlock)
{
    char err[512];
    test_provider_with_inventory(st, PROVIDER_A, "a", NULL, "VCPU=8");
    pg_test_value(uri, "SELECT setval(pg_get_serial_sequence('providers', 'id'), 100)");
    test_provider_with_inventory(st, PROVIDER_B, "b", NULL, "VCPU=8");
    struct alloc_item ba[] = {{PROVIDER_B, "VCPU", 1}, {PROVIDER_A, "VCPU", 1}};
    struct consumer_allocs x = {.uuid = CONSUMER_X, .project_id = "p", .user_id = "u",
                                .items = ba, .n_items = 2};
    struct acct_failure fail;
    ck_assert_int_eq(store_allocations_replace(st, &x, 1, &fail), STORE_OK);
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    PGresult *res = PQexec(other, "BEGIN; SELECT 1 FROM tree_versions WHERE block = 0 FOR UPDATE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    unsigned long long reruns = pg_backend_reruns(be);
    struct write_thread w[2] = {{.delete_x = false}, {.delete_x = true}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, write_thread_run, &w[i]), 0);
        wait_for_lock_waiters(i + 1);
    }
    PQclear(PQexec(other, "ROLLBACK"));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    PQfinish(other);
    ck_assert_int_eq(w[0].rc, STORE_OK);
    ck_assert_int_eq(w[1].rc, STORE_OK);
    ck_assert_uint_eq(pg_backend_reruns(be) - reruns, 0);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM allocations"), 2);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM consumers"), 1);
}
END_TEST

/* A claim on A and B (same block) locks A, then waits for B, held by a
 * third session; meanwhile a PUT of A's traits removes a trait row (whose
 * trigger bumps the block; an added row would first wait for A in its
 * foreign-key check) and then bumps A's generation. Unless the
 * traits write takes A first, in the writers' order, it holds the block
 * and waits for A while the claim holds A and, once B is free, waits for
 * the block: a deadlock. Now the traits write waits for the claim, then
 * finds A's generation moved: 409, as upstream. */
struct traits_put {
    long long provider_id, generation;
    enum store_rc rc;
};

static void *traits_put_run(void *arg)
{
    struct traits_put *p = arg;
    struct store *mine = pg_store_new(be);
    long long gen = 0;
    p->rc = store_provider_traits_replace(mine, p->provider_id, p->generation, NULL, 0, &gen);
    pg_store_free(mine);
    return NULL;
}

struct claim_ab {
    enum store_rc rc;
};

static void *claim_ab_run(void *arg)
{
    struct claim_ab *c = arg;
    struct store *mine = pg_store_new(be);
    struct alloc_item items[] = {{PROVIDER_A, "VCPU", 1}, {PROVIDER_B, "VCPU", 1}};
    struct consumer_allocs x = {.uuid = CONSUMER_X, .project_id = "p", .user_id = "u",
                                .items = items, .n_items = 2};
    struct acct_failure fail;
    c->rc = store_allocations_replace(mine, &x, 1, &fail);
    pg_store_free(mine);
    return NULL;
}

START_TEST(a_traits_write_and_a_claim_on_the_provider_never_deadlock)
{
    char err[512];
    long long a = test_provider_with_inventory(st, PROVIDER_A, "a", NULL, "VCPU=8");
    test_provider_with_inventory(st, PROVIDER_B, "b", NULL, "VCPU=8");
    struct trait trait;
    bool created;
    ck_assert_int_eq(store_trait_ensure(st, "CUSTOM_T", &trait, &created), STORE_OK);
    ck_assert_int_eq(store_provider_traits_replace(st, a, 1, &trait.id, 1, NULL), STORE_OK);
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    char sql[128];
    snprintf(sql, sizeof(sql), "BEGIN; SELECT 1 FROM providers WHERE uuid = '%s' FOR UPDATE",
             PROVIDER_B);
    PGresult *res = PQexec(other, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    unsigned long long reruns = pg_backend_reruns(be);
    struct claim_ab c = {STORE_ERROR};
    struct traits_put p = {a, 2, STORE_ERROR};
    pthread_t tc, tp;
    ck_assert_int_eq(pthread_create(&tc, NULL, claim_ab_run, &c), 0);
    wait_for_lock_waiters(1);
    ck_assert_int_eq(pthread_create(&tp, NULL, traits_put_run, &p), 0);
    wait_for_lock_waiters(2);
    PQclear(PQexec(other, "ROLLBACK"));
    pthread_join(tc, NULL);
    pthread_join(tp, NULL);
    PQfinish(other);
    ck_assert_int_eq(c.rc, STORE_OK);
    ck_assert_int_eq(p.rc, STORE_CONFLICT);
    ck_assert_uint_eq(pg_backend_reruns(be) - reruns, 0);
}
END_TEST

/* ---- 3. Custom classes and traits created by several nodes at once ---- */

#define CREATORS 8

struct creator {
    int n;
    pthread_barrier_t *start;
    enum store_rc rc_same, rc_own, rc_trait;
    struct resource_class same, own;
    bool created_same, created_own, created_trait;
    struct trait trait;
};

/* Creates CUSTOM_SAME and its own CUSTOM_OWN_<n> (in an order that
 * depends on n), and the trait CUSTOM_TRAIT_SAME, each as its own request
 * would, all threads starting at once. */
static void *creator_run(void *arg)
{
    struct creator *c = arg;
    struct store *mine = pg_store_new(be);
    char own[32];
    snprintf(own, sizeof(own), "CUSTOM_OWN_%d", c->n);
    pthread_barrier_wait(c->start);
    for (int k = 0; k < 2; k++) {
        if ((k == 0) == (c->n % 2 == 0))
            c->rc_same = store_resource_class_create(mine, "CUSTOM_SAME", false, &c->same,
                                                     &c->created_same);
        else
            c->rc_own = store_resource_class_create(mine, own, true, &c->own, &c->created_own);
    }
    c->rc_trait = store_trait_ensure(mine, "CUSTOM_TRAIT_SAME", &c->trait, &c->created_trait);
    pg_store_free(mine);
    return NULL;
}

START_TEST(custom_classes_created_at_once_get_one_id_each)
{
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, CREATORS);
    struct creator c[CREATORS];
    pthread_t t[CREATORS];
    for (int i = 0; i < CREATORS; i++) {
        c[i] = (struct creator){.n = i, .start = &start};
        ck_assert_int_eq(pthread_create(&t[i], NULL, creator_run, &c[i]), 0);
    }
    for (int i = 0; i < CREATORS; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    int made_same = 0, made_trait = 0;
    for (int i = 0; i < CREATORS; i++) {
        ck_assert_msg(c[i].rc_same == STORE_OK && c[i].rc_own == STORE_OK &&
                          c[i].rc_trait == STORE_OK,
                      "creator %d: CUSTOM_SAME %d, own %d, trait %d", i, c[i].rc_same,
                      c[i].rc_own, c[i].rc_trait);
        made_same += c[i].created_same;
        made_trait += c[i].created_trait;
        ck_assert(c[i].created_own);
        ck_assert_int_eq(c[i].same.id, c[0].same.id);
        ck_assert_int_eq(c[i].trait.id, c[0].trait.id);
        ck_assert_int_ge(c[i].own.id, STORE_CUSTOM_CLASS_MIN_ID);
        for (int j = 0; j < i; j++)
            ck_assert_int_ne(c[i].own.id, c[j].own.id);
        ck_assert_int_ne(c[i].own.id, c[0].same.id);
    }
    ck_assert_int_eq(made_same, 1);
    ck_assert_int_eq(made_trait, 1);
    ck_assert_int_ge(c[0].same.id, STORE_CUSTOM_CLASS_MIN_ID);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM resource_classes WHERE id >= 10000"),
                     CREATORS + 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT min(id) FROM resource_classes WHERE id >= 10000"),
                     10000);
    ck_assert_int_eq(pg_test_value(uri, "SELECT max(id) FROM resource_classes"), 10000 + CREATORS);
}
END_TEST

struct name_write {
    int what; /* 0: PUT CUSTOM_SAME, 1: POST CUSTOM_MINE, 2: PUT trait CUSTOM_TRAIT_SAME */
    enum store_rc rc;
    struct resource_class row;
    struct trait trait;
    bool created;
};

static void *name_write_run(void *arg)
{
    struct name_write *w = arg;
    struct store *mine = pg_store_new(be);
    if (w->what == 2)
        w->rc = store_trait_ensure(mine, "CUSTOM_TRAIT_SAME", &w->trait, &w->created);
    else
        w->rc = store_resource_class_create(mine, w->what ? "CUSTOM_MINE" : "CUSTOM_SAME",
                                            w->what == 1, &w->row, &w->created);
    pg_store_free(mine);
    return NULL;
}

/* Another node is in the middle of creating class CUSTOM_SAME (id 10000)
 * and trait CUSTOM_TRAIT_SAME when this one is asked for CUSTOM_SAME,
 * CUSTOM_MINE and the trait: once the other commits, PUT finds CUSTOM_SAME
 * and the trait, and CUSTOM_MINE gets the next id, 10001 (they failed on
 * the unique indexes before: 409 for a PUT that must succeed). */
START_TEST(a_name_another_node_is_creating_is_found_and_its_id_not_reused)
{
    char err[512];
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    PGresult *res = PQexec(other, "BEGIN;"
                                  " INSERT INTO resource_classes (id, name, created_at)"
                                  " VALUES (10000, 'CUSTOM_SAME', 0);"
                                  " INSERT INTO traits (name, created_at)"
                                  " VALUES ('CUSTOM_TRAIT_SAME', 0)");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    struct name_write w[3] = {{.what = 0}, {.what = 1}, {.what = 2}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pthread_create(&t[i], NULL, name_write_run, &w[i]), 0);
        wait_for_lock_waiters(i + 1);
    }
    PQclear(PQexec(other, "COMMIT"));
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    PQfinish(other);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(w[i].rc == STORE_OK, "write %d: %d", i, w[i].rc);
    ck_assert(!w[0].created);
    ck_assert_int_eq(w[0].row.id, 10000);
    ck_assert(w[1].created);
    ck_assert_int_eq(w[1].row.id, 10001);
    ck_assert(!w[2].created);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits WHERE name LIKE 'CUSTOM_%'"),
                     1);
}
END_TEST

/* ---- 4. A write stuck behind a lock gives up after the lock timeout ---- */

/* Another node's transaction holds provider A and does not end: a claim
 * on A fails as busy (503) once it has waited the pool's lock timeout,
 * instead of holding its worker for as long as the other one lasts; it is
 * not run again; a read of A still answers; once the lock is gone the
 * claim succeeds. */
START_TEST(a_write_stuck_behind_a_lock_is_busy_after_the_lock_timeout)
{
    char err[512];
    test_provider_with_inventory(st, PROVIDER_A, "a", NULL, "VCPU=8");
    pg_pool_set_lock_timeout(pool, 300);
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    PGresult *res = PQexec(other, "BEGIN; SELECT 1 FROM providers FOR UPDATE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    struct alloc_item item = {PROVIDER_A, "VCPU", 1};
    struct consumer_allocs c = {.uuid = CONSUMER_X, .project_id = "p", .user_id = "u",
                                .items = &item, .n_items = 1};
    struct acct_failure fail;
    unsigned long long reruns = pg_backend_reruns(be);
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_BUSY);
    ck_assert_uint_eq(pg_backend_reruns(be) - reruns, 0);
    struct inventory inv;
    struct provider_ref ref;
    ck_assert_int_eq(store_inventory_get(st, PROVIDER_A, "VCPU", &ref, &inv), STORE_OK);
    ck_assert_int_eq(inv.total, 8);
    PQclear(PQexec(other, "ROLLBACK"));
    PQfinish(other);
    ck_assert_int_eq(store_allocations_replace(st, &c, 1, &fail), STORE_OK);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM allocations"), 1);
}
END_TEST

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_write");
    TCase *tc = tcase_create("pg_write");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_candidates_run_that_lost_its_connection_after_a_row_is_not_run_again);
    tcase_add_test(tc, consumers_moving_in_opposite_directions_never_deadlock);
    tcase_add_test(tc, a_consumer_delete_and_a_claim_on_its_providers_never_deadlock);
    tcase_add_test(tc, a_traits_write_and_a_claim_on_the_provider_never_deadlock);
    tcase_add_test(tc, custom_classes_created_at_once_get_one_id_each);
    tcase_add_test(tc, a_name_another_node_is_creating_is_found_and_its_id_not_reused);
    tcase_add_test(tc, a_write_stuck_behind_a_lock_is_busy_after_the_lock_timeout);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
