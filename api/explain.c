/* Allocation candidates explained (issue 12): see api/explain.h. */
#include "api/explain.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "core/util.h"
#include "server/microversion.h"
#include "store/store.h"

/* The documented order (enum cand_constraint), as the JSON names it. */
static const char *const CONSTRAINTS[CX_COUNT] = {
    "in_tree",      "member_of",     "traits",       "root_required",
    "no_inventory", "capacity",      "max_unit",     "min_unit_step_size",
    "same_subtree", "group_policy_isolate", "combined_amounts"};

/* What explain_reply knows about the query's groups. */
struct cand_query_info {
    const char **suffixes; /* per group, from the request */
    size_t n;
};

static const char *group_suffix(const struct cand_explain *x, const struct cand_query_info *qi,
                                size_t g)
{
    (void)x;
    return g < qi->n ? qi->suffixes[g] : "";
}

/* The group as the query names it: resources, resources1, resources_GPU. */
static const char *group_label(struct req *rq, const struct cand_query_info *qi, size_t g)
{
    return arena_printf(&rq->arena, "resources%s", group_suffix(NULL, qi, g));
}

/* One reason in words, without the group; `largest` for a count over
 * several providers. */
static const char *reason_words_of(struct req *rq, const struct cand_reason *r, bool one)
{
    struct arena *a = &rq->arena;
    const char *largest = one ? "" : "largest ";
    switch (r->what) {
    case CX_IN_TREE: return "not the tree named by in_tree";
    case CX_AGGREGATES:
        return r->forbidden ? "in a forbidden aggregate" : "not in the member_of aggregates";
    case CX_TRAITS:
        if (!r->name[0])
            return "no combination of providers has all the required traits";
        return r->forbidden ? arena_printf(a, "has forbidden trait %s", r->name)
                            : arena_printf(a, "lacks %s", r->name);
    case CX_ROOT_REQUIRED:
        return r->forbidden ? arena_printf(a, "root has forbidden trait %s", r->name)
                            : arena_printf(a, "root lacks %s", r->name);
    case CX_NO_INVENTORY: return arena_printf(a, "no inventory of %s", r->name);
    case CX_CAPACITY:
        return arena_printf(a, "%s asked %lld, %sfree %lld", r->name, r->asked, largest, r->have);
    case CX_MAX_UNIT:
        return arena_printf(a, "%s asked %lld, %smax_unit %lld", r->name, r->asked, largest,
                            r->have);
    case CX_MIN_UNIT_STEP:
        return arena_printf(a, "%s asked %lld, min_unit %lld, step_size %lld", r->name, r->asked,
                            r->have, r->extra);
    case CX_SAME_SUBTREE:
        return "every group fits alone, but no combination puts the same_subtree groups under "
               "one provider";
    case CX_ISOLATE:
        return "every group fits alone, but no combination keeps the groups on separate "
               "providers (group_policy=isolate)";
    case CX_COMBINED:
        if (r->name[0])
            return arena_printf(a, "every group fits alone, but %s asked %lld in all, the tree "
                                   "can give %lld",
                                r->name, r->asked, r->have);
        return "every group fits alone, but no combination of them fits together";
    case CX_COUNT: break;
    }
    return "";
}

static const char *reason_words(struct req *rq, const struct cand_reason *r)
{
    return reason_words_of(rq, r, false);
}

static json_t *tallies_json(struct req *rq, const struct cand_tallies *t,
                            const struct cand_query_info *qi)
{
    json_t *out = json_array();
    for (size_t i = 0; i < t->n; i++) {
        const struct cand_reason *r = &t->v[i].r;
        json_t *o = json_pack("{s:s, s:I, s:s}", "constraint", CONSTRAINTS[r->what], "trees",
                              (json_int_t)t->v[i].trees, "reason", reason_words(rq, r));
        json_object_set_new(o, "group",
                            r->group == SIZE_MAX ? json_null()
                                                 : json_string(group_suffix(NULL, qi, r->group)));
        if (r->name[0])
            json_object_set_new(o, "name", json_string(r->name));
        if (r->what >= CX_CAPACITY && r->what <= CX_MIN_UNIT_STEP) {
            json_object_set_new(o, "asked", json_integer(r->asked));
            json_object_set_new(o, "have", json_integer(r->have));
        }
        json_array_append_new(out, o);
    }
    return out;
}

