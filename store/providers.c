/* Resource providers: create, read, update (rename and re-parent), delete
 * and the filtered listing of GET /resource_providers
 * (placement/objects/resource_provider.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/internal.h"

/* STORE_OK, or STORE_ERROR when a text does not fit (never cut). */
static enum store_rc provider_from_row(struct sql *q, struct provider *out)
{
    enum store_rc rc;
    out->id = sql_col_i64(q, 0);
    out->generation = sql_col_i64(q, 3);
    out->created_at = sql_col_i64(q, 6);
    out->updated_at = sql_col_i64(q, 7);
    if ((rc = sql_col_copy(q, 1, out->uuid, sizeof(out->uuid))) != STORE_OK ||
        (rc = sql_col_copy(q, 2, out->name, sizeof(out->name))) != STORE_OK ||
        (rc = sql_col_copy(q, 4, out->parent_uuid, sizeof(out->parent_uuid))) != STORE_OK)
        return rc;
    return sql_col_copy(q, 5, out->root_uuid, sizeof(out->root_uuid));
}

enum store_rc store_provider_get(struct store *st, const char *uuid, struct provider *out)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GET);
    sql_bind_text(q, 1, uuid);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        rc = provider_from_row(q, out);
    sql_done(q);
    return rc;
}

/* STORE_OK when the query sid on ?1 = value (text, or else the id) returns
 * a row, else STORE_NOT_FOUND. */
static enum store_rc any_row(struct store *st, enum stmt_id sid, const char *value, long long id)
{
    struct sql *q = sql_get(st, sid);
    if (value)
        sql_bind_text(q, 1, value);
    else
        sql_bind_i64(q, 1, id);
    enum store_rc rc = sql_step(q);
    sql_done(q);
    return rc;
}

/* STORE_OK when some provider has column = value, else STORE_NOT_FOUND. */
static enum store_rc exists(struct store *st, enum stmt_id id, const char *value)
{
    return any_row(st, id, value, 0);
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
    struct sql *q = sql_get(st, STMT_PROVIDER_INSERT);
    sql_bind_text(q, 1, uuid);
    sql_bind_text(q, 2, name);
    if (parent) {
        sql_bind_i64(q, 3, parent->id);
        sql_bind_i64(q, 4, parent->root_id);
    }
    sql_bind_i64(q, 5, store_now());
    enum store_rc rc = sql_run(q);
    if (rc != STORE_OK)
        return rc;
    return parent ? STORE_OK : sql_run(sql_get(st, STMT_PROVIDER_FIX_ROOT));
}

/* The arguments and results of a provider write unit. */
struct provider_job {
    const char *uuid, *name, *parent_uuid;
    const struct provider_update *upd;
    struct provider *out;
    enum provider_problem *why;
};

static enum store_rc provider_create_body(struct store *st, void *arg)
{
    struct provider_job *j = arg;
    struct provider_ref parent;
    enum store_rc rc;

    *j->why = PROVIDER_PROBLEM_NONE;
    if (j->parent_uuid && (rc = parent_ref(st, j->parent_uuid, &parent, j->why)) != STORE_OK)
        return rc;
    if ((rc = check_unique(st, j->uuid, j->name, j->why)) != STORE_OK ||
        (rc = insert_provider(st, j->uuid, j->name, j->parent_uuid ? &parent : NULL)) != STORE_OK)
        return rc;
    return store_provider_get(st, j->uuid, j->out);
}

enum store_rc store_provider_create(struct store *st, const char *uuid, const char *name,
                                    const char *parent_uuid, struct provider *out,
                                    enum provider_problem *why)
{
    struct provider_job j = {.uuid = uuid, .name = name, .parent_uuid = parent_uuid, .out = out,
                             .why = why};
    *why = PROVIDER_PROBLEM_NONE;
    return store_unit(st, UNIT_WRITE, STORE_BUSY, provider_create_body, &j);
}

/* STORE_OK when candidate is self or one of its descendants, else STORE_NOT_FOUND. */
static enum store_rc in_subtree(struct store *st, long long self, long long candidate)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_IN_SUBTREE);
    sql_bind_i64(q, 1, self);
    sql_bind_i64(q, 2, candidate);
    enum store_rc rc = sql_step(q);
    sql_done(q);
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
    struct sql *q = sql_get(st, STMT_PROVIDER_UPDATE);
    sql_bind_i64(q, 1, id);
    sql_bind_text(q, 2, name);
    if (parent_id)
        sql_bind_i64(q, 3, parent_id);
    sql_bind_i64(q, 4, store_now());
    enum store_rc rc = sql_run(q);
    if (rc != STORE_OK)
        return rc;
    q = sql_get(st, STMT_PROVIDER_MOVE_SUBTREE);
    sql_bind_i64(q, 1, id);
    sql_bind_i64(q, 2, root_id);
    return sql_run(q);
}

static enum store_rc provider_update_body(struct store *st, void *arg)
{
    struct provider_job *j = arg;
    struct provider_ref me;
    long long parent_id, root_id;
    enum store_rc rc;

    *j->why = PROVIDER_PROBLEM_NONE;
    if ((rc = store_provider_ref(st, j->uuid, &me)) != STORE_OK ||
        (rc = plan_parent(st, &me, j->upd, &parent_id, &root_id, j->why)) != STORE_OK)
        return rc;
    rc = write_update(st, me.id, j->upd->name, parent_id, root_id);
    if (rc == STORE_DUPLICATE)
        *j->why = PROVIDER_DUPLICATE_NAME;
    if (rc != STORE_OK)
        return rc;
    return store_provider_get(st, j->uuid, j->out);
}

