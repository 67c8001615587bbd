/* Inventories of resource providers (placement/objects/inventory.py and the
 * inventory half of objects/resource_provider.py). Every successful write
 * bumps the provider generation by one, even when nothing changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/accounting.h"
#include "store/locks.h"

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

/* STORE_OK, or STORE_ERROR when the class name does not fit (never cut). */
static enum store_rc inventory_from_row(struct sql *q, struct inventory *inv)
{
    /* Columns: rc id, rc name, total, reserved, min_unit, max_unit,
     * step_size, allocation_ratio, created_at, updated_at. */
    inv->rc_id = sql_col_i64(q, 0);
    inv->total = sql_col_i64(q, 2);
    inv->reserved = sql_col_i64(q, 3);
    inv->min_unit = sql_col_i64(q, 4);
    inv->max_unit = sql_col_i64(q, 5);
    inv->step_size = sql_col_i64(q, 6);
    inv->allocation_ratio = sql_col_f64(q, 7);
    inv->created_at = sql_col_i64(q, 8);
    inv->updated_at = sql_col_i64(q, 9);
    return sql_col_copy(q, 1, inv->resource_class, sizeof(inv->resource_class));
}

struct inventories_read {
    store_inventory_fn *on_row; /* the list */
    const char *rc_name;        /* or the one record */
    struct inventory *out;
    void *arg;
};

