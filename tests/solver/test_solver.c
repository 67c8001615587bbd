/* The candidates engine's solver on trees built by hand: no database. This
 * executable links placid_solver and placid_core only (no SQLite), so it
 * also proves that the solver files stay pure. Providers are named by their
 * uuid field ("cn1", "numa0"); resource classes, traits and aggregates are
 * small ids named by the fetch_name hook below. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/candidates_internal.h"

/* ---- Ids and names ---- */

enum { VCPU = 0, MEMORY_MB = 1, DISK_GB = 2, FPGA = 100 };
enum { AVX = 1, SSD = 2, SHARES = 3 }; /* SHARES: MISC_SHARES_VIA_AGGREGATE */
enum { AGG1 = 1, AGG2 = 2 };

static const char *fetch_name(struct engine *e, enum name_kind kind, long long id)
{
    (void)e;
    if (kind == NAME_RC)
        return id == VCPU ? "VCPU" : id == MEMORY_MB ? "MEMORY_MB" : id == DISK_GB ? "DISK_GB"
                                                                                 : "CUSTOM_FPGA";
    return id == AVX   ? "HW_CPU_X86_AVX"
           : id == SSD ? "STORAGE_DISK_SSD"
                       : "MISC_SHARES_VIA_AGGREGATE";
}

/* ---- Trees: providers in id order, then rows in any order ---- */

#define MAX_ROWS 128

struct tprov {
    long long id, parent, root;
    const char *name;
};
struct tinv {
    long long p, rc, total, reserved, min_unit, max_unit, step, used;
};
struct tpair {
    long long p, id;
};

static struct tprov provs[MAX_ROWS];
static struct tinv invs[MAX_ROWS];
static struct tpair traits[MAX_ROWS], aggs[MAX_ROWS];
static size_t n_provs, n_invs, n_traits, n_aggs;

/* A provider under parent (0: a new root); returns its id. */
static long long prov(const char *name, long long parent)
{
    long long id = (long long)n_provs + 1, root = id;
    for (size_t i = 0; parent && i < n_provs; i++)
        if (provs[i].id == parent)
            root = provs[i].root;
    provs[n_provs++] = (struct tprov){id, parent, root, name};
    return id;
}

static void inv_full(long long p, long long rc, long long total, long long min_unit,
                     long long max_unit, long long step, long long used)
{
    invs[n_invs++] = (struct tinv){p, rc, total, 0, min_unit, max_unit, step, used};
}

static void inv(long long p, long long rc, long long total)
{
    inv_full(p, rc, total, 1, total, 1, 0);
}

static void trait(long long p, long long t)
{
    traits[n_traits++] = (struct tpair){p, t};
}

static void agg(long long p, long long a)
{
    aggs[n_aggs++] = (struct tpair){p, a};
}

static int cmp_inv(const void *a, const void *b)
{
    const struct tinv *x = a, *y = b;
    return x->p != y->p ? (x->p > y->p) - (x->p < y->p) : (x->rc > y->rc) - (x->rc < y->rc);
}

static int cmp_pair(const void *a, const void *b)
{
    const struct tpair *x = a, *y = b;
    return x->p != y->p ? (x->p > y->p) - (x->p < y->p) : (x->id > y->id) - (x->id < y->id);
}

static bool tree_shares(long long root)
{
    for (size_t i = 0; i < n_traits; i++)
        for (size_t k = 0; k < n_provs; k++)
            if (traits[i].id == SHARES && provs[k].id == traits[i].p && provs[k].root == root)
                return true;
    return false;
}

/* Fills w with every tree (sharing_only: only the trees of sharing
 * providers, as the sharing world holds them), rows in provider order. */
