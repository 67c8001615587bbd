/* Usage sums (placement/objects/usage.py): per provider, and per project
 * (and user) grouped by consumer type from 1.38. */
#include "store/accounting.h"

struct usages_read {
    store_usage_fn *on_row;
    void *arg;
};

static enum store_rc stream_usages(struct store *st, struct sql *q, store_usage_fn *on_row,
                                   void *arg)
{
    /* Columns: group name (or NULL), class name, sum, consumer count. */
    struct usage_row row;
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        row.group = sql_col_null(q, 0) ? NULL : sql_col_text(q, 0);
        row.resource_class = sql_col_text(q, 1);
        row.used = sql_col_i64(q, 2);
        row.consumer_count = sql_col_i64(q, 3);
        unit_emitted(st);
        if (on_row(arg, &row) != 0)
            break;
    }
    sql_done(q);
    return rc == STORE_NOT_FOUND ? STORE_OK : rc; /* the end, or stopped early */
}

static enum store_rc provider_usages(struct store *st, const struct provider_ref *ref, void *arg)
{
    struct usages_read *r = arg;
    struct sql *q = sql_get(st, STMT_PROVIDER_USAGES);
    sql_bind_i64(q, 1, ref->id);
    return stream_usages(st, q, r->on_row, r->arg);
}

enum store_rc store_provider_usages(struct store *st, const char *uuid, struct provider_ref *ref,
                                    store_usage_fn *on_row, void *arg)
{
    struct usages_read r = {on_row, arg};
    return provider_read(st, uuid, ref, provider_usages, &r);
}

enum store_rc store_usages_by_project(struct store *st, const char *project_id,
                                      const char *user_id, enum usage_grouping grouping,
                                      const char *consumer_type, store_usage_fn *on_row,
                                      void *arg)
{
    struct sql *q = sql_get(st, STMT_PROJECT_USAGES);
    sql_bind_text(q, 1, project_id);
    sql_bind_text(q, 2, user_id);
    sql_bind_i64(q, 3, (long long)grouping);
    sql_bind_text(q, 4, consumer_type);
    return stream_usages(st, q, on_row, arg);
}
