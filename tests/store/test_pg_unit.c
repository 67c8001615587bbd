/* Units of work on PostgreSQL (store/pg_unit.c): all or nothing, one
 * snapshot for reads, and the retry rule, against a throwaway server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_test.h"
#include "store/pg_conn.h"
#include "store/pg_unit.h"
#include "store/store.h"

static char uri[512];
static struct pg_pool *pool;

/* A fresh database with table t(k int primary key, v int) holding (1, 0)
 * and (2, 0), and a pool of two connections on it. */
static void setup(void)
{
    char err[512];
    pg_test_new_db(uri, sizeof(uri));
    pg_test_value(uri, "CREATE TABLE t (k int PRIMARY KEY, v int NOT NULL)");
    pg_test_value(uri, "INSERT INTO t VALUES (1, 0), (2, 0)");
    pool = pg_pool_open(uri, 2, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
}

static void teardown(void)
{
    pg_pool_close(pool);
    pg_test_ctl("start"); /* a test that stopped the server and failed half-way */
}

static enum store_rc exec(struct pg_unit *u, const char *sql)
{
    PGresult *res = PQexec(u->conn, sql);
    enum store_rc rc = pg_unit_check(u, res, sql);
    PQclear(res);
    return rc;
}

static enum store_rc insert_then_fail(struct pg_unit *u, void *arg)
{
    (void)arg;
    enum store_rc rc = exec(u, "INSERT INTO t VALUES (3, 0)");
    return rc != STORE_OK ? rc : STORE_INVALID;
}

START_TEST(a_failing_write_leaves_nothing)
{
    unsigned runs;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, insert_then_fail, NULL, &runs),
                     STORE_INVALID);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM t"), 2);
}
END_TEST

static enum store_rc insert_duplicate(struct pg_unit *u, void *arg)
{
    (void)arg;
    enum store_rc rc = exec(u, "UPDATE t SET v = 7 WHERE k = 2");
    return rc != STORE_OK ? rc : exec(u, "INSERT INTO t VALUES (1, 0)");
}

START_TEST(a_unique_violation_is_duplicate_and_not_retried)
{
    unsigned runs;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, insert_duplicate, NULL, &runs),
                     STORE_DUPLICATE);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 2"), 0);
}
END_TEST

/* Aborts with a serialization failure on the first *(int *)arg runs. */
static enum store_rc serialization_failure(struct pg_unit *u, void *arg)
{
    if (u->attempt < (unsigned)*(int *)arg)
        return exec(u, "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
    return exec(u, "UPDATE t SET v = v + 1 WHERE k = 1");
}

START_TEST(a_serialization_failure_is_retried)
{
    unsigned runs;
    int failures = 2;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, serialization_failure,
                                 &failures, &runs),
                     STORE_OK);
    ck_assert_uint_eq(runs, 3);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 1"), 1);
}
END_TEST

START_TEST(retries_are_bounded_then_the_exhausted_result)
{
    unsigned runs;
    int failures = 1000;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, serialization_failure,
                                 &failures, &runs),
                     STORE_CONFLICT);
    ck_assert_uint_eq(runs, 1 + PG_UNIT_RETRIES);
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_BUSY, serialization_failure, &failures,
                                 &runs),
                     STORE_BUSY);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 1"), 0);
}
END_TEST

/* Two writers lock rows 1 and 2 in opposite orders: PostgreSQL aborts one
 * with a deadlock (40P01, after deadlock_timeout, 1 s), which is retried,
 * so both units commit. */
struct crossing {
    int first, second;
    pthread_barrier_t *both_hold_one;
    enum store_rc rc;
    unsigned runs;
};

static enum store_rc lock_two(struct pg_unit *u, void *arg)
{
    struct crossing *c = arg;
    char sql[64];
    snprintf(sql, sizeof(sql), "UPDATE t SET v = v + 1 WHERE k = %d", c->first);
    enum store_rc rc = exec(u, sql);
    if (rc != STORE_OK)
        return rc;
    if (u->attempt == 0)
        pthread_barrier_wait(c->both_hold_one);
    snprintf(sql, sizeof(sql), "UPDATE t SET v = v + 1 WHERE k = %d", c->second);
    return exec(u, sql);
}

static void *crossing_run(void *arg)
{
    struct crossing *c = arg;
    c->rc = pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, lock_two, c, &c->runs);
    return NULL;
}

START_TEST(a_deadlock_is_retried_and_both_writers_commit)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, 2);
    struct crossing a = {1, 2, &barrier, STORE_ERROR, 0}, b = {2, 1, &barrier, STORE_ERROR, 0};
    pthread_t ta, tb;
    ck_assert_int_eq(pthread_create(&ta, NULL, crossing_run, &a), 0);
    ck_assert_int_eq(pthread_create(&tb, NULL, crossing_run, &b), 0);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);
    ck_assert_int_eq(a.rc, STORE_OK);
    ck_assert_int_eq(b.rc, STORE_OK);
    /* At least one was aborted and run again. (Its retry may race the other
     * writer to row 1 and deadlock once more: more runs are no error.) */
    ck_assert_msg(a.runs + b.runs >= 3, "runs %u + %u", a.runs, b.runs);
    ck_assert_int_eq(pg_test_value(uri, "SELECT sum(v) FROM t"), 4);
}
END_TEST

/* A read unit sees one snapshot: a row committed by another session in
 * the middle of it is not seen by its second statement. */
