/* Fixtures for the candidates engine's store tests (tests/store/test_candidates_*.c):
 * providers written with plain SQL under short names, queries built
 * group by group, and the answer or explanation collected as text for
 * readable asserts. One fixture at a time per process (Check forks each test). */
#ifndef PLACID_TESTS_CANDIDATES_FIXTURES_H
#define PLACID_TESTS_CANDIDATES_FIXTURES_H

#include <stdbool.h>
#include <stddef.h>

#include "store/candidates.h"
#include "support.h"

#define MAX_RP 512
#define AGG_A  "aaaaaaaa-0000-0000-0000-000000000001"
#define AGG_B  "bbbbbbbb-0000-0000-0000-000000000002"
#define PACKED "COMPUTE_NET_VIRTIO_PACKED"

extern struct store *cand_st;      /* the test's store: owned by the fixture */
extern char cand_db_path[96];      /* its database file */
extern char sum_names[MAX_RP][32]; /* the last run()'s summary names, in answer order */

/* Check fixture: a fresh migrated store; teardown also frees the last explanation. */
void cand_fixture_setup(void);
void cand_fixture_teardown(void);

/* ---- Providers (rows written directly) ---- */

/* Creates provider `name` (uuid c0000000-...-<n>) under parent (or a root). */
long long rp(const char *name, const char *parent);
/* rp(), then inv(name, rc, total). */
long long rp_inv(const char *name, const char *parent, const char *rc, long long total);
const char *uuid_of(const char *name); /* fails the test for an unknown name */
const char *name_of(const char *uuid); /* "?" for an unknown uuid */
void inv_full(const char *name, const char *rc, long long total, long long reserved,
              long long min_unit, long long max_unit, long long step, double ratio);
/* Inventory with Placement's defaults and max_unit = total. */
void inv(const char *name, const char *rc, long long total);
void trait(const char *name, const char *t);
void agg(const char *name, const char *agg_uuid);
/* An allocation of `used` by a new consumer. */
void alloc(const char *name, const char *rc, long long used);

/* The layout of oracle/allocation-candidates-packed.txt: cn1 (root, VCPU 8,
 * MEMORY_MB 4096, PACKED), cn2 (root, VCPU + MEMORY_MB, no trait), cn3 (root,
 * MEMORY_MB only, PACKED) with child numa3 (VCPU 8), ss (DISK_GB 1000,
 * sharing), aggregate A on cn1, cn2, ss. */
void packed_layout(void);

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

/* A new empty query (nested aware); owned by the caller until run() or explain(). */
struct qb *qb_new(void);
/* qb_new() with one unsuffixed group of res. */
struct qb *qb_one(const char *res);
/* Adds a group: "VCPU:1,MEMORY_MB:512" (may be ""), suffix "" or "1". */
struct cand_group *group(struct qb *b, const char *suffix, const char *res);
/* A required trait (one-name any-of set), or "!T" forbidden, on group g. */
void req(struct qb *b, size_t g, const char *t);
/* A member_of aggregate, or "!A" forbidden, on group g. */
void member_of(struct qb *b, size_t g, const char *a);
/* A root_required trait, or "!T" root-forbidden. */
void root_req(struct qb *b, const char *t);
/* The query's first same_subtree: suffixes s1 and s2. */
void same_subtree(struct qb *b, const char *s1, const char *s2);
void qb_free(struct qb *b);

/* ---- The answer as text ---- */

struct answer {
    char cands[65536]; /* "cn1(MEMORY_MB=512,VCPU=1); cn3(...)+numa3(...)" in order */
    char maps[65536];  /* "|:cn1" per candidate, groups "|suffix:name,name" */
    char sums[2048];   /* summary provider names, sorted, space separated */
    char sum_detail[65536];
    size_t n_cands, n_sums;
    enum store_rc rc;
    struct cand_failure fail;
};

/* Runs the query on cand_st and frees b. The answer is static: valid until the next run(). */
struct answer *run(struct qb *b);
/* Candidates sorted, for asserts that do not care about order (static buffer). */
const char *sorted_cands(const struct answer *a);

#define ASSERT_CANDS(a, expected) ck_assert_str_eq(sorted_cands(a), expected)

/* ---- Explain: counting per constraint ---- */

struct xanswer {
    struct cand_explain x;
    enum store_rc rc;
    struct cand_failure fail;
    char why[1024];       /* "what[/group][:name][!](asked>have)=trees ..." */
    char groups[4][1024]; /* the same per group */
    char near[1024];      /* "name:what:rc(asked>have) ..." */
};

/* Explains the query (near_max 3) on cand_st and frees b. The answer is
 * static: valid until the next explain(); teardown frees the last one. */
struct xanswer *explain(struct qb *b);

#endif
