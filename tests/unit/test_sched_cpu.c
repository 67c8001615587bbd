/* api/sched_cpu.c through the translator: hw:cpu_policy=mixed and nova's
 * CPU checks (hardware.numa_get_constraints), with nova's messages. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "api/sched_cpu.h"
#include "api/sched_translate.h"
#include "sched_support.h"
#include "support.h"

/* ---- hw:cpu_policy=mixed and nova's CPU checks (hardware.numa_get_constraints) ---- */

/* A 4-vCPU flavor (2048 MB, 20 GB) with specs and props. */
static const char *cpu4(const struct sched_kv *specs, const struct sched_kv *props)
{
    struct sched_request in = sched_test_flavor(specs, props);
    in.vcpus = 4;
    return sched_test_translate(&in, false);
}

#define BASE4(cpus) "limit=1000&resources=DISK_GB:20,MEMORY_MB:2048," cpus

START_TEST(mixed_policy_with_a_dedicated_mask_splits_pcpu_and_vcpu)
{
    struct sched_kv excl[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "^0-1"}, END_KV};
    ck_assert_str_eq(cpu4(excl, NULL), BASE4("PCPU:2,VCPU:2"));
    struct sched_kv incl[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "1,3"}, END_KV};
    ck_assert_str_eq(cpu4(incl, NULL), BASE4("PCPU:2,VCPU:2"));
    struct sched_kv one[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", " 0-3,^1-3 "}, END_KV};
    ck_assert_str_eq(cpu4(one, NULL), BASE4("PCPU:1,VCPU:3"));
    /* Isolated emulator threads take one more PCPU. */
    struct sched_kv iso[] = {{"hw:cpu_policy", "mixed"},
                             {"hw:cpu_dedicated_mask", "^0"},
                             {"hw:emulator_threads_policy", "isolate"},
                             END_KV};
    ck_assert_str_eq(cpu4(iso, NULL), BASE4("PCPU:4,VCPU:1"));
    /* The policy may come from the image. */
    struct sched_kv mask[] = {{"hw:cpu_dedicated_mask", "^0"}, END_KV};
    struct sched_kv img[] = {{"hw_cpu_policy", "mixed"}, END_KV};
    ck_assert_str_eq(cpu4(mask, img), BASE4("PCPU:3,VCPU:1"));
}
END_TEST

START_TEST(mixed_policy_with_a_realtime_mask_pins_the_realtime_cpus)
{
    struct sched_kv rt[] = {{"hw:cpu_policy", "mixed"},
                            {"hw:cpu_realtime", "yes"},
                            {"hw:cpu_realtime_mask", "^0"},
                            END_KV};
    ck_assert_str_eq(cpu4(rt, NULL), BASE4("PCPU:3,VCPU:1"));
    /* The image's mask wins over the flavor's. */
    struct sched_kv img[] = {{"hw_cpu_realtime_mask", "^0-1"}, END_KV};
    ck_assert_str_eq(cpu4(rt, img), BASE4("PCPU:2,VCPU:2"));
    /* No mask: every vCPU is realtime, allowed only with an emulator
     * threads policy; then no VCPU is left (and the zero is stripped). */
    struct sched_kv all[] = {{"hw:cpu_policy", "mixed"},
                             {"hw:cpu_realtime", "true"},
                             {"hw:emulator_threads_policy", "share"},
                             END_KV};
    ck_assert_str_eq(cpu4(all, NULL), BASE4("PCPU:4"));
    all[2].key = "hw:unrelated";
    ck_assert_str_eq(cpu4(all, NULL),
                     "ERROR: Use of realtime CPUs requires either one or more non-realtime "
                     "CPU(s) or offloaded emulator threads.");
    struct sched_kv outside[] = {{"hw:cpu_policy", "mixed"},
                                 {"hw:cpu_realtime", "1"},
                                 {"hw:cpu_realtime_mask", "2-5"},
                                 END_KV};
    ck_assert_str_eq(cpu4(outside, NULL),
                     "ERROR: Realtime policy vCPU(s) mask is configured with RT vCPUs that are "
                     "not a subset of the vCPUs in the flavor. See hw:cpu_realtime_mask or "
                     "hw_cpu_realtime_mask");
}
END_TEST

