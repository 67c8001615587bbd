/* Provider aggregate links (placement/objects/resource_provider.py:
 * _get_aggregates_by_provider_id, _set_aggregates). Aggregates are created
 * on first use and never deleted, as upstream. */
#include "store/internal.h"

struct aggregates_get {
    long long *generation;
    aggregate_row_fn *on_agg;
    void *arg;
};

/* In the provider's read unit, so the generation matches the list. */
static enum store_rc aggregates_get_body(struct store *st, const struct provider_ref *rp,
                                         void *arg)
{
    struct aggregates_get *g = arg;
    *g->generation = rp->generation;
    struct sql *q = sql_get(st, STMT_PROVIDER_AGGREGATES);
    sql_bind_i64(q, 1, rp->id);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        unit_emitted(st);
        if (g->on_agg(g->arg, sql_col_text(q, 0)) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}

enum store_rc store_provider_aggregates_get(struct store *st, const char *rp_uuid,
                                            long long *generation, aggregate_row_fn *on_agg,
                                            void *arg)
{
    struct aggregates_get g = {generation, on_agg, arg};
    struct provider_ref rp;
    return provider_read(st, rp_uuid, &rp, aggregates_get_body, &g);
}

/* Links the provider to every aggregate of the list, creating the rows of
 * new ones: two statements whatever the length (a PUT may name thousands;
 * one round trip per uuid was seconds on PostgreSQL). */
static enum store_rc link_aggregates(struct store *st, long long rp_id,
                                     const char *const *uuids, size_t n)
{
    if (n == 0)
        return STORE_OK;
    struct sql *q = sql_get(st, STMT_AGGREGATES_INSERT);
    sql_bind_texts(q, 1, uuids, n);
    sql_bind_i64(q, 2, store_now());
    enum store_rc rc = sql_run(q);
    if (rc != STORE_OK)
        return rc;
    q = sql_get(st, STMT_AGGREGATES_LINK);
    sql_bind_i64(q, 1, rp_id);
    sql_bind_texts(q, 2, uuids, n);
    return sql_run(q);
}

struct aggregates_set {
    const char *rp_uuid;
    const char *const *aggs;
    size_t n;
    const long long *expect_gen;
    long long generation; /* out */
};

static enum store_rc aggregates_set_body(struct store *st, void *arg)
{
    struct aggregates_set *a = arg;
    struct provider_ref rp;
    enum store_rc rc;

    if ((rc = store_provider_ref(st, a->rp_uuid, &rp)) != STORE_OK)
        return rc;
    /* Generation compare-and-set: a conflict means another writer won. */
    if (a->expect_gen && (rc = provider_generation_bump(st, rp.id, *a->expect_gen, NULL)) != STORE_OK)
        return rc;
    if ((rc = sql_run_id(st, STMT_AGGREGATES_UNLINK_ALL, rp.id)) != STORE_OK)
        return rc;
    if ((rc = link_aggregates(st, rp.id, a->aggs, a->n)) != STORE_OK)
        return rc;
    a->generation = a->expect_gen ? *a->expect_gen + 1 : rp.generation;
    return STORE_OK;
}

enum store_rc store_provider_aggregates_set(struct store *st, const char *rp_uuid,
                                            const char *const *aggs, size_t n,
                                            const long long *expect_gen, long long *generation)
{
    struct aggregates_set a = {rp_uuid, aggs, n, expect_gen, 0};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_CONFLICT, aggregates_set_body, &a);
    if (rc == STORE_OK)
        *generation = a.generation;
    return rc;
}
