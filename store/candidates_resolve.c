/* Name resolution for the candidates engine, in Placement's order: trait,
 * resource class and aggregate names to ids (the first unknown name is the
 * one reported), the early "this request matches nothing" checks, and ids
 * back to names for summaries and explanations (SQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"
#include "store/internal.h"

static const char SQL_RC_NAME[] = "SELECT name FROM resource_classes WHERE id = ?1";
static const char SQL_TRAIT_NAME[] = "SELECT name FROM traits WHERE id = ?1";
static const char SQL_HAS_TREES[] = "SELECT 1 FROM providers WHERE parent_id IS NOT NULL LIMIT 1";
static const char SQL_ROOTS_WITH_TRAIT[] =
    "SELECT p.id FROM provider_traits t JOIN providers p ON p.id = t.provider_id"
    " WHERE t.trait_id = ?1 AND p.parent_id IS NULL";
static const char SQL_ALL_ROOTS[] = "SELECT id FROM providers WHERE parent_id IS NULL";
static const char SQL_PROVIDER_TRAITS[] =
    "SELECT trait_id FROM provider_traits WHERE provider_id = ?1 ORDER BY trait_id";
static const char SQL_AGG_MEMBERS[] = "SELECT provider_id FROM provider_aggregates"
                                      " WHERE aggregate_id IN (SELECT value FROM json_each(?1))";
static const char SQL_AGG_HAS[] = "SELECT 1 FROM provider_aggregates WHERE provider_id = ?1"
                                  " AND aggregate_id IN (SELECT value FROM json_each(?2))";


/* An id for an unknown name that no provider has (lenient explanations). */
static long long unknown_name(struct engine *e, struct idmap *names, const char *name)
{
    long long id = --e->unknown_id;
    idmap_put(names, (uint64_t)id, (uintptr_t)arena_strdup(&e->sc->req_arena, name));
    return id;
}

/* Adds id to the sorted set ids[0..*n) unless it is there. */
static void sorted_add(long long *ids, size_t *n, long long id)
{
    size_t i = *n;
    while (i > 0 && ids[i - 1] > id)
        i--;
    if (i > 0 && ids[i - 1] == id)
        return;
    memmove(&ids[i + 1], &ids[i], (*n - i) * sizeof(*ids));
    ids[i] = id;
    (*n)++;
}

/* Resolves trait names into a sorted id set; STORE_NOT_FOUND names the
 * first unknown one in fail. */
static enum store_rc resolve_traits(struct engine *e, const struct cand_names *names,
                                    struct id_set *out, struct cand_failure *fail)
{
    long long *ids = arena_alloc(&e->sc->req_arena, (names->n ? names->n : 1) * sizeof(*ids));
    *out = (struct id_set){ids, 0};
    for (size_t i = 0; i < names->n; i++) {
        long long id = 0;
        enum store_rc rc = store_trait_id(e->st, names->names[i], &id);
        if (rc == STORE_NOT_FOUND && e->lenient) {
            id = unknown_name(e, &e->trait_names, names->names[i]);
            rc = STORE_OK;
        }
        if (rc == STORE_NOT_FOUND) {
            fail->kind = CAND_BAD_TRAIT;
            (void)snprintf(fail->name, sizeof(fail->name), "%s", names->names[i]);
        }
        if (rc != STORE_OK)
            return rc;
        sorted_add(ids, &out->n, id);
    }
    return STORE_OK;
}

/* Resolves aggregate uuids, dropping unknown ones (they match nothing). */
static enum store_rc resolve_aggs(struct engine *e, const struct cand_names *names,
                                  struct id_set *out)
{
    long long *ids = arena_alloc(&e->sc->req_arena, (names->n ? names->n : 1) * sizeof(*ids));
    *out = (struct id_set){ids, 0};
    for (size_t i = 0; i < names->n; i++) {
        long long id = 0;
        enum store_rc rc = store_aggregate_id(e->st, names->names[i], &id);
        if (rc == STORE_NOT_FOUND)
            continue;
        if (rc != STORE_OK)
            return rc;
        sorted_add(ids, &out->n, id);
    }
    return STORE_OK;
}

/* The ids as a JSON array for json_each(), in the request arena. */
static const char *json_ids(struct engine *e, const struct id_set *s)
{
    return json_ids_write(arena_alloc(&e->sc->req_arena, JSON_IDS_SIZE(s->n)), s->ids, s->n);
}

/* Is some provider in every one of the aggregate sets
 * (provider_ids_matching_aggregates non-empty)? */
