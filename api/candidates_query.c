/* The query of GET /allocation_candidates (lib.py, schemas/
 * allocation_candidate.py): validated in Placement's order, per
 * microversion, and turned into the engine's struct cand_query. The
 * handlers that run it and write the answer are in allocation_candidates.c. */
#include "api/candidates_query.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/query.h"
#include "api/strmap.h"
#include "core/util.h"
#include "server/microversion.h"

#define QS_PREFIX "Invalid query string parameters: "

/* Appends to a fixed message buffer, truncating quietly when it is full. */
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...) PRINTF_LIKE(4, 5);
static void appendf(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, size - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < size ? *len + (size_t)n : size - 1;
}

/* ---- The parsed request ---- */

struct ac_group {
    const char *suffix;
    struct resource_amount *res;
    size_t n_res;
    struct trait_expr traits;
    struct agg_expr aggs;
    const char *in_tree; /* canonical */
    bool parsed_res, parsed_req, parsed_mof;
};

struct ac_params {
    struct ac_group *groups;
    size_t n_groups;
    size_t limit;
    const char *group_policy;
    struct name_set root_required, root_forbidden;
    struct name_set *same_subtree;
    size_t n_same_subtree;
};

/* ---- Schema (schemas/allocation_candidate.py, per microversion) ---- */

static const char *const GROUP_BASES[] = {"resources", "required", "member_of", "in_tree"};

static bool suffix_ok(const struct req *rq, const char *s)
{
    size_t n = strlen(s);
    if (rq->mv < MV(1, 33)) {
        if (n == 0 || s[0] < '1' || s[0] > '9')
            return false;
        return strspn(s, "0123456789") == n;
    }
    return n >= 1 && n <= 64 &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* Splits a group key into its base (index into GROUP_BASES) and suffix, as
 * lib.py's _QS_KEY_PATTERN does. in_tree only exists from 1.31. */
static bool group_key(const struct req *rq, const char *key, size_t *base, const char **suffix)
{
    for (size_t i = 0; i < 4; i++) {
        size_t n = strlen(GROUP_BASES[i]);
        if (strncmp(key, GROUP_BASES[i], n) != 0)
            continue;
        if (i == 3 && rq->mv < MV(1, 31))
            return false;
        if (key[n] && !suffix_ok(rq, key + n))
            return false;
        *base = i;
        *suffix = key + n;
        return true;
    }
    return false;
}

/* Is key allowed at this microversion? */
static bool key_allowed(const struct req *rq, const char *key)
{
    unsigned mv = rq->mv;
    if (mv >= MV(1, 25)) {
        size_t base;
        const char *suffix;
        if (group_key(rq, key, &base, &suffix))
            return true;
    } else if (strcmp(key, "resources") == 0 || (strcmp(key, "required") == 0 && mv >= MV(1, 17)) ||
               (strcmp(key, "member_of") == 0 && mv >= MV(1, 21))) {
        return true;
    }
    return (strcmp(key, "limit") == 0 && mv >= MV(1, 16)) ||
           (strcmp(key, "group_policy") == 0 && mv >= MV(1, 25)) ||
           (strcmp(key, "root_required") == 0 && mv >= MV(1, 35)) ||
           (strcmp(key, "same_subtree") == 0 && mv >= MV(1, 36));
}

/* The patternProperties of the schema, in the sorted order jsonschema
 * lists them. */
static void append_patterns(const struct req *rq, char *out, size_t size)
{
    static const char *const sorted[] = {"in_tree", "member_of", "required", "resources"};
    const char *pat = rq->mv >= MV(1, 33) ? "[a-zA-Z0-9_-]{1,64}" : "[1-9][0-9]*";
    size_t len = strlen(out);
    for (size_t i = rq->mv >= MV(1, 31) ? 0 : 1; i < 4; i++)
        appendf(out, size, &len, "%s'^%s(%s)?$'", len ? ", " : "", sorted[i], pat);
}

/* Unknown keys: jsonschema's additionalProperties message. */
static int fail_extra_keys(struct req *rq)
{
    const char **extras = arena_alloc(&rq->arena, (rq->n_query + 1) * sizeof(*extras));
    size_t n = 0;
    for (size_t i = 0; i < rq->n_query; i++) {
        const char *k = rq->query[i].key;
        if (key_allowed(rq, k))
            continue;
        size_t j = 0;
        while (j < n && strcmp(extras[j], k) != 0)
            j++;
        if (j == n)
            extras[n++] = k;
    }
    if (!n)
        return 0;
    qsort(extras, n, sizeof(*extras), strptr_cmp);
    char list[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        appendf(list, sizeof(list), &len, "%s'%s'", i ? ", " : "", extras[i]);
    if (rq->mv >= MV(1, 25)) {
        char patterns[400] = "";
        append_patterns(rq, patterns, sizeof(patterns));
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "%s %s not match any of the regexes: %s  Failed validating "
                                  "'additionalProperties' in schema",
                        list, n == 1 ? "does" : "do", patterns);
    }
    return req_fail(rq, 400, ERR_DEFAULT,
                    QS_PREFIX "Additional properties are not allowed (%s %s unexpected)  "
                              "Failed validating 'additionalProperties' in schema",
                    list, n == 1 ? "was" : "were");
}

/* The schema check: jsonschema reports errors at the top of the document
 * (required, additionalProperties) before those of single properties, and
 * it only sees the last value of a repeated key. */
static int check_schema(struct req *rq)
{
    if (rq->mv < MV(1, 25) && req_query_count(rq, "resources") == 0)
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "'resources' is a required property  Failed validating "
                                  "'required' in schema");
    if (fail_extra_keys(rq))
        return -1;
    const char *limit = req_query(rq, "limit");
    if (limit && (limit[0] < '1' || limit[0] > '9' || strspn(limit, "0123456789") != strlen(limit)))
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "'%s' does not match '^[1-9][0-9]*$'  Failed validating "
                                  "'pattern' in schema['properties']['limit']:     "
                                  "{'minLength': 1,      'minimum': 1,      'pattern': "
                                  "'^[1-9][0-9]*$',      'type': ['integer', 'string']}  On "
                                  "instance['limit']:     '%s'",
                        limit, limit);
    const char *policy = req_query(rq, "group_policy");
    if (policy && strcmp(policy, "none") != 0 && strcmp(policy, "isolate") != 0)
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "'%s' is not one of ['none', 'isolate']  Failed validating "
                                  "'enum' in schema['properties']['group_policy']:     {'enum': "
                                  "['none', 'isolate'], 'type': 'string'}  On "
                                  "instance['group_policy']:     '%s'",
                        policy, policy);
    return 0;
}

