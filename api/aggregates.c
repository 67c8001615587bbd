/* GET/PUT /resource_providers/{uuid}/aggregates (placement/handlers/aggregate.py).
 * 1.1-1.18: the PUT body is a bare list and the generation is neither
 * checked nor bumped; 1.19+: {aggregates, resource_provider_generation},
 * checked and bumped by one. */
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "server/microversion.h"

#define WITH_GENERATION MV(1, 19)

static int fail_not_found(struct req *rq, const char *uuid)
{
    return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found", uuid);
}

/* Replies {"aggregates": list[, "resource_provider_generation": gen]} (steals list). */
static int send_aggregates(struct req *rq, json_t *list, long long generation)
{
    json_t *o = json_object();
    json_object_set_new(o, "aggregates", list);
    if (rq->mv >= WITH_GENERATION)
        json_object_set_new(o, "resource_provider_generation", json_integer(generation));
    /* Links carry no timestamp, so upstream punts with "now". */
    req_set_last_modified(rq, 0);
    return api_reply(rq, 200, o);
}

static int append_uuid(void *arg, const char *uuid)
{
    json_array_append_new(arg, json_string(uuid));
    return 0;
}

int provider_aggregates_get(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    long long generation = 0;
    json_t *list = json_array();

    enum store_rc rc =
        store_provider_aggregates_get(rq->store, uuid, &generation, append_uuid, list);
    if (rc != STORE_OK) {
        json_decref(list);
        return rc == STORE_NOT_FOUND ? fail_not_found(rq, uuid) : api_fail_store(rq, rc);
    }
    return send_aggregates(rq, list, generation);
}

/* A total order on JSON values, equal exactly when json_equal() says so:
 * by type, then by value; arrays and objects by their canonical text. */
static int json_order(const void *pa, const void *pb)
{
    const json_t *a = *(const json_t *const *)pa, *b = *(const json_t *const *)pb;

    if (json_typeof(a) != json_typeof(b))
        return json_typeof(a) < json_typeof(b) ? -1 : 1;
    switch (json_typeof(a)) {
    case JSON_STRING: {
        size_t la = json_string_length(a), lb = json_string_length(b);
        int c = memcmp(json_string_value(a), json_string_value(b), la < lb ? la : lb);
        return c ? c : (la > lb) - (la < lb);
    }
    case JSON_INTEGER:
        return (json_integer_value(a) > json_integer_value(b)) -
               (json_integer_value(a) < json_integer_value(b));
    case JSON_REAL:
        return (json_real_value(a) > json_real_value(b)) - (json_real_value(a) < json_real_value(b));
    case JSON_OBJECT:
    case JSON_ARRAY: {
        size_t flags = JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY;
        char *x = json_dumps(a, flags), *y = json_dumps(b, flags);
        int c = strcmp(x ? x : "", y ? y : "");
        free(x);
        free(y);
        return c;
    }
    default:
        return 0; /* true, false, null */
    }
}

/* uniqueItems by sorting, O(n log n): a 1 MiB body holds ~25,000 uuids,
 * and comparing every pair took seconds. */
static bool has_duplicates(struct req *rq, const json_t *list, size_t count)
{
    const json_t **items = arena_alloc(&rq->arena, (count ? count : 1) * sizeof(*items));
    for (size_t i = 0; i < count; i++)
        items[i] = json_array_get(list, i);
    qsort(items, count, sizeof(*items), json_order);
    for (size_t i = 1; i < count; i++)
        if (json_order(&items[i - 1], &items[i]) == 0)
            return true;
    return false;
}

/* The aggregate list schema: an array of distinct format-uuid strings.
 * Fills uuids (arena, canonical) with *n entries. Like jsonschema's
 * best_match, the error on the list itself (uniqueItems) wins over those on
 * its items. */
static int check_list(struct req *rq, const json_t *list, const char ***uuids, size_t *n)
{
    if (!json_is_array(list))
        return api_fail_schema(rq, "%s is not of type 'array'  Failed validating 'type'",
                               api_repr(rq, list));
    size_t count = json_array_size(list);
    if (has_duplicates(rq, list, count))
        return api_fail_schema(rq, "%s has non-unique elements  Failed validating 'uniqueItems'",
                               api_repr(rq, list));
    const char **out = arena_alloc(&rq->arena, (count ? count : 1) * sizeof(*out));
    for (size_t i = 0; i < count; i++) {
        const json_t *v = json_array_get(list, i);
        char canon[37];
        if (!json_is_string(v))
            return api_fail_schema(rq, "%s is not of type 'string'  Failed validating 'type'",
                                   api_repr(rq, v));
        if (!uuid_normalize(json_string_value(v), canon))
            return api_fail_schema(rq,
                                   "%s is not a 'uuid'  Failed validating 'format' in "
                                   "schema['items']:     {'format': 'uuid', 'type': 'string'}",
                                   api_repr(rq, v));
        out[i] = arena_strdup(&rq->arena, canon);
    }
    *uuids = out;
    *n = count;
    return 0;
}

/* The 1.19 body: {"aggregates": [...], "resource_provider_generation": int}. */
static int check_body_v1_19(struct req *rq, const json_t **list, long long *gen)
{
    json_t *body = rq->body;
    const char *key;
    json_t *v;

    if (!json_is_object(body))
        return api_fail_schema(rq, "%s is not of type 'object'  Failed validating 'type'",
                               api_repr(rq, body));
    json_object_foreach(body, key, v)
    {
        if (strcmp(key, "aggregates") != 0 && strcmp(key, "resource_provider_generation") != 0)
            return api_fail_schema(rq,
                                   "Additional properties are not allowed ('%s' was "
                                   "unexpected)  Failed validating 'additionalProperties'",
                                   key);
    }
    static const char *const required[] = {"aggregates", "resource_provider_generation"};
    for (size_t i = 0; i < 2; i++)
        if (!json_object_get(body, required[i]))
            return api_fail_schema(rq,
                                   "'%s' is a required property  Failed validating "
                                   "'required'",
                                   required[i]);
    v = json_object_get(body, "resource_provider_generation");
    if (!js_integer(v, gen))
        return api_fail_schema(rq,
                               "%s is not of type 'integer'  Failed validating 'type' in "
                               "schema['properties']['resource_provider_generation']",
                               api_repr(rq, v));
    *list = json_object_get(body, "aggregates");
    return 0;
}

int provider_aggregates_put(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    bool with_gen = rq->mv >= WITH_GENERATION;
    const json_t *list = rq->body;
    long long expect = 0, generation;
    const char **uuids = NULL;
    size_t n = 0;
    struct provider_ref rp;

    /* The provider is looked up before the body is validated. */
    enum store_rc rc = store_provider_ref(rq->store, uuid, &rp);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? fail_not_found(rq, uuid) : api_fail_store(rq, rc);
    if ((with_gen && check_body_v1_19(rq, &list, &expect)) || check_list(rq, list, &uuids, &n))
        return -1;

    rc = store_provider_aggregates_set(rq->store, uuid, uuids, n, with_gen ? &expect : NULL,
                                       &generation);
    if (rc == STORE_CONFLICT)
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Resource provider's generation already changed. Please update the "
                        "generation and try again.");
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? fail_not_found(rq, uuid) : api_fail_store(rq, rc);
    /* The answer echoes the list as sent. */
    return send_aggregates(rq, json_deep_copy(list), generation);
}