static void build(struct world *w, bool sharing_only)
{
    qsort(invs, n_invs, sizeof(*invs), cmp_inv);
    qsort(traits, n_traits, sizeof(*traits), cmp_pair);
    qsort(aggs, n_aggs, sizeof(*aggs), cmp_pair);
    for (size_t i = 0; i < n_provs; i++)
        if (!sharing_only || tree_shares(provs[i].root))
            world_add_provider(w, provs[i].id, provs[i].root, provs[i].parent, provs[i].name);
    size_t cur = 0;
    for (size_t i = 0; i < n_invs; i++) {
        struct cprov *p = world_row_provider(w, 0, &cur, invs[i].p);
        if (!p)
            continue;
        struct cinv v = {.rc_id = invs[i].rc, .total = invs[i].total, .reserved = invs[i].reserved,
                         .min_unit = invs[i].min_unit, .max_unit = invs[i].max_unit,
                         .step_size = invs[i].step, .ratio = 1.0};
        world_add_inventory(w, p, &v);
        if (invs[i].used)
            world_set_usage(w, p, invs[i].rc, invs[i].used);
    }
    cur = 0;
    for (size_t i = 0; i < n_traits; i++) {
        struct cprov *p = world_row_provider(w, 0, &cur, traits[i].p);
        if (p)
            world_add_trait(w, p, traits[i].id);
    }
    cur = 0;
    for (size_t i = 0; i < n_aggs; i++) {
        struct cprov *p = world_row_provider(w, 0, &cur, aggs[i].p);
        if (p)
            world_add_aggregate(w, p, aggs[i].id);
    }
    world_finalize(w, SHARES);
}

/* ---- Request groups, resolved by hand ---- */

#define MAX_GROUPS 4

struct tgroup {
    const char *suffix;
    long long rc[4], amount[4];
    size_t n_res;
    long long required_ids[4][4]; /* any-of sets */
    size_t n_required_ids[4], n_required;
    long long forbidden_ids[4];
    size_t n_forbidden;
    long long member_of_ids[4];
    size_t n_member_of_ids; /* one any-of set of aggregates when non-zero */
    long long tree_root;
};

static struct tgroup groups[MAX_GROUPS];
static size_t n_groups;

static struct tgroup *group(const char *suffix)
{
    struct tgroup *g = &groups[n_groups++];
    memset(g, 0, sizeof(*g));
    g->suffix = suffix;
    return g;
}

static void res(struct tgroup *g, long long rc, long long amount)
{
    g->rc[g->n_res] = rc;
    g->amount[g->n_res++] = amount;
}

/* ---- Running the solver ---- */

#define OUT_SIZE 4096

struct result {
    char text[OUT_SIZE]; /* "cn1:VCPU=1,DISK_GB=10 ss:..." per candidate, "; " between */
    size_t candidates, summaries;
    enum cand_bad_kind gave_up;
    size_t leaves; /* the last anchor's complete combinations */
    enum cand_constraint anchor_fail;
};

static int on_request(void *arg, const struct cand_request *r)
{
    struct result *out = arg;
    size_t len = strlen(out->text);
    if (out->candidates++)
        len += (size_t)snprintf(out->text + len, OUT_SIZE - len, "; ");
    const char *last = NULL;
    for (size_t i = 0; i < r->n_items && len < OUT_SIZE; i++) {
        const struct cand_item *it = &r->items[i];
        if (it->rp_uuid == last)
            len += (size_t)snprintf(out->text + len, OUT_SIZE - len, ",%s=%lld", it->rc,
                                    it->amount);
        else
            len += (size_t)snprintf(out->text + len, OUT_SIZE - len, "%s%s:%s=%lld",
                                    i ? " " : "", it->rp_uuid, it->rc, it->amount);
        last = it->rp_uuid;
    }
    return 0;
}

static int on_summary(void *arg, const struct cand_summary *s)
{
    (void)s;
    ((struct result *)arg)->summaries++;
    return 0;
}

struct run_opts {
    size_t limit;
    bool isolate;
    const char *same_subtree[4]; /* suffixes of one same_subtree set */
    size_t n_same_subtree;
    unsigned long long work_limit;
    long long root_req, root_forb;
    struct cand_explain *explain; /* groups allocated here, as store/candidates.c does */
};

/* Solves the groups over the trees as store_candidates_get would after
 * resolving names: every anchor of one world, sharing trees in their own. */
