/* store/sql.h over PostgreSQL (store/pg_cursor.c) and the PostgreSQL texts
 * of every statement id (store/sql_pg.c), against a throwaway server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pg_test.h"
#include "store/internal.h"
#include "store/locks.h"
#include "store/pg_conn.h"
#include "store/pg_cursor.h"
#include "store/pg_migrate.h"
#include "store/sql.h"
#include "store/sql_pg.h"
#include "support.h"

static char uri[512];
static struct pg_pool *pool;
static struct pg_backend *be;
static struct store *st;

/* A fresh migrated database, a pool of two connections and a handle. */
static void setup(void)
{
    pg_test_store_open(uri, sizeof(uri), 2, &pool, &be, &st);
}

static void teardown(void)
{
    pg_test_store_close(pool, be, st);
}

START_TEST(question_marks_become_dollars_outside_quotes)
{
    char out[256];
    int n;
    ck_assert_int_eq(pg_sql_rewrite("SELECT ?1, '?2', \"?3\" WHERE a = ?12 OR b = ?2", out,
                                    sizeof(out), &n),
                     0);
    ck_assert_str_eq(out, "SELECT $1, '?2', \"?3\" WHERE a = $12 OR b = $2");
    ck_assert_int_eq(n, 12);
    ck_assert_int_eq(pg_sql_rewrite("SELECT ?", out, sizeof(out), &n), -1);
    ck_assert_int_eq(pg_sql_rewrite("SELECT ?1", out, 6, &n), -1);
    ck_assert_int_eq(pg_sql_rewrite("SELECT $3 + 1", out, sizeof(out), &n), 0);
    ck_assert_int_eq(n, 3);
}
END_TEST

/* Every id's PostgreSQL text prepares on the migrated schema, with the
 * parameter count the backend sends. */
START_TEST(every_statement_prepares_on_postgresql)
{
    char err[512], path[64];
    snprintf(path, sizeof(path), "/tmp/placid-pgcursor-%d.db", (int)getpid());
    struct store *sqlite = store_open(path, err, sizeof(err));
    ck_assert_msg(sqlite != NULL, "%s", err);
    PGconn *conn = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    for (int id = 0; id < STMT__COUNT; id++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", id);
        PGresult *res = PQprepare(conn, name, pg_sql_text((enum stmt_id)id), 0, NULL);
        ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK, "%s: %s\n%s", store_stmt_names[id],
                      PQresultErrorMessage(res), pg_sql_text((enum stmt_id)id));
        PQclear(res);
        res = PQdescribePrepared(conn, name);
        ck_assert_int_eq(PQnparams(res), pg_sql_nparams((enum stmt_id)id));
        /* The same shape as the SQLite text: an override that lost a
         * parameter or a column (say a RETURNING) fails here. */
        sqlite3_stmt *lite = stmt_of(sqlite, (enum stmt_id)id);
        /* ... except the "RETURNING id" sql_insert_id() reads on PostgreSQL. */
        int extra = strstr(pg_sql_text((enum stmt_id)id), " RETURNING id") &&
                            !strstr(sqlite_sql[id], "RETURNING")
                        ? 1
                        : 0;
        ck_assert_msg(PQnparams(res) == sqlite3_bind_parameter_count(lite) &&
                          PQnfields(res) == sqlite3_column_count(lite) + extra,
                      "%s: %d parameters and %d columns on PostgreSQL, %d and %d on SQLite",
                      store_stmt_names[id], PQnparams(res), PQnfields(res),
                      sqlite3_bind_parameter_count(lite), sqlite3_column_count(lite));
        PQclear(res);
    }
    ck_assert_int_eq(pg_prepare_all(conn, err, sizeof(err)), -1); /* names taken: reported */
    ck_assert_msg(strstr(err, "cannot prepare statement BEGIN_WRITE") != NULL, "%s", err);
    PQfinish(conn);
    store_close(sqlite);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char f[80];
        snprintf(f, sizeof(f), "%s%s", path, suffixes[i]);
        unlink(f);
    }
}
END_TEST

/* ---- Units through store/sql.h ---- */

struct made {
    long long id, root;
    long long changes;
};

static enum store_rc make_provider(struct store *s, void *arg)
{
    struct made *m = arg;
    struct sql *q = sql_get(s, STMT_PROVIDER_INSERT);
    sql_bind_text(q, 1, "8c1f6bb4-0000-4000-8000-000000000001");
    sql_bind_text(q, 2, "p'1\"\\");
    sql_bind_i64(q, 5, 1234);
    enum store_rc rc = sql_run(q);
    if (rc != STORE_OK)
        return rc;
    q = sql_get(s, STMT_PROVIDER_FIX_ROOT);
    rc = sql_exec(q);
    m->changes = sql_changes(q);
    sql_done(q);
    return rc;
}