/* ---- Request-wide parameters (lib.py RequestWideParams.from_request) ---- */

/* The first value of key (Placement uses getall(...)[0]), or NULL. */
static const char *first_value(const struct req *rq, const char *key)
{
    for (size_t i = 0; i < rq->n_query; i++)
        if (strcmp(rq->query[i].key, key) == 0)
            return rq->query[i].value ? rq->query[i].value : "";
    return NULL;
}

/* Python's str.strip() on s[0, len), as an arena copy. */
static char *strip(struct arena *a, const char *s, size_t len)
{
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    return arena_strndup(a, s, len);
}

/* Splits on ',' and strips each piece (an empty string gives one ""). */
static size_t split_strip(struct arena *a, const char *s, const char ***out)
{
    size_t n = 1;
    for (const char *c = s; *c; c++)
        n += *c == ',';
    const char **v = arena_alloc(a, n * sizeof(*v));
    size_t i = 0;
    for (;;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        v[i++] = strip(a, s, len);
        if (!end)
            break;
        s = end + 1;
    }
    *out = v;
    return i;
}

static bool set_has(const struct name_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return true;
    return false;
}

static void set_add(struct name_set *s, const char *name, size_t cap)
{
    if (!set_has(s, name) && s->n < cap)
        s->names[s->n++] = name;
}

/* root_required: util.normalize_traits_qs_param_to_legacy_value with
 * forbidden allowed and no "in:" (1.35). */