static enum store_rc any_provider_in_all(struct engine *e, const struct id_set *sets, size_t n,
                                         bool *found)
{
    *found = false;
    sqlite3_stmt *drive = stmt_get(e->st, SQL_AGG_MEMBERS);
    sqlite3_stmt *check = stmt_get(e->st, SQL_AGG_HAS);
    if (!drive || !check)
        return STORE_ERROR;
    stmt_bind_text(drive, 1, json_ids(e, &sets[0]));
    const char **others = arena_alloc(&e->sc->req_arena, (n ? n : 1) * sizeof(*others));
    for (size_t i = 1; i < n; i++)
        others[i] = json_ids(e, &sets[i]);
    int rc;
    while (!*found && (rc = sqlite3_step(drive)) == SQLITE_ROW) {
        long long pid = sqlite3_column_int64(drive, 0);
        bool ok = true;
        for (size_t i = 1; i < n && ok; i++) {
            sqlite3_bind_int64(check, 1, pid);
            stmt_bind_text(check, 2, others[i]);
            ok = sqlite3_step(check) == SQLITE_ROW;
            stmt_done(check);
        }
        *found = ok;
    }
    if (!*found && rc != SQLITE_DONE) {
        stmt_done(drive);
        return store_rc_from_sqlite(e->st, rc, "candidates aggregates");
    }
    stmt_done(drive);
    return STORE_OK;
}

/* Does some root pass root_required (_get_roots_with_traits non-empty)? */
static enum store_rc any_root_passes(struct engine *e, bool *found)
{
    *found = false;
    sqlite3_stmt *drive = stmt_get(e->st, e->root_req.n ? SQL_ROOTS_WITH_TRAIT : SQL_ALL_ROOTS);
    sqlite3_stmt *traits = stmt_get(e->st, SQL_PROVIDER_TRAITS);
    if (!drive || !traits)
        return STORE_ERROR;
    if (e->root_req.n)
        sqlite3_bind_int64(drive, 1, e->root_req.ids[0]);
    long long have[256];
    int rc;
    while (!*found && (rc = sqlite3_step(drive)) == SQLITE_ROW) {
        struct cprov root = {.id = sqlite3_column_int64(drive, 0)};
        size_t n = 0;
        sqlite3_bind_int64(traits, 1, root.id);
        while (n < 256 && sqlite3_step(traits) == SQLITE_ROW)
            have[n++] = sqlite3_column_int64(traits, 0);
        stmt_done(traits);
        root.traits = have;
        root.n_traits = n;
        *found = root_passes(e, &root);
    }
    if (!*found && rc != SQLITE_DONE) {
        stmt_done(drive);
        return store_rc_from_sqlite(e->st, rc, "candidates roots");
    }
    stmt_done(drive);
    return STORE_OK;
}

/* One group, in the order of research_context.py RequestGroupSearchContext:
 * classes, member_of, traits, in_tree. *empty is set when the group can
 * match nothing, which ends the whole request with an empty answer. */
