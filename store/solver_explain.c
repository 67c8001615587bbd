/* Explain (issue 12) for the candidates engine: why a tree yielded nothing.
 * Each tree that yields no candidate is charged to the first constraint it
 * fails (store/candidates.h, enum cand_constraint), per group and for the
 * whole query, and the providers that fail exactly one check are kept as
 * near misses. Pure: names come through engine_name(). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"

#define LV_OK ((int)CX_COUNT)

/* A reason while diagnosing: names point into the request's arenas and are
 * copied (struct cand_reason) only when a tally or near miss keeps them. */
struct why {
    enum cand_constraint what;
    size_t group;
    const char *name; /* never NULL */
    bool forbidden;
    long long asked, have, extra;
};

static struct cand_reason reason_of(const struct why *w)
{
    struct cand_reason r = {.what = w->what, .group = w->group, .forbidden = w->forbidden,
                            .asked = w->asked, .have = w->have, .extra = w->extra};
    (void)snprintf(r.name, sizeof(r.name), "%s", w->name);
    return r;
}

static bool tally_is(const struct cand_tally *x, const struct why *r, bool same_name)
{
    return x->r.what == r->what && x->r.group == r->group && x->r.forbidden == r->forbidden &&
           x->r.asked == r->asked && (same_name || strcmp(x->r.name, r->name) == 0);
}

static void tally_count(struct cand_tally *x, const struct why *r)
{
    x->trees++;
    if (r->have > x->r.have) {
        x->r.have = r->have;
        x->r.extra = r->extra;
    }
}

static void tally_add_slow(struct cand_tallies *t, const struct why *r)
{
    size_t i;
    for (i = 0; i < t->n && !tally_is(&t->v[i], r, false); i++)
        ;
    if (i < t->n) {
        tally_count(&t->v[i], r);
        t->hint = i;
        t->hint_name = r->name;
        return;
    }
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 8;
        t->v = xrealloc(t->v, t->cap * sizeof(*t->v));
    }
    size_t pos = t->n;
    while (pos > 0 && t->v[pos - 1].r.what > r->what)
        pos--;
    memmove(&t->v[pos + 1], &t->v[pos], (t->n - pos) * sizeof(*t->v));
    t->v[pos] = (struct cand_tally){reason_of(r), 1};
    t->n++;
    t->hint = pos;
    t->hint_name = r->name;
}

/* Charges one tree to reason r: the entry of the last one first. */
static inline void tally_add(struct cand_tallies *t, const struct why *r)
{
    if (t->hint < t->n && t->hint_name == r->name && tally_is(&t->v[t->hint], r, true))
        tally_count(&t->v[t->hint], r);
    else
        tally_add_slow(t, r);
}

void cand_explain_free(struct cand_explain *x)
{
    free(x->why.v);
    for (size_t g = 0; g < x->n_groups; g++)
        free(x->groups[g].why.v);
    free(x->groups);
    free(x->near);
    x->why = (struct cand_tallies){0};
    x->groups = NULL;
    x->near = NULL;
    x->n_groups = x->n_near = 0;
}

/* One provider's checks for one group: the earliest failing constraint and
 * how many checks failed in all. */
struct pcheck {
    int level;
    int n_failed;
    struct why r;
    const struct cinv *v; /* the inventory behind an amount failure */
};

static void note_fail(struct pcheck *c, size_t g, enum cand_constraint what, const char *name,
                      bool forbidden, long long asked, long long have, long long extra,
                      const struct cinv *v)
{
    c->n_failed++;
    if ((int)what >= c->level)
        return;
    c->level = (int)what;
    c->r = (struct why){.what = what, .group = g, .name = name ? name : "",
                        .forbidden = forbidden, .asked = asked, .have = have, .extra = extra};
    c->v = v;
}

/* The names of required any-of set i of rg, "A or B", made once per request. */
static const char *set_names(struct engine *e, const struct rgroup *rg, size_t i)
{
    struct rgroup *w = (struct rgroup *)rg; /* a cache: the group itself does not change */
    if (!w->required_labels) {
        w->required_labels =
            arena_alloc(&e->sc->req_arena, rg->n_required * sizeof(*w->required_labels));
        memset(w->required_labels, 0, rg->n_required * sizeof(*w->required_labels));
    }
    if (w->required_labels[i])
        return w->required_labels[i];
    char out[256];
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < rg->required[i].n && len + 1 < sizeof(out); k++) {
        int n = snprintf(out + len, sizeof(out) - len, "%s%s", k ? " or " : "",
                         engine_name(e, NAME_TRAIT, rg->required[i].ids[k]));
        len = n > 0 && len + (size_t)n < sizeof(out) ? len + (size_t)n : sizeof(out) - 1;
    }
    return w->required_labels[i] = arena_strdup(&e->sc->req_arena, out);
}

