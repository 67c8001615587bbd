/* api/sched_translate.c: nova's flavor/image -> Placement query translation.
 * The expected strings are the examples of docs/packed-ring.md §7, which were
 * produced by running python3-nova's ResourceRequest.to_querystring(). */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "api/query.h"
#include "api/sched_translate.h"
#include "sched_support.h"
#include "support.h"

static const char *specs_query(const struct sched_kv *specs, const struct sched_kv *props)
{
    struct sched_request in = sched_test_flavor(specs, props);
    return sched_test_translate(&in, false);
}

/* ---- booleans ---- */

START_TEST(strict_boolean_accepts_oslo_strings_in_any_case_with_whitespace)
{
    static const char *const yes[] = {"1", "t", "TRUE", "On", "y", "yes", " true\n", "True"};
    static const char *const no[] = {"0", "F", "false", "off", "N", "no", "\tNo "};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        bool v = false;
        ck_assert_msg(sched_bool_strict(yes[i], &v) && v, "%s", yes[i]);
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        bool v = true;
        ck_assert_msg(sched_bool_strict(no[i], &v) && !v, "%s", no[i]);
    }
}
END_TEST

START_TEST(strict_boolean_rejects_everything_else)
{
    static const char *const bad[] = {"", " ", "maybe", "2", "tru", "yess", "enabled", "1.0"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bool v = false;
        ck_assert_msg(!sched_bool_strict(bad[i], &v), "'%s'", bad[i]);
    }
    ck_assert(!sched_bool_strict(NULL, &(bool){false}));
}
END_TEST

START_TEST(lenient_boolean_reads_unknown_strings_as_false)
{
    ck_assert(sched_bool_lenient("yes"));
    ck_assert(sched_bool_lenient(" TRUE "));
    ck_assert(!sched_bool_lenient("no"));
    ck_assert(!sched_bool_lenient("maybe"));
    ck_assert(!sched_bool_lenient(""));
    ck_assert(!sched_bool_lenient(NULL));
}
END_TEST

/* ---- the flavor/image truth table (packed-ring.md §2 and §6) ---- */

static int packed(const char *f, const char *i, bool *out, char *err)
{
    return sched_packed_ring(f, i, out, err, 300);
}

START_TEST(truth_table_rows)
{
    static const struct {
        const char *flavor, *image;
        int expect; /* 1 true, 0 false, -1 conflict */
    } rows[] = {
        {NULL, NULL, 0},       {"yes", NULL, 1},      {NULL, "True", 1},   {"yes", "True", 1},
        {"no", NULL, 0},       {"no", "false", 0},    {NULL, "false", 0},  {"yes", "false", -1},
        {"no", "True", -1},    {"yes", "true", 1},    {"True", "true", 1}, {"true", "1", 1},
        {"false", "maybe", 0}, {"true", "maybe", -1}, {NULL, "maybe", 0},
    };
    for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
        bool v = false;
        char err[300] = "";
        int rc = packed(rows[r].flavor, rows[r].image, &v, err);
        if (rows[r].expect < 0)
            ck_assert_msg(rc == -1, "row %zu", r);
        else
            ck_assert_msg(rc == 0 && v == (rows[r].expect == 1), "row %zu: rc %d v %d %s", r, rc, v,
                          err);
    }
}
END_TEST

START_TEST(conflict_message_is_novas)
{
    bool v;
    char err[300];
    ck_assert_int_eq(packed("yes", "false", &v, err), -1);
    ck_assert_str_eq(err, "Flavor has hw:virtio_packed_ring extra spec explicitly set to True, "
                          "conflicting with image which has hw_virtio_packed_ring explicitly set "
                          "to False.");
    ck_assert_int_eq(packed("no", "true", &v, err), -1);
    ck_assert_str_eq(err, "Flavor has hw:virtio_packed_ring extra spec explicitly set to False, "
                          "conflicting with image which has hw_virtio_packed_ring explicitly set "
                          "to True.");
}
END_TEST

START_TEST(invalid_flavor_boolean_is_rejected_with_the_validator_message)
{
    bool v;
    char err[300];
    ck_assert_int_eq(packed("maybe", NULL, &v, err), -1);
    ck_assert_str_eq(err, "Invalid flavor extra spec 'hw:virtio_packed_ring': Validation failed; "
                          "'maybe' is not a valid boolean-like value.");
    ck_assert_int_eq(packed("", "true", &v, err), -1);
    ck_assert_ptr_nonnull(strstr(err, "'' is not a valid boolean-like value."));
}
END_TEST