static int parse_root_required(struct req *rq, struct ac_params *p)
{
    size_t count = req_query_count(rq, "root_required");
    if (!count)
        return 0;
    if (count > 1)
        return req_fail(rq, 400, ERR_QUERY_DUPLICATE_KEY,
                        "Query parameter 'root_required' may be specified only once.");
    const char *val = first_value(rq, "root_required");
    if (strncmp(val, "in:", 3) == 0)
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported "
                                  "since microversion 1.39. Got: %s",
                        val);
    const char **items;
    size_t n = split_strip(&rq->arena, val, &items);
    p->root_required.names = arena_alloc(&rq->arena, n * sizeof(char *));
    p->root_forbidden.names = arena_alloc(&rq->arena, n * sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        const char *t = items[i];
        while (*t == '!')
            t++;
        if (!*t)
            return req_fail(rq, 400, ERR_DEFAULT,
                            QS_PREFIX "Expected 'required' parameter value of the form: "
                                      "HW_CPU_X86_VMX,!CUSTOM_MAGIC. Got an empty trait in: %s",
                            val);
        set_add(items[i][0] == '!' ? &p->root_forbidden : &p->root_required, t, n);
    }
    char conflicts[512] = "";
    size_t len = 0;
    for (size_t i = 0; i < p->root_forbidden.n; i++)
        if (set_has(&p->root_required, p->root_forbidden.names[i]))
            appendf(conflicts, sizeof(conflicts), &len, "%s%s", len ? ", " : "",
                    p->root_forbidden.names[i]);
    if (len)
        return req_fail(rq, 400, ERR_QUERY_BAD_VALUE,
                        "Conflicting required and forbidden traits found in root_required: %s",
                        conflicts);
    return 0;
}

static int parse_same_subtree(struct req *rq, struct ac_params *p)
{
    size_t count = req_query_count(rq, "same_subtree");
    p->same_subtree = arena_alloc(&rq->arena, (count + 1) * sizeof(*p->same_subtree));
    for (size_t i = 0; i < rq->n_query; i++) {
        if (strcmp(rq->query[i].key, "same_subtree") != 0)
            continue;
        const char **items;
        size_t n = split_strip(&rq->arena, rq->query[i].value ? rq->query[i].value : "", &items);
        struct name_set *s = &p->same_subtree[p->n_same_subtree++];
        s->names = arena_alloc(&rq->arena, n * sizeof(char *));
        s->n = 0;
        for (size_t j = 0; j < n; j++) {
            if (!items[j][0])
                return req_fail(rq, 400, ERR_QUERY_BAD_VALUE,
                                "Empty string (unsuffixed group) can not be specified in "
                                "`same_subtree` ");
            set_add(s, items[j], n);
        }
    }
    return 0;
}

static int parse_wide(struct req *rq, struct ac_params *p)
{
    const char *limit = first_value(rq, "limit");
    if (limit) {
        /* The schema checked the last value; an earlier one may be junk. */
        if (limit[0] < '1' || limit[0] > '9' || strspn(limit, "0123456789") != strlen(limit))
            return req_fail(rq, 400, ERR_DEFAULT, QS_PREFIX "'%s' does not match '^[1-9][0-9]*$'",
                            limit);
        long long v;
        p->limit = parse_ll(limit, &v) ? (size_t)v : SIZE_MAX; /* Python ints never overflow */
    }
    p->group_policy = first_value(rq, "group_policy");
    if (parse_root_required(rq, p) || parse_same_subtree(rq, p))
        return -1;
    return 0;
}

/* ---- Request groups (lib.py RequestGroup.dict_from_request) ---- */

/* The group of suffix, created at the end when new; NULL (after failing
 * rq) when that would pass API_MAX_REQUEST_GROUPS. by_suffix maps each
 * suffix to its index, so thousands of groups cost linear time. */
static struct ac_group *group_for(struct req *rq, struct ac_params *p, struct strmap *by_suffix,
                                  const char *suffix)
{
    size_t i;
    if (strmap_get(by_suffix, suffix, &i))
        return &p->groups[i];
    if (p->n_groups == API_MAX_REQUEST_GROUPS) {
        req_fail(rq, 400, ERR_DEFAULT,
                 QS_PREFIX "Too many request groups: placid accepts at most %d distinct "
                           "suffixes of resources, required, member_of and in_tree (the "
                           "unsuffixed group counts as one).",
                 API_MAX_REQUEST_GROUPS);
        return NULL;
    }
    struct ac_group *g = &p->groups[p->n_groups];
    memset(g, 0, sizeof(*g));
    g->suffix = arena_strdup(&rq->arena, suffix);
    strmap_put(by_suffix, g->suffix, p->n_groups++);
    return g;
}