static enum store_rc inventories_list(struct store *st, const struct provider_ref *ref,
                                      void *arg)
{
    struct inventories_read *r = arg;
    struct sql *q = sql_get(st, STMT_INVENTORIES_LIST);
    sql_bind_i64(q, 1, ref->id);
    enum store_rc rc;
    struct inventory inv;
    while ((rc = sql_step(q)) == STORE_OK) {
        if ((rc = inventory_from_row(q, &inv)) != STORE_OK)
            break;
        unit_emitted(st);
        if (r->on_row(r->arg, &inv) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}

enum store_rc store_inventories_list(struct store *st, const char *uuid, struct provider_ref *ref,
                                     store_inventory_fn *on_row, void *arg)
{
    struct inventories_read r = {.on_row = on_row, .arg = arg};
    return provider_read(st, uuid, ref, inventories_list, &r);
}

static enum store_rc inventory_get(struct store *st, const struct provider_ref *ref, void *arg)
{
    struct inventories_read *r = arg;
    struct sql *q = sql_get(st, STMT_INVENTORY_GET);
    sql_bind_i64(q, 1, ref->id);
    sql_bind_text(q, 2, r->rc_name);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        rc = inventory_from_row(q, r->out);
    sql_done(q);
    return rc;
}

enum store_rc store_inventory_get(struct store *st, const char *uuid, const char *rc_name,
                                  struct provider_ref *ref, struct inventory *out)
{
    struct inventories_read r = {.rc_name = rc_name, .out = out};
    return provider_read(st, uuid, ref, inventory_get, &r);
}

/* Runs statement id, an inventory write whose parameters are ?1 provider_id, ?2
 * rc_id, ?3-?8 the record's total, reserved, min_unit, max_unit, step_size
 * and allocation_ratio, and ?9 now (the created_at or updated_at). */
static enum store_rc inventory_write(struct store *st, enum stmt_id id, long long provider_id,
                                     long long rc_id, const struct inventory *inv, long long now,
                                     long long *changes)
{
    struct sql *q = sql_get(st, id);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_i64(q, 2, rc_id);
    sql_bind_i64(q, 3, inv->total);
    sql_bind_i64(q, 4, inv->reserved);
    sql_bind_i64(q, 5, inv->min_unit);
    sql_bind_i64(q, 6, inv->max_unit);
    sql_bind_i64(q, 7, inv->step_size);
    sql_bind_f64(q, 8, inv->allocation_ratio);
    sql_bind_i64(q, 9, now);
    enum store_rc rc = sql_exec(q);
    if (changes)
        *changes = rc == STORE_OK ? sql_changes(q) : 0;
    sql_done(q);
    return rc;
}

/* Inserts or overwrites one record; created_at is kept on update. */
static enum store_rc inventory_upsert(struct store *st, long long provider_id, long long rc_id,
                                      const struct inventory *inv, long long now)
{
    return inventory_write(st, STMT_INVENTORY_UPSERT, provider_id, rc_id, inv, now, NULL);
}

/* Removes one record; *changes (may be NULL): whether there was one. */
static enum store_rc inventory_remove(struct store *st, long long provider_id, long long rc_id,
                                      long long *changes)
{
    struct sql *q = sql_get(st, STMT_INVENTORY_REMOVE);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_i64(q, 2, rc_id);
    enum store_rc rc = sql_exec(q);
    if (changes)
        *changes = rc == STORE_OK ? sql_changes(q) : 0;
    sql_done(q);
    return rc;
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
    struct sql *q = sql_get(st, STMT_DOOMED_CLASSES);
    sql_bind_i64(q, 1, provider_id);
    size_t cap = 0;
    enum store_rc rc;
    *doomed = NULL;
    *n_doomed = 0;
    *in_use = false;
    while ((rc = sql_step(q)) == STORE_OK) {
        long long id = sql_col_i64(q, 0);
        if (id_in(keep, n_keep, id))
            continue;
        if (sql_col_i64(q, 2)) {
            *in_use = true;
            acct_join(fail->classes, sizeof(fail->classes), sql_col_text(q, 1));
        }
        if (*n_doomed == cap) {
            cap = cap ? 2 * cap : 8;
            *doomed = xrealloc(*doomed, cap * sizeof(**doomed));
        }
        (*doomed)[(*n_doomed)++] = id;
    }
    sql_done(q);
    return rows_end(rc);
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
        rc = inventory_remove(st, provider_id, doomed[i], NULL);
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
/* First in every inventory write unit: the provider is locked before
 * its generation is read (store/locks.h; nothing on SQLite). */
static enum store_rc generation_check(struct store *st, long long provider_id, long long gen,
                                      long long *current, struct acct_failure *fail)
{
    enum store_rc rc = store_lock_providers(st, &provider_id, 1);
    if (rc == STORE_OK)
        rc = provider_generation_read(st, provider_id, current);
    if (rc == STORE_OK && gen >= 0 && gen != *current) {
        fail->kind = ACCT_PROVIDER_GENERATION;
        fail->expected = *current;
        fail->got = gen;
        rc = STORE_CONFLICT;
    }
    return rc;
}

/* The arguments and results of an inventory write unit. */
struct inventory_job {
    long long provider_id, generation;
    const struct inventory *inv;
    size_t n;
    const char *rc_name; /* delete */
    bool insert;         /* write one: POST, else PUT */
    long long *new_generation;
    struct acct_failure *fail;
};

static enum store_rc inventories_replace_body(struct store *st, void *arg)
{
    struct inventory_job *j = arg;
    enum store_rc rc;
    long long current = 0;

    acct_fail_clear(j->fail);
    if ((rc = generation_check(st, j->provider_id, j->generation, &current, j->fail)) !=
            STORE_OK ||
        (rc = acct_inventories_apply(st, j->provider_id, j->inv, j->n, true, j->fail)) != STORE_OK)
        return rc;
    return provider_generation_bump(st, j->provider_id, current, j->new_generation);
}

enum store_rc store_inventories_replace(struct store *st, long long provider_id,
                                        long long generation, const struct inventory *inv,
                                        size_t n, long long *new_generation,
                                        struct acct_failure *fail)
{
    struct inventory_job j = {provider_id, generation, inv, n, NULL, false, new_generation, fail};
    acct_fail_clear(fail);
    return store_unit(st, UNIT_WRITE, STORE_CONFLICT, inventories_replace_body, &j);
}

/* Inserts one record that must not exist yet. */
static enum store_rc inventory_insert(struct store *st, long long provider_id, long long rc_id,
                                      const struct inventory *inv)
{
    return inventory_write(st, STMT_INVENTORY_INSERT, provider_id, rc_id, inv, store_now(), NULL);
}

/* Overwrites an existing record; STORE_NOT_FOUND when there is none. */
static enum store_rc inventory_overwrite(struct store *st, long long provider_id, long long rc_id,
                                         const struct inventory *inv)
{
    long long changes = 0;
    enum store_rc rc = inventory_write(st, STMT_INVENTORY_OVERWRITE, provider_id, rc_id, inv,
                                       store_now(), &changes);
    if (rc == STORE_OK && changes == 0)
        rc = STORE_NOT_FOUND;
    return rc;
}

/* POST and PUT of one record, each in its own transaction: the generation
 * check (generation < 0: none), the class, the insert (or, without insert,
 * the overwrite), then the provider bump. A record that already exists
 * (insert) or does not (overwrite) is reported in fail. */
static enum store_rc inventory_write_one_body(struct store *st, void *arg)
{
    struct inventory_job *j = arg;
    enum store_rc rc;
    long long current = 0, rc_id = 0;

    acct_fail_clear(j->fail);
    if ((rc = generation_check(st, j->provider_id, j->generation, &current, j->fail)) !=
            STORE_OK ||
        (rc = acct_class_id(st, j->inv->resource_class, &rc_id, j->fail)) != STORE_OK)
        return rc;
    rc = j->insert ? inventory_insert(st, j->provider_id, rc_id, j->inv)
                   : inventory_overwrite(st, j->provider_id, rc_id, j->inv);
    if (j->insert && rc == STORE_DUPLICATE)
        j->fail->kind = ACCT_INVENTORY_EXISTS;
    if (!j->insert && rc == STORE_NOT_FOUND)
        j->fail->kind = ACCT_INVENTORY_MISSING;
    if (rc != STORE_OK)
        return rc;
    return provider_generation_bump(st, j->provider_id, current, j->new_generation);
}

static enum store_rc inventory_write_one(struct store *st, long long provider_id,
                                         long long generation, const struct inventory *inv,
                                         bool insert, long long *new_generation,
                                         struct acct_failure *fail)
{
    struct inventory_job j = {provider_id, generation, inv, 1, NULL, insert, new_generation, fail};
    acct_fail_clear(fail);
    return store_unit(st, UNIT_WRITE, STORE_CONFLICT, inventory_write_one_body, &j);
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
    struct sql *q = sql_get(st, STMT_INVENTORY_IN_USE);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_i64(q, 2, rc_id);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        *in_use = sql_col_i64(q, 0) != 0;
    sql_done(q);
    return rows_end(rc);
}

static enum store_rc inventory_delete_body(struct store *st, void *arg)
{
    struct inventory_job *j = arg;
    enum store_rc rc;
    long long current = 0, rc_id = 0, removed = 0;
    bool in_use = false;

    acct_fail_clear(j->fail);
    if ((rc = generation_check(st, j->provider_id, -1, &current, j->fail)) != STORE_OK ||
        (rc = acct_class_id(st, j->rc_name, &rc_id, j->fail)) != STORE_OK ||
        (rc = class_in_use(st, j->provider_id, rc_id, &in_use)) != STORE_OK)
        return rc;
    if (in_use) {
        j->fail->kind = ACCT_INVENTORY_IN_USE;
        snprintf(j->fail->classes, sizeof(j->fail->classes), "%s", j->rc_name);
        return STORE_IN_USE;
    }
    if ((rc = inventory_remove(st, j->provider_id, rc_id, &removed)) != STORE_OK)
        return rc;
    if (removed == 0) {
        j->fail->kind = ACCT_INVENTORY_MISSING;
        return STORE_NOT_FOUND;
    }
    return provider_generation_bump(st, j->provider_id, current, j->new_generation);
}

enum store_rc store_inventory_delete(struct store *st, long long provider_id, const char *rc_name,
                                     long long *new_generation, struct acct_failure *fail)
{
    struct inventory_job j = {provider_id, -1, NULL, 0, rc_name, false, new_generation, fail};
    acct_fail_clear(fail);
    return store_unit(st, UNIT_WRITE, STORE_CONFLICT, inventory_delete_body, &j);
}
