/* Solving one anchor (the root of a tree) of the allocation candidates
 * engine: each request group's choices under the anchor, then the product
 * of the groups' choices, pruned, exactly as Placement would solve it
 * (store/candidates.c describes the whole engine). Pure: no database; the
 * trees come in as finished worlds (store/solver_trees.c) and the request
 * as resolved groups. See store/candidates_internal.h.
 *
 * Semantics that are easy to miss, all from placement/objects/:
 *  - unsuffixed group: one provider per resource class, from the anchor tree
 *    or a sharing provider anchored to it; required traits are satisfied by
 *    the union of the traits of the providers used, forbidden traits by none
 *    of them; member_of holds when the provider or the anchor root is in the
 *    aggregates (a sharing provider must itself be in them); forbidden
 *    aggregates exclude a provider when it or the anchor root is in them.
 *  - suffixed group: one provider carries everything itself (traits and
 *    aggregates included); resourceless groups (1.36) need a trait or
 *    aggregate filter and ignore in_tree, as upstream does.
 *  - amounts of one (provider, class) from several groups are summed and
 *    checked again against capacity and max_unit (not min_unit/step_size).
 *  - a candidate made only of sharing providers can be found under several
 *    anchors: it is reported once. */
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"

/* ---- Bounded work ---- */

/* The slow path of spend(): a poll point, or a run given up. */
bool spend_poll(struct engine *e)
{
    if (e->gave_up)
        return false;
    e->next_poll = e->work + CAND_POLL_STEPS;
    if (e->q->work_limit && e->next_poll > e->q->work_limit)
        e->next_poll = e->q->work_limit + 1;
    if (e->q->work_limit && e->work > e->q->work_limit)
        e->gave_up = CAND_WORK_LIMIT;
    else if (e->q->cancelled && e->q->cancelled(e->q->cancel_arg))
        e->gave_up = CAND_CANCELLED;
    if (e->gave_up) {
        e->stop = true;
        e->next_poll = 0; /* every later step takes the slow path and fails */
    }
    return !e->gave_up;
}

static void sols_push(struct sol_list *l, struct sol s)
{
    grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = s;
}

/* ---- Solving one group under one anchor ---- */

/* Unsuffixed group: for each class (by id) the providers that can give it,
 * then every combination whose providers together have the required traits
 * (objects/allocation_candidate.py _alloc_candidates_multiple_providers). */
struct multi {
    struct engine *e;
    const struct rgroup *rg;
    struct pick **lists;
    size_t *n_lists;
    struct pick *cur;
};

static void multi_leaf(struct multi *m)
{
    const struct rgroup *rg = m->rg;
    for (size_t i = 0; i < rg->n_req; i++) {
        bool ok = false;
        for (size_t k = 0; k < rg->n_res && !ok; k++)
            ok = intersects(m->cur[k].p->traits, m->cur[k].p->n_traits, rg->req[i].ids,
                            rg->req[i].n);
        if (!ok)
            return;
    }
    struct arena *arena = &m->e->sc->anchor_arena;
    struct sol s = {.n_items = rg->n_res};
    s.items = arena_alloc(arena, rg->n_res * sizeof(*s.items));
    s.maps = arena_alloc(arena, rg->n_res * sizeof(*s.maps));
    memcpy(s.items, m->cur, rg->n_res * sizeof(*s.items));
    for (size_t k = 0; k < rg->n_res; k++) {
        size_t j = 0;
        while (j < s.n_maps && s.maps[j] != s.items[k].p)
            j++;
        if (j == s.n_maps)
            s.maps[s.n_maps++] = s.items[k].p;
    }
    sols_push(&m->e->sols[rg - m->e->groups], s);
}

static void multi_walk(struct multi *m, size_t k)
{
    if (!spend(m->e, 1))
        return;
    if (k == m->rg->n_res) {
        multi_leaf(m);
        return;
    }
    for (size_t i = 0; i < m->n_lists[k] && !m->e->stop; i++) {
        m->cur[k] = m->lists[k][i];
        multi_walk(m, k + 1);
    }
}