/* The amount checks of class k of group g on p. */
static void check_amount(struct pcheck *c, size_t g, const struct rgroup *rg, size_t k,
                         const struct cprov *p)
{
    const struct cinv *v = find_inv(p, rg->rc_ids[k]);
    long long a = rg->amounts[k];
    const char *name = rg->rc_names[k];
    if (!v) {
        note_fail(c, g, CX_NO_INVENTORY, name, false, a, 0, 0, NULL);
        return;
    }
    long long free = sat_sub(v->capacity, v->used);
    if (a > free)
        note_fail(c, g, CX_CAPACITY, name, false, a, free, 0, v);
    if (a > v->max_unit)
        note_fail(c, g, CX_MAX_UNIT, name, false, a, v->max_unit, 0, v);
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0)
        note_fail(c, g, CX_MIN_UNIT_STEP, name, false, a, v->min_unit, v->step_size, v);
}

/* The amount checks of class k of rg on p, as check_amount notes them:
 * the first failure (LV_OK when none) with its numbers, and how many. */
struct afail {
    int level, n_failed;
    long long have, extra;
    const struct cinv *v;
};

static struct afail amount_level(const struct rgroup *rg, size_t k, const struct cprov *p)
{
    const struct cinv *v = find_inv(p, rg->rc_ids[k]);
    long long a = rg->amounts[k];
    struct afail f = {.level = LV_OK, .v = v};
    if (!v)
        return (struct afail){.level = CX_NO_INVENTORY, .n_failed = 1};
    long long free = sat_sub(v->capacity, v->used);
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0)
        f = (struct afail){CX_MIN_UNIT_STEP, f.n_failed + 1, v->min_unit, v->step_size, v};
    if (a > v->max_unit)
        f = (struct afail){CX_MAX_UNIT, f.n_failed + 1, v->max_unit, 0, v};
    if (a > free)
        f = (struct afail){CX_CAPACITY, f.n_failed + 1, free, 0, v};
    return f;
}

/* amount_level's first failure alone (LV_OK when none) and its "have":
 * what comparing providers needs. */
static int amount_first(const struct rgroup *rg, size_t k, const struct cprov *p, long long *have)
{
    const struct cinv *v = find_inv(p, rg->rc_ids[k]);
    long long a = rg->amounts[k];
    *have = 0;
    if (!v)
        return CX_NO_INVENTORY;
    long long free = sat_sub(v->capacity, v->used);
    if (a > free) {
        *have = free;
        return CX_CAPACITY;
    }
    if (a > v->max_unit) {
        *have = v->max_unit;
        return CX_MAX_UNIT;
    }
    if (a < v->min_unit || v->step_size <= 0 || a % v->step_size != 0) {
        *have = v->min_unit;
        return CX_MIN_UNIT_STEP;
    }
    return LV_OK;
}

/* The trait checks of a provider that must carry them itself. */
static void check_traits(struct engine *e, struct pcheck *c, size_t g, const struct rgroup *rg,
                         const struct cprov *p, bool required)
{
    for (size_t i = 0; required && i < rg->n_required; i++)
        if (!intersects(p->traits, p->n_traits, rg->required[i].ids, rg->required[i].n))
            note_fail(c, g, CX_TRAITS, set_names(e, rg, i), false, 0, 0, 0, NULL);
    for (size_t i = 0; i < rg->forbidden.n; i++)
        if (has_id(p->traits, p->n_traits, rg->forbidden.ids[i]))
            note_fail(c, g, CX_TRAITS,
                      engine_name(e, NAME_TRAIT, rg->forbidden.ids[i]), true, 0, 0,
                      0, NULL);
}

/* The tree root's standing in the unsuffixed group's aggregates, worked
 * out once per tree and group. */
struct rootaggs {
    bool in_aggs, in_bad;
};

static struct rootaggs root_aggs(const struct rgroup *rg, const struct cprov *root)
{
    return (struct rootaggs){rg->n_member_of && in_all_sets(root, rg->member_of, rg->n_member_of),
                             has_any(root->aggs, root->n_aggs, &rg->forbidden_aggs)};
}

