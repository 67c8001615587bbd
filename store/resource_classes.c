/* Resource classes: the standard ones seeded at start-up (ids 0..), and
 * custom ones (ids from STORE_CUSTOM_CLASS_MIN_ID) that clients manage. */
#include <stdio.h>

#include "store/internal.h"

/* SQLITE_OK, or SQLITE_TOOBIG when the name does not fit (never cut). */
static int class_from_row(sqlite3_stmt *s, struct resource_class *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->created_at = sqlite3_column_int64(s, 2);
    out->updated_at = sqlite3_column_int64(s, 3);
    return column_text_copy(s, 1, out->name, sizeof(out->name));
}

enum store_rc store_resource_classes_list(struct store *st, store_class_row_fn *on_row, void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_RESOURCE_CLASSES_LIST);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct resource_class row;
        if ((rc = class_from_row(s, &row)) != SQLITE_OK)
            break;
        if (on_row(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "list resource classes");
    stmt_done(s);
    return out;
}

enum store_rc store_resource_class_get(struct store *st, const char *name,
                                       struct resource_class *out)
{
    sqlite3_stmt *s = stmt_of(st, STMT_RESOURCE_CLASS_GET);
    stmt_bind_text(s, 1, name);
    enum store_rc rc = stmt_row(st, s, "get resource class");
    if (rc == STORE_OK)
        rc = store_rc_from_sqlite(st, class_from_row(s, out), "get resource class");
    stmt_done(s);
    return rc;
}

/* Placement picks max(10000, highest id + 1); BEGIN IMMEDIATE serialises
 * writers, so the id cannot be taken between the MAX and the INSERT. */
static enum store_rc insert_custom_class(struct store *st, const char *name)
{
    sqlite3_stmt *s = stmt_of(st, STMT_RESOURCE_CLASS_INSERT);
    stmt_bind_text(s, 1, name);
    sqlite3_bind_int64(s, 2, store_now());
    sqlite3_bind_int64(s, 3, STORE_CUSTOM_CLASS_MIN_ID);
    return stmt_exec(st, s, "create resource class");
}

enum store_rc store_resource_class_create(struct store *st, const char *name, bool only_new,
                                          struct resource_class *out, bool *created)
{
    struct resource_class row = {0};
    bool is_new = false;
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    rc = store_resource_class_get(st, name, &row);
    if (rc == STORE_NOT_FOUND) {
        if ((rc = insert_custom_class(st, name)) != STORE_OK ||
            (rc = store_resource_class_get(st, name, &row)) != STORE_OK)
            goto fail;
        is_new = true;
    } else if (rc != STORE_OK) {
        goto fail;
    } else if (only_new) {
        rc = STORE_DUPLICATE;
        goto fail;
    }
    if ((rc = tx_commit(st)) != STORE_OK)
        return rc;
    if (out)
        *out = row;
    if (created)
        *created = is_new;
    return STORE_OK;
fail:
    tx_rollback(st);
    return rc;
}

/* store_resource_class_get(), with STORE_INVALID for a standard class
 * (which clients may neither rename nor delete). */
static enum store_rc custom_class_get(struct store *st, const char *name,
                                      struct resource_class *row)
{
    enum store_rc rc = store_resource_class_get(st, name, row);
    return rc == STORE_OK && row->id < STORE_CUSTOM_CLASS_MIN_ID ? STORE_INVALID : rc;
}

enum store_rc store_resource_class_rename(struct store *st, const char *name, const char *new_name,
                                          struct resource_class *out)
{
    struct resource_class row = {0};
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    /* Standard classes are checked before the new name, as Placement's
     * ResourceClass.save() does. */
    if ((rc = custom_class_get(st, name, &row)) != STORE_OK)
        goto fail;
    sqlite3_stmt *s = stmt_of(st, STMT_RESOURCE_CLASS_RENAME);
    sqlite3_bind_int64(s, 1, row.id);
    stmt_bind_text(s, 2, new_name);
    sqlite3_bind_int64(s, 3, store_now());
    if ((rc = stmt_exec(st, s, "rename resource class")) != STORE_OK ||
        (rc = store_resource_class_get(st, new_name, &row)) != STORE_OK)
        goto fail;
    if ((rc = tx_commit(st)) != STORE_OK)
        return rc;
    if (out)
        *out = row;
    return STORE_OK;
fail:
    tx_rollback(st);
    return rc;
}

/* STORE_IN_USE while inventories or allocations refer to class id. The
 * foreign keys (ON DELETE RESTRICT) would refuse the delete anyway, but
 * SQLite reports a RESTRICT action as SQLITE_CONSTRAINT_TRIGGER, so ask
 * first, as Placement does. */
static enum store_rc class_in_use(struct store *st, long long id)
{
    bool used = false;
    enum store_rc rc =
        stmt_flag_id(st, STMT_RESOURCE_CLASS_IN_USE, id, &used, "resource class in use");
    return rc == STORE_OK && used ? STORE_IN_USE : rc;
}

enum store_rc store_resource_class_delete(struct store *st, const char *name)
{
    struct resource_class row = {0};
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = custom_class_get(st, name, &row)) != STORE_OK ||
        (rc = class_in_use(st, row.id)) != STORE_OK ||
        (rc = stmt_exec_id(st, STMT_RESOURCE_CLASS_DELETE, row.id, "delete resource class")) !=
            STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}