/* "cn7: VCPU asked 8, free 6 ((total 32 − reserved 0) × ratio 4.0 − used 122)" */
static const char *near_words(struct req *rq, const char *name, const struct cand_near_miss *n,
                              const struct cand_query_info *qi)
{
    const struct cand_reason *r = &n->r;
    const char *where = r->group == SIZE_MAX
                            ? ""
                            : arena_printf(&rq->arena, " (%s)", group_label(rq, qi, r->group));
    if (r->what == CX_CAPACITY)
        return arena_printf(&rq->arena,
                            "%s%s: %s asked %lld, free %lld ((total %lld \u2212 reserved %lld) "
                            "\u00d7 ratio %.1f \u2212 used %lld)",
                            name, where, r->name, r->asked, r->have, n->total, n->reserved,
                            n->ratio, n->used);
    return arena_printf(&rq->arena, "%s%s: %s", name, where, reason_words_of(rq, r, true));
}

static const char *provider_name(struct req *rq, const char *uuid)
{
    struct provider p;
    if (store_provider_get(rq->store, uuid, &p) == STORE_OK)
        return arena_strdup(&rq->arena, p.name);
    return uuid;
}

static json_t *explain_json(struct req *rq, const struct cand_explain *x, size_t limit,
                            const char *query, const struct cand_query_info *qi,
                            const char **near_names, const struct sched_source *src,
                            size_t n_src)
{
    size_t after = limit && limit < x->candidates ? limit : x->candidates;
    json_t *order = json_array();
    for (size_t i = 0; i < CX_COUNT; i++)
        json_array_append_new(order, json_string(CONSTRAINTS[i]));
    json_t *out = json_pack(
        "{s:s, s:{s:I, s:I}, s:{s:I, s:I, s:o}, s:o, s:o}", "query", query, "trees", "considered",
        (json_int_t)x->trees, "with_candidates", (json_int_t)x->trees_ok, "candidates", "total",
        (json_int_t)x->candidates, "after_limit", (json_int_t)after, "limit",
        limit ? json_integer((json_int_t)limit) : json_null(), "order", order, "eliminated",
        tallies_json(rq, &x->why, qi));
    json_t *groups = json_array();
    for (size_t g = 0; g < x->n_groups; g++)
        json_array_append_new(groups, json_pack("{s:s, s:I, s:o}", "suffix",
                                                group_suffix(x, qi, g), "trees_with_choice",
                                                (json_int_t)x->groups[g].trees_ok, "eliminated",
                                                tallies_json(rq, &x->groups[g].why, qi)));
    json_object_set_new(out, "groups", groups);
    json_t *near = json_array();
    for (size_t i = 0; i < x->n_near; i++) {
        const struct cand_near_miss *n = &x->near[i];
        json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:f, s:s}", "provider", n->uuid, "name",
                              near_names[i], "root_provider", n->root_uuid, "constraint",
                              CONSTRAINTS[n->r.what], "distance", n->distance, "reason",
                              near_words(rq, near_names[i], n, qi));
        json_object_set_new(o, "group",
                            n->r.group == SIZE_MAX ? json_null()
                                                   : json_string(group_suffix(x, qi, n->r.group)));
        json_array_append_new(near, o);
    }
    json_object_set_new(out, "near_misses", near);
    if (src) {
        json_t *d = json_array();
        for (size_t i = 0; i < n_src; i++)
            json_array_append_new(d, json_pack("{s:s, s:s, s:s}", "param", src[i].param, "value",
                                               src[i].value, "from", src[i].from));
        json_object_set_new(out, "derivation", d);
    }
    return out;
}

/* A growing text buffer in the arena's spirit: malloc'd, handed to rq. */
struct text {
    char *s;
    size_t len, cap;
};

