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
    if (e->budget.gave_up)
        return false;
    e->budget.next_poll = e->budget.steps + CAND_POLL_STEPS;
    if (e->q->work_limit && e->budget.next_poll > e->q->work_limit)
        e->budget.next_poll = e->q->work_limit + 1;
    if (e->q->work_limit && e->budget.steps > e->q->work_limit)
        e->budget.gave_up = CAND_WORK_LIMIT;
    else if (e->q->cancelled && e->q->cancelled(e->q->cancel_arg))
        e->budget.gave_up = CAND_CANCELLED;
    if (e->budget.gave_up) {
        e->budget.stop = true;
        e->budget.next_poll = 0; /* every later step takes the slow path and fails */
    }
    return !e->budget.gave_up;
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
    for (size_t i = 0; i < rg->n_required; i++) {
        bool ok = false;
        for (size_t k = 0; k < rg->n_res && !ok; k++)
            ok = intersects(m->cur[k].p->traits, m->cur[k].p->n_traits, rg->required[i].ids,
                            rg->required[i].n);
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
    sols_push(&m->e->search.choices[rg - m->e->query.groups], s);
}

static void multi_walk(struct multi *m, size_t k)
{
    if (!spend(m->e, 1))
        return;
    if (k == m->rg->n_res) {
        multi_leaf(m);
        return;
    }
    for (size_t i = 0; i < m->n_lists[k] && !m->e->budget.stop; i++) {
        m->cur[k] = m->lists[k][i];
        multi_walk(m, k + 1);
    }
}