/* ---- §7 query examples ---- */

#define BASE "resources=DISK_GB:20,MEMORY_MB:2048,VCPU:2"

START_TEST(plain_flavor)
{
    ck_assert_str_eq(specs_query(NULL, NULL), "limit=1000&" BASE);
}
END_TEST

START_TEST(flavor_trait_required_forbidden_and_bad_value)
{
    struct sched_kv req[] = {{"trait:COMPUTE_NET_VIRTIO_PACKED", "required"}, END_KV};
    struct sched_kv forb[] = {{"trait:COMPUTE_NET_VIRTIO_PACKED", "forbidden"}, END_KV};
    struct sched_kv yes[] = {{"trait:COMPUTE_NET_VIRTIO_PACKED", "yes"}, END_KV};
    ck_assert_str_eq(specs_query(req, NULL), "limit=1000&required=COMPUTE_NET_VIRTIO_PACKED&" BASE);
    ck_assert_str_eq(specs_query(forb, NULL),
                     "limit=1000&required=!COMPUTE_NET_VIRTIO_PACKED&" BASE);
    ck_assert_str_eq(specs_query(yes, NULL), "limit=1000&" BASE);
}
END_TEST

START_TEST(resource_overrides_and_zero_suppression)
{
    struct sched_kv specs[] = {{"resources:VCPU", "4"}, {"resources:DISK_GB", "0"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL), "limit=1000&resources=MEMORY_MB:2048,VCPU:4");
}
END_TEST

START_TEST(granular_groups_and_group_policy)
{
    struct sched_kv specs[] = {{"resources:CUSTOM_FOO", "1"},
                               {"resources1:SRIOV_NET_VF", "1"},
                               {"trait1:CUSTOM_PHYSNET_A", "required"},
                               {"resources_X:VGPU", "1"},
                               {"group_policy", "isolate"},
                               END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "group_policy=isolate&limit=1000&required1=CUSTOM_PHYSNET_A&"
                     "resources=CUSTOM_FOO:1,DISK_GB:20,MEMORY_MB:2048,VCPU:2&"
                     "resources1=SRIOV_NET_VF:1&resources_X=VGPU:1");
}
END_TEST

START_TEST(image_traits_can_only_require)
{
    struct sched_kv req[] = {{"trait:COMPUTE_NET_VIRTIO_PACKED", "required"}, END_KV};
    struct sched_kv forb[] = {{"trait:COMPUTE_NET_VIRTIO_PACKED", "forbidden"}, END_KV};
    ck_assert_str_eq(specs_query(NULL, req), "limit=1000&required=COMPUTE_NET_VIRTIO_PACKED&" BASE);
    ck_assert_str_eq(specs_query(NULL, forb), "limit=1000&" BASE);
    /* flavor and image both requiring T: deduplicated */
    ck_assert_str_eq(specs_query(req, req), "limit=1000&required=COMPUTE_NET_VIRTIO_PACKED&" BASE);
}
END_TEST

