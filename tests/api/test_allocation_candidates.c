/* GET /allocation_candidates through api_dispatch: validation, microversion
 * shapes and the packed-ring cases (packed-ring.md section 6). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/query.h"
#include "support.h"

static struct test_env env;

#define CN1    "c0000000-0000-0000-0000-000000000001"
#define CN2    "c0000000-0000-0000-0000-000000000002"
#define CN3    "c0000000-0000-0000-0000-000000000003"
#define NUMA3  "c0000000-0000-0000-0000-000000000004"
#define SS     "c0000000-0000-0000-0000-0000000000ff"
#define AGG_A  "aaaaaaaa-0000-0000-0000-000000000001"
#define PACKED "COMPUTE_NET_VIRTIO_PACKED"

static void rp(struct store *st, const char *name, const char *uuid, const char *parent)
{
    if (parent)
        test_sql(
            st,
            "INSERT INTO providers(uuid, name, parent_id, root_id, created_at) SELECT '%s', '%s', "
            "id, root_id, 0 FROM providers WHERE name = '%s'",
            uuid, name, parent);
    else
        test_sql(
            st,
            "INSERT INTO providers(uuid, name, root_id, created_at) VALUES ('%s', '%s', 0, 0); "
            "UPDATE providers SET root_id = id WHERE name = '%s'",
            uuid, name, name);
}

static void inv(struct store *st, const char *name, const char *rc, long long total)
{
    test_sql(st,
             "INSERT INTO inventories(provider_id, resource_class_id, total, max_unit, created_at) "
             "SELECT p.id, c.id, %lld, %lld, 0 FROM providers p, resource_classes c WHERE p.name = "
             "'%s' AND c.name = '%s'",
             total, total, name, rc);
}

static void trait(struct store *st, const char *name, const char *t)
{
    test_sql(
        st,
        "INSERT INTO provider_traits(provider_id, trait_id) SELECT p.id, t.id FROM providers p, "
        "traits t WHERE p.name = '%s' AND t.name = '%s'",
        name, t);
}

static void agg(struct store *st, const char *name)
{
    test_sql(st, "INSERT INTO aggregates(uuid, created_at) VALUES ('%s', 0) ON CONFLICT DO NOTHING",
             AGG_A);
    test_sql(st,
             "INSERT INTO provider_aggregates(provider_id, aggregate_id) SELECT p.id, a.id FROM "
             "providers p, aggregates a WHERE p.name = '%s' AND a.uuid = '%s'",
             name, AGG_A);
}

/* The layout of oracle/allocation-candidates-packed.txt. */
static void setup(void)
{
    test_env_open(&env);
    struct store *st = store_acquire(env.pool);
    rp(st, "cn1", CN1, NULL);
    inv(st, "cn1", "VCPU", 8);
    inv(st, "cn1", "MEMORY_MB", 4096);
    trait(st, "cn1", PACKED);
    rp(st, "cn2", CN2, NULL);
    inv(st, "cn2", "VCPU", 8);
    inv(st, "cn2", "MEMORY_MB", 4096);
    rp(st, "cn3", CN3, NULL);
    inv(st, "cn3", "MEMORY_MB", 4096);
    trait(st, "cn3", PACKED);
    rp(st, "numa3", NUMA3, "cn3");
    inv(st, "numa3", "VCPU", 8);
    rp(st, "ss", SS, NULL);
    inv(st, "ss", "DISK_GB", 1000);
    trait(st, "ss", "MISC_SHARES_VIA_AGGREGATE");
    agg(st, "cn1");
    agg(st, "cn2");
    agg(st, "ss");
    store_release(env.pool, st);
}

static void teardown(void)
{
    test_env_close(&env);
}

/* Calls GET /allocation_candidates?qs and returns the parsed answer (a new
 * reference: the success body or the error body). */
static json_t *get(const char *version, const char *qs, int *status)
{
    char path[1024];
    struct req rq;
    snprintf(path, sizeof(path), "/allocation_candidates?%s", qs);
    *status = test_call(&env, &rq, "GET", path, version, NULL);
    json_t *doc;
    if (!rq.err.status && rq.reply_text) {
        json_error_t jerr;
        doc = json_loadb(rq.reply_text, rq.reply_text_len, 0, &jerr);
        ck_assert_msg(doc != NULL, "bad JSON: %s", jerr.text);
    } else {
        doc = test_response(&rq);
    }
    req_release(&rq);
    return doc;
}