/* The checks of group g on p that no class enters: in_tree, aggregates and
 * traits (for the unsuffixed group, aggregates and required traits are
 * judged with the tree's root and over the providers used). */
static void check_base_into(struct engine *e, size_t g, const struct cprov *root,
                            const struct cprov *p, bool ext, struct rootaggs ra, struct pcheck *out)
{
    const struct rgroup *rg = &e->query.groups[g];
    out->level = LV_OK;
    out->n_failed = 0;
    out->r.have = 0;
    out->v = NULL;
    if (!rg->suffixed) {
        if (rg->tree_root && (root->id != rg->tree_root || ext))
            note_fail(out, g, CX_IN_TREE, "", false, 0, 0, 0, NULL);
        /* The root itself is in them exactly when ra.in_aggs says so. */
        if (rg->n_member_of && (ext || !ra.in_aggs) &&
            (p == root || !in_all_sets(p, rg->member_of, rg->n_member_of)))
            note_fail(out, g, CX_AGGREGATES, "", false, 0, 0, 0, NULL);
        if (ra.in_bad || has_any(p->aggs, p->n_aggs, &rg->forbidden_aggs))
            note_fail(out, g, CX_AGGREGATES, "", true, 0, 0, 0, NULL);
        check_traits(e, out, g, rg, p, false);
        return;
    }
    if (rg->n_res && rg->tree_root && p->root_id != rg->tree_root)
        note_fail(out, g, CX_IN_TREE, "", false, 0, 0, 0, NULL);
    if (!in_all_sets(p, rg->member_of, rg->n_member_of))
        note_fail(out, g, CX_AGGREGATES, "", false, 0, 0, 0, NULL);
    if (has_any(p->aggs, p->n_aggs, &rg->forbidden_aggs))
        note_fail(out, g, CX_AGGREGATES, "", true, 0, 0, 0, NULL);
    if (!rg->n_res && !rg->n_required && !rg->n_member_of)
        note_fail(out, g, CX_TRAITS, "", false, 0, 0, 0, NULL);
    check_traits(e, out, g, rg, p, true);
}

static struct pcheck check_base(struct engine *e, size_t g, const struct cprov *root,
                                const struct cprov *p, bool ext, struct rootaggs ra)
{
    struct pcheck c = {.level = LV_OK};
    check_base_into(e, g, root, p, ext, ra, &c);
    return c;
}

/* base with the amount checks of suffixed group g on p (k == SIZE_MAX), or
 * of class k of the unsuffixed group, added. */
static struct pcheck check_amounts(const struct engine *e, size_t g, const struct cprov *p,
                                   size_t k, struct pcheck base)
{
    const struct rgroup *rg = &e->query.groups[g];
    if (!rg->suffixed) {
        check_amount(&base, g, rg, k, p);
        return base;
    }
    for (size_t i = 0; i < rg->n_res; i++)
        check_amount(&base, g, rg, i, p);
    return base;
}

/* Every check of suffixed group g on p (k == SIZE_MAX), or those of class k
 * of the unsuffixed group. */
static struct pcheck check_provider(struct engine *e, size_t g, struct cprov *root,
                                    const struct cprov *p, bool ext, size_t k, struct rootaggs ra)
{
    return check_amounts(e, g, p, k, check_base(e, g, root, p, ext, ra));
}

/* Keeps in *best the check that got furthest (the largest "have" among
 * equals: the provider nearest to passing). */
static void keep_furthest(struct pcheck *best, const struct pcheck *c)
{
    if (c->level > best->level || (c->level == best->level && c->r.have > best->r.have))
        *best = *c;
}

/* Calls fn for every provider group g could use under root. */
#define FOR_EACH_PROVIDER(e, root, p, ext, body)                                                   \
    do {                                                                                           \
        for (struct cprov *p = (root); p; p = p->next) {                                           \
            bool ext = false;                                                                      \
            body;                                                                                  \
        }                                                                                          \
        for (size_t i_ = 0; i_ < (e)->trees.n_anchored; i_++) {                                    \
            struct cprov *p = (e)->trees.anchored[i_];                                             \
            bool ext = true;                                                                       \
            body;                                                                                  \
        }                                                                                          \
    } while (0)

/* Group g's first failure under root (level LV_OK: it has a choice there);
 * *klass is the failing class of the unsuffixed group. The class-free
 * checks of each provider are made once (base, from the anchor arena). */