START_TEST(mixed_policy_needs_exactly_one_mask_leaving_pinned_and_unpinned_cpus)
{
    static const char one_of[] =
        "ERROR: Dedicated CPU set can be specified from either 'hw:cpu_dedicated_mask' or "
        "'hw:cpu_realtime_mask' when using 'mixed' CPU policy. 'hw:cpu_dedicated_mask' and "
        "'hw:cpu_realtime_mask' can not be specified at the same time, or be specified with none "
        "of them.";
    static const char both_kinds[] = "ERROR: Mixed instance must have at least 1 pinned vCPU and "
                                     "1 unpinned vCPU. See 'hw:cpu_dedicated_mask'.";
    struct sched_kv none[] = {{"hw:cpu_policy", "mixed"}, END_KV};
    ck_assert_str_eq(cpu4(none, NULL), one_of);
    struct sched_kv both[] = {{"hw:cpu_policy", "mixed"},
                              {"hw:cpu_dedicated_mask", "^0"},
                              {"hw:cpu_realtime", "yes"},
                              {"hw:cpu_realtime_mask", "^0"},
                              END_KV};
    ck_assert_str_eq(cpu4(both, NULL), one_of);
    struct sched_kv all[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "0-3"}, END_KV};
    ck_assert_str_eq(cpu4(all, NULL), both_kinds);
    struct sched_kv nothing[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "^0-3"}, END_KV};
    ck_assert_str_eq(cpu4(nothing, NULL), both_kinds);
    struct sched_kv outside[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "4"}, END_KV};
    ck_assert_str_eq(cpu4(outside, NULL),
                     "ERROR: Mixed instance dedicated vCPU(s) mask is not a subset of vCPUs in the "
                     "flavor. See \"hw:cpu_dedicated_mask\"");
    struct sched_kv img[] = {{"hw_cpu_policy", "dedicated"}, END_KV};
    struct sched_kv mixed[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "^0"}, END_KV};
    ck_assert_str_eq(cpu4(mixed, img),
                     "ERROR: Image property 'hw_cpu_policy' is not permitted to override CPU "
                     "pinning policy set against the flavor");
}
END_TEST

START_TEST(cpu_masks_follow_parse_cpu_spec_and_its_messages)
{
    static const char *const cases[][2] = {
        {"1-x", "ERROR: Invalid range expression '1-x'"},
        {"3-1", "ERROR: Invalid range expression '3-1'"},
        {"^a", "ERROR: Invalid exclusion expression '^a'"},
        {"1,two", "ERROR: Invalid inclusion expression 'two'"},
        {"it's", "ERROR: Invalid inclusion expression \"it's\""},
        {"^-1", "ERROR: Invalid range expression '^-1'"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct sched_kv specs[] = {{"hw:cpu_policy", "mixed"},
                                   {"hw:cpu_dedicated_mask", cases[i][0]},
                                   END_KV};
        ck_assert_str_eq(cpu4(specs, NULL), cases[i][1]);
    }
    /* "^..." is read against 0-(vcpus-1): a flavor with no vCPU gives "0--1". */
    struct sched_kv specs[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "^1"}, END_KV};
    struct sched_request in = sched_test_flavor(specs, NULL);
    in.vcpus = 0;
    ck_assert_str_eq(sched_test_translate(&in, false), "ERROR: Invalid range expression '0--1'");
    /* Python ints: '+', '_' and huge values parse (a huge CPU is outside any flavor). */
    struct sched_kv py[] = {{"hw:cpu_policy", "mixed"}, {"hw:cpu_dedicated_mask", "+1,0_2"}, END_KV};
    ck_assert_str_eq(cpu4(py, NULL), BASE4("PCPU:2,VCPU:2"));
    struct sched_kv huge[] = {{"hw:cpu_policy", "mixed"},
                              {"hw:cpu_dedicated_mask", "1,99999999999999999999999"},
                              END_KV};
    ck_assert_str_eq(cpu4(huge, NULL),
                     "ERROR: Mixed instance dedicated vCPU(s) mask is not a subset of vCPUs in the "
                     "flavor. See \"hw:cpu_dedicated_mask\"");
}
END_TEST

START_TEST(masks_and_realtime_need_the_right_policy)
{
    static const char no_mixed[] =
        "ERROR: Cannot specify 'hw:cpu_dedicated_mask' without the 'mixed' policy.";
    struct sched_kv ded[] = {{"hw:cpu_policy", "dedicated"}, {"hw:cpu_dedicated_mask", "^0"}, END_KV};
    ck_assert_str_eq(cpu4(ded, NULL), no_mixed);
    struct sched_kv shared[] = {{"hw:cpu_dedicated_mask", "^0"}, END_KV};
    ck_assert_str_eq(cpu4(shared, NULL), no_mixed);
    struct sched_kv rt[] = {{"hw:cpu_realtime", "yes"}, {"hw:cpu_realtime_mask", "^0"}, END_KV};
    ck_assert_str_eq(cpu4(rt, NULL),
                     "ERROR: Cannot set realtime policy in a non dedicated cpu pinning policy");
    struct sched_kv rt_ded[] = {{"hw:cpu_policy", "dedicated"},
                                {"hw:cpu_realtime", "yes"},
                                {"hw:cpu_realtime_mask", "^0"},
                                END_KV};
    ck_assert_str_eq(cpu4(rt_ded, NULL), BASE4("PCPU:4"));
    struct sched_kv thread[] = {{"hw:cpu_thread_policy", "prefer"}, END_KV};
    ck_assert_str_eq(cpu4(thread, NULL), "ERROR: Cannot set cpu thread pinning policy in a non "
                                         "dedicated cpu pinning policy");
    struct sched_kv emul[] = {{"hw:emulator_threads_policy", "isolate"}, END_KV};
    ck_assert_str_eq(cpu4(emul, NULL), "ERROR: An isolated CPU emulator threads option requires "
                                       "a dedicated CPU policy option.");
}
END_TEST

