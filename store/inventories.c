/* Inventories of resource providers (placement/objects/inventory.py and the
 * inventory half of objects/resource_provider.py). Every successful write
 * bumps the provider generation by one, even when nothing changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/accounting.h"

void acct_fail_clear(struct acct_failure *fail)
{
    memset(fail, 0, sizeof(*fail));
}

void acct_join(char *buf, size_t size, const char *item)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    snprintf(buf + len, size - len, "%s%s", len ? ", " : "", item);
}

enum store_rc acct_class_id(struct store *st, const char *name, long long *id,
                            struct acct_failure *fail)
{
    enum store_rc rc = store_resource_class_id(st, name, id);
    if (rc == STORE_NOT_FOUND) {
        fail->kind = ACCT_CLASS_MISSING;
        snprintf(fail->classes, sizeof(fail->classes), "%s", name);
    }
    return rc;
}

/* SQLITE_OK, or SQLITE_TOOBIG when the class name does not fit (never cut). */
static int inventory_from_row(sqlite3_stmt *s, struct inventory *inv)
{
    /* Columns: rc id, rc name, total, reserved, min_unit, max_unit,
     * step_size, allocation_ratio, created_at, updated_at. */
    inv->rc_id = sqlite3_column_int64(s, 0);
    inv->total = sqlite3_column_int64(s, 2);
    inv->reserved = sqlite3_column_int64(s, 3);
    inv->min_unit = sqlite3_column_int64(s, 4);
    inv->max_unit = sqlite3_column_int64(s, 5);
    inv->step_size = sqlite3_column_int64(s, 6);
    inv->allocation_ratio = sqlite3_column_double(s, 7);
    inv->created_at = sqlite3_column_int64(s, 8);
    inv->updated_at = sqlite3_column_int64(s, 9);
    return column_text_copy(s, 1, inv->resource_class, sizeof(inv->resource_class));
}

static enum store_rc inventories_list(struct store *st, long long provider_id,
                                      store_inventory_fn *on_row, void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_INVENTORIES_LIST);
    sqlite3_bind_int64(s, 1, provider_id);
    int rc;
    struct inventory inv;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = inventory_from_row(s, &inv)) != SQLITE_OK)
            break;
        if (on_row(arg, &inv) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "inventory list");
    stmt_done(s);
    return out;
}

enum store_rc store_inventories_list(struct store *st, const char *uuid, struct provider_ref *ref,
                                     store_inventory_fn *on_row, void *arg)
{
    enum store_rc rc = provider_read_begin(st, uuid, ref);
    if (rc != STORE_OK)
        return rc;
    rc = inventories_list(st, ref->id, on_row, arg);
    tx_rollback(st); /* a read: nothing to keep */
    return rc;
}

static enum store_rc inventory_get(struct store *st, long long provider_id, const char *rc_name,
                                   struct inventory *out)
{
    sqlite3_stmt *s = stmt_of(st, STMT_INVENTORY_GET);
    sqlite3_bind_int64(s, 1, provider_id);
    stmt_bind_text(s, 2, rc_name);
    enum store_rc rc = stmt_row(st, s, "inventory get");
    if (rc == STORE_OK)
        rc = store_rc_from_sqlite(st, inventory_from_row(s, out), "inventory get");
    stmt_done(s);
    return rc;
}

enum store_rc store_inventory_get(struct store *st, const char *uuid, const char *rc_name,
                                  struct provider_ref *ref, struct inventory *out)
{
    enum store_rc rc = provider_read_begin(st, uuid, ref);
    if (rc != STORE_OK)
        return rc;
    rc = inventory_get(st, ref->id, rc_name, out);
    tx_rollback(st); /* a read: nothing to keep */
    return rc;
}

/* Runs statement id, an inventory write whose parameters are ?1 provider_id, ?2
 * rc_id, ?3-?8 the record's total, reserved, min_unit, max_unit, step_size
 * and allocation_ratio, and ?9 now (the created_at or updated_at). */
static enum store_rc inventory_write(struct store *st, enum stmt_id id, long long provider_id,
                                     long long rc_id, const struct inventory *inv, long long now,
                                     const char *what)
{
    sqlite3_stmt *s = stmt_of(st, id);
    sqlite3_bind_int64(s, 1, provider_id);
    sqlite3_bind_int64(s, 2, rc_id);
    sqlite3_bind_int64(s, 3, inv->total);
    sqlite3_bind_int64(s, 4, inv->reserved);
    sqlite3_bind_int64(s, 5, inv->min_unit);
    sqlite3_bind_int64(s, 6, inv->max_unit);
    sqlite3_bind_int64(s, 7, inv->step_size);
    sqlite3_bind_double(s, 8, inv->allocation_ratio);
    sqlite3_bind_int64(s, 9, now);
    return stmt_exec(st, s, what);
}

