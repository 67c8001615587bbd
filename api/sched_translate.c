/* Flavor + image -> allocation-candidates query, following nova's
 * ResourceRequest.from_request_spec() step by step (see sched_translate.h).
 * The order of the steps matters and is nova's: extra specs, image traits,
 * CPU pinning, then the flavor's base resources for whatever no group asked
 * for yet, then zero stripping; the request filters add root_required. */
#include "api/sched_translate.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/query.h"
#include "api/sched_cpu.h"
#include "api/strmap.h"
#include "core/log.h"

#define PACKED_TRAIT   "COMPUTE_NET_VIRTIO_PACKED"
#define DISABLED_TRAIT "COMPUTE_STATUS_DISABLED"
#define HT_TRAIT       "HW_CPU_HYPERTHREADING"

/* One comma-separated item of a query parameter's value and the flavor or
 * image property it came from (see struct sched_source). */
struct part {
    const char *value;
    const char *from;
};

/* A set of parts, unique by value, kept in insertion order (sorted only
 * when rendered). */
struct strset {
    struct part *v;
    size_t n, cap;
};

struct rc_amount {
    const char *rc;
    long long amount;
    const char *from;
};

/* One request group; suffix "" is the unsuffixed group. */
struct group {
    const char *suffix;
    struct rc_amount *res;
    size_t n_res, cap_res;
    struct strset required, forbidden;
};

/* Translation state. Groups are addressed by index because the array moves
 * when it grows. */
struct tx {
    const struct sched_request *in;
    sched_name_exists_fn *exists;
    void *arg;
    struct arena *a;
    char *err;
    size_t errsz;
    struct group *groups;
    size_t n_groups, cap_groups;
    struct strmap group_by_suffix; /* suffix -> index into groups */
    const char *group_policy;
    struct strset root_required, root_forbidden;
};

static int fail(struct tx *t, const char *fmt, ...) PRINTF_LIKE(2, 3);

static int fail(struct tx *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, t->errsz, fmt, ap);
    va_end(ap);
    return -1;
}

/* The source of a part, formatted only when in->record_sources asks for
 * the derivation (explain); NULL otherwise, so a plain query does not pay
 * for the words. */
static const char *src(const struct tx *t, const char *fmt, ...) PRINTF_LIKE(2, 3);

static const char *src(const struct tx *t, const char *fmt, ...)
{
    if (!t->in->record_sources)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *out = arena_alloc(t->a, n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(out, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    return out;
}

/* Adds x with its source; a value asked for twice (a flavor and an image
 * requiring the same trait) keeps one part naming both sources. */
static void strset_add(struct arena *a, struct strset *s, const char *x, const char *from)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].value, x) == 0) {
            if (from && strcmp(s->v[i].from, from) != 0)
                s->v[i].from = arena_printf(a, "%s and %s", s->v[i].from, from);
            return;
        }
    }
    s->v = arena_grow(a, s->v, s->n, &s->cap, sizeof(*s->v));
    s->v[s->n++] = (struct part){arena_strdup(a, x), from};
}

/* The index of the group of suffix, created when new. The unsuffixed group
 * is made first (sched_translate), so group_get(t, "", ...) never fails;
 * otherwise SIZE_MAX (after fail()) when a new group would pass
 * API_MAX_REQUEST_GROUPS. key names the extra spec, for the message. */
static size_t group_get(struct tx *t, const char *suffix, const char *key)
{
    size_t i;
    if (strmap_get(&t->group_by_suffix, suffix, &i))
        return i;
    if (t->n_groups == API_MAX_REQUEST_GROUPS) {
        fail(t,
             "Invalid flavor extra spec '%s': too many request groups; placid accepts at most "
             "%d (the unsuffixed group counts as one).",
             key, API_MAX_REQUEST_GROUPS);
        return SIZE_MAX;
    }
    t->groups = arena_grow(t->a, t->groups, t->n_groups, &t->cap_groups, sizeof(*t->groups));
    struct group *g = &t->groups[t->n_groups];
    memset(g, 0, sizeof(*g));
    g->suffix = arena_strdup(t->a, suffix);
    strmap_put(&t->group_by_suffix, g->suffix, t->n_groups);
    return t->n_groups++;
}

/* RequestGroup.add_resource: a class named again replaces the amount (and
 * its source). */
