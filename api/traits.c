/* /traits and /resource_providers/{uuid}/traits
 * (placement/handlers/trait.py), from 1.6. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/jsonschema.h"

/* placement/schemas/trait.py: TRAIT, CUSTOM_TRAIT, SET_TRAITS_FOR_RP_SCHEMA. */
static const struct js_schema TRAIT_SCHEMA = {
    .order = {JS_TYPE, JS_MIN_LENGTH, JS_MAX_LENGTH},
    .types = {"string"},
    .min_length = 1,
    .max_length = 255,
};
static const struct js_schema CUSTOM_TRAIT_SCHEMA = {
    .order = {JS_TYPE, JS_MIN_LENGTH, JS_MAX_LENGTH, JS_PATTERN},
    .types = {"string"},
    .min_length = 1,
    .max_length = 255,
    .pattern = {"^CUSTOM_[A-Z0-9_]+$", api_custom_name_pattern},
};
static const struct js_schema TRAIT_LIST_SCHEMA = {
    .order = {JS_TYPE, JS_ITEMS},
    .types = {"array"},
    .items = &TRAIT_SCHEMA,
};
static const struct js_schema GENERATION_SCHEMA = {.order = {JS_TYPE}, .types = {"integer"}};
static const struct js_property SET_TRAITS_PROPERTIES[] = {
    {"traits", &TRAIT_LIST_SCHEMA},
    {"resource_provider_generation", &GENERATION_SCHEMA},
    {NULL, NULL},
};
static const char *const SET_TRAITS_REQUIRED[] = {"traits", "resource_provider_generation", NULL};
static const struct js_schema SET_TRAITS_SCHEMA = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .properties = SET_TRAITS_PROPERTIES,
    .required = SET_TRAITS_REQUIRED,
};

static const char GENERATION_CONFLICT[] =
    "Resource provider's generation already changed. Please update the generation and try again.";

/* Collects trait names into a JSON array and their newest timestamp. */
struct trait_list {
    json_t *names;
    time_t last_modified; /* 0 while empty: req_set_last_modified makes it "now" */
};

static int add_trait(void *arg, const struct trait *row)
{
    struct trait_list *l = arg;
    time_t t = api_modified(row->created_at, row->updated_at);
    if (t > l->last_modified)
        l->last_modified = t;
    json_array_append_new(l->names, json_string(row->name));
    return 0;
}

/* Splits s at each ',' into an arena array (Python's str.split(',')). */
static const char **split_commas(struct req *rq, const char *s, size_t *n)
{
    size_t count = 1;
    for (const char *p = s; *p; p++)
        count += *p == ',';
    const char **out = arena_alloc(&rq->arena, count * sizeof(*out));
    *n = 0;
    for (const char *p = s;; p++) {
        size_t len = strcspn(p, ",");
        out[(*n)++] = arena_strndup(&rq->arena, p, len);
        p += len;
        if (!*p)
            break;
    }
    return out;
}

/* name=in:A,B | name=startswith:P; any other operator means no filter. */
static int parse_name_filter(struct req *rq, const char *qs, struct trait_filter *f)
{
    const char *colon = strchr(qs, ':');
    if (!colon)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Badly formatted name parameter. Expected name query string parameter "
                        "in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: \"%s\"",
                        qs);
    size_t oplen = (size_t)(colon - qs);
    if (oplen == 2 && strncmp(qs, "in", 2) == 0)
        f->names = split_commas(rq, colon + 1, &f->n_names);
    else if (oplen == 10 && strncmp(qs, "startswith", 10) == 0)
        f->prefix = colon + 1;
    return 0;
}

