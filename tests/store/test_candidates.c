/* The allocation candidates engine on fixtures written with plain SQL. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/candidates.h"
#include "store/internal.h"
#include "store/tree_cache.h"
#include "support.h"

/* ---- Fixture helpers: rows written directly, names for readable asserts ---- */

static struct store *st;
static char db_path[96];

#define MAX_RP 512
static char rp_names[MAX_RP][32];
static char rp_uuids[MAX_RP][37];
static size_t n_rp;

static long long sql_id(const char *query, const char *name)
{
    sqlite3_stmt *s;
    ck_assert_int_eq(sqlite3_prepare_v2(st->db, query, -1, &s, NULL), SQLITE_OK);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_TRANSIENT);
    ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
    long long id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

/* Creates provider `name` (uuid c0000000-...-<n>) under parent (or a root). */
static long long rp(const char *name, const char *parent)
{
    size_t i = n_rp++;
    snprintf(rp_names[i], sizeof(rp_names[i]), "%s", name);
    snprintf(rp_uuids[i], sizeof(rp_uuids[i]), "c0000000-0000-0000-0000-%012zx", i + 1);
    if (parent) {
        long long pid = sql_id("SELECT id FROM providers WHERE name = ?1", parent);
        long long root = sql_id("SELECT root_id FROM providers WHERE name = ?1", parent);
        test_sql(st,
                 "INSERT INTO providers(uuid, name, parent_id, root_id, created_at) "
                 "VALUES ('%s', '%s', %lld, %lld, 0)",
                 rp_uuids[i], name, pid, root);
    } else {
        test_sql(st,
                 "INSERT INTO providers(uuid, name, root_id, created_at) VALUES ('%s', '%s', 0, 0)",
                 rp_uuids[i], name);
        test_sql(st, "UPDATE providers SET root_id = id WHERE name = '%s'", name);
    }
    return sql_id("SELECT id FROM providers WHERE name = ?1", name);
}

static const char *uuid_of(const char *name)
{
    for (size_t i = 0; i < n_rp; i++)
        if (strcmp(rp_names[i], name) == 0)
            return rp_uuids[i];
    ck_abort_msg("no provider %s", name);
    return NULL;
}

static const char *name_of(const char *uuid)
{
    for (size_t i = 0; i < n_rp; i++)
        if (strcmp(rp_uuids[i], uuid) == 0)
            return rp_names[i];
    return "?";
}

static void inv_full(const char *name, const char *rc, long long total, long long reserved,
                     long long min_unit, long long max_unit, long long step, double ratio)
{
    if (strncmp(rc, "CUSTOM_", 7) == 0)
        test_sql(st,
                 "INSERT OR IGNORE INTO resource_classes(id, name, created_at) SELECT "
                 "COALESCE(MAX(id) + 1, 10000), '%s', 0 FROM resource_classes WHERE id >= 10000",
                 rc);
    test_sql(st,
             "INSERT INTO inventories(provider_id, resource_class_id, total, reserved, min_unit, "
             "max_unit, step_size, allocation_ratio, created_at) SELECT p.id, c.id, %lld, %lld, "
             "%lld, %lld, %lld, %f, 0 FROM providers p, resource_classes c "
             "WHERE p.name = '%s' AND c.name = '%s'",
             total, reserved, min_unit, max_unit, step, ratio, name, rc);
}

static void inv(const char *name, const char *rc, long long total)
{
    inv_full(name, rc, total, 0, 1, total, 1, 1.0);
}

static void trait(const char *name, const char *t)
{
    test_sql(st, "INSERT OR IGNORE INTO traits(name, created_at) VALUES ('%s', 0)", t);
    test_sql(
        st,
        "INSERT INTO provider_traits(provider_id, trait_id) SELECT p.id, t.id FROM providers p, "
        "traits t WHERE p.name = '%s' AND t.name = '%s'",
        name, t);
}

static void agg(const char *name, const char *agg_uuid)
{
    test_sql(st, "INSERT OR IGNORE INTO aggregates(uuid, created_at) VALUES ('%s', 0)", agg_uuid);
    test_sql(st,
             "INSERT INTO provider_aggregates(provider_id, aggregate_id) SELECT p.id, a.id FROM "
             "providers p, aggregates a WHERE p.name = '%s' AND a.uuid = '%s'",
             name, agg_uuid);
}

static void alloc(const char *name, const char *rc, long long used)
{
    static int consumer;
    test_sql(st, "INSERT OR IGNORE INTO projects(id, external_id) VALUES (1, 'p')");
    test_sql(st, "INSERT OR IGNORE INTO users(id, external_id) VALUES (1, 'u')");
    test_sql(st,
             "INSERT INTO consumers(uuid, project_id, user_id, created_at) "
             "VALUES ('d0000000-0000-0000-0000-%012x', 1, 1, 0)",
             ++consumer);
    test_sql(
        st,
        "INSERT INTO allocations(provider_id, consumer_id, resource_class_id, used, created_at) "
        "SELECT p.id, (SELECT MAX(id) FROM consumers), c.id, %lld, 0 FROM providers p, "
        "resource_classes c WHERE p.name = '%s' AND c.name = '%s'",
        used, name, rc);
}

#define AGG_A  "aaaaaaaa-0000-0000-0000-000000000001"
#define AGG_B  "bbbbbbbb-0000-0000-0000-000000000002"
#define PACKED "COMPUTE_NET_VIRTIO_PACKED"

static void setup(void)
{
    st = test_store_open(db_path);
    n_rp = 0;
}

static struct cand_explain *explain_to_free; /* the last explanation */

static void teardown(void)
{
    if (explain_to_free)
        cand_explain_free(explain_to_free);
    test_store_close(st, db_path);
}

/* The layout of oracle/allocation-candidates-packed.txt: cn1 (root, VCPU 8,
 * MEMORY_MB 4096, PACKED), cn2 (root, VCPU + MEMORY_MB, no trait), cn3 (root,
 * MEMORY_MB only, PACKED) with child numa3 (VCPU 8), ss (DISK_GB 1000,
 * sharing), aggregate A on cn1, cn2, ss. */
static void packed_layout(void)
{
    rp("cn1", NULL);
    inv("cn1", "VCPU", 8);
    inv("cn1", "MEMORY_MB", 4096);
    trait("cn1", PACKED);
    rp("cn2", NULL);
    inv("cn2", "VCPU", 8);
    inv("cn2", "MEMORY_MB", 4096);
    rp("cn3", NULL);
    inv("cn3", "MEMORY_MB", 4096);
    trait("cn3", PACKED);
    rp("numa3", "cn3");
    inv("numa3", "VCPU", 8);
    rp("ss", NULL);
    inv("ss", "DISK_GB", 1000);
    trait("ss", "MISC_SHARES_VIA_AGGREGATE");
    agg("cn1", AGG_A);
    agg("cn2", AGG_A);
    agg("ss", AGG_A);
}

/* ---- Query building ---- */

#define QB_GROUPS 16

struct qb {
    struct cand_group groups[QB_GROUPS];
    size_t n_groups;
    const char *rcs[QB_GROUPS][8];
    long long amounts[QB_GROUPS][8];
    struct cand_names req[QB_GROUPS][8];
    const char *req_names[QB_GROUPS][8][4];
    const char *forb[QB_GROUPS][8];
    struct cand_names mof[QB_GROUPS][4];
    const char *mof_names[QB_GROUPS][4][4];
    const char *forb_aggs[QB_GROUPS][4];
    const char *root_req[8], *root_forb[8];
    struct cand_names subtree[4];
    const char *subtree_names[4][QB_GROUPS];
    struct cand_query q;
};