static struct result solve(struct run_opts o)
{
    static struct result out;
    memset(&out, 0, sizeof(out));
    struct cand_group cg[MAX_GROUPS];
    struct rgroup rg[MAX_GROUPS];
    struct id_set required[MAX_GROUPS][4], member_of[MAX_GROUPS];
    const char *rc_names[MAX_GROUPS][4];
    memset(rg, 0, sizeof(rg));
    for (size_t g = 0; g < n_groups; g++) {
        struct tgroup *t = &groups[g];
        cg[g] = (struct cand_group){.suffix = t->suffix};
        rg[g].g = &cg[g];
        rg[g].suffixed = t->suffix[0] != '\0';
        rg[g].n_res = t->n_res;
        rg[g].rc_ids = t->rc;
        rg[g].amounts = t->amount;
        for (size_t k = 0; k < t->n_res; k++)
            rc_names[g][k] = fetch_name(NULL, NAME_RC, t->rc[k]);
        rg[g].rc_names = rc_names[g];
        for (size_t i = 0; i < t->n_required; i++)
            required[g][i] = (struct id_set){t->required_ids[i], t->n_required_ids[i]};
        rg[g].required = required[g];
        rg[g].n_required = t->n_required;
        rg[g].forbidden = (struct id_set){t->forbidden_ids, t->n_forbidden};
        member_of[g] = (struct id_set){t->member_of_ids, t->n_member_of_ids};
        rg[g].member_of = &member_of[g];
        rg[g].n_member_of = t->n_member_of_ids ? 1 : 0;
        rg[g].tree_root = t->tree_root;
    }
    size_t subtree_groups[4], n_subtree = 0, *subtree = subtree_groups;
    for (size_t i = 0; i < o.n_same_subtree; i++)
        for (size_t g = 0; g < n_groups; g++)
            if (strcmp(groups[g].suffix, o.same_subtree[i]) == 0)
                subtree_groups[n_subtree++] = g;
    struct cand_query q = {.n_groups = n_groups, .n_same_subtree = o.n_same_subtree ? 1 : 0,
                           .isolate = o.isolate, .limit = o.limit, .nested_aware = true,
                           .work_limit = o.work_limit, .explain = o.explain};
    if (o.explain) {
        o.explain->n_groups = n_groups;
        o.explain->groups = xcalloc(n_groups, sizeof(*o.explain->groups));
    }
    long long root_req = o.root_req, root_forb = o.root_forb;
    struct scratch sc = {0};
    struct world w = {0};
    struct engine e = {.q = &q,
                       .sc = &sc,
                       .query = {.groups = rg,
                                 .n_groups = n_groups,
                                 .subtree_groups = &subtree,
                                 .n_subtree_groups = &n_subtree,
                                 .shares_trait = SHARES,
                                 .root_required = {&root_req, root_req ? 1 : 0},
                                 .root_forbidden = {&root_forb, root_forb ? 1 : 0}},
                       .out = {.on_request = on_request, .on_summary = on_summary, .arg = &out},
                       .names = {.fetch = fetch_name}};
    build(&w, false);
    build(&sc.sharing_world, true);
    engine_prepare(&e);
    engine_take_sharing(&e);
    engine_solve_world(&e, &w);
    emit_world_summaries(&e, &w, true);
    emit_world_summaries(&e, &sc.sharing_world, false);
    out.gave_up = e.budget.gave_up;
    out.leaves = e.why.leaves;
    out.anchor_fail = e.why.anchor_fail;
    engine_release(&e);
    arena_free(&sc.req_arena);
    arena_free(&sc.anchor_arena);
    world_free(&sc.sharing_world);
    world_free(&w);
    return out;
}

static void setup(void)
{
    n_provs = n_invs = n_traits = n_aggs = n_groups = 0;
}

/* ---- Single providers ---- */

START_TEST(a_lone_provider_fits_or_does_not)
{
    long long cn = prov("cn1", 0);
    inv(cn, VCPU, 8);
    inv_full(cn, MEMORY_MB, 2048, 256, 2048, 256, 1024);
    struct tgroup *g = group("");
    res(g, VCPU, 2);
    res(g, MEMORY_MB, 512);
    struct result r = solve((struct run_opts){0});
    ck_assert_str_eq(r.text, "cn1:VCPU=2,MEMORY_MB=512");
    ck_assert_uint_eq(r.summaries, 1);

    g->amount[1] = 1280; /* more than the 1024 free */
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 0);
    g->amount[1] = 384; /* not a multiple of step_size 256 */
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 0);
    g->amount[1] = 512;
    g->amount[0] = 9; /* more than the total */
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 0);
}
END_TEST

