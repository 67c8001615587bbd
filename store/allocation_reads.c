/* Allocation reads: the consumer record and allocations behind GET
 * /allocations/{c}, and GET /resource_providers/{u}/allocations
 * (placement/objects/allocation.py, consumer.py). The writes are in
 * store/allocations.c. */
#include "store/accounting.h"

/* Columns 1-5 of acct_consumer_read(). STORE_OK, or STORE_ERROR when a
 * text does not fit (never cut). */
static enum store_rc consumer_info_from_row(struct sql *q, struct consumer_info *info)
{
    enum store_rc rc;
    info->generation = sql_col_i64(q, 2);
    if ((rc = sql_col_copy(q, 1, info->uuid, sizeof(info->uuid))) != STORE_OK ||
        (rc = sql_col_copy(q, 3, info->project_id, sizeof(info->project_id))) != STORE_OK ||
        (rc = sql_col_copy(q, 4, info->user_id, sizeof(info->user_id))) != STORE_OK)
        return rc;
    return sql_col_copy(q, 5, info->consumer_type, sizeof(info->consumer_type));
}

enum store_rc acct_consumer_read(struct store *st, const char *uuid, long long *id,
                                 struct consumer_info *info)
{
    struct sql *q = sql_get(st, STMT_CONSUMER_READ);
    sql_bind_text(q, 1, uuid);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK) {
        *id = sql_col_i64(q, 0);
        if (info)
            rc = consumer_info_from_row(q, info);
    }
    sql_done(q);
    return rc;
}

/* Streams rows of a statement whose columns are: the other side's uuid and
 * generation, class name, used, created_at, updated_at. by_consumer tells
 * which side the uuid is. */
static enum store_rc stream_allocations(struct store *st, struct sql *q, bool by_consumer,
                                        const char *self_uuid, long long self_gen,
                                        store_allocation_fn *on_row, void *arg)
{
    struct allocation_row row;
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        const char *other = sql_col_text(q, 0);
        long long other_gen = sql_col_i64(q, 1);
        row.consumer_uuid = by_consumer ? self_uuid : other;
        row.consumer_generation = by_consumer ? self_gen : other_gen;
        row.provider_uuid = by_consumer ? other : self_uuid;
        row.provider_generation = by_consumer ? other_gen : self_gen;
        row.resource_class = sql_col_text(q, 2);
        row.used = sql_col_i64(q, 3);
        row.created_at = sql_col_i64(q, 4);
        row.updated_at = sql_col_i64(q, 5);
        unit_emitted(st);
        if (on_row(arg, &row) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}

struct consumer_allocations {
    const char *consumer_uuid;
    struct consumer_info *info;
    store_allocation_fn *on_row;
    void *arg;
};

static enum store_rc consumer_allocations_body(struct store *st, void *arg)
{
    struct consumer_allocations *c = arg;
    long long id = 0;
    enum store_rc rc = acct_consumer_read(st, c->consumer_uuid, &id, c->info);
    if (rc != STORE_OK || !c->on_row)
        return rc;
    struct sql *q = sql_get(st, STMT_CONSUMER_ALLOCATION_ROWS);
    sql_bind_i64(q, 1, id);
    return stream_allocations(st, q, true, c->info->uuid, c->info->generation, c->on_row, c->arg);
}

enum store_rc store_consumer_allocations(struct store *st, const char *consumer_uuid,
                                         struct consumer_info *info,
                                         store_allocation_fn *on_row, void *arg)
{
    struct consumer_info local;
    struct consumer_allocations c = {consumer_uuid, info ? info : &local, on_row, arg};
    return store_unit(st, UNIT_READ, STORE_BUSY, consumer_allocations_body, &c);
}

struct provider_allocations {
    store_allocation_fn *on_row;
    void *arg;
};

static enum store_rc provider_allocations(struct store *st, const struct provider_ref *ref,
                                          void *arg)
{
    struct provider_allocations *p = arg;
    struct sql *q = sql_get(st, STMT_PROVIDER_ALLOCATION_ROWS);
    sql_bind_i64(q, 1, ref->id);
    /* The provider's own uuid/generation are the caller's; not needed here. */
    return stream_allocations(st, q, false, "", 0, p->on_row, p->arg);
}

enum store_rc store_provider_allocations(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_allocation_fn *on_row,
                                         void *arg)
{
    struct provider_allocations p = {on_row, arg};
    return provider_read(st, uuid, ref, provider_allocations, &p);
}