static enum store_rc read_provider(struct store *s, void *arg)
{
    struct made *m = arg;
    struct sql *q = sql_get(s, STMT_PROVIDER_REF);
    sql_bind_text(q, 1, "8c1f6bb4-0000-4000-8000-000000000001");
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK) {
        m->id = sql_col_i64(q, 0);
        m->root = sql_col_i64(q, 3);
        ck_assert(sql_col_null(q, 2) == false); /* COALESCE(parent_id, 0) */
        ck_assert_str_eq(sql_col_text(q, 4), "8c1f6bb4-0000-4000-8000-000000000001");
        ck_assert_int_eq(sql_step(q), STORE_NOT_FOUND);
    }
    sql_done(q);
    return rc;
}

START_TEST(a_write_unit_commits_and_a_read_unit_sees_it)
{
    struct made m = {0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, make_provider, &m), STORE_OK);
    ck_assert_int_eq(m.changes, 1);
    ck_assert_int_eq(store_unit(st, UNIT_READ, STORE_BUSY, read_provider, &m), STORE_OK);
    ck_assert_int_gt(m.id, 0);
    ck_assert_int_eq(m.root, m.id);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM providers WHERE name = 'p''1\"\\'"),
                     1);
}
END_TEST

static enum store_rc make_twice(struct store *s, void *arg)
{
    enum store_rc rc = make_provider(s, arg);
    return rc != STORE_OK ? rc : make_provider(s, arg);
}

/* A lookup outside any unit runs alone (autocommit) on a borrowed
 * connection; the handle keeps its result after the connection went back. */
START_TEST(a_statement_outside_a_unit_runs_alone)
{
    struct made m = {0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, make_provider, &m), STORE_OK);
    ck_assert_int_eq(read_provider(st, &m), STORE_OK);
    ck_assert_int_gt(m.id, 0);
    ck_assert_int_eq(m.root, m.id);
}
END_TEST

START_TEST(a_unique_violation_is_duplicate_and_rolls_back_the_unit)
{
    struct made m = {0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, make_twice, &m), STORE_DUPLICATE);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM providers"), 0);
}
END_TEST

struct lists {
    char names[4][64];
    long long resolved[4][2];
    int nresolved;
    bool in_use;
};

/* Lists as arrays (ids and texts, one odd name), a boolean column, and a
 * unit nested in another joining its transaction. */
static enum store_rc read_lists(struct store *s, void *arg)
{
    struct lists *l = arg;
    memset(l, 0, sizeof(*l));
    long long ids[] = {3, 1, 2};
    struct sql *q = sql_get(s, STMT_CLASS_NAMES);
    sql_bind_ids(q, 1, ids, 3);
    enum store_rc rc;
    int i = 0;
    while ((rc = sql_step(q)) == STORE_OK && i < 4)
        snprintf(l->names[i++], sizeof(l->names[0]), "%s", sql_col_text(q, 0));
    sql_done(q);
    if (rc != STORE_NOT_FOUND)
        return rc;
    const char *traits[] = {"no \"such\" \\ trait", "HW_CPU_X86_AVX2", "COMPUTE_VOLUME_EXTEND"};
    q = sql_get(s, STMT_TRAITS_RESOLVE);
    sql_bind_texts(q, 1, traits, 3);
    while ((rc = sql_step(q)) == STORE_OK && l->nresolved < 4) {
        l->resolved[l->nresolved][0] = sql_col_i64(q, 0);
        l->resolved[l->nresolved++][1] = sql_col_i64(q, 1);
    }
    sql_done(q);
    if (rc != STORE_NOT_FOUND)
        return rc;
    q = sql_get(s, STMT_TRAIT_IN_USE);
    sql_bind_i64(q, 1, l->resolved[0][1]);
    rc = sql_step(q);
    l->in_use = sql_col_i64(q, 0) != 0;
    sql_done(q);
    return rc;
}

static enum store_rc nested(struct store *s, void *arg)
{
    return store_unit(s, UNIT_READ, STORE_BUSY, read_lists, arg);
}

START_TEST(lists_bind_as_arrays_and_units_nest)
{
    struct lists l;
    pg_test_value(uri, "INSERT INTO providers (uuid, name, root_id, created_at)"
                       " VALUES ('u', 'n', 1, 0)");
    pg_test_value(uri, "INSERT INTO provider_traits SELECT 1, id FROM traits"
                       " WHERE name = 'HW_CPU_X86_AVX2'");
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, nested, &l), STORE_OK);
    ck_assert_str_eq(l.names[0], "MEMORY_MB");
    ck_assert_str_eq(l.names[1], "DISK_GB");
    ck_assert_str_eq(l.names[2], "PCI_DEVICE");
    ck_assert_str_eq(l.names[3], "");
    ck_assert_int_eq(l.nresolved, 2);
    ck_assert(l.resolved[0][0] + l.resolved[1][0] == 3); /* indexes 1 and 2 */
    ck_assert(l.in_use == (l.resolved[0][0] == 1));
}
END_TEST

static enum store_rc bad_param(struct store *s, void *arg)
{
    (void)arg;
    struct sql *q = sql_get(s, STMT_PROVIDER_GENERATION);
    sql_bind_i64(q, 2, 1); /* it has one parameter */
    enum store_rc rc = sql_step(q);
    sql_done(q);
    return rc;
}

START_TEST(a_parameter_the_statement_lacks_is_an_error)
{
    ck_assert_int_eq(store_unit(st, UNIT_READ, STORE_BUSY, bad_param, NULL), STORE_ERROR);
}
END_TEST

/* A reset connection is a new server backend without the statements:
 * they are prepared again before the unit uses them. */
START_TEST(statements_are_prepared_again_after_a_reconnect)
{
    struct made m = {0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, make_provider, &m), STORE_OK);
    unsigned before = pg_backend_prepares(be);
    ck_assert_uint_eq(before, 1);
    pg_test_value(uri, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                       " WHERE application_name = 'placid' AND pid <> pg_backend_pid()");
    ck_assert_int_eq(store_unit(st, UNIT_READ, STORE_BUSY, read_provider, &m), STORE_OK);
    ck_assert_int_gt(m.id, 0);
    ck_assert_uint_eq(pg_backend_prepares(be), before + 1);
}
END_TEST

/* ---- Racing claims (docs/postgresql.md §2, rule 2) ---- */

struct claim {
    long long consumer;
    bool lock;                   /* take store_lock_providers first */
    pthread_barrier_t *after_read; /* without the lock: both read before either writes */
    bool granted;
    enum store_rc rc;
};

/* One VCPU on provider 1 if the usage read says it is free. */
static enum store_rc claim_body(struct store *s, void *arg)
{
    struct claim *c = arg;
    c->granted = false;
    long long ids[] = {1, 1};
    enum store_rc rc = c->lock ? store_lock_providers(s, ids, 2) : STORE_OK;
    if (rc != STORE_OK)
        return rc;
    struct sql *q = sql_get(s, STMT_ITEM_INVENTORY);
    sql_bind_i64(q, 1, 1);
    sql_bind_i64(q, 2, 0);
    rc = sql_step(q);
    long long total = sql_col_i64(q, 0), used = sql_col_i64(q, 6);
    sql_done(q);
    if (rc != STORE_OK)
        return rc;
    if (c->after_read) {
        pthread_barrier_wait(c->after_read);
    } else {
        struct timespec window = {0, 100 * 1000000L}; /* the other claim runs meanwhile */
        nanosleep(&window, NULL);
    }
    if (used + 1 > total)
        return STORE_OK;
    q = sql_get(s, STMT_ALLOCATION_INSERT);
    sql_bind_i64(q, 1, 1);
    sql_bind_i64(q, 2, c->consumer);
    sql_bind_i64(q, 3, 0);
    sql_bind_i64(q, 4, 1);
    sql_bind_i64(q, 5, 0);
    rc = sql_run(q);
    c->granted = rc == STORE_OK;
    return rc;
}

static void *claim_thread(void *arg)
{
    struct claim *c = arg;
    struct store *mine = pg_store_new(be);
    c->rc = store_unit(mine, UNIT_WRITE, STORE_CONFLICT, claim_body, c);
    pg_store_free(mine);
    return NULL;
}

