/* Parsers for the `required`, `member_of` and `resources` query values,
 * following placement/util.py word for word where the messages are
 * concerned (clients and the gabbi tests match on them). */
#include "api/query.h"

#include <ctype.h>
#include <string.h>

#include "api/errors.h"
#include "server/microversion.h"

/* A growable arena array of names; growth copies (the arena never frees). */
struct name_list {
    const char **v;
    size_t n, cap;
};

static void list_push(struct arena *a, struct name_list *l, const char *s)
{
    l->v = arena_grow(a, l->v, l->n, &l->cap, sizeof(*l->v));
    l->v[l->n++] = s;
}

/* Adds s unless it is already there (sets keep their first order). */
static void set_add(struct arena *a, struct name_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], s) == 0)
            return;
    list_push(a, l, s);
}

static struct name_set set_of(const struct name_list *l)
{
    return (struct name_set){.names = l->v, .n = l->n};
}

/* A growable arena array of name sets. */
struct set_list {
    struct name_set *v;
    size_t n, cap;
};

static void sets_push(struct arena *a, struct set_list *l, struct name_set s)
{
    l->v = arena_grow(a, l->v, l->n, &l->cap, sizeof(*l->v));
    l->v[l->n++] = s;
}

/* Splits s on ',' into arena copies, Python's str.split(',') (so "" gives
 * one empty item). strip also trims surrounding whitespace, like str.strip(). */
static void split_commas(struct arena *a, const char *s, bool strip, struct name_list *out)
{
    for (;;) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *b = s;
        if (strip) {
            while (len && isspace((unsigned char)b[0]))
                b++, len--;
            while (len && isspace((unsigned char)b[len - 1]))
                len--;
        }
        list_push(a, out, arena_strndup(a, b, len));
        if (!end)
            return;
        s = end + 1;
    }
}

/* The values of every occurrence of key, in order ("" for a bare key). */
static void query_values(struct req *rq, const char *key, struct name_list *out)
{
    for (size_t i = 0; i < rq->n_query; i++)
        if (strcmp(rq->query[i].key, key) == 0)
            list_push(&rq->arena, out, rq->query[i].value ? rq->query[i].value : "");
}

/* ---- required ---- */

#define REQUIRED_PREFIX "Invalid query string parameters: "

/* "in:A,B": one any-of set (1.39+). */
static int required_any_of(struct req *rq, const char *val, struct set_list *all_of)
{
    struct name_list items = {0}, set = {0};
    if (rq->mv < MV(1, 39))
        return req_fail(rq, 400, ERR_DEFAULT,
                        REQUIRED_PREFIX "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only "
                                        "supported since microversion 1.39. Got: %s",
                        val);
    split_commas(&rq->arena, val + 3, true, &items);
    for (size_t i = 0; i < items.n; i++)
        if (!items.v[i][0])
            return req_fail(rq, 400, ERR_DEFAULT,
                            REQUIRED_PREFIX "Expected 'required' parameter value of the form: "
                                            "in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got an empty "
                                            "trait in: %s",
                            val);
    for (size_t i = 0; i < items.n; i++)
        if (items.v[i][0] == '!')
            return req_fail(rq, 400, ERR_DEFAULT,
                            REQUIRED_PREFIX "The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' does "
                                            "not support forbidden traits. Got: %s",
                            val);
    for (size_t i = 0; i < items.n; i++)
        set_add(&rq->arena, &set, items.v[i]);
    sets_push(&rq->arena, all_of, set_of(&set));
    return 0;
}

/* "A,!B": one-name sets for A, B forbidden (1.22+). Any run of leading '!'
 * counts as one, the upstream bug kept for compatibility. */
static int required_all_of(struct req *rq, const char *val, struct set_list *all_of,
                           struct name_list *forbidden)
{
    bool allow_forbidden = rq->mv >= MV(1, 22);
    struct name_list items = {0}, bad = {0};
    split_commas(&rq->arena, val, true, &items);
    bool empty = false;
    for (size_t i = 0; i < items.n; i++) {
        const char *t = items.v[i];
        if (t[0] == '!') {
            while (*t == '!')
                t++;
            list_push(&rq->arena, &bad, t);
        }
        empty = empty || !t[0];
    }
    if (empty)
        return req_fail(
            rq, 400, ERR_DEFAULT,
            REQUIRED_PREFIX "Expected 'required' parameter value of the form: %s. "
                            "Got an empty trait in: %s",
            allow_forbidden ? "HW_CPU_X86_VMX,!CUSTOM_MAGIC" : "HW_CPU_X86_VMX,CUSTOM_MAGIC", val);
    if (bad.n && !allow_forbidden)
        return req_fail(rq, 400, ERR_DEFAULT,
                        REQUIRED_PREFIX "Expected 'required' parameter value of the form: "
                                        "HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: %s",
                        val);
    for (size_t i = 0; i < items.n; i++) {
        if (items.v[i][0] == '!')
            continue;
        const char **one = arena_alloc(&rq->arena, sizeof(*one));
        one[0] = items.v[i];
        sets_push(&rq->arena, all_of, (struct name_set){.names = one, .n = 1});
    }
    for (size_t i = 0; i < bad.n; i++)
        set_add(&rq->arena, forbidden, bad.v[i]);
    return 0;
}