static int parse_in_tree(struct req *rq, struct ac_group *g, const char *value)
{
    char canon[37];
    char *v = strip(&rq->arena, value, strlen(value));
    if (!uuid_normalize(v, canon))
        return req_fail(rq, 400, ERR_DEFAULT,
                        QS_PREFIX "Expected 'in_tree' parameter to be a format of uuid. Got: %s",
                        value);
    g->in_tree = arena_strdup(&rq->arena, canon);
    return 0;
}

/* Walks the query in order: a group is created where its suffix first
 * appears, so group order is query order, as upstream's dict. */
static int parse_groups(struct req *rq, struct ac_params *p)
{
    struct strmap by_suffix;
    strmap_init(&by_suffix, &rq->arena);
    size_t cap = rq->n_query < API_MAX_REQUEST_GROUPS ? rq->n_query : API_MAX_REQUEST_GROUPS;
    p->groups = arena_alloc(&rq->arena, (cap + 1) * sizeof(*p->groups));
    for (size_t i = 0; i < rq->n_query; i++) {
        const char *key = rq->query[i].key, *value = rq->query[i].value ? rq->query[i].value : "";
        size_t base;
        const char *suffix;
        if (!group_key(rq, key, &base, &suffix))
            continue;
        struct ac_group *g = group_for(rq, p, &by_suffix, suffix);
        if (!g)
            return -1;
        int rc = 0;
        if (base == 0 && !g->parsed_res) {
            g->parsed_res = true;
            rc = query_resources(rq, key, &g->res, &g->n_res);
        } else if (base == 1 && !g->parsed_req) {
            g->parsed_req = true;
            rc = query_required(rq, key, &g->traits);
        } else if (base == 2 && !g->parsed_mof) {
            g->parsed_mof = true;
            rc = query_member_of(rq, key, &g->aggs);
        } else if (base == 3) {
            rc = parse_in_tree(rq, g, value);
        }
        if (rc)
            return -1;
    }
    return 0;
}

/* A Python list repr of strings: ['a', 'b']. */
static const char *py_list(struct req *rq, const char *const *v, size_t n)
{
    size_t size = 3;
    for (size_t i = 0; i < n; i++)
        size += strlen(v[i]) + 4;
    char *out = arena_alloc(&rq->arena, size);
    size_t len = 0;
    out[len++] = '[';
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(out + len, "%s'%s'", i ? ", " : "", v[i]);
    out[len++] = ']';
    out[len] = '\0';
    return out;
}

/* 1.36+: _check_for_one_resources, _check_resourceless_suffix,
 * _check_actual_suffix. */
static int check_groups_1_36(struct req *rq, const struct ac_params *p)
{
    size_t resourceless = 0;
    for (size_t i = 0; i < p->n_groups; i++)
        resourceless += p->groups[i].n_res == 0;
    if (resourceless == p->n_groups)
        return req_fail(rq, 400, ERR_QUERY_MISSING_VALUE,
                        "There must be at least one resources or resources[$S] parameter.");
    const char **bad = arena_alloc(&rq->arena, (p->n_groups + 1) * sizeof(*bad));
    size_t n_bad = 0;
    for (size_t i = 0; i < p->n_groups; i++) {
        if (p->groups[i].n_res)
            continue;
        bool named = false;
        for (size_t t = 0; t < p->n_same_subtree && !named; t++)
            named = set_has(&p->same_subtree[t], p->groups[i].suffix);
        if (!named)
            bad[n_bad++] = p->groups[i].suffix;
    }
    if (n_bad)
        return req_fail(rq, 400, ERR_QUERY_BAD_VALUE,
                        "Resourceless suffixed group request should be specified in "
                        "`same_subtree` query param: bad group(s) - %s.",
                        py_list(rq, bad, n_bad));
    size_t total = 0;
    for (size_t t = 0; t < p->n_same_subtree; t++)
        total += p->same_subtree[t].n;
    const char **missing = arena_alloc(&rq->arena, (total + 1) * sizeof(*missing));
    const char **all = arena_alloc(&rq->arena, (p->n_groups + 1) * sizeof(*all));
    size_t n_missing = 0;
    for (size_t t = 0; t < p->n_same_subtree; t++)
        for (size_t j = 0; j < p->same_subtree[t].n; j++) {
            const char *s = p->same_subtree[t].names[j];
            bool found = false;
            for (size_t i = 0; i < p->n_groups && !found; i++)
                found = strcmp(p->groups[i].suffix, s) == 0;
            struct name_set seen = {missing, n_missing};
            if (!found && !set_has(&seen, s))
                missing[n_missing++] = s;
        }
    if (n_missing) {
        for (size_t i = 0; i < p->n_groups; i++)
            all[i] = p->groups[i].suffix;
        return req_fail(rq, 400, ERR_QUERY_BAD_VALUE,
                        "Real suffixes should be specified in `same_subtree`: %s not found in %s.",
                        py_list(rq, missing, n_missing), py_list(rq, all, p->n_groups));
    }
    return 0;
}