/* May p give amount of class k of the unsuffixed group under root? */
static bool multi_admits(const struct rgroup *rg, const struct cprov *p, bool ext,
                         bool root_in_aggs, bool root_in_bad)
{
    if (has_any(p->traits, p->n_traits, &rg->forbidden))
        return false;
    if (rg->n_member_of) {
        bool in = in_all_sets(p, rg->member_of, rg->n_member_of);
        /* The aggregate of a root spans its tree; a sharing provider must be
         * in the aggregates itself (research_context.py). */
        if (!in && (ext || !root_in_aggs))
            return false;
    }
    return !root_in_bad && !has_any(p->aggs, p->n_aggs, &rg->forbidden_aggs);
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
    bool root_in_aggs = rg->n_member_of && in_all_sets(root, rg->member_of, rg->n_member_of);
    bool root_in_bad = has_any(root->aggs, root->n_aggs, &rg->forbidden_aggs);
    size_t n_anchored = rg->tree_root ? 0 : e->trees.n_anchored; /* in_tree: no sharing providers */
    size_t members = 0;
    for (struct cprov *p = root; p; p = p->next)
        members++;
    if (!spend(e, (members + n_anchored) * rg->n_res))
        return;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct pick *list = arena_alloc(arena, (members + n_anchored) * sizeof(*list));
        size_t n = 0;
        for (struct cprov *p = root; p; p = p->next) {
            struct cinv *v = find_inv(p, rg->rc_ids[k]);
            if (fits(v, rg->amounts[k]) && multi_admits(rg, p, false, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amounts[k], rg->rc_names[k]};
        }
        for (size_t i = 0; i < n_anchored; i++) {
            struct cprov *p = e->trees.anchored[i];
            struct cinv *v = find_inv(p, rg->rc_ids[k]);
            if (fits(v, rg->amounts[k]) && multi_admits(rg, p, true, root_in_aggs, root_in_bad))
                list[n++] = (struct pick){p, v, rg->amounts[k], rg->rc_names[k]};
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
    if (!rg->n_res && !rg->n_required && !rg->n_member_of)
        return false; /* upstream finds nothing for an unfiltered resourceless group */
    if (!has_required(p, rg->required, rg->n_required) ||
        has_any(p->traits, p->n_traits, &rg->forbidden) ||
        !in_all_sets(p, rg->member_of, rg->n_member_of) ||
        has_any(p->aggs, p->n_aggs, &rg->forbidden_aggs))
        return false;
    for (size_t k = 0; k < rg->n_res; k++) {
        struct cinv *v = find_inv(p, rg->rc_ids[k]);
        if (!fits(v, rg->amounts[k]))
            return false;
        out[k] = (struct pick){(struct cprov *)p, v, rg->amounts[k], rg->rc_names[k]};
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
    sols_push(&e->search.choices[rg - e->query.groups],
              (struct sol){.items = items, .n_items = rg->n_res, .maps = maps, .n_maps = 1});
}

static void solve_suffixed(struct engine *e, const struct rgroup *rg, struct cprov *root)
{
    for (struct cprov *p = root; p; p = p->next)
        if (spend(e, 1))
            single_add(e, rg, p);
    if (!spend(e, e->trees.n_anchored))
        return;
    for (size_t i = 0; i < e->trees.n_anchored; i++)
        single_add(e, rg, e->trees.anchored[i]);
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
        for (size_t i = 0; i < e->query.n_subtree_groups[t]; i++) {
            const struct sol *s = e->search.chosen[e->query.subtree_groups[t][i]];
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
    for (size_t i = 0; i < e->search.n_combo; i++)
        for (size_t j = 0; j < i; j++)
            if (e->search.combo[i].p != e->search.combo[j].p &&
                e->search.combo[i].p->root == e->search.combo[j].p->root)
                return false;
    return true;
}

static bool all_sharing(const struct engine *e)
{
    for (size_t g = 0; g < e->query.n_groups; g++)
        for (size_t j = 0; j < e->search.chosen[g]->n_maps; j++)
            if (!e->search.chosen[g]->maps[j]->sharing)
                return false;
    return true;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->p->id != y->p->id)
        return (x->p->id > y->p->id) - (x->p->id < y->p->id);
    return (x->inv->rc_id > y->inv->rc_id) - (x->inv->rc_id < y->inv->rc_id);
}

/* A candidate made of sharing providers only may come up under several
 * anchors; Placement's set keeps one. Returns true the first time. */
static bool dedup_first(struct engine *e)
{
    size_t len = 3 * e->search.n_combo + e->query.n_groups;
    for (size_t g = 0; g < e->query.n_groups; g++)
        len += e->search.chosen[g]->n_maps;
    long long *key = arena_alloc(&e->sc->req_arena, len * sizeof(*key));
    struct pick *sorted = arena_alloc(&e->sc->anchor_arena, e->search.n_combo * sizeof(*sorted));
    memcpy(sorted, e->search.combo, e->search.n_combo * sizeof(*sorted));
    qsort(sorted, e->search.n_combo, sizeof(*sorted), cmp_pick);
    size_t n = 0;
    for (size_t i = 0; i < e->search.n_combo; i++) {
        key[n++] = sorted[i].p->id;
        key[n++] = sorted[i].inv->rc_id;
        key[n++] = sorted[i].amount;
    }
    for (size_t g = 0; g < e->query.n_groups; g++) {
        size_t start = n;
        for (size_t j = 0; j < e->search.chosen[g]->n_maps; j++)
            key[n++] = e->search.chosen[g]->maps[j]->id;
        qsort(key + start, n - start, sizeof(*key), cmp_ll);
        key[n++] = -1;
    }
    uint64_t h = fnv1a64(FNV64_OFFSET_BASIS, key, n * sizeof(*key));
    uintptr_t *head = idmap_slot(&e->search.dedup, h);
    for (size_t i = *head; i; i = e->search.dkeys[i - 1].next)
        if (e->search.dkeys[i - 1].len == n &&
            memcmp(e->search.dkeys[i - 1].key, key, n * sizeof(*key)) == 0)
            return false;
    grow((void **)&e->search.dkeys, &e->search.cap_dkeys, e->search.n_dkeys + 1,
         sizeof(*e->search.dkeys));
    e->search.dkeys[e->search.n_dkeys++] = (struct dkey){key, n, *head};
    *head = e->search.n_dkeys;
    return true;
}

static void combination_done(struct engine *e)
{
    e->why.leaves++;
    if (!satisfies_same_subtree(e)) {
        e->why.subtree_rejects++;
        return;
    }
    if (e->query.drop_nested && !uses_one_provider_per_tree(e))
        return;
    e->search.found++;
    if (e->out.mark_only) {
        mark_late(e);
        return;
    }
    if (all_sharing(e) && !dedup_first(e))
        return;
    if (e->q->explain) {
        e->q->explain->candidates++;
        return;
    }
    if (e->query.randomize) {
        store_candidate(e);
        return;
    }
    for (size_t g = 0; g < e->query.n_groups; g++) {
        e->out.chosen_maps[g] = e->search.chosen[g]->maps;
        e->out.n_chosen_maps[g] = e->search.chosen[g]->n_maps;
    }
    emit_request(e, e->search.combo, e->search.n_combo,
                 (struct cprov *const *const *)e->out.chosen_maps, e->out.n_chosen_maps);
    if (e->q->limit && ++e->out.count >= e->q->limit) {
        if (e->query.drop_nested)
            e->out.mark_only = true;
        else
            e->budget.stop = true;
    }
}

/* Adds the amounts of s to the running consolidation; false (and nothing
 * added) when a summed amount exceeds capacity or max_unit
 * (_consolidate_allocation_requests + exceeds_capacity). */
static bool run_add(struct engine *e, const struct sol *s)
{
    size_t mark = e->search.n_combo;
    grow((void **)&e->search.combo, &e->search.cap_combo, e->search.n_combo + s->n_items + 1,
         sizeof(*e->search.combo));
    for (size_t i = 0; i < s->n_items; i++) {
        const struct pick *it = &s->items[i];
        size_t j = 0;
        while (j < e->search.n_combo && e->search.combo[j].inv != it->inv)
            j++;
        if (j == e->search.n_combo) { /* a new amount: fits() has checked it alone */
            e->search.combo[e->search.n_combo++] = *it;
            continue;
        }
        long long sum;
        bool over = __builtin_add_overflow(e->search.combo[j].amount, it->amount, &sum);
        if (over || sum > it->inv->max_unit || sum > sat_sub(it->inv->capacity, it->inv->used)) {
            for (size_t k = 0; k < i; k++) {
                size_t x = 0;
                while (x < mark && e->search.combo[x].inv != s->items[k].inv)
                    x++;
                if (x < mark)
                    e->search.combo[x].amount -= s->items[k].amount;
            }
            e->search.n_combo = mark;
            return false;
        }
        e->search.combo[j].amount = sum;
    }
    return true;
}

static void run_remove(struct engine *e, const struct sol *s, size_t mark)
{
    for (size_t i = 0; i < s->n_items; i++)
        for (size_t x = 0; x < mark; x++)
            if (e->search.combo[x].inv == s->items[i].inv)
                e->search.combo[x].amount -= s->items[i].amount;
    e->search.n_combo = mark;
}

/* Is p out of the current partial combination (no amount, no mapping)? */
static bool untouched(const struct engine *e, size_t g, const struct cprov *p)
{
    for (size_t i = 0; i < e->search.n_combo; i++)
        if (e->search.combo[i].p == p)
            return false;
    for (size_t h = 0; h < g; h++)
        for (size_t j = 0; j < e->search.chosen[h]->n_maps; j++)
            if (e->search.chosen[h]->maps[j] == p)
                return false;
    return true;
}

/* The twin class of a suffixed group's choice whose provider is still
 * untouched, or NULL. */
static const struct cprov *twin_of(const struct engine *e, size_t g, const struct sol *s)
{
    const struct cprov *p = s->maps[0];
    return p->twin && e->query.groups[g].suffixed && untouched(e, g, p) ? p->twin : NULL;
}

static bool twin_failed(const struct engine *e, size_t g, const struct cprov *twin)
{
    for (size_t i = 0; i < e->search.n_failed_twins[g]; i++)
        if (e->search.failed_twins[g][i] == twin)
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
    if (!spend(e, 1 + e->search.n_combo + (g == e->query.n_groups && e->q->n_same_subtree ? g : 0)))
        return;
    if (g == e->query.n_groups) {
        combination_done(e);
        return;
    }
    const struct sol_list *l = &e->search.choices[g];
    bool isolate = e->q->isolate && e->query.groups[g].suffixed;
    e->search.n_failed_twins[g] = 0;
    for (size_t i = 0; i < l->n && !e->budget.stop; i++) {
        const struct sol *s = &l->v[i];
        const struct cprov *twin = s->n_maps == 1 && s->maps[0]->twin ? twin_of(e, g, s) : NULL;
        if (twin && twin_failed(e, g, twin))
            continue;
        if (isolate) {
            bool clash = false;
            for (size_t h = 0; h < g && !clash; h++)
                clash = e->query.groups[h].suffixed && e->search.chosen[h]->maps[0] == s->maps[0];
            if (clash) {
                e->why.isolate_clashes++;
                continue;
            }
        }
        size_t mark = e->search.n_combo, found = e->search.found;
        if (!run_add(e, s))
            continue;
        e->search.chosen[g] = s;
        combine(e, g + 1);
        run_remove(e, s, mark);
        if (twin && e->search.found == found && !e->budget.stop) {
            if (!e->search.failed_twins[g])
                e->search.failed_twins[g] =
                    arena_alloc(&e->sc->anchor_arena, l->n * sizeof(**e->search.failed_twins));
            e->search.failed_twins[g][e->search.n_failed_twins[g]++] = twin;
        }
    }
}

/* anchors_for_sharing_providers */
void find_anchored(struct engine *e, struct cprov *root)
{
    e->trees.n_anchored = 0;
    for (size_t i = 0; i < e->trees.n_sharing; i++) {
        struct cprov *sp = e->trees.sharing[i];
        if (sp->root == root || !sp->n_aggs)
            continue;
        bool shares = false;
        for (struct cprov *p = root; p && !shares; p = p->next)
            shares = intersects(p->aggs, p->n_aggs, sp->aggs, sp->n_aggs);
        if (shares) {
            grow((void **)&e->trees.anchored, &e->trees.cap_anchored, e->trees.n_anchored + 1,
                 sizeof(*e->trees.anchored));
            e->trees.anchored[e->trees.n_anchored++] = sp;
        }
    }
}

/* Can the tree and its sharing providers hold the summed amounts of every
 * class at all? A necessary condition, checked before any enumeration. */
static bool tree_has_room(struct engine *e, struct cprov *root)
{
    for (size_t c = 0; c < e->query.n_demand; c++) {
        long long have = 0;
        for (struct cprov *p = root; p && have < e->query.demand_amounts[c]; p = p->next)
            have = sat_add(have, can_give(p, e->query.demand_rc_ids[c]));
        for (size_t i = 0; i < e->trees.n_anchored && have < e->query.demand_amounts[c]; i++)
            have = sat_add(have, can_give(e->trees.anchored[i], e->query.demand_rc_ids[c]));
        if (have < e->query.demand_amounts[c])
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
    for (size_t g = 0; g < e->query.n_groups; g++)
        if (e->query.groups[g].suffixed) {
            k++;
            n += e->search.choices[g].n;
        }
    if (k < 2)
        return true;
    const struct cprov **v = arena_alloc(&e->sc->anchor_arena, n * sizeof(*v));
    n = 0;
    for (size_t g = 0; g < e->query.n_groups; g++)
        for (size_t i = 0; e->query.groups[g].suffixed && i < e->search.choices[g].n; i++)
            v[n++] = e->search.choices[g].v[i].maps[0];
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
    if ((e->query.root_required.n || e->query.root_forbidden.n) && !root_passes(e, root))
        return;
    find_anchored(e, root);
    if (e->query.room_check && !tree_has_room(e, root))
        return;
    for (size_t g = 0; g < e->query.n_groups; g++) {
        const struct rgroup *rg = &e->query.groups[g];
        e->search.choices[g].n = 0;
        if (rg->suffixed)
            solve_suffixed(e, rg, root);
        else
            solve_unsuffixed(e, rg, root);
        if (!e->search.choices[g].n || e->budget.stop) {
            e->why.anchor_fail = CX_TRAITS;
            e->why.empty_group = g;
            arena_reset(&e->sc->anchor_arena);
            return;
        }
    }
    if (e->q->isolate && !enough_to_isolate(e)) {
        e->why.anchor_fail = CX_ISOLATE;
        arena_reset(&e->sc->anchor_arena);
        return;
    }
    memset(e->search.failed_twins, 0,
           e->query.n_groups * sizeof(*e->search.failed_twins)); /* made when a twin fails */
    e->search.n_combo = 0;
    combine(e, 0);
    if (e->why.subtree_rejects)
        e->why.anchor_fail = CX_SAME_SUBTREE;
    else if (!e->why.leaves && e->why.isolate_clashes)
        e->why.anchor_fail = CX_ISOLATE;
    arena_reset(&e->sc->anchor_arena);
}

static void solve_anchor(struct engine *e, struct cprov *root)
{
    size_t found = e->search.found;
    e->why.anchor_fail = CX_COMBINED;
    e->why.leaves = e->why.subtree_rejects = e->why.isolate_clashes = 0;
    solve_anchor_core(e, root);
    if (e->q->explain && !e->budget.gave_up)
        explain_anchor(e, root, e->search.found > found);
}

/* The summed amount of every class the groups ask for (tree_has_room). */
static void sum_demand(struct engine *e)
{
    size_t total = 0;
    for (size_t g = 0; g < e->query.n_groups; g++)
        total += e->query.groups[g].n_res;
    e->query.demand_rc_ids =
        arena_alloc(&e->sc->req_arena, (total + 1) * sizeof(*e->query.demand_rc_ids));
    e->query.demand_amounts =
        arena_alloc(&e->sc->req_arena, (total + 1) * sizeof(*e->query.demand_amounts));
    for (size_t g = 0; g < e->query.n_groups; g++)
        for (size_t k = 0; k < e->query.groups[g].n_res; k++) {
            const struct rgroup *rg = &e->query.groups[g];
            size_t c = 0;
            while (c < e->query.n_demand && e->query.demand_rc_ids[c] != rg->rc_ids[k])
                c++;
            if (c == e->query.n_demand) {
                e->query.demand_rc_ids[e->query.n_demand++] = rg->rc_ids[k];
                e->query.demand_amounts[c] = 0;
            } else {
                e->query.room_check = true; /* one group alone is checked by its own solve */
            }
            e->query.demand_amounts[c] = sat_add(e->query.demand_amounts[c], rg->amounts[k]);
        }
}

static int cmp_prov_id(const void *a, const void *b)
{
    const struct cprov *x = *(struct cprov *const *)a, *y = *(struct cprov *const *)b;
    return (x->id > y->id) - (x->id < y->id);
}

void engine_take_sharing(struct engine *e)
{
    const struct world *sharing_world = &e->sc->sharing_world;
    e->trees.sharing = arena_alloc(&e->sc->req_arena, (sharing_world->n ? sharing_world->n : 1) *
                                                          sizeof(*e->trees.sharing));
    for (size_t i = 0; i < sharing_world->n; i++)
        if (sharing_world->provs[i].sharing)
            e->trees.sharing[e->trees.n_sharing++] = &sharing_world->provs[i];
    qsort(e->trees.sharing, e->trees.n_sharing, sizeof(*e->trees.sharing), cmp_prov_id);
}

void engine_prepare(struct engine *e)
{
    sum_demand(e);
    e->search.failed_twins =
        arena_alloc(&e->sc->req_arena, e->query.n_groups * sizeof(*e->search.failed_twins));
    e->search.n_failed_twins =
        arena_alloc(&e->sc->req_arena, e->query.n_groups * sizeof(*e->search.n_failed_twins));
    e->search.choices = xcalloc(e->query.n_groups, sizeof(*e->search.choices));
    e->search.chosen = xcalloc(e->query.n_groups, sizeof(*e->search.chosen));
    e->out.chosen_maps = xcalloc(e->query.n_groups, sizeof(*e->out.chosen_maps));
    e->out.n_chosen_maps = xcalloc(e->query.n_groups, sizeof(*e->out.n_chosen_maps));
    e->out.mappings = xcalloc(e->query.n_groups, sizeof(*e->out.mappings));
}

void engine_solve_world(struct engine *e, const struct world *w)
{
    for (size_t r = 0; r < w->n_roots && !e->budget.stop; r++) {
        /* A sharing provider's tree is used through its one shared copy. */
        struct cprov *root = world_find(&e->sc->sharing_world, w->roots[r]->id);
        solve_anchor(e, root ? root : w->roots[r]);
    }
}

void engine_release(struct engine *e)
{
    idmap_free(&e->out.marks);
    if (e->search.choices)
        for (size_t g = 0; g < e->query.n_groups; g++)
            array_free(e->search.choices[g].v, e->search.choices[g].cap,
                       sizeof(*e->search.choices[g].v));
    free(e->search.choices);
    free(e->search.chosen);
    free(e->out.chosen_maps);
    free(e->out.n_chosen_maps);
    array_free(e->search.combo, e->search.cap_combo, sizeof(*e->search.combo));
    array_free(e->trees.anchored, e->trees.cap_anchored, sizeof(*e->trees.anchored));
    idmap_free(&e->search.dedup);
    array_free(e->search.dkeys, e->search.cap_dkeys, sizeof(*e->search.dkeys));
    array_free(e->out.stored, e->out.cap_stored, sizeof(*e->out.stored));
    array_free(e->out.items, e->out.cap_items, sizeof(*e->out.items));
    free(e->out.mappings);
    array_free(e->out.uuids, e->out.cap_uuids, sizeof(*e->out.uuids));
    array_free(e->out.summary_res, e->out.cap_summary_res, sizeof(*e->out.summary_res));
    array_free(e->out.summary_traits, e->out.cap_summary_traits, sizeof(*e->out.summary_traits));
    idmap_free(&e->names.rc);
    idmap_free(&e->names.trait);
}