/* Two claims for the last VCPU at once; returns the allocations made. */
static long long race(bool lock)
{
    pg_test_value(uri, "INSERT INTO providers (uuid, name, root_id, created_at)"
                       " VALUES ('u', 'n', 1, 0)");
    pg_test_value(uri, "INSERT INTO inventories (provider_id, resource_class_id, total,"
                       " created_at) VALUES (1, 0, 1, 0)");
    pg_test_value(uri, "INSERT INTO projects (external_id) VALUES ('p')");
    pg_test_value(uri, "INSERT INTO users (external_id) VALUES ('u')");
    pg_test_value(uri, "INSERT INTO consumers (uuid, project_id, user_id, created_at)"
                       " VALUES ('c1', 1, 1, 0), ('c2', 1, 1, 0)");
    pthread_barrier_t b;
    pthread_barrier_init(&b, NULL, 2);
    struct claim c[2] = {{.consumer = 1, .lock = lock, .after_read = lock ? NULL : &b},
                         {.consumer = 2, .lock = lock, .after_read = lock ? NULL : &b}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, claim_thread, &c[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&b);
    ck_assert_int_eq(c[0].rc, STORE_OK);
    ck_assert_int_eq(c[1].rc, STORE_OK);
    ck_assert_int_eq(c[0].granted + c[1].granted, pg_test_value(uri, "SELECT count(*) FROM allocations"));
    return pg_test_value(uri, "SELECT count(*) FROM allocations");
}

/* What the lock prevents is real: READ COMMITTED alone lets both claims
 * read the VCPU as free and take it. */
START_TEST(without_the_provider_lock_racing_claims_oversubscribe)
{
    ck_assert_int_eq(race(false), 2);
}
END_TEST

START_TEST(with_the_provider_lock_racing_claims_grant_exactly_the_capacity)
{
    ck_assert_int_eq(race(true), 1);
    ck_assert_int_ge(pg_test_value(uri, "SELECT version FROM tree_versions WHERE block = 0"), 2);
}
END_TEST

/* Two nodes creating the same project at once: the INSERT of the second
 * waits for the first transaction and, once that commits, the claim must
 * find the row instead of failing on the unique index (it answered 500 to
 * racing claims on three nodes before). */
static void *commit_after_300_ms(void *arg)
{
    struct timespec wait = {0, 300000000L};
    nanosleep(&wait, NULL);
    PQclear(PQexec(arg, "COMMIT"));
    return NULL;
}

START_TEST(a_project_another_node_creates_meanwhile_is_found)
{
    static const char rp_uuid[] = "aaaaaaaa-0000-0000-0000-0000000000a1";
    char err[512];
    struct acct_failure fail;
    test_provider_with_inventory(st, rp_uuid, "race-cn", NULL, "VCPU=4");
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    PQclear(PQexec(other, "BEGIN"));
    PGresult *res = PQexec(other, "INSERT INTO projects (external_id) VALUES ('p-race')");
    ck_assert_int_eq(PQresultStatus(res), PGRES_COMMAND_OK);
    PQclear(res);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, commit_after_300_ms, other), 0);
    struct alloc_item item = {rp_uuid, "VCPU", 1};
    struct consumer_allocs c = {.uuid = "cccccccc-0000-0000-0000-0000000000c1",
                                .project_id = "p-race", .user_id = "u", .items = &item,
                                .n_items = 1};
    enum store_rc rc = store_allocations_replace(st, &c, 1, &fail);
    pthread_join(t, NULL);
    PQfinish(other);
    ck_assert_int_eq(rc, STORE_OK);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM projects WHERE external_id = 'p-race'"),
                     1);
}
END_TEST

/* ---- The real write units take the provider locks (issue 13) ---- */

#define RACE_PROVIDER "8c1f6bb4-0000-4000-8000-0000000000aa"

struct put {
    char consumer[40];
    struct alloc_item item;
    struct consumer_allocs c;
    struct acct_failure fail;
    enum store_rc rc;
};

/* One PUT /allocations of 1 VCPU through the store function itself. */
static void *put_thread(void *arg)
{
    struct put *p = arg;
    struct store *mine = pg_store_new(be);
    p->rc = store_allocations_replace(mine, &p->c, 1, &p->fail);
    pg_store_free(mine);
    return NULL;
}

/* Sessions of this test's database waiting for a lock. */
static long long lock_waiters(void)
{
    return pg_test_value(uri, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type ="
                              " 'Lock' AND datname = current_database()");
}

/* Two PUTs of 1 VCPU on a provider of capacity total, both started while
 * another node holds the provider (its claim in flight), so both have read
 * the provider before either writes. put[] gets their outcomes. */
