/* Lookups by name or uuid that every area of the store needs. */
#include "store/internal.h"

#include <string.h>

enum store_rc store_provider_ref(struct store *st, const char *uuid, struct provider_ref *out)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_REF);
    sql_bind_text(q, 1, uuid);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK) {
        out->id = sql_col_i64(q, 0);
        out->generation = sql_col_i64(q, 1);
        out->parent_id = sql_col_i64(q, 2);
        out->root_id = sql_col_i64(q, 3);
        rc = sql_col_copy(q, 4, out->uuid, sizeof(out->uuid));
    }
    sql_done(q);
    return rc;
}

static enum store_rc id_by_name(struct store *st, enum stmt_id sid, const char *name, long long *id)
{
    struct sql *q = sql_get(st, sid);
    sql_bind_text(q, 1, name);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        *id = sql_col_i64(q, 0);
    sql_done(q);
    return rc;
}

/* id_by_name, through st's memo of the standard names (store/name_memo.h). */
static enum store_rc id_by_standard_name(struct store *st, enum memo_kind kind, enum stmt_id sid,
                                         const char *name, long long *id)
{
    if (name_memo_id(&st->names, kind, name, id))
        return STORE_OK;
    enum store_rc rc = id_by_name(st, sid, name, id);
    if (rc == STORE_OK)
        name_memo_note(&st->names, kind, name, *id);
    return rc;
}

enum store_rc store_resource_class_id(struct store *st, const char *name, long long *id)
{
    return id_by_standard_name(st, MEMO_RC, STMT_RESOURCE_CLASS_ID, name, id);
}

enum store_rc store_aggregate_id(struct store *st, const char *uuid, long long *id)
{
    return id_by_name(st, STMT_AGGREGATE_ID, uuid, id);
}

enum store_rc store_trait_id(struct store *st, const char *name, long long *id)
{
    return id_by_standard_name(st, MEMO_TRAIT, STMT_TRAIT_ID, name, id);
}

struct provider_read {
    const char *uuid;
    struct provider_ref *ref;
    provider_read_fn *fn;
    void *arg;
};

static enum store_rc provider_read_body(struct store *st, void *arg)
{
    struct provider_read *r = arg;
    enum store_rc rc = store_provider_ref(st, r->uuid, r->ref);
    if (rc != STORE_OK) {
        r->ref->id = 0;
        return rc;
    }
    return r->fn(st, r->ref, r->arg);
}

enum store_rc provider_read(struct store *st, const char *uuid, struct provider_ref *ref,
                            provider_read_fn *fn, void *arg)
{
    struct provider_read r = {uuid, ref, fn, arg};
    ref->id = 0;
    return store_unit(st, UNIT_READ, STORE_BUSY, provider_read_body, &r);
}