static const char *detail(json_t *doc)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(doc, "errors"), 0), "detail"));
}

#define ASSERT_400(version, qs, text)                                                              \
    do {                                                                                           \
        int status_;                                                                               \
        json_t *doc_ = get((version), (qs), &status_);                                             \
        ck_assert_int_eq(status_, 400);                                                            \
        ck_assert_msg(strstr(detail(doc_), (text)) != NULL, "detail %s lacks %s", detail(doc_),    \
                      (text));                                                                     \
        json_decref(doc_);                                                                         \
    } while (0)

/* The sorted list of "uuid,uuid" provider sets of the allocation requests
 * (dict form, 1.12+), e.g. "1 | 2 | 3+4" with the uuids' last digits. */
static const char *shape(json_t *doc)
{
    static char out[1024];
    char items[32][64];
    const char *sorted[32];
    size_t n = 0;
    json_t *reqs = json_object_get(doc, "allocation_requests"), *r;
    size_t i;
    json_array_foreach(reqs, i, r)
    {
        const char *uuids[8];
        size_t k = 0;
        const char *u;
        json_t *v;
        json_object_foreach(json_object_get(r, "allocations"), u, v) uuids[k++] = u;
        for (size_t a = 0; a < k; a++)
            for (size_t b = a + 1; b < k; b++)
                if (strcmp(uuids[a], uuids[b]) > 0) {
                    const char *t = uuids[a];
                    uuids[a] = uuids[b];
                    uuids[b] = t;
                }
        size_t len = 0;
        items[n][0] = '\0';
        for (size_t a = 0; a < k; a++)
            len += (size_t)snprintf(items[n] + len, sizeof(items[n]) - len, "%s%s", a ? "+" : "",
                                    uuids[a] + 34);
        sorted[n] = items[n];
        n++;
    }
    for (size_t a = 0; a < n; a++)
        for (size_t b = a + 1; b < n; b++)
            if (strcmp(sorted[a], sorted[b]) > 0) {
                const char *t = sorted[a];
                sorted[a] = sorted[b];
                sorted[b] = t;
            }
    size_t len = 0;
    out[0] = '\0';
    for (size_t a = 0; a < n; a++)
        len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", a ? " | " : "", sorted[a]);
    return out;
}

static size_t n_summaries(json_t *doc)
{
    return json_object_size(json_object_get(doc, "provider_summaries"));
}

#define ASSERT_SHAPE(version, qs, expected, summaries)                                             \
    do {                                                                                           \
        int status_;                                                                               \
        json_t *doc_ = get((version), (qs), &status_);                                             \
        ck_assert_int_eq(status_, 200);                                                            \
        ck_assert_str_eq(shape(doc_), (expected));                                                 \
        ck_assert_uint_eq(n_summaries(doc_), (summaries));                                         \
        json_decref(doc_);                                                                         \
    } while (0)

/* ---- packed-ring.md section 6 ---- */

START_TEST(packed_case1_root_required_keeps_trees_whose_root_has_the_trait)
{
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512&root_required=" PACKED, "01 | 03+04", 3);
}
END_TEST

START_TEST(packed_case2_no_trait_term_gives_all_hosts)
{
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512", "01 | 02 | 03+04", 4);
}
END_TEST

START_TEST(packed_case4_forbidden_trait_keeps_only_cn2)
{
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512&required=!" PACKED, "02", 1);
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512&root_required=!" PACKED, "02", 1);
}
END_TEST

START_TEST(packed_case5_required_versus_root_required)
{
    ASSERT_SHAPE("1.39", "resources=VCPU:1&required=" PACKED, "01", 1);
    ASSERT_SHAPE("1.39", "resources=VCPU:1&root_required=" PACKED, "01 | 04", 3);
}
END_TEST