START_TEST(a_tree_gives_one_candidate_per_choice_of_child)
{
    long long cn = prov("cn1", 0);
    long long n0 = prov("numa0", cn), n1 = prov("numa1", cn);
    inv(cn, DISK_GB, 100);
    inv(n0, VCPU, 4);
    inv(n1, VCPU, 4);
    inv_full(n1, MEMORY_MB, 1024, 1, 1024, 1, 1024); /* full: numa1 cannot give memory */
    inv(n0, MEMORY_MB, 1024);
    struct tgroup *g = group("");
    res(g, VCPU, 2);
    res(g, DISK_GB, 10);
    struct result r = solve((struct run_opts){0});
    ck_assert_str_eq(r.text, "numa0:VCPU=2 cn1:DISK_GB=10; numa1:VCPU=2 cn1:DISK_GB=10");
    ck_assert_uint_eq(r.summaries, 3); /* the whole tree */
    res(g, MEMORY_MB, 512);
    /* The unsuffixed group may take each class from another provider. */
    ck_assert_str_eq(solve((struct run_opts){0}).text,
                     "numa0:VCPU=2,MEMORY_MB=512 cn1:DISK_GB=10; "
                     "numa1:VCPU=2 cn1:DISK_GB=10 numa0:MEMORY_MB=512");
}
END_TEST

START_TEST(a_sharing_provider_serves_the_trees_of_its_aggregate)
{
    long long cn1 = prov("cn1", 0), cn2 = prov("cn2", 0), ss = prov("ss", 0);
    inv(cn1, VCPU, 8);
    inv(cn2, VCPU, 8);
    inv(ss, DISK_GB, 1000);
    trait(ss, SHARES);
    agg(cn1, AGG1);
    agg(ss, AGG1);
    agg(cn2, AGG2);
    struct tgroup *g = group("");
    res(g, VCPU, 1);
    res(g, DISK_GB, 100);
    struct result r = solve((struct run_opts){0});
    ck_assert_str_eq(r.text, "cn1:VCPU=1 ss:DISK_GB=100");
    ck_assert_uint_eq(r.summaries, 2); /* cn1, then ss from the sharing world */
}
END_TEST

/* ---- Traits and aggregates ---- */

START_TEST(required_traits_may_come_from_any_provider_used_and_forbidden_from_none)
{
    long long cn = prov("cn1", 0);
    long long n0 = prov("numa0", cn);
    inv(cn, DISK_GB, 100);
    inv(n0, VCPU, 4);
    trait(cn, SSD);
    trait(n0, AVX);
    struct tgroup *g = group("");
    res(g, VCPU, 1);
    res(g, DISK_GB, 1);
    g->required_ids[0][0] = AVX;
    g->n_required_ids[0] = 1;
    g->required_ids[1][0] = SSD;
    g->n_required_ids[1] = 1;
    g->n_required = 2;
    ck_assert_str_eq(solve((struct run_opts){0}).text, "numa0:VCPU=1 cn1:DISK_GB=1");
    g->n_required = 1;
    g->forbidden_ids[0] = SSD;
    g->n_forbidden = 1;
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 0);
}
END_TEST

START_TEST(member_of_holds_through_the_root_and_root_traits_filter_anchors)
{
    long long cn1 = prov("cn1", 0);
    long long n0 = prov("numa0", cn1);
    long long cn2 = prov("cn2", 0);
    inv(n0, VCPU, 4);
    inv(cn2, VCPU, 4);
    agg(cn1, AGG1); /* the root's aggregate spans its tree */
    trait(cn2, AVX);
    struct tgroup *g = group("");
    res(g, VCPU, 1);
    g->member_of_ids[0] = AGG1;
    g->n_member_of_ids = 1;
    ck_assert_str_eq(solve((struct run_opts){0}).text, "numa0:VCPU=1");
    g->n_member_of_ids = 0;
    ck_assert_str_eq(solve((struct run_opts){.root_req = AVX}).text, "cn2:VCPU=1");
    ck_assert_str_eq(solve((struct run_opts){.root_forb = AVX}).text, "numa0:VCPU=1");
}
END_TEST