/* May p give amount of class k of the unsuffixed group under root? */
static bool multi_admits(const struct rgroup *rg, const struct cprov *p, bool ext,
                         bool root_in_aggs, bool root_in_bad)
{
    if (has_any(p->traits, p->n_traits, &rg->forb))
        return false;
    if (rg->n_mof) {
        bool in = in_all_sets(p, rg->mof, rg->n_mof);
        /* The aggregate of a root spans its tree; a sharing provider must be
         * in the aggregates itself (research_context.py). */
        if (!in && (ext || !root_in_aggs))
            return false;
    }
    return !root_in_bad && !has_any(p->aggs, p->n_aggs, &rg->forb_aggs);
}

static void solve_unsuffixed(struct engine *e, const struct rgroup *rg, struct cprov *root)
{
    if (rg->tree_root && root->id != rg->tree_root)
        return;
    struct multi m = {.e = e, .rg = rg};
    struct arena *arena = &e->sc->anchor_arena;
    m.lists = arena_alloc(arena, rg->n_res * sizeof(*m.lists));
    m.n_lists = arena_alloc(arena, rg->n_res * sizeof(*m.n_lists));
    m.cur = arena_alloc(arena, rg->n_res * sizeof(*m.cur));
    bool root_in_aggs = rg->n_mof && in_all_sets(root, rg->mof, rg->n_mof);
    bool root_in_bad = has_any(root->aggs, root->n_aggs, &rg->forb_aggs);
    size_t n_ext = rg->tree_root ? 0 : e->n_ext; /* in_tree keeps sharing providers out */
    size_t members = 0;
    for (struct cprov *p = root; p; p = p->next)
        members++;
    if (!spend(e, (members + n_ext) * rg->n_res))
        return;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct pick *list = arena_alloc(arena, (members + n_ext) * sizeof(*list));
        size_t n = 0;
        for (struct cprov *p = root; p; p = p->next) {
            struct cinv *v = find_inv(p, rg->rc[k]);
            if (fits(v, rg->amount[k]) && multi_admits(rg, p, false, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amount[k], rg->rc_name[k]};
        }
        for (size_t i = 0; i < n_ext; i++) {
            struct cprov *p = e->ext[i];
            struct cinv *v = find_inv(p, rg->rc[k]);
            if (fits(v, rg->amount[k]) && multi_admits(rg, p, true, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amount[k], rg->rc_name[k]};
        }
        if (!n)
            return;
        m.lists[k] = list;
        m.n_lists[k] = n;
    }
    multi_walk(&m, 0);
}

/* Can p alone satisfy the suffixed group (get_provider_ids_matching)? */
static bool single_admits(const struct rgroup *rg, const struct cprov *p, struct pick *out)
{
    if (rg->n_res && rg->tree_root && p->root_id != rg->tree_root)
        return false;
    if (!rg->n_res && !rg->n_req && !rg->n_mof)
        return false; /* upstream finds nothing for an unfiltered resourceless group */
    if (!has_required(p, rg->req, rg->n_req) || has_any(p->traits, p->n_traits, &rg->forb) ||
        !in_all_sets(p, rg->mof, rg->n_mof) || has_any(p->aggs, p->n_aggs, &rg->forb_aggs))
        return false;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct cinv *v = find_inv(p, rg->rc[k]);
        if (!fits(v, rg->amount[k]))
            return false;
        out[k] = (struct pick){(struct cprov *)p, v, rg->amount[k], rg->rc_name[k]};
    }
    return true;
}

static void single_add(struct engine *e, const struct rgroup *rg, struct cprov *p)
{
    struct arena *arena = &e->sc->anchor_arena;
    struct pick *items = arena_alloc(arena, (rg->n_res ? rg->n_res : 1) * sizeof(*items));
    if (!single_admits(rg, p, items))
        return;
    struct cprov **maps = arena_alloc(arena, sizeof(*maps));
    maps[0] = p;
    sols_push(&e->sols[rg - e->groups],
              (struct sol){.items = items, .n_items = rg->n_res, .maps = maps, .n_maps = 1});
}

static void solve_suffixed(struct engine *e, const struct rgroup *rg, struct cprov *root)
{
    for (struct cprov *p = root; p; p = p->next)
        if (spend(e, 1))
            single_add(e, rg, p);
    if (!spend(e, e->n_ext))
        return;
    for (size_t i = 0; i < e->n_ext; i++)
        single_add(e, rg, e->ext[i]);
}

/* ---- Combining the groups ---- */

static bool is_ancestor_or_self(const struct cprov *a, const struct cprov *p)
{
    for (; p; p = p->parent)
        if (p == a)
            return true;
    return false;
}