/* Before 1.36: _check_for_orphans. */
static int check_orphans(struct req *rq, const struct ac_params *p)
{
    char list[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < p->n_groups; i++)
        if (p->groups[i].traits.n_all_of && !p->groups[i].n_res)
            appendf(list, sizeof(list), &len, "%srequired%s", len ? ", " : "", p->groups[i].suffix);
    if (len)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "All traits parameters must be associated with resources.  Found the "
                        "following orphaned traits keys: %s",
                        list);
    for (size_t i = 0; i < p->n_groups; i++) {
        const struct ac_group *g = &p->groups[i];
        if (!g->n_res && (g->aggs.n_all_of || g->aggs.forbidden.n))
            appendf(list, sizeof(list), &len, "%smember_of%s", len ? ", " : "", g->suffix);
    }
    if (len)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "All member_of parameters must be associated with resources. Found the "
                        "following orphaned member_of keys: %s",
                        list);
    for (size_t i = 0; i < p->n_groups; i++)
        if (!p->groups[i].n_res)
            return req_fail(rq, 400, ERR_DEFAULT, "All request groups must specify resources.");
    if (!p->n_groups)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "At least one request group (`resources` or `resources{$S}`) is "
                        "required.");
    return 0;
}

/* 1.22+: _check_forbidden, a required any-of set entirely forbidden. */
static int check_conflicts(struct req *rq, const struct ac_params *p)
{
    const char **found = arena_alloc(&rq->arena, 64 * sizeof(*found));
    size_t n = 0;
    for (size_t i = 0; i < p->n_groups; i++) {
        const struct trait_expr *t = &p->groups[i].traits;
        for (size_t j = 0; j < t->n_all_of && n < 64; j++) {
            const struct name_set *s = &t->all_of[j];
            bool all = s->n > 0;
            for (size_t k = 0; k < s->n && all; k++)
                all = set_has(&t->forbidden, s->names[k]);
            if (!all)
                continue;
            const char **names = arena_alloc(&rq->arena, s->n * sizeof(*names));
            memcpy(names, s->names, s->n * sizeof(*names));
            qsort(names, s->n, sizeof(*names), strptr_cmp);
            size_t size = 32 + strlen(p->groups[i].suffix);
            for (size_t k = 0; k < s->n; k++)
                size += strlen(names[k]) + 2;
            char *item = arena_alloc(&rq->arena, size);
            size_t len = (size_t)sprintf(item, "required%s: (", p->groups[i].suffix);
            for (size_t k = 0; k < s->n; k++)
                len += (size_t)sprintf(item + len, "%s%s", k ? ", " : "", names[k]);
            (void)sprintf(item + len, ")");
            found[n++] = item;
        }
    }
    if (!n)
        return 0;
    qsort(found, n, sizeof(*found), strptr_cmp);
    char list[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        appendf(list, sizeof(list), &len, "%s%s", i ? ", " : "", found[i]);
    return req_fail(rq, 400, ERR_DEFAULT,
                    "Conflicting required and forbidden traits found in the following traits "
                    "keys: %s",
                    list);
}

static int check_groups(struct req *rq, const struct ac_params *p)
{
    if (rq->mv >= MV(1, 36) ? check_groups_1_36(rq, p) : check_orphans(rq, p))
        return -1;
    if (rq->mv >= MV(1, 22) && check_conflicts(rq, p))
        return -1;
    size_t suffixed = 0;
    for (size_t i = 0; i < p->n_groups; i++)
        suffixed += p->groups[i].suffix[0] != '\0';
    if (!p->group_policy && suffixed > 1)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "The \"group_policy\" parameter is required when specifying more than "
                        "one \"resources{N}\" parameter.");
    return 0;
}

