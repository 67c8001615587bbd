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
    /* One row per class with inventory, 0 when nothing is allocated. */
    static const char sql[] =
        "SELECT NULL, rc.name, COALESCE((SELECT SUM(a.used) FROM allocations a"
        "  WHERE a.provider_id = i.provider_id AND a.resource_class_id = i.resource_class_id), 0),"
        " 0 FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id"
        " WHERE i.provider_id = ?1 ORDER BY i.resource_class_id";
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
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
    /* ?3 is the grouping: the group key t is -1 for USAGE_ALL (a single
     * group), the consumer type id otherwise (NULL = untyped). The consumer
     * count is counted per group, so a consumer with several classes is
     * counted once (upstream's separate count query). */
    static const char sql[] =
        "WITH sel AS ("
        "  SELECT a.consumer_id AS consumer, a.resource_class_id AS rc, a.used AS used,"
        "   CASE WHEN ?3 = 1 THEN -1 ELSE c.consumer_type_id END AS t"
        "  FROM consumers c JOIN allocations a ON a.consumer_id = c.id"
        "  WHERE c.project_id = (SELECT id FROM projects WHERE external_id = ?1)"
        "   AND (?2 IS NULL OR c.user_id = (SELECT id FROM users WHERE external_id = ?2))"
        "   AND (?3 != 2 OR c.consumer_type_id IS NULL)"
        "   AND (?3 != 3 OR c.consumer_type_id ="
        "        (SELECT id FROM consumer_types WHERE name = ?4))),"
        " counts AS (SELECT t, COUNT(DISTINCT consumer) AS n FROM sel GROUP BY t)"
        " SELECT CASE WHEN s.t = -1 THEN 'all'"
        "  ELSE COALESCE(ct.name, '" STORE_CONSUMER_TYPE_UNKNOWN "') END,"
        "  rc.name, SUM(s.used), (SELECT n FROM counts WHERE counts.t IS s.t)"
        " FROM sel s JOIN resource_classes rc ON rc.id = s.rc"
        " LEFT JOIN consumer_types ct ON ct.id = s.t"
        " GROUP BY s.t, s.rc ORDER BY s.t, s.rc";
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    stmt_bind_text(s, 1, project_id);
    if (user_id)
        stmt_bind_text(s, 2, user_id);
    sqlite3_bind_int(s, 3, (int)grouping);
    if (consumer_type)
        stmt_bind_text(s, 4, consumer_type);
    return stream_usages(st, s, on_row, arg);
}