static enum store_rc resolve_group(struct engine *e, const struct cand_group *g, struct rgroup *rg,
                                   bool *empty, struct cand_failure *fail)
{
    struct arena *arena = &e->sc->req_arena;
    enum store_rc rc;
    rg->g = g;
    rg->suffixed = g->suffix[0] != '\0';
    rg->n_res = g->n_res;
    size_t n = g->n_res ? g->n_res : 1;
    rg->rc = arena_alloc(arena, n * sizeof(*rg->rc));
    rg->amount = arena_alloc(arena, n * sizeof(*rg->amount));
    rg->rc_name = arena_alloc(arena, n * sizeof(*rg->rc_name));
    for (size_t i = 0; i < g->n_res; i++) {
        rc = store_resource_class_id(e->st, g->rc_names[i], &rg->rc[i]);
        if (rc == STORE_NOT_FOUND && e->lenient) {
            rg->rc[i] = unknown_name(e, &e->rc_names, g->rc_names[i]);
            rc = STORE_OK;
        }
        if (rc == STORE_NOT_FOUND) {
            fail->kind = CAND_BAD_RESOURCE_CLASS;
            (void)snprintf(fail->name, sizeof(fail->name), "%s", g->rc_names[i]);
        }
        if (rc != STORE_OK)
            return rc;
        rg->amount[i] = g->amounts[i];
        rg->rc_name[i] = g->rc_names[i];
    }
    if (!rg->suffixed) {
        /* Insertion sort by class id: Placement walks the classes that way. */
        for (size_t i = 1; i < rg->n_res; i++)
            for (size_t j = i; j > 0 && rg->rc[j - 1] > rg->rc[j]; j--) {
                long long t = rg->rc[j];
                rg->rc[j] = rg->rc[j - 1];
                rg->rc[j - 1] = t;
                t = rg->amount[j];
                rg->amount[j] = rg->amount[j - 1];
                rg->amount[j - 1] = t;
                const char *s = rg->rc_name[j];
                rg->rc_name[j] = rg->rc_name[j - 1];
                rg->rc_name[j - 1] = s;
            }
    }
    rg->n_mof = g->n_member_of;
    rg->mof = arena_alloc(arena, (g->n_member_of ? g->n_member_of : 1) * sizeof(*rg->mof));
    for (size_t i = 0; i < g->n_member_of; i++) {
        if ((rc = resolve_aggs(e, &g->member_of[i], &rg->mof[i])) != STORE_OK)
            return rc;
        if (!rg->mof[i].n && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if (rg->n_mof) {
        bool found;
        if ((rc = any_provider_in_all(e, rg->mof, rg->n_mof, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if ((rc = resolve_aggs(e, &g->forbidden_aggs, &rg->forb_aggs)) != STORE_OK)
        return rc;
    rg->n_req = g->n_required;
    rg->req = arena_alloc(arena, (g->n_required ? g->n_required : 1) * sizeof(*rg->req));
    for (size_t i = 0; i < g->n_required; i++)
        if ((rc = resolve_traits(e, &g->required[i], &rg->req[i], fail)) != STORE_OK)
            return rc;
    if ((rc = resolve_traits(e, &g->forbidden, &rg->forb, fail)) != STORE_OK)
        return rc;
    if (g->in_tree) {
        struct provider_ref ref;
        rc = store_provider_ref(e->st, g->in_tree, &ref);
        if (rc == STORE_NOT_FOUND) {
            rg->tree_root = -1; /* no tree: what explain walks then */
            *empty = !e->q->explain;
            return STORE_OK;
        }
        if (rc != STORE_OK)
            return rc;
        rg->tree_root = ref.root_id;
    }
    return STORE_OK;
}

static enum store_rc query_flag(struct store *st, const char *sql, bool *out)
{
    sqlite3_stmt *s = stmt_get(st, sql);
    if (!s)
        return STORE_ERROR;
    int rc = sqlite3_step(s);
    *out = rc == SQLITE_ROW;
    stmt_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? STORE_OK
                                                 : store_rc_from_sqlite(st, rc, "candidates");
}

/* Request-wide parameters, then each group in query order. */
enum store_rc resolve(struct engine *e, bool *empty, struct cand_failure *fail)
{
    const struct cand_query *q = e->q;
    e->resolving = SIZE_MAX;
    enum store_rc rc = store_trait_id(e->st, "MISC_SHARES_VIA_AGGREGATE", &e->shares_trait);
    if (rc == STORE_NOT_FOUND)
        e->shares_trait = 0;
    else if (rc != STORE_OK)
        return rc;
    if ((rc = resolve_traits(e, &q->root_required, &e->root_req, fail)) != STORE_OK ||
        (rc = resolve_traits(e, &q->root_forbidden, &e->root_forb, fail)) != STORE_OK)
        return rc;
    if (e->root_req.n || e->root_forb.n) {
        bool found;
        if ((rc = any_root_passes(e, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    e->n_groups = q->n_groups;
    e->groups = arena_alloc(&e->sc->req_arena, (q->n_groups ? q->n_groups : 1) * sizeof(*e->groups));
    memset(e->groups, 0, (q->n_groups ? q->n_groups : 1) * sizeof(*e->groups));
    for (size_t i = 0; i < q->n_groups && !*empty; i++) {
        e->resolving = i;
        if ((rc = resolve_group(e, &q->groups[i], &e->groups[i], empty, fail)) != STORE_OK)
            return rc;
    }
    if (*empty)
        return STORE_OK;
    e->subtree = arena_alloc(&e->sc->req_arena, (q->n_same_subtree + 1) * sizeof(*e->subtree));
    e->n_subtree = arena_alloc(&e->sc->req_arena, (q->n_same_subtree + 1) * sizeof(*e->n_subtree));
    for (size_t t = 0; t < q->n_same_subtree; t++) {
        const struct cand_names *s = &q->same_subtree[t];
        e->subtree[t] = arena_alloc(&e->sc->req_arena, (s->n + 1) * sizeof(**e->subtree));
        e->n_subtree[t] = 0;
        for (size_t i = 0; i < s->n; i++)
            for (size_t g = 0; g < q->n_groups; g++)
                if (strcmp(q->groups[g].suffix, s->names[i]) == 0)
                    e->subtree[t][e->n_subtree[t]++] = g;
    }
    if ((rc = query_flag(e->st, SQL_HAS_TREES, &e->has_trees)) != STORE_OK)
        return rc;
    e->drop_nested = !q->nested_aware && e->has_trees;
    return STORE_OK;
}


const char *fetch_name_sql(struct engine *e, enum name_kind kind, long long id)
{
    const char *name = "";
    sqlite3_stmt *s = stmt_get(e->st, kind == NAME_RC ? SQL_RC_NAME : SQL_TRAIT_NAME);
    if (!s) {
        e->name_rc = STORE_ERROR;
        return name;
    }
    sqlite3_bind_int64(s, 1, id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        name = arena_strdup(&e->sc->req_arena, (const char *)sqlite3_column_text(s, 0));
    else if (rc != SQLITE_DONE)
        e->name_rc = store_rc_from_sqlite(e->st, rc, "candidates names");
    stmt_done(s);
    return name;
}
