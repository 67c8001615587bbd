/* Traits (standard ones seeded at start-up, CUSTOM_ ones made by clients)
 * and the trait sets of resource providers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/internal.h"

static const char CUSTOM_PREFIX[] = "CUSTOM_";

/* SQLITE_OK, or SQLITE_TOOBIG when the name does not fit (never cut). */
static int trait_from_row(sqlite3_stmt *s, struct trait *out)
{
    out->id = sqlite3_column_int64(s, 0);
    out->created_at = sqlite3_column_int64(s, 2);
    out->updated_at = sqlite3_column_int64(s, 3);
    return column_text_copy(s, 1, out->name, sizeof(out->name));
}

/* Steps s (already bound) to the end, handing each row to on_row, then
 * resets it. */
static enum store_rc stream_traits(struct store *st, sqlite3_stmt *s, store_trait_row_fn *on_row,
                                   void *arg, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct trait row;
        if ((rc = trait_from_row(s, &row)) != SQLITE_OK)
            break;
        if (on_row(arg, &row) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, what);
    stmt_done(s);
    return out;
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
    sqlite3_stmt *s = stmt_of(st, STMT_TRAITS_LIST);
    char *names = f && f->names ? json_text_array(f->names, f->n_names) : NULL;
    char *pattern = f && f->prefix ? like_prefix_pattern(f->prefix) : NULL;
    if (names)
        stmt_bind_text(s, 1, names);
    if (pattern)
        stmt_bind_text(s, 2, pattern);
    if (f && f->associated >= 0)
        sqlite3_bind_int(s, 3, f->associated ? 1 : 0);
    enum store_rc rc = stream_traits(st, s, on_row, arg, "list traits");
    free(names);
    free(pattern);
    return rc;
}

enum store_rc store_trait_get(struct store *st, const char *name, struct trait *out)
{
    sqlite3_stmt *s = stmt_of(st, STMT_TRAIT_GET);
    stmt_bind_text(s, 1, name);
    enum store_rc rc = stmt_row(st, s, "get trait");
    if (rc == STORE_OK)
        rc = store_rc_from_sqlite(st, trait_from_row(s, out), "get trait");
    stmt_done(s);
    return rc;
}

enum store_rc store_trait_ensure(struct store *st, const char *name, struct trait *out,
                                 bool *created)
{
    bool is_new = false;
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    rc = store_trait_get(st, name, out);
    if (rc == STORE_NOT_FOUND) {
        sqlite3_stmt *s = stmt_of(st, STMT_TRAIT_INSERT);
        stmt_bind_text(s, 1, name);
        sqlite3_bind_int64(s, 2, store_now());
        if ((rc = stmt_exec(st, s, "create trait")) != STORE_OK ||
            (rc = store_trait_get(st, name, out)) != STORE_OK)
            goto fail;
        is_new = true;
    } else if (rc != STORE_OK) {
        goto fail;
    }
    if ((rc = tx_commit(st)) != STORE_OK)
        return rc;
    *created = is_new;
    return STORE_OK;
fail:
    tx_rollback(st);
    return rc;
}

/* STORE_IN_USE while some provider has trait id. The foreign key (ON
 * DELETE RESTRICT) would refuse the delete anyway, but SQLite reports a
 * RESTRICT action as SQLITE_CONSTRAINT_TRIGGER, so ask first, as Placement
 * does. */
static enum store_rc trait_in_use(struct store *st, long long id)
{
    bool used = false;
    enum store_rc rc = stmt_flag_id(st, STMT_TRAIT_IN_USE, id, &used, "trait in use");
    return rc == STORE_OK && used ? STORE_IN_USE : rc;
}

enum store_rc store_trait_delete(struct store *st, const char *name)
{
    struct trait row = {0};
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        return rc;
    if ((rc = store_trait_get(st, name, &row)) != STORE_OK)
        goto fail;
    /* Placement tells standard traits by name, not by id. */
    if (strncmp(row.name, CUSTOM_PREFIX, strlen(CUSTOM_PREFIX)) != 0) {
        rc = STORE_INVALID;
        goto fail;
    }
    if ((rc = trait_in_use(st, row.id)) != STORE_OK ||
        (rc = stmt_exec_id(st, STMT_TRAIT_DELETE, row.id, "delete trait")) != STORE_OK)
        goto fail;
    return tx_commit(st);
fail:
    tx_rollback(st);
    return rc;
}

