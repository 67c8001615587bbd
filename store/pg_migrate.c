/* Forward-only schema migrations and the standard-name sync for the
 * PostgreSQL backend: store/migrate.c's rules, in PostgreSQL's terms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/pg_conn.h"
#include "store/pg_migrate.h"
#include "store/standard_names.h"

/* PostgreSQL's primary message ("relation \"x\" already exists", without
 * "ERROR:  " and the detail lines), or libpq's when there is no result. */
static void result_error(PGconn *conn, const PGresult *res, char *why, size_t whysz)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    pg_error_line(primary ? primary : PQerrorMessage(conn), why, whysz);
}

/* Runs sql with the text parameters params[0..n) ($1..$n). 0 when it
 * succeeded, else -1 with PostgreSQL's reason in why. */
static int exec_params(PGconn *conn, const char *sql, int n, const char *const *params,
                       char *why, size_t whysz)
{
    PGresult *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        result_error(conn, res, why, whysz);
    PQclear(res);
    return rc;
}

static int exec_sql(PGconn *conn, const char *sql, char *why, size_t whysz)
{
    return exec_params(conn, sql, 0, NULL, why, whysz);
}

/* A migration's text may hold many statements: the simple query protocol
 * (PQexec) runs them all, stopping at the first error. */
static int exec_script(PGconn *conn, const char *sql, char *why, size_t whysz)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc)
        result_error(conn, res, why, whysz);
    PQclear(res);
    return rc;
}

static int latest_version(void)
{
    return pg_migrations_count ? pg_migrations[pg_migrations_count - 1].version : 0;
}

int pg_schema_version_read(PGconn *conn, char *err, size_t errsz)
{
    PGresult *res = PQexec(conn, "SELECT CASE WHEN to_regclass('schema_migrations') IS NULL "
                                 "THEN NULL ELSE 1 END");
    int v = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        result_error(conn, res, err, errsz);
    } else if (PQgetisnull(res, 0, 0)) {
        v = 0;
    } else {
        PQclear(res);
        res = PQexec(conn, "SELECT COALESCE(max(version), 0) FROM schema_migrations");
        if (PQresultStatus(res) == PGRES_TUPLES_OK)
            v = atoi(PQgetvalue(res, 0, 0));
        else
            result_error(conn, res, err, errsz);
    }
    PQclear(res);
    return v;
}

/* Applies one migration in its own transaction: PostgreSQL's DDL is
 * transactional, so a failing migration leaves nothing behind. */
static int apply_one(PGconn *conn, const struct migration *m, char *err, size_t errsz)
{
    char why[512], version[16], now[24];
    snprintf(version, sizeof(version), "%d", m->version);
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *const params[] = {version, m->name, now};

    if (exec_sql(conn, "BEGIN", why, sizeof(why)) != 0)
        goto fail;
    if (exec_script(conn, m->sql, why, sizeof(why)) != 0 ||
        exec_params(conn,
                    "INSERT INTO schema_migrations(version, name, applied_at) "
                    "VALUES ($1, $2, $3)",
                    3, params, why, sizeof(why)) != 0 ||
        exec_sql(conn, "COMMIT", why, sizeof(why)) != 0)
        goto rollback;
    log_msg(LOG_INFO, "store: applied migration %s (postgresql)", m->name);
    return 0;
rollback:
    PQclear(PQexec(conn, "ROLLBACK"));
fail:
    snprintf(err, errsz, "migration %s failed: %s", m->name, why);
    return -1;
}

/* The names as a PostgreSQL array literal ({"A","B"}, '"' and '\\'
 * escaped), bound as one text parameter. free() it. */
static char *text_array(const char *const *names, size_t n)
{
    size_t size = 3;
    for (size_t i = 0; i < n; i++)
        size += 2 * strlen(names[i]) + 3;
    char *out = xmalloc(size), *p = out;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *s = names[i]; *s; s++) {
            if (*s == '"' || *s == '\\')
                *p++ = '\\';
            *p++ = *s;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

/* Inserts the standard resource classes (id = index) and traits that are
 * missing, in one transaction: databases made by an older placid gain the
 * newer names, and custom ones stay. Traits are inserted in list order, and
 * only the missing ones, so that no identity value is spent on a name that
 * exists. */
static int sync_standard_names(PGconn *conn, char *err, size_t errsz)
{
    char why[512], now[24];
    char *classes = text_array(standard_resource_classes, standard_resource_classes_count);
    char *traits = text_array(standard_traits, standard_traits_count);
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *const class_params[] = {classes, now}, *const trait_params[] = {traits, now};
    int rc = -1;

    if (exec_sql(conn, "BEGIN", why, sizeof(why)) != 0)
        goto out;
    if (exec_params(conn,
                    "INSERT INTO resource_classes(id, name, created_at) "
                    "SELECT u.i - 1, u.n, $2::bigint "
                    "FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) "
                    "ON CONFLICT DO NOTHING",
                    2, class_params, why, sizeof(why)) != 0 ||
        exec_params(conn,
                    "INSERT INTO traits(name, created_at) "
                    "SELECT u.n, $2::bigint FROM unnest($1::text[]) WITH ORDINALITY AS u(n, i) "
                    "WHERE NOT EXISTS (SELECT 1 FROM traits t WHERE t.name = u.n) "
                    "ORDER BY u.i ON CONFLICT (name) DO NOTHING",
                    2, trait_params, why, sizeof(why)) != 0 ||
        exec_sql(conn, "COMMIT", why, sizeof(why)) != 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        goto out;
    }
    rc = 0;
out:
    if (rc)
        snprintf(err, errsz, "cannot add standard names: %s", why);
    free(classes);
    free(traits);
    return rc;
}

/* The migrations proper, run while holding the advisory lock. */
static int migrate_locked(PGconn *conn, char *err, size_t errsz)
{
    char why[512];
    if (exec_sql(conn,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "
                 "name text NOT NULL, applied_at bigint NOT NULL)",
                 why, sizeof(why)) != 0) {
        snprintf(err, errsz, "cannot initialise database: %s", why);
        return -1;
    }
    int current = pg_schema_version_read(conn, why, sizeof(why));
    if (current < 0) {
        snprintf(err, errsz, "cannot read the schema version: %s", why);
        return -1;
    }
    if (current > latest_version()) {
        snprintf(err, errsz,
                 "database schema version %d is newer than this placid supports (%d); "
                 "upgrade placid",
                 current, latest_version());
        return -1;
    }
    for (size_t i = 0; i < pg_migrations_count; i++)
        if (pg_migrations[i].version > current &&
            apply_one(conn, &pg_migrations[i], err, errsz) != 0)
            return -1;
    return sync_standard_names(conn, err, errsz);
}

int pg_migrate(PGconn *conn, char *err, size_t errsz)
{
    char why[512], key[24];
    snprintf(key, sizeof(key), "%lld", PG_MIGRATE_LOCK_KEY);
    const char *const params[] = {key};

    /* Session-level, so it spans the migrations' own transactions; a node
     * that dies holding it loses it with its connection. */
    if (exec_params(conn, "SELECT pg_advisory_lock($1::bigint)", 1, params, why,
                    sizeof(why)) != 0) {
        snprintf(err, errsz, "cannot lock the database for migrations: %s", why);
        return -1;
    }
    int rc = migrate_locked(conn, err, errsz);
    exec_params(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, params, why, sizeof(why));
    return rc;
}
