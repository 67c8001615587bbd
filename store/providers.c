/* Resource providers: create, read, update (rename and re-parent), delete
 * and the filtered listing of GET /resource_providers
 * (placement/objects/resource_provider.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

/* SQLITE_OK, or SQLITE_TOOBIG when a text does not fit (never cut). */
static int provider_from_row(sqlite3_stmt *s, struct provider *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->generation = sqlite3_column_int64(s, 3);
    out->created_at = sqlite3_column_int64(s, 6);
    out->updated_at = sqlite3_column_int64(s, 7);
    int rc = column_text_copy(s, 1, out->uuid, sizeof(out->uuid));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 2, out->name, sizeof(out->name));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 4, out->parent_uuid, sizeof(out->parent_uuid));
    if (rc == SQLITE_OK)
        rc = column_text_copy(s, 5, out->root_uuid, sizeof(out->root_uuid));
    return rc;
}

enum store_rc store_provider_get(struct store *st, const char *uuid, struct provider *out)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_GET);
    stmt_bind_text(s, 1, uuid);
    enum store_rc rc = stmt_row(st, s, "provider get");
    if (rc == STORE_OK)
        rc = store_rc_from_sqlite(st, provider_from_row(s, out), "provider get");
    stmt_done(s);
    return rc;
}

/* STORE_OK when some provider has column = value, else STORE_NOT_FOUND. */
static enum store_rc exists(struct store *st, enum stmt_id id, const char *value)
{
    sqlite3_stmt *s = stmt_of(st, id);
    stmt_bind_text(s, 1, value);
    enum store_rc rc = stmt_row(st, s, "provider exists");
    stmt_done(s);
    return rc;
}

/* Maps "the uuid or name is already in use" to STORE_DUPLICATE plus *why. */
static enum store_rc check_unique(struct store *st, const char *uuid, const char *name,
                                  enum provider_problem *why)
{
    enum store_rc rc;
    if (uuid && (rc = exists(st, STMT_PROVIDER_UUID_TAKEN, uuid)) != STORE_NOT_FOUND) {
        *why = PROVIDER_DUPLICATE_UUID;
        return rc == STORE_OK ? STORE_DUPLICATE : rc;
    }
    if ((rc = exists(st, STMT_PROVIDER_NAME_TAKEN, name)) != STORE_NOT_FOUND) {
        *why = PROVIDER_DUPLICATE_NAME;
        return rc == STORE_OK ? STORE_DUPLICATE : rc;
    }
    return STORE_OK;
}

/* Resolves the would-be parent; a missing one is STORE_INVALID/PARENT_MISSING. */
static enum store_rc parent_ref(struct store *st, const char *parent_uuid,
                                struct provider_ref *parent, enum provider_problem *why)
{
    enum store_rc rc = store_provider_ref(st, parent_uuid, parent);
    if (rc == STORE_NOT_FOUND) {
        *why = PROVIDER_PARENT_MISSING;
        return STORE_INVALID;
    }
    return rc;
}

static enum store_rc insert_provider(struct store *st, const char *uuid, const char *name,
                                     const struct provider_ref *parent)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_INSERT);
    stmt_bind_text(s, 1, uuid);
    stmt_bind_text(s, 2, name);
    if (parent) {
        sqlite3_bind_int64(s, 3, parent->id);
        sqlite3_bind_int64(s, 4, parent->root_id);
    }
    sqlite3_bind_int64(s, 5, store_now());
    enum store_rc rc = stmt_exec(st, s, "provider insert");
    if (rc != STORE_OK)
        return rc;
    return parent ? STORE_OK : stmt_exec(st, stmt_of(st, STMT_PROVIDER_FIX_ROOT), "provider root");
}

enum store_rc store_provider_create(struct store *st, const char *uuid, const char *name,
                                    const char *parent_uuid, struct provider *out,
                                    enum provider_problem *why)
{
    enum store_rc rc;
    struct provider_ref parent;

    *why = PROVIDER_PROBLEM_NONE;
    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if (parent_uuid && (rc = parent_ref(st, parent_uuid, &parent, why)) != STORE_OK)
        goto fail;
    if ((rc = check_unique(st, uuid, name, why)) != STORE_OK ||
        (rc = insert_provider(st, uuid, name, parent_uuid ? &parent : NULL)) != STORE_OK ||
        (rc = store_provider_get(st, uuid, out)) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

/* STORE_OK when candidate is self or one of its descendants, else STORE_NOT_FOUND. */
static enum store_rc in_subtree(struct store *st, long long self, long long candidate)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_IN_SUBTREE);
    sqlite3_bind_int64(s, 1, self);
    sqlite3_bind_int64(s, 2, candidate);
    enum store_rc rc = stmt_row(st, s, "subtree check");
    stmt_done(s);
    return rc;
}

