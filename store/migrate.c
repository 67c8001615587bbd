/* Forward-only schema migrations and the standard-name sync at start-up. */
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "store/internal.h"
#include "store/migrations.h"
#include "store/standard_names.h"

int store_schema_version(void)
{
    return store_migrations_count ? store_migrations[store_migrations_count - 1].version : 0;
}

static int exec_sql(struct store *st, const char *sql, char *err, size_t errsz)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return 0;
    snprintf(err, errsz, "%s", msg ? msg : sqlite3_errmsg(st->db));
    sqlite3_free(msg);
    return -1;
}

static int user_version(struct store *st)
{
    sqlite3_stmt *stmt;
    int v = -1;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(stmt) == SQLITE_ROW)
        v = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
}

/* Applies one migration in its own IMMEDIATE transaction, re-checking the
 * version inside it so that two processes starting together apply it once. */
static int apply_one(struct store *st, const struct migration *m, char *err, size_t errsz)
{
    char sql[256], why[512];

    if (exec_sql(st, "BEGIN IMMEDIATE", why, sizeof(why)) != 0)
        goto fail;
    if (user_version(st) >= m->version)
        return exec_sql(st, "COMMIT", err, errsz);
    if (exec_sql(st, m->sql, why, sizeof(why)) != 0)
        goto rollback;
    snprintf(sql, sizeof(sql),
             "INSERT INTO schema_migrations(version, name, applied_at) "
             "VALUES (%d, '%s', strftime('%%s','now')); PRAGMA user_version = %d;",
             m->version, m->name, m->version);
    if (exec_sql(st, sql, why, sizeof(why)) != 0 || exec_sql(st, "COMMIT", why, sizeof(why)) != 0)
        goto rollback;
    log_msg(LOG_INFO, "store: applied migration %s", m->name);
    return 0;
rollback:
    exec_sql(st, "ROLLBACK", sql, sizeof(sql));
fail:
    snprintf(err, errsz, "migration %s failed: %s", m->name, why);
    return -1;
}

/* Inserts the missing standard names (the statements skip existing ones). */
static enum store_rc sync_standard_names_body(struct store *st, void *arg)
{
    long long now = store_now();
    enum store_rc rc = STORE_OK;
    (void)arg;
    for (size_t i = 0; rc == STORE_OK && i < standard_resource_classes_count; i++) {
        struct sql *q = sql_get(st, STMT_SEED_RESOURCE_CLASS);
        sql_bind_i64(q, 1, (long long)i);
        sql_bind_text(q, 2, standard_resource_classes[i]);
        sql_bind_i64(q, 3, now);
        rc = sql_run(q);
    }
    for (size_t i = 0; rc == STORE_OK && i < standard_traits_count; i++) {
        struct sql *q = sql_get(st, STMT_SEED_TRAIT);
        sql_bind_text(q, 1, standard_traits[i]);
        sql_bind_i64(q, 2, now);
        rc = sql_run(q);
    }
    return rc;
}

int store_sync_standard_names(struct store *st, char *err, size_t errsz)
{
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_BUSY, sync_standard_names_body, NULL);
    if (rc == STORE_OK)
        return 0;
    snprintf(err, errsz, "cannot add standard names (%s)",
             rc == STORE_BUSY ? "the database stays locked" : "see the log");
    return -1;
}

int store_migrate(struct store *st, char *err, size_t errsz)
{
    char why[512];

    /* WAL is persistent, so setting it here once per open is enough; an
     * in-memory database keeps its own journal mode. */
    if (exec_sql(st, "PRAGMA journal_mode=WAL", why, sizeof(why)) != 0 ||
        exec_sql(st,
                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                 "name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT",
                 why, sizeof(why)) != 0) {
        snprintf(err, errsz, "cannot initialise database: %s", why);
        return -1;
    }
    int current = user_version(st);
    if (current > store_schema_version()) {
        snprintf(err, errsz,
                 "database schema version %d is newer than this placid supports (%d); "
                 "upgrade placid",
                 current, store_schema_version());
        return -1;
    }
    for (size_t i = 0; i < store_migrations_count; i++)
        if (store_migrations[i].version > current &&
            apply_one(st, &store_migrations[i], err, errsz) != 0)
            return -1;
    return 0;
}