START_TEST(packed_case6_conflicts)
{
    ASSERT_SHAPE(
        "1.39", "resources=VCPU:1,MEMORY_MB:512&required=!" PACKED "&root_required=" PACKED, "", 0);
    int status;
    json_t *doc = get("1.39", "resources=VCPU:1&root_required=" PACKED ",!" PACKED, &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(test_error_code(doc), "placement.query.bad_value");
    ck_assert_ptr_nonnull(
        strstr(detail(doc), "Conflicting required and forbidden traits found in root_required: "
                            "COMPUTE_NET_VIRTIO_PACKED"));
    json_decref(doc);
    ASSERT_400("1.39", "resources=VCPU:1&required=" PACKED ",!" PACKED,
               "Conflicting required and forbidden traits found in the following traits keys: "
               "required: (COMPUTE_NET_VIRTIO_PACKED)");
    ASSERT_400("1.39", "resources=VCPU:1&required=" PACKED "&required=!" PACKED,
               "required: (COMPUTE_NET_VIRTIO_PACKED)");
}
END_TEST

START_TEST(packed_sharing_disk_and_old_microversions)
{
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512,DISK_GB:10&required=" PACKED, "01+ff", 2);
    ASSERT_SHAPE("1.39", "resources=VCPU:1,MEMORY_MB:512,DISK_GB:10&root_required=!" PACKED,
                 "02+ff", 2);
    ASSERT_SHAPE("1.28", "resources=VCPU:1,MEMORY_MB:512", "01 | 02", 2);
}
END_TEST

START_TEST(root_required_is_checked_by_version_and_count)
{
    ASSERT_400("1.34", "resources=VCPU:1&root_required=" PACKED,
               "'root_required' does not match any of the regexes: "
               "'^in_tree([a-zA-Z0-9_-]{1,64})?$'");
    int status;
    json_t *doc = get("1.35", "resources=VCPU:1&root_required=A&root_required=B", &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(test_error_code(doc), "placement.query.duplicate_key");
    json_decref(doc);
    ASSERT_400("1.39", "resources=VCPU:1&root_required=CUSTOM_NOPE",
               "No such trait(s): CUSTOM_NOPE.");
}
END_TEST

/* ---- Response shapes by microversion ---- */

START_TEST(before_1_12_allocations_are_a_list)
{
    int status;
    json_t *doc = get("1.10", "resources=VCPU:1,MEMORY_MB:512", &status);
    ck_assert_int_eq(status, 200);
    json_t *first = json_array_get(json_object_get(doc, "allocation_requests"), 0);
    json_t *allocs = json_object_get(first, "allocations");
    ck_assert(json_is_array(allocs));
    ck_assert_str_eq(json_string_value(json_object_get(
                         json_object_get(json_array_get(allocs, 0), "resource_provider"), "uuid")),
                     CN1);
    ck_assert_int_eq(json_integer_value(json_object_get(
                         json_object_get(json_array_get(allocs, 0), "resources"), "VCPU")),
                     1);
    json_t *sum = json_object_get(json_object_get(doc, "provider_summaries"), CN1);
    ck_assert_uint_eq(json_object_size(sum), 1); /* resources only: no traits, no uuids */
    json_decref(doc);
}
END_TEST

START_TEST(latest_has_mappings_traits_and_tree_uuids)
{
    int status;
    json_t *doc = get("1.39", "resources=VCPU:1&root_required=" PACKED, &status);
    ck_assert_int_eq(status, 200);
    json_t *reqs = json_object_get(doc, "allocation_requests");
    json_t *r = json_array_get(reqs, 1);
    ck_assert(json_is_object(json_object_get(r, "allocations")));
    json_t *m = json_object_get(json_object_get(r, "mappings"), "");
    ck_assert_str_eq(json_string_value(json_array_get(m, 0)), NUMA3);
    json_t *sums = json_object_get(doc, "provider_summaries");
    json_t *numa = json_object_get(sums, NUMA3);
    ck_assert_str_eq(json_string_value(json_object_get(numa, "parent_provider_uuid")), CN3);
    ck_assert_str_eq(json_string_value(json_object_get(numa, "root_provider_uuid")), CN3);
    json_t *cn3 = json_object_get(sums, CN3);
    ck_assert(json_is_null(json_object_get(cn3, "parent_provider_uuid")));
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(cn3, "traits"), 0)), PACKED);
    ck_assert_int_eq(
        json_integer_value(json_object_get(
            json_object_get(json_object_get(cn3, "resources"), "MEMORY_MB"), "capacity")),
        4096);
    json_decref(doc);
}
END_TEST

START_TEST(before_1_27_summaries_show_only_requested_classes)
{
    int status;
    json_t *doc = get("1.26", "resources=VCPU:1", &status);
    json_t *res = json_object_get(json_object_get(json_object_get(doc, "provider_summaries"), CN1),
                                  "resources");
    ck_assert_uint_eq(json_object_size(res), 1);
    ck_assert_ptr_nonnull(json_object_get(res, "VCPU"));
    json_decref(doc);
    doc = get("1.27", "resources=VCPU:1", &status);
    res = json_object_get(json_object_get(json_object_get(doc, "provider_summaries"), CN1),
                          "resources");
    ck_assert_uint_eq(json_object_size(res), 2);
    json_decref(doc);
}
END_TEST

