/* Traits (standard ones seeded at start-up, CUSTOM_ ones made by clients)
 * and the trait sets of resource providers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/internal.h"
#include "store/locks.h"

static const char CUSTOM_PREFIX[] = "CUSTOM_";

/* STORE_OK, or STORE_ERROR when the name does not fit (never cut). */
static enum store_rc trait_from_row(struct sql *q, struct trait *out)
{
    out->id = sql_col_i64(q, 0);
    out->created_at = sql_col_i64(q, 2);
    out->updated_at = sql_col_i64(q, 3);
    return sql_col_copy(q, 1, out->name, sizeof(out->name));
}

/* Steps q (already bound) to the end, handing each row to on_row, then
 * resets it. */
static enum store_rc stream_traits(struct store *st, struct sql *q, store_trait_row_fn *on_row,
                                   void *arg)
{
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        struct trait row;
        if ((rc = trait_from_row(q, &row)) != STORE_OK)
            break;
        unit_emitted(st);
        if (on_row(arg, &row) != 0)
            break;
    }
    sql_done(q);
    return rows_end(rc);
}

/* "prefix%" for LIKE ... ESCAPE '\', with the prefix's own wildcards
 * escaped: Placement filters with LIKE 'prefix%' (so matching is ASCII
 * case-insensitive in SQLite), but '_' and '%' in a trait prefix are
 * meant literally. Free with free(). */
static char *like_prefix_pattern(const char *prefix)
{
    char *out = xmalloc(strlen(prefix) * 2 + 2), *p = out;
    for (const char *c = prefix; *c; c++) {
        if (*c == '%' || *c == '_' || *c == '\\')
            *p++ = '\\';
        *p++ = *c;
    }
    *p++ = '%';
    *p = '\0';
    return out;
}

enum store_rc store_traits_list(struct store *st, const struct trait_filter *f,
                                store_trait_row_fn *on_row, void *arg)
{
    struct sql *q = sql_get(st, STMT_TRAITS_LIST);
    char *pattern = f && f->prefix ? like_prefix_pattern(f->prefix) : NULL;
    if (f && f->names)
        sql_bind_texts(q, 1, f->names, f->n_names);
    sql_bind_text(q, 2, pattern);
    if (f && f->associated >= 0)
        sql_bind_i64(q, 3, f->associated ? 1 : 0);
    enum store_rc rc = stream_traits(st, q, on_row, arg);
    free(pattern);
    return rc;
}

enum store_rc store_trait_get(struct store *st, const char *name, struct trait *out)
{
    struct sql *q = sql_get(st, STMT_TRAIT_GET);
    sql_bind_text(q, 1, name);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK)
        rc = trait_from_row(q, out);
    sql_done(q);
    return rc;
}

struct trait_write {
    const char *name;
    struct trait row;
    bool is_new;
};

static enum store_rc trait_ensure_body(struct store *st, void *arg)
{
    struct trait_write *w = arg;
    w->is_new = false;
    enum store_rc rc = store_trait_get(st, w->name, &w->row);
    if (rc == STORE_NOT_FOUND && store_locks_rows(st)) {
        /* Another node may be creating it right now: wait, look again. */
        if ((rc = store_lock_traits(st)) == STORE_OK)
            rc = store_trait_get(st, w->name, &w->row);
    }
    if (rc != STORE_NOT_FOUND)
        return rc;
    struct sql *q = sql_get(st, STMT_TRAIT_INSERT);
    sql_bind_text(q, 1, w->name);
    sql_bind_i64(q, 2, store_now());
    if ((rc = sql_run(q)) != STORE_OK || (rc = store_trait_get(st, w->name, &w->row)) != STORE_OK)
        return rc;
    w->is_new = true;
    return STORE_OK;
}

enum store_rc store_trait_ensure(struct store *st, const char *name, struct trait *out,
                                 bool *created)
{
    struct trait_write w = {.name = name};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_BUSY, trait_ensure_body, &w);
    if (rc != STORE_OK)
        return rc;
    *out = w.row;
    *created = w.is_new;
    return STORE_OK;
}

