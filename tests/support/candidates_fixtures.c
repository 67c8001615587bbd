/* Fixtures for the candidates engine's store tests: see candidates_fixtures.h. */
#include "candidates_fixtures.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"
/* ---- Fixture helpers: rows written directly, names for readable asserts ---- */

struct store *cand_st;
char cand_db_path[96];

static char rp_names[MAX_RP][32];
static char rp_uuids[MAX_RP][37];
static size_t n_rp;

/* column (id or root_id) of the provider named name (names here are plain
 * identifiers: no quoting needed). */
static long long sql_id(const char *column, const char *name)
{
    long long id = test_sql_value(cand_st, "SELECT %s FROM providers WHERE name = '%s'", column,
                                  name);
    ck_assert_msg(id > 0, "no provider %s", name);
    return id;
}

/* Creates provider `name` (uuid c0000000-...-<n>) under parent (or a root). */
long long rp(const char *name, const char *parent)
{
    size_t i = n_rp++;
    snprintf(rp_names[i], sizeof(rp_names[i]), "%s", name);
    snprintf(rp_uuids[i], sizeof(rp_uuids[i]), "c0000000-0000-0000-0000-%012zx", i + 1);
    if (parent) {
        long long pid = sql_id("id", parent);
        long long root = sql_id("root_id", parent);
        test_sql(cand_st,
                 "INSERT INTO providers(uuid, name, parent_id, root_id, created_at) "
                 "VALUES ('%s', '%s', %lld, %lld, 0)",
                 rp_uuids[i], name, pid, root);
    } else {
        test_sql(cand_st,
                 "INSERT INTO providers(uuid, name, root_id, created_at) VALUES ('%s', '%s', 0, 0)",
                 rp_uuids[i], name);
        test_sql(cand_st, "UPDATE providers SET root_id = id WHERE name = '%s'", name);
    }
    return sql_id("id", name);
}

const char *uuid_of(const char *name)
{
    for (size_t i = 0; i < n_rp; i++)
        if (strcmp(rp_names[i], name) == 0)
            return rp_uuids[i];
    ck_abort_msg("no provider %s", name);
    return NULL;
}

const char *name_of(const char *uuid)
{
    for (size_t i = 0; i < n_rp; i++)
        if (strcmp(rp_uuids[i], uuid) == 0)
            return rp_names[i];
    return "?";
}

void inv_full(const char *name, const char *rc, long long total, long long reserved,
              long long min_unit, long long max_unit, long long step, double ratio)
{
    if (strncmp(rc, "CUSTOM_", 7) == 0)
        test_sql(cand_st,
                 "INSERT INTO resource_classes(id, name, created_at) SELECT "
                 "COALESCE(MAX(id) + 1, 10000), '%s', 0 FROM resource_classes WHERE id >= 10000 "
                 "ON CONFLICT DO NOTHING",
                 rc);
    test_sql(cand_st,
             "INSERT INTO inventories(provider_id, resource_class_id, total, reserved, min_unit, "
             "max_unit, step_size, allocation_ratio, created_at) SELECT p.id, c.id, %lld, %lld, "
             "%lld, %lld, %lld, %f, 0 FROM providers p, resource_classes c "
             "WHERE p.name = '%s' AND c.name = '%s'",
             total, reserved, min_unit, max_unit, step, ratio, name, rc);
}

void inv(const char *name, const char *rc, long long total)
{
    inv_full(name, rc, total, 0, 1, total, 1, 1.0);
}

long long rp_inv(const char *name, const char *parent, const char *rc, long long total)
{
    long long id = rp(name, parent);
    inv(name, rc, total);
    return id;
}

void trait(const char *name, const char *t)
{
    test_sql(cand_st, "INSERT INTO traits(name, created_at) VALUES ('%s', 0) ON CONFLICT DO NOTHING", t);
    test_sql(
        cand_st,
        "INSERT INTO provider_traits(provider_id, trait_id) SELECT p.id, t.id FROM providers p, "
        "traits t WHERE p.name = '%s' AND t.name = '%s'",
        name, t);
}

void agg(const char *name, const char *agg_uuid)
{
    test_sql(cand_st,
             "INSERT INTO aggregates(uuid, created_at) VALUES ('%s', 0) ON CONFLICT DO NOTHING",
             agg_uuid);
    test_sql(cand_st,
             "INSERT INTO provider_aggregates(provider_id, aggregate_id) SELECT p.id, a.id FROM "
             "providers p, aggregates a WHERE p.name = '%s' AND a.uuid = '%s'",
             name, agg_uuid);
}

void alloc(const char *name, const char *rc, long long used)
{
    static int consumer;
    /* No explicit ids: PostgreSQL's identity columns would hand the same
     * ids out again to the store's own inserts. */
    test_sql(cand_st, "INSERT INTO projects(external_id) VALUES ('p') ON CONFLICT DO NOTHING");
    test_sql(cand_st, "INSERT INTO users(external_id) VALUES ('u') ON CONFLICT DO NOTHING");
    test_sql(cand_st,
             "INSERT INTO consumers(uuid, project_id, user_id, created_at) "
             "SELECT 'd0000000-0000-0000-0000-%012x', p.id, u.id, 0 FROM projects p, users u "
             "WHERE p.external_id = 'p' AND u.external_id = 'u'",
             ++consumer);
    test_sql(
        cand_st,
        "INSERT INTO allocations(provider_id, consumer_id, resource_class_id, used, created_at) "
        "SELECT p.id, (SELECT MAX(id) FROM consumers), c.id, %lld, 0 FROM providers p, "
        "resource_classes c WHERE p.name = '%s' AND c.name = '%s'",
        used, name, rc);
}

