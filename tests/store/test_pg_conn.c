/* The PostgreSQL connection pool (store/pg_conn.c): masking, start-up
 * errors, on-demand connections and reconnection, against a throwaway
 * server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_test.h"
#include "store/pg_conn.h"
#include "store/store.h"

static void masked_is(const char *conninfo, const char *want)
{
    char out[256];
    pg_conninfo_masked(conninfo, out, sizeof(out));
    ck_assert_str_eq(out, want);
}

START_TEST(masking_hides_every_password)
{
    masked_is("postgresql://placid:s3cret@db:5432/placid",
              "postgresql://placid:***@db:5432/placid");
    masked_is("postgres://u:p%40ss@h1,h2/d?sslmode=require&password=x2&application_name=a",
              "postgres://u:***@h1,h2/d?sslmode=require&password=***&application_name=a");
    masked_is("postgresql://u:a@b@h/d", "postgresql://u:***@h/d");
    masked_is("postgresql://u@h/d", "postgresql://u@h/d");
    masked_is("postgresql://u:p/s?s@h/d", "postgresql://u:***@h/d"); /* unencoded / and ? */
    masked_is("postgresql:///d?host=/run/pg", "postgresql:///d?host=/run/pg");
    masked_is("host=db password=s3cret dbname=placid", "host=db password=*** dbname=placid");
    masked_is("host=db password = 'se cr\\'et' user=u", "host=db password = *** user=u");
    masked_is("dbname=postgresql://u:pw@h/d", "dbname=postgresql://u:***@h/d");
    masked_is("host=db garbage password", "host=db garbage "); /* malformed: cut */
    char tiny[8];
    pg_conninfo_masked("postgresql://u:pw@h/d", tiny, sizeof(tiny));
    ck_assert_str_eq(tiny, "postgre");
    ck_assert_ptr_null(strstr(tiny, "pw"));
}
END_TEST

START_TEST(conninfo_is_told_from_an_sqlite_path)
{
    ck_assert(store_db_is_postgresql("postgresql://h/d"));
    ck_assert(store_db_is_postgresql("postgres://h/d"));
    ck_assert(store_db_is_postgresql("host=db dbname=placid"));
    ck_assert(store_db_is_postgresql(" dbname = placid"));
    ck_assert(!store_db_is_postgresql("placid.db"));
    ck_assert(!store_db_is_postgresql("/var/lib/placid/placid.db"));
    ck_assert(!store_db_is_postgresql("./a=b.db"));
    ck_assert(!store_db_is_postgresql(""));
}
END_TEST

START_TEST(error_line_keeps_the_first_line)
{
    char out[64];
    pg_error_line("connection refused\n\tIs the server running?\n", out, sizeof(out));
    ck_assert_str_eq(out, "connection refused");
    pg_error_line(NULL, out, sizeof(out));
    ck_assert_str_eq(out, "unknown error");
}
END_TEST

START_TEST(unreachable_database_is_a_one_line_start_up_error_without_the_password)
{
    char err[512];
    /* Port 1 on 127.0.0.1: nothing listens, the refusal is immediate. */
    struct pg_pool *pool =
        pg_pool_open("postgresql://placid:s3cret@127.0.0.1:1/placid", 2, err, sizeof(err));
    ck_assert_ptr_null(pool);
    ck_assert_msg(strncmp(err, "database unreachable: postgresql://placid:***@127.0.0.1:1/placid: ",
                          66) == 0,
                  "%s", err);
    ck_assert_ptr_null(strstr(err, "s3cret"));
    ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

START_TEST(password_may_come_from_a_passfile)
{
    char uri[512], err[512];
    const char *u = pg_test_uri(), *at = strchr(u, '@');
    /* postgresql://placid@127.0.0.1:PORT/placid?passfile=DIR/pgpass */
    snprintf(uri, sizeof(uri), "postgresql://placid%s?passfile=%s/pgpass", at, pg_test_dir());
    PGconn *conn = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    PQfinish(conn);
}
END_TEST

static long long backend_pid(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT pg_backend_pid()");
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    long long pid = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    return pid;
}

static char *setting(PGconn *conn, const char *name)
{
    const char *params[] = {name};
    PGresult *res = PQexecParams(conn, "SELECT current_setting($1)", 1, NULL, params, NULL, NULL, 0);
    ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
    char *value = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    return value; /* caller frees */
}

/* JIT compiled a 2,000-row provider list for 1.3 s (it runs in 16 ms). */
START_TEST(connections_run_without_jit_also_after_a_reset)
{
    char err[512];
    PGconn *conn = pg_conn_open(pg_test_uri(), err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    char *jit = setting(conn, "jit");
    ck_assert_str_eq(jit, "off");
    free(jit);
    PQreset(conn);
    ck_assert_int_eq(PQstatus(conn), CONNECTION_OK);
    jit = setting(conn, "jit");
    ck_assert_str_eq(jit, "off");
    free(jit);
    PQfinish(conn);
}
END_TEST

START_TEST(connections_open_on_demand_up_to_the_size)
{
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 3, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    ck_assert_uint_eq(pg_pool_open_count(pool), 1);
    PGconn *a, *b, *c;
    ck_assert_int_eq(pg_pool_acquire(pool, &a), STORE_OK);
    ck_assert_uint_eq(pg_pool_open_count(pool), 1);
    ck_assert_int_eq(pg_pool_acquire(pool, &b), STORE_OK);
    ck_assert_uint_eq(pg_pool_open_count(pool), 2);
    ck_assert_ptr_ne(a, b);
    ck_assert_int_ne(backend_pid(a), backend_pid(b));
    pg_pool_release(pool, a);
    ck_assert_int_eq(pg_pool_acquire(pool, &c), STORE_OK);
    ck_assert_ptr_eq(c, a); /* a free open connection is reused */
    ck_assert_uint_eq(pg_pool_open_count(pool), 2);
    ck_assert_int_eq(pg_test_value(pg_test_uri(), "SELECT count(*) FROM pg_stat_activity "
                                                  "WHERE application_name = 'placid'"),
                     2);
    pg_pool_release(pool, b);
    pg_pool_release(pool, c);
    pg_pool_close(pool);
}
END_TEST

START_TEST(release_rolls_back_what_a_borrower_left_open)
{
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 1, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    PGconn *conn;
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    PQclear(PQexec(conn, "CREATE TABLE IF NOT EXISTS left_open (x int)"));
    ck_assert_int_eq(pg_pool_begin(pool, conn, "BEGIN"), STORE_OK);
    PQclear(PQexec(conn, "INSERT INTO left_open VALUES (1)"));
    pg_pool_release(pool, conn);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    ck_assert_int_eq(PQtransactionStatus(conn), PQTRANS_IDLE);
    pg_pool_release(pool, conn);
    ck_assert_int_eq(pg_test_value(pg_test_uri(), "SELECT count(*) FROM left_open"), 0);
    pg_pool_close(pool);
}
END_TEST

struct borrower {
    struct pg_pool *pool;
    int ok;
};

static void *borrow_many(void *arg)
{
    struct borrower *b = arg;
    for (int i = 0; i < 20; i++) {
        PGconn *conn;
        if (pg_pool_acquire(b->pool, &conn) != STORE_OK)
            continue;
        PGresult *res = PQexec(conn, "SELECT 1");
        b->ok += PQresultStatus(res) == PGRES_TUPLES_OK;
        PQclear(res);
        pg_pool_release(b->pool, conn);
    }
    return NULL;
}

START_TEST(more_borrowers_than_connections_wait_their_turn)
{
    enum { THREADS = 6 };
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 2, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    struct borrower b[THREADS];
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++) {
        b[i] = (struct borrower){pool, 0};
        ck_assert_int_eq(pthread_create(&th[i], NULL, borrow_many, &b[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ck_assert_int_eq(b[i].ok, 20);
    }
    ck_assert_uint_le(pg_pool_open_count(pool), 2);
    pg_pool_close(pool);
}
END_TEST

/* The server restarts while the pool's connection sits idle: the next
 * transaction gets a new backend without an error reaching the caller. */
START_TEST(reconnects_after_the_server_restarts)
{
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 1, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    PGconn *conn;
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    long long before = backend_pid(conn);
    pg_pool_release(pool, conn);

    ck_assert_int_eq(pg_test_ctl("restart"), 0);

    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    ck_assert_int_eq(pg_pool_begin(pool, conn, "BEGIN ISOLATION LEVEL READ COMMITTED"), STORE_OK);
    ck_assert_int_ne(backend_pid(conn), before);
    PQclear(PQexec(conn, "COMMIT"));
    pg_pool_release(pool, conn);
    pg_pool_close(pool);
}
END_TEST

/* While the server is down a borrow or a BEGIN answers STORE_BUSY (the API's
 * 503), repeatedly, and the same pool works again once it is back. */
START_TEST(unreachable_while_down_then_recovers_by_itself)
{
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 2, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    pg_pool_set_retry_interval(pool, 0); /* try on every borrow */
    PGconn *conn;

    ck_assert_int_eq(pg_test_ctl("stop"), 0);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK); /* not known broken yet */
    ck_assert_int_eq(pg_pool_begin(pool, conn, "BEGIN"), STORE_BUSY);
    pg_pool_release(pool, conn);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_BUSY);
        ck_assert_ptr_null(conn);
    }

    ck_assert_int_eq(pg_test_ctl("start"), 0);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    ck_assert_int_eq(pg_pool_begin(pool, conn, "BEGIN"), STORE_OK);
    PQclear(PQexec(conn, "COMMIT"));
    pg_pool_release(pool, conn);
    pg_pool_close(pool);
}
END_TEST

/* While down, only one borrow per retry interval tries to connect; the
 * others answer STORE_BUSY at once. */
START_TEST(borrows_fail_fast_while_the_database_is_down)
{
    char err[512];
    struct pg_pool *pool = pg_pool_open(pg_test_uri(), 2, err, sizeof(err));
    ck_assert_msg(pool != NULL, "%s", err);
    pg_pool_set_retry_interval(pool, 3600 * 1000LL);
    PGconn *conn;

    ck_assert_int_eq(pg_test_ctl("stop"), 0);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    ck_assert_int_eq(pg_pool_begin(pool, conn, "BEGIN"), STORE_BUSY); /* one reset tried */
    pg_pool_release(pool, conn);
    unsigned long long attempts = pg_pool_attempts(pool);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_BUSY);
    ck_assert_uint_eq(pg_pool_attempts(pool), attempts);

    ck_assert_int_eq(pg_test_ctl("start"), 0);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_BUSY); /* still within the interval */
    pg_pool_set_retry_interval(pool, 0);
    ck_assert_int_eq(pg_pool_acquire(pool, &conn), STORE_OK);
    ck_assert_uint_eq(pg_pool_attempts(pool), attempts + 1);
    pg_pool_release(pool, conn);
    pg_pool_close(pool);
}
END_TEST

/* A test that stopped the server and failed half-way must not take the
 * following ones down with it. */
static void server_running(void)
{
    pg_test_ctl("start");
}

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_conn");
    TCase *tc = tcase_create("pg_conn");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, server_running);
    tcase_add_test(tc, masking_hides_every_password);
    tcase_add_test(tc, conninfo_is_told_from_an_sqlite_path);
    tcase_add_test(tc, error_line_keeps_the_first_line);
    tcase_add_test(tc, unreachable_database_is_a_one_line_start_up_error_without_the_password);
    tcase_add_test(tc, password_may_come_from_a_passfile);
    tcase_add_test(tc, connections_run_without_jit_also_after_a_reset);
    tcase_add_test(tc, connections_open_on_demand_up_to_the_size);
    tcase_add_test(tc, release_rolls_back_what_a_borrower_left_open);
    tcase_add_test(tc, more_borrowers_than_connections_wait_their_turn);
    tcase_add_test(tc, reconnects_after_the_server_restarts);
    tcase_add_test(tc, unreachable_while_down_then_recovers_by_itself);
    tcase_add_test(tc, borrows_fail_fast_while_the_database_is_down);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
