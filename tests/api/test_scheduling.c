/* POST /placid/allocation_candidates through api_dispatch: body validation,
 * translation errors, and the reply shape (the derived query plus the
 * allocation-candidates body). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "support.h"

#define PATH "/placid/allocation_candidates"
#define U1   "00000000-0000-0000-0000-0000000000c1"

static struct test_env env;

static void setup(void)
{
    test_env_open(&env);
}

static void teardown(void)
{
    test_env_close(&env);
}

/* The body the client gets: the reply object or the pre-serialised text. */
static json_t *reply_doc(const struct req *rq)
{
    if (!rq->err.status && rq->reply_text)
        return json_loadb(rq->reply_text, rq->reply_text_len, 0, NULL);
    return test_response(rq);
}

START_TEST(body_must_name_a_flavor_with_vcpus_and_memory)
{
    test_expect_error(&env, "POST", PATH, NULL, "{}", 400, NULL,
                      "JSON does not validate: 'flavor' is a required property");
    test_expect_error(&env, "POST", PATH, NULL, "[]", 400, NULL,
                      "JSON does not validate: the body must be an object");
    test_expect_error(&env, "POST", PATH, NULL, "{\"flavor\": {\"vcpus\": 1}}", 400, NULL,
                      "'memory_mb' is a required property in flavor");
    test_expect_error(&env, "POST", PATH, NULL, "{\"flavor\": 3}", 400, NULL,
                      "JSON does not validate: flavor must be an object");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 1}, \"flavour\": {}}", 400, NULL,
                      "Additional properties are not allowed ('flavour' was unexpected)");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 1, \"ram\": 1}}", 400, NULL,
                      "('ram' was unexpected) in flavor");
}
END_TEST

START_TEST(negative_sizes_and_bad_limits_are_rejected)
{
    test_expect_error(&env, "POST", PATH, NULL, "{\"flavor\": {\"vcpus\": -1, \"memory_mb\": 512}}",
                      400, NULL,
                      "flavor.vcpus must be an integer between 0 and 2147483647, got -1");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"swap\": \"1\"}}", 400,
                      NULL, "flavor.swap must be an integer");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}, \"limit\": 0}", 400, NULL,
                      "JSON does not validate: limit must be an integer between 1 and");
    test_expect_error(
        &env, "POST", PATH, NULL,
        "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": {\"a\": []}}}", 400, NULL,
        "flavor.extra_specs['a'] must be a string, number or boolean");
}
END_TEST

START_TEST(translation_errors_are_400_with_novas_wording)
{
    test_expect_error(
        &env, "POST", PATH, NULL,
        "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": "
        "{\"hw:virtio_packed_ring\": \"true\"}}, \"image\": {\"properties\": "
        "{\"hw_virtio_packed_ring\": \"false\"}}}",
        400, NULL,
        "Flavor has hw:virtio_packed_ring extra spec explicitly set to True, conflicting "
        "with image which has hw_virtio_packed_ring explicitly set to False.");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": "
                      "{\"resources:VCPU\": \"-2\"}}}",
                      400, NULL, "Resource amounts must be nonnegative integers. Received '-2'.");
}
END_TEST

START_TEST(names_are_checked_against_the_catalog)
{
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": "
                      "{\"trait:CUSTOM_NOT_THERE\": \"required\"}}}",
                      400, NULL,
                      "Invalid flavor extra spec 'trait:CUSTOM_NOT_THERE': No such trait(s): "
                      "CUSTOM_NOT_THERE.");
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": "
                      "{\"resources:CUSTOM_NOT_THERE\": \"1\"}}}",
                      400, NULL, "No such resource class CUSTOM_NOT_THERE.");
    test_expect_error(
        &env, "POST", PATH, NULL,
        "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}, \"image\": {\"properties\": "
        "{\"trait:CUSTOM_NOT_THERE\": \"required\"}}}",
        400, NULL, "Invalid image property 'trait:CUSTOM_NOT_THERE'");
    /* standard names exist: the request goes through */
    ck_assert_int_eq(test_status(&env, "POST", PATH, NULL,
                                 "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\":"
                                 " {\"trait:COMPUTE_NET_VIRTIO_PACKED\": \"forbidden\"}}}"),
                     200);
}
END_TEST

