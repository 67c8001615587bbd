/* Allocation reads: the consumer record and allocations behind GET
 * /allocations/{c}, and GET /resource_providers/{u}/allocations
 * (placement/objects/allocation.py, consumer.py). The writes are in
 * store/allocations.c. */
#include "store/accounting.h"

/* Columns 1-5 of acct_consumer_read(). SQLITE_OK, or SQLITE_TOOBIG when a text
 * does not fit (never cut). */
static int consumer_info_from_row(sqlite3_stmt *s, struct consumer_info *info)
{
    info->generation = sqlite3_column_int64(s, 2);
    int rc = column_text_copy(s, 1, info->uuid, sizeof(info->uuid));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 3, info->project_id, sizeof(info->project_id));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 4, info->user_id, sizeof(info->user_id));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 5, info->consumer_type, sizeof(info->consumer_type));
    return rc;
}

enum store_rc acct_consumer_read(struct store *st, const char *uuid, long long *id,
                                 struct consumer_info *info)
{
    sqlite3_stmt *s = stmt_of(st, STMT_CONSUMER_READ);
    stmt_bind_text(s, 1, uuid);
    enum store_rc rc = stmt_row(st, s, "consumer read");
    if (rc == STORE_OK) {
        *id = sqlite3_column_int64(s, 0);
        if (info)
            rc = store_rc_from_sqlite(st, consumer_info_from_row(s, info), "consumer read");
    }
    stmt_done(s);
    return rc;
}

/* Streams rows of a statement whose columns are: the other side's uuid and
 * generation, class name, used, created_at, updated_at. by_consumer tells
 * which side the uuid is. */
static enum store_rc stream_allocations(struct store *st, sqlite3_stmt *s, bool by_consumer,
                                        const char *self_uuid, long long self_gen,
                                        store_allocation_fn *on_row, void *arg)
{
    struct allocation_row row;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *other = (const char *)sqlite3_column_text(s, 0);
        long long other_gen = sqlite3_column_int64(s, 1);
        row.consumer_uuid = by_consumer ? self_uuid : other;
        row.consumer_generation = by_consumer ? self_gen : other_gen;
        row.provider_uuid = by_consumer ? other : self_uuid;
        row.provider_generation = by_consumer ? other_gen : self_gen;
        row.resource_class = (const char *)sqlite3_column_text(s, 2);
        row.used = sqlite3_column_int64(s, 3);
        row.created_at = sqlite3_column_int64(s, 4);
        row.updated_at = sqlite3_column_int64(s, 5);
        if (on_row(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "allocation list");
    stmt_done(s);
    return out;
}

enum store_rc store_consumer_allocations(struct store *st, const char *consumer_uuid,
                                         struct consumer_info *info,
                                         store_allocation_fn *on_row, void *arg)
{
    struct consumer_info local;
    long long id = 0;
    enum store_rc rc;

    if (!info)
        info = &local;
    if ((rc = tx_begin_read(st)) != STORE_OK)
        return rc;
    if ((rc = acct_consumer_read(st, consumer_uuid, &id, info)) != STORE_OK)
        goto fail;
    if (!on_row)
        return tx_commit(st);
    sqlite3_stmt *s = stmt_of(st, STMT_CONSUMER_ALLOCATION_ROWS);
    sqlite3_bind_int64(s, 1, id);
    if ((rc = stream_allocations(st, s, true, info->uuid, info->generation, on_row, arg)) !=
        STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

static enum store_rc provider_allocations(struct store *st, long long provider_id,
                                          store_allocation_fn *on_row, void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_ALLOCATION_ROWS);
    sqlite3_bind_int64(s, 1, provider_id);
    /* The provider's own uuid/generation are the caller's; not needed here. */
    return stream_allocations(st, s, false, "", 0, on_row, arg);
}

enum store_rc store_provider_allocations(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_allocation_fn *on_row,
                                         void *arg)
{
    enum store_rc rc = provider_read_begin(st, uuid, ref);
    if (rc != STORE_OK)
        return rc;
    rc = provider_allocations(st, ref->id, on_row, arg);
    tx_rollback(st); /* a read: nothing to keep */
    return rc;
}
