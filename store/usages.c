/* Usage sums (placement/objects/usage.py): per provider, and per project
 * (and user) grouped by consumer type from 1.38. */
#include "store/accounting.h"

static enum store_rc stream_usages(struct store *st, sqlite3_stmt *s, store_usage_fn *on_row,
                                   void *arg)
{
    /* Columns: group name (or NULL), class name, sum, consumer count. */
    struct usage_row row;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        row.group = (const char *)sqlite3_column_text(s, 0);
        row.resource_class = (const char *)sqlite3_column_text(s, 1);
        row.used = sqlite3_column_int64(s, 2);
        row.consumer_count = sqlite3_column_int64(s, 3);
        if (on_row(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "usage list");
    stmt_done(s);
    return out;
}

static enum store_rc provider_usages(struct store *st, long long provider_id,
                                     store_usage_fn *on_row, void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_USAGES);
    sqlite3_bind_int64(s, 1, provider_id);
    return stream_usages(st, s, on_row, arg);
}

enum store_rc store_provider_usages(struct store *st, const char *uuid, struct provider_ref *ref,
                                    store_usage_fn *on_row, void *arg)
{
    enum store_rc rc = provider_read_begin(st, uuid, ref);
    if (rc != STORE_OK)
        return rc;
    rc = provider_usages(st, ref->id, on_row, arg);
    tx_rollback(st); /* a read: nothing to keep */
    return rc;
}

enum store_rc store_usages_by_project(struct store *st, const char *project_id,
                                      const char *user_id, enum usage_grouping grouping,
                                      const char *consumer_type, store_usage_fn *on_row,
                                      void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROJECT_USAGES);
    stmt_bind_text(s, 1, project_id);
    if (user_id)
        stmt_bind_text(s, 2, user_id);
    sqlite3_bind_int(s, 3, (int)grouping);
    if (consumer_type)
        stmt_bind_text(s, 4, consumer_type);
    return stream_usages(st, s, on_row, arg);
}