static struct qb *qb_new(void)
{
    struct qb *b = calloc(1, sizeof(*b));
    b->q.groups = b->groups;
    b->q.nested_aware = true;
    b->q.same_subtree = b->subtree;
    b->q.root_required.names = b->root_req;
    b->q.root_forbidden.names = b->root_forb;
    return b;
}

/* Adds a group: "VCPU:1,MEMORY_MB:512" (may be ""), suffix "" or "1". */
static struct cand_group *group(struct qb *b, const char *suffix, const char *res)
{
    size_t g = b->n_groups++;
    struct cand_group *cg = &b->groups[g];
    cg->suffix = suffix;
    cg->rc_names = b->rcs[g];
    cg->amounts = b->amounts[g];
    cg->required = b->req[g];
    cg->forbidden.names = b->forb[g];
    cg->member_of = b->mof[g];
    cg->forbidden_aggs.names = b->forb_aggs[g];
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", res);
    for (char *save, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        *colon = '\0';
        b->rcs[g][cg->n_res] = strdup(tok);
        b->amounts[g][cg->n_res++] = strtoll(colon + 1, NULL, 10);
    }
    b->q.n_groups = b->n_groups;
    return cg;
}

/* A required trait (one-name any-of set), or "!T" forbidden, on group g. */
static void req(struct qb *b, size_t g, const char *t)
{
    struct cand_group *cg = &b->groups[g];
    if (t[0] == '!') {
        b->forb[g][cg->forbidden.n++] = t + 1;
        return;
    }
    size_t i = cg->n_required++;
    b->req_names[g][i][0] = t;
    b->req[g][i] = (struct cand_names){b->req_names[g][i], 1};
}

static void member_of(struct qb *b, size_t g, const char *a)
{
    struct cand_group *cg = &b->groups[g];
    if (a[0] == '!') {
        b->forb_aggs[g][cg->forbidden_aggs.n++] = a + 1;
        return;
    }
    size_t i = cg->n_member_of++;
    b->mof_names[g][i][0] = a;
    b->mof[g][i] = (struct cand_names){b->mof_names[g][i], 1};
}

static void root_req(struct qb *b, const char *t)
{
    if (t[0] == '!')
        b->root_forb[b->q.root_forbidden.n++] = t + 1;
    else
        b->root_req[b->q.root_required.n++] = t;
}

static void qb_free(struct qb *b)
{
    for (size_t g = 0; g < b->n_groups; g++)
        for (size_t i = 0; i < b->groups[g].n_res; i++)
            free((char *)b->rcs[g][i]);
    free(b);
}

/* ---- Collecting the answer as text ---- */

struct answer {
    char cands[65536]; /* "cn1(MEMORY_MB=512,VCPU=1); cn3(...)+numa3(...)" in order */
    char maps[65536];  /* "|:cn1" per candidate, groups "|suffix:name,name" */
    char sums[2048];   /* summary provider names, sorted, space separated */
    char sum_detail[65536];
    size_t n_cands, n_sums;
    enum store_rc rc;
    struct cand_failure fail;
};

static int on_request(void *arg, const struct cand_request *r)
{
    struct answer *a = arg;
    char parts[16][256];
    const char *sorted[16];
    size_t n = 0;
    for (size_t i = 0; i < r->n_items;) {
        const char *items[16];
        size_t k = 0;
        size_t j = i;
        char tmp[16][64];
        for (; j < r->n_items && r->items[j].rp_uuid == r->items[i].rp_uuid; j++, k++) {
            snprintf(tmp[k], sizeof(tmp[k]), "%s=%lld", r->items[j].rc, r->items[j].amount);
            items[k] = tmp[k];
        }
        qsort(items, k, sizeof(*items), strptr_cmp);
        int len = snprintf(parts[n], sizeof(parts[n]), "%s(", name_of(r->items[i].rp_uuid));
        for (size_t x = 0; x < k; x++)
            len += snprintf(parts[n] + len, sizeof(parts[n]) - (size_t)len, "%s%s", x ? "," : "",
                            items[x]);
        snprintf(parts[n] + len, sizeof(parts[n]) - (size_t)len, ")");
        sorted[n] = parts[n];
        n++;
        i = j;
    }
    qsort(sorted, n, sizeof(*sorted), strptr_cmp);
    size_t len = strlen(a->cands);
    len += (size_t)snprintf(a->cands + len, sizeof(a->cands) - len, "%s", a->n_cands ? "; " : "");
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(a->cands + len, sizeof(a->cands) - len, "%s%s", i ? "+" : "",
                                sorted[i]);
    len = strlen(a->maps);
    len += (size_t)snprintf(a->maps + len, sizeof(a->maps) - len, "%s", a->n_cands ? "; " : "");
    for (size_t m = 0; m < r->n_mappings; m++) {
        const char *names[16];
        for (size_t i = 0; i < r->mappings[m].n; i++)
            names[i] = name_of(r->mappings[m].rp_uuids[i]);
        qsort(names, r->mappings[m].n, sizeof(*names), strptr_cmp);
        len +=
            (size_t)snprintf(a->maps + len, sizeof(a->maps) - len, "|%s:", r->mappings[m].suffix);
        for (size_t i = 0; i < r->mappings[m].n; i++)
            len += (size_t)snprintf(a->maps + len, sizeof(a->maps) - len, "%s%s", i ? "," : "",
                                    names[i]);
    }
    a->n_cands++;
    return 0;
}

static char sum_names[MAX_RP][32];

static int on_summary(void *arg, const struct cand_summary *s)
{
    struct answer *a = arg;
    snprintf(sum_names[a->n_sums], sizeof(sum_names[0]), "%s", name_of(s->uuid));
    a->n_sums++;
    size_t len = strlen(a->sum_detail);
    len += (size_t)snprintf(a->sum_detail + len, sizeof(a->sum_detail) - len,
                            "%s[parent=%s,root=%s", name_of(s->uuid),
                            s->parent_uuid ? name_of(s->parent_uuid) : "-", name_of(s->root_uuid));
    for (size_t i = 0; i < s->n_res; i++)
        len += (size_t)snprintf(a->sum_detail + len, sizeof(a->sum_detail) - len, " %s=%lld/%lld",
                                s->res[i].rc, s->res[i].used, s->res[i].capacity);
    for (size_t i = 0; i < s->n_traits; i++)
        len +=
            (size_t)snprintf(a->sum_detail + len, sizeof(a->sum_detail) - len, " %s", s->traits[i]);
    snprintf(a->sum_detail + len, sizeof(a->sum_detail) - len, "] ");
    return 0;
}

static struct answer *run(struct qb *b)
{
    static struct answer a;
    memset(&a, 0, sizeof(a));
    a.rc = store_candidates_get(st, &b->q, on_request, on_summary, &a, &a.fail);
    const char *names[MAX_RP];
    for (size_t i = 0; i < a.n_sums; i++)
        names[i] = sum_names[i];
    qsort(names, a.n_sums, sizeof(*names), strptr_cmp);
    size_t len = 0;
    for (size_t i = 0; i < a.n_sums; i++)
        len += (size_t)snprintf(a.sums + len, sizeof(a.sums) - len, "%s%s", i ? " " : "", names[i]);
    qb_free(b);
    return &a;
}