static void group_set_resource(struct tx *t, size_t gi, const char *rc, long long amount,
                               const char *from)
{
    struct group *g = &t->groups[gi];
    for (size_t i = 0; i < g->n_res; i++) {
        if (strcmp(g->res[i].rc, rc) == 0) {
            g->res[i].amount = amount;
            g->res[i].from = from;
            return;
        }
    }
    g->res = arena_grow(t->a, g->res, g->n_res, &g->cap_res, sizeof(*g->res));
    g->res[g->n_res++] = (struct rc_amount){arena_strdup(t->a, rc), amount, from};
}

/* True when any group asks for rc (ResourceRequest.merged_resources keys). */
static bool any_group_has(const struct tx *t, const char *rc)
{
    for (size_t i = 0; i < t->n_groups; i++)
        for (size_t j = 0; j < t->groups[i].n_res; j++)
            if (strcmp(t->groups[i].res[j].rc, rc) == 0)
                return true;
    return false;
}

static const char *find_kv(const struct sched_kv *kv, size_t n, const char *key)
{
    const char *found = NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(kv[i].key, key) == 0)
            found = kv[i].value;
    return found;
}

/* ---- Booleans (oslo_utils.strutils.bool_from_string) ---- */

static bool bool_lookup(const char *s, bool *out)
{
    static const char *const yes[] = {"1", "t", "true", "on", "y", "yes"};
    static const char *const no[] = {"0", "f", "false", "off", "n", "no"};
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strlen(yes[i]) == n && strncasecmp(s, yes[i], n) == 0) {
            *out = true;
            return true;
        }
        if (strlen(no[i]) == n && strncasecmp(s, no[i], n) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

bool sched_bool_strict(const char *s, bool *out)
{
    return s && bool_lookup(s, out);
}

bool sched_bool_lenient(const char *s)
{
    bool v = false;
    return s && bool_lookup(s, &v) && v;
}

int sched_packed_ring(const char *flavor_value, const char *image_value, bool *packed, char *err,
                      size_t errsz)
{
    bool fv = false, iv = false;

    /* The flavor API validates the extra spec strictly (type: bool); the image
     * property is a FlexibleBooleanField, where unknown strings mean False. */
    if (flavor_value && !sched_bool_strict(flavor_value, &fv)) {
        snprintf(err, errsz,
                 "Invalid flavor extra spec 'hw:virtio_packed_ring': Validation failed; '%s' is "
                 "not a valid boolean-like value.",
                 flavor_value);
        return -1;
    }
    if (image_value)
        iv = sched_bool_lenient(image_value);
    if (flavor_value && image_value && fv != iv) {
        snprintf(err, errsz,
                 "Flavor has hw:virtio_packed_ring extra spec explicitly set to %s, conflicting "
                 "with image which has hw_virtio_packed_ring explicitly set to %s.",
                 fv ? "True" : "False", iv ? "True" : "False");
        return -1;
    }
    *packed = fv || iv;
    return 0;
}

/* ---- Names ---- */

/* Standard and CUSTOM_ names are [A-Z0-9_]+: anything else cannot exist,
 * and would also break the comma-separated query syntax. */
static bool name_well_formed(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return false;
    return true;
}

static int check_name(struct tx *t, enum sched_name_kind kind, const char *name, const char *origin,
                      const char *key)
{
    if (name_well_formed(name) && (!t->exists || t->exists(t->arg, kind, name)))
        return 0;
    if (kind == SCHED_TRAIT)
        return fail(t, "Invalid %s '%s': No such trait(s): %s.", origin, key, name);
    return fail(t, "Invalid %s '%s': No such resource class %s.", origin, key, name);
}

/* Python's int(): surrounding whitespace, a sign, digits with single '_'
 * separators. False on anything else or on overflow. */
static bool py_int(const char *s, long long *out)
{
    char digits[32];
    size_t n = 0;
    bool neg = false;

    while (isspace((unsigned char)*s))
        s++;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    for (; *s && !isspace((unsigned char)*s); s++) {
        if (*s == '_' && n && s[1] >= '0' && s[1] <= '9')
            continue;
        if (*s < '0' || *s > '9' || n + 1 >= sizeof(digits))
            return false;
        digits[n++] = *s;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (!n || *s)
        return false;
    digits[n] = '\0';
    errno = 0;
    long long v = strtoll(digits, NULL, 10);
    if (errno == ERANGE)
        return false;
    *out = neg ? -v : v;
    return true;
}

/* ---- The steps of ResourceRequest.from_request_spec ---- */

/* XS_KEYPAT = ^(resources|trait)([a-zA-Z0-9_-]{1,64})?:(.*)$ : splits key
 * into the prefix, the suffix ("" when absent) and the name. */
static bool match_xs_key(const char *key, bool *is_resources, char suffix[65], const char **name)
{
    const char *p;
    if (strncmp(key, "resources", 9) == 0) {
        *is_resources = true;
        p = key + 9;
    } else if (strncmp(key, "trait", 5) == 0) {
        *is_resources = false;
        p = key + 5;
    } else {
        return false;
    }
    size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
    if (n > 64 || p[n] != ':')
        return false;
    memcpy(suffix, p, n);
    suffix[n] = '\0';
    *name = p + n + 1;
    /* '.' does not match a newline; '$' may match just before a final one. */
    const char *nl = strchr(*name, '\n');
    return !nl || nl[1] == '\0';
}

static int add_extra_spec_resource(struct tx *t, const struct sched_kv *kv, const char *suffix,
                                   const char *rc)
{
    long long amount;
    if (check_name(t, SCHED_RESOURCE_CLASS, rc, "flavor extra spec", kv->key) < 0)
        return -1;
    if (!py_int(kv->value, &amount) || amount < 0)
        return fail(t,
                    "Invalid flavor extra spec '%s': Resource amounts must be nonnegative "
                    "integers. Received '%s'.",
                    kv->key, kv->value);
    size_t gi = group_get(t, suffix, kv->key);
    if (gi == SIZE_MAX)
        return -1;
    group_set_resource(t, gi, rc, amount, src(t, "flavor extra spec %s=%s", kv->key, kv->value));
    return 0;
}

static int add_extra_spec_trait(struct tx *t, const struct sched_kv *kv, const char *suffix,
                                const char *trait)
{
    bool required = strcmp(kv->value, "required") == 0;
    if (!required && strcmp(kv->value, "forbidden") != 0) {
        /* nova: RequestGroup.add_trait warns and ignores the spec. */
        log_msg(LOG_WARN,
                "scheduling: Only (required, forbidden) traits are supported. Received '%s' "
                "for %s; ignored.",
                kv->value, kv->key);
        return 0;
    }
    if (check_name(t, SCHED_TRAIT, trait, "flavor extra spec", kv->key) < 0)
        return -1;
    size_t gi = group_get(t, suffix, kv->key); /* first: it may move t->groups */
    if (gi == SIZE_MAX)
        return -1;
    struct group *g = &t->groups[gi];
    strset_add(t->a, required ? &g->required : &g->forbidden, trait,
               src(t, "flavor extra spec %s=%s", kv->key, kv->value));
    return 0;
}

static int process_extra_specs(struct tx *t)
{
    for (size_t i = 0; i < t->in->n_extra_specs; i++) {
        const struct sched_kv *kv = &t->in->extra_specs[i];
        bool is_resources;
        char suffix[65];
        const char *name;
        int rc = 0;

        if (strcmp(kv->key, "group_policy") == 0) {
            if (strcmp(kv->value, "none") == 0 || strcmp(kv->value, "isolate") == 0)
                t->group_policy = arena_strdup(t->a, kv->value);
            else
                log_msg(LOG_WARN,
                        "scheduling: Invalid group_policy '%s'. Valid values are 'none' and "
                        "'isolate'; ignored.",
                        kv->value);
            continue;
        }
        if (!match_xs_key(kv->key, &is_resources, suffix, &name))
            continue;
        char *clean = arena_strndup(t->a, name, strcspn(name, "\n"));
        rc = is_resources ? add_extra_spec_resource(t, kv, suffix, clean)
                          : add_extra_spec_trait(t, kv, suffix, clean);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ImageMetaProps._set_attr_from_trait_names: "trait:T" = exactly "required"
 * goes to the unsuffixed group; an image cannot forbid. */
static int process_image_traits(struct tx *t)
{
    for (size_t i = 0; i < t->in->n_image_props; i++) {
        const struct sched_kv *kv = &t->in->image_props[i];
        if (strncmp(kv->key, "trait:", 6) != 0 || strcmp(kv->value, "required") != 0)
            continue;
        if (check_name(t, SCHED_TRAIT, kv->key + 6, "image property", kv->key) < 0)
            return -1;
        size_t g0 = group_get(t, "", NULL);
        strset_add(t->a, &t->groups[g0].required, kv->key + 6,
                   src(t, "image property %s=%s", kv->key, kv->value));
    }
    return 0;
}

static bool in_list(const char *v, const char *const list[])
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

/* hardware.get_cpu_policy_constraint. *policy is NULL when none applies;
 * *origin then names the extra spec or image property it came from. */
static int cpu_policy(struct tx *t, const char **policy, const char **origin)
{
    static const char *const all[] = {"dedicated", "shared", "mixed", NULL};
    const char *fp = find_kv(t->in->extra_specs, t->in->n_extra_specs, "hw:cpu_policy");
    const char *ip = find_kv(t->in->image_props, t->in->n_image_props, "hw_cpu_policy");
    static const char avail[] = "('dedicated', 'shared', 'mixed')";

    if (fp && *fp && !in_list(fp, all))
        return fail(t,
                    "CPU policy requested from 'flavor extra specs' is invalid, given: '%s', "
                    "available: '%s'.",
                    fp, avail);
    if (ip && *ip && !in_list(ip, all))
        return fail(t,
                    "CPU policy requested from 'image properties' is invalid, given: '%s', "
                    "available: '%s'.",
                    ip, avail);
    *policy = NULL;
    if (fp && *fp) {
        bool image_pins = ip && (strcmp(ip, "dedicated") == 0 ||
                                 (strcmp(fp, "shared") == 0 && strcmp(ip, "mixed") == 0));
        if (strcmp(fp, "dedicated") != 0 && image_pins)
            return fail(t, "Image property 'hw_cpu_policy' is not permitted to override CPU "
                           "pinning policy set against the flavor");
        *policy = fp;
        *origin = src(t, "flavor extra spec hw:cpu_policy=%s", fp);
    } else if (ip && *ip) {
        *policy = ip;
        *origin = src(t, "image property hw_cpu_policy=%s", ip);
    }
    return 0;
}

/* hardware.get_cpu_thread_policy_constraint; *origin names where the
 * policy came from. */
static int cpu_thread_policy(struct tx *t, const char **policy, const char **origin)
{
    static const char *const all[] = {"prefer", "isolate", "require", NULL};
    const char *fp = find_kv(t->in->extra_specs, t->in->n_extra_specs, "hw:cpu_thread_policy");
    const char *ip = find_kv(t->in->image_props, t->in->n_image_props, "hw_cpu_thread_policy");
    static const char avail[] = "('prefer', 'isolate', 'require')";

    if (fp && *fp && !in_list(fp, all))
        return fail(t,
                    "CPU thread policy requested from 'flavor extra specs' is invalid, given: "
                    "'%s', available: '%s'.",
                    fp, avail);
    if (ip && *ip && !in_list(ip, all))
        return fail(t,
                    "CPU thread policy requested from 'image properties' is invalid, given: "
                    "'%s', available: '%s'.",
                    ip, avail);
    if (!fp || strcmp(fp, "prefer") == 0) {
        *policy = fp && *fp ? fp : ip;
    } else if (ip && *ip && strcmp(ip, fp) != 0) {
        return fail(t, "Image property 'hw_cpu_thread_policy' is not permitted to override CPU "
                       "thread pinning policy set against the flavor");
    } else {
        *policy = fp;
    }
    if (*policy)
        *origin = *policy == fp ? src(t, "flavor extra spec hw:cpu_thread_policy=%s", fp)
                                : src(t, "image property hw_cpu_thread_policy=%s", ip);
    return 0;
}

/* The PCPU and VCPU of the dedicated and mixed CPU policies (origin names
 * where the policy came from), with their sources. */
static void pin_cpus(struct tx *t, const char *policy, const char *origin, bool isolate,
                     const struct sched_mixed *mixed)
{
    long long vcpus = t->in->vcpus, pinned = mixed->pcpus;
    const char *plus1 = isolate ? ", + 1 for hw:emulator_threads_policy=isolate" : "";
    size_t g0 = group_get(t, "", NULL);

    if (strcmp(policy, "dedicated") == 0) {
        group_set_resource(t, g0, "PCPU", vcpus + isolate,
                           src(t, "flavor vcpus=%lld with %s%s", vcpus, origin, plus1));
    } else if (strcmp(policy, "mixed") == 0) {
        group_set_resource(t, g0, "VCPU", vcpus - pinned,
                           src(t, "flavor vcpus=%lld with %s: the %lld not pinned by %s", vcpus,
                               origin, vcpus - pinned, mixed->from));
        group_set_resource(t, g0, "PCPU", pinned + isolate,
                           src(t, "flavor vcpus=%lld with %s: the %lld pinned by %s%s", vcpus,
                               origin, pinned, mixed->from, plus1));
    }
}

/* ResourceRequest._translate_pinning_policies, after nova's API-side checks
 * (hardware.numa_get_constraints, in sched_cpu.c): dedicated asks for PCPU
 * for every vCPU; mixed for PCPU for the dedicated vCPUs (the dedicated or
 * realtime mask) and VCPU for the rest; isolated emulator threads add one
 * PCPU to either. */
static int translate_pinning(struct tx *t)
{
    const char *policy = NULL, *thread = NULL, *policy_origin = NULL, *thread_origin = NULL;
    const char *emul =
        find_kv(t->in->extra_specs, t->in->n_extra_specs, "hw:emulator_threads_policy");
    struct sched_mixed mixed;

    if (cpu_policy(t, &policy, &policy_origin) < 0 ||
        cpu_thread_policy(t, &thread, &thread_origin) < 0)
        return -1;
    if (emul && *emul && strcmp(emul, "share") != 0 && strcmp(emul, "isolate") != 0)
        return fail(t,
                    "CPU emulator threads option requested is invalid, given: '%s', available: "
                    "'('share', 'isolate')'.",
                    emul);
    if (sched_cpu_check(t->in, policy, thread, emul, t->a, &mixed, t->err, t->errsz) < 0)
        return -1;
    if (policy)
        pin_cpus(t, policy, policy_origin, emul && strcmp(emul, "isolate") == 0, &mixed);
    if (thread && (strcmp(thread, "isolate") == 0 || strcmp(thread, "require") == 0)) {
        size_t g0 = group_get(t, "", NULL);
        struct group *g = &t->groups[g0];
        strset_add(t->a, strcmp(thread, "isolate") == 0 ? &g->forbidden : &g->required, HT_TRAIT,
                   thread_origin);
    }
    return 0;
}

/* The flavor's own VCPU/MEMORY_MB/DISK_GB, unless some group already asks
 * for that class (even with 0: resources:DISK_GB=0 suppresses the disk). */
static void add_flavor_base(struct tx *t)
{
    const struct sched_request *in = t->in;
    size_t g0 = group_get(t, "", NULL);

    if (!any_group_has(t, "VCPU") && !any_group_has(t, "PCPU"))
        group_set_resource(t, g0, "VCPU", in->vcpus, src(t, "flavor vcpus=%lld", in->vcpus));
    if (!any_group_has(t, "MEMORY_MB"))
        group_set_resource(t, g0, "MEMORY_MB", in->memory_mb,
                           src(t, "flavor memory_mb=%lld", in->memory_mb));
    if (!any_group_has(t, "DISK_GB")) {
        /* compute_utils.convert_mb_to_ceil_gb */
        long long disk = in->ephemeral_gb + (in->swap + 1023) / 1024 + in->root_gb;
        if (disk)
            group_set_resource(t, g0, "DISK_GB", disk,
                               src(t, "flavor root_gb=%lld + ephemeral_gb=%lld + swap=%lld MB",
                                   in->root_gb, in->ephemeral_gb, in->swap));
    }
}

/* ResourceRequest.strip_zeros: drop zero amounts, then empty groups. */
static void strip_zeros(struct tx *t)
{
    size_t keep = 0;
    for (size_t i = 0; i < t->n_groups; i++) {
        struct group *g = &t->groups[i];
        size_t k = 0;
        for (size_t j = 0; j < g->n_res; j++)
            if (g->res[j].amount != 0)
                g->res[k++] = g->res[j];
        g->n_res = k;
        if (g->n_res || g->required.n || g->forbidden.n)
            t->groups[keep++] = *g;
    }
    t->n_groups = keep;
}

/* ---- Rendering (to_querystring) ---- */

/* A parameter being built: its parts in rendered order. */
struct draft {
    struct sched_param p;
    struct strset parts;
};

static int cmp_part(const void *a, const void *b)
{
    const struct part *x = a, *y = b;
    return strcmp(x->value, y->value);
}

static int cmp_draft(const void *a, const void *b)
{
    const struct draft *x = a, *y = b;
    int c = strcmp(x->p.key, y->p.key);
    return c ? c : strcmp(x->p.value, y->p.value);
}

/* Appends the parts of s to d, sorted, each value prefixed with prefix
 * ("!" for forbidden traits). */
static void draft_add_sorted(struct arena *a, struct draft *d, const struct strset *s,
                             const char *prefix)
{
    size_t first = d->parts.n;
    for (size_t i = 0; i < s->n; i++) {
        d->parts.v = arena_grow(a, d->parts.v, d->parts.n, &d->parts.cap, sizeof(*d->parts.v));
        d->parts.v[d->parts.n++] = (struct part){
            *prefix ? arena_printf(a, "%s%s", prefix, s->v[i].value) : s->v[i].value, s->v[i].from};
    }
    if (d->parts.n > first)
        qsort(d->parts.v + first, d->parts.n - first, sizeof(*d->parts.v), cmp_part);
}

/* Sets d's value: its parts joined with ',' (linear in the total length). */
static void draft_join(struct arena *a, struct draft *d)
{
    size_t size = 1;
    for (size_t i = 0; i < d->parts.n; i++)
        size += strlen(d->parts.v[i].value) + 1;
    char *out = arena_alloc(a, size), *p = out;
    for (size_t i = 0; i < d->parts.n; i++) {
        size_t n = strlen(d->parts.v[i].value);
        if (i)
            *p++ = ',';
        memcpy(p, d->parts.v[i].value, n);
        p += n;
    }
    *p = '\0';
    d->p.value = out;
}

struct drafts {
    struct draft *v;
    size_t n, cap;
};

static struct draft *draft_new(struct arena *a, struct drafts *ds, const char *key)
{
    ds->v = arena_grow(a, ds->v, ds->n, &ds->cap, sizeof(*ds->v));
    struct draft *d = &ds->v[ds->n++];
    memset(d, 0, sizeof(*d));
    d->p.key = key;
    return d;
}

/* A parameter of one part, e.g. limit=1000. */
static void draft_single(struct arena *a, struct drafts *ds, const char *key, const char *value,
                         const char *from)
{
    struct draft *d = draft_new(a, ds, key);
    struct strset one = {&(struct part){value, from}, 1, 1};
    draft_add_sorted(a, d, &one, "");
    draft_join(a, d);
}

/* required[S]=T,!U (or root_required): required traits sorted, then the
 * forbidden ones; none at all adds no parameter. */
static void draft_traits(struct arena *a, struct drafts *ds, const char *key,
                         const struct strset *required, const struct strset *forbidden)
{
    if (!required->n && !forbidden->n)
        return;
    struct draft *d = draft_new(a, ds, key);
    draft_add_sorted(a, d, required, "");
    draft_add_sorted(a, d, forbidden, "!");
    draft_join(a, d);
}

static void draft_group(struct tx *t, struct drafts *ds, const struct group *g)
{
    struct strset res = {0};
    for (size_t i = 0; i < g->n_res; i++)
        strset_add(t->a, &res, arena_printf(t->a, "%s:%lld", g->res[i].rc, g->res[i].amount),
                   g->res[i].from);
    /* nova always sends resources[S], even empty (a traits-only group). */
    struct draft *d = draft_new(t->a, ds, arena_printf(t->a, "resources%s", g->suffix));
    draft_add_sorted(t->a, d, &res, "");
    draft_join(t->a, d);
    draft_traits(t->a, ds, arena_printf(t->a, "required%s", g->suffix), &g->required,
                 &g->forbidden);
}

static const char *limit_source(const struct sched_request *in)
{
    return in->limit == SCHED_DEFAULT_LIMIT ? "nova's max_placement_results (default 1000)"
                                            : "the request's limit";
}

/* The parameters sorted by key and value, and every part's source in the
 * same order. */
static void build_query(struct tx *t, struct sched_query *q)
{
    struct drafts ds = {0};
    draft_single(t->a, &ds, "limit", arena_printf(t->a, "%lld", t->in->limit), limit_source(t->in));
    if (t->group_policy)
        draft_single(t->a, &ds, "group_policy", t->group_policy,
                     src(t, "flavor extra spec group_policy=%s", t->group_policy));
    draft_traits(t->a, &ds, "root_required", &t->root_required, &t->root_forbidden);
    for (size_t i = 0; i < t->n_groups; i++)
        draft_group(t, &ds, &t->groups[i]);
    qsort(ds.v, ds.n, sizeof(*ds.v), cmp_draft);

    size_t n_src = 0;
    for (size_t i = 0; i < ds.n && t->in->record_sources; i++)
        n_src += ds.v[i].parts.n;
    q->params = arena_alloc(t->a, (ds.n + 1) * sizeof(*q->params));
    q->sources = arena_alloc(t->a, (n_src + 1) * sizeof(*q->sources));
    q->n = ds.n;
    q->n_sources = 0;
    for (size_t i = 0; i < ds.n; i++) {
        q->params[i] = ds.v[i].p;
        for (size_t j = 0; j < ds.v[i].parts.n && t->in->record_sources; j++)
            q->sources[q->n_sources++] = (struct sched_source){
                ds.v[i].p.key, ds.v[i].parts.v[j].value, ds.v[i].parts.v[j].from};
    }
}

/* Where the packed-ring request filter's root_required trait comes from. */
static const char *packed_source(const struct tx *t)
{
    const struct sched_request *in = t->in;
    const char *fv = find_kv(in->extra_specs, in->n_extra_specs, "hw:virtio_packed_ring");
    const char *iv = find_kv(in->image_props, in->n_image_props, "hw_virtio_packed_ring");
    if (fv && iv)
        return src(t,
                   "flavor extra spec hw:virtio_packed_ring=%s and image property "
                   "hw_virtio_packed_ring=%s",
                   fv, iv);
    return fv ? src(t, "flavor extra spec hw:virtio_packed_ring=%s", fv)
              : src(t, "image property hw_virtio_packed_ring=%s", iv);
}

int sched_translate(const struct sched_request *in, sched_name_exists_fn *exists, void *arg,
                    struct arena *a, struct sched_query *out, char *err, size_t errsz)
{
    struct tx t = {.in = in, .exists = exists, .arg = arg, .a = a, .err = err, .errsz = errsz};
    bool packed;

    strmap_init(&t.group_by_suffix, a);
    group_get(&t, "", NULL); /* index 0: see group_get */
    /* API-level validation first, as nova validates before scheduling. */
    if (sched_packed_ring(find_kv(in->extra_specs, in->n_extra_specs, "hw:virtio_packed_ring"),
                          find_kv(in->image_props, in->n_image_props, "hw_virtio_packed_ring"),
                          &packed, err, errsz) < 0)
        return -1;
    if (process_extra_specs(&t) < 0 || process_image_traits(&t) < 0 || translate_pinning(&t) < 0)
        return -1;
    add_flavor_base(&t);
    strip_zeros(&t);
    /* Request filters: packed_virtqueue_filter and compute_status_filter. */
    if (packed)
        strset_add(a, &t.root_required, PACKED_TRAIT, packed_source(&t));
    if (in->forbid_disabled_computes)
        strset_add(a, &t.root_forbidden, DISABLED_TRAIT, "nova's compute_status_filter (always)");
    build_query(&t, out);
    return 0;
}

/* urllib.parse.quote_plus with safe='' */
static void encode_into(char **p, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '_' || *c == '.' || *c == '-' || *c == '~') {
            *(*p)++ = (char)*c;
        } else if (*c == ' ') {
            *(*p)++ = '+';
        } else {
            *(*p)++ = '%';
            *(*p)++ = hex[*c >> 4];
            *(*p)++ = hex[*c & 15];
        }
    }
}

char *sched_query_string(const struct sched_query *q, bool encode, struct arena *a)
{
    size_t len = 1;
    for (size_t i = 0; i < q->n; i++)
        len += 3 * (strlen(q->params[i].key) + strlen(q->params[i].value)) + 2;
    char *buf = arena_alloc(a, len), *p = buf;
    for (size_t i = 0; i < q->n; i++) {
        if (i)
            *p++ = '&';
        if (encode) {
            encode_into(&p, q->params[i].key);
            *p++ = '=';
            encode_into(&p, q->params[i].value);
        } else {
            p += sprintf(p, "%s=%s", q->params[i].key, q->params[i].value);
        }
    }
    *p = '\0';
    return buf;
}