/* ---- Granular groups ---- */

START_TEST(isolate_keeps_granular_groups_on_distinct_providers)
{
    long long cn = prov("cn1", 0);
    long long n0 = prov("numa0", cn), n1 = prov("numa1", cn);
    inv(n0, VCPU, 4);
    inv(n1, VCPU, 4);
    res(group("_A"), VCPU, 2);
    res(group("_B"), VCPU, 2);
    ck_assert_str_eq(solve((struct run_opts){0}).text,
                     "numa0:VCPU=4; numa0:VCPU=2 numa1:VCPU=2; numa1:VCPU=2 numa0:VCPU=2; "
                     "numa1:VCPU=4");
    ck_assert_str_eq(solve((struct run_opts){.isolate = true}).text,
                     "numa0:VCPU=2 numa1:VCPU=2; numa1:VCPU=2 numa0:VCPU=2");
    groups[1].amount[0] = 3; /* 2 + 3 > 4: only distinct providers fit */
    ck_assert_str_eq(solve((struct run_opts){0}).text,
                     "numa0:VCPU=2 numa1:VCPU=3; numa1:VCPU=2 numa0:VCPU=3");
}
END_TEST

START_TEST(same_subtree_needs_one_provider_above_the_others)
{
    long long cn = prov("cn1", 0);
    long long n0 = prov("numa0", cn), n1 = prov("numa1", cn);
    long long f0 = prov("fpga0", n0);
    inv(n0, VCPU, 4);
    inv(n1, VCPU, 4);
    inv(f0, FPGA, 1);
    res(group("_CPU"), VCPU, 1);
    res(group("_ACC"), FPGA, 1);
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 2);
    struct result r =
        solve((struct run_opts){.same_subtree = {"_CPU", "_ACC"}, .n_same_subtree = 2});
    ck_assert_str_eq(r.text, "numa0:VCPU=1 fpga0:CUSTOM_FPGA=1");
}
END_TEST

/* ---- Limits and pruning ---- */

START_TEST(limit_stops_after_enough_candidates)
{
    for (int i = 0; i < 5; i++)
        inv(prov(i == 0 ? "cn1" : i == 1 ? "cn2" : i == 2 ? "cn3" : i == 3 ? "cn4" : "cn5", 0),
            VCPU, 4);
    res(group(""), VCPU, 1);
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 5);
    struct result r = solve((struct run_opts){.limit = 2});
    ck_assert_str_eq(r.text, "cn1:VCPU=1; cn2:VCPU=1");
    ck_assert_uint_eq(r.summaries, 2);
}
END_TEST

START_TEST(the_work_limit_gives_up)
{
    for (int i = 0; i < 4; i++)
        inv(prov("cn", 0), VCPU, 4);
    res(group(""), VCPU, 1);
    ck_assert_int_eq(solve((struct run_opts){0}).gave_up, CAND_BAD_NONE);
    struct result r = solve((struct run_opts){.work_limit = 3});
    ck_assert_int_eq(r.gave_up, CAND_WORK_LIMIT);
    ck_assert_uint_lt(r.candidates, 4);
}
END_TEST

/* A tree that cannot hold the groups' summed amounts is dropped before any
 * combination is tried (tree_has_room). */
START_TEST(a_tree_without_room_for_the_summed_amounts_is_not_searched)
{
    long long cn = prov("cn1", 0);
    long long n0 = prov("numa0", cn), n1 = prov("numa1", cn);
    inv(n0, VCPU, 4);
    inv(n1, VCPU, 4);
    res(group("_A"), VCPU, 3);
    res(group("_B"), VCPU, 3);
    struct result r = solve((struct run_opts){0});
    ck_assert_uint_eq(r.candidates, 2);
    ck_assert_uint_eq(r.leaves, 2);
    groups[1].amount[0] = 6; /* 3 + 6 > 8 */
    r = solve((struct run_opts){0});
    ck_assert_uint_eq(r.candidates, 0);
    ck_assert_uint_eq(r.leaves, 0);
    ck_assert_int_eq(r.anchor_fail, CX_COMBINED);
}
END_TEST