int query_required(struct req *rq, const char *key, struct trait_expr *out)
{
    struct name_list values = {0}, forbidden = {0};
    struct set_list all_of = {0};

    memset(out, 0, sizeof(*out));
    query_values(rq, key, &values);
    /* Before 1.39 a repeated key is not an error: the last one wins. */
    size_t first = rq->mv < MV(1, 39) && values.n ? values.n - 1 : 0;
    for (size_t i = first; i < values.n; i++) {
        const char *v = values.v[i];
        int rc = strncmp(v, "in:", 3) == 0 ? required_any_of(rq, v, &all_of)
                                           : required_all_of(rq, v, &all_of, &forbidden);
        if (rc)
            return -1;
    }
    out->all_of = all_of.v;
    out->n_all_of = all_of.n;
    out->forbidden = set_of(&forbidden);
    return 0;
}

/* ---- member_of ---- */

/* Parses one value into uuids (canonicalised) and whether they are forbidden. */
static int member_of_value(struct req *rq, const char *val, struct name_list *uuids,
                           bool *forbidden)
{
    bool in = strncmp(val, "in:", 3) == 0, not_in = strncmp(val, "!in:", 4) == 0;
    if (strchr(val, ',') && !in && !not_in)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Multiple values for 'member_of' must be prefixed with the 'in:' or "
                        "'!in:' keyword using the valid microversion. Got: %s",
                        val);
    *forbidden = val[0] == '!';
    const char *list = not_in ? val + 4 : in ? val + 3 : *forbidden ? val + 1 : val;
    struct name_list raw = {0};
    split_commas(&rq->arena, list, false, &raw);
    for (size_t i = 0; i < raw.n; i++) {
        char canon[37];
        if (!uuid_normalize(raw.v[i], canon))
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Invalid query string parameters: Expected 'member_of' parameter "
                            "to contain valid UUID(s). Got: %s",
                            raw.v[i]);
        set_add(&rq->arena, uuids, arena_strdup(&rq->arena, canon));
    }
    return 0;
}

int query_member_of(struct req *rq, const char *key, struct agg_expr *out)
{
    const char *suffix = strncmp(key, "member_of", 9) == 0 ? key + 9 : "";
    struct name_list values = {0}, forbidden = {0};
    struct set_list all_of = {0};

    memset(out, 0, sizeof(*out));
    query_values(rq, key, &values);
    if (rq->mv < MV(1, 24) && values.n > 1)
        return req_fail(rq, 400, ERR_DEFAULT, "Multiple member_of%s parameters are not supported",
                        suffix);
    for (size_t i = 0; i < values.n; i++) {
        struct name_list uuids = {0};
        bool is_forbidden = false;
        if (member_of_value(rq, values.v[i], &uuids, &is_forbidden))
            return -1;
        if (!is_forbidden) {
            sets_push(&rq->arena, &all_of, set_of(&uuids));
            continue;
        }
        if (rq->mv < MV(1, 32))
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Forbidden member_of%s parameters are not supported in the "
                            "specified microversion",
                            suffix);
        for (size_t j = 0; j < uuids.n; j++)
            set_add(&rq->arena, &forbidden, uuids.v[j]);
    }
    out->all_of = all_of.v;
    out->n_all_of = all_of.n;
    out->forbidden = set_of(&forbidden);
    return 0;
}

/* ---- resources ---- */

#define RESOURCES_FORM                                                                             \
    "Badly formed resources parameter. Expected resources query string parameter in form: "        \
    "?resources=VCPU:2,MEMORY_MB:1024. Got: "

static bool blank(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return !*s;
}

/* Python's int(): surrounding whitespace allowed. */
static bool parse_amount(struct arena *a, const char *s, long long *out)
{
    size_t len = strlen(s);
    while (len && isspace((unsigned char)*s))
        s++, len--;
    while (len && isspace((unsigned char)s[len - 1]))
        len--;
    if (!len)
        return false;
    return parse_ll(arena_strndup(a, s, len), out);
}

static int resources_value(struct req *rq, const char *val, struct resource_amount **out, size_t *n)
{
    struct name_list items = {0};
    if (blank(val))
        return req_fail(rq, 400, ERR_DEFAULT, RESOURCES_FORM "empty string.");
    split_commas(&rq->arena, val, false, &items);
    struct resource_amount *res = arena_alloc(&rq->arena, items.n * sizeof(*res));
    size_t count = 0;
    for (size_t i = 0; i < items.n; i++) {
        const char *item = items.v[i], *colon = strchr(item, ':');
        if (!colon || strchr(colon + 1, ':'))
            return req_fail(rq, 400, ERR_DEFAULT, RESOURCES_FORM "%s.", item);
        const char *rc = arena_strndup(&rq->arena, item, (size_t)(colon - item));
        long long amount;
        if (!parse_amount(&rq->arena, colon + 1, &amount))
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Requested resource %s expected positive integer amount. Got: %s.", rc,
                            colon + 1);
        if (amount < 1)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Requested resource %s requires amount >= 1. Got: %lld.", rc, amount);
        /* A dict upstream: a repeated class keeps its place and takes the last amount. */
        size_t j = 0;
        while (j < count && strcmp(res[j].rc, rc) != 0)
            j++;
        res[j] = (struct resource_amount){.rc = rc, .amount = amount};
        count += j == count;
    }
    *out = res;
    *n = count;
    return 0;
}

int query_resources(struct req *rq, const char *key, struct resource_amount **out, size_t *n)
{
    struct name_list values = {0};

    *out = NULL;
    *n = 0;
    query_values(rq, key, &values);
    for (size_t i = 0; i < values.n; i++)
        if (resources_value(rq, values.v[i], out, n))
            return -1;
    return 0;
}