/* STORE_IN_USE while some provider has trait id. The foreign key (ON
 * DELETE RESTRICT) would refuse the delete anyway, but SQLite reports a
 * RESTRICT action as SQLITE_CONSTRAINT_TRIGGER, so ask first, as Placement
 * does. */
static enum store_rc trait_in_use(struct store *st, long long id)
{
    bool used = false;
    enum store_rc rc = sql_flag_id(st, STMT_TRAIT_IN_USE, id, &used);
    return rc == STORE_OK && used ? STORE_IN_USE : rc;
}

static enum store_rc trait_delete_body(struct store *st, void *arg)
{
    struct trait_write *w = arg;
    enum store_rc rc;
    if ((rc = store_trait_get(st, w->name, &w->row)) != STORE_OK)
        return rc;
    /* Placement tells standard traits by name, not by id. */
    if (strncmp(w->row.name, CUSTOM_PREFIX, strlen(CUSTOM_PREFIX)) != 0)
        return STORE_INVALID;
    if ((rc = trait_in_use(st, w->row.id)) != STORE_OK)
        return rc;
    return sql_run_id(st, STMT_TRAIT_DELETE, w->row.id);
}

enum store_rc store_trait_delete(struct store *st, const char *name)
{
    struct trait_write w = {.name = name};
    return store_unit(st, UNIT_WRITE, STORE_BUSY, trait_delete_body, &w);
}

enum store_rc store_traits_resolve(struct store *st, const char *const *names, size_t n,
                                   long long *ids, const char **first_missing)
{
    struct sql *q = sql_get(st, STMT_TRAITS_RESOLVE);
    memset(ids, 0, n * sizeof(*ids));
    sql_bind_texts(q, 1, names, n);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK) {
        long long i = sql_col_i64(q, 0);
        if (i >= 0 && (size_t)i < n)
            ids[i] = sql_col_i64(q, 1);
    }
    sql_done(q);
    enum store_rc out = rows_end(rc);
    if (out != STORE_OK)
        return out;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] == 0) {
            if (first_missing)
                *first_missing = names[i];
            return STORE_NOT_FOUND;
        }
    }
    return STORE_OK;
}

static enum store_rc provider_traits_list(struct store *st, long long provider_id,
                                          store_trait_row_fn *on_row, void *arg)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_TRAITS);
    sql_bind_i64(q, 1, provider_id);
    return stream_traits(st, q, on_row, arg);
}

struct traits_read {
    store_trait_row_fn *on_row;
    void *arg;
};

static enum store_rc provider_traits_body(struct store *st, const struct provider_ref *ref,
                                          void *arg)
{
    struct traits_read *r = arg;
    return provider_traits_list(st, ref->id, r->on_row, r->arg);
}

enum store_rc store_provider_traits_list(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_trait_row_fn *on_row,
                                         void *arg)
{
    struct traits_read r = {on_row, arg};
    return provider_read(st, uuid, ref, provider_traits_body, &r);
}

/* STORE_OK when provider_id exists with this generation. */
static enum store_rc check_generation(struct store *st, long long provider_id, long long generation)
{
    long long current = 0;
    enum store_rc rc = provider_generation_read(st, provider_id, &current);
    return rc == STORE_OK && current != generation ? STORE_CONFLICT : rc;
}

/* Runs statement id for provider_id and the trait id list, and adds the
 * rows it changed to *changed. */
static enum store_rc exec_counting(struct store *st, enum stmt_id id, long long provider_id,
                                   const long long *trait_ids, size_t n, long long *changed)
{
    struct sql *q = sql_get(st, id);
    sql_bind_i64(q, 1, provider_id);
    sql_bind_ids(q, 2, trait_ids, n);
    enum store_rc rc = sql_exec(q);
    if (rc == STORE_OK)
        *changed += sql_changes(q);
    sql_done(q);
    return rc;
}

struct traits_replace {
    long long provider_id, generation;
    const long long *trait_ids;
    size_t n;
    long long changed; /* out: rows removed and added */
};