static void tprintf(struct text *t, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void tprintf(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (t->len + (size_t)n + 1 > t->cap) {
        t->cap = 2 * (t->len + (size_t)n + 1);
        t->s = xrealloc(t->s, t->cap);
    }
    va_start(ap, fmt);
    vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}

static void tallies_text(struct req *rq, struct text *t, const struct cand_tallies *v,
                         const struct cand_query_info *qi, const char *indent)
{
    for (size_t i = 0; i < v->n; i++) {
        const struct cand_reason *r = &v->v[i].r;
        tprintf(t, "%s%5zu  %s%s%s%s: %s\n", indent, v->v[i].trees, CONSTRAINTS[r->what],
                r->group == SIZE_MAX ? "" : " (", r->group == SIZE_MAX ? "" : group_label(rq, qi, r->group),
                r->group == SIZE_MAX ? "" : ")", reason_words(rq, r));
    }
}

static char *explain_text(struct req *rq, const struct cand_explain *x, size_t limit,
                          const char *query, const struct cand_query_info *qi,
                          const char **near_names, const struct sched_source *src,
                          size_t n_src, size_t *len)
{
    struct text t = {0};
    size_t after = limit && limit < x->candidates ? limit : x->candidates;
    tprintf(&t, "query: %s\n", query);
    tprintf(&t, "trees: %zu considered, %zu with candidates\n", x->trees, x->trees_ok);
    if (limit)
        tprintf(&t, "candidates: %zu (%zu after limit=%zu)\n", x->candidates, after, limit);
    else
        tprintf(&t, "candidates: %zu\n", x->candidates);
    if (x->why.n) {
        tprintf(&t, "trees without candidates, by the first constraint they failed:\n");
        tallies_text(rq, &t, &x->why, qi, "");
    }
    for (size_t g = 0; g < x->n_groups && x->n_groups > 1; g++) {
        tprintf(&t, "group %s: %zu trees with a choice\n", group_label(rq, qi, g),
                x->groups[g].trees_ok);
        tallies_text(rq, &t, &x->groups[g].why, qi, "  ");
    }
    if (x->n_near) {
        tprintf(&t, "near misses (nearest first):\n");
        for (size_t i = 0; i < x->n_near; i++)
            tprintf(&t, "  %s\n", near_words(rq, near_names[i], &x->near[i], qi));
    }
    if (src && n_src) {
        tprintf(&t, "derived from the flavor and image:\n");
        for (size_t i = 0; i < n_src; i++)
            tprintf(&t, "  %s=%s <= %s\n", src[i].param, src[i].value, src[i].from);
    }
    *len = t.len;
    return t.s ? t.s : xstrdup("");
}

static bool wants_text(const struct req *rq)
{
    return rq->accept && strstr(rq->accept, "text/plain") &&
           !strstr(rq->accept, "application/json");
}

/* The suffix of every group, in the engine's order (query order). */
static void collect_suffixes(struct req *rq, struct cand_query_info *qi, size_t n_groups)
{
    qi->suffixes = arena_alloc(&rq->arena, (n_groups + 1) * sizeof(*qi->suffixes));
    qi->n = 0;
    for (size_t i = 0; i < rq->n_query && qi->n < n_groups; i++) {
        const char *k = rq->query[i].key;
        const char *suffix = NULL;
        static const char *const bases[] = {"resources", "required", "member_of", "in_tree"};
        for (size_t b = 0; b < 4 && !suffix; b++)
            if (strncmp(k, bases[b], strlen(bases[b])) == 0)
                suffix = k + strlen(bases[b]);
        if (!suffix)
            continue;
        size_t j = 0;
        while (j < qi->n && strcmp(qi->suffixes[j], suffix) != 0)
            j++;
        if (j == qi->n)
            qi->suffixes[qi->n++] = suffix;
    }
}

int explain_reply(struct req *rq, const char *query, const struct sched_source *sources,
                  size_t n_sources)
{
    const struct api_ctx *ctx = rq->api;
    struct cand_explain x = {.near_max = ctx ? ctx->explain_near_misses : 5};
    size_t limit;
    if (allocation_candidates_count(rq, &x, &limit))
        return -1;
    struct cand_query_info qi;
    collect_suffixes(rq, &qi, x.n_groups);
    const char **names = arena_alloc(&rq->arena, (x.n_near + 1) * sizeof(*names));
    for (size_t i = 0; i < x.n_near; i++)
        names[i] = provider_name(rq, x.near[i].uuid);
    if (wants_text(rq)) {
        size_t len;
        char *text = explain_text(rq, &x, limit, query, &qi, names, sources, n_sources, &len);
        cand_explain_free(&x);
        req_set_reply_text(rq, text, len, NULL);
        rq->reply_type = "text/plain; charset=UTF-8";
        return 0;
    }
    json_t *doc = explain_json(rq, &x, limit, query, &qi, names, sources, n_sources);
    cand_explain_free(&x);
    return api_reply(rq, 200, doc);
}

/* The query as the client wrote it, decoded: "k=v&k=v". */
static const char *query_text(struct req *rq)
{
    size_t size = 1;
    for (size_t i = 0; i < rq->n_query; i++)
        size += strlen(rq->query[i].key) + (rq->query[i].value ? strlen(rq->query[i].value) : 0) +
                2;
    char *out = arena_alloc(&rq->arena, size);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < rq->n_query; i++)
        len += (size_t)snprintf(out + len, size - len, "%s%s%s%s", i ? "&" : "", rq->query[i].key,
                                rq->query[i].value ? "=" : "",
                                rq->query[i].value ? rq->query[i].value : "");
    return out;
}

int allocation_candidates_explain(struct req *rq)
{
    /* Like the scheduling endpoint, placid's own route reads the query at
     * the latest microversion, whatever the client asked for. */
    rq->mv = MV_LATEST;
    return explain_reply(rq, query_text(rq), NULL, 0);
}