/* Adds the amount checks of class k of the unsuffixed group rg on p to
 * c (its class-free checks), as check_amount would. */
static void add_amounts(struct pcheck *c, size_t g, const struct rgroup *rg, size_t k,
                        const struct cprov *p)
{
    struct afail f = amount_level(rg, k, p);
    c->n_failed += f.n_failed;
    if (f.level < c->level) {
        c->level = f.level;
        c->r = (struct why){.what = (enum cand_constraint)f.level, .group = g,
                            .name = rg->rc_names[k], .asked = rg->amounts[k], .have = f.have,
                            .extra = f.extra};
        c->v = f.level == CX_NO_INVENTORY ? NULL : f.v;
    }
}

static struct pcheck diag_group_all(struct engine *e, size_t g, struct cprov *root, size_t *klass)
{
    const struct rgroup *rg = &e->query.groups[g];
    struct pcheck out = {.level = -1};
    struct rootaggs ra = rg->suffixed ? (struct rootaggs){0} : root_aggs(rg, root);
    *klass = SIZE_MAX;
    if (rg->suffixed) {
        FOR_EACH_PROVIDER(e, root, p, ext, {
            struct pcheck c = check_provider(e, g, root, p, ext, SIZE_MAX, ra);
            keep_furthest(&out, &c);
        });
        return out;
    }
    size_t n = 0;
    for (struct cprov *p = root; p; p = p->next)
        n++;
    struct pcheck base_one[1];
    const struct cprov *pv_one[1];
    bool one = n + e->trees.n_anchored == 1; /* a lone provider needs no arena */
    struct pcheck *base =
        one ? base_one
            : arena_alloc(&e->sc->anchor_arena, (n + e->trees.n_anchored) * sizeof(*base));
    const struct cprov **pv =
        one ? pv_one : arena_alloc(&e->sc->anchor_arena, (n + e->trees.n_anchored) * sizeof(*pv));
    n = 0;
    FOR_EACH_PROVIDER(e, root, p, ext, {
        pv[n] = p;
        check_base_into(e, g, root, p, ext, ra, &base[n++]);
    });
    /* The furthest provider of each class, kept as an index; the class
     * that got least far is worked out in full once. */
    int out_level = LV_OK;
    size_t out_i = 0;
    for (size_t k = 0; k < rg->n_res; k++) {
        int best_level = -1;
        long long best_have = 0;
        size_t best_i = 0;
        for (size_t i = 0; i < n; i++) {
            long long have;
            int level = amount_first(rg, k, pv[i], &have);
            if (base[i].level <= level) {
                level = base[i].level;
                have = base[i].r.have;
            }
            if (level > best_level || (level == best_level && have > best_have)) {
                best_level = level;
                best_have = have;
                best_i = i;
            }
        }
        if (best_level < out_level) {
            out_level = best_level;
            out_i = best_i;
            *klass = k;
        }
    }
    if (out_level != LV_OK) {
        out = base[out_i];
        add_amounts(&out, g, rg, *klass, pv[out_i]);
        return out;
    }
    out = (struct pcheck){.level = LV_OK};
    /* Each class has a provider: the required traits must be on them. */
    for (size_t i = 0; i < rg->n_required; i++) {
        bool met = false;
        n = 0;
        FOR_EACH_PROVIDER(e, root, p, ext, {
            (void)ext;
            long long have;
            const struct pcheck *b = &base[n++];
            for (size_t k = 0; k < rg->n_res && !met; k++)
                if (b->level == LV_OK &&
                    intersects(p->traits, p->n_traits, rg->required[i].ids, rg->required[i].n) &&
                    amount_first(rg, k, p, &have) == LV_OK)
                    met = true;
        });
        if (!met) {
            out = (struct pcheck){.level = LV_OK};
            note_fail(&out, g, CX_TRAITS, set_names(e, rg, i), false, 0, 0, 0, NULL);
            return out;
        }
    }
    return out;
}

/* diag_group_all, with the common case first: the unsuffixed group on a
 * tree of one provider and no sharing ones, which fails (or not) exactly
 * where that provider does; the result goes to *out. */