void cand_fixture_setup(void)
{
    cand_st = test_store_open(cand_db_path);
    n_rp = 0;
}

static struct cand_explain *explain_to_free; /* the last explanation */

void cand_fixture_teardown(void)
{
    if (explain_to_free)
        cand_explain_free(explain_to_free);
    test_store_close(cand_st, cand_db_path);
}

void packed_layout(void)
{
    rp_inv("cn1", NULL, "VCPU", 8);
    inv("cn1", "MEMORY_MB", 4096);
    trait("cn1", PACKED);
    rp_inv("cn2", NULL, "VCPU", 8);
    inv("cn2", "MEMORY_MB", 4096);
    rp_inv("cn3", NULL, "MEMORY_MB", 4096);
    trait("cn3", PACKED);
    rp_inv("numa3", "cn3", "VCPU", 8);
    rp_inv("ss", NULL, "DISK_GB", 1000);
    trait("ss", "MISC_SHARES_VIA_AGGREGATE");
    agg("cn1", AGG_A);
    agg("cn2", AGG_A);
    agg("ss", AGG_A);
}

/* ---- Query building ---- */

struct qb *qb_new(void)
{
    struct qb *b = calloc(1, sizeof(*b));
    b->q.groups = b->groups;
    b->q.nested_aware = true;
    b->q.same_subtree = b->subtree;
    b->q.root_required.names = b->root_req;
    b->q.root_forbidden.names = b->root_forb;
    return b;
}

struct qb *qb_one(const char *res)
{
    struct qb *b = qb_new();
    group(b, "", res);
    return b;
}

/* Adds a group: "VCPU:1,MEMORY_MB:512" (may be ""), suffix "" or "1". */
struct cand_group *group(struct qb *b, const char *suffix, const char *res)
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
void req(struct qb *b, size_t g, const char *t)
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

void member_of(struct qb *b, size_t g, const char *a)
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

void root_req(struct qb *b, const char *t)
{
    if (t[0] == '!')
        b->root_forb[b->q.root_forbidden.n++] = t + 1;
    else
        b->root_req[b->q.root_required.n++] = t;
}

void same_subtree(struct qb *b, const char *s1, const char *s2)
{
    b->subtree_names[0][0] = s1;
    b->subtree_names[0][1] = s2;
    b->subtree[0] = (struct cand_names){b->subtree_names[0], 2};
    b->q.n_same_subtree = 1;
}

void qb_free(struct qb *b)
{
    for (size_t g = 0; g < b->n_groups; g++)
        for (size_t i = 0; i < b->groups[g].n_res; i++)
            free((char *)b->rcs[g][i]);
    free(b);
}

/* ---- Collecting the answer as text ---- */

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

char sum_names[MAX_RP][32];

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

struct answer *run(struct qb *b)
{
    static struct answer a;
    memset(&a, 0, sizeof(a));
    a.rc = store_candidates_get(cand_st, &b->q, on_request, on_summary, &a, &a.fail);
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
const char *sorted_cands(const struct answer *a)
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

/* ---- packed-ring.md section 6, cases 1 to 6 ---- */

/* ---- Explain: counting per constraint ---- */

static const char *const CX_NAMES[] = {"in_tree",      "aggregates", "traits",   "root_required",
                                       "no_inventory", "capacity",   "max_unit", "min_unit_step",
                                       "same_subtree", "isolate",    "combined"};

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

static int no_request(void *arg, const struct cand_request *r)
{
    (void)arg;
    (void)r;
    ck_abort_msg("explain streams no candidates");
    return 0;
}

static struct xanswer a_explained;

struct xanswer *explain(struct qb *b)
{
    struct xanswer a = a_explained;
    cand_explain_free(&a.x);
    memset(&a, 0, sizeof(a));
    a.x.near_max = 3;
    b->q.explain = &a.x;
    a.rc = store_candidates_get(cand_st, &b->q, no_request, NULL, NULL, &a.fail);
    tallies_text(&a.x.why, a.why, sizeof(a.why));
    for (size_t g = 0; g < a.x.n_groups && g < 4; g++)
        tallies_text(&a.x.groups[g].why, a.groups[g], sizeof(a.groups[g]));
    size_t len = 0;
    for (size_t i = 0; i < a.x.n_near; i++)
        len +=
            (size_t)snprintf(a.near + len, sizeof(a.near) - len, "%s%s:%s:%s(%lld>%lld)",
                             i ? " " : "", name_of(a.x.near[i].uuid), CX_NAMES[a.x.near[i].r.what],
                             a.x.near[i].r.name, a.x.near[i].r.asked, a.x.near[i].r.have);
    qb_free(b);
    a_explained = a;
    explain_to_free = &a_explained.x;
    return &a_explained;
}