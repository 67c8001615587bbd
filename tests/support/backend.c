/* The backend of a test executable: see backend.h. */
#include "backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "store/store.h"

bool test_on_pg(void)
{
    const char *b = getenv("PLACID_TEST_BACKEND");
    return b && strcmp(b, "postgresql") == 0;
}

int test_backend_check(void)
{
    const char *b = getenv("PLACID_TEST_BACKEND");
    if (!b || strcmp(b, "sqlite") == 0 || strcmp(b, "postgresql") == 0)
        return 0;
    printf("FAIL: PLACID_TEST_BACKEND=%s: expected sqlite or postgresql\n", b);
    return 1;
}

void test_add_sqlite_only(TCase *tc, const TTest *tf, const char *name, const char *why)
{
    if (!test_on_pg()) {
        tcase_add_test(tc, tf);
        return;
    }
    printf("skipped on PostgreSQL: %s: %s\n", name, why);
    fflush(stdout);
}

#ifdef PLACID_POSTGRESQL

#include <libpq-fe.h>

#include "pg_test.h"
#include "store/pg_cursor.h"

#define TEMPLATE_DB "placid_template"

/* The one test database open in this (forked) test process: its URI, its
 * pool, and a connection for the test's own SQL, opened on first use. */
static char current_uri[256];
static struct store_pool *current_pool;
static PGconn *current_conn;

bool test_in_transaction(struct store *st)
{
    if (!st->ops)
        return !sqlite3_get_autocommit(st->db);
    PGconn *conn = pg_store_conn(st);
    return conn && PQtransactionStatus(conn) != PQTRANS_IDLE;
}

/* The URI of database name on the test server. */
static void uri_of(const char *name, char *out, size_t size)
{
    const char *base = pg_test_uri();
    const char *slash = strrchr(base, '/');
    int n = snprintf(out, size, "%.*s/%s", (int)(slash - base), base, name);
    ck_assert_msg(n > 0 && (size_t)n < size, "URI of %s too long", name);
}

/* Creates and migrates the template (outside any test: no ck_assert).
 * 0, or -1 with the reason in err. */
static int template_make(char *err, size_t errsz)
{
    char uri[256];
    PGconn *conn = PQconnectdb(pg_test_uri());
    /* Collation en-US (ICU), as a cluster made with a typical system locale
     * has, rather than the test server's C.UTF-8: an ORDER BY on text that
     * would sort differently from SQLite's byte order then shows. */
    PGresult *res = PQexec(conn, "CREATE DATABASE " TEMPLATE_DB " TEMPLATE template0"
                                 " LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'");
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(err, errsz, "CREATE DATABASE: %s", PQerrorMessage(conn));
    PQclear(res);
    PQfinish(conn);
    if (!ok)
        return -1;
    const char *base = pg_test_uri();
    const char *slash = strrchr(base, '/');
    snprintf(uri, sizeof(uri), "%.*s/%s", (int)(slash - base), base, TEMPLATE_DB);
    struct store_pool *pool = store_pool_open(uri, 1, err, errsz);
    if (!pool)
        return -1;
    store_pool_close(pool);
    return 0;
}

int pgb_suite_up(void)
{
    char err[256];
    int rc = pg_test_up();
    if (rc != 0)
        return rc;
    /* Migrated once here, before the tests fork: each test then copies it
     * (measured per test, medians under load: ~190 ms to copy and open,
     * against ~235-465 ms to create, migrate and open). */
    if (template_make(err, sizeof(err)) != 0) {
        printf("FAIL: the template database: %s\n", err);
        pg_test_down();
        return 1;
    }
    return 0;
}

void pgb_suite_down(void)
{
    pg_test_down();
}

struct store_pool *pgb_pool_open(char *path, size_t size, unsigned n)
{
    static unsigned seq;
    char name[64], sql[160], err[256];
    ck_assert_msg(current_uri[0] == '\0', "one test database at a time");
    /* Each test runs in its own forked process: the PID keeps names apart. */
    snprintf(name, sizeof(name), "t_%ld_%u", (long)getpid(), seq++);
    /* FILE_COPY: copying the template's files beats PostgreSQL 15's default
     * WAL_LOG for so small a database (fsync is off in the test server). */
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE " TEMPLATE_DB " STRATEGY FILE_COPY",
             name);
    pg_test_value(pg_test_uri(), sql);
    uri_of(name, current_uri, sizeof(current_uri));
    ck_assert_msg(strlen(current_uri) < size, "URI %s longer than %zu", current_uri, size);
    snprintf(path, size, "%s", current_uri);
    current_pool = store_pool_open(current_uri, n, err, sizeof(err));
    ck_assert_msg(current_pool != NULL, "store_pool_open: %s", err);
    return current_pool;
}

