/* The candidates engine's output: each candidate handed to the request
 * callback (or kept for randomization), the marks of what was used, and
 * the provider summaries of the trees used. Pure: names come through
 * engine_name(). See store/candidates_internal.h. */
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"

/* Builds the public view of a candidate (items grouped by provider in order
 * of first appearance) and hands it to the callback. */
void emit_request(struct engine *e, const struct pick *run, size_t n_run,
                  struct cprov *const *const *maps, const size_t *n_maps)
{
    grow((void **)&e->out.items, &e->out.cap_items, n_run + 1, sizeof(*e->out.items));
    size_t n = 0;
    for (size_t i = 0; i < n_run; i++) {
        size_t j = 0;
        while (j < i && run[j].p != run[i].p)
            j++;
        if (j < i)
            continue; /* this provider's items were written with its first one */
        for (size_t k = i; k < n_run; k++)
            if (run[k].p == run[i].p)
                e->out.items[n++] =
                    (struct cand_item){run[k].p->uuid, run[k].rc_name, run[k].amount};
    }
    size_t total = 0;
    for (size_t g = 0; g < e->query.n_groups; g++)
        total += n_maps[g];
    grow((void **)&e->out.uuids, &e->out.cap_uuids, total + 1, sizeof(*e->out.uuids));
    size_t u = 0;
    for (size_t g = 0; g < e->query.n_groups; g++) {
        e->out.mappings[g] =
            (struct cand_mapping){e->query.groups[g].g->suffix, e->out.uuids + u, n_maps[g]};
        for (size_t j = 0; j < n_maps[g]; j++)
            e->out.uuids[u++] = maps[g][j]->uuid;
    }
    for (size_t i = 0; i < n_run; i++) {
        mark_set(&e->out.marks, run[i].p, MARK_PROVIDER);
        mark_set(&e->out.marks, run[i].p->root, MARK_TREE);
    }
    struct cand_request r = {e->out.items, n, e->out.mappings, e->query.n_groups};
    if (e->out.on_request(e->out.arg, &r)) {
        e->out.cb_failed = true;
        e->budget.stop = true;
    }
}

void store_candidate(struct engine *e)
{
    grow((void **)&e->out.stored, &e->out.cap_stored, e->out.n_stored + 1, sizeof(*e->out.stored));
    struct stored *s = &e->out.stored[e->out.n_stored++];
    struct arena *arena = &e->sc->req_arena;
    s->n_items = e->search.n_combo;
    s->items = arena_alloc(arena, (e->search.n_combo ? e->search.n_combo : 1) * sizeof(*s->items));
    memcpy(s->items, e->search.combo, e->search.n_combo * sizeof(*s->items));
    s->maps = arena_alloc(arena, e->query.n_groups * sizeof(*s->maps));
    s->n_maps = arena_alloc(arena, e->query.n_groups * sizeof(*s->n_maps));
    for (size_t g = 0; g < e->query.n_groups; g++) {
        s->n_maps[g] = e->search.chosen[g]->n_maps;
        s->maps[g] = arena_alloc(arena, (s->n_maps[g] ? s->n_maps[g] : 1) * sizeof(**s->maps));
        memcpy(s->maps[g], e->search.chosen[g]->maps, s->n_maps[g] * sizeof(**s->maps));
    }
}

/* Before 1.29 (nested deployment, limit reached) Placement still shows the
 * providers that any dropped-by-limit candidate used in a kept tree. */
void mark_late(struct engine *e)
{
    for (size_t i = 0; i < e->search.n_combo; i++)
        if (mark_get(&e->out.marks, e->search.combo[i].p->root) & MARK_TREE)
            mark_set(&e->out.marks, e->search.combo[i].p, MARK_PROVIDER);
}

/* ---- Summaries ---- */

static void emit_summary(struct engine *e, const struct cprov *p)
{
    grow((void **)&e->out.summary_res, &e->out.cap_summary_res, p->n_inv + 1,
         sizeof(*e->out.summary_res));
    grow((void **)&e->out.summary_traits, &e->out.cap_summary_traits, p->n_traits + 1,
         sizeof(*e->out.summary_traits));
    for (size_t i = 0; i < p->n_inv; i++)
        e->out.summary_res[i] =
            (struct cand_summary_res){engine_name(e, NAME_RC, p->inv[i].rc_id),
                                      p->inv[i].capacity, p->inv[i].used};
    for (size_t i = 0; i < p->n_traits; i++)
        e->out.summary_traits[i] = engine_name(e, NAME_TRAIT, p->traits[i]);
    struct cand_summary s = {
        .uuid = p->uuid,
        .parent_uuid = p->parent ? p->parent->uuid : NULL,
        .root_uuid = p->root->uuid,
        .res = e->out.summary_res,
        .n_res = p->n_inv,
        .traits = e->out.summary_traits,
        .n_traits = p->n_traits,
    };
    if (e->out.on_summary(e->out.arg, &s))
        e->out.cb_failed = true;
}

/* Summaries of the trees of w that candidates used: every provider of such a
 * tree, or (before 1.29 in a nested deployment) only the providers used.
 * skip_sharing leaves out the trees held in the sharing world. */
void emit_world_summaries(struct engine *e, const struct world *w, bool skip_sharing)
{
    if (e->q->explain)
        return;
    for (size_t r = 0; r < w->n_roots && !e->out.cb_failed; r++) {
        const struct cprov *root = w->roots[r];
        if (!(mark_get(&e->out.marks, root) & MARK_TREE))
            continue;
        if (skip_sharing && world_find(&e->sc->sharing_world, root->id))
            continue;
        for (const struct cprov *p = root; p && !e->out.cb_failed; p = p->next)
            if (!e->query.drop_nested || (mark_get(&e->out.marks, p) & MARK_PROVIDER))
                emit_summary(e, p);
    }
}