static enum store_rc read_twice(struct pg_unit *u, void *arg)
{
    long long *counts = arg;
    for (int i = 0; i < 2; i++) {
        PGresult *res = PQexec(u->conn, "SELECT count(*) FROM t");
        enum store_rc rc = pg_unit_check(u, res, "count");
        if (rc == STORE_OK)
            counts[i] = atoll(PQgetvalue(res, 0, 0));
        PQclear(res);
        if (rc != STORE_OK)
            return rc;
        if (i == 0)
            pg_test_value(uri, "INSERT INTO t VALUES (9, 0)");
    }
    return exec(u, "INSERT INTO t VALUES (10, 0)"); /* and it may not write */
}

START_TEST(a_read_unit_sees_one_snapshot_and_cannot_write)
{
    long long counts[2] = {-1, -1};
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_READ, STORE_BUSY, read_twice, counts, NULL),
                     STORE_ERROR);
    ck_assert_int_eq(counts[0], 2);
    ck_assert_int_eq(counts[1], 2);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM t"), 3);
}
END_TEST

/* The backend dies in the middle of the first run (before COMMIT): the
 * unit runs again on a new connection and commits once. */
static enum store_rc die_once(struct pg_unit *u, void *arg)
{
    (void)arg;
    enum store_rc rc = exec(u, "UPDATE t SET v = v + 1 WHERE k = 1");
    if (rc == STORE_OK && u->attempt == 0)
        rc = exec(u, "SELECT pg_terminate_backend(pg_backend_pid())");
    return rc;
}

START_TEST(a_connection_lost_before_commit_is_run_again_once)
{
    unsigned runs;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, die_once, NULL, &runs),
                     STORE_OK);
    ck_assert_uint_eq(runs, 2);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 1"), 1);
}
END_TEST

/* A body that has handed rows to its caller (u->emitted) and then fails
 * in a way that would be retried: not run again. *(int *)arg picks the
 * failure: 0 the connection is lost, 1 a serialization failure. */
static enum store_rc emit_then_fail(struct pg_unit *u, void *arg)
{
    enum store_rc rc = exec(u, "UPDATE t SET v = v + 1 WHERE k = 1");
    if (rc != STORE_OK)
        return rc;
    u->emitted = true;
    if (*(int *)arg == 0)
        return exec(u, "SELECT pg_terminate_backend(pg_backend_pid())");
    return exec(u, "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$");
}

START_TEST(a_unit_that_emitted_rows_is_not_run_again)
{
    unsigned runs;
    int lost = 0, serialization = 1;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, emit_then_fail, &lost, &runs),
                     STORE_BUSY);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, emit_then_fail,
                                 &serialization, &runs),
                     STORE_CONFLICT);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 1"), 0);
}
END_TEST

/* The connection breaks after the last read of a read unit, before its
 * COMMIT: the reads are done, in one snapshot, and COMMIT would change
 * nothing, so the unit succeeded (it answered 503 before), run once. */
static enum store_rc read_then_lose_the_connection(struct pg_unit *u, void *arg)
{
    long long *count = arg;
    PGresult *res = PQexec(u->conn, "SELECT count(*) FROM t");
    enum store_rc rc = pg_unit_check(u, res, "count");
    if (rc == STORE_OK)
        *count = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (rc != STORE_OK)
        return rc;
    char sql[64];
    snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)::int", PQbackendPID(u->conn));
    ck_assert_int_eq(pg_test_value(uri, sql), 1);
    return STORE_OK;
}

START_TEST(a_read_unit_whose_commit_is_lost_has_succeeded)
{
    unsigned runs;
    long long count = -1;
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_READ, STORE_BUSY, read_then_lose_the_connection,
                                 &count, &runs),
                     STORE_OK);
    ck_assert_uint_eq(runs, 1);
    ck_assert_int_eq(count, 2);
}
END_TEST

static enum store_rc bump(struct pg_unit *u, void *arg)
{
    (void)arg;
    return exec(u, "UPDATE t SET v = v + 1 WHERE k = 1");
}

START_TEST(an_unreachable_database_is_busy_and_recovers)
{
    pg_pool_set_retry_interval(pool, 0); /* try on every run */
    ck_assert_int_eq(pg_test_ctl("stop"), 0);
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, bump, NULL, NULL),
                     STORE_BUSY);
    ck_assert_int_eq(pg_test_ctl("start"), 0);
    ck_assert_int_eq(pg_unit_run(pool, PG_UNIT_WRITE, STORE_CONFLICT, bump, NULL, NULL), STORE_OK);
    ck_assert_int_eq(pg_test_value(uri, "SELECT v FROM t WHERE k = 1"), 1);
}
END_TEST

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_unit");
    TCase *tc = tcase_create("pg_unit");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_failing_write_leaves_nothing);
    tcase_add_test(tc, a_unique_violation_is_duplicate_and_not_retried);
    tcase_add_test(tc, a_serialization_failure_is_retried);
    tcase_add_test(tc, retries_are_bounded_then_the_exhausted_result);
    tcase_add_test(tc, a_deadlock_is_retried_and_both_writers_commit);
    tcase_add_test(tc, a_read_unit_sees_one_snapshot_and_cannot_write);
    tcase_add_test(tc, a_connection_lost_before_commit_is_run_again_once);
    tcase_add_test(tc, a_unit_that_emitted_rows_is_not_run_again);
    tcase_add_test(tc, a_read_unit_whose_commit_is_lost_has_succeeded);
    tcase_add_test(tc, an_unreachable_database_is_busy_and_recovers);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
