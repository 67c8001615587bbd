/* Which flavor or image property each part of a derived query came from
 * (issue 12, POST /placid/allocation_candidates with "explain": true).
 *
 * The rules are those sched_translate() applies (README, "Ask for
 * candidates with a flavor and an image"), CPU policies included: dedicated
 * and mixed (the split read back from the derived query), from the flavor
 * or the image, isolated emulator threads, the thread policy's
 * HW_CPU_HYPERTHREADING. Every source found is kept only
 * when its parameter and value really are in the derived query, so a rule
 * that drifts from the translator drops out instead of saying something
 * false. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/explain_sources.h"

struct sources {
    struct req *rq;
    const struct sched_query *q;
    struct explain_source *v;
    size_t n, cap;
};

/* Is value one of the comma-separated items of parameter param? */
static bool in_query(const struct sched_query *q, const char *param, const char *value)
{
    size_t n = strlen(value);
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].key, param) != 0)
            continue;
        for (const char *p = q->params[i].value; p; p = strchr(p, ',')) {
            p += *p == ',';
            if (strncmp(p, value, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                return true;
        }
    }
    return false;
}

static void add(struct sources *s, const char *param, const char *value, const char *from)
{
    if (!in_query(s->q, param, value))
        return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 16;
        struct explain_source *v = arena_alloc(&s->rq->arena, cap * sizeof(*v));
        if (s->n)
            memcpy(v, s->v, s->n * sizeof(*v));
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (struct explain_source){param, value, from};
}