enum store_rc store_traits_resolve(struct store *st, const char *const *names, size_t n,
                                   long long *ids, const char **first_missing)
{
    sqlite3_stmt *s = stmt_of(st, STMT_TRAITS_RESOLVE);
    memset(ids, 0, n * sizeof(*ids));
    char *text = json_text_array(names, n);
    stmt_bind_text(s, 1, text);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        long long i = sqlite3_column_int64(s, 0);
        if (i >= 0 && (size_t)i < n)
            ids[i] = sqlite3_column_int64(s, 1);
    }
    enum store_rc out = store_rc_from_sqlite(st, rc, "resolve traits");
    stmt_done(s);
    free(text);
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
    sqlite3_stmt *s = stmt_of(st, STMT_PROVIDER_TRAITS);
    sqlite3_bind_int64(s, 1, provider_id);
    return stream_traits(st, s, on_row, arg, "list provider traits");
}

enum store_rc store_provider_traits_list(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_trait_row_fn *on_row,
                                         void *arg)
{
    enum store_rc rc = provider_read_begin(st, uuid, ref);
    if (rc != STORE_OK)
        return rc;
    rc = provider_traits_list(st, ref->id, on_row, arg);
    tx_rollback(st); /* a read: nothing to keep */
    return rc;
}

/* STORE_OK when provider_id exists with this generation. */
static enum store_rc check_generation(struct store *st, long long provider_id, long long generation)
{
    long long current = 0;
    enum store_rc rc = provider_generation_read(st, provider_id, &current);
    return rc == STORE_OK && current != generation ? STORE_CONFLICT : rc;
}

/* Runs a bound statement for provider_id and ids_json and adds the rows it
 * changed to *changed. */
static enum store_rc exec_counting(struct store *st, enum stmt_id id, long long provider_id,
                                   const char *ids_json, int *changed, const char *what)
{
    sqlite3_stmt *s = stmt_of(st, id);
    sqlite3_bind_int64(s, 1, provider_id);
    stmt_bind_text(s, 2, ids_json);
    enum store_rc rc = stmt_exec(st, s, what);
    if (rc == STORE_OK)
        *changed += sqlite3_changes(st->db);
    return rc;
}

enum store_rc store_provider_traits_replace(struct store *st, long long provider_id,
                                            long long generation, const long long *trait_ids,
                                            size_t n, long long *new_generation)
{
    char *ids_json = json_id_array(trait_ids, n);
    int changed = 0;
    enum store_rc rc;

    if ((rc = tx_begin_write(st)) != STORE_OK)
        goto out;
    if ((rc = check_generation(st, provider_id, generation)) != STORE_OK ||
        (rc = exec_counting(st, STMT_PROVIDER_TRAITS_REMOVE, provider_id, ids_json, &changed,
                            "remove provider traits")) != STORE_OK ||
        (rc = exec_counting(st, STMT_PROVIDER_TRAITS_ADD, provider_id, ids_json, &changed,
                            "add provider traits")) != STORE_OK)
        goto fail;
    /* The generation moves only when the set really changed. */
    if (changed && (rc = provider_generation_bump(st, provider_id, generation, NULL)) != STORE_OK)
        goto fail;
    if ((rc = tx_commit(st)) == STORE_OK && new_generation)
        *new_generation = generation + (changed ? 1 : 0);
    goto out;
fail:
    tx_rollback(st);
    if (rc == STORE_IN_USE)
        rc = STORE_INVALID; /* a foreign-key error here means an unknown trait id */
out:
    free(ids_json);
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

/* traits_set_steps() as one write transaction, all or nothing. */
static enum store_rc traits_set(struct store *st, const char *uuid, const long long *generation,
                                const char *const *names, size_t n, long long *ids,
                                long long *new_generation, store_trait_row_fn *on_row, void *arg)
{
    long long gen = 0;
    enum store_rc rc = tx_begin_write(st);
    if (rc != STORE_OK)
        return rc;
    rc = traits_set_steps(st, uuid, generation, names, n, ids, &gen, on_row, arg);
    if (rc != STORE_OK) {
        tx_rollback(st);
        return rc;
    }
    if ((rc = tx_commit(st)) == STORE_OK && new_generation)
        *new_generation = gen;
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
