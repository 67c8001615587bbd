/* GET /allocation_candidates (handlers/allocation_candidate.py, lib.py,
 * schemas/allocation_candidate.py): query validation in Placement's order,
 * then the store's engine, whose answer is written straight into JSON text
 * (rq->reply_text) because it can hold hundreds of thousands of objects. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/explain.h"
#include "api/handlers.h"
#include "api/json_text.h"
#include "api/query.h"
#include "api/strmap.h"
#include "core/util.h"
#include "server/metrics.h"
#include "server/microversion.h"
#include "store/candidates.h"

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

/* ---- Writing the answer ---- */

struct ac_writer {
    struct req *rq;
    struct jtext reqs, sums;
    size_t n_reqs, n_sums;
    const char **requested; /* resource classes asked for (summaries before 1.27) */
    size_t n_requested;
};

static void write_resources(struct jtext *b, const struct cand_item *items, size_t n)
{
    JT_LIT(b, "{");
    for (size_t i = 0; i < n; i++) {
        if (i)
            JT_LIT(b, ", ");
        jt_str(b, items[i].rc);
        JT_LIT(b, ": ");
        jt_int(b, items[i].amount);
    }
    JT_LIT(b, "}");
}

static int on_request(void *arg, const struct cand_request *r)
{
    struct ac_writer *w = arg;
    struct jtext *b = &w->reqs;
    bool dict = w->rq->mv >= MV(1, 12);
    if (w->n_reqs++)
        JT_LIT(b, ", ");
    JT_LIT(b, "{\"allocations\": ");
    jt_raw(b, dict ? "{" : "[", 1);
    for (size_t i = 0, k = 0; i < r->n_items; k++) {
        size_t j = i;
        while (j < r->n_items && r->items[j].rp_uuid == r->items[i].rp_uuid)
            j++;
        if (k)
            JT_LIT(b, ", ");
        if (dict) {
            jt_str(b, r->items[i].rp_uuid);
            JT_LIT(b, ": {\"resources\": ");
        } else {
            JT_LIT(b, "{\"resource_provider\": {\"uuid\": ");
            jt_str(b, r->items[i].rp_uuid);
            JT_LIT(b, "}, \"resources\": ");
        }
        write_resources(b, r->items + i, j - i);
        JT_LIT(b, "}");
        i = j;
    }
    jt_raw(b, dict ? "}" : "]", 1);
    if (w->rq->mv >= MV(1, 34)) {
        JT_LIT(b, ", \"mappings\": {");
        for (size_t m = 0; m < r->n_mappings; m++) {
            if (m)
                JT_LIT(b, ", ");
            jt_str(b, r->mappings[m].suffix);
            JT_LIT(b, ": [");
            for (size_t i = 0; i < r->mappings[m].n; i++) {
                if (i)
                    JT_LIT(b, ", ");
                jt_str(b, r->mappings[m].rp_uuids[i]);
            }
            JT_LIT(b, "]");
        }
        JT_LIT(b, "}");
    }
    JT_LIT(b, "}");
    return 0;
}

static bool requested(const struct ac_writer *w, const char *rc)
{
    for (size_t i = 0; i < w->n_requested; i++)
        if (strcmp(w->requested[i], rc) == 0)
            return true;
    return false;
}

static int on_summary(void *arg, const struct cand_summary *s)
{
    struct ac_writer *w = arg;
    struct jtext *b = &w->sums;
    unsigned mv = w->rq->mv;
    if (w->n_sums++)
        JT_LIT(b, ", ");
    jt_str(b, s->uuid);
    JT_LIT(b, ": {\"resources\": {");
    bool all = mv >= MV(1, 27);
    for (size_t i = 0, k = 0; i < s->n_res; i++) {
        if (!all && !requested(w, s->res[i].rc))
            continue;
        if (k++)
            JT_LIT(b, ", ");
        jt_str(b, s->res[i].rc);
        JT_LIT(b, ": {\"capacity\": ");
        jt_int(b, s->res[i].capacity);
        JT_LIT(b, ", \"used\": ");
        jt_int(b, s->res[i].used);
        JT_LIT(b, "}");
    }
    JT_LIT(b, "}");
    if (mv >= MV(1, 17)) {
        JT_LIT(b, ", \"traits\": [");
        for (size_t i = 0; i < s->n_traits; i++) {
            if (i)
                JT_LIT(b, ", ");
            jt_str(b, s->traits[i]);
        }
        JT_LIT(b, "]");
    }
    if (mv >= MV(1, 29)) {
        JT_LIT(b, ", \"parent_provider_uuid\": ");
        if (s->parent_uuid)
            jt_str(b, s->parent_uuid);
        else
            JT_LIT(b, "null");
        JT_LIT(b, ", \"root_provider_uuid\": ");
        jt_str(b, s->root_uuid);
    }
    JT_LIT(b, "}");
    return 0;
}

/* ---- The store query ---- */

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