/* Candidates sorted, for asserts that do not care about order. */
static const char *sorted_cands(const struct answer *a)
{
    static char out[65536];
    static char copy[65536];
    const char *parts[1024];
    size_t n = 0;
    snprintf(copy, sizeof(copy), "%s", a->cands);
    for (char *save, *tok = strtok_r(copy, ";", &save); tok; tok = strtok_r(NULL, ";", &save))
        parts[n++] = tok[0] == ' ' ? tok + 1 : tok;
    qsort(parts, n, sizeof(*parts), strptr_cmp);
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "; " : "", parts[i]);
    return out;
}

#define ASSERT_CANDS(a, expected) ck_assert_str_eq(sorted_cands(a), expected)

/* ---- packed-ring.md section 6, cases 1 to 6 ---- */

START_TEST(packed_case1_root_required_keeps_trees_whose_root_has_the_trait)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    root_req(b, PACKED);
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn3 numa3");
}
END_TEST

START_TEST(packed_case2_no_trait_term_gives_every_host)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2 cn3 numa3");
}
END_TEST

START_TEST(packed_case4_forbidden_trait_excludes_trees_using_a_provider_with_it)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    req(b, 0, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn2");
}
END_TEST

START_TEST(packed_root_forbidden_keeps_roots_without_the_trait)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    root_req(b, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)");
}
END_TEST

START_TEST(packed_case5_required_is_tied_to_the_providers_used)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    req(b, 0, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1");
}
END_TEST

START_TEST(packed_case5_root_required_lets_a_child_supply_the_vcpu)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    root_req(b, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(VCPU=1); numa3(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn3 numa3");
}
END_TEST

START_TEST(packed_case6_forbidden_and_root_required_same_trait_is_empty)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    req(b, 0, "!" PACKED);
    root_req(b, PACKED);
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    ck_assert_uint_eq(a->n_sums, 0);
}
END_TEST

START_TEST(packed_required_with_sharing_disk)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512,DISK_GB:10");
    req(b, 0, PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1)+ss(DISK_GB=10)");
    ck_assert_str_eq(a->sums, "cn1 ss");
    ck_assert_str_eq(a->maps, "|:cn1,ss");
}
END_TEST

START_TEST(packed_root_forbidden_with_sharing_disk)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512,DISK_GB:10");
    root_req(b, "!" PACKED);
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn2(MEMORY_MB=512,VCPU=1)+ss(DISK_GB=10)");
    ck_assert_str_eq(a->sums, "cn2 ss");
}
END_TEST

START_TEST(packed_old_microversion_drops_multi_provider_trees)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    b->q.nested_aware = false;
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2");
}
END_TEST

START_TEST(packed_granular_isolate_and_none)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MEMORY_MB:512");
    b->q.isolate = true;
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_str_eq(a->maps, "|1:numa3|2:cn3");
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MEMORY_MB:512");
    a = run(b);
    ASSERT_CANDS(a, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
}
END_TEST

/* ---- Limits, order, randomization ---- */

START_TEST(order_is_by_anchor_id_and_limit_keeps_a_prefix)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    struct answer *a = run(b);
    ck_assert_str_eq(a->cands, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                               "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    b->q.limit = 2;
    a = run(b);
    ck_assert_str_eq(a->cands, "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1 cn2");
}
END_TEST

START_TEST(limit_cuts_summaries_to_the_kept_trees)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    b->q.limit = 1;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 1);
    ck_assert_str_eq(a->cands, "cn1(VCPU=1)");
    ck_assert_str_eq(a->sums, "cn1");
}
END_TEST

START_TEST(limit_over_many_flat_providers_stops_early)
{
    char name[32];
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "h%03d", i);
        rp(name, NULL);
        inv(name, "VCPU", 4);
    }
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    b->q.limit = 10;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 10);
    ck_assert_uint_eq(a->n_sums, 10);
    ck_assert_str_eq(sum_names[0], "h000");
    b = qb_new();
    group(b, "", "VCPU:1");
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 300);
    ck_assert_uint_eq(a->n_sums, 300);
}
END_TEST

START_TEST(randomize_with_limit_samples_from_the_full_answer)
{
    char name[32];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "h%02d", i);
        rp(name, NULL);
        inv(name, "VCPU", 4);
    }
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    b->q.limit = 5;
    b->q.randomize = true;
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 5);
    ck_assert_uint_eq(a->n_sums, 5);
    b = qb_new();
    group(b, "", "VCPU:1");
    b->q.randomize = true;
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 40);
    ck_assert_uint_eq(a->n_sums, 40);
}
END_TEST

/* ---- Capacity, summaries ---- */

START_TEST(usage_and_reserved_shrink_capacity)
{
    rp("cn", NULL);
    inv_full("cn", "VCPU", 8, 2, 1, 8, 1, 2.0); /* capacity (8-2)*2 = 12 */
    alloc("cn", "VCPU", 10);
    struct qb *b = qb_new();
    group(b, "", "VCPU:2");
    struct answer *a = run(b);
    ASSERT_CANDS(a, "cn(VCPU=2)");
    ck_assert_str_eq(a->sum_detail, "cn[parent=-,root=cn VCPU=10/12] ");
    b = qb_new();
    group(b, "", "VCPU:3");
    a = run(b);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(min_max_unit_and_step_size_are_checked)
{
    rp("cn", NULL);
    inv_full("cn", "MEMORY_MB", 4096, 0, 256, 2048, 256, 1.0);
    const char *ok[] = {"MEMORY_MB:256", "MEMORY_MB:2048", "MEMORY_MB:512"};
    const char *bad[] = {"MEMORY_MB:128", "MEMORY_MB:2304", "MEMORY_MB:300"};
    for (int i = 0; i < 3; i++) {
        struct qb *b = qb_new();
        group(b, "", ok[i]);
        ck_assert_uint_eq(run(b)->n_cands, 1);
        b = qb_new();
        group(b, "", bad[i]);
        ck_assert_uint_eq(run(b)->n_cands, 0);
    }
}
END_TEST

START_TEST(summaries_show_parent_root_traits_and_empty_providers)
{
    rp("cn", NULL);
    trait("cn", "HW_CPU_X86_AVX2");
    rp("numa", "cn");
    inv("numa", "VCPU", 4);
    trait("numa", "CUSTOM_FOO");
    trait("numa", "HW_NUMA_ROOT");
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    struct answer *a = run(b);
    ck_assert_str_eq(a->sum_detail, "cn[parent=-,root=cn HW_CPU_X86_AVX2] "
                                    "numa[parent=cn,root=cn VCPU=0/4 HW_NUMA_ROOT CUSTOM_FOO] ");
}
END_TEST

START_TEST(groups_summing_the_same_provider_are_checked_again)
{
    rp("cn", NULL);
    inv_full("cn", "VGPU", 8, 0, 1, 2, 1, 1.0);
    struct qb *b = qb_new();
    group(b, "", "VGPU:1");
    group(b, "1", "VGPU:1");
    ASSERT_CANDS(run(b), "cn(VGPU=2)");
    b = qb_new();
    group(b, "", "VGPU:1");
    group(b, "1", "VGPU:1");
    group(b, "2", "VGPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 0); /* 3 > max_unit 2 */
}
END_TEST

/* ---- Sharing providers, aggregates, in_tree, same_subtree ---- */

START_TEST(sharing_only_candidate_is_reported_once)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "DISK_GB:100");
    struct answer *a = run(b);
    ck_assert_str_eq(a->cands, "ss(DISK_GB=100)");
    ck_assert_str_eq(a->sums, "ss");
}
END_TEST

