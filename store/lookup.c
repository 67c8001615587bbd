/* Lookups by name or uuid that every area of the store needs. */
#include "store/internal.h"

#include <string.h>

enum store_rc store_provider_ref(struct store *st, const char *uuid, struct provider_ref *out)
{
    static const char sql[] =
        "SELECT id, generation, COALESCE(parent_id, 0), root_id, uuid FROM providers WHERE uuid = ?1";
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    stmt_bind_text(s, 1, uuid);
    enum store_rc rc = stmt_row(st, s, "provider lookup");
    if (rc == STORE_OK) {
        out->id = sqlite3_column_int64(s, 0);
        out->generation = sqlite3_column_int64(s, 1);
        out->parent_id = sqlite3_column_int64(s, 2);
        out->root_id = sqlite3_column_int64(s, 3);
        rc = store_rc_from_sqlite(st, column_text_copy(s, 4, out->uuid, sizeof(out->uuid)),
                                  "provider lookup");
    }
    stmt_done(s);
    return rc;
}

static enum store_rc id_by_name(struct store *st, const char *sql, const char *name, long long *id)
{
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    stmt_bind_text(s, 1, name);
    enum store_rc rc = stmt_row(st, s, "name lookup");
    if (rc == STORE_OK)
        *id = sqlite3_column_int64(s, 0);
    stmt_done(s);
    return rc;
}

enum store_rc store_resource_class_id(struct store *st, const char *name, long long *id)
{
    static const char sql[] = "SELECT id FROM resource_classes WHERE name = ?1";
    return id_by_name(st, sql, name, id);
}

enum store_rc store_aggregate_id(struct store *st, const char *uuid, long long *id)
{
    static const char sql[] = "SELECT id FROM aggregates WHERE uuid = ?1";
    return id_by_name(st, sql, uuid, id);
}

enum store_rc store_trait_id(struct store *st, const char *name, long long *id)
{
    static const char sql[] = "SELECT id FROM traits WHERE name = ?1";
    return id_by_name(st, sql, name, id);
}

enum store_rc store_begin_write(struct store *st)
{
    return tx_begin_write(st);
}

enum store_rc store_begin_read(struct store *st)
{
    return tx_begin_read(st);
}

enum store_rc store_commit(struct store *st)
{
    return tx_commit(st);
}

void store_rollback(struct store *st)
{
    tx_rollback(st);
}
