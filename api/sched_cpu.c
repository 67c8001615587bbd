/* See sched_cpu.h. Each function names the nova function it follows. */
#include "api/sched_cpu.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/jsonschema.h"

/* Numbers past this are "too big for any flavor" (and sums stay finite). */
#define CPU_HUGE (LLONG_MAX / 4)

/* Python's str.isspace() for ASCII: also the separators \x1c-\x1f. */
static bool py_space(char c)
{
    return isspace((unsigned char)c) || (c >= '\x1c' && c <= '\x1f');
}

/* Python's int() on s[0, n): whitespace around, a sign, digits with single
 * '_' separators; values past CPU_HUGE saturate. False on bad syntax. */
static bool cpu_int(const char *s, size_t n, long long *out)
{
    const char *end = s + n;
    while (s < end && py_space(*s))
        s++;
    while (end > s && py_space(end[-1]))
        end--;
    bool neg = s < end && *s == '-';
    if (s < end && (*s == '+' || *s == '-'))
        s++;
    long long v = 0;
    bool digits = false;
    for (; s < end; s++) {
        if (*s == '_' && digits && s + 1 < end && isdigit((unsigned char)s[1]))
            continue;
        if (!isdigit((unsigned char)*s))
            return false;
        digits = true;
        v = v > CPU_HUGE / 10 ? CPU_HUGE : v * 10 + (*s - '0');
    }
    if (!digits)
        return false;
    *out = neg ? -v : v;
    return true;
}

struct ranges {
    struct sched_cpu_range *v;
    size_t n, cap;
};

static void ranges_add(struct arena *a, struct ranges *r, long long lo, long long hi)
{
    r->v = arena_grow(a, r->v, r->n, &r->cap, sizeof(*r->v));
    r->v[r->n++] = (struct sched_cpu_range){lo, hi};
}