/* same_subtree: among the providers mapped to the listed groups, one is an
 * ancestor (or self) of all the others (_check_same_subtree). */
static bool satisfies_same_subtree(const struct engine *e)
{
    for (size_t t = 0; t < e->q->n_same_subtree; t++) {
        const struct cprov *u[64];
        size_t n = 0;
        for (size_t i = 0; i < e->n_subtree[t]; i++) {
            const struct sol *s = e->chosen[e->subtree[t][i]];
            for (size_t j = 0; j < s->n_maps; j++) {
                size_t k = 0;
                while (k < n && u[k] != s->maps[j])
                    k++;
                if (k == n && n < 64)
                    u[n++] = s->maps[j];
            }
        }
        bool ok = n <= 1;
        for (size_t a = 0; a < n && !ok; a++) {
            ok = true;
            for (size_t b = 0; b < n && ok; b++)
                ok = is_ancestor_or_self(u[a], u[b]);
        }
        if (!ok)
            return false;
    }
    return true;
}

/* Before 1.29 a candidate may not take from two providers of one tree. */
static bool uses_one_provider_per_tree(const struct engine *e)
{
    for (size_t i = 0; i < e->n_run; i++)
        for (size_t j = 0; j < i; j++)
            if (e->run[i].p != e->run[j].p && e->run[i].p->root == e->run[j].p->root)
                return false;
    return true;
}

static bool all_sharing(const struct engine *e)
{
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t j = 0; j < e->chosen[g]->n_maps; j++)
            if (!e->chosen[g]->maps[j]->sharing)
                return false;
    return true;
}

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->p->id != y->p->id)
        return (x->p->id > y->p->id) - (x->p->id < y->p->id);
    return (x->inv->rc > y->inv->rc) - (x->inv->rc < y->inv->rc);
}

/* A candidate made of sharing providers only may come up under several
 * anchors; Placement's set keeps one. Returns true the first time. */
static bool dedup_first(struct engine *e)
{
    size_t len = 3 * e->n_run + e->n_groups;
    for (size_t g = 0; g < e->n_groups; g++)
        len += e->chosen[g]->n_maps;
    long long *key = arena_alloc(&e->sc->req_arena, len * sizeof(*key));
    struct pick *sorted = arena_alloc(&e->sc->anchor_arena, e->n_run * sizeof(*sorted));
    memcpy(sorted, e->run, e->n_run * sizeof(*sorted));
    qsort(sorted, e->n_run, sizeof(*sorted), cmp_pick);
    size_t n = 0;
    for (size_t i = 0; i < e->n_run; i++) {
        key[n++] = sorted[i].p->id;
        key[n++] = sorted[i].inv->rc;
        key[n++] = sorted[i].amount;
    }
    for (size_t g = 0; g < e->n_groups; g++) {
        size_t start = n;
        for (size_t j = 0; j < e->chosen[g]->n_maps; j++)
            key[n++] = e->chosen[g]->maps[j]->id;
        qsort(key + start, n - start, sizeof(*key), cmp_ll);
        key[n++] = -1;
    }
    uint64_t h = fnv1a64(FNV64_OFFSET_BASIS, key, n * sizeof(*key));
    uintptr_t *head = idmap_slot(&e->dedup, h);
    for (size_t i = *head; i; i = e->dkeys[i - 1].next)
        if (e->dkeys[i - 1].len == n && memcmp(e->dkeys[i - 1].key, key, n * sizeof(*key)) == 0)
            return false;
    grow((void **)&e->dkeys, &e->cap_dkeys, e->n_dkeys + 1, sizeof(*e->dkeys));
    e->dkeys[e->n_dkeys++] = (struct dkey){key, n, *head};
    *head = e->n_dkeys;
    return true;
}

static void combination_done(struct engine *e)
{
    e->leaves++;
    if (!satisfies_same_subtree(e)) {
        e->subtree_rejects++;
        return;
    }
    if (e->drop_nested && !uses_one_provider_per_tree(e))
        return;
    e->found++;
    if (e->mark_only) {
        mark_late(e);
        return;
    }
    if (all_sharing(e) && !dedup_first(e))
        return;
    if (e->q->explain) {
        e->q->explain->candidates++;
        return;
    }
    if (e->randomize) {
        store_candidate(e);
        return;
    }
    for (size_t g = 0; g < e->n_groups; g++) {
        e->cmaps[g] = e->chosen[g]->maps;
        e->cn_maps[g] = e->chosen[g]->n_maps;
    }
    emit_request(e, e->run, e->n_run, (struct cprov *const *const *)e->cmaps, e->cn_maps);
    if (e->q->limit && ++e->count >= e->q->limit) {
        if (e->drop_nested)
            e->mark_only = true;
        else
            e->stop = true;
    }
}