static void build_query(struct req *rq, const struct ac_params *p, struct cand_query *q,
                        struct ac_writer *w)
{
    struct cand_group *groups = arena_alloc(&rq->arena, (p->n_groups + 1) * sizeof(*groups));
    size_t total = 0;
    for (size_t i = 0; i < p->n_groups; i++)
        total += p->groups[i].n_res;
    w->requested = arena_alloc(&rq->arena, (total + 1) * sizeof(*w->requested));
    for (size_t i = 0; i < p->n_groups; i++) {
        const struct ac_group *g = &p->groups[i];
        const char **rcs = arena_alloc(&rq->arena, (g->n_res + 1) * sizeof(*rcs));
        long long *amounts = arena_alloc(&rq->arena, (g->n_res + 1) * sizeof(*amounts));
        for (size_t k = 0; k < g->n_res; k++) {
            rcs[k] = g->res[k].rc;
            amounts[k] = g->res[k].amount;
            if (!requested(w, rcs[k]))
                w->requested[w->n_requested++] = rcs[k];
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

/* Hands the finished text to the request (http.c sends and releases it). */
static void finish_reply(struct req *rq, struct ac_writer *w)
{
    JT_LIT(&w->reqs, "], \"provider_summaries\": {");
    JT_LIT(&w->sums, "}}");
    struct jtext parts[2] = {w->reqs, w->sums};
    memset(&w->reqs, 0, sizeof(w->reqs));
    memset(&w->sums, 0, sizeof(w->sums));
    jt_reply(rq, parts, 2);
    req_set_last_modified(rq, 0);
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

/* A search past --candidates-work-limit. 400, not 503: the query is valid
 * but this server will not spend more on it, so retrying it unchanged (as
 * clients do after a 503) cannot help; the client has to narrow it. Not 413
 * either: the request is small, its search is what is large. */
static int fail_work_limit(struct req *rq, unsigned long long limit)
{
    return req_fail(rq, 400, ERR_CANDIDATES_WORK_LIMIT,
                    "The allocation candidates search exceeded its work limit of %llu steps "
                    "(--candidates-work-limit) and was stopped. Narrow the query: add limit, "
                    "in_tree, member_of or required traits, or ask for fewer request groups.",
                    limit);
}

/* Maps a failed engine run to the answer. */
static int fail_candidates(struct req *rq, enum store_rc rc, const struct cand_failure *fail,
                           const struct cand_query *q)
{
    if (rc == STORE_INVALID && fail->kind == CAND_BAD_RESOURCE_CLASS)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Invalid resource class in resources parameter: No such resource "
                        "class %s.",
                        fail->name);
    if (rc == STORE_INVALID && fail->kind == CAND_BAD_TRAIT)
        return req_fail(rq, 400, ERR_DEFAULT, "No such trait(s): %s.", fail->name);
    if (rc == STORE_INVALID && fail->kind == CAND_WORK_LIMIT)
        return fail_work_limit(rq, q->work_limit);
    if (rc == STORE_INVALID && fail->kind == CAND_CANCELLED) {
        /* The server is stopping (or the client left and reads nothing):
         * the same query may succeed elsewhere or later. */
        req_header_add(rq, "Retry-After", "1");
        return req_fail(rq, 503, ERR_DEFAULT,
                        "The allocation candidates search was stopped: the service is "
                        "shutting down or the client disconnected.");
    }
    return api_fail_store(rq, rc);
}

/* Validates rq's query as GET /allocation_candidates does and builds q. */
static int parse_query(struct req *rq, struct cand_query *q, struct ac_writer *w)
{
    struct ac_params p = {0};
    drop_empty_pieces(rq);
    if (check_schema(rq) || parse_wide(rq, &p) || parse_groups(rq, &p) || check_groups(rq, &p))
        return -1;
    build_query(rq, &p, q, w);
    return 0;
}

int allocation_candidates_get(struct req *rq)
{
    struct ac_writer w = {.rq = rq};
    struct cand_query q;
    struct cand_failure fail;
    if (parse_query(rq, &q, &w))
        return -1;
    JT_LIT(&w.reqs, "{\"allocation_requests\": [");
    enum store_rc rc = store_candidates_get(rq->store, &q, on_request, on_summary, &w, &fail);
    if (rc != STORE_OK) {
        jt_free(&w.reqs);
        jt_free(&w.sums);
        return fail_candidates(rq, rc, &fail, &q);
    }
    metrics_observe_candidates(w.n_reqs);
    finish_reply(rq, &w);
    return 0;
}

int allocation_candidates_count(struct req *rq, struct cand_explain *x, size_t *limit)
{
    struct ac_writer w = {.rq = rq};
    struct cand_query q;
    struct cand_failure fail;
    if (parse_query(rq, &q, &w))
        return -1;
    q.explain = x;
    *limit = q.limit;
    enum store_rc rc = store_candidates_get(rq->store, &q, on_request, NULL, &w, &fail);
    if (rc != STORE_OK) {
        cand_explain_free(x);
        return fail_candidates(rq, rc, &fail, &q);
    }
    return 0;
}