enum store_rc store_provider_update(struct store *st, const char *uuid,
                                    const struct provider_update *upd, struct provider *out,
                                    enum provider_problem *why)
{
    struct provider_job j = {.uuid = uuid, .upd = upd, .out = out, .why = why};
    *why = PROVIDER_PROBLEM_NONE;
    return store_unit(st, UNIT_WRITE, STORE_BUSY, provider_update_body, &j);
}

/* Children first, then allocations, as ResourceProvider._delete does. */
static enum store_rc check_deletable(struct store *st, long long id)
{
    enum store_rc rc = any_row(st, STMT_PROVIDER_HAS_CHILDREN, NULL, id);
    if (rc != STORE_NOT_FOUND)
        return rc == STORE_OK ? STORE_HAS_CHILDREN : rc;
    rc = any_row(st, STMT_PROVIDER_HAS_ALLOCATIONS, NULL, id);
    if (rc != STORE_NOT_FOUND)
        return rc == STORE_OK ? STORE_IN_USE : rc;
    return STORE_OK;
}

static enum store_rc provider_delete_body(struct store *st, void *arg)
{
    struct provider_job *j = arg;
    struct provider_ref me;
    enum store_rc rc;
    if ((rc = store_provider_ref(st, j->uuid, &me)) != STORE_OK ||
        (rc = check_deletable(st, me.id)) != STORE_OK)
        return rc;
    return sql_run_id(st, STMT_PROVIDER_DELETE, me.id);
}

enum store_rc store_provider_delete(struct store *st, const char *uuid)
{
    struct provider_job j = {.uuid = uuid};
    return store_unit(st, UNIT_WRITE, STORE_BUSY, provider_delete_body, &j);
}

/* ---- Generations ---- */

enum store_rc provider_generation_read(struct store *st, long long provider_id, long long *gen)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GENERATION);
    sql_bind_i64(q, 1, provider_id);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        *gen = sql_col_i64(q, 0);
    sql_done(q);
    return rc;
}

enum store_rc provider_generation_bump(struct store *st, long long provider_id, long long gen,
                                       long long *new_gen)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GENERATION_BUMP);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_i64(q, 2, gen);
    sql_bind_i64(q, 3, store_now());
    enum store_rc rc = sql_exec(q);
    if (rc == STORE_OK && sql_changes(q) != 1)
        rc = STORE_CONFLICT;
    sql_done(q);
    if (rc == STORE_OK && new_gen)
        *new_gen = gen + 1;
    return rc;
}

/* ---- Listing ---- */

/* The filter sets travel to SQL as bound JSON documents (lists of lists and
 * pairs, which a flat list parameter cannot carry), read with json_each(),
 * so one static statement serves every combination of filters. */

/* A growing JSON text. */
struct jbuf {
    char *p;
    size_t len, cap;
};

static void jbuf_add(struct jbuf *b, const char *s)
{
    size_t n = strlen(s);
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = xrealloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n + 1);
    b->len += n;
}

static void jbuf_add_owned(struct jbuf *b, char *s)
{
    jbuf_add(b, s);
    free(s);
}

/* Binds b's text to parameter idx (nothing when b is empty: the filter is
 * unused) and frees it. */
static void bind_json(struct sql *q, int idx, struct jbuf *b)
{
    if (b->p)
        sql_bind_json(q, idx, b->p);
    free(b->p);
}

static void trait_groups_json(struct jbuf *out, const struct provider_filter *f)
{
    for (size_t i = 0; i < f->n_required_traits; i++) {
        jbuf_add(out, i ? "," : "[");
        jbuf_add_owned(out, json_id_array(f->required_traits[i].ids, f->required_traits[i].n));
    }
    if (f->n_required_traits)
        jbuf_add(out, "]");
}

static void agg_groups_json(struct jbuf *out, const struct provider_filter *f)
{
    for (size_t i = 0; i < f->n_member_of; i++) {
        jbuf_add(out, i ? "," : "[");
        jbuf_add_owned(out, json_text_array(f->member_of[i].uuids, f->member_of[i].n));
    }
    if (f->n_member_of)
        jbuf_add(out, "]");
}

static void resources_json(struct jbuf *out, const struct provider_filter *f)
{
    char pair[64];
    for (size_t i = 0; i < f->n_resources; i++) {
        snprintf(pair, sizeof(pair), "%s[%lld,%lld]", i ? "," : "[", f->resources[i].rc_id,
                 f->resources[i].amount);
        jbuf_add(out, pair);
    }
    if (f->n_resources)
        jbuf_add(out, "]");
}

enum store_rc store_provider_list(struct store *st, const struct provider_filter *f,
                                  provider_row_fn *on_row, void *arg)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_LIST);
    struct jbuf traits = {0}, aggs = {0}, res = {0};
    sql_bind_text(q, 1, f->name);
    sql_bind_text(q, 2, f->uuid);
    sql_bind_text(q, 3, f->in_tree);
    trait_groups_json(&traits, f);
    bind_json(q, 4, &traits);
    if (f->forbidden_traits.n)
        sql_bind_ids(q, 5, f->forbidden_traits.ids, f->forbidden_traits.n);
    agg_groups_json(&aggs, f);
    bind_json(q, 6, &aggs);
    if (f->forbidden_aggs.n)
        sql_bind_texts(q, 7, f->forbidden_aggs.uuids, f->forbidden_aggs.n);
    resources_json(&res, f);
    bind_json(q, 8, &res);

    struct provider row;
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        if ((rc = provider_from_row(q, &row)) != STORE_OK)
            break;
        unit_emitted(st);
        if (on_row(arg, &row) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}