START_TEST(reply_carries_the_query_nova_would_send)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL,
                               "{\"flavor\": {\"vcpus\": 2, \"memory_mb\": 2048, \"root_gb\": 20, "
                               "\"extra_specs\": {\"hw:virtio_packed_ring\": true}}}"),
                     200);
    json_t *doc = reply_doc(&rq);
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "query")),
                     "limit=1000&resources=DISK_GB%3A20%2CMEMORY_MB%3A2048%2CVCPU%3A2&"
                     "root_required=COMPUTE_NET_VIRTIO_PACKED%2C%21COMPUTE_STATUS_DISABLED");
    ck_assert(json_is_array(json_object_get(doc, "allocation_requests")));
    ck_assert(json_is_object(json_object_get(doc, "provider_summaries")));
    json_decref(doc);
    req_release(&rq);
}
END_TEST

START_TEST(candidates_come_from_the_derived_query)
{
    char body[512];
    ck_assert_int_eq(test_status(&env, "POST", "/resource_providers", "1.20",
                                 "{\"uuid\": \"" U1 "\", \"name\": \"cn1\"}"),
                     200);
    snprintf(body, sizeof(body),
             "{\"resource_provider_generation\": 0, \"inventories\": {\"VCPU\": {\"total\": 8},"
             " \"MEMORY_MB\": {\"total\": 4096}}}");
    ck_assert_int_eq(
        test_status(&env, "PUT", "/resource_providers/" U1 "/inventories", "1.26", body), 200);

    struct req rq;
    const char *plain = "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512}}";
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL, plain), 200);
    json_t *doc = reply_doc(&rq);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "allocation_requests")), 1);
    ck_assert_ptr_nonnull(json_object_get(json_object_get(doc, "provider_summaries"), U1));
    /* the latest microversion: mappings are present */
    json_t *ar = json_array_get(json_object_get(doc, "allocation_requests"), 0);
    ck_assert_ptr_nonnull(json_object_get(ar, "mappings"));
    json_decref(doc);
    req_release(&rq);

    /* cn1 lacks the trait: packed ring leaves no candidate */
    const char *packed = "{\"flavor\": {\"vcpus\": 1, \"memory_mb\": 512, \"extra_specs\": "
                         "{\"hw:virtio_packed_ring\": \"yes\"}}}";
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL, packed), 200);
    doc = reply_doc(&rq);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "allocation_requests")), 0);
    json_decref(doc);
    req_release(&rq);
}
END_TEST

/* The derivation's line for param=value, or NULL. */
static const char *derived_from(json_t *doc, const char *param, const char *value)
{
    size_t i;
    json_t *d;
    json_array_foreach(json_object_get(doc, "derivation"), i, d)
    {
        if (strcmp(json_string_value(json_object_get(d, "param")), param) == 0 &&
            strcmp(json_string_value(json_object_get(d, "value")), value) == 0)
            return json_string_value(json_object_get(d, "from"));
    }
    return NULL;
}

START_TEST(explain_derives_mixed_cpu_policy_and_thread_policy)
{
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL,
                               "{\"explain\": true, \"flavor\": {\"vcpus\": 4, "
                               "\"memory_mb\": 512, \"extra_specs\": {\"hw:cpu_policy\": "
                               "\"mixed\", \"hw:cpu_dedicated_mask\": \"^0\", "
                               "\"hw:emulator_threads_policy\": \"isolate\"}}}"),
                     200);
    json_t *doc = reply_doc(&rq);
    const char *v = derived_from(doc, "resources", "VCPU:1");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 1 not "
                        "pinned by flavor extra spec hw:cpu_dedicated_mask=^0");
    v = derived_from(doc, "resources", "PCPU:4");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 3 pinned "
                        "by flavor extra spec hw:cpu_dedicated_mask=^0, + 1 for "
                        "hw:emulator_threads_policy=isolate");
    json_decref(doc);
    req_release(&rq);
    /* Dedicated from the image, hyperthreads forbidden by the flavor. */
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL,
                               "{\"explain\": true, \"flavor\": {\"vcpus\": 2, "
                               "\"memory_mb\": 512, \"extra_specs\": "
                               "{\"hw:cpu_thread_policy\": \"isolate\"}}, \"image\": "
                               "{\"properties\": {\"hw_cpu_policy\": \"dedicated\"}}}"),
                     200);
    doc = reply_doc(&rq);
    v = derived_from(doc, "resources", "PCPU:2");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "flavor vcpus=2 with image property hw_cpu_policy=dedicated");
    v = derived_from(doc, "required", "!HW_CPU_HYPERTHREADING");
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(v, "flavor extra spec hw:cpu_thread_policy=isolate");
    json_decref(doc);
    req_release(&rq);
}
END_TEST