START_TEST(explicit_vcpu_and_pcpu_requests_follow_novas_rules)
{
    struct sched_kv with_policy[] = {{"hw:cpu_policy", "mixed"},
                                     {"hw:cpu_dedicated_mask", "^0"},
                                     {"resources:VCPU", "1"},
                                     END_KV};
    ck_assert_str_eq(cpu4(with_policy, NULL),
                     "ERROR: It is not possible to use the 'resources:VCPU' or 'resources:PCPU' "
                     "extra specs in combination with the 'hw:cpu_policy' extra spec or "
                     "'hw_cpu_policy' image metadata property; use one or the other");
    struct sched_kv both[] = {{"resources:VCPU", "1"}, {"resources1:PCPU", "1"}, END_KV};
    ck_assert_str_eq(cpu4(both, NULL), "ERROR: It is not possible to specify both "
                                       "'resources:VCPU' and 'resources:PCPU' extra specs; use "
                                       "one or the other");
    struct sched_kv short_p[] = {{"resources:PCPU", "3"}, END_KV};
    ck_assert_str_eq(cpu4(short_p, NULL),
                     "ERROR: There is a mismatch between the number of PCPUs requested via "
                     "'resourcesNN:PCPU' and the flavor); you must allocate exactly flavor.vcpus "
                     "PCPUs");
    struct sched_kv iso_p[] = {{"resources:PCPU", "4"},
                               {"hw:emulator_threads_policy", "isolate"},
                               END_KV};
    ck_assert_str_eq(cpu4(iso_p, NULL),
                     "ERROR: You have requested 'hw:emulator_threads_policy=isolate' but have not "
                     "requested sufficient PCPUs to handle this policy; you must allocate exactly "
                     "flavor.vcpus + 1 PCPUs.");
    /* Explicit PCPUs make the request dedicated: a thread policy is fine. */
    struct sched_kv pinned[] = {{"resources:PCPU", "4"}, {"hw:cpu_thread_policy", "isolate"}, END_KV};
    ck_assert_str_eq(cpu4(pinned, NULL),
                     "limit=1000&required=!HW_CPU_HYPERTHREADING&"
                     "resources=DISK_GB:20,MEMORY_MB:2048,PCPU:4");
    struct sched_kv ht[] = {{"hw:cpu_policy", "dedicated"},
                            {"hw:cpu_thread_policy", "isolate"},
                            {"trait:HW_CPU_HYPERTHREADING", "forbidden"},
                            END_KV};
    ck_assert_str_eq(cpu4(ht, NULL),
                     "ERROR: It is not possible to use the 'trait:HW_CPU_HYPERTHREADING' extra "
                     "spec in combination with the 'hw:cpu_thread_policy' extra spec or "
                     "'hw_cpu_thread_policy' image metadata property; use one or the other");
    struct sched_kv ht_unpinned[] = {{"trait:HW_CPU_HYPERTHREADING", "required"}, END_KV};
    ck_assert_str_eq(cpu4(ht_unpinned, NULL), "ERROR: Cannot set cpu thread pinning policy in a "
                                              "non dedicated cpu pinning policy");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sched_cpu");
    TCase *tc = tcase_create("sched_cpu");
    tcase_add_test(tc, mixed_policy_with_a_dedicated_mask_splits_pcpu_and_vcpu);
    tcase_add_test(tc, mixed_policy_with_a_realtime_mask_pins_the_realtime_cpus);
    tcase_add_test(tc, mixed_policy_needs_exactly_one_mask_leaving_pinned_and_unpinned_cpus);
    tcase_add_test(tc, cpu_masks_follow_parse_cpu_spec_and_its_messages);
    tcase_add_test(tc, masks_and_realtime_need_the_right_policy);
    tcase_add_test(tc, explicit_vcpu_and_pcpu_requests_follow_novas_rules);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
