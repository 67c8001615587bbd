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

/* A set of strings kept in insertion order (sorted only when rendered). */
struct strset {
    const char **v;
    size_t n, cap;
};

struct rc_amount {
    const char *rc;
    long long amount;
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

static bool strset_has(const struct strset *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], x) == 0)
            return true;
    return false;
}

static void strset_add(struct arena *a, struct strset *s, const char *x)
{
    if (strset_has(s, x))
        return;
    s->v = arena_grow(a, s->v, s->n, &s->cap, sizeof(*s->v));
    s->v[s->n++] = arena_strdup(a, x);
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

/* RequestGroup.add_resource: a class named again replaces the amount. */
static void group_set_resource(struct tx *t, size_t gi, const char *rc, long long amount)
{
    struct group *g = &t->groups[gi];
    for (size_t i = 0; i < g->n_res; i++) {
        if (strcmp(g->res[i].rc, rc) == 0) {
            g->res[i].amount = amount;
            return;
        }
    }
    g->res = arena_grow(t->a, g->res, g->n_res, &g->cap_res, sizeof(*g->res));
    g->res[g->n_res].rc = arena_strdup(t->a, rc);
    g->res[g->n_res++].amount = amount;
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
    group_set_resource(t, gi, rc, amount);
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
    strset_add(t->a, required ? &g->required : &g->forbidden, trait);
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
        strset_add(t->a, &t->groups[g0].required, kv->key + 6);
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

/* hardware.get_cpu_policy_constraint. *policy is NULL when none applies. */
static int cpu_policy(struct tx *t, const char **policy)
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
    } else if (ip && *ip) {
        *policy = ip;
    }
    return 0;
}

/* hardware.get_cpu_thread_policy_constraint. */
static int cpu_thread_policy(struct tx *t, const char **policy)
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
    return 0;
}

/* ResourceRequest._translate_pinning_policies, after nova's API-side checks
 * (hardware.numa_get_constraints, in sched_cpu.c): dedicated asks for PCPU
 * for every vCPU; mixed for PCPU for the dedicated vCPUs (the dedicated or
 * realtime mask) and VCPU for the rest; isolated emulator threads add one
 * PCPU to either. */
static int translate_pinning(struct tx *t)
{
    const char *policy = NULL, *thread = NULL;
    const char *emul =
        find_kv(t->in->extra_specs, t->in->n_extra_specs, "hw:emulator_threads_policy");
    long long mixed_pcpus;

    if (cpu_policy(t, &policy) < 0 || cpu_thread_policy(t, &thread) < 0)
        return -1;
    if (emul && *emul && strcmp(emul, "share") != 0 && strcmp(emul, "isolate") != 0)
        return fail(t,
                    "CPU emulator threads option requested is invalid, given: '%s', available: "
                    "'('share', 'isolate')'.",
                    emul);
    if (sched_cpu_check(t->in, policy, thread, emul, t->a, &mixed_pcpus, t->err, t->errsz) < 0)
        return -1;
    bool isolate = emul && strcmp(emul, "isolate") == 0;
    if (policy && strcmp(policy, "dedicated") == 0)
        group_set_resource(t, group_get(t, "", NULL), "PCPU", t->in->vcpus + isolate);
    if (policy && strcmp(policy, "mixed") == 0) {
        group_set_resource(t, group_get(t, "", NULL), "VCPU", t->in->vcpus - mixed_pcpus);
        group_set_resource(t, group_get(t, "", NULL), "PCPU", mixed_pcpus + isolate);
    }
    if (thread && (strcmp(thread, "isolate") == 0 || strcmp(thread, "require") == 0)) {
        size_t g0 = group_get(t, "", NULL);
        struct group *g = &t->groups[g0];
        strset_add(t->a, strcmp(thread, "isolate") == 0 ? &g->forbidden : &g->required, HT_TRAIT);
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
        group_set_resource(t, g0, "VCPU", in->vcpus);
    if (!any_group_has(t, "MEMORY_MB"))
        group_set_resource(t, g0, "MEMORY_MB", in->memory_mb);
    if (!any_group_has(t, "DISK_GB")) {
        /* compute_utils.convert_mb_to_ceil_gb */
        long long disk = in->ephemeral_gb + (in->swap + 1023) / 1024 + in->root_gb;
        if (disk)
            group_set_resource(t, g0, "DISK_GB", disk);
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

static int cmp_param(const void *a, const void *b)
{
    const struct sched_param *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->value, y->value);
}

/* Joins the sorted strings of s (each prefixed with prefix) onto buf, in
 * one new arena string (linear in the total length). */
static char *join_sorted(struct arena *a, char *buf, const struct strset *s, const char *prefix)
{
    const char **v = arena_alloc(a, (s->n + 1) * sizeof(*v));
    size_t len = strlen(buf), plen = strlen(prefix), size = len + 1;
    if (s->n)
        memcpy(v, s->v, s->n * sizeof(*v));
    qsort(v, s->n, sizeof(*v), strptr_cmp);
    for (size_t i = 0; i < s->n; i++)
        size += 1 + plen + strlen(v[i]);
    char *out = arena_alloc(a, size);
    memcpy(out, buf, len + 1);
    for (size_t i = 0; i < s->n; i++) {
        if (len)
            out[len++] = ',';
        memcpy(out + len, prefix, plen);
        len += plen;
        size_t n = strlen(v[i]);
        memcpy(out + len, v[i], n + 1);
        len += n;
    }
    return out;
}

static void add_param(struct tx *t, struct sched_query *q, size_t *cap, const char *key,
                      const char *value)
{
    q->params = arena_grow(t->a, q->params, q->n, cap, sizeof(*q->params));
    q->params[q->n].key = key;
    q->params[q->n++].value = value;
}

static void group_params(struct tx *t, const struct group *g, struct sched_query *q, size_t *cap)
{
    struct strset res = {0};
    for (size_t i = 0; i < g->n_res; i++)
        strset_add(t->a, &res, arena_printf(t->a, "%s:%lld", g->res[i].rc, g->res[i].amount));
    /* nova always sends resources[S], even empty (a traits-only group). */
    add_param(t, q, cap, arena_printf(t->a, "resources%s", g->suffix),
              join_sorted(t->a, arena_strdup(t->a, ""), &res, ""));
    char *req = join_sorted(t->a, arena_strdup(t->a, ""), &g->required, "");
    req = join_sorted(t->a, req, &g->forbidden, "!");
    if (*req)
        add_param(t, q, cap, arena_printf(t->a, "required%s", g->suffix), req);
}

static void build_query(struct tx *t, struct sched_query *q)
{
    size_t cap = 0;
    q->params = NULL;
    q->n = 0;
    add_param(t, q, &cap, "limit", arena_printf(t->a, "%lld", t->in->limit));
    if (t->group_policy)
        add_param(t, q, &cap, "group_policy", t->group_policy);
    if (t->root_required.n || t->root_forbidden.n) {
        char *v = join_sorted(t->a, arena_strdup(t->a, ""), &t->root_required, "");
        add_param(t, q, &cap, "root_required", join_sorted(t->a, v, &t->root_forbidden, "!"));
    }
    for (size_t i = 0; i < t->n_groups; i++)
        group_params(t, &t->groups[i], q, &cap);
    qsort(q->params, q->n, sizeof(*q->params), cmp_param);
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
        strset_add(a, &t.root_required, PACKED_TRAIT);
    if (in->forbid_disabled_computes)
        strset_add(a, &t.root_forbidden, DISABLED_TRAIT);
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
