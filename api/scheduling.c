/* POST /placid/allocation_candidates: placid's own scheduling endpoint.
 * A flavor and an image go in; the Placement query nova's scheduler would
 * derive from them is built by sched_translate() and answered by the normal
 * GET /allocation_candidates handler at the latest microversion. The reply is
 * that handler's body plus "query", the derived query string exactly as nova
 * would send it (urlencoded). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/explain.h"
#include "api/handlers.h"
#include "api/sched_translate.h"
#include "server/microversion.h"

/* Placement's own upper bound for amounts and totals. */
#define SCHED_MAX_INT 2147483647LL

/* The existence check handed to sched_translate: answers from the store and
 * remembers a store failure (reported as 500/503 instead of "No such ..."). */
struct name_lookup {
    struct store *store;
    enum store_rc rc;
};

static bool name_exists(void *arg, enum sched_name_kind kind, const char *name)
{
    struct name_lookup *nl = arg;
    long long id;
    enum store_rc rc = kind == SCHED_TRAIT ? store_trait_id(nl->store, name, &id)
                                           : store_resource_class_id(nl->store, name, &id);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND && nl->rc == STORE_OK)
        nl->rc = rc;
    return rc != STORE_NOT_FOUND;
}

/* "flavor.vcpus", or just "limit" at the top level (where == ""). */
static const char *at(struct req *rq, const char *where, const char *key)
{
    return *where ? arena_printf(&rq->arena, "%s.%s", where, key) : key;
}

/* " in flavor", or nothing at the top level. */
static const char *in(struct req *rq, const char *where)
{
    return *where ? arena_printf(&rq->arena, " in %s", where) : "";
}

static int check_keys(struct req *rq, json_t *obj, const char *where, const char *const allowed[])
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = strcmp(key, allowed[i]) == 0;
        if (!ok)
            return api_fail_schema(rq,
                                   "Additional properties are not allowed ('%s' was unexpected)%s",
                                   key, in(rq, where));
    }
    return 0;
}

/* Reads obj.key as an integer in [min, SCHED_MAX_INT]; absent gives dflt,
 * or an error when dflt < 0 (required). */
static int get_int(struct req *rq, json_t *obj, const char *where, const char *key, long long min,
                   long long dflt, long long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        if (dflt < 0)
            return api_fail_schema(rq, "'%s' is a required property%s", key, in(rq, where));
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v))
        return api_fail_schema(rq, "%s must be an integer", at(rq, where, key));
    long long n = json_integer_value(v);
    if (n < min || n > SCHED_MAX_INT)
        return api_fail_schema(rq, "%s must be an integer between %lld and %lld, got %lld",
                               at(rq, where, key), min, SCHED_MAX_INT, n);
    *out = n;
    return 0;
}

/* Turns a JSON object of scalars into arena key/value strings the way nova
 * sees them (Python str(): true -> "True"). null means "not set". */
static int get_kvs(struct req *rq, json_t *obj, const char *where, struct sched_kv **out, size_t *n)
{
    const char *key;
    json_t *v;
    *out = arena_alloc(&rq->arena, (json_object_size(obj) + 1) * sizeof(**out));
    *n = 0;
    json_object_foreach(obj, key, v)
    {
        const char *s;
        if (json_is_null(v))
            continue;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_boolean(v))
            s = json_is_true(v) ? "True" : "False";
        else if (json_is_integer(v))
            s = arena_printf(&rq->arena, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else if (json_is_real(v))
            s = arena_printf(&rq->arena, "%.17g", json_real_value(v));
        else
            return api_fail_schema(rq, "%s['%s'] must be a string, number or boolean", where, key);
        (*out)[*n].key = key;
        (*out)[(*n)++].value = s;
    }
    return 0;
}

static json_t *get_object(struct req *rq, json_t *obj, const char *where, const char *key,
                          bool required, bool *failed)
{
    json_t *v = json_object_get(obj, key);
    *failed = false;
    if (!v && required) {
        *failed = true;
        api_fail_schema(rq, "'%s' is a required property%s", key, in(rq, where));
        return NULL;
    }
    if (v && !json_is_object(v)) {
        *failed = true;
        api_fail_schema(rq, "%s must be an object", at(rq, where, key));
        return NULL;
    }
    return v;
}

static int parse_flavor(struct req *rq, json_t *flavor, struct sched_request *in)
{
    static const char *const keys[] = {"vcpus",       "memory_mb",   "root_gb", "ephemeral_gb",
                                       "swap",        "extra_specs", "name",    "id",
                                       "description", NULL};
    bool failed;
    if (check_keys(rq, flavor, "flavor", keys) < 0 ||
        get_int(rq, flavor, "flavor", "vcpus", 0, -1, &in->vcpus) < 0 ||
        get_int(rq, flavor, "flavor", "memory_mb", 0, -1, &in->memory_mb) < 0 ||
        get_int(rq, flavor, "flavor", "root_gb", 0, 0, &in->root_gb) < 0 ||
        get_int(rq, flavor, "flavor", "ephemeral_gb", 0, 0, &in->ephemeral_gb) < 0 ||
        get_int(rq, flavor, "flavor", "swap", 0, 0, &in->swap) < 0)
        return -1;
    json_t *specs = get_object(rq, flavor, "flavor", "extra_specs", false, &failed);
    if (failed)
        return -1;
    if (specs) {
        struct sched_kv *kv;
        if (get_kvs(rq, specs, "flavor.extra_specs", &kv, &in->n_extra_specs) < 0)
            return -1;
        in->extra_specs = kv;
    }
    return 0;
}