START_TEST(sharing_needs_an_aggregate_and_the_trait)
{
    rp("cn", NULL);
    inv("cn", "VCPU", 4);
    rp("sh", NULL);
    inv("sh", "DISK_GB", 100);
    agg("cn", AGG_A);
    agg("sh", AGG_A);
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,DISK_GB:10");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    trait("sh", "MISC_SHARES_VIA_AGGREGATE");
    b = qb_new();
    group(b, "", "VCPU:1,DISK_GB:10");
    ASSERT_CANDS(run(b), "cn(VCPU=1)+sh(DISK_GB=10)");
}
END_TEST

START_TEST(member_of_accepts_the_root_aggregate_for_children)
{
    rp("cn", NULL);
    rp("numa", "cn");
    inv("numa", "VCPU", 4);
    agg("cn", AGG_A);
    rp("other", NULL);
    inv("other", "VCPU", 4);
    agg("other", AGG_B);
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "numa(VCPU=1)");
    b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, "!" AGG_A);
    ASSERT_CANDS(run(b), "other(VCPU=1)");
    /* A suffixed group needs the provider itself in the aggregate. */
    b = qb_new();
    group(b, "1", "VCPU:1");
    member_of(b, 0, AGG_A);
    ck_assert_uint_eq(run(b)->n_cands, 0);
}
END_TEST

START_TEST(unknown_aggregate_matches_nothing)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, "99999999-0000-0000-0000-000000000000");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(in_tree_keeps_the_group_in_one_tree)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1")->in_tree = uuid_of("numa3");
    ASSERT_CANDS(run(b), "numa3(VCPU=1)");
    b = qb_new();
    group(b, "", "VCPU:1,DISK_GB:10")->in_tree = uuid_of("cn1");
    ck_assert_uint_eq(run(b)->n_cands, 0); /* the sharing disk is out of the tree */
    b = qb_new();
    group(b, "", "VCPU:1");
    group(b, "1", "DISK_GB:10")->in_tree = uuid_of("ss");
    ASSERT_CANDS(run(b), "cn1(VCPU=1)+ss(DISK_GB=10); cn2(VCPU=1)+ss(DISK_GB=10)");
}
END_TEST

START_TEST(same_subtree_ties_groups_under_one_provider)
{
    rp("cn", NULL);
    rp("numa0", "cn");
    inv("numa0", "VCPU", 4);
    rp("fpga0", "numa0");
    inv("fpga0", "FPGA", 1);
    rp("numa1", "cn");
    inv("numa1", "VCPU", 4);
    rp("fpga1", "numa1");
    inv("fpga1", "FPGA", 1);
    struct qb *b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 4);
    b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    b->subtree_names[0][0] = "_C";
    b->subtree_names[0][1] = "_A";
    b->subtree[0] = (struct cand_names){b->subtree_names[0], 2};
    b->q.n_same_subtree = 1;
    a = run(b);
    ASSERT_CANDS(a, "fpga0(FPGA=1)+numa0(VCPU=1); fpga1(FPGA=1)+numa1(VCPU=1)");
}
END_TEST

START_TEST(resourceless_group_maps_a_provider_by_trait)
{
    rp("cn", NULL);
    rp("nic", "cn");
    trait("nic", "CUSTOM_HW_NIC_ROOT");
    rp("pf", "nic");
    inv("pf", "CUSTOM_VF", 8);
    struct qb *b = qb_new();
    group(b, "_PORT", "CUSTOM_VF:2");
    group(b, "_NIC", "");
    req(b, 1, "CUSTOM_HW_NIC_ROOT");
    b->subtree_names[0][0] = "_NIC";
    b->subtree_names[0][1] = "_PORT";
    b->subtree[0] = (struct cand_names){b->subtree_names[0], 2};
    b->q.n_same_subtree = 1;
    struct answer *a = run(b);
    ASSERT_CANDS(a, "pf(CUSTOM_VF=2)");
    ck_assert_str_eq(a->maps, "|_PORT:pf|_NIC:nic");
    ck_assert_str_eq(a->sums, "cn nic pf");
}
END_TEST

/* ---- Unknown names ---- */

START_TEST(unknown_names_are_reported)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MCPU:2");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_RESOURCE_CLASS);
    ck_assert_str_eq(a->fail.name, "MCPU");
    b = qb_new();
    group(b, "", "VCPU:1");
    req(b, 0, "CUSTOM_NOPE");
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
    ck_assert_str_eq(a->fail.name, "CUSTOM_NOPE");
    b = qb_new();
    group(b, "", "VCPU:1");
    root_req(b, "CUSTOM_ROOTLESS");
    a = run(b);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
}
END_TEST

START_TEST(an_empty_earlier_group_hides_a_later_unknown_trait)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:1")->in_tree = "99999999-0000-0000-0000-000000000000";
    group(b, "2", "VCPU:1");
    req(b, 1, "CUSTOM_NOPE");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(a_group_matching_nothing_hides_a_later_unknown_class)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "1", "VCPU:100"); /* no provider has that much */
    group(b, "2", "MCPU:1");
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "MCPU:1");
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_str_eq(a->fail.name, "MCPU");
}
END_TEST

/* ---- The shared tree cache: never older than the reader's snapshot ---- */

static struct answer *run_vcpu_memory(void)
{
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    return run(b);
}

START_TEST(cached_trees_follow_every_kind_of_write)
{
    packed_layout();
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_uint_gt(tree_cache_bytes(st->trees), 0);
    alloc("cn1", "VCPU", 8);
    ASSERT_CANDS(run_vcpu_memory(),
                 "cn2(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    test_sql(st, "UPDATE inventories SET total = 16, max_unit = 16 WHERE resource_class_id = "
                 "(SELECT id FROM resource_classes WHERE name = 'VCPU') AND provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn1')");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    test_sql(st, "DELETE FROM inventories WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn2') AND resource_class_id = "
                 "(SELECT id FROM resource_classes WHERE name = 'MEMORY_MB')");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    /* numa3 moves to cn2's tree: cn3 loses its VCPU, cn2 still has no memory. */
    test_sql(st, "UPDATE providers SET parent_id = (SELECT id FROM providers WHERE name = 'cn2'), "
                 "root_id = (SELECT id FROM providers WHERE name = 'cn2') WHERE name = 'numa3'");
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1)");
    test_sql(st, "DELETE FROM allocations");
    test_sql(st, "DELETE FROM inventories WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn1')");
    test_sql(st, "DELETE FROM providers WHERE name = 'cn1'");
    ASSERT_CANDS(run_vcpu_memory(), "");
}
END_TEST

START_TEST(cached_traits_and_aggregates_follow_writes)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    root_req(b, PACKED);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); numa3(VCPU=1)");
    test_sql(st, "DELETE FROM provider_traits WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn3')");
    b = qb_new();
    group(b, "", "VCPU:1");
    root_req(b, PACKED);
    ASSERT_CANDS(run(b), "cn1(VCPU=1)");
    b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); cn2(VCPU=1)");
    test_sql(st, "DELETE FROM provider_aggregates WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn2')");
    agg("cn3", AGG_A);
    b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, AGG_A);
    ASSERT_CANDS(run(b), "cn1(VCPU=1); numa3(VCPU=1)");
}
END_TEST

/* Roots in three blocks, one tree whose child was created in the last block,
 * and writes through another connection (another process, for all the
 * cache knows). */