/* Inserts or overwrites one record; created_at is kept on update. */
static enum store_rc inventory_upsert(struct store *st, long long provider_id, long long rc_id,
                                      const struct inventory *inv, long long now)
{
    return inventory_write(st, STMT_INVENTORY_UPSERT, provider_id, rc_id, inv, now,
                           "inventory upsert");
}

static enum store_rc inventory_remove(struct store *st, long long provider_id, long long rc_id)
{
    sqlite3_stmt *s = stmt_of(st, STMT_INVENTORY_REMOVE);
    sqlite3_bind_int64(s, 1, provider_id);
    sqlite3_bind_int64(s, 2, rc_id);
    return stmt_exec(st, s, "inventory delete");
}

static bool id_in(const long long *ids, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* The classes of the provider's inventory that are not in keep[0..n_keep):
 * their ids go to *doomed (malloc'd, caller frees), and the names of those
 * that still have allocations are joined into fail->classes. */
static enum store_rc doomed_classes(struct store *st, long long provider_id, const long long *keep,
                                    size_t n_keep, long long **doomed, size_t *n_doomed,
                                    bool *in_use, struct acct_failure *fail)
{
    sqlite3_stmt *s = stmt_of(st, STMT_DOOMED_CLASSES);
    sqlite3_bind_int64(s, 1, provider_id);
    size_t cap = 0;
    int rc;
    *doomed = NULL;
    *n_doomed = 0;
    *in_use = false;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        long long id = sqlite3_column_int64(s, 0);
        if (id_in(keep, n_keep, id))
            continue;
        if (sqlite3_column_int(s, 2)) {
            *in_use = true;
            acct_join(fail->classes, sizeof(fail->classes),
                      (const char *)sqlite3_column_text(s, 1));
        }
        if (*n_doomed == cap) {
            cap = cap ? 2 * cap : 8;
            *doomed = xrealloc(*doomed, cap * sizeof(**doomed));
        }
        (*doomed)[(*n_doomed)++] = id;
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "inventory classes");
    stmt_done(s);
    return out;
}

static enum store_rc remove_other_classes(struct store *st, long long provider_id,
                                          const long long *keep, size_t n_keep,
                                          struct acct_failure *fail)
{
    long long *doomed = NULL;
    size_t n_doomed;
    bool in_use;
    enum store_rc rc =
        doomed_classes(st, provider_id, keep, n_keep, &doomed, &n_doomed, &in_use, fail);
    if (rc == STORE_OK && in_use) {
        fail->kind = ACCT_INVENTORY_IN_USE;
        rc = STORE_IN_USE;
    }
    for (size_t i = 0; rc == STORE_OK && i < n_doomed; i++)
        rc = inventory_remove(st, provider_id, doomed[i]);
    free(doomed);
    return rc;
}

enum store_rc acct_inventories_apply(struct store *st, long long provider_id,
                                     const struct inventory *inv, size_t n, bool remove_others,
                                     struct acct_failure *fail)
{
    long long *ids = xmalloc((n ? n : 1) * sizeof(*ids));
    enum store_rc rc = STORE_OK;
    /* Every class is resolved before anything is written, as upstream does. */
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = acct_class_id(st, inv[i].resource_class, &ids[i], fail);
    if (rc == STORE_OK && remove_others)
        rc = remove_other_classes(st, provider_id, ids, n, fail);
    long long now = store_now();
    for (size_t i = 0; rc == STORE_OK && i < n; i++)
        rc = inventory_upsert(st, provider_id, ids[i], &inv[i], now);
    free(ids);
    return rc;
}

/* Reads the generation and checks it against the client's (gen < 0: any). */
static enum store_rc generation_check(struct store *st, long long provider_id, long long gen,
                                      long long *current, struct acct_failure *fail)
{
    enum store_rc rc = provider_generation_read(st, provider_id, current);
    if (rc == STORE_OK && gen >= 0 && gen != *current) {
        fail->kind = ACCT_PROVIDER_GENERATION;
        fail->expected = *current;
        fail->got = gen;
        rc = STORE_CONFLICT;
    }
    return rc;
}

enum store_rc store_inventories_replace(struct store *st, long long provider_id,
                                        long long generation, const struct inventory *inv,
                                        size_t n, long long *new_generation,
                                        struct acct_failure *fail)
{
    enum store_rc rc;
    long long current = 0;

    acct_fail_clear(fail);
    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = generation_check(st, provider_id, generation, &current, fail)) != STORE_OK ||
        (rc = acct_inventories_apply(st, provider_id, inv, n, true, fail)) != STORE_OK ||
        (rc = provider_generation_bump(st, provider_id, current, new_generation)) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

/* Inserts one record that must not exist yet. */
static enum store_rc inventory_insert(struct store *st, long long provider_id, long long rc_id,
                                      const struct inventory *inv)
{
    return inventory_write(st, STMT_INVENTORY_INSERT, provider_id, rc_id, inv, store_now(),
                           "inventory insert");
}

/* Overwrites an existing record; STORE_NOT_FOUND when there is none. */
static enum store_rc inventory_overwrite(struct store *st, long long provider_id, long long rc_id,
                                         const struct inventory *inv)
{
    enum store_rc rc = inventory_write(st, STMT_INVENTORY_OVERWRITE, provider_id, rc_id, inv,
                                       store_now(), "inventory update");
    if (rc == STORE_OK && sqlite3_changes(st->db) == 0)
        rc = STORE_NOT_FOUND;
    return rc;
}

/* POST and PUT of one record, each in its own transaction: the generation
 * check (generation < 0: none), the class, the insert (or, without insert,
 * the overwrite), then the provider bump. A record that already exists
 * (insert) or does not (overwrite) is reported in fail. */
static enum store_rc inventory_write_one(struct store *st, long long provider_id,
                                         long long generation, const struct inventory *inv,
                                         bool insert, long long *new_generation,
                                         struct acct_failure *fail)
{
    enum store_rc rc;
    long long current = 0, rc_id = 0;

    acct_fail_clear(fail);
    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = generation_check(st, provider_id, generation, &current, fail)) != STORE_OK ||
        (rc = acct_class_id(st, inv->resource_class, &rc_id, fail)) != STORE_OK)
        goto fail;
    rc = insert ? inventory_insert(st, provider_id, rc_id, inv)
                : inventory_overwrite(st, provider_id, rc_id, inv);
    if (insert && rc == STORE_DUPLICATE)
        fail->kind = ACCT_INVENTORY_EXISTS;
    if (!insert && rc == STORE_NOT_FOUND)
        fail->kind = ACCT_INVENTORY_MISSING;
    if (rc != STORE_OK ||
        (rc = provider_generation_bump(st, provider_id, current, new_generation)) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

enum store_rc store_inventory_add(struct store *st, long long provider_id,
                                  const struct inventory *inv, long long *new_generation,
                                  struct acct_failure *fail)
{
    return inventory_write_one(st, provider_id, -1, inv, true, new_generation, fail);
}

enum store_rc store_inventory_update(struct store *st, long long provider_id, long long generation,
                                     const struct inventory *inv, long long *new_generation,
                                     struct acct_failure *fail)
{
    return inventory_write_one(st, provider_id, generation, inv, false, new_generation, fail);
}

static enum store_rc class_in_use(struct store *st, long long provider_id, long long rc_id,
                                  bool *in_use)
{
    sqlite3_stmt *s = stmt_of(st, STMT_INVENTORY_IN_USE);
    sqlite3_bind_int64(s, 1, provider_id);
    sqlite3_bind_int64(s, 2, rc_id);
    int rc = sqlite3_step(s);
    enum store_rc out = store_rc_from_sqlite(st, rc, "inventory in use");
    if (rc == SQLITE_ROW)
        *in_use = sqlite3_column_int(s, 0) != 0;
    stmt_done(s);
    return out;
}

enum store_rc store_inventory_delete(struct store *st, long long provider_id, const char *rc_name,
                                     long long *new_generation, struct acct_failure *fail)
{
    enum store_rc rc;
    long long current = 0, rc_id = 0;
    bool in_use = false;

    acct_fail_clear(fail);
    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = generation_check(st, provider_id, -1, &current, fail)) != STORE_OK ||
        (rc = acct_class_id(st, rc_name, &rc_id, fail)) != STORE_OK ||
        (rc = class_in_use(st, provider_id, rc_id, &in_use)) != STORE_OK)
        goto fail;
    if (in_use) {
        fail->kind = ACCT_INVENTORY_IN_USE;
        snprintf(fail->classes, sizeof(fail->classes), "%s", rc_name);
        rc = STORE_IN_USE;
        goto fail;
    }
    if ((rc = inventory_remove(st, provider_id, rc_id)) != STORE_OK)
        goto fail;
    if (sqlite3_changes(st->db) == 0) {
        fail->kind = ACCT_INVENTORY_MISSING;
        rc = STORE_NOT_FOUND;
        goto fail;
    }
    if ((rc = provider_generation_bump(st, provider_id, current, new_generation)) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}