/* Interchangeable siblings (twins): once one led to nothing, the others are
 * skipped, since by symmetry they lead to nothing either. */
START_TEST(twins_that_led_nowhere_are_not_tried_again)
{
    long long cn = prov("cn1", 0);
    for (int i = 0; i < 8; i++)
        inv(prov("pf", cn), VCPU, 4);
    long long x = prov("acc", cn);
    inv(x, FPGA, 1);
    res(group("_A"), VCPU, 1);
    res(group("_B"), FPGA, 1);
    ck_assert_uint_eq(solve((struct run_opts){0}).candidates, 8);
    /* Siblings are never in one subtree: the first twin's one leaf fails
     * same_subtree and its seven twins are skipped. */
    struct result r = solve((struct run_opts){.same_subtree = {"_A", "_B"}, .n_same_subtree = 2});
    ck_assert_uint_eq(r.candidates, 0);
    ck_assert_uint_eq(r.leaves, 1);
    ck_assert_int_eq(r.anchor_fail, CX_SAME_SUBTREE);
}
END_TEST

/* Explain: each tree that yields nothing is charged to its first failing
 * constraint, and a provider that fails one check is a near miss. */
START_TEST(explain_charges_a_tree_to_its_first_failure)
{
    inv(prov("cn1", 0), VCPU, 8);
    inv_full(prov("cn2", 0), VCPU, 8, 1, 8, 1, 7); /* 1 free */
    long long cn3 = prov("cn3", 0);
    inv(cn3, DISK_GB, 100);
    res(group(""), VCPU, 2);
    struct cand_explain x = {.near_max = 5};
    struct result r = solve((struct run_opts){.explain = &x});
    ck_assert_uint_eq(r.candidates, 0); /* counted, not emitted */
    ck_assert_uint_eq(r.summaries, 0);
    ck_assert_uint_eq(x.trees, 3);
    ck_assert_uint_eq(x.trees_ok, 1);
    ck_assert_uint_eq(x.candidates, 1);
    ck_assert_uint_eq(x.why.n, 2); /* in constraint order */
    ck_assert_int_eq(x.why.v[0].r.what, CX_NO_INVENTORY);
    ck_assert_str_eq(x.why.v[0].r.name, "VCPU");
    ck_assert_int_eq(x.why.v[1].r.what, CX_CAPACITY);
    ck_assert_int_eq(x.why.v[1].r.asked, 2);
    ck_assert_int_eq(x.why.v[1].r.have, 1);
    ck_assert_uint_eq(x.n_near, 1); /* cn2; cn3 lacks the class altogether */
    ck_assert_str_eq(x.near[0].uuid, "cn2");
    ck_assert_int_eq(x.near[0].capacity, 8);
    ck_assert_int_eq(x.near[0].used, 7);
    cand_explain_free(&x);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("solver");
    TCase *tc = tcase_create("solver");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, a_lone_provider_fits_or_does_not);
    tcase_add_test(tc, a_tree_gives_one_candidate_per_choice_of_child);
    tcase_add_test(tc, a_sharing_provider_serves_the_trees_of_its_aggregate);
    tcase_add_test(tc, required_traits_may_come_from_any_provider_used_and_forbidden_from_none);
    tcase_add_test(tc, member_of_holds_through_the_root_and_root_traits_filter_anchors);
    tcase_add_test(tc, isolate_keeps_granular_groups_on_distinct_providers);
    tcase_add_test(tc, same_subtree_needs_one_provider_above_the_others);
    tcase_add_test(tc, limit_stops_after_enough_candidates);
    tcase_add_test(tc, the_work_limit_gives_up);
    tcase_add_test(tc, a_tree_without_room_for_the_summed_amounts_is_not_searched);
    tcase_add_test(tc, twins_that_led_nowhere_are_not_tried_again);
    tcase_add_test(tc, explain_charges_a_tree_to_its_first_failure);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