START_TEST(cached_blocks_see_writes_from_another_connection)
{
    char name[32];
    for (int i = 0; i < 140; i++) {
        snprintf(name, sizeof(name), "r%d", i);
        rp(name, NULL);
        inv(name, "VCPU", 1);
    }
    rp("late_child", "r3");
    inv("late_child", "VCPU", 4);
    struct qb *b = qb_new();
    group(b, "", "VCPU:2");
    ASSERT_CANDS(run(b), "late_child(VCPU=2)");
    b = qb_new();
    group(b, "", "VCPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 141);
    test_sql_file(db_path, "UPDATE inventories SET total = 2, max_unit = 2 WHERE provider_id = "
                           "(SELECT id FROM providers WHERE name = 'r130')");
    test_sql_file(db_path, "UPDATE inventories SET total = 1, max_unit = 1 WHERE provider_id = "
                           "(SELECT id FROM providers WHERE name = 'late_child')");
    b = qb_new();
    group(b, "", "VCPU:2");
    ASSERT_CANDS(run(b), "r130(VCPU=2)");
    test_sql_file(db_path, "DELETE FROM inventories WHERE provider_id IN "
                           "(SELECT id FROM providers WHERE name IN ('r0', 'r70'))");
    b = qb_new();
    group(b, "", "VCPU:1");
    ck_assert_uint_eq(run(b)->n_cands, 139);
}
END_TEST

START_TEST(without_a_cache_budget_nothing_is_kept)
{
    packed_layout();
    tree_cache_set_budget(st->trees, 0);
    ASSERT_CANDS(run_vcpu_memory(), "cn1(MEMORY_MB=512,VCPU=1); cn2(MEMORY_MB=512,VCPU=1); "
                                    "cn3(MEMORY_MB=512)+numa3(VCPU=1)");
    ck_assert_uint_eq(tree_cache_bytes(st->trees), 0);
}
END_TEST

/* ---- Bounded work: pruning, the work limit, cancellation, overflow ---- */

static const char *const SUFFIXES[] = {"1", "2", "3", "4",  "5",  "6",  "7",  "8",
                                       "9", "10", "11", "12", "13", "14", "15", "16"};

/* A root r with n children c0.. holding `units` of CUSTOM_X each; distinct
 * children carry a trait of their own (so they are not twins). */
static void fan(int n, long long units, bool distinct)
{
    rp("r", NULL);
    for (int i = 0; i < n; i++) {
        char name[16], t[32];
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(t, sizeof(t), "CUSTOM_T%d", i);
        rp(name, "r");
        inv(name, "CUSTOM_X", units);
        if (distinct)
            trait(name, t);
    }
}

/* n suffixed groups of CUSTOM_X:1, optionally all in one same_subtree. */
static struct qb *fan_query(int n, bool subtree, unsigned long long work_limit)
{
    struct qb *b = qb_new();
    for (int i = 0; i < n; i++)
        group(b, SUFFIXES[i], "CUSTOM_X:1");
    if (subtree) {
        for (int i = 0; i < n; i++)
            b->subtree_names[0][i] = SUFFIXES[i];
        b->subtree[0] = (struct cand_names){b->subtree_names[0], (size_t)n};
        b->q.n_same_subtree = 1;
    }
    b->q.work_limit = work_limit;
    return b;
}

START_TEST(more_groups_than_the_tree_can_hold_is_rejected_before_enumeration)
{
    fan(10, 1, true);
    /* 11 groups, 10 units: without the capacity check this enumerates every
     * injective assignment (about 10^7 steps). */
    struct answer *a = run(fan_query(11, false, 1000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
    /* The ten that fit: the first candidate comes at once. */
    struct qb *b = fan_query(10, false, 1000);
    b->q.limit = 1;
    a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 1);
}
END_TEST

START_TEST(max_unit_bounds_what_a_provider_can_give_all_groups)
{
    rp("r", NULL);
    for (int i = 0; i < 10; i++) {
        char name[16], t[32];
        snprintf(name, sizeof(name), "c%d", i);
        snprintf(t, sizeof(t), "CUSTOM_T%d", i);
        rp(name, "r");
        inv_full(name, "CUSTOM_X", 5, 0, 1, 1, 1, 1.0); /* 5 free, at most 1 per candidate */
        trait(name, t);
    }
    struct answer *a = run(fan_query(11, false, 1000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(isolate_with_fewer_providers_than_groups_is_rejected_before_enumeration)
{
    fan(10, 5, true);
    struct qb *b = fan_query(11, false, 1000);
    b->q.isolate = true;
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(twins_are_not_enumerated_in_every_order)
{
    fan(10, 1, false);
    /* Only the leaf can tell (same_subtree of siblings never holds): one
     * failed twin stands for all the others at each depth. */
    struct answer *a = run(fan_query(10, true, 10000));
    ck_assert_int_eq(a->rc, STORE_OK);
    ck_assert_uint_eq(a->n_cands, 0);
}
END_TEST

START_TEST(twins_that_lead_to_candidates_are_all_reported)
{
    fan(3, 1, false);
    struct answer *a = run(fan_query(3, false, 0));
    ck_assert_uint_eq(a->n_cands, 6); /* every order: the mappings differ */
    ck_assert_str_eq(a->maps, "|1:c0|2:c1|3:c2; |1:c0|2:c2|3:c1; |1:c1|2:c0|3:c2; "
                              "|1:c1|2:c2|3:c0; |1:c2|2:c0|3:c1; |1:c2|2:c1|3:c0");
    /* A provider that is not a twin (a trait of its own) must take group 1. */
    rp("b", "r");
    inv("b", "CUSTOM_X", 1);
    trait("b", "CUSTOM_B");
    struct qb *q = fan_query(3, false, 0);
    req(q, 0, "CUSTOM_B");
    group(q, "4", "CUSTOM_X:1");
    a = run(q);
    ck_assert_uint_eq(a->n_cands, 6);
    ck_assert_str_eq(a->maps, "|1:b|2:c0|3:c1|4:c2; |1:b|2:c0|3:c2|4:c1; |1:b|2:c1|3:c0|4:c2; "
                              "|1:b|2:c1|3:c2|4:c0; |1:b|2:c2|3:c0|4:c1; |1:b|2:c2|3:c1|4:c0");
}
END_TEST

START_TEST(a_search_past_the_work_limit_gives_up)
{
    fan(10, 1, true); /* no twins: nothing prunes the same_subtree search */
    struct answer *a = run(fan_query(10, true, 20000));
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_WORK_LIMIT);
}
END_TEST

static int n_polls;

static bool cancel_on_second_poll(void *arg)
{
    (void)arg;
    return ++n_polls >= 2;
}

START_TEST(a_cancelled_search_stops)
{
    fan(10, 1, true);
    struct qb *b = fan_query(10, true, 0);
    b->q.cancelled = cancel_on_second_poll;
    n_polls = 0;
    struct answer *a = run(b);
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_CANCELLED);
    ck_assert_int_eq(n_polls, 2);
}
END_TEST

START_TEST(huge_amounts_and_capacities_do_not_overflow)
{
    rp("cn", NULL);
    inv_full("cn", "VCPU", LLONG_MAX, 0, 1, LLONG_MAX, 1, 1.0);
    alloc("cn", "VCPU", 5);
    rp("odd", NULL);
    inv_full("odd", "MEMORY_MB", 10, 0, 1, 10, 1, 1e30); /* capacity past int64 */
    struct qb *b = qb_new();
    group(b, "", "VCPU:9223372036854775807");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    b = qb_new(); /* 2^62 + 2^62 overflows: more than any capacity */
    group(b, "1", "VCPU:4611686018427387904");
    group(b, "2", "VCPU:4611686018427387904");
    ck_assert_uint_eq(run(b)->n_cands, 0);
    b = qb_new(); /* 2^63 - 10 <= 2^63 - 1 - 5 */
    group(b, "1", "VCPU:4611686018427387904");
    group(b, "2", "VCPU:4611686018427387894");
    ck_assert_uint_eq(run(b)->n_cands, 1);
    b = qb_new();
    group(b, "", "MEMORY_MB:10");
    struct answer *a = run(b);
    ck_assert_uint_eq(a->n_cands, 1);
    ck_assert_str_eq(a->sum_detail, "odd[parent=-,root=odd MEMORY_MB=0/9223372036854775807] ");
}
END_TEST

/* ---- Explain: counting per constraint ---- */

static const char *const CX_NAMES[] = {"in_tree",  "aggregates", "traits",       "root_required",
                                       "no_inventory", "capacity", "max_unit", "min_unit_step",
                                       "same_subtree", "isolate",  "combined"};

/* "what[/group][:name][!](asked>have)=trees ..." */
static void tallies_text(const struct cand_tallies *t, char *out, size_t size)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < t->n; i++) {
        const struct cand_reason *r = &t->v[i].r;
        char group[24] = "", nums[64] = ""; /* "/" and a size_t */
        if (r->group != SIZE_MAX)
            snprintf(group, sizeof(group), "/%zu", r->group);
        if (r->what == CX_CAPACITY || r->what == CX_MAX_UNIT || r->what == CX_COMBINED ||
            r->what == CX_MIN_UNIT_STEP)
            snprintf(nums, sizeof(nums), "(%lld>%lld)", r->asked, r->have);
        len += (size_t)snprintf(out + len, size - len, "%s%s%s%s%s%s%s=%zu", i ? " " : "",
                                CX_NAMES[r->what], group, r->name[0] ? ":" : "", r->name,
                                r->forbidden ? "!" : "", nums, t->v[i].trees);
    }
}

struct xanswer {
    struct cand_explain x;
    enum store_rc rc;
    struct cand_failure fail;
    char why[1024];
    char groups[4][1024];
    char near[1024];
};

static int no_request(void *arg, const struct cand_request *r)
{
    (void)arg;
    (void)r;
    ck_abort_msg("explain streams no candidates");
    return 0;
}

static struct xanswer a_explained;

static struct xanswer *explain(struct qb *b)
{
    struct xanswer a = a_explained;
    cand_explain_free(&a.x);
    memset(&a, 0, sizeof(a));
    a.x.near_max = 3;
    b->q.explain = &a.x;
    a.rc = store_candidates_get(st, &b->q, no_request, NULL, NULL, &a.fail);
    tallies_text(&a.x.why, a.why, sizeof(a.why));
    for (size_t g = 0; g < a.x.n_groups && g < 4; g++)
        tallies_text(&a.x.groups[g].why, a.groups[g], sizeof(a.groups[g]));
    size_t len = 0;
    for (size_t i = 0; i < a.x.n_near; i++)
        len += (size_t)snprintf(a.near + len, sizeof(a.near) - len, "%s%s:%s:%s(%lld>%lld)",
                                i ? " " : "", name_of(a.x.near[i].uuid),
                                CX_NAMES[a.x.near[i].r.what], a.x.near[i].r.name,
                                a.x.near[i].r.asked, a.x.near[i].r.have);
    qb_free(b);
    a_explained = a;
    explain_to_free = &a_explained.x;
    return &a_explained;
}

START_TEST(explain_packed_ring_names_the_missing_root_trait_and_counts_like_the_query)
{
    packed_layout();
    struct qb *b = qb_new();
    group(b, "", "VCPU:1,MEMORY_MB:512");
    root_req(b, PACKED);
    struct xanswer *a = explain(b);
    ck_assert_int_eq(a->rc, STORE_OK);
    /* cn1, cn2, cn3 and the sharing ss are roots. */
    ck_assert_uint_eq(a->x.trees, 4);
    ck_assert_uint_eq(a->x.trees_ok, 2);
    ck_assert_uint_eq(a->x.candidates, 2); /* as packed_case1 */
    /* ss fails earlier (no VCPU... but root_required comes first in the
     * order: it lacks the trait too). */
    ck_assert_str_eq(a->why, "root_required:" PACKED "=2");
    ck_assert_str_eq(a->groups[0], "no_inventory/0:VCPU=1");
    ck_assert_uint_eq(a->x.groups[0].trees_ok, 3);
    ck_assert_str_eq(a->near, "cn2:root_required:" PACKED "(0>0)");
}
END_TEST

START_TEST(explain_capacity_max_unit_and_step_with_near_misses_nearest_first)
{
    rp("full", NULL);
    inv_full("full", "VCPU", 8, 0, 1, 8, 1, 1.0);
    alloc("full", "VCPU", 6); /* 2 free */
    rp("fuller", NULL);
    inv_full("fuller", "VCPU", 8, 0, 1, 8, 1, 1.0);
    alloc("fuller", "VCPU", 7); /* 1 free */
    rp("small", NULL);
    inv_full("small", "VCPU", 64, 0, 1, 2, 1, 1.0); /* max_unit 2 */
    rp("stepped", NULL);
    inv_full("stepped", "VCPU", 64, 0, 4, 64, 4, 1.0); /* min_unit 4, step 4 */
    rp("none", NULL);
    inv("none", "MEMORY_MB", 64);
    rp("ok", NULL);
    inv("ok", "VCPU", 8);
    struct qb *b = qb_new();
    group(b, "", "VCPU:3");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 6);
    ck_assert_uint_eq(a->x.trees_ok, 1);
    ck_assert_uint_eq(a->x.candidates, 1);
    ck_assert_str_eq(a->why, "no_inventory/0:VCPU=1 capacity/0:VCPU(3>2)=2 max_unit/0:VCPU(3>2)=1 "
                             "min_unit_step/0:VCPU(3>4)=1");
    /* Nearest first (K = 3): full and small miss 1 of 3 (ties in tree
     * order), min_unit/step counts 0.5, fuller (2 of 3) is cut. */
    ck_assert_str_eq(a->near, "full:capacity:VCPU(3>2) small:max_unit:VCPU(3>2) "
                              "stepped:min_unit_step:VCPU(3>4)");
}
END_TEST

/* A tree of one provider takes a short path (issue 12, explain's cost):
 * the first failure over all classes in the constraint order, and a near
 * miss only when it failed one check; a two-provider tree the general one. */
START_TEST(explain_lone_providers_first_failure_across_classes)
{
    rp("a", NULL); /* VCPU: max_unit 2; MEMORY_MB: 4 free */
    inv_full("a", "VCPU", 8, 0, 1, 2, 1, 1.0);
    inv("a", "MEMORY_MB", 64);
    alloc("a", "MEMORY_MB", 60);
    rp("b", NULL); /* MEMORY_MB: max_unit 5 */
    inv("b", "VCPU", 8);
    inv_full("b", "MEMORY_MB", 64, 0, 1, 5, 1, 1.0);
    rp("c", NULL); /* VCPU: min_unit 4, step 4 */
    inv_full("c", "VCPU", 8, 0, 4, 8, 4, 1.0);
    inv("c", "MEMORY_MB", 64);
    rp("d", NULL); /* no MEMORY_MB */
    inv("d", "VCPU", 8);
    rp("t", NULL); /* two providers: VCPU on the root, MEMORY_MB 9 free on a child */
    inv("t", "VCPU", 8);
    rp("tc", "t");
    inv_full("tc", "MEMORY_MB", 9, 0, 1, 64, 1, 1.0);
    struct qb *b = qb_new();
    group(b, "", "VCPU:3,MEMORY_MB:10");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 5);
    ck_assert_uint_eq(a->x.trees_ok, 0);
    ck_assert_str_eq(a->why, "no_inventory/0:MEMORY_MB=1 capacity/0:MEMORY_MB(10>9)=2 "
                             "max_unit/0:MEMORY_MB(10>5)=1 min_unit_step/0:VCPU(3>4)=1");
    ck_assert_str_eq(a->groups[0], a->why);
    /* Near misses of the failing class: tc is 0.1 short, b and c 0.5 (in
     * tree order), a 0.6 (cut at K = 3); d, without the class, is none. */
    ck_assert_str_eq(a->near, "tc:capacity:MEMORY_MB(10>9) b:max_unit:MEMORY_MB(10>5) "
                              "c:min_unit_step:VCPU(3>4)");
}
END_TEST