static int cmp_range(const void *a, const void *b)
{
    const struct sched_cpu_range *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges in place. */
static void ranges_normalize(struct ranges *r)
{
    if (!r->n)
        return;
    qsort(r->v, r->n, sizeof(*r->v), cmp_range);
    size_t k = 0;
    for (size_t i = 1; i < r->n; i++) {
        if (r->v[i].lo <= r->v[k].hi + 1) {
            if (r->v[i].hi > r->v[k].hi)
                r->v[k].hi = r->v[i].hi;
        } else {
            r->v[++k] = r->v[i];
        }
    }
    r->n = k + 1;
}

/* One rule of parse_cpu_spec (already stripped, not empty). */
static int spec_rule(const char *rule, size_t n, struct arena *a, struct ranges *inc,
                     struct ranges *rej, char *err, size_t errsz)
{
    char repr[300];
    const char *dash = memchr(rule, '-', n);
    long long lo, hi;
    if (dash) {
        const char *left = rule;
        bool reject = left[0] == '^';
        left += reject;
        if (!cpu_int(left, (size_t)(dash - left), &lo) ||
            !cpu_int(dash + 1, n - (size_t)(dash + 1 - rule), &hi) || lo > hi) {
            js_repr_string(rule, n, repr, sizeof(repr));
            snprintf(err, errsz, "Invalid range expression %s", repr);
            return -1;
        }
        ranges_add(a, reject ? rej : inc, lo, hi);
    } else if (rule[0] == '^') {
        if (!cpu_int(rule + 1, n - 1, &lo)) {
            js_repr_string(rule, n, repr, sizeof(repr));
            snprintf(err, errsz, "Invalid exclusion expression %s", repr);
            return -1;
        }
        ranges_add(a, rej, lo, lo);
    } else {
        if (!cpu_int(rule, n, &lo)) {
            js_repr_string(rule, n, repr, sizeof(repr));
            snprintf(err, errsz, "Invalid inclusion expression %s", repr);
            return -1;
        }
        ranges_add(a, inc, lo, lo);
    }
    return 0;
}

/* inc minus rej, both normalized, into out. */
static void ranges_subtract(struct arena *a, const struct ranges *inc, const struct ranges *rej,
                            struct ranges *out)
{
    size_t j = 0;
    for (size_t i = 0; i < inc->n; i++) {
        long long lo = inc->v[i].lo, hi = inc->v[i].hi;
        while (j < rej->n && rej->v[j].hi < lo)
            j++;
        for (size_t k = j; k < rej->n && rej->v[k].lo <= hi && lo <= hi; k++) {
            if (rej->v[k].lo > lo)
                ranges_add(a, out, lo, rej->v[k].lo - 1);
            lo = rej->v[k].hi + 1;
        }
        if (lo <= hi)
            ranges_add(a, out, lo, hi);
    }
}

int sched_cpu_spec_parse(const char *spec, struct arena *a, struct sched_cpuset *out, char *err,
                         size_t errsz)
{
    struct ranges inc = {0}, rej = {0}, res = {0};
    for (const char *p = spec;;) {
        size_t n = strcspn(p, ",");
        const char *rule = p, *next = p[n] ? p + n + 1 : NULL;
        while (n && py_space(*rule))
            rule++, n--;
        while (n && py_space(rule[n - 1]))
            n--;
        if (n && spec_rule(rule, n, a, &inc, &rej, err, errsz) < 0)
            return -1;
        if (!next)
            break;
        p = next;
    }
    ranges_normalize(&inc);
    ranges_normalize(&rej);
    ranges_subtract(a, &inc, &rej, &res);
    out->r = res.v;
    out->n = res.n;
    return 0;
}

long long sched_cpuset_count_below(const struct sched_cpuset *s, long long limit)
{
    long long count = 0;
    for (size_t i = 0; i < s->n && s->r[i].lo < limit; i++) {
        long long hi = s->r[i].hi < limit ? s->r[i].hi : limit - 1;
        count += hi - s->r[i].lo + 1;
    }
    return count;
}

/* ---- The constraints ---- */

static const char *kv_find(const struct sched_kv *kv, size_t n, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            found = kv[i].value;
    return found;
}

static bool set(const char *s)
{
    return s && *s;
}

/* A mask as nova reads it: "^..." excludes from all of the flavor's CPUs. */
static int parse_mask(const char *mask, long long vcpus, struct arena *a, struct sched_cpuset *out,
                      char *err, size_t errsz)
{
    const char *m = mask;
    while (py_space(*m))
        m++;
    const char *spec = *m == '^' ? arena_printf(a, "0-%lld,%s", vcpus - 1, mask) : mask;
    return sched_cpu_spec_parse(spec, a, out, err, errsz);
}

/* A mask read by parse_mask, and where it came from in words. */
struct mask {
    struct sched_cpuset cpus;
    const char *from;
};

/* hardware.get_dedicated_cpu_constraint. *found is false without a mask. */
static int dedicated_cpus(const struct sched_request *in, struct arena *a, struct mask *m,
                          bool *found, char *err, size_t errsz)
{
    const char *mask = kv_find(in->extra_specs, in->n_extra_specs, "hw:cpu_dedicated_mask");
    struct sched_cpuset *out = &m->cpus;
    *found = set(mask);
    if (!*found)
        return 0;
    m->from = arena_printf(a, "flavor extra spec hw:cpu_dedicated_mask=%s", mask);
    if (parse_mask(mask, in->vcpus, a, out, err, errsz) < 0)
        return -1;
    if (out->n == 0 || sched_cpuset_count_below(out, in->vcpus) == in->vcpus) {
        snprintf(err, errsz, "Mixed instance must have at least 1 pinned vCPU and 1 unpinned "
                             "vCPU. See 'hw:cpu_dedicated_mask'.");
        return -1;
    }
    if (out->r[out->n - 1].hi >= in->vcpus) {
        snprintf(err, errsz, "Mixed instance dedicated vCPU(s) mask is not a subset of vCPUs in "
                             "the flavor. See \"hw:cpu_dedicated_mask\"");
        return -1;
    }
    return 0;
}

/* hardware.get_realtime_cpu_constraint. *found is false unless
 * hw:cpu_realtime is true (oslo's lenient bool_from_string). */
static int realtime_cpus(const struct sched_request *in, const char *emul, struct arena *a,
                         struct mask *m, bool *found, char *err, size_t errsz)
{
    struct sched_cpuset *out = &m->cpus;
    static const char rt_invalid[] = "Use of realtime CPUs requires either one or more "
                                     "non-realtime CPU(s) or offloaded emulator threads.";
    *found = sched_bool_lenient(kv_find(in->extra_specs, in->n_extra_specs, "hw:cpu_realtime"));
    if (!*found)
        return 0;
    const char *fmask = kv_find(in->extra_specs, in->n_extra_specs, "hw:cpu_realtime_mask");
    const char *imask = kv_find(in->image_props, in->n_image_props, "hw_cpu_realtime_mask");
    const char *mask = set(imask) ? imask : fmask;
    m->from = set(imask)   ? arena_printf(a, "image property hw_cpu_realtime_mask=%s", imask)
              : set(fmask) ? arena_printf(a, "flavor extra spec hw:cpu_realtime_mask=%s", fmask)
                           : "flavor extra spec hw:cpu_realtime (every vCPU)";
    if (set(mask)) {
        if (parse_mask(mask, in->vcpus, a, out, err, errsz) < 0)
            return -1;
    } else if (in->vcpus > 0) {
        out->r = arena_alloc(a, sizeof(*out->r));
        out->r[0] = (struct sched_cpu_range){0, in->vcpus - 1};
        out->n = 1;
    } else {
        out->n = 0;
    }
    bool subset = out->n == 0 || out->r[out->n - 1].hi < in->vcpus;
    if (out->n == 0 ||
        (subset && sched_cpuset_count_below(out, in->vcpus) == in->vcpus && !set(emul))) {
        snprintf(err, errsz, "%s", rt_invalid);
        return -1;
    }
    if (!subset) {
        snprintf(err, errsz, "Realtime policy vCPU(s) mask is configured with RT vCPUs that are "
                             "not a subset of the vCPUs in the flavor. See hw:cpu_realtime_mask "
                             "or hw_cpu_realtime_mask");
        return -1;
    }
    return 0;
}

/* re.match('<base>([1-9][0-9]*)?:<name>', key): a prefix match. */
static bool numbered_key(const char *key, const char *base, const char *name)
{
    size_t n = strlen(base);
    if (strncmp(key, base, n) != 0)
        return false;
    const char *p = key + n;
    if (*p >= '1' && *p <= '9')
        while (isdigit((unsigned char)*p))
            p++;
    return *p == ':' && strncmp(p + 1, name, strlen(name)) == 0;
}

/* hardware._get_vcpu_pcpu_resources: sums of resources[N]:VCPU and :PCPU. */
static void explicit_cpus(const struct sched_request *in, long long *vcpu, long long *pcpu)
{
    *vcpu = *pcpu = 0;
    for (size_t i = 0; i < in->n_extra_specs; i++) {
        long long v;
        const struct sched_kv *kv = &in->extra_specs[i];
        bool is_v = numbered_key(kv->key, "resources", "VCPU");
        bool is_p = numbered_key(kv->key, "resources", "PCPU");
        if ((!is_v && !is_p) || !cpu_int(kv->value, strlen(kv->value), &v))
            continue;
        long long *sum = is_v ? vcpu : pcpu;
        *sum = v > CPU_HUGE - *sum ? CPU_HUGE : *sum + v; /* both >= 0 here */
    }
}

/* hardware._get_hyperthreading_trait: NULL when not asked for. */
static const char *hyperthreading_trait(const struct sched_request *in)
{
    for (size_t i = 0; i < in->n_extra_specs; i++)
        if (numbered_key(in->extra_specs[i].key, "trait", "HW_CPU_HYPERTHREADING"))
            return in->extra_specs[i].value;
    const char *img = kv_find(in->image_props, in->n_image_props, "trait:HW_CPU_HYPERTHREADING");
    return img && strcmp(img, "required") == 0 ? "required" : NULL;
}

static int fail(char *err, size_t errsz, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return -1;
}

/* numa_get_constraints: explicit VCPU/PCPU requests decide the policy. */
static int explicit_policy(const struct sched_request *in, const char **policy, const char *emul,
                           char *err, size_t errsz)
{
    long long rv, rp;
    explicit_cpus(in, &rv, &rp);
    if (set(*policy) && (rv || rp))
        return fail(err, errsz,
                    "It is not possible to use the 'resources:VCPU' or 'resources:PCPU' extra "
                    "specs in combination with the 'hw:cpu_policy' extra spec or "
                    "'hw_cpu_policy' image metadata property; use one or the other");
    if (rv && rp)
        return fail(err, errsz,
                    "It is not possible to specify both 'resources:VCPU' and 'resources:PCPU' "
                    "extra specs; use one or the other");
    bool isolate = set(emul) && strcmp(emul, "isolate") == 0;
    if (rp && isolate && in->vcpus + 1 != rp)
        return fail(err, errsz,
                    "You have requested 'hw:emulator_threads_policy=isolate' but have not "
                    "requested sufficient PCPUs to handle this policy; you must allocate "
                    "exactly flavor.vcpus + 1 PCPUs.");
    if (rp && !isolate && in->vcpus != rp)
        return fail(err, errsz,
                    "There is a mismatch between the number of PCPUs requested via "
                    "'resourcesNN:PCPU' and the flavor); you must allocate exactly flavor.vcpus "
                    "PCPUs");
    if (rp)
        *policy = "dedicated";
    if (rv)
        *policy = "shared";
    return 0;
}

/* numa_get_constraints' sanity checks, after the explicit requests. */
static int sanity(const char *policy, const char *thread, const char *emul, bool dedicated,
                  bool realtime, char *err, size_t errsz)
{
    static const char no_mask[] = "Cannot specify 'hw:cpu_dedicated_mask' without the 'mixed' "
                                  "policy.";
    if (!set(policy) || strcmp(policy, "shared") == 0) {
        if (set(thread))
            return fail(err, errsz, "Cannot set cpu thread pinning policy in a non dedicated cpu "
                                    "pinning policy");
        if (set(emul) && strcmp(emul, "isolate") == 0)
            return fail(err, errsz, "An isolated CPU emulator threads option requires a "
                                    "dedicated CPU policy option.");
        if (dedicated)
            return fail(err, errsz, no_mask);
        if (realtime)
            return fail(err, errsz, "Cannot set realtime policy in a non dedicated cpu pinning "
                                    "policy");
    } else if (strcmp(policy, "dedicated") == 0) {
        if (dedicated)
            return fail(err, errsz, no_mask);
    } else if (realtime == dedicated) { /* mixed: exactly one of the masks */
        return fail(err, errsz,
                    "Dedicated CPU set can be specified from either 'hw:cpu_dedicated_mask' or "
                    "'hw:cpu_realtime_mask' when using 'mixed' CPU policy. "
                    "'hw:cpu_dedicated_mask' and 'hw:cpu_realtime_mask' can not be specified at "
                    "the same time, or be specified with none of them.");
    }
    return 0;
}

int sched_cpu_check(const struct sched_request *in, const char *policy, const char *thread,
                    const char *emul, struct arena *a, struct sched_mixed *mixed, char *err,
                    size_t errsz)
{
    struct mask rt = {0}, ded = {0};
    bool has_rt, has_ded;
    if (realtime_cpus(in, emul, a, &rt, &has_rt, err, errsz) < 0 ||
        dedicated_cpus(in, a, &ded, &has_ded, err, errsz) < 0)
        return -1;
    /* The mixed translation reads the masks with the policy as given. */
    const struct mask *pinned = has_ded ? &ded : has_rt ? &rt : NULL;
    mixed->pcpus = pinned ? sched_cpuset_count_below(&pinned->cpus, in->vcpus) : 0;
    mixed->from = pinned ? pinned->from : "no mask";
    if (explicit_policy(in, &policy, emul, err, errsz) < 0)
        return -1;
    const char *ht = hyperthreading_trait(in);
    if (set(thread) && set(ht))
        return fail(err, errsz,
                    "It is not possible to use the 'trait:HW_CPU_HYPERTHREADING' extra spec in "
                    "combination with the 'hw:cpu_thread_policy' extra spec or "
                    "'hw_cpu_thread_policy' image metadata property; use one or the other");
    if (ht && strcmp(ht, "forbidden") == 0)
        thread = "isolate";
    else if (ht && strcmp(ht, "required") == 0)
        thread = "require";
    return sanity(policy, thread, emul, has_ded, has_rt, err, errsz);
}
