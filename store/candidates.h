/* The allocation candidates engine (GET /allocation_candidates), Placement's
 * objects/allocation_candidate.py and research_context.py re-done in C.
 *
 * The caller describes the request in a struct cand_query (names, not ids:
 * the engine resolves them in Placement's order, so that the first unknown
 * name is the one reported). The engine streams its answer through two
 * callbacks. Requests and summaries interleave (a summary comes after the
 * requests that use its tree), so a caller writing JSON keeps two buffers.
 *
 * Order: anchors (root providers) by ascending id; inside one anchor the
 * request groups in query order, resource classes by id and providers by id.
 * With a limit and without randomization the engine stops as soon as it has
 * `limit` requests: its cost depends on the trees it had to look at, not on
 * the size of the full answer.
 *
 * Every read happens inside one read transaction; trees cached by an
 * earlier request are used only when their block version is the one this
 * transaction sees. */
#ifndef PLACID_STORE_CANDIDATES_H
#define PLACID_STORE_CANDIDATES_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* A list of names (trait names, aggregate uuids, group suffixes). */
struct cand_names {
    const char *const *names;
    size_t n;
};

/* One request group: the unsuffixed one (suffix "") may spread over several
 * providers of one tree plus sharing providers; a suffixed one must be
 * satisfied by one provider. */
struct cand_group {
    const char *suffix;                /* "" for the unsuffixed group */
    const char *const *rc_names;       /* resource classes, n_res of them */
    const long long *amounts;          /* >= 1 each */
    size_t n_res;                      /* 0: a resourceless group (1.36+) */
    const struct cand_names *required; /* AND of any-of sets of trait names */
    size_t n_required;
    struct cand_names forbidden;        /* trait names */
    const struct cand_names *member_of; /* AND of any-of sets of aggregate uuids */
    size_t n_member_of;
    struct cand_names forbidden_aggs; /* aggregate uuids */
    const char *in_tree;              /* canonical provider uuid or NULL */
};

struct cand_explain;

struct cand_query {
    const struct cand_group *groups;
    size_t n_groups;
    struct cand_names root_required;       /* traits the anchor root must have */
    struct cand_names root_forbidden;      /* traits it must not have */
    const struct cand_names *same_subtree; /* sets of suffixes */
    size_t n_same_subtree;
    bool isolate;      /* group_policy=isolate */
    size_t limit;      /* 0: no limit */
    bool nested_aware; /* microversion 1.29+; false drops multi-provider trees */
    bool randomize;    /* shuffle/sample like randomize_allocation_candidates */
    /* Bounded work: the engine counts its steps (a provider examined for a
     * group, a partial combination tried) and gives up past work_limit
     * (0: no limit). Every CAND_POLL_STEPS steps it calls cancelled (when
     * not NULL), and gives up when that returns true. */
    unsigned long long work_limit;
    bool (*cancelled)(void *arg);
    void *cancel_arg;
    /* Explain (issue 12): when not NULL the engine walks every tree (limit
     * is ignored for the walk), counts, and fills *explain; on_summary may
     * then be NULL (no summaries are built). */
    struct cand_explain *explain;
};

#define CAND_POLL_STEPS 65536

/* One amount of one resource class from one provider. */
struct cand_item {
    const char *rp_uuid;
    const char *rc; /* resource class name */
    long long amount;
};

/* The providers that satisfied one request group. */
struct cand_mapping {
    const char *suffix;
    const char *const *rp_uuids;
    size_t n;
};

/* One allocation request. Items of one provider are consecutive (same
 * rp_uuid pointer). Mappings follow the group order of the query. */
struct cand_request {
    const struct cand_item *items;
    size_t n_items;
    const struct cand_mapping *mappings;
    size_t n_mappings;
};

struct cand_summary_res {
    const char *rc;
    long long capacity; /* int((total - reserved) * allocation_ratio) */
    long long used;
};

/* One provider summary: every inventory of the provider (the caller drops
 * the classes it must not show before 1.27) and its traits by id. */
struct cand_summary {
    const char *uuid;
    const char *parent_uuid; /* NULL for a root */
    const char *root_uuid;
    const struct cand_summary_res *res;
    size_t n_res;
    const char *const *traits;
    size_t n_traits;
};

/* Callbacks: everything they receive is valid only during the call. A
 * non-zero return aborts the run (store_candidates_get then returns
 * STORE_ERROR). */
typedef int cand_request_fn(void *arg, const struct cand_request *r);
typedef int cand_summary_fn(void *arg, const struct cand_summary *s);