/* An unknown name the plain query never reaches (it stops at the first
 * group or root_required that matches nothing): the explanation answers
 * too, the name matching nothing; where the plain query fails, it fails. */
static struct qb *unknown_after_empty(int which)
{
    struct qb *b = qb_new();
    if (which == 0) { /* an aggregate nobody is in, then the trait, in one group */
        group(b, "", "VCPU:1");
        member_of(b, 0, AGG_B);
        req(b, 0, "CUSTOM_NOPE");
    } else if (which == 1) { /* root_required nobody has, then the trait */
        group(b, "", "VCPU:1");
        root_req(b, "CUSTOM_GOLD");
        req(b, 0, "CUSTOM_NOPE");
    } else if (which == 2) { /* a group that fits nowhere, then the class */
        group(b, "1", "VCPU:100");
        group(b, "2", "CUSTOM_NOPE:1");
    } else { /* nothing empty before the unknown trait */
        group(b, "", "VCPU:1");
        req(b, 0, "CUSTOM_NOPE");
    }
    return b;
}

START_TEST(explain_answers_where_the_plain_query_answers)
{
    rp("cn1", NULL);
    inv("cn1", "VCPU", 8);
    trait("cn1", "CUSTOM_SILVER");
    agg("cn1", AGG_A);
    rp("cn2", NULL); /* makes AGG_B and CUSTOM_GOLD known */
    agg("cn2", AGG_B);
    trait("cn2", "CUSTOM_GOLD");
    test_sql(st, "DELETE FROM provider_aggregates WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn2')");
    test_sql(st, "DELETE FROM provider_traits WHERE provider_id = "
                 "(SELECT id FROM providers WHERE name = 'cn2')");
    const char *why[] = {"aggregates/0=2", "traits/0:CUSTOM_NOPE=1 root_required:CUSTOM_GOLD=1",
                         "no_inventory/1:CUSTOM_NOPE=1 no_inventory/0:VCPU=1"};
    const char *group_why[] = {"aggregates/0=2", "traits/0:CUSTOM_NOPE=1 no_inventory/0:VCPU=1",
                               "no_inventory/1:CUSTOM_NOPE=2"};
    for (int i = 0; i < 3; i++) {
        struct answer *p = run(unknown_after_empty(i));
        ck_assert_int_eq(p->rc, STORE_OK);
        ck_assert_uint_eq(p->n_cands, 0);
        struct xanswer *a = explain(unknown_after_empty(i));
        ck_assert_msg(a->rc == STORE_OK, "case %d: rc %d", i, a->rc);
        ck_assert_uint_eq(a->x.trees, 2);
        ck_assert_uint_eq(a->x.candidates, 0);
        ck_assert_str_eq(a->why, why[i]);
        ck_assert_str_eq(a->groups[i == 2 ? 1 : 0], group_why[i]);
    }
    struct answer *p = run(unknown_after_empty(3));
    ck_assert_int_eq(p->rc, STORE_INVALID);
    ck_assert_int_eq(p->fail.kind, CAND_BAD_TRAIT);
    struct xanswer *a = explain(unknown_after_empty(3));
    ck_assert_int_eq(a->rc, STORE_INVALID);
    ck_assert_int_eq(a->fail.kind, CAND_BAD_TRAIT);
    ck_assert_str_eq(a->fail.name, "CUSTOM_NOPE");
}
END_TEST