static enum store_rc traits_replace_body(struct store *st, void *arg)
{
    struct traits_replace *r = arg;
    enum store_rc rc;
    r->changed = 0;
    /* The provider (and its block) first, in the writers' order
     * (store/locks.h): the trait rows' trigger bumps the block before the
     * generation bump takes the provider row, the reverse of a claim's
     * order, and the two would deadlock. */
    if ((rc = store_lock_providers(st, &r->provider_id, 1)) != STORE_OK ||
        (rc = check_generation(st, r->provider_id, r->generation)) != STORE_OK ||
        (rc = exec_counting(st, STMT_PROVIDER_TRAITS_REMOVE, r->provider_id, r->trait_ids, r->n,
                            &r->changed)) != STORE_OK ||
        (rc = exec_counting(st, STMT_PROVIDER_TRAITS_ADD, r->provider_id, r->trait_ids, r->n,
                            &r->changed)) != STORE_OK)
        return rc;
    /* The generation moves only when the set really changed. */
    return r->changed ? provider_generation_bump(st, r->provider_id, r->generation, NULL) : STORE_OK;
}

enum store_rc store_provider_traits_replace(struct store *st, long long provider_id,
                                            long long generation, const long long *trait_ids,
                                            size_t n, long long *new_generation)
{
    struct traits_replace r = {provider_id, generation, trait_ids, n, 0};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_CONFLICT, traits_replace_body, &r);
    if (rc == STORE_IN_USE)
        return STORE_INVALID; /* a foreign-key error here means an unknown trait id */
    if (rc == STORE_OK && new_generation)
        *new_generation = generation + (r.changed ? 1 : 0);
    return rc;
}

/* The steps of PUT and DELETE .../traits inside their write transaction:
 * provider (STORE_NOT_FOUND), generation (STORE_CONFLICT; with generation
 * NULL not checked), names (STORE_INVALID), the replacement, the new set. */
static enum store_rc traits_set_steps(struct store *st, const char *uuid,
                                      const long long *generation, const char *const *names,
                                      size_t n, long long *ids, long long *new_gen,
                                      store_trait_row_fn *on_row, void *arg)
{
    struct provider_ref ref;
    enum store_rc rc = store_provider_ref(st, uuid, &ref);
    if (rc != STORE_OK)
        return rc;
    if (generation && ref.generation != *generation)
        return STORE_CONFLICT;
    if (n > 0 && (rc = store_traits_resolve(st, names, n, ids, NULL)) != STORE_OK)
        return rc == STORE_NOT_FOUND ? STORE_INVALID : rc;
    if ((rc = store_provider_traits_replace(st, ref.id, ref.generation, ids, n, new_gen)) !=
        STORE_OK)
        return rc;
    return on_row ? provider_traits_list(st, ref.id, on_row, arg) : STORE_OK;
}

struct traits_set {
    const char *uuid;
    const long long *generation;
    const char *const *names;
    size_t n;
    long long *ids;
    long long new_gen; /* out */
    store_trait_row_fn *on_row;
    void *arg;
};

static enum store_rc traits_set_body(struct store *st, void *arg)
{
    struct traits_set *t = arg;
    return traits_set_steps(st, t->uuid, t->generation, t->names, t->n, t->ids, &t->new_gen,
                            t->on_row, t->arg);
}

/* traits_set_steps() as one write unit, all or nothing. */
static enum store_rc traits_set(struct store *st, const char *uuid, const long long *generation,
                                const char *const *names, size_t n, long long *ids,
                                long long *new_generation, store_trait_row_fn *on_row, void *arg)
{
    struct traits_set t = {uuid, generation, names, n, ids, 0, on_row, arg};
    enum store_rc rc = store_unit(st, UNIT_WRITE, STORE_CONFLICT, traits_set_body, &t);
    if (rc == STORE_OK && new_generation)
        *new_generation = t.new_gen;
    return rc;
}

enum store_rc store_provider_traits_set(struct store *st, const char *uuid, long long generation,
                                        const char *const *names, size_t n, long long *ids,
                                        long long *new_generation, store_trait_row_fn *on_row,
                                        void *arg)
{
    return traits_set(st, uuid, &generation, names, n, ids, new_generation, on_row, arg);
}

enum store_rc store_provider_traits_clear(struct store *st, const char *uuid)
{
    return traits_set(st, uuid, NULL, NULL, 0, NULL, NULL, NULL, NULL);
}