START_TEST(limit_keeps_the_first_candidates_and_their_trees)
{
    int status;
    json_t *doc = get("1.39", "resources=VCPU:1,MEMORY_MB:512&limit=1", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(shape(doc), "01");
    ck_assert_uint_eq(n_summaries(doc), 1);
    json_decref(doc);
    ASSERT_400("1.15", "resources=VCPU:1&limit=1", "'limit' was unexpected");
    ASSERT_400("1.16", "resources=VCPU:1&limit=0", "Failed validating 'pattern'");
}
END_TEST

START_TEST(randomize_flag_still_honours_limit)
{
    env.ctx.randomize_candidates = true;
    int status;
    json_t *doc = get("1.39", "resources=VCPU:1,MEMORY_MB:512&limit=2", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "allocation_requests")), 2);
    json_decref(doc);
    doc = get("1.39", "resources=VCPU:1,MEMORY_MB:512", &status);
    ck_assert_str_eq(shape(doc), "01 | 02 | 03+04");
    json_decref(doc);
}
END_TEST

START_TEST(last_modified_from_1_15)
{
    struct req rq;
    ck_assert_int_eq(
        test_call(&env, &rq, "GET", "/allocation_candidates?resources=VCPU:1", "1.15", NULL), 200);
    ck_assert(rq.last_modified != 0);
    req_release(&rq);
    ck_assert_int_eq(
        test_call(&env, &rq, "GET", "/allocation_candidates?resources=VCPU:1", "1.14", NULL), 200);
    ck_assert(rq.last_modified == 0);
    req_release(&rq);
}
END_TEST

/* ---- Validation ---- */

START_TEST(query_validation_messages)
{
    ASSERT_400("1.10", "limit=1", "'resources' is a required property");
    ASSERT_400("1.10", "resources=", "Got: empty string.");
    ASSERT_400("1.10", "resources=MCPU:1",
               "Invalid resource class in resources parameter: No such resource class MCPU.");
    ASSERT_400("1.17", "resources=VCPU:1&required=CUSTOM_NOPE", "No such trait(s): CUSTOM_NOPE.");
    ASSERT_400("1.21", "resources=VCPU:1&required=!" PACKED,
               "Expected 'required' parameter value of the form: HW_CPU_X86_VMX,CUSTOM_MAGIC.");
    ASSERT_400("1.38", "resources=VCPU:1&required=in:A,B",
               "only supported since microversion 1.39");
    ASSERT_400("1.25", "resources01=VCPU:1", "'resources01' does not match any of the regexes");
    ASSERT_400("1.25", "resources=VCPU:1&group_policy=bogus",
               "'bogus' is not one of ['none', 'isolate']");
    ASSERT_400("1.25", "resources1=VCPU:1&resources2=VCPU:1",
               "The \"group_policy\" parameter is required");
    ASSERT_400("1.25", "required=FOO&required1=BAR",
               "Found the following orphaned traits keys: required, required1");
    ASSERT_400("1.25", "member_of=" AGG_A "&resources1=VCPU:1",
               "Found the following orphaned member_of keys: member_of");
    ASSERT_400("1.25", "group_policy=isolate", "At least one request group");
    ASSERT_400("1.31", "resources=VCPU:1&in_tree=nope",
               "Expected 'in_tree' parameter to be a format of uuid");
    ASSERT_400("1.36", "resources_A=VCPU:1&same_subtree=_A,,_B",
               "Empty string (unsuffixed group) can not be specified in `same_subtree`");
    ASSERT_400("1.36", "resources_A=VCPU:1&same_subtree=_A,_B",
               "Real suffixes should be specified in `same_subtree`: ['_B'] not found in ['_A'].");
    ASSERT_400("1.36", "resources_A=VCPU:1&required_B=" PACKED "&group_policy=none",
               "bad group(s) - ['_B'].");
    int status;
    json_t *doc = get("1.36", "member_of1=" AGG_A "&group_policy=none", &status);
    ck_assert_int_eq(status, 400);
    ck_assert_str_eq(test_error_code(doc), "placement.query.missing_value");
    json_decref(doc);
}
END_TEST