/* Adds the amounts of s to the running consolidation; false (and nothing
 * added) when a summed amount exceeds capacity or max_unit
 * (_consolidate_allocation_requests + exceeds_capacity). */
static bool run_add(struct engine *e, const struct sol *s)
{
    size_t mark = e->n_run;
    grow((void **)&e->run, &e->cap_run, e->n_run + s->n_items + 1, sizeof(*e->run));
    for (size_t i = 0; i < s->n_items; i++) {
        const struct pick *it = &s->items[i];
        size_t j = 0;
        while (j < e->n_run && e->run[j].inv != it->inv)
            j++;
        if (j == e->n_run) { /* a new amount: fits() has checked it alone */
            e->run[e->n_run++] = *it;
            continue;
        }
        long long sum;
        bool over = __builtin_add_overflow(e->run[j].amount, it->amount, &sum);
        if (over || sum > it->inv->max_unit || sum > sat_sub(it->inv->capacity, it->inv->used)) {
            for (size_t k = 0; k < i; k++) {
                size_t x = 0;
                while (x < mark && e->run[x].inv != s->items[k].inv)
                    x++;
                if (x < mark)
                    e->run[x].amount -= s->items[k].amount;
            }
            e->n_run = mark;
            return false;
        }
        e->run[j].amount = sum;
    }
    return true;
}

static void run_remove(struct engine *e, const struct sol *s, size_t mark)
{
    for (size_t i = 0; i < s->n_items; i++)
        for (size_t x = 0; x < mark; x++)
            if (e->run[x].inv == s->items[i].inv)
                e->run[x].amount -= s->items[i].amount;
    e->n_run = mark;
}

/* Is p out of the current partial combination (no amount, no mapping)? */
static bool untouched(const struct engine *e, size_t g, const struct cprov *p)
{
    for (size_t i = 0; i < e->n_run; i++)
        if (e->run[i].p == p)
            return false;
    for (size_t h = 0; h < g; h++)
        for (size_t j = 0; j < e->chosen[h]->n_maps; j++)
            if (e->chosen[h]->maps[j] == p)
                return false;
    return true;
}

/* The twin class of a suffixed group's choice whose provider is still
 * untouched, or NULL. */
static const struct cprov *twin_of(const struct engine *e, size_t g, const struct sol *s)
{
    const struct cprov *p = s->maps[0];
    return p->twin && e->groups[g].suffixed && untouched(e, g, p) ? p->twin : NULL;
}

static bool twin_failed(const struct engine *e, size_t g, const struct cprov *twin)
{
    for (size_t i = 0; i < e->n_failed[g]; i++)
        if (e->failed[g][i] == twin)
            return true;
    return false;
}

/* The cartesian product of the groups' choices, pruned as soon as a partial
 * combination breaks isolation or capacity (util.filtered_product). A
 * choice of an untouched provider whose untouched twin was tried at the
 * same point and led to nothing is skipped: by symmetry it leads to nothing
 * either (a twin that led to candidates is tried, since its candidates are
 * distinct answers). */
static void combine(struct engine *e, size_t g)
{
    /* A step costs more the more amounts the run holds (run_add scans them),
     * and a leaf checks same_subtree over every group. */
    if (!spend(e, 1 + e->n_run + (g == e->n_groups && e->q->n_same_subtree ? g : 0)))
        return;
    if (g == e->n_groups) {
        combination_done(e);
        return;
    }
    const struct sol_list *l = &e->sols[g];
    bool isolate = e->q->isolate && e->groups[g].suffixed;
    e->n_failed[g] = 0;
    for (size_t i = 0; i < l->n && !e->stop; i++) {
        const struct sol *s = &l->v[i];
        const struct cprov *twin = s->n_maps == 1 && s->maps[0]->twin ? twin_of(e, g, s) : NULL;
        if (twin && twin_failed(e, g, twin))
            continue;
        if (isolate) {
            bool clash = false;
            for (size_t h = 0; h < g && !clash; h++)
                clash = e->groups[h].suffixed && e->chosen[h]->maps[0] == s->maps[0];
            if (clash) {
                e->isolate_clashes++;
                continue;
            }
        }
        size_t mark = e->n_run, found = e->found;
        if (!run_add(e, s))
            continue;
        e->chosen[g] = s;
        combine(e, g + 1);
        run_remove(e, s, mark);
        if (twin && e->found == found && !e->stop) {
            if (!e->failed[g])
                e->failed[g] = arena_alloc(&e->sc->anchor_arena, l->n * sizeof(**e->failed));
            e->failed[g][e->n_failed[g]++] = twin;
        }
    }
}

/* anchors_for_sharing_providers */
void find_ext(struct engine *e, struct cprov *root)
{
    e->n_ext = 0;
    for (size_t i = 0; i < e->n_sps; i++) {
        struct cprov *sp = e->sps[i];
        if (sp->root == root || !sp->n_aggs)
            continue;
        bool shares = false;
        for (struct cprov *p = root; p && !shares; p = p->next)
            shares = intersects(p->aggs, p->n_aggs, sp->aggs, sp->n_aggs);
        if (shares) {
            grow((void **)&e->ext, &e->cap_ext, e->n_ext + 1, sizeof(*e->ext));
            e->ext[e->n_ext++] = sp;
        }
    }
}

/* Can the tree and its sharing providers hold the summed amounts of every
 * class at all? A necessary condition, checked before any enumeration. */
static bool tree_has_room(struct engine *e, struct cprov *root)
{
    for (size_t c = 0; c < e->n_dem; c++) {
        long long have = 0;
        for (struct cprov *p = root; p && have < e->dem_amount[c]; p = p->next)
            have = sat_add(have, can_give(p, e->dem_rc[c]));
        for (size_t i = 0; i < e->n_ext && have < e->dem_amount[c]; i++)
            have = sat_add(have, can_give(e->ext[i], e->dem_rc[c]));
        if (have < e->dem_amount[c])
            return false;
    }
    return true;
}

static int cmp_ptr(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(void *const *)a, y = (uintptr_t)*(void *const *)b;
    return (x > y) - (x < y);
}

/* group_policy=isolate: the suffixed groups need as many distinct
 * providers among their choices as there are of them. */
static bool enough_to_isolate(struct engine *e)
{
    size_t k = 0, n = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        if (e->groups[g].suffixed) {
            k++;
            n += e->sols[g].n;
        }
    if (k < 2)
        return true;
    const struct cprov **v = arena_alloc(&e->sc->anchor_arena, n * sizeof(*v));
    n = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t i = 0; e->groups[g].suffixed && i < e->sols[g].n; i++)
            v[n++] = e->sols[g].v[i].maps[0];
    qsort(v, n, sizeof(*v), cmp_ptr);
    size_t distinct = n ? 1 : 0;
    for (size_t i = 1; i < n; i++)
        distinct += v[i] != v[i - 1];
    return distinct >= k;
}

/* Every candidate anchored at root, in order. */
static void solve_anchor_core(struct engine *e, struct cprov *root)
{
    if (!spend(e, 1))
        return;
    if ((e->root_req.n || e->root_forb.n) && !root_passes(e, root))
        return;
    find_ext(e, root);
    if (e->room_check && !tree_has_room(e, root))
        return;
    for (size_t g = 0; g < e->n_groups; g++) {
        const struct rgroup *rg = &e->groups[g];
        e->sols[g].n = 0;
        if (rg->suffixed)
            solve_suffixed(e, rg, root);
        else
            solve_unsuffixed(e, rg, root);
        if (!e->sols[g].n || e->stop) {
            e->anchor_fail = CX_TRAITS;
            e->empty_group = g;
            arena_reset(&e->sc->anchor_arena);
            return;
        }
    }
    if (e->q->isolate && !enough_to_isolate(e)) {
        e->anchor_fail = CX_ISOLATE;
        arena_reset(&e->sc->anchor_arena);
        return;
    }
    memset(e->failed, 0, e->n_groups * sizeof(*e->failed)); /* made when a twin fails */
    e->n_run = 0;
    combine(e, 0);
    if (e->subtree_rejects)
        e->anchor_fail = CX_SAME_SUBTREE;
    else if (!e->leaves && e->isolate_clashes)
        e->anchor_fail = CX_ISOLATE;
    arena_reset(&e->sc->anchor_arena);
}

static void solve_anchor(struct engine *e, struct cprov *root)
{
    size_t found = e->found;
    e->anchor_fail = CX_COMBINED;
    e->leaves = e->subtree_rejects = e->isolate_clashes = 0;
    solve_anchor_core(e, root);
    if (e->q->explain && !e->gave_up)
        explain_anchor(e, root, e->found > found);
}

/* The summed amount of every class the groups ask for (tree_has_room). */
static void sum_demand(struct engine *e)
{
    size_t total = 0;
    for (size_t g = 0; g < e->n_groups; g++)
        total += e->groups[g].n_res;
    e->dem_rc = arena_alloc(&e->sc->req_arena, (total + 1) * sizeof(*e->dem_rc));
    e->dem_amount = arena_alloc(&e->sc->req_arena, (total + 1) * sizeof(*e->dem_amount));
    for (size_t g = 0; g < e->n_groups; g++)
        for (size_t k = 0; k < e->groups[g].n_res; k++) {
            const struct rgroup *rg = &e->groups[g];
            size_t c = 0;
            while (c < e->n_dem && e->dem_rc[c] != rg->rc[k])
                c++;
            if (c == e->n_dem) {
                e->dem_rc[e->n_dem++] = rg->rc[k];
                e->dem_amount[c] = 0;
            } else {
                e->room_check = true; /* one group alone is checked by its own solve */
            }
            e->dem_amount[c] = sat_add(e->dem_amount[c], rg->amount[k]);
        }
}

static int cmp_prov_id(const void *a, const void *b)
{
    const struct cprov *x = *(struct cprov *const *)a, *y = *(struct cprov *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

void engine_take_sharing(struct engine *e)
{
    const struct world *spw = &e->sc->spw;
    e->sps = arena_alloc(&e->sc->req_arena, (spw->n ? spw->n : 1) * sizeof(*e->sps));
    for (size_t i = 0; i < spw->n; i++)
        if (spw->provs[i].sharing)
            e->sps[e->n_sps++] = &spw->provs[i];
    qsort(e->sps, e->n_sps, sizeof(*e->sps), cmp_prov_id);
}

void engine_prepare(struct engine *e)
{
    sum_demand(e);
    e->failed = arena_alloc(&e->sc->req_arena, e->n_groups * sizeof(*e->failed));
    e->n_failed = arena_alloc(&e->sc->req_arena, e->n_groups * sizeof(*e->n_failed));
    e->sols = xcalloc(e->n_groups, sizeof(*e->sols));
    e->chosen = xcalloc(e->n_groups, sizeof(*e->chosen));
    e->cmaps = xcalloc(e->n_groups, sizeof(*e->cmaps));
    e->cn_maps = xcalloc(e->n_groups, sizeof(*e->cn_maps));
    e->mappings = xcalloc(e->n_groups, sizeof(*e->mappings));
}

void engine_solve_world(struct engine *e, const struct world *w)
{
    for (size_t r = 0; r < w->n_roots && !e->stop; r++) {
        /* A sharing provider's tree is used through its one shared copy. */
        struct cprov *root = world_find(&e->sc->spw, w->roots[r]->id);
        solve_anchor(e, root ? root : w->roots[r]);
    }
}

void engine_release(struct engine *e)
{
    idmap_free(&e->marks);
    if (e->sols)
        for (size_t g = 0; g < e->n_groups; g++)
            array_free(e->sols[g].v, e->sols[g].cap, sizeof(*e->sols[g].v));
    free(e->sols);
    free(e->chosen);
    free(e->cmaps);
    free(e->cn_maps);
    array_free(e->run, e->cap_run, sizeof(*e->run));
    array_free(e->ext, e->cap_ext, sizeof(*e->ext));
    idmap_free(&e->dedup);
    array_free(e->dkeys, e->cap_dkeys, sizeof(*e->dkeys));
    array_free(e->stored, e->cap_stored, sizeof(*e->stored));
    array_free(e->items, e->cap_items, sizeof(*e->items));
    free(e->mappings);
    array_free(e->uuids, e->cap_uuids, sizeof(*e->uuids));
    array_free(e->sres, e->cap_sres, sizeof(*e->sres));
    array_free(e->snames, e->cap_snames, sizeof(*e->snames));
    idmap_free(&e->rc_names);
    idmap_free(&e->trait_names);
}