/* Decides the new parent and root ids following _update_in_db's rules.
 * *parent_id 0 means "a root". */
static enum store_rc plan_parent(struct store *st, const struct provider_ref *me,
                                 const struct provider_update *upd, long long *parent_id,
                                 long long *root_id, enum provider_problem *why)
{
    *parent_id = me->parent_id;
    *root_id = me->root_id;
    if (!upd->set_parent)
        return STORE_OK;
    if (!upd->parent_uuid) {
        if (me->parent_id == 0)
            return STORE_OK;
        if (!upd->allow_reparent) {
            *why = PROVIDER_UNPARENT_REFUSED;
            return STORE_INVALID;
        }
        *parent_id = 0;
        *root_id = me->id;
        return STORE_OK;
    }
    struct provider_ref parent;
    enum store_rc rc = parent_ref(st, upd->parent_uuid, &parent, why);
    if (rc != STORE_OK)
        return rc;
    if (me->parent_id != 0 && me->parent_id != parent.id && !upd->allow_reparent) {
        *why = PROVIDER_REPARENT_REFUSED;
        return STORE_INVALID;
    }
    rc = in_subtree(st, me->id, parent.id);
    if (rc == STORE_OK) {
        *why = PROVIDER_LOOP;
        return STORE_INVALID;
    }
    if (rc != STORE_NOT_FOUND)
        return rc;
    *parent_id = parent.id;
    *root_id = parent.root_id;
    return STORE_OK;
}

static enum store_rc write_update(struct store *st, long long id, const char *name,
                                  long long parent_id, long long root_id)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_UPDATE);
    sqlite3_bind_int64(s, 1, id);
    stmt_bind_text(s, 2, name);
    if (parent_id)
        sqlite3_bind_int64(s, 3, parent_id);
    sqlite3_bind_int64(s, 4, store_now());
    enum store_rc rc = stmt_exec(st, s, "provider update");
    if (rc != STORE_OK)
        return rc;
    s = stmt_of(st, STMT_PROVIDER_MOVE_SUBTREE);
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int64(s, 2, root_id);
    return stmt_exec(st, s, "provider subtree root");
}

enum store_rc store_provider_update(struct store *st, const char *uuid,
                                    const struct provider_update *upd, struct provider *out,
                                    enum provider_problem *why)
{
    enum store_rc rc;
    struct provider_ref me;
    long long parent_id, root_id;

    *why = PROVIDER_PROBLEM_NONE;
    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = store_provider_ref(st, uuid, &me)) != STORE_OK ||
        (rc = plan_parent(st, &me, upd, &parent_id, &root_id, why)) != STORE_OK)
        goto fail;
    rc = write_update(st, me.id, upd->name, parent_id, root_id);
    if (rc == STORE_DUPLICATE)
        *why = PROVIDER_DUPLICATE_NAME;
    if (rc != STORE_OK || (rc = store_provider_get(st, uuid, out)) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

/* STORE_OK when the query on ?1 = id returns a row, STORE_NOT_FOUND when not. */
static enum store_rc any_row(struct store *st, enum stmt_id sid, long long id)
{
    sqlite3_stmt *s = stmt_of(st, sid);
    sqlite3_bind_int64(s, 1, id);
    enum store_rc rc = stmt_row(st, s, "provider check");
    stmt_done(s);
    return rc;
}

/* Children first, then allocations, as ResourceProvider._delete does. */
static enum store_rc check_deletable(struct store *st, long long id)
{
    enum store_rc rc = any_row(st, STMT_PROVIDER_HAS_CHILDREN, id);
    if (rc != STORE_NOT_FOUND)
        return rc == STORE_OK ? STORE_HAS_CHILDREN : rc;
    rc = any_row(st, STMT_PROVIDER_HAS_ALLOCATIONS, id);
    if (rc != STORE_NOT_FOUND)
        return rc == STORE_OK ? STORE_IN_USE : rc;
    return STORE_OK;
}

enum store_rc store_provider_delete(struct store *st, const char *uuid)
{
    enum store_rc rc;
    struct provider_ref me;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = store_provider_ref(st, uuid, &me)) != STORE_OK ||
        (rc = check_deletable(st, me.id)) != STORE_OK ||
        (rc = stmt_exec_id(st, STMT_PROVIDER_DELETE, me.id, "provider delete")) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

/* ---- Generations ---- */

enum store_rc provider_generation_read(struct store *st, long long provider_id, long long *gen)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_GENERATION);
    sqlite3_bind_int64(s, 1, provider_id);
    enum store_rc rc = stmt_row(st, s, "provider generation");
    if (rc == STORE_OK)
        *gen = sqlite3_column_int64(s, 0);
    stmt_done(s);
    return rc;
}