START_TEST(an_impossible_request_is_an_empty_200)
{
    int status;
    json_t *doc = get("1.39", "resources=VCPU:100", &status);
    ck_assert_int_eq(status, 200);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "allocation_requests")), 0);
    ck_assert(json_is_object(json_object_get(doc, "provider_summaries")));
    json_decref(doc);
}
END_TEST

START_TEST(granular_groups_and_resourceless_mapping)
{
    ASSERT_SHAPE("1.39", "resources1=VCPU:1&resources2=MEMORY_MB:512&group_policy=isolate", "03+04",
                 2);
    ASSERT_SHAPE("1.39", "resources1=VCPU:1&resources2=MEMORY_MB:512&group_policy=none",
                 "01 | 02 | 03+04", 4);
    int status;
    json_t *doc =
        get("1.39", "resources_C=VCPU:1&required_R=" PACKED "&same_subtree=_C,_R&group_policy=none",
            &status);
    ck_assert_int_eq(status, 200);
    ck_assert_str_eq(shape(doc), "01 | 04");
    json_t *m =
        json_object_get(json_array_get(json_object_get(doc, "allocation_requests"), 1), "mappings");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(m, "_R"), 0)), CN3);
    json_decref(doc);
}
END_TEST

/* GET /allocation_candidates?group_policy=none&resources1=RC:1&...resourcesN=RC:1:
 * the status, with the error detail copied into detail_out. */
static int get_n_groups(size_t n, const char *rc, char *detail_out, size_t size)
{
    size_t cap = 64 + n * (strlen(rc) + 24);
    char *path = malloc(cap);
    size_t len = (size_t)snprintf(path, cap, "/allocation_candidates?group_policy=none");
    for (size_t i = 1; i <= n; i++)
        len += (size_t)snprintf(path + len, cap - len, "&resources%zu=%s:1", i, rc);
    struct req rq;
    int status = test_call(&env, &rq, "GET", path, "1.39", NULL);
    snprintf(detail_out, size, "%s", rq.err.status ? rq.err.detail : "");
    req_release(&rq);
    free(path);
    return status;
}

START_TEST(request_groups_are_capped_with_a_400_naming_the_limit)
{
    char d[1024];
    /* At the cap the groups are parsed (and the unknown class reported). */
    ck_assert_int_eq(get_n_groups(API_MAX_REQUEST_GROUPS, "MCPU", d, sizeof(d)), 400);
    ck_assert_str_eq(d, "Invalid resource class in resources parameter: No such resource class "
                        "MCPU.");
    ck_assert_int_eq(get_n_groups(API_MAX_REQUEST_GROUPS, "VCPU", d, sizeof(d)), 200);
    const size_t past[] = {API_MAX_REQUEST_GROUPS + 1, 8000};
    for (size_t i = 0; i < 2; i++) {
        ck_assert_int_eq(get_n_groups(past[i], "VCPU", d, sizeof(d)), 400);
        ck_assert_str_eq(d, "Invalid query string parameters: Too many request groups: placid "
                            "accepts at most 256 distinct suffixes of resources, required, "
                            "member_of and in_tree (the unsuffixed group counts as one).");
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("allocation_candidates");
    TCase *tc = tcase_create("api");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, packed_case1_root_required_keeps_trees_whose_root_has_the_trait);
    tcase_add_test(tc, packed_case2_no_trait_term_gives_all_hosts);
    tcase_add_test(tc, packed_case4_forbidden_trait_keeps_only_cn2);
    tcase_add_test(tc, packed_case5_required_versus_root_required);
    tcase_add_test(tc, packed_case6_conflicts);
    tcase_add_test(tc, packed_sharing_disk_and_old_microversions);
    tcase_add_test(tc, root_required_is_checked_by_version_and_count);
    tcase_add_test(tc, before_1_12_allocations_are_a_list);
    tcase_add_test(tc, latest_has_mappings_traits_and_tree_uuids);
    tcase_add_test(tc, before_1_27_summaries_show_only_requested_classes);
    tcase_add_test(tc, limit_keeps_the_first_candidates_and_their_trees);
    tcase_add_test(tc, randomize_flag_still_honours_limit);
    tcase_add_test(tc, last_modified_from_1_15);
    tcase_add_test(tc, query_validation_messages);
    tcase_add_test(tc, an_impossible_request_is_an_empty_200);
    tcase_add_test(tc, granular_groups_and_resourceless_mapping);
    tcase_add_test(tc, request_groups_are_capped_with_a_400_naming_the_limit);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