static void put_race(long long total, struct put put[2])
{
    char sql[256], err[512];
    pg_test_value(uri, "INSERT INTO providers (uuid, name, root_id, created_at)"
                       " VALUES ('" RACE_PROVIDER "', 'n', 1, 0)");
    snprintf(sql, sizeof(sql),
             "INSERT INTO inventories (provider_id, resource_class_id, total, created_at)"
             " VALUES (1, 0, %lld, 0)",
             total);
    pg_test_value(uri, sql);
    pg_test_value(uri, "INSERT INTO projects (external_id) VALUES ('p')");
    pg_test_value(uri, "INSERT INTO users (external_id) VALUES ('u')");
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    PGresult *res = PQexec(other, "BEGIN; SELECT id FROM providers WHERE id = 1 FOR UPDATE");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    PQclear(res);
    pthread_t t[2];
    for (int i = 0; i < 2; i++) {
        memset(&put[i], 0, sizeof(put[i]));
        snprintf(put[i].consumer, sizeof(put[i].consumer),
                 "c0000000-0000-4000-8000-00000000000%d", i + 1);
        put[i].item = (struct alloc_item){RACE_PROVIDER, "VCPU", 1};
        put[i].c = (struct consumer_allocs){.uuid = put[i].consumer, .project_id = "p",
                                            .user_id = "u", .items = &put[i].item, .n_items = 1};
        pthread_create(&t[i], NULL, put_thread, &put[i]);
    }
    for (int i = 0; i < 600 && lock_waiters() < 2; i++) {
        struct timespec d = {0, 50 * 1000000L};
        nanosleep(&d, NULL);
    }
    ck_assert_int_eq(lock_waiters(), 2);
    PQclear(PQexec(other, "ROLLBACK"));
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    PQfinish(other);
}

/* The last VCPU: one claim gets it, the other one is refused for capacity
 * (it read the usage after the winner committed), not oversubscribed and
 * not refused as a concurrent update. */
START_TEST(racing_puts_of_the_last_unit_grant_exactly_one)
{
    struct put put[2];
    put_race(1, put);
    int winner = put[0].rc == STORE_OK ? 0 : 1;
    ck_assert_int_eq(put[winner].rc, STORE_OK);
    ck_assert_int_eq(put[1 - winner].rc, STORE_INVALID);
    ck_assert_int_eq(put[1 - winner].fail.kind, ACCT_CAPACITY);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM allocations"), 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT generation FROM providers WHERE id = 1"), 1);
}
END_TEST

/* Room for both: both claims succeed, one after the other, each bumping
 * the generation it read under the lock. */
START_TEST(racing_puts_that_both_fit_both_succeed)
{
    struct put put[2];
    put_race(2, put);
    ck_assert_int_eq(put[0].rc, STORE_OK);
    ck_assert_int_eq(put[1].rc, STORE_OK);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM allocations"), 2);
    ck_assert_int_eq(pg_test_value(uri, "SELECT generation FROM providers WHERE id = 1"), 2);
}
END_TEST

struct inv_delete {
    struct acct_failure fail;
    enum store_rc rc;
};

static void *inv_delete_thread(void *arg)
{
    struct inv_delete *d = arg;
    struct store *mine = pg_store_new(be);
    long long gen = 0;
    d->rc = store_inventory_delete(mine, 1, "VCPU", &gen, &d->fail);
    pg_store_free(mine);
    return NULL;
}

static void exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    ck_assert_msg(PQresultStatus(res) == PGRES_COMMAND_OK ||
                      PQresultStatus(res) == PGRES_TUPLES_OK,
                  "%s: %s", sql, PQresultErrorMessage(res));
    PQclear(res);
}

/* DELETE of an inventory while another node's claim on it is in flight:
 * the delete waits for the provider, then sees the claim's allocation and
 * refuses as in use (without the lock it deleted the row, then lost the
 * generation compare-and-set: a conflict for the wrong reason). */