START_TEST(packed_ring_becomes_root_required)
{
    struct sched_kv specs[] = {{"hw:virtio_packed_ring", "true"}, END_KV};
    struct sched_kv props[] = {{"hw_virtio_packed_ring", "True"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&" BASE "&root_required=COMPUTE_NET_VIRTIO_PACKED");
    ck_assert_str_eq(specs_query(NULL, props),
                     "limit=1000&" BASE "&root_required=COMPUTE_NET_VIRTIO_PACKED");
    struct sched_kv off[] = {{"hw:virtio_packed_ring", "false"}, END_KV};
    ck_assert_str_eq(specs_query(off, NULL), "limit=1000&" BASE);
}
END_TEST

START_TEST(compute_status_filter_adds_forbidden_disabled_to_root_required)
{
    struct sched_kv specs[] = {{"hw:virtio_packed_ring", "true"}, END_KV};
    struct sched_request in = sched_test_flavor(specs, NULL);
    in.forbid_disabled_computes = true;
    ck_assert_str_eq(sched_test_translate(&in, false),
                     "limit=1000&" BASE
                     "&root_required=COMPUTE_NET_VIRTIO_PACKED,!COMPUTE_STATUS_DISABLED");
    /* nova's raw form: urlencode() of the sorted parameters */
    ck_assert_str_eq(sched_test_translate(&in, true),
                     "limit=1000&resources=DISK_GB%3A20%2CMEMORY_MB%3A2048%2CVCPU%3A2&"
                     "root_required=COMPUTE_NET_VIRTIO_PACKED%2C%21COMPUTE_STATUS_DISABLED");
    in = sched_test_flavor(NULL, NULL);
    in.forbid_disabled_computes = true;
    ck_assert_str_eq(sched_test_translate(&in, false),
                     "limit=1000&" BASE "&root_required=!COMPUTE_STATUS_DISABLED");
}
END_TEST

START_TEST(forbidden_trait_plus_packed_ring_is_passed_through)
{
    struct sched_kv specs[] = {
        {"trait:COMPUTE_NET_VIRTIO_PACKED", "forbidden"}, {"hw:virtio_packed_ring", "yes"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&required=!COMPUTE_NET_VIRTIO_PACKED&" BASE
                     "&root_required=COMPUTE_NET_VIRTIO_PACKED");
}
END_TEST

START_TEST(dedicated_cpu_policy_asks_for_pcpu)
{
    struct sched_kv specs[] = {{"hw:cpu_policy", "dedicated"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&resources=DISK_GB:20,MEMORY_MB:2048,PCPU:2");
    struct sched_kv emul[] = {{"hw:cpu_policy", "dedicated"},
                              {"hw:emulator_threads_policy", "isolate"},
                              {"hw:cpu_thread_policy", "isolate"},
                              END_KV};
    ck_assert_str_eq(specs_query(emul, NULL), "limit=1000&required=!HW_CPU_HYPERTHREADING&"
                                              "resources=DISK_GB:20,MEMORY_MB:2048,PCPU:3");
    struct sched_kv img[] = {{"hw_cpu_policy", "dedicated"}, END_KV};
    ck_assert_str_eq(specs_query(NULL, img),
                     "limit=1000&resources=DISK_GB:20,MEMORY_MB:2048,PCPU:2");
    struct sched_kv shared[] = {{"hw:cpu_policy", "shared"}, END_KV};
    ck_assert_str_eq(specs_query(shared, img),
                     "ERROR: Image property 'hw_cpu_policy' is not permitted to override CPU "
                     "pinning policy set against the flavor");
}
END_TEST

/* ---- further rules of ResourceRequest ---- */

START_TEST(swap_is_rounded_up_to_gigabytes_and_ephemeral_added)
{
    struct sched_request in = sched_test_flavor(NULL, NULL);
    in.swap = 1;
    in.ephemeral_gb = 5;
    ck_assert_str_eq(sched_test_translate(&in, false),
                     "limit=1000&resources=DISK_GB:26,MEMORY_MB:2048,VCPU:2");
    in.swap = 1024;
    ck_assert_str_eq(sched_test_translate(&in, false),
                     "limit=1000&resources=DISK_GB:26,MEMORY_MB:2048,VCPU:2");
    in.swap = 1025;
    in.ephemeral_gb = 0;
    in.root_gb = 0;
    ck_assert_str_eq(sched_test_translate(&in, false), "limit=1000&resources=DISK_GB:2,MEMORY_MB:2048,VCPU:2");
    in.swap = 0;
    ck_assert_str_eq(sched_test_translate(&in, false), "limit=1000&resources=MEMORY_MB:2048,VCPU:2");
}
END_TEST

START_TEST(a_suffixed_vcpu_request_replaces_the_flavor_vcpus)
{
    struct sched_kv specs[] = {{"resources1:VCPU", "1"}, {"group_policy", "none"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "group_policy=none&limit=1000&resources=DISK_GB:20,MEMORY_MB:2048&"
                     "resources1=VCPU:1");
}
END_TEST

START_TEST(traits_only_group_keeps_an_empty_resources_param_and_zero_groups_vanish)
{
    struct sched_kv specs[] = {{"trait2:CUSTOM_X", "required"}, {"resources3:VGPU", "0"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&required2=CUSTOM_X&" BASE "&resources2=");
}
END_TEST

START_TEST(ignored_specs_and_invalid_group_policy)
{
    struct sched_kv specs[] = {{"group_policy", "shared"},
                               {"hw:mem_page_size", "large"},
                               {"resources!:VCPU", "3"},
                               {"trait.x:CUSTOM_X", "required"},
                               END_KV};
    ck_assert_str_eq(specs_query(specs, NULL), "limit=1000&" BASE);
    /* XS_KEYPAT reads "traits:" as group "s", as nova does */
    struct sched_kv plural[] = {{"traits:CUSTOM_X", "required"}, END_KV};
    ck_assert_str_eq(specs_query(plural, NULL),
                     "limit=1000&requireds=CUSTOM_X&" BASE "&resourcess=");
}
END_TEST

START_TEST(amounts_follow_python_int)
{
    struct sched_kv specs[] = {
        {"resources:VCPU", " 1_0 "}, {"resources:MEMORY_MB", "+512"}, END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&resources=DISK_GB:20,MEMORY_MB:512,VCPU:10");
}
END_TEST

START_TEST(negative_or_non_integer_amounts_are_rejected)
{
    struct sched_kv neg[] = {{"resources:VCPU", "-1"}, END_KV};
    ck_assert_str_eq(specs_query(neg, NULL),
                     "ERROR: Invalid flavor extra spec 'resources:VCPU': Resource amounts must be "
                     "nonnegative integers. Received '-1'.");
    struct sched_kv junk[] = {{"resources1:VGPU", "two"}, END_KV};
    ck_assert_str_eq(specs_query(junk, NULL),
                     "ERROR: Invalid flavor extra spec 'resources1:VGPU': Resource amounts must be "
                     "nonnegative integers. Received 'two'.");
}
END_TEST

START_TEST(unknown_classes_and_traits_are_rejected)
{
    struct sched_kv rc[] = {{"resources:CUSTOM_MISSING_RC", "1"}, END_KV};
    ck_assert_str_eq(specs_query(rc, NULL),
                     "ERROR: Invalid flavor extra spec 'resources:CUSTOM_MISSING_RC': No such "
                     "resource class CUSTOM_MISSING_RC.");
    struct sched_kv lower[] = {{"resources:vcpu", "1"}, END_KV};
    ck_assert_str_eq(specs_query(lower, NULL),
                     "ERROR: Invalid flavor extra spec 'resources:vcpu': No such resource class "
                     "vcpu.");
    struct sched_kv tr[] = {{"trait:CUSTOM_MISSING_T", "forbidden"}, END_KV};
    ck_assert_str_eq(specs_query(tr, NULL),
                     "ERROR: Invalid flavor extra spec 'trait:CUSTOM_MISSING_T': No such trait(s): "
                     "CUSTOM_MISSING_T.");
    struct sched_kv img[] = {{"trait:CUSTOM_MISSING_I", "required"}, END_KV};
    ck_assert_str_eq(specs_query(NULL, img),
                     "ERROR: Invalid image property 'trait:CUSTOM_MISSING_I': No such trait(s): "
                     "CUSTOM_MISSING_I.");
    /* an ignored trait value is never looked up */
    struct sched_kv ign[] = {{"trait:CUSTOM_MISSING_T", "preferred"}, END_KV};
    ck_assert_str_eq(specs_query(ign, NULL), "limit=1000&" BASE);
}
END_TEST

START_TEST(conflict_and_bad_boolean_fail_the_translation)
{
    struct sched_kv specs[] = {{"hw:virtio_packed_ring", "true"}, END_KV};
    struct sched_kv props[] = {{"hw_virtio_packed_ring", "no"}, END_KV};
    ck_assert_str_eq(specs_query(specs, props),
                     "ERROR: Flavor has hw:virtio_packed_ring extra spec explicitly set to True, "
                     "conflicting with image which has hw_virtio_packed_ring explicitly set to "
                     "False.");
    struct sched_kv bad[] = {{"hw:virtio_packed_ring", "sure"}, END_KV};
    ck_assert_str_eq(specs_query(bad, NULL),
                     "ERROR: Invalid flavor extra spec 'hw:virtio_packed_ring': Validation "
                     "failed; 'sure' is not a valid boolean-like value.");
}
END_TEST

START_TEST(limit_and_encoding_of_special_characters)
{
    struct sched_kv specs[] = {
        {"trait_a-b:CUSTOM_X", "required"}, {"resources_a-b:VGPU", "1"}, END_KV};
    struct sched_request in = sched_test_flavor(specs, NULL);
    in.limit = 7;
    ck_assert_str_eq(sched_test_translate(&in, true),
                     "limit=7&required_a-b=CUSTOM_X&"
                     "resources=DISK_GB%3A20%2CMEMORY_MB%3A2048%2CVCPU%3A2&resources_a-b=VGPU%3A1");
}
END_TEST

/* Flavor extra specs resources1..resourcesN:VCPU=1 in an arena. */
static struct sched_request numbered_groups(struct arena *a, size_t n)
{
    struct sched_kv *specs = arena_alloc(a, (n + 1) * sizeof(*specs));
    for (size_t i = 0; i < n; i++)
        specs[i] = (struct sched_kv){arena_printf(a, "resources%zu:VCPU", i + 1), "1"};
    struct sched_request in = sched_test_flavor(NULL, NULL);
    in.extra_specs = specs;
    in.n_extra_specs = n;
    return in;
}

START_TEST(request_groups_up_to_the_cap_are_translated)
{
    struct arena a = {0};
    struct sched_query q;
    char err[700] = "";
    /* 255 numbered groups plus the unsuffixed one (MEMORY_MB, DISK_GB). */
    struct sched_request in = numbered_groups(&a, API_MAX_REQUEST_GROUPS - 1);
    ck_assert_int_eq(sched_translate(&in, sched_test_exists, NULL, &a, &q, err, sizeof(err)), 0);
    ck_assert_uint_eq(q.n, 1 + API_MAX_REQUEST_GROUPS); /* limit + one resources per group */
    arena_free(&a);
}
END_TEST

START_TEST(one_request_group_past_the_cap_is_an_error_naming_the_limit)
{
    struct arena a = {0};
    struct sched_query q;
    char err[700] = "";
    struct sched_request in = numbered_groups(&a, API_MAX_REQUEST_GROUPS);
    ck_assert_int_eq(sched_translate(&in, sched_test_exists, NULL, &a, &q, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "Invalid flavor extra spec 'resources256:VCPU': too many request "
                          "groups; placid accepts at most 256 (the unsuffixed group counts as "
                          "one).");
    /* Repeating a suffix does not make a new group. */
    struct sched_request again = numbered_groups(&a, 3 * API_MAX_REQUEST_GROUPS);
    for (size_t i = 0; i < again.n_extra_specs; i++)
        ((struct sched_kv *)again.extra_specs)[i].key =
            arena_printf(&a, "resources%zu:CUSTOM_%c", i % 10, (char)('A' + i % 20));
    ck_assert_int_eq(sched_translate(&again, sched_test_exists, NULL, &a, &q, err, sizeof(err)), 0);
    arena_free(&a);
}
END_TEST

START_TEST(a_group_with_many_classes_is_joined_in_sorted_order)
{
    struct sched_kv specs[] = {{"resources1:CUSTOM_C", "3"},
                               {"resources1:CUSTOM_A", "1"},
                               {"resources1:CUSTOM_B", "2"},
                               {"trait1:CUSTOM_Z", "forbidden"},
                               {"trait1:CUSTOM_Y", "required"},
                               {"trait1:CUSTOM_X", "forbidden"},
                               END_KV};
    ck_assert_str_eq(specs_query(specs, NULL),
                     "limit=1000&required1=CUSTOM_Y,!CUSTOM_X,!CUSTOM_Z&"
                     "resources=DISK_GB:20,MEMORY_MB:2048,VCPU:2&"
                     "resources1=CUSTOM_A:1,CUSTOM_B:2,CUSTOM_C:3");
}
END_TEST

/* ---- Sources: what explain shows is what the translator did ---- */

static char from_buf[1024];

/* The source of param=value in the translation of in (a copy), "NONE" if
 * it has none; the sources must cover the query (assert_sources_cover). */
static const char *source_of(const struct sched_request *in, const char *param, const char *value)
{
    struct arena a = {0};
    struct sched_query q;
    char err[700];
    ck_assert_msg(sched_translate(in, sched_test_exists, NULL, &a, &q, err, sizeof(err)) == 0, "%s",
                  err);
    sched_test_assert_sources(&q);
    snprintf(from_buf, sizeof(from_buf), "NONE");
    for (size_t i = 0; i < q.n_sources; i++)
        if (strcmp(q.sources[i].param, param) == 0 && strcmp(q.sources[i].value, value) == 0)
            snprintf(from_buf, sizeof(from_buf), "%s", q.sources[i].from);
    arena_free(&a);
    return from_buf;
}

START_TEST(every_translated_part_has_the_source_it_was_translated_from)
{
    struct sched_kv mixed[] = {{"hw:cpu_policy", "mixed"},
                               {"hw:cpu_realtime", "yes"},
                               {"hw:cpu_realtime_mask", "^0"},
                               {"hw:virtio_packed_ring", "true"},
                               {"group_policy", "isolate"},
                               {"resources1:CUSTOM_A", "1"},
                               {"trait1:CUSTOM_T", "required"},
                               {"trait:CUSTOM_BOTH", "required"},
                               {"trait:CUSTOM_CASE", "Required"}, /* ignored, like nova */
                               END_KV};
    struct sched_kv props[] = {{"hw_cpu_realtime_mask", "^0-1"},
                               {"hw_virtio_packed_ring", "yes"},
                               {"trait:CUSTOM_BOTH", "required"},
                               {"trait:CUSTOM_IMG", "required"},
                               END_KV};
    struct sched_request in = sched_test_flavor(mixed, props);
    in.vcpus = 4;
    in.swap = 1025;
    in.forbid_disabled_computes = true;
    /* The image's realtime mask wins, and the split says so. */
    ck_assert_str_eq(source_of(&in, "resources", "VCPU:2"),
                     "flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 2 not "
                     "pinned by image property hw_cpu_realtime_mask=^0-1");
    ck_assert_str_eq(source_of(&in, "resources", "PCPU:2"),
                     "flavor vcpus=4 with flavor extra spec hw:cpu_policy=mixed: the 2 pinned by "
                     "image property hw_cpu_realtime_mask=^0-1");
    ck_assert_str_eq(source_of(&in, "resources", "DISK_GB:22"),
                     "flavor root_gb=20 + ephemeral_gb=0 + swap=1025 MB");
    ck_assert_str_eq(source_of(&in, "resources", "MEMORY_MB:2048"), "flavor memory_mb=2048");
    ck_assert_str_eq(source_of(&in, "root_required", "COMPUTE_NET_VIRTIO_PACKED"),
                     "flavor extra spec hw:virtio_packed_ring=true and image property "
                     "hw_virtio_packed_ring=yes");
    ck_assert_str_eq(source_of(&in, "root_required", "!COMPUTE_STATUS_DISABLED"),
                     "nova's compute_status_filter (always)");
    ck_assert_str_eq(source_of(&in, "group_policy", "isolate"),
                     "flavor extra spec group_policy=isolate");
    ck_assert_str_eq(source_of(&in, "resources1", "CUSTOM_A:1"),
                     "flavor extra spec resources1:CUSTOM_A=1");
    ck_assert_str_eq(source_of(&in, "required1", "CUSTOM_T"),
                     "flavor extra spec trait1:CUSTOM_T=required");
    ck_assert_str_eq(source_of(&in, "required", "CUSTOM_BOTH"),
                     "flavor extra spec trait:CUSTOM_BOTH=required and image property "
                     "trait:CUSTOM_BOTH=required");
    ck_assert_str_eq(source_of(&in, "required", "CUSTOM_IMG"),
                     "image property trait:CUSTOM_IMG=required");
    ck_assert_str_eq(source_of(&in, "required", "CUSTOM_CASE"), "NONE");
    ck_assert_str_eq(source_of(&in, "limit", "1000"),
                     "nova's max_placement_results (default 1000)");

    /* Packed ring from the image alone; dedicated CPUs from the image with
     * the flavor's isolated emulator threads; the thread policy's trait. */
    struct sched_kv specs[] = {{"hw:emulator_threads_policy", "isolate"},
                               {"hw:cpu_thread_policy", "require"},
                               END_KV};
    struct sched_kv img[] = {{"hw_virtio_packed_ring", "true"},
                             {"hw_cpu_policy", "dedicated"},
                             END_KV};
    in = sched_test_flavor(specs, img);
    in.limit = 7;
    ck_assert_str_eq(source_of(&in, "root_required", "COMPUTE_NET_VIRTIO_PACKED"),
                     "image property hw_virtio_packed_ring=true");
    ck_assert_str_eq(source_of(&in, "resources", "PCPU:3"),
                     "flavor vcpus=2 with image property hw_cpu_policy=dedicated, + 1 for "
                     "hw:emulator_threads_policy=isolate");
    ck_assert_str_eq(source_of(&in, "required", "HW_CPU_HYPERTHREADING"),
                     "flavor extra spec hw:cpu_thread_policy=require");
    ck_assert_str_eq(source_of(&in, "limit", "7"), "the request's limit");

    /* A flavor resource overriding the base one is described as the spec. */
    struct sched_kv over[] = {{"resources:VCPU", "3"}, {"resources:DISK_GB", "0"}, END_KV};
    in = sched_test_flavor(over, NULL);
    ck_assert_str_eq(source_of(&in, "resources", "VCPU:3"), "flavor extra spec resources:VCPU=3");
    ck_assert_str_eq(source_of(&in, "resources", "DISK_GB:20"), "NONE");
}
END_TEST

/* A plain query (no explain) gets the same parameters without the words. */
START_TEST(sources_are_recorded_only_when_asked)
{
    struct sched_kv specs[] = {{"hw:cpu_policy", "mixed"},
                               {"hw:cpu_dedicated_mask", "^0"},
                               {"hw:virtio_packed_ring", "true"},
                               {"trait1:CUSTOM_T", "required"},
                               {"resources1:CUSTOM_A", "1"},
                               END_KV};
    struct sched_request in = sched_test_flavor(specs, NULL);
    struct arena a = {0};
    struct sched_query with, without;
    char err[700];
    in.vcpus = 4;
    in.forbid_disabled_computes = true;
    ck_assert_int_eq(sched_translate(&in, sched_test_exists, NULL, &a, &with, err, sizeof(err)), 0);
    in.record_sources = false;
    ck_assert_int_eq(sched_translate(&in, sched_test_exists, NULL, &a, &without, err, sizeof(err)),
                     0);
    ck_assert_str_eq(sched_query_string(&with, true, &a), sched_query_string(&without, true, &a));
    ck_assert_uint_eq(with.n_sources, 9);
    ck_assert_uint_eq(without.n_sources, 0);
    arena_free(&a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_translate");
    TCase *tc = tcase_create("sched_translate");
    tcase_add_test(tc, strict_boolean_accepts_oslo_strings_in_any_case_with_whitespace);
    tcase_add_test(tc, strict_boolean_rejects_everything_else);
    tcase_add_test(tc, lenient_boolean_reads_unknown_strings_as_false);
    tcase_add_test(tc, truth_table_rows);
    tcase_add_test(tc, conflict_message_is_novas);
    tcase_add_test(tc, invalid_flavor_boolean_is_rejected_with_the_validator_message);
    tcase_add_test(tc, plain_flavor);
    tcase_add_test(tc, flavor_trait_required_forbidden_and_bad_value);
    tcase_add_test(tc, resource_overrides_and_zero_suppression);
    tcase_add_test(tc, granular_groups_and_group_policy);
    tcase_add_test(tc, image_traits_can_only_require);
    tcase_add_test(tc, packed_ring_becomes_root_required);
    tcase_add_test(tc, compute_status_filter_adds_forbidden_disabled_to_root_required);
    tcase_add_test(tc, forbidden_trait_plus_packed_ring_is_passed_through);
    tcase_add_test(tc, dedicated_cpu_policy_asks_for_pcpu);
    tcase_add_test(tc, swap_is_rounded_up_to_gigabytes_and_ephemeral_added);
    tcase_add_test(tc, a_suffixed_vcpu_request_replaces_the_flavor_vcpus);
    tcase_add_test(tc, traits_only_group_keeps_an_empty_resources_param_and_zero_groups_vanish);
    tcase_add_test(tc, ignored_specs_and_invalid_group_policy);
    tcase_add_test(tc, amounts_follow_python_int);
    tcase_add_test(tc, negative_or_non_integer_amounts_are_rejected);
    tcase_add_test(tc, unknown_classes_and_traits_are_rejected);
    tcase_add_test(tc, conflict_and_bad_boolean_fail_the_translation);
    tcase_add_test(tc, limit_and_encoding_of_special_characters);
    tcase_add_test(tc, request_groups_up_to_the_cap_are_translated);
    tcase_add_test(tc, one_request_group_past_the_cap_is_an_error_naming_the_limit);
    tcase_add_test(tc, a_group_with_many_classes_is_joined_in_sorted_order);
    tcase_add_test(tc, every_translated_part_has_the_source_it_was_translated_from);
    tcase_add_test(tc, sources_are_recorded_only_when_asked);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