static int parse_image(struct req *rq, json_t *image, struct sched_request *in)
{
    static const char *const keys[] = {"properties", "name", "id", NULL};
    bool failed;
    if (check_keys(rq, image, "image", keys) < 0)
        return -1;
    json_t *props = get_object(rq, image, "image", "properties", false, &failed);
    if (failed)
        return -1;
    if (props) {
        struct sched_kv *kv;
        if (get_kvs(rq, props, "image.properties", &kv, &in->n_image_props) < 0)
            return -1;
        in->image_props = kv;
    }
    return 0;
}

static int parse_body(struct req *rq, struct sched_request *in)
{
    static const char *const keys[] = {"flavor", "image", "limit", "explain", NULL};
    bool failed;

    memset(in, 0, sizeof(*in));
    if (!json_is_object(rq->body))
        return api_fail_schema(rq, "the body must be an object with 'flavor' (and optionally "
                                   "'image' and 'limit')");
    if (check_keys(rq, rq->body, "", keys) < 0 ||
        get_int(rq, rq->body, "", "limit", 1, SCHED_DEFAULT_LIMIT, &in->limit) < 0)
        return -1;
    json_t *flavor = get_object(rq, rq->body, "", "flavor", true, &failed);
    if (failed || parse_flavor(rq, flavor, in) < 0)
        return -1;
    json_t *explain = json_object_get(rq->body, "explain");
    if (explain && !json_is_boolean(explain))
        return api_fail_schema(rq, "'explain' must be a boolean");
    json_t *image = get_object(rq, rq->body, "", "image", false, &failed);
    if (failed || (image && parse_image(rq, image, in) < 0))
        return -1;
    /* nova's compute_status_filter always runs. */
    in->forbid_disabled_computes = true;
    in->record_sources = json_is_true(explain);
    return 0;
}

/* Replaces the request's query with the derived parameters (arena copies of
 * the decoded values), as if the client had sent them. */
static void set_query(struct req *rq, const struct sched_query *q)
{
    rq->query = arena_alloc(&rq->arena, (q->n + 1) * sizeof(*rq->query));
    for (size_t i = 0; i < q->n; i++) {
        rq->query[i].key = q->params[i].key;
        rq->query[i].value = q->params[i].value;
    }
    rq->n_query = q->n;
}

/* Adds "query" in front of the candidates handler's reply: either the JSON
 * object or its pre-serialised text. Returns 0, or -1 after failing rq. */
static int add_query_to_reply(struct req *rq, const char *query)
{
    if (rq->reply_text) {
        json_t *js = json_string(query);
        char *quoted = json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        const char *rest = memchr(rq->reply_text, '{', rq->reply_text_len);
        json_decref(js);
        if (!quoted || !rest) {
            free(quoted);
            return api_fail_store(rq, STORE_ERROR);
        }
        rest++;
        size_t rest_len = rq->reply_text_len - (size_t)(rest - rq->reply_text);
        const char *p = rest;
        while (p < rest + rest_len && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
            p++;
        bool empty = p < rest + rest_len && *p == '}';
        size_t head = strlen("{\"query\": ") + strlen(quoted) + 2;
        char *text = xmalloc(head + rest_len + 1);
        int n = snprintf(text, head + 1, "{\"query\": %s%s", quoted, empty ? "" : ", ");
        memcpy(text + n, rest, rest_len);
        free(quoted);
        req_set_reply_text(rq, text, (size_t)n + rest_len, NULL);
        return 0;
    }
    json_t *out = json_object();
    json_object_set_new(out, "query", json_string(query));
    if (json_is_object(rq->reply))
        json_object_update(out, rq->reply);
    return api_reply(rq, rq->status ? rq->status : 200, out);
}

/* "explain": true: the explanation of the derived query, with where each
 * part of it came from (recorded by the translator). */
static int explain_derived(struct req *rq, const struct sched_query *q)
{
    return explain_reply(rq, sched_query_string(q, false, &rq->arena), q->sources, q->n_sources);
}

int scheduling_candidates_post(struct req *rq)
{
    struct sched_request in;
    struct sched_query q;
    struct name_lookup nl = {.store = rq->store, .rc = STORE_OK};
    char err[700];

    /* Placid's own endpoint answers at the latest microversion, errors included. */
    rq->mv = MV_LATEST;
    if (parse_body(rq, &in) < 0)
        return -1;
    int rc = sched_translate(&in, name_exists, &nl, &rq->arena, &q, err, sizeof(err));
    if (nl.rc != STORE_OK)
        return api_fail_store(rq, nl.rc);
    if (rc < 0)
        return req_fail(rq, 400, ERR_DEFAULT, "%s", err);

    const char *query = sched_query_string(&q, true, &rq->arena);
    set_query(rq, &q);
    int ok = json_is_true(json_object_get(rq->body, "explain"))
                 ? explain_derived(rq, &q)
                 : allocation_candidates_get(rq);
    if (ok < 0) {
        /* The client never wrote these parameters: say where they came from. */
        if (rq->err.status == 400) {
            size_t len = strlen(rq->err.detail);
            snprintf(rq->err.detail + len, sizeof(rq->err.detail) - len,
                     " (in the Placement query derived from the flavor and image: %s)",
                     sched_query_string(&q, false, &rq->arena));
        }
        return -1;
    }
    if (json_is_true(json_object_get(rq->body, "explain")))
        return 0;
    return add_query_to_reply(rq, query);
}
