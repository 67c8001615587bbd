/* nova's CPU constraints for the scheduling translator: the parts of
 * nova/virt/hardware.py (numa_get_constraints and the helpers it calls)
 * that decide between VCPU and PCPU or reject a flavor/image pair:
 * parse_cpu_spec, get_dedicated_cpu_constraint (hw:cpu_dedicated_mask),
 * get_realtime_cpu_constraint (hw:cpu_realtime, hw:cpu_realtime_mask,
 * hw_cpu_realtime_mask), the explicit resources:VCPU/PCPU and
 * trait:HW_CPU_HYPERTHREADING rules and the policy sanity checks.
 *
 * Pure: no JSON, HTTP or store. Strings handed back live in the arena given
 * to the call. Error messages are nova's texts, one line, meant for a 400. */
#ifndef PLACID_API_SCHED_CPU_H
#define PLACID_API_SCHED_CPU_H

#include <stdbool.h>
#include <stddef.h>

#include "api/sched_translate.h"

/* A set of CPU numbers as sorted, disjoint, inclusive ranges. Numbers are
 * never negative; a number beyond what a long long holds is kept as a huge
 * value (Python's ints have no limit), so it is never in a flavor. */
struct sched_cpu_range {
    long long lo, hi;
};
struct sched_cpuset {
    struct sched_cpu_range *r;
    size_t n;
};

/* hardware.parse_cpu_spec: "1-4,^3,6" -> {1, 2, 4, 6}. Returns 0, or -1
 * with nova's message ("Invalid range expression '5-1'", "Invalid
 * exclusion expression ...", "Invalid inclusion expression ...") in err. */
int sched_cpu_spec_parse(const char *spec, struct arena *a, struct sched_cpuset *out, char *err,
                         size_t errsz);

/* How many members of s lie in [0, limit). */
long long sched_cpuset_count_below(const struct sched_cpuset *s, long long limit);

/* The dedicated vCPUs of the 'mixed' policy: how many, and the mask they
 * come from in words ("flavor extra spec hw:cpu_dedicated_mask=0-1"). */
struct sched_mixed {
    long long pcpus;
    const char *from;
};

/* Runs nova's CPU checks for in, given the CPU policy, CPU thread policy
 * and emulator threads policy already read (NULL or "" when unset). On
 * success returns 0 and fills *mixed, what the 'mixed' policy pins (from
 * hw:cpu_dedicated_mask, or the realtime mask; from an arena string);
 * otherwise -1 with nova's message in err. */
int sched_cpu_check(const struct sched_request *in, const char *policy, const char *thread,
                    const char *emul, struct arena *a, struct sched_mixed *mixed, char *err,
                    size_t errsz);

#endif
