/* Lookups by name or uuid that every area of the store needs. */
#include "store/internal.h"

#include <string.h>

enum store_rc store_provider_ref(struct store *st, const char *uuid, struct provider_ref *out)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_REF);
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

static enum store_rc id_by_name(struct store *st, enum stmt_id sid, const char *name, long long *id)
{
    sqlite3_stmt *s = stmt_of(st, sid);
    stmt_bind_text(s, 1, name);
    enum store_rc rc = stmt_row(st, s, "name lookup");
    if (rc == STORE_OK)
        *id = sqlite3_column_int64(s, 0);
    stmt_done(s);
    return rc;
}

enum store_rc store_resource_class_id(struct store *st, const char *name, long long *id)
{
    return id_by_name(st, STMT_RESOURCE_CLASS_ID, name, id);
}

enum store_rc store_aggregate_id(struct store *st, const char *uuid, long long *id)
{
    return id_by_name(st, STMT_AGGREGATE_ID, uuid, id);
}

enum store_rc store_trait_id(struct store *st, const char *name, long long *id)
{
    return id_by_name(st, STMT_TRAIT_ID, name, id);
}

enum store_rc provider_read_begin(struct store *st, const char *uuid, struct provider_ref *ref)
{
    ref->id = 0;
    enum store_rc rc = tx_begin_read(st);
    if (rc != STORE_OK)
        return rc;
    if ((rc = store_provider_ref(st, uuid, ref)) != STORE_OK) {
        ref->id = 0;
        tx_rollback(st);
    }
    return rc;
}
