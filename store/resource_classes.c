/* Resource classes: the standard ones seeded at start-up (ids 0..), and
 * custom ones (ids from STORE_CUSTOM_CLASS_MIN_ID) that clients manage. */
#include <stdio.h>

#include "store/internal.h"
#include "store/locks.h"

/* STORE_OK, or STORE_ERROR when the name does not fit (never cut). */
static enum store_rc class_from_row(struct sql *q, struct resource_class *out)
{
    out->id = sql_col_i64(q, 0);
    out->created_at = sql_col_i64(q, 2);
    out->updated_at = sql_col_i64(q, 3);
    return sql_col_copy(q, 1, out->name, sizeof(out->name));
}

enum store_rc store_resource_classes_list(struct store *st, store_class_row_fn *on_row, void *arg)
{
    struct sql *q = sql_get(st, STMT_RESOURCE_CLASSES_LIST);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        struct resource_class row;
        if ((rc = class_from_row(q, &row)) != STORE_OK)
            break;
        unit_emitted(st);
        if (on_row(arg, &row) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}

enum store_rc store_resource_class_get(struct store *st, const char *name,
                                       struct resource_class *out)
{
    struct sql *q = sql_get(st, STMT_RESOURCE_CLASS_GET);
    sql_bind_text(q, 1, name);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        rc = class_from_row(q, out);
    sql_done(q);
    return rc;
}

/* Placement picks max(10000, highest id + 1); the write unit serialises
 * writers (on PostgreSQL under store_lock_resource_classes), so the id
 * cannot be taken between the MAX and the INSERT. */
static enum store_rc insert_custom_class(struct store *st, const char *name)
{
    struct sql *q = sql_get(st, STMT_RESOURCE_CLASS_INSERT);
    sql_bind_text(q, 1, name);
    sql_bind_i64(q, 2, store_now());
    sql_bind_i64(q, 3, STORE_CUSTOM_CLASS_MIN_ID);
    return sql_run(q);
}

/* A class write: the name(s) in, the row and whether it is new out. */
struct class_write {
    const char *name;
    const char *new_name; /* rename only */
    bool only_new;        /* create only */
    struct resource_class row;
    bool is_new;
};

static enum store_rc class_create_body(struct store *st, void *arg)
{
    struct class_write *w = arg;
    w->is_new = false;
    enum store_rc rc = store_resource_class_get(st, w->name, &w->row);
    if (rc == STORE_NOT_FOUND && store_locks_rows(st)) {
        /* Another node may be creating it (or another class) right now:
         * wait for it, then look again. */
        if ((rc = store_lock_resource_classes(st)) == STORE_OK)
            rc = store_resource_class_get(st, w->name, &w->row);
    }
    if (rc == STORE_NOT_FOUND) {
        if ((rc = insert_custom_class(st, w->name)) != STORE_OK ||
            (rc = store_resource_class_get(st, w->name, &w->row)) != STORE_OK)
            return rc;
        w->is_new = true;
        return STORE_OK;
    }
    return rc == STORE_OK && w->only_new ? STORE_DUPLICATE : rc;
}

enum store_rc store_resource_class_create(struct store *st, const char *name, bool only_new,
                                          struct resource_class *out, bool *created)
{
    struct class_write w = {.name = name, .only_new = only_new};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_BUSY, class_create_body, &w);
    if (rc != STORE_OK)
        return rc;
    if (out)
        *out = w.row;
    if (created)
        *created = w.is_new;
    return STORE_OK;
}

/* store_resource_class_get(), with STORE_INVALID for a standard class
 * (which clients may neither rename nor delete). */
static enum store_rc custom_class_get(struct store *st, const char *name,
                                      struct resource_class *row)
{
    enum store_rc rc = store_resource_class_get(st, name, row);
    return rc == STORE_OK && row->id < STORE_CUSTOM_CLASS_MIN_ID ? STORE_INVALID : rc;
}

static enum store_rc class_rename_body(struct store *st, void *arg)
{
    struct class_write *w = arg;
    enum store_rc rc;
    /* Standard classes are checked before the new name, as Placement's
     * ResourceClass.save() does. */
    if ((rc = custom_class_get(st, w->name, &w->row)) != STORE_OK)
        return rc;
    struct sql *q = sql_get(st, STMT_RESOURCE_CLASS_RENAME);
    sql_bind_i64(q, 1, w->row.id);
    sql_bind_text(q, 2, w->new_name);
    sql_bind_i64(q, 3, store_now());
    if ((rc = sql_run(q)) != STORE_OK)
        return rc;
    return store_resource_class_get(st, w->new_name, &w->row);
}

enum store_rc store_resource_class_rename(struct store *st, const char *name, const char *new_name,
                                          struct resource_class *out)
{
    struct class_write w = {.name = name, .new_name = new_name};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_BUSY, class_rename_body, &w);
    if (rc == STORE_OK && out)
        *out = w.row;
    return rc;
}

/* STORE_IN_USE while inventories or allocations refer to class id. The
 * foreign keys (ON DELETE RESTRICT) would refuse the delete anyway, but
 * SQLite reports a RESTRICT action as SQLITE_CONSTRAINT_TRIGGER, so ask
 * first, as Placement does. */
static enum store_rc class_in_use(struct store *st, long long id)
{
    bool used = false;
    enum store_rc rc = sql_flag_id(st, STMT_RESOURCE_CLASS_IN_USE, id, &used);
    return rc == STORE_OK && used ? STORE_IN_USE : rc;
}

static enum store_rc class_delete_body(struct store *st, void *arg)
{
    struct class_write *w = arg;
    enum store_rc rc;
    if ((rc = custom_class_get(st, w->name, &w->row)) != STORE_OK ||
        (rc = class_in_use(st, w->row.id)) != STORE_OK)
        return rc;
    return sql_run_id(st, STMT_RESOURCE_CLASS_DELETE, w->row.id);
}

enum store_rc store_resource_class_delete(struct store *st, const char *name)
{
    struct class_write w = {.name = name};
    return store_unit(st, UNIT_WRITE, STORE_BUSY, class_delete_body, &w);
}
