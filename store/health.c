/* store_health_check: a read and a real write, for GET /healthcheck. */
#include <stdio.h>
#include <sys/stat.h>

#include "store/internal.h"
#include "store/pg_store.h"

/* Size of the database's -wal file (0 when absent). */
static long long wal_bytes(struct store *st)
{
    const char *path = sqlite3_db_filename(st->db, "main");
    char wal[4096];
    struct stat sb;
    if (!path || !path[0] || snprintf(wal, sizeof(wal), "%s-wal", path) >= (int)sizeof(wal))
        return 0;
    return stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
}

static enum store_rc read_int(struct store *st, enum stmt_id id, long long *out)
{
    sqlite3_stmt *stmt = stmt_of(st, id);
    enum store_rc rc = stmt_row(st, stmt, store_stmt_names[id]);
    if (rc == STORE_OK)
        *out = sqlite3_column_int64(stmt, 0);
    stmt_done(stmt);
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;
}

/* Rewrites user_version with the value it has. A PRAGMA cannot take a
 * bound parameter; the text holds only the integer just read. Setting the
 * header field always dirties page 1, so the commit writes and syncs. */
static enum store_rc rewrite_version(struct store *st, long long version)
{
    char sql[64];
    sqlite3_stmt *stmt = NULL;
    snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", version);
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return store_rc_from_sqlite(st, rc, "health: write");
}

enum store_rc store_health_check(struct store *st, struct store_health *out)
{
    if (st->ops)
        return pg_store_health_check(st, out);
    long long version = 0;
    enum store_rc rc = tx_begin_write(st);
    if (rc != STORE_OK)
        return rc;
    if ((rc = read_int(st, STMT_USER_VERSION, &version)) != STORE_OK ||
        (rc = read_int(st, STMT_COUNT_PROVIDERS, &out->providers)) != STORE_OK ||
        (rc = rewrite_version(st, version)) != STORE_OK)
        goto fail;
    if ((rc = tx_commit(st)) != STORE_OK)
        return rc;
    out->schema_version = (int)version;
    out->wal_bytes = wal_bytes(st);
    return STORE_OK;
fail:
    tx_rollback(st);
    return rc;
}