static void diag_group(struct engine *e, size_t g, struct cprov *root, size_t *klass,
                       struct pcheck *out)
{
    const struct rgroup *rg = &e->query.groups[g];
    if (!rg->suffixed && !root->next && !e->trees.n_anchored) {
        check_base_into(e, g, root, root, false, root_aggs(rg, root), out);
        int level = LV_OK;
        size_t kk = SIZE_MAX;
        for (size_t k = 0; k < rg->n_res; k++) {
            long long have;
            int l = amount_first(rg, k, root, &have);
            l = out->level <= l ? out->level : l;
            if (l < level) {
                level = l;
                kk = k;
            }
        }
        if (level != LV_OK) {
            *klass = kk;
            add_amounts(out, g, rg, kk, root);
            return;
        }
    }
    *out = diag_group_all(e, g, root, klass);
}

/* Documented measure: the shortfall as a fraction of the amount asked for
 * capacity and max_unit, half for min_unit/step_size, 1 for everything else
 * (traits, aggregates, no inventory, in_tree, root_required). */
static double near_distance(const struct why *r)
{
    if ((r->what == CX_CAPACITY || r->what == CX_MAX_UNIT) && r->asked > 0) {
        double d = ((double)r->asked - (double)(r->have > 0 ? r->have : 0)) / (double)r->asked;
        return d < 0 ? 0 : d > 1 ? 1 : d;
    }
    return r->what == CX_MIN_UNIT_STEP ? 0.5 : 1.0;
}

static void near_add(struct cand_explain *x, const struct cprov *p, const struct pcheck *c)
{
    double distance = near_distance(&c->r);
    if (!x->near_max ||
        (x->n_near == x->near_max && x->near[x->n_near - 1].distance <= distance))
        return; /* no nearer than what is kept */
    struct cand_near_miss n = {.r = reason_of(&c->r), .distance = distance};
    memcpy(n.uuid, p->uuid, sizeof(n.uuid));
    memcpy(n.root_uuid, p->root ? p->root->uuid : p->uuid, sizeof(n.root_uuid));
    if (c->v) {
        n.total = c->v->total;
        n.reserved = c->v->reserved;
        n.used = c->v->used;
        n.capacity = c->v->capacity;
        n.ratio = c->v->ratio;
    }
    if (!x->near)
        x->near = xcalloc(x->near_max + 1, sizeof(*x->near));
    size_t pos = x->n_near;
    while (pos > 0 && x->near[pos - 1].distance > n.distance)
        pos--;
    if (pos >= x->near_max)
        return;
    size_t keep = x->n_near < x->near_max ? x->n_near : x->near_max - 1;
    memmove(&x->near[pos + 1], &x->near[pos], (keep - pos) * sizeof(*x->near));
    x->near[pos] = n;
    x->n_near = keep + 1;
}

/* The providers that fail only group g's one constraint are near misses. */
static void near_group(struct engine *e, size_t g, struct cprov *root, size_t klass)
{
    const struct rgroup *rg = &e->query.groups[g];
    if (!rg->suffixed && klass == SIZE_MAX)
        return; /* the unsuffixed group failed on its traits as a whole */
    struct rootaggs ra = rg->suffixed ? (struct rootaggs){0} : root_aggs(rg, root);
    FOR_EACH_PROVIDER(e, root, p, ext, {
        struct pcheck c = check_provider(e, g, root, p, ext, rg->suffixed ? SIZE_MAX : klass, ra);
        /* A provider without the class is no near miss of the unsuffixed
         * group: the class may come from any provider of the tree. */
        if (c.n_failed == 1 && (e->query.groups[g].suffixed || c.level != CX_NO_INVENTORY))
            near_add(e->q->explain, p, &c);
    });
}

static struct why root_reason(struct engine *e, const struct cprov *root)
{
    struct why r = {.what = CX_ROOT_REQUIRED, .group = SIZE_MAX, .name = ""};
    for (size_t i = 0; i < e->query.root_required.n; i++)
        if (!has_id(root->traits, root->n_traits, e->query.root_required.ids[i])) {
            r.name = engine_name(e, NAME_TRAIT, e->query.root_required.ids[i]);
            return r;
        }
    for (size_t i = 0; i < e->query.root_forbidden.n; i++)
        if (has_id(root->traits, root->n_traits, e->query.root_forbidden.ids[i])) {
            r.name = engine_name(e, NAME_TRAIT, e->query.root_forbidden.ids[i]);
            r.forbidden = true;
            return r;
        }
    return r;
}