START_TEST(explain_traits_aggregates_and_in_tree_in_order)
{
    rp("cn1", NULL);
    inv("cn1", "VCPU", 8);
    agg("cn1", AGG_A);
    rp("cn2", NULL);
    inv("cn2", "VCPU", 8);
    agg("cn2", AGG_A);
    trait("cn2", "CUSTOM_GOLD");
    rp("cn3", NULL);
    inv("cn3", "VCPU", 8);
    agg("cn3", AGG_B);
    trait("cn3", "CUSTOM_GOLD");
    rp("cn4", NULL);
    inv("cn4", "VCPU", 8);
    agg("cn4", AGG_A);
    trait("cn4", "CUSTOM_GOLD");
    trait("cn4", "CUSTOM_BAD");
    trait("cn1", "CUSTOM_BAD");
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, AGG_A);
    req(b, 0, "CUSTOM_GOLD");
    req(b, 0, "!CUSTOM_BAD");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 1); /* cn2 */
    /* cn3: wrong aggregate; cn1 and cn4: forbidden trait (first failing in
     * the order: forbidden CUSTOM_BAD is checked on each provider); */
    ck_assert_str_eq(a->why, "aggregates/0=1 traits/0:CUSTOM_BAD!=2");
    /* A forbidden aggregate: on the provider, or (unsuffixed) on its root. */
    b = qb_new();
    group(b, "", "VCPU:1");
    member_of(b, 0, "!" AGG_B);
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 3);
    ck_assert_str_eq(a->why, "aggregates/0!=1");
    b = qb_new();
    group(b, "1", "VCPU:1");
    req(b, 0, "CUSTOM_GOLD");
    b->groups[0].in_tree = uuid_of("cn3");
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 1);
    ck_assert_str_eq(a->why, "in_tree/0=3");
    /* A required trait nobody in the tree has, and any-of sets named. */
    b = qb_new();
    group(b, "1", "VCPU:1");
    req(b, 0, "CUSTOM_GOLD");
    a = explain(b);
    ck_assert_str_eq(a->why, "traits/0:CUSTOM_GOLD=1");
    ck_assert_str_eq(a->near, "cn1:traits:CUSTOM_GOLD(0>0)");
    /* Each required trait is on a usable provider, never both on one. */
    rp("t", NULL);
    rp("ta", "t");
    inv("ta", "PCPU", 1);
    trait("ta", "CUSTOM_A");
    rp("tb", "t");
    inv("tb", "PCPU", 1);
    trait("tb", "CUSTOM_B");
    b = qb_new();
    group(b, "", "PCPU:1");
    req(b, 0, "CUSTOM_A");
    req(b, 0, "CUSTOM_B");
    a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 0);
    ck_assert_str_eq(a->why, "traits/0=1 no_inventory/0:PCPU=4");
    /* ... and the group's own count says so (it has no choice in t). */
    ck_assert_str_eq(a->groups[0], "traits/0=1 no_inventory/0:PCPU=4");
    ck_assert_uint_eq(a->x.groups[0].trees_ok, 0);
    ck_assert_str_eq(a->near, "");
}
END_TEST