void pgb_pool_close(struct store_pool *pool, const char *path)
{
    char sql[160];
    store_pool_close(pool);
    if (current_conn)
        PQfinish(current_conn);
    current_conn = NULL;
    current_pool = NULL;
    current_uri[0] = '\0';
    const char *name = strrchr(path, '/') + 1;
    snprintf(sql, sizeof(sql), "DROP DATABASE %s WITH (FORCE)", name);
    pg_test_value(pg_test_uri(), sql);
}

/* Up to four handles at once: a racing test uses three. */
struct store *pgb_store_open(char *path, size_t size)
{
    return store_acquire(pgb_pool_open(path, size, 4));
}

void pgb_store_close(struct store *st, const char *path)
{
    struct store_pool *pool = current_pool;
    store_release(pool, st);
    pgb_pool_close(pool, path);
}

struct store *test_store_connect(const char *path)
{
    char err[256];
    if (!test_on_pg()) {
        struct store *st = store_open(path, err, sizeof(err));
        ck_assert_msg(st != NULL, "store_open: %s", err);
        return st;
    }
    ck_assert_str_eq(path, current_uri);
    return store_acquire(current_pool);
}

void test_store_disconnect(struct store *st, const char *path)
{
    (void)path;
    if (!test_on_pg())
        store_close(st);
    else
        store_release(current_pool, st);
}

static PGconn *conn_for(const char *uri)
{
    if (strcmp(uri, current_uri) != 0) {
        PGconn *c = PQconnectdb(uri);
        ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
        return c;
    }
    if (!current_conn) {
        current_conn = PQconnectdb(uri);
        ck_assert_msg(PQstatus(current_conn) == CONNECTION_OK, "connect: %s",
                      PQerrorMessage(current_conn));
    }
    return current_conn;
}

static PGresult *run(const char *uri, const char *sql, PGconn **conn)
{
    *conn = conn_for(uri);
    PGresult *res = PQexec(*conn, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    return res;
}

void pgb_exec(const char *uri, const char *sql)
{
    PGconn *conn;
    PQclear(run(uri, sql, &conn));
    if (conn != current_conn)
        PQfinish(conn);
}

long long pgb_value(const char *uri, const char *sql)
{
    PGconn *conn;
    PGresult *res = run(uri, sql, &conn);
    long long v = 0;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        v = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (conn != current_conn)
        PQfinish(conn);
    return v;
}

const char *pgb_current(void)
{
    ck_assert_msg(current_uri[0] != '\0', "no test database is open");
    return current_uri;
}

#else /* !PLACID_POSTGRESQL: the @pg entries are not registered */

bool test_in_transaction(struct store *st)
{
    return !sqlite3_get_autocommit(st->db);
}

struct store *test_store_connect(const char *path)
{
    char err[256];
    struct store *st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "store_open: %s", err);
    return st;
}

void test_store_disconnect(struct store *st, const char *path)
{
    (void)path;
    store_close(st);
}

int pgb_suite_up(void)
{
    printf("FAIL: PLACID_TEST_BACKEND=postgresql, but this build has no PostgreSQL backend\n");
    return 1;
}

void pgb_suite_down(void)
{
}

struct store_pool *pgb_pool_open(char *path, size_t size, unsigned n)
{
    (void)path, (void)size, (void)n;
    ck_abort_msg("no PostgreSQL backend in this build");
    return NULL;
}

void pgb_pool_close(struct store_pool *pool, const char *path)
{
    (void)pool, (void)path;
}

struct store *pgb_store_open(char *path, size_t size)
{
    (void)path, (void)size;
    ck_abort_msg("no PostgreSQL backend in this build");
    return NULL;
}

void pgb_store_close(struct store *st, const char *path)
{
    (void)st, (void)path;
}

void pgb_exec(const char *uri, const char *sql)
{
    (void)uri, (void)sql;
    ck_abort_msg("no PostgreSQL backend in this build");
}

long long pgb_value(const char *uri, const char *sql)
{
    (void)uri, (void)sql;
    ck_abort_msg("no PostgreSQL backend in this build");
    return 0;
}

const char *pgb_current(void)
{
    ck_abort_msg("no PostgreSQL backend in this build");
    return NULL;
}

#endif