/* The first class whose summed amount the tree cannot hold (CX_COMBINED). */
static struct why room_reason(struct engine *e, struct cprov *root)
{
    struct why r = {.what = CX_COMBINED, .group = SIZE_MAX, .name = ""};
    for (size_t c = 0; c < e->query.n_demand; c++) {
        long long have = 0;
        for (struct cprov *p = root; p; p = p->next)
            have = sat_add(have, can_give(p, e->query.demand_rc_ids[c]));
        for (size_t i = 0; i < e->trees.n_anchored; i++)
            have = sat_add(have, can_give(e->trees.anchored[i], e->query.demand_rc_ids[c]));
        if (have < e->query.demand_amounts[c]) {
            r.name = engine_name(e, NAME_RC, e->query.demand_rc_ids[c]);
            r.asked = e->query.demand_amounts[c];
            r.have = have;
            return r;
        }
    }
    return r;
}

/* True when no near miss of group g under this tree can be kept: the list
 * is full and none can be nearer than its last. Every provider that fails
 * one check got no further than the group's furthest (first, all of whose
 * levels before CX_CAPACITY measure 1); at CX_CAPACITY with one amount
 * asked, none has more free than first. */
static bool near_full_below(const struct engine *e, size_t g, const struct pcheck *first)
{
    const struct cand_explain *x = e->q->explain;
    if (!x->near_max)
        return true;
    if (x->n_near < x->near_max)
        return false;
    double bound = 0;
    if (first->level < CX_CAPACITY)
        bound = 1.0;
    else if (first->level == CX_CAPACITY &&
             (!e->query.groups[g].suffixed || e->query.groups[g].n_res == 1))
        bound = near_distance(&first->r);
    return x->near[x->n_near - 1].distance <= bound;
}

/* Counts one tree: yielded something, or charged to its first failure. */
void explain_anchor(struct engine *e, struct cprov *root, bool ok)
{
    struct cand_explain *x = e->q->explain;
    x->trees++;
    if (ok) {
        x->trees_ok++;
        for (size_t g = 0; g < e->query.n_groups; g++)
            x->groups[g].trees_ok++;
        return;
    }
    find_anchored(e, root);
    struct pcheck first = {.level = LV_OK};
    size_t n_bad = 0, bad_group = SIZE_MAX, bad_class = SIZE_MAX;
    if ((e->query.root_required.n || e->query.root_forbidden.n) && !root_passes(e, root)) {
        first.level = CX_ROOT_REQUIRED;
        first.r = root_reason(e, root);
        n_bad++;
    }
    for (size_t g = 0; g < e->query.n_groups; g++) {
        size_t klass;
        struct pcheck c;
        diag_group(e, g, root, &klass, &c);
        if (c.level == LV_OK && e->why.anchor_fail == CX_TRAITS && e->why.empty_group == g) {
            /* Each required trait is on a usable provider, but no one
             * combination of them has them all: the solve found none. */
            c = (struct pcheck){.level = CX_TRAITS, .n_failed = 1};
            c.r = (struct why){.what = CX_TRAITS, .group = g, .name = ""};
        }
        if (c.level == LV_OK) {
            x->groups[g].trees_ok++;
            continue;
        }
        tally_add(&x->groups[g].why, &c.r);
        n_bad++;
        bad_group = g;
        bad_class = klass;
        if (c.level < first.level)
            first = c;
    }
    if (first.level == LV_OK) {
        /* Every group fits alone: what solve_anchor ran into together. */
        first.r = e->why.anchor_fail == CX_COMBINED ? room_reason(e, root)
                                                : (struct why){.what = e->why.anchor_fail,
                                                               .group = SIZE_MAX, .name = ""};
        /* A group each of whose traits some usable provider has, but no
         * combination of them has them all. */
        if (e->why.anchor_fail == CX_TRAITS)
            first.r.group = e->why.empty_group;
    }
    tally_add(&x->why, &first.r);
    if (n_bad != 1)
        return;
    if (bad_group == SIZE_MAX) {
        struct pcheck c = {.level = CX_ROOT_REQUIRED, .n_failed = 1, .r = first.r};
        near_add(x, root, &c);
    } else if (!root->next && !e->trees.n_anchored) {
        /* One provider: the group's check of it is first itself. */
        bool suffixed = e->query.groups[bad_group].suffixed;
        if (first.n_failed == 1 &&
            (suffixed || (bad_class != SIZE_MAX && first.level != CX_NO_INVENTORY)))
            near_add(x, root, &first);
    } else if (!near_full_below(e, bad_group, &first)) {
        near_group(e, bad_group, root, bad_class);
    }
    arena_reset(&e->sc->anchor_arena);
}