/* ---- The engine's query ---- */

static struct cand_names to_names(struct name_set s)
{
    return (struct cand_names){s.names, s.n};
}

static struct cand_names *sets_to_names(struct req *rq, const struct name_set *sets, size_t n)
{
    struct cand_names *out = arena_alloc(&rq->arena, (n + 1) * sizeof(*out));
    for (size_t i = 0; i < n; i++)
        out[i] = to_names(sets[i]);
    return out;
}

/* Polled by the engine during a long search: nobody is waiting any more,
 * or the server is stopping. */
static bool search_cancelled(void *arg)
{
    return req_shutting_down() || req_client_gone(arg);
}

static bool has_name(const char *const *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i], name) == 0)
            return true;
    return false;
}

static void build_query(struct req *rq, const struct ac_params *p, struct cand_query *q,
                        struct ac_requested *requested)
{
    struct cand_group *groups = arena_alloc(&rq->arena, (p->n_groups + 1) * sizeof(*groups));
    size_t total = 0;
    for (size_t i = 0; i < p->n_groups; i++)
        total += p->groups[i].n_res;
    const char **rcs_all = arena_alloc(&rq->arena, (total + 1) * sizeof(*rcs_all));
    size_t n_all = 0;
    for (size_t i = 0; i < p->n_groups; i++) {
        const struct ac_group *g = &p->groups[i];
        const char **rcs = arena_alloc(&rq->arena, (g->n_res + 1) * sizeof(*rcs));
        long long *amounts = arena_alloc(&rq->arena, (g->n_res + 1) * sizeof(*amounts));
        for (size_t k = 0; k < g->n_res; k++) {
            rcs[k] = g->res[k].rc;
            amounts[k] = g->res[k].amount;
            if (!has_name(rcs_all, n_all, rcs[k]))
                rcs_all[n_all++] = rcs[k];
        }
        groups[i] = (struct cand_group){
            .suffix = g->suffix,
            .rc_names = rcs,
            .amounts = amounts,
            .n_res = g->n_res,
            .required = sets_to_names(rq, g->traits.all_of, g->traits.n_all_of),
            .n_required = g->traits.n_all_of,
            .forbidden = to_names(g->traits.forbidden),
            .member_of = sets_to_names(rq, g->aggs.all_of, g->aggs.n_all_of),
            .n_member_of = g->aggs.n_all_of,
            .forbidden_aggs = to_names(g->aggs.forbidden),
            .in_tree = g->in_tree,
        };
    }
    *requested = (struct ac_requested){rcs_all, n_all};
    const struct api_ctx *ctx = rq->api;
    *q = (struct cand_query){
        .groups = groups,
        .n_groups = p->n_groups,
        .root_required = to_names(p->root_required),
        .root_forbidden = to_names(p->root_forbidden),
        .same_subtree = sets_to_names(rq, p->same_subtree, p->n_same_subtree),
        .n_same_subtree = p->n_same_subtree,
        .isolate = p->group_policy && strcmp(p->group_policy, "isolate") == 0,
        .limit = p->limit,
        .nested_aware = rq->mv >= MV(1, 29),
        .randomize = ctx && ctx->randomize_candidates,
        .work_limit = ctx ? ctx->candidates_work_limit : 0,
        .cancelled = search_cancelled,
        .cancel_arg = rq,
    };
}

/* "a=1&&b=2": webob's parse_qsl skips the empty pieces; MHD reports them as
 * keys "" without a value. */
static void drop_empty_pieces(struct req *rq)
{
    size_t n = 0;
    for (size_t i = 0; i < rq->n_query; i++)
        if (rq->query[i].key[0] || rq->query[i].value)
            rq->query[n++] = rq->query[i];
    rq->n_query = n;
}

int candidates_query_parse(struct req *rq, struct cand_query *q, struct ac_requested *requested)
{
    struct ac_params p = {0};
    drop_empty_pieces(rq);
    if (check_schema(rq) || parse_wide(rq, &p) || parse_groups(rq, &p) || check_groups(rq, &p))
        return -1;
    build_query(rq, &p, q, requested);
    return 0;
}
