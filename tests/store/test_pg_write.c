/* The write path on PostgreSQL (issue 13): units that stream rows to their
 * caller are never run twice with visible effects, against a throwaway
 * server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    char err[512];
    pg_test_new_db(uri, sizeof(uri));
    PGconn *conn = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    ck_assert_msg(pg_migrate(conn, err, sizeof(err)) == 0, "%s", err);
    PQfinish(conn);
    pool = pg_pool_open(uri, 4, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    be = pg_backend_new(pool);
    st = pg_store_new(be);
    ck_assert_ptr_nonnull(st);
}

static void teardown(void)
{
    pg_store_free(st);
    pg_backend_close(be);
    pg_pool_close(pool);
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
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