/* Why a request was refused. */
enum cand_bad_kind {
    CAND_BAD_NONE = 0,
    CAND_BAD_RESOURCE_CLASS, /* bad_name is an unknown resource class */
    CAND_BAD_TRAIT,          /* bad_name is an unknown trait */
    CAND_WORK_LIMIT,         /* gave up after work_limit steps */
    CAND_CANCELLED,          /* gave up because cancelled() said so */
};

struct cand_failure {
    enum cand_bad_kind kind;
    char name[256];
};

/* ---- Explain: why trees yielded nothing ----
 *
 * The constraints, in the fixed order in which a tree that yields nothing is
 * charged to the first one that fails (for the whole query: the earliest
 * failing constraint over all groups and root_required; per group: that
 * group's earliest). A provider "fails" a per-provider constraint when the
 * providers of the tree (and its sharing providers) that passed every
 * earlier constraint all fail it. */
enum cand_constraint {
    CX_IN_TREE = 0,    /* in_tree names another tree */
    CX_AGGREGATES,     /* member_of not met, or in a forbidden aggregate */
    CX_TRAITS,         /* a required trait missing (name) or a forbidden one present */
    CX_ROOT_REQUIRED,  /* the root lacks a root_required trait or has a forbidden one */
    CX_NO_INVENTORY,   /* no inventory of the class (name) */
    CX_CAPACITY,       /* asked more than the largest free (have) */
    CX_MAX_UNIT,       /* asked more than the largest max_unit (have) */
    CX_MIN_UNIT_STEP,  /* asked less than min_unit (have) or not a multiple of step (extra) */
    CX_SAME_SUBTREE,   /* every group fits alone, no combination meets same_subtree */
    CX_ISOLATE,        /* every group fits alone, no combination keeps groups apart */
    CX_COMBINED,       /* every group fits alone, their summed amounts do not (or, before
                        * 1.29, only several providers of one tree could serve) */
    CX_COUNT
};

/* One reason, with its numbers. */
struct cand_reason {
    enum cand_constraint what;
    size_t group;  /* index in cand_query.groups; SIZE_MAX for request-wide */
    char name[256]; /* trait or resource class involved, or "" */
    bool forbidden; /* CX_TRAITS/CX_AGGREGATES/CX_ROOT_REQUIRED: present though forbidden */
    long long asked, have, extra;
};

/* Trees charged to one reason (numbers: asked, and the largest have seen). */
struct cand_tally {
    struct cand_reason r;
    size_t trees;
};

struct cand_tallies {
    struct cand_tally *v; /* in constraint order, then first seen */
    size_t n, cap;
    /* The engine's own: the entry last added to and the name it was
     * added with (the same name pointer needs no string compare). */
    const char *hint_name;
    size_t hint;
};

/* A provider that failed exactly one constraint of one group (or a root
 * that failed only root_required) in a tree that yielded nothing. */
struct cand_near_miss {
    char uuid[37], root_uuid[37];
    struct cand_reason r;
    /* CX_CAPACITY: the inventory behind "free" */
    long long total, reserved, used, capacity;
    double ratio;
    double distance; /* see cand_near_distance in candidates.c; smaller is nearer */
};

struct cand_group_explain {
    size_t trees_ok;         /* trees where this group alone has a choice */
    struct cand_tallies why; /* the other trees, by this group's first failure */
};

struct cand_explain {
    size_t near_max; /* in: how many near misses to keep */
    /* out */
    size_t trees, trees_ok; /* considered; yielded at least one candidate */
    size_t candidates;      /* before any limit */
    struct cand_tallies why;
    struct cand_group_explain *groups; /* n_groups of them */
    size_t n_groups;
    struct cand_near_miss *near; /* nearest first, at most near_max */
    size_t n_near;
};

/* Frees what the engine put in x (not x itself). */
void cand_explain_free(struct cand_explain *x);

/* Computes the allocation candidates of q and streams them. STORE_OK (an
 * impossible request simply streams nothing), STORE_INVALID with *fail set
 * for an unknown resource class or trait or for a search given up
 * (CAND_WORK_LIMIT, CAND_CANCELLED: what was streamed is then incomplete),
 * or a database error. */
enum store_rc store_candidates_get(struct store *st, const struct cand_query *q,
                                   cand_request_fn *on_request, cand_summary_fn *on_summary,
                                   void *arg, struct cand_failure *fail);

#endif