START_TEST(an_inventory_delete_waits_for_a_claim_in_flight)
{
    char err[512];
    pg_test_value(uri, "INSERT INTO providers (uuid, name, root_id, created_at)"
                       " VALUES ('" RACE_PROVIDER "', 'n', 1, 0)");
    pg_test_value(uri, "INSERT INTO inventories (provider_id, resource_class_id, total,"
                       " created_at) VALUES (1, 0, 4, 0)");
    pg_test_value(uri, "INSERT INTO projects (external_id) VALUES ('p')");
    pg_test_value(uri, "INSERT INTO users (external_id) VALUES ('u')");
    pg_test_value(uri, "INSERT INTO consumers (uuid, project_id, user_id, created_at)"
                       " VALUES ('c1', 1, 1, 0)");
    PGconn *other = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(other != NULL, "%s", err);
    exec_ok(other, "BEGIN");
    exec_ok(other, "SELECT id FROM providers WHERE id = 1 FOR UPDATE");
    exec_ok(other, "INSERT INTO allocations (provider_id, consumer_id, resource_class_id, used,"
                   " created_at) VALUES (1, 1, 0, 1, 0)");
    exec_ok(other, "UPDATE providers SET generation = generation + 1 WHERE id = 1");
    struct inv_delete d;
    memset(&d, 0, sizeof(d));
    pthread_t t;
    pthread_create(&t, NULL, inv_delete_thread, &d);
    for (int i = 0; i < 600 && lock_waiters() < 1; i++) {
        struct timespec w = {0, 50 * 1000000L};
        nanosleep(&w, NULL);
    }
    ck_assert_int_eq(lock_waiters(), 1);
    exec_ok(other, "COMMIT");
    pthread_join(t, NULL);
    PQfinish(other);
    ck_assert_int_eq(d.rc, STORE_IN_USE);
    ck_assert_int_eq(d.fail.kind, ACCT_INVENTORY_IN_USE);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM inventories"), 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT generation FROM providers WHERE id = 1"), 1);
}
END_TEST

static int count_row(void *arg, const struct provider *row)
{
    (void)row;
    (*(int *)arg)++;
    return 0;
}

/* Executions of id's named (prepared) statement on conn. */
static long long named_runs(PGconn *conn, enum stmt_id id)
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT COALESCE(sum(generic_plans + custom_plans), 0) FROM pg_prepared_statements"
             " WHERE name = 's%d'",
             (int)id);
    PGresult *res = PQexec(conn, sql);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    long long n = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return n;
}

/* The provider list ran on a generic plan from its sixth run on a
 * connection: 12 s at N=10,000 instead of 48 ms. */
START_TEST(statements_with_optional_filters_are_planned_at_every_run)
{
    ck_assert(pg_sql_plan_each_time(STMT_PROVIDER_LIST));
    ck_assert(pg_sql_plan_each_time(STMT_TRAITS_LIST));
    ck_assert(!pg_sql_plan_each_time(STMT_PROVIDER_REF));
    struct provider p;
    enum provider_problem why;
    ck_assert_int_eq(store_provider_create(st, "5a1e0000-0000-4000-8000-0000000000f1", "plans",
                                           NULL, &p, &why),
                     STORE_OK);
    struct provider_filter all = {0};
    for (int i = 0; i < 8; i++) {
        int rows = 0;
        ck_assert_int_eq(store_provider_list(st, &all, count_row, &rows), STORE_OK);
        ck_assert_int_eq(rows, 1);
    }
    PGconn *a, *b;
    ck_assert_int_eq(pg_pool_acquire(pool, &a), STORE_OK);
    ck_assert_int_eq(pg_pool_acquire(pool, &b), STORE_OK);
    ck_assert_int_eq(named_runs(a, STMT_PROVIDER_LIST) + named_runs(b, STMT_PROVIDER_LIST), 0);
    pg_pool_release(pool, a);
    pg_pool_release(pool, b);
}
END_TEST

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_cursor");
    TCase *tc = tcase_create("pg_cursor");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, question_marks_become_dollars_outside_quotes);
    tcase_add_test(tc, every_statement_prepares_on_postgresql);
    tcase_add_test(tc, a_write_unit_commits_and_a_read_unit_sees_it);
    tcase_add_test(tc, a_statement_outside_a_unit_runs_alone);
    tcase_add_test(tc, a_unique_violation_is_duplicate_and_rolls_back_the_unit);
    tcase_add_test(tc, lists_bind_as_arrays_and_units_nest);
    tcase_add_test(tc, a_parameter_the_statement_lacks_is_an_error);
    tcase_add_test(tc, statements_are_prepared_again_after_a_reconnect);
    tcase_add_test(tc, a_project_another_node_creates_meanwhile_is_found);
    tcase_add_test(tc, without_the_provider_lock_racing_claims_oversubscribe);
    tcase_add_test(tc, with_the_provider_lock_racing_claims_grant_exactly_the_capacity);
    tcase_add_test(tc, racing_puts_of_the_last_unit_grant_exactly_one);
    tcase_add_test(tc, racing_puts_that_both_fit_both_succeed);
    tcase_add_test(tc, an_inventory_delete_waits_for_a_claim_in_flight);
    tcase_add_test(tc, statements_with_optional_filters_are_planned_at_every_run);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
