/* Name resolution for the candidates engine, in Placement's order: trait,
 * resource class and aggregate names to ids (the first unknown name is the
 * one reported), the early "this request matches nothing" checks, and ids
 * back to names for summaries and explanations (SQL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"
#include "store/internal.h"



/* An id for an unknown name that no provider has (lenient explanations). */
static long long unknown_name(struct engine *e, struct idmap *names, const char *name)
{
    long long id = --e->names.unknown_id;
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
        if (rc == STORE_NOT_FOUND && e->names.lenient) {
            id = unknown_name(e, &e->names.trait, names->names[i]);
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

/* Is some provider in every one of the aggregate sets
 * (provider_ids_matching_aggregates non-empty)? */
static enum store_rc any_provider_in_all(struct engine *e, const struct id_set *sets, size_t n,
                                         bool *found)
{
    *found = false;
    struct sql *drive = sql_get(e->st, STMT_CAND_AGG_MEMBERS);
    struct sql *check = sql_get(e->st, STMT_CAND_AGG_HAS);
    sql_bind_ids(drive, 1, sets[0].ids, sets[0].n);
    enum store_rc rc;
    while (!*found && (rc = sql_step(drive)) == STORE_OK) {
        long long pid = sql_col_i64(drive, 0);
        bool ok = true;
        for (size_t i = 1; i < n && ok; i++) {
            sql_bind_i64(check, 1, pid);
            sql_bind_ids(check, 2, sets[i].ids, sets[i].n);
            ok = sql_step(check) == STORE_OK;
            sql_done(check);
        }
        *found = ok;
    }
    sql_done(drive);
    return *found ? STORE_OK : rows_end(rc);
}

/* Does some root pass root_required (_get_roots_with_traits non-empty)? */
static enum store_rc any_root_passes(struct engine *e, bool *found)
{
    *found = false;
    struct sql *drive =
        sql_get(e->st, e->query.root_required.n ? STMT_CAND_ROOTS_WITH_TRAIT : STMT_CAND_ALL_ROOTS);
    struct sql *traits = sql_get(e->st, STMT_CAND_PROVIDER_TRAITS);
    if (e->query.root_required.n)
        sql_bind_i64(drive, 1, e->query.root_required.ids[0]);
    long long have[256];
    enum store_rc rc;
    while (!*found && (rc = sql_step(drive)) == STORE_OK) {
        struct cprov root = {.id = sql_col_i64(drive, 0)};
        size_t n = 0;
        sql_bind_i64(traits, 1, root.id);
        while (n < 256 && sql_step(traits) == STORE_OK)
            have[n++] = sql_col_i64(traits, 0);
        sql_done(traits);
        root.traits = have;
        root.n_traits = n;
        *found = root_passes(e, &root);
    }
    sql_done(drive);
    return *found ? STORE_OK : rows_end(rc);
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
    rg->rc_ids = arena_alloc(arena, n * sizeof(*rg->rc_ids));
    rg->amounts = arena_alloc(arena, n * sizeof(*rg->amounts));
    rg->rc_names = arena_alloc(arena, n * sizeof(*rg->rc_names));
    for (size_t i = 0; i < g->n_res; i++) {
        rc = store_resource_class_id(e->st, g->rc_names[i], &rg->rc_ids[i]);
        if (rc == STORE_NOT_FOUND && e->names.lenient) {
            rg->rc_ids[i] = unknown_name(e, &e->names.rc, g->rc_names[i]);
            rc = STORE_OK;
        }
        if (rc == STORE_NOT_FOUND) {
            fail->kind = CAND_BAD_RESOURCE_CLASS;
            (void)snprintf(fail->name, sizeof(fail->name), "%s", g->rc_names[i]);
        }
        if (rc != STORE_OK)
            return rc;
        rg->amounts[i] = g->amounts[i];
        rg->rc_names[i] = g->rc_names[i];
    }
    if (!rg->suffixed) {
        /* Insertion sort by class id: Placement walks the classes that way. */
        for (size_t i = 1; i < rg->n_res; i++)
            for (size_t j = i; j > 0 && rg->rc_ids[j - 1] > rg->rc_ids[j]; j--) {
                long long t = rg->rc_ids[j];
                rg->rc_ids[j] = rg->rc_ids[j - 1];
                rg->rc_ids[j - 1] = t;
                t = rg->amounts[j];
                rg->amounts[j] = rg->amounts[j - 1];
                rg->amounts[j - 1] = t;
                const char *s = rg->rc_names[j];
                rg->rc_names[j] = rg->rc_names[j - 1];
                rg->rc_names[j - 1] = s;
            }
    }
    rg->n_member_of = g->n_member_of;
    rg->member_of =
        arena_alloc(arena, (g->n_member_of ? g->n_member_of : 1) * sizeof(*rg->member_of));
    for (size_t i = 0; i < g->n_member_of; i++) {
        if ((rc = resolve_aggs(e, &g->member_of[i], &rg->member_of[i])) != STORE_OK)
            return rc;
        if (!rg->member_of[i].n && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if (rg->n_member_of) {
        bool found;
        if ((rc = any_provider_in_all(e, rg->member_of, rg->n_member_of, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    if ((rc = resolve_aggs(e, &g->forbidden_aggs, &rg->forbidden_aggs)) != STORE_OK)
        return rc;
    rg->n_required = g->n_required;
    rg->required = arena_alloc(arena, (g->n_required ? g->n_required : 1) * sizeof(*rg->required));
    for (size_t i = 0; i < g->n_required; i++)
        if ((rc = resolve_traits(e, &g->required[i], &rg->required[i], fail)) != STORE_OK)
            return rc;
    if ((rc = resolve_traits(e, &g->forbidden, &rg->forbidden, fail)) != STORE_OK)
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

static enum store_rc query_flag(struct store *st, enum stmt_id id, bool *out)
{
    struct sql *q = sql_get(st, id);
    enum store_rc rc = sql_step(q);
    *out = rc == STORE_OK;
    sql_done(q);
    return rows_end(rc);
}

/* Request-wide parameters, then each group in query order. */
enum store_rc resolve(struct engine *e, bool *empty, struct cand_failure *fail)
{
    const struct cand_query *q = e->q;
    e->names.resolving = SIZE_MAX;
    enum store_rc rc = store_trait_id(e->st, "MISC_SHARES_VIA_AGGREGATE", &e->query.shares_trait);
    if (rc == STORE_NOT_FOUND)
        e->query.shares_trait = 0;
    else if (rc != STORE_OK)
        return rc;
    if ((rc = resolve_traits(e, &q->root_required, &e->query.root_required, fail)) != STORE_OK ||
        (rc = resolve_traits(e, &q->root_forbidden, &e->query.root_forbidden, fail)) != STORE_OK)
        return rc;
    if (e->query.root_required.n || e->query.root_forbidden.n) {
        bool found;
        if ((rc = any_root_passes(e, &found)) != STORE_OK)
            return rc;
        if (!found && !e->q->explain) {
            *empty = true;
            return STORE_OK;
        }
    }
    e->query.n_groups = q->n_groups;
    e->query.groups =
        arena_alloc(&e->sc->req_arena, (q->n_groups ? q->n_groups : 1) * sizeof(*e->query.groups));
    memset(e->query.groups, 0, (q->n_groups ? q->n_groups : 1) * sizeof(*e->query.groups));
    for (size_t i = 0; i < q->n_groups && !*empty; i++) {
        e->names.resolving = i;
        if ((rc = resolve_group(e, &q->groups[i], &e->query.groups[i], empty, fail)) != STORE_OK)
            return rc;
    }
    if (*empty)
        return STORE_OK;
    e->query.subtree_groups =
        arena_alloc(&e->sc->req_arena, (q->n_same_subtree + 1) * sizeof(*e->query.subtree_groups));
    e->query.n_subtree_groups = arena_alloc(
        &e->sc->req_arena, (q->n_same_subtree + 1) * sizeof(*e->query.n_subtree_groups));
    for (size_t t = 0; t < q->n_same_subtree; t++) {
        const struct cand_names *s = &q->same_subtree[t];
        e->query.subtree_groups[t] =
            arena_alloc(&e->sc->req_arena, (s->n + 1) * sizeof(**e->query.subtree_groups));
        e->query.n_subtree_groups[t] = 0;
        for (size_t i = 0; i < s->n; i++)
            for (size_t g = 0; g < q->n_groups; g++)
                if (strcmp(q->groups[g].suffix, s->names[i]) == 0)
                    e->query.subtree_groups[t][e->query.n_subtree_groups[t]++] = g;
    }
    if ((rc = query_flag(e->st, STMT_CAND_HAS_TREES, &e->query.has_trees)) != STORE_OK)
        return rc;
    e->query.drop_nested = !q->nested_aware && e->query.has_trees;
    return STORE_OK;
}


const char *fetch_name_sql(struct engine *e, enum name_kind kind, long long id)
{
    enum memo_kind memo = kind == NAME_RC ? MEMO_RC : MEMO_TRAIT;
    const char *name = name_memo_name(&e->st->names, memo, id);
    if (name)
        return name;
    name = "";
    struct sql *q = sql_get(e->st, kind == NAME_RC ? STMT_CAND_RC_NAME : STMT_CAND_TRAIT_NAME);
    sql_bind_i64(q, 1, id);
    enum store_rc rc = sql_step(q);
    if (rc == STORE_OK) {
        name = arena_strdup(&e->sc->req_arena, sql_col_text(q, 0));
        name_memo_note(&e->st->names, memo, name, id);
    } else if (rc != STORE_NOT_FOUND)
        e->names.fetch_rc = rc;
    sql_done(q);
    return name;
}