enum store_rc provider_generation_bump(struct store *st, long long provider_id, long long gen,
                                       long long *new_gen)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_GENERATION_BUMP);
    sqlite3_bind_int64(s, 1, provider_id);
    sqlite3_bind_int64(s, 2, gen);
    sqlite3_bind_int64(s, 3, store_now());
    enum store_rc rc = stmt_exec(st, s, "provider generation bump");
    if (rc == STORE_OK && sqlite3_changes(st->db) != 1)
        rc = STORE_CONFLICT;
    if (rc == STORE_OK && new_gen)
        *new_gen = gen + 1;
    return rc;
}

/* ---- Listing ---- */

/* The filter sets travel to SQL as bound JSON arrays read with json_each(),
 * so one static statement serves every combination of filters. */

static void json_append_ids(sqlite3_str *out, const struct id_set *set)
{
    char *text = json_id_array(set->ids, set->n);
    sqlite3_str_appendall(out, text);
    free(text);
}

static void json_append_uuids(sqlite3_str *out, const struct uuid_set *set)
{
    char *text = json_text_array(set->uuids, set->n);
    sqlite3_str_appendall(out, text);
    free(text);
}

/* Binds a finished JSON text (or NULL when the filter is unused). */
static void bind_json(sqlite3_stmt *s, int idx, sqlite3_str *json)
{
    char *text = sqlite3_str_finish(json);
    if (text)
        sqlite3_bind_text(s, idx, text, -1, sqlite3_free);
}

static sqlite3_str *trait_groups_json(sqlite3 *db, const struct provider_filter *f)
{
    if (!f->n_required_traits)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    sqlite3_str_appendchar(out, 1, '[');
    for (size_t i = 0; i < f->n_required_traits; i++) {
        if (i)
            sqlite3_str_appendchar(out, 1, ',');
        json_append_ids(out, &f->required_traits[i]);
    }
    sqlite3_str_appendchar(out, 1, ']');
    return out;
}

static sqlite3_str *agg_groups_json(sqlite3 *db, const struct provider_filter *f)
{
    if (!f->n_member_of)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    sqlite3_str_appendchar(out, 1, '[');
    for (size_t i = 0; i < f->n_member_of; i++) {
        if (i)
            sqlite3_str_appendchar(out, 1, ',');
        json_append_uuids(out, &f->member_of[i]);
    }
    sqlite3_str_appendchar(out, 1, ']');
    return out;
}

static sqlite3_str *resources_json(sqlite3 *db, const struct provider_filter *f)
{
    if (!f->n_resources)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    sqlite3_str_appendchar(out, 1, '[');
    for (size_t i = 0; i < f->n_resources; i++)
        sqlite3_str_appendf(out, "%s[%lld,%lld]", i ? "," : "", f->resources[i].rc_id,
                            f->resources[i].amount);
    sqlite3_str_appendchar(out, 1, ']');
    return out;
}

static sqlite3_str *ids_json(sqlite3 *db, const struct id_set *set)
{
    if (!set->n)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    json_append_ids(out, set);
    return out;
}

static sqlite3_str *uuids_json(sqlite3 *db, const struct uuid_set *set)
{
    if (!set->n)
        return NULL;
    sqlite3_str *out = sqlite3_str_new(db);
    json_append_uuids(out, set);
    return out;
}

static void bind_opt_text(sqlite3_stmt *s, int idx, const char *v)
{
    if (v)
        stmt_bind_text(s, idx, v);
}

enum store_rc store_provider_list(struct store *st, const struct provider_filter *f,
                                  provider_row_fn *on_row, void *arg)
{
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_LIST);
    bind_opt_text(s, 1, f->name);
    bind_opt_text(s, 2, f->uuid);
    bind_opt_text(s, 3, f->in_tree);
    bind_json(s, 4, trait_groups_json(st->db, f));
    bind_json(s, 5, ids_json(st->db, &f->forbidden_traits));
    bind_json(s, 6, agg_groups_json(st->db, f));
    bind_json(s, 7, uuids_json(st->db, &f->forbidden_aggs));
    bind_json(s, 8, resources_json(st->db, f));

    struct provider row;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if ((rc = provider_from_row(s, &row)) != SQLITE_OK)
            break;
        if (on_row(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "provider list");
    stmt_done(s);
    return out;
}