static const char *find(const struct sched_kv *kv, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* resources[S]:RC=N and trait[S]:T=required|forbidden of the flavor (or,
 * for traits, the image). */
static void granular(struct sources *s, const struct sched_kv *kv, size_t n, const char *what)
{
    struct arena *a = &s->rq->arena;
    for (size_t i = 0; i < n; i++) {
        const char *k = kv[i].key, *v = kv[i].value, *colon = strchr(k, ':');
        if (!colon)
            continue;
        const char *suffix = arena_strndup(a, k, (size_t)(colon - k));
        const char *from = arena_printf(a, "%s %s=%s", what, k, v);
        if (strncmp(suffix, "resources", 9) == 0)
            add(s, arena_printf(a, "resources%s", suffix + 9), arena_printf(a, "%s:%s", colon + 1, v),
                from);
        else if (strncmp(suffix, "trait", 5) == 0 && strcasecmp(v, "required") == 0)
            add(s, arena_printf(a, "required%s", suffix + 5), colon + 1, from);
        else if (strncmp(suffix, "trait", 5) == 0 && strcasecmp(v, "forbidden") == 0)
            add(s, arena_printf(a, "required%s", suffix + 5), arena_printf(a, "!%s", colon + 1),
                from);
    }
}

/* The amount of class rc in the unsuffixed resources of q (-1: none). */
static long long query_amount(const struct sched_query *q, const char *rc)
{
    size_t n = strlen(rc);
    for (size_t i = 0; i < q->n; i++) {
        if (strcmp(q->params[i].key, "resources") != 0)
            continue;
        for (const char *p = q->params[i].value; p; p = strchr(p, ',')) {
            p += *p == ',';
            if (strncmp(p, rc, n) == 0 && p[n] == ':')
                return strtoll(p + n + 1, NULL, 10);
        }
    }
    return -1;
}

/* Where the dedicated vCPUs of hw:cpu_policy=mixed come from
 * (hardware.get_dedicated_cpu_constraint, else the realtime mask). */
static const char *mixed_mask(struct arena *a, const struct sched_kv *es, size_t nes,
                              const struct sched_kv *ip, size_t nip)
{
    const char *v;
    if ((v = find(es, nes, "hw:cpu_dedicated_mask")) && *v)
        return arena_printf(a, "flavor extra spec hw:cpu_dedicated_mask=%s", v);
    if ((v = find(ip, nip, "hw_cpu_realtime_mask")) && *v)
        return arena_printf(a, "image property hw_cpu_realtime_mask=%s", v);
    if ((v = find(es, nes, "hw:cpu_realtime_mask")) && *v)
        return arena_printf(a, "flavor extra spec hw:cpu_realtime_mask=%s", v);
    return "flavor extra spec hw:cpu_realtime (every vCPU)";
}

/* VCPU and PCPU: the flavor's vcpus, split by the CPU policy (flavor extra
 * spec, else image property) as translate_pinning does. */
static void cpus(struct sources *s, const struct sched_request *in)
{
    struct arena *a = &s->rq->arena;
    const struct sched_kv *es = in->extra_specs, *ip = in->image_props;
    size_t nes = in->n_extra_specs, nip = in->n_image_props;
    const char *fp = find(es, nes, "hw:cpu_policy"), *ipp = find(ip, nip, "hw_cpu_policy");
    const char *policy = fp && *fp ? fp : ipp && *ipp ? ipp : NULL;
    const char *from = !policy     ? ""
                       : policy == fp ? arena_printf(a, " with flavor extra spec hw:cpu_policy=%s", fp)
                                      : arena_printf(a, " with image property hw_cpu_policy=%s", ipp);
    const char *emul = find(es, nes, "hw:emulator_threads_policy");
    bool isolate = emul && strcmp(emul, "isolate") == 0;
    const char *plus1 = isolate ? ", + 1 for hw:emulator_threads_policy=isolate" : "";
    if (policy && strcmp(policy, "dedicated") == 0) {
        add(s, "resources", arena_printf(a, "PCPU:%lld", in->vcpus + isolate),
            arena_printf(a, "flavor vcpus=%lld%s%s", in->vcpus, from, plus1));
    } else if (policy && strcmp(policy, "mixed") == 0) {
        long long pcpu = query_amount(s->q, "PCPU"), vcpu = query_amount(s->q, "VCPU");
        const char *mask = mixed_mask(a, es, nes, ip, nip);
        add(s, "resources", arena_printf(a, "VCPU:%lld", vcpu),
            arena_printf(a, "flavor vcpus=%lld%s: the %lld not pinned by %s", in->vcpus, from,
                         vcpu, mask));
        add(s, "resources", arena_printf(a, "PCPU:%lld", pcpu),
            arena_printf(a, "flavor vcpus=%lld%s: the %lld pinned by %s%s", in->vcpus, from,
                         pcpu - isolate, mask, plus1));
    } else {
        add(s, "resources", arena_printf(a, "VCPU:%lld", in->vcpus),
            arena_printf(a, "flavor vcpus=%lld", in->vcpus));
    }
    const char *tp = find(es, nes, "hw:cpu_thread_policy");
    const char *itp = find(ip, nip, "hw_cpu_thread_policy");
    const char *thread = tp && *tp ? tp : itp; /* as cpu_thread_policy() picks it */
    if (thread && (strcmp(thread, "require") == 0 || strcmp(thread, "isolate") == 0))
        add(s, "required", strcmp(thread, "require") == 0 ? "HW_CPU_HYPERTHREADING"
                                                           : "!HW_CPU_HYPERTHREADING",
            thread == tp ? arena_printf(a, "flavor extra spec hw:cpu_thread_policy=%s", tp)
                         : arena_printf(a, "image property hw_cpu_thread_policy=%s", itp));
}

size_t explain_sources(struct req *rq, const struct sched_request *in, const struct sched_query *q,
                       struct explain_source **out)
{
    struct sources s = {.rq = rq, .q = q};
    struct arena *a = &rq->arena;
    const struct sched_kv *es = in->extra_specs, *ip = in->image_props;
    size_t nes = in->n_extra_specs, nip = in->n_image_props;
    cpus(&s, in);
    add(&s, "resources", arena_printf(a, "MEMORY_MB:%lld", in->memory_mb),
        arena_printf(a, "flavor memory_mb=%lld", in->memory_mb));
    long long disk = in->root_gb + in->ephemeral_gb + (in->swap + 1023) / 1024;
    add(&s, "resources", arena_printf(a, "DISK_GB:%lld", disk),
        arena_printf(a, "flavor root_gb=%lld + ephemeral_gb=%lld + swap=%lld MB", in->root_gb,
                     in->ephemeral_gb, in->swap));
    granular(&s, es, nes, "flavor extra spec");
    granular(&s, ip, nip, "image property");
    const char *fp = find(es, nes, "hw:virtio_packed_ring");
    const char *ipk = find(ip, nip, "hw_virtio_packed_ring");
    if (fp || ipk)
        add(&s, "root_required", "COMPUTE_NET_VIRTIO_PACKED",
            fp && ipk ? arena_printf(a, "flavor extra spec hw:virtio_packed_ring=%s and image "
                                        "property hw_virtio_packed_ring=%s",
                                     fp, ipk)
            : fp      ? arena_printf(a, "flavor extra spec hw:virtio_packed_ring=%s", fp)
                      : arena_printf(a, "image property hw_virtio_packed_ring=%s", ipk));
    add(&s, "root_required", "!COMPUTE_STATUS_DISABLED", "nova's compute_status_filter (always)");
    const char *gp = find(es, nes, "group_policy");
    if (gp)
        add(&s, "group_policy", gp, arena_printf(a, "flavor extra spec group_policy=%s", gp));
    add(&s, "limit", arena_printf(a, "%lld", in->limit),
        in->limit == SCHED_DEFAULT_LIMIT ? "nova's max_placement_results (default 1000)"
                                         : "the request's limit");
    *out = s.v;
    return s.n;
}