int traits_list(struct req *rq)
{
    static const char *const allowed[] = {"name", "associated", NULL};
    struct trait_filter f = {.associated = -1};

    if (api_check_query_keys(rq, allowed) != 0)
        return -1;
    const char *name = req_query(rq, "name");
    if (name && parse_name_filter(rq, name, &f) != 0)
        return -1;
    const char *assoc = req_query(rq, "associated");
    if (assoc) {
        if (strcasecmp(assoc, "true") != 0 && strcasecmp(assoc, "false") != 0)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "The query parameter \"associated\" only accepts \"true\" or "
                            "\"false\"");
        f.associated = strcasecmp(assoc, "true") == 0;
    }

    struct trait_list l = {json_array(), 0};
    enum store_rc rc = store_traits_list(rq->store, &f, add_trait, &l);
    if (rc != STORE_OK) {
        json_decref(l.names);
        return api_fail_store(rq, rc);
    }
    json_t *reply = json_object();
    json_object_set_new(reply, "traits", l.names);
    req_set_last_modified(rq, l.last_modified);
    return api_reply(rq, 200, reply);
}

static int fail_no_trait(struct req *rq, const char *name)
{
    return req_fail(rq, 404, ERR_DEFAULT, "No such trait(s): %s.", name);
}

int trait_get(struct req *rq)
{
    const char *name = req_param(rq, "name");
    struct trait row;
    enum store_rc rc = store_trait_get(rq->store, name, &row);
    if (rc == STORE_NOT_FOUND)
        return fail_no_trait(rq, name);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_last_modified(rq, (time_t)row.created_at); /* created_at, as upstream */
    rq->status = 204;
    return 0;
}

/* jsonschema.validate(name, CUSTOM_TRAIT), as upstream checks the path. */
static bool custom_trait_name(const char *name)
{
    char msg[64];                    /* the message is not shown: upstream has its own */
    json_t *doc = json_string(name); /* NULL when not UTF-8: invalid too */
    bool ok = doc && js_validate(&CUSTOM_TRAIT_SCHEMA, doc, msg, sizeof(msg));
    json_decref(doc);
    return ok;
}

int trait_put(struct req *rq)
{
    const char *name = req_param(rq, "name");
    struct trait row;
    bool created;

    if (!custom_trait_name(name))
        return req_fail(rq, 400, ERR_DEFAULT,
                        "The trait is invalid. A valid trait must be no longer than 255 "
                        "characters, start with the prefix \"CUSTOM_\" and use following "
                        "characters: \"A\"-\"Z\", \"0\"-\"9\" and \"_\"");
    enum store_rc rc = store_trait_ensure(rq->store, name, &row, &created);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_location(rq, arena_printf(&rq->arena, "/traits/%s", name));
    req_set_last_modified(rq, (time_t)row.created_at);
    rq->status = created ? 201 : 204;
    return 0;
}

int trait_delete(struct req *rq)
{
    const char *name = req_param(rq, "name");
    enum store_rc rc = store_trait_delete(rq->store, name);

    switch (rc) {
    case STORE_OK:
        rq->status = 204;
        return 0;
    case STORE_NOT_FOUND:
        return fail_no_trait(rq, name);
    case STORE_INVALID:
        return req_fail(rq, 400, ERR_DEFAULT, "Cannot delete standard trait %s.", name);
    case STORE_IN_USE:
        return req_fail(rq, 409, ERR_DEFAULT, "The trait %s is in use by a resource provider.",
                        name);
    default:
        return api_fail_store(rq, rc);
    }
}

/* ---- /resource_providers/{uuid}/traits ---- */

/* Fails 404 with the message ResourceProvider.get_by_uuid's NotFound
 * carries (GET wraps it once more, as upstream does). */
static int fail_no_provider(struct req *rq, const char *uuid, bool wrapped)
{
    if (wrapped)
        return req_fail(rq, 404, ERR_DEFAULT,
                        "No resource provider with uuid %s found: No resource provider with "
                        "uuid %s found",
                        uuid, uuid);
    return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found", uuid);
}

/* Replies {"traits": [...], "resource_provider_generation": G} from the
 * collected list (stolen). */
static int reply_provider_traits(struct req *rq, struct trait_list *l, long long generation)
{
    json_t *reply = json_object();
    json_object_set_new(reply, "traits", l->names);
    json_object_set_new(reply, "resource_provider_generation", json_integer(generation));
    req_set_last_modified(rq, l->last_modified);
    return api_reply(rq, 200, reply);
}

