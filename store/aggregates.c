/* Provider aggregate links (placement/objects/resource_provider.py:
 * _get_aggregates_by_provider_id, _set_aggregates). Aggregates are created
 * on first use and never deleted, as upstream. */
#include "store/internal.h"

enum store_rc store_provider_aggregates_get(struct store *st, const char *rp_uuid,
                                            long long *generation, aggregate_row_fn *on_agg,
                                            void *arg)
{
    struct provider_ref rp;
    enum store_rc rc;

    /* One read transaction so the generation matches the list. */
    if ((rc = tx_begin_read(st)) != STORE_OK)
        return rc;
    if ((rc = store_provider_ref(st, rp_uuid, &rp)) != STORE_OK)
        goto done;
    *generation = rp.generation;
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_AGGREGATES);
    sqlite3_bind_int64(s, 1, rp.id);
    int step;
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        if (on_agg(arg, (const char *)sqlite3_column_text(s, 0)) != 0) {
            step = SQLITE_DONE;
            break;
        }
    rc = store_rc_from_sqlite(st, step, "aggregates get");
    stmt_done(s);
done:
    if (rc == STORE_OK)
        return tx_commit(st);
    tx_rollback(st);
    return rc;
}

/* Finds or creates the aggregate row for uuid. */
static enum store_rc aggregate_id(struct store *st, const char *uuid, long long *id)
{
    sqlite3_stmt *s = stmt_of(st, STMT_AGGREGATE_INSERT);
    stmt_bind_text(s, 1, uuid);
    sqlite3_bind_int64(s, 2, store_now());
    enum store_rc rc = stmt_exec(st, s, "aggregate insert");
    if (rc != STORE_OK)
        return rc;
    s = stmt_of(st, STMT_AGGREGATE_ID);
    stmt_bind_text(s, 1, uuid);
    rc = stmt_row(st, s, "aggregate id");
    if (rc == STORE_OK)
        *id = sqlite3_column_int64(s, 0);
    stmt_done(s);
    /* No row cannot happen right after the insert; treat it as an error. */
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc;
}

static enum store_rc link_aggregate(struct store *st, long long rp_id, const char *uuid)
{
    long long agg_id = 0;
    enum store_rc rc = aggregate_id(st, uuid, &agg_id);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *s = stmt_of(st, STMT_AGGREGATE_LINK);
    sqlite3_bind_int64(s, 1, rp_id);
    sqlite3_bind_int64(s, 2, agg_id);
    return stmt_exec(st, s, "aggregate link");
}

enum store_rc store_provider_aggregates_set(struct store *st, const char *rp_uuid,
                                            const char *const *aggs, size_t n,
                                            const long long *expect_gen, long long *generation)
{
    struct provider_ref rp;
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = store_provider_ref(st, rp_uuid, &rp)) != STORE_OK)
        goto fail;
    /* Generation compare-and-set: a conflict means another writer won. */
    if (expect_gen && (rc = provider_generation_bump(st, rp.id, *expect_gen, NULL)) != STORE_OK)
        goto fail;
    if ((rc = stmt_exec_id(st, STMT_AGGREGATES_UNLINK_ALL, rp.id, "aggregates unlink")) != STORE_OK)
        goto fail;
    for (size_t i = 0; i < n; i++)
        if ((rc = link_aggregate(st, rp.id, aggs[i])) != STORE_OK)
            goto fail;
    *generation = expect_gen ? *expect_gen + 1 : rp.generation;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}