START_TEST(explain_nested_sharing_and_granular_groups)
{
    packed_layout();
    rp("cn5", NULL);
    inv("cn5", "MEMORY_MB", 4096);
    rp("numa5", "cn5");
    inv("numa5", "VCPU", 2);
    struct qb *b = qb_new();
    group(b, "", "MEMORY_MB:512,DISK_GB:100");
    group(b, "1", "VCPU:4");
    b->q.isolate = true;
    struct xanswer *a = explain(b);
    /* cn1, cn2: VCPU on the root, DISK_GB shared via A: ok. cn3: no disk.
     * cn5: no disk, VCPU too small. ss: its own tree, no MEMORY_MB. */
    ck_assert_uint_eq(a->x.trees, 5);
    ck_assert_uint_eq(a->x.trees_ok, 2);
    ck_assert_str_eq(a->why, "no_inventory/0:DISK_GB=2 no_inventory/0:MEMORY_MB=1");
    ck_assert_str_eq(a->groups[0], "no_inventory/0:DISK_GB=2 no_inventory/0:MEMORY_MB=1");
    ck_assert_str_eq(a->groups[1], "no_inventory/1:VCPU=1 capacity/1:VCPU(4>2)=1");
    ck_assert_uint_eq(a->x.groups[1].trees_ok, 3);
}
END_TEST

START_TEST(explain_same_subtree_isolate_and_summed_amounts)
{
    rp("cn", NULL);
    rp("numa0", "cn");
    inv("numa0", "VCPU", 4);
    rp("fpga1", "cn");
    inv("fpga1", "FPGA", 1);
    struct qb *b = qb_new();
    group(b, "_C", "VCPU:1");
    group(b, "_A", "FPGA:1");
    b->subtree_names[0][0] = "_C";
    b->subtree_names[0][1] = "_A";
    b->subtree[0] = (struct cand_names){b->subtree_names[0], 2};
    b->q.n_same_subtree = 1;
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.candidates, 0);
    ck_assert_str_eq(a->why, "same_subtree=1");
    b = qb_new();
    group(b, "1", "VCPU:1");
    group(b, "2", "VCPU:1");
    b->q.isolate = true;
    ck_assert_str_eq(explain(b)->why, "isolate=1");
    b = qb_new();
    group(b, "1", "VCPU:3");
    group(b, "2", "VCPU:3");
    ck_assert_str_eq(explain(b)->why, "combined:VCPU(6>4)=1");
}
END_TEST

START_TEST(explain_counts_do_not_change_the_answer)
{
    packed_layout();
    const char *queries[] = {"VCPU:1", "VCPU:1,MEMORY_MB:512", "DISK_GB:10", "VCPU:9"};
    for (size_t i = 0; i < 4; i++) {
        struct qb *b = qb_new();
        group(b, "", queries[i]);
        b->q.limit = 1;
        size_t plain_all;
        struct qb *c = qb_new();
        group(c, "", queries[i]);
        plain_all = run(c)->n_cands;
        struct xanswer *a = explain(b);
        ck_assert_uint_eq(a->x.candidates, plain_all);
    }
    /* No root has the trait: every tree is charged to it, not skipped. */
    struct qb *b = qb_new();
    group(b, "", "VCPU:1");
    root_req(b, "CUSTOM_NOBODY");
    trait("cn1", "CUSTOM_OTHER");
    test_sql(st, "INSERT INTO traits(name, created_at) VALUES ('CUSTOM_NOBODY', 0)");
    struct xanswer *a = explain(b);
    ck_assert_uint_eq(a->x.trees, 4);
    ck_assert_str_eq(a->why, "root_required:CUSTOM_NOBODY=4");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("candidates");
    TCase *tc = tcase_create("engine");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, packed_case1_root_required_keeps_trees_whose_root_has_the_trait);
    tcase_add_test(tc, packed_case2_no_trait_term_gives_every_host);
    tcase_add_test(tc, packed_case4_forbidden_trait_excludes_trees_using_a_provider_with_it);
    tcase_add_test(tc, packed_root_forbidden_keeps_roots_without_the_trait);
    tcase_add_test(tc, packed_case5_required_is_tied_to_the_providers_used);
    tcase_add_test(tc, packed_case5_root_required_lets_a_child_supply_the_vcpu);
    tcase_add_test(tc, packed_case6_forbidden_and_root_required_same_trait_is_empty);
    tcase_add_test(tc, packed_required_with_sharing_disk);
    tcase_add_test(tc, packed_root_forbidden_with_sharing_disk);
    tcase_add_test(tc, packed_old_microversion_drops_multi_provider_trees);
    tcase_add_test(tc, packed_granular_isolate_and_none);
    tcase_add_test(tc, order_is_by_anchor_id_and_limit_keeps_a_prefix);
    tcase_add_test(tc, limit_cuts_summaries_to_the_kept_trees);
    tcase_add_test(tc, limit_over_many_flat_providers_stops_early);
    tcase_add_test(tc, randomize_with_limit_samples_from_the_full_answer);
    tcase_add_test(tc, usage_and_reserved_shrink_capacity);
    tcase_add_test(tc, min_max_unit_and_step_size_are_checked);
    tcase_add_test(tc, summaries_show_parent_root_traits_and_empty_providers);
    tcase_add_test(tc, groups_summing_the_same_provider_are_checked_again);
    tcase_add_test(tc, sharing_only_candidate_is_reported_once);
    tcase_add_test(tc, sharing_needs_an_aggregate_and_the_trait);
    tcase_add_test(tc, member_of_accepts_the_root_aggregate_for_children);
    tcase_add_test(tc, unknown_aggregate_matches_nothing);
    tcase_add_test(tc, in_tree_keeps_the_group_in_one_tree);
    tcase_add_test(tc, same_subtree_ties_groups_under_one_provider);
    tcase_add_test(tc, resourceless_group_maps_a_provider_by_trait);
    tcase_add_test(tc, unknown_names_are_reported);
    tcase_add_test(tc, an_empty_earlier_group_hides_a_later_unknown_trait);
    tcase_add_test(tc, a_group_matching_nothing_hides_a_later_unknown_class);
    tcase_add_test(tc, cached_trees_follow_every_kind_of_write);
    tcase_add_test(tc, cached_traits_and_aggregates_follow_writes);
    tcase_add_test(tc, cached_blocks_see_writes_from_another_connection);
    tcase_add_test(tc, without_a_cache_budget_nothing_is_kept);
    tcase_add_test(tc, more_groups_than_the_tree_can_hold_is_rejected_before_enumeration);
    tcase_add_test(tc, max_unit_bounds_what_a_provider_can_give_all_groups);
    tcase_add_test(tc, isolate_with_fewer_providers_than_groups_is_rejected_before_enumeration);
    tcase_add_test(tc, twins_are_not_enumerated_in_every_order);
    tcase_add_test(tc, twins_that_lead_to_candidates_are_all_reported);
    tcase_add_test(tc, a_search_past_the_work_limit_gives_up);
    tcase_add_test(tc, a_cancelled_search_stops);
    tcase_add_test(tc, huge_amounts_and_capacities_do_not_overflow);
    tcase_add_test(tc, explain_packed_ring_names_the_missing_root_trait_and_counts_like_the_query);
    tcase_add_test(tc, explain_capacity_max_unit_and_step_with_near_misses_nearest_first);
    tcase_add_test(tc, explain_lone_providers_first_failure_across_classes);
    tcase_add_test(tc, explain_answers_where_the_plain_query_answers);
    tcase_add_test(tc, explain_traits_aggregates_and_in_tree_in_order);
    tcase_add_test(tc, explain_nested_sharing_and_granular_groups);
    tcase_add_test(tc, explain_same_subtree_isolate_and_summed_amounts);
    tcase_add_test(tc, explain_counts_do_not_change_the_answer);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