int provider_traits_get(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    struct provider_ref ref;
    struct trait_list l = {json_array(), 0};

    enum store_rc rc = store_provider_traits_list(rq->store, uuid, &ref, add_trait, &l);
    if (rc != STORE_OK) {
        json_decref(l.names);
        return rc == STORE_NOT_FOUND ? fail_no_provider(rq, uuid, true) : api_fail_store(rq, rc);
    }
    return reply_provider_traits(rq, &l, ref.generation);
}

/* The name as C text. A NUL inside a JSON string would cut the name short
 * (and could turn it into an existing trait), so it is spelled "\x00":
 * stored trait names never contain a backslash, so it stays unknown. */
static const char *trait_name_text(struct req *rq, const json_t *item)
{
    const char *s = json_string_value(item);
    size_t len = json_string_length(item);
    if (strlen(s) == len)
        return s;
    char *out = arena_alloc(&rq->arena, len * 4 + 1), *p = out;
    for (size_t i = 0; i < len; i++) {
        if (s[i]) {
            *p++ = s[i];
        } else {
            memcpy(p, "\\x00", 4);
            p += 4;
        }
    }
    *p = '\0';
    return out;
}

/* The distinct names of traits (validated strings), sorted, as an arena
 * array. Sorting keeps this O(n log n) for any list a body can carry. */
static const char **distinct_names(struct req *rq, const json_t *traits, size_t *n)
{
    size_t total = json_array_size(traits);
    const char **out = arena_alloc(&rq->arena, (total + 1) * sizeof(*out));

    for (size_t i = 0; i < total; i++)
        out[i] = trait_name_text(rq, json_array_get(traits, i));
    qsort(out, total, sizeof(*out), strptr_cmp);
    *n = 0;
    for (size_t i = 0; i < total; i++)
        if (*n == 0 || strcmp(out[*n - 1], out[i]) != 0)
            out[(*n)++] = out[i];
    return out;
}

/* Fails 400 naming every unknown trait (ids[i] == 0), as upstream's
 * "No such trait A, B". */
static int fail_unknown_traits(struct req *rq, const char **names, const long long *ids, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        if (ids[i] == 0)
            len += strlen(names[i]) + 2;
    char *list = arena_alloc(&rq->arena, len), *p = list;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] != 0)
            continue;
        if (p != list) {
            memcpy(p, ", ", 2);
            p += 2;
        }
        size_t k = strlen(names[i]);
        memcpy(p, names[i], k);
        p += k;
    }
    *p = '\0';
    return req_fail(rq, 400, ERR_DEFAULT, "No such trait %s", list);
}

/* Maps a failed store_provider_traits_set() of PUT to Placement's error. */
static int fail_set_traits(struct req *rq, enum store_rc rc, const char *uuid, const char **names,
                           const long long *ids, size_t n)
{
    switch (rc) {
    case STORE_NOT_FOUND:
        return fail_no_provider(rq, uuid, false);
    case STORE_CONFLICT:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE, "%s", GENERATION_CONFLICT);
    case STORE_INVALID:
        return fail_unknown_traits(rq, names, ids, n);
    default:
        return api_fail_store(rq, rc);
    }
}

int provider_traits_put(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    long long generation, new_gen = 0;
    size_t n;

    /* The body is validated before the provider is looked up. */
    if (api_validate(rq, &SET_TRAITS_SCHEMA, rq->body))
        return -1;
    js_integer(json_object_get(rq->body, "resource_provider_generation"), &generation);
    const char **names = distinct_names(rq, json_object_get(rq->body, "traits"), &n);
    long long *ids = arena_alloc(&rq->arena, (n + 1) * sizeof(*ids));
    struct trait_list l = {json_array(), 0};

    enum store_rc rc = store_provider_traits_set(rq->store, uuid, generation, names, n, ids,
                                                 &new_gen, add_trait, &l);
    if (rc != STORE_OK) {
        json_decref(l.names);
        return fail_set_traits(rq, rc, uuid, names, ids, n);
    }
    return reply_provider_traits(rq, &l, new_gen);
}

int provider_traits_delete(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");

    enum store_rc rc = store_provider_traits_clear(rq->store, uuid);
    if (rc == STORE_NOT_FOUND)
        return fail_no_provider(rq, uuid, false);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    rq->status = 204;
    return 0;
}