START_TEST(mixed_cpu_policy_claims_pcpu_and_vcpu)
{
    ck_assert_int_eq(test_status(&env, "POST", "/resource_providers", "1.20",
                                 "{\"uuid\": \"" U1 "\", \"name\": \"cn1\"}"),
                     200);
    ck_assert_int_eq(test_status(&env, "PUT", "/resource_providers/" U1 "/inventories", "1.26",
                                 "{\"resource_provider_generation\": 0, \"inventories\": "
                                 "{\"VCPU\": {\"total\": 8}, \"PCPU\": {\"total\": 4}, "
                                 "\"MEMORY_MB\": {\"total\": 4096}}}"),
                     200);
    struct req rq;
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL,
                               "{\"flavor\": {\"vcpus\": 4, \"memory_mb\": 512, "
                               "\"extra_specs\": {\"hw:cpu_policy\": \"mixed\", "
                               "\"hw:cpu_dedicated_mask\": \"^0\"}}}"),
                     200);
    json_t *doc = reply_doc(&rq);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "query")),
                     "limit=1000&resources=MEMORY_MB%3A512%2CPCPU%3A3%2CVCPU%3A1&"
                     "root_required=%21COMPUTE_STATUS_DISABLED");
    json_t *ar = json_array_get(json_object_get(doc, "allocation_requests"), 0);
    json_t *res =
        json_object_get(json_object_get(json_object_get(ar, "allocations"), U1), "resources");
    ck_assert_int_eq(json_integer_value(json_object_get(res, "PCPU")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(res, "VCPU")), 1);
    json_decref(doc);
    req_release(&rq);
    /* Only 4 PCPU: a mask pinning 5 of 6 vCPUs finds nothing. */
    ck_assert_int_eq(test_call(&env, &rq, "POST", PATH, NULL,
                               "{\"flavor\": {\"vcpus\": 6, \"memory_mb\": 512, "
                               "\"extra_specs\": {\"hw:cpu_policy\": \"mixed\", "
                               "\"hw:cpu_dedicated_mask\": \"1-5\"}}}"),
                     200);
    doc = reply_doc(&rq);
    ck_assert_uint_eq(json_array_size(json_object_get(doc, "allocation_requests")), 0);
    json_decref(doc);
    req_release(&rq);
    test_expect_error(&env, "POST", PATH, NULL,
                      "{\"flavor\": {\"vcpus\": 4, \"memory_mb\": 512, \"extra_specs\": "
                      "{\"hw:cpu_policy\": \"mixed\"}}}",
                      400, NULL,
                      "Dedicated CPU set can be specified from either 'hw:cpu_dedicated_mask' or "
                      "'hw:cpu_realtime_mask' when using 'mixed' CPU policy.");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("scheduling");
    TCase *tc = tcase_create("scheduling");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, body_must_name_a_flavor_with_vcpus_and_memory);
    tcase_add_test(tc, negative_sizes_and_bad_limits_are_rejected);
    tcase_add_test(tc, translation_errors_are_400_with_novas_wording);
    tcase_add_test(tc, names_are_checked_against_the_catalog);
    tcase_add_test(tc, reply_carries_the_query_nova_would_send);
    tcase_add_test(tc, mixed_cpu_policy_claims_pcpu_and_vcpu);
    tcase_add_test(tc, explain_derives_mixed_cpu_policy_and_thread_policy);
    tcase_add_test(tc, candidates_come_from_the_derived_query);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
