/* The throwaway PostgreSQL of the Check tests: tests/pg/pg up/down. */
#include "pg_test.h"

#include "support.h"
#include "store/pg_conn.h"
#include "store/pg_cursor.h"
#include "store/pg_migrate.h"

#include <check.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char server_dir[64];
static char server_uri[256];

static int run_script(const char *cmd, char *out, size_t outsz)
{
    char line[512];
    snprintf(line, sizeof(line), "'%s' %s '%s'", PLACID_PG_SCRIPT, cmd, server_dir);
    FILE *p = popen(line, "r");
    if (!p)
        return 1;
    if (out && outsz) {
        out[0] = '\0';
        if (fgets(out, (int)outsz, p))
            out[strcspn(out, "\n")] = '\0';
    }
    while (fgets(line, sizeof(line), p))
        ;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int pg_test_up(void)
{
    snprintf(server_dir, sizeof(server_dir), "/tmp/placid-pgtest-XXXXXX");
    if (!mkdtemp(server_dir)) {
        perror("mkdtemp");
        return 1;
    }
    int rc = run_script("up", server_uri, sizeof(server_uri));
    if (rc == 0 && strncmp(server_uri, "postgresql://", 13) == 0)
        return 0;
    rmdir(server_dir);
    const char *ci = getenv("CI");
    if (rc == PG_TEST_SKIP && !(ci && strcmp(ci, "true") == 0)) {
        printf("SKIP: PostgreSQL 15 is not available here (tests/pg/pg up said why above)\n");
        return PG_TEST_SKIP;
    }
    printf("FAIL: tests/pg/pg up exited %d; under CI=true PostgreSQL is required\n", rc);
    return 1;
}

void pg_test_down(void)
{
    if (run_script("down", NULL, 0) != 0)
        printf("warning: tests/pg/pg down %s failed\n", server_dir);
}

const char *pg_test_dir(void)
{
    return server_dir;
}

const char *pg_test_uri(void)
{
    return server_uri;
}

int pg_test_ctl(const char *cmd)
{
    return run_script(cmd, NULL, 0);
}

long long pg_test_value(const char *uri, const char *sql)
{
    PGconn *conn = PQconnectdb(uri);
    ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "connect: %s", PQerrorMessage(conn));
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s: %s", sql,
                  PQresultErrorMessage(res));
    long long v = 0;
    if (st == PGRES_TUPLES_OK && PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
        v = atoll(PQgetvalue(res, 0, 0));
    PQclear(res);
    PQfinish(conn);
    return v;
}

void pg_test_new_db(char *out, size_t size)
{
    static unsigned n;
    char name[64], sql[128];
    /* Each test runs in its own forked process: the PID keeps names apart. */
    snprintf(name, sizeof(name), "t_%ld_%u", (long)getpid(), n++);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
    pg_test_value(server_uri, sql);
    const char *slash = strrchr(server_uri, '/');
    ck_assert_int_lt((int)(slash - server_uri) + (int)strlen(name) + 2, (int)size);
    snprintf(out, size, "%.*s/%s", (int)(slash - server_uri), server_uri, name);
}

int pg_test_run_suite(struct Suite *s)
{
    int rc = test_run_suite(s);
    pg_test_down();
    return rc;
}

void pg_test_store_open(char *uri, size_t size, unsigned connections, struct pg_pool **pool,
                        struct pg_backend **be, struct store **st)
{
    char err[512];
    pg_test_new_db(uri, size);
    PGconn *conn = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    ck_assert_msg(pg_migrate(conn, err, sizeof(err)) == 0, "%s", err);
    PQfinish(conn);
    *pool = pg_pool_open(uri, connections, err, sizeof(err));
    ck_assert_msg(*pool != NULL, "%s", err);
    *be = pg_backend_new(*pool);
    *st = pg_store_new(*be);
    ck_assert_ptr_nonnull(*st);
}

void pg_test_store_close(struct pg_pool *pool, struct pg_backend *be, struct store *st)
{
    pg_store_free(st);
    pg_backend_close(be);
    pg_pool_close(pool);
}
