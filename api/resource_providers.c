/* /resource_providers and /resource_providers/{uuid}
 * (placement/handlers/resource_provider.py, schemas/resource_provider.py). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/json_text.h"
#include "api/query.h"
#include "server/microversion.h"

/* ---- Representation ---- */

/* Writes the provider as Placement serialises it at microversion mv. The
 * list writes thousands of these, so it is text, not a jansson tree. */
static void provider_write(struct jtext *b, unsigned mv, const struct provider *p)
{
    static const struct {
        const char *rel;
        unsigned since;
    } rels[] = {
        {"inventories", MV(1, 0)}, {"usages", MV(1, 0)},       {"aggregates", MV(1, 1)},
        {"traits", MV(1, 6)},      {"allocations", MV(1, 11)},
    };
    char self[64];

    snprintf(self, sizeof(self), "/resource_providers/%s", p->uuid);
    JT_LIT(b, "{\"uuid\": ");
    jt_str(b, p->uuid);
    JT_LIT(b, ", \"name\": ");
    jt_str(b, p->name);
    JT_LIT(b, ", \"generation\": ");
    jt_int(b, p->generation);
    JT_LIT(b, ", \"links\": [{\"rel\": \"self\", \"href\": ");
    jt_str(b, self);
    JT_LIT(b, "}");
    for (size_t i = 0; i < sizeof(rels) / sizeof(rels[0]); i++) {
        if (mv < rels[i].since)
            continue;
        JT_LIT(b, ", {\"rel\": ");
        jt_str(b, rels[i].rel);
        JT_LIT(b, ", \"href\": \"");
        jt_raw(b, self, strlen(self));
        JT_LIT(b, "/");
        jt_raw(b, rels[i].rel, strlen(rels[i].rel));
        JT_LIT(b, "\"}");
    }
    JT_LIT(b, "]");
    if (mv >= MV(1, 14)) {
        JT_LIT(b, ", \"parent_provider_uuid\": ");
        if (p->parent_uuid[0])
            jt_str(b, p->parent_uuid);
        else
            JT_LIT(b, "null");
        JT_LIT(b, ", \"root_provider_uuid\": ");
        jt_str(b, p->root_uuid);
    }
    JT_LIT(b, "}");
}

/* The provider as a JSON object at rq->mv. Returns a new reference. */
static json_t *provider_to_json(struct req *rq, const struct provider *p)
{
    struct jtext b = {0};
    provider_write(&b, rq->mv, p);
    json_t *o = json_loadb(b.p, b.n, 0, NULL);
    jt_free(&b);
    return o;
}

/* ---- Body validation (placement/schemas/resource_provider.py) ---- */

static const struct js_schema NAME = {
    .order = {JS_TYPE, JS_MAX_LENGTH}, .types = {"string"}, .max_length = PROVIDER_NAME_MAX};
static const struct js_schema UUID = {.order = {JS_TYPE, JS_FORMAT_UUID}, .types = {"string"}};
static const struct js_schema NULL_ONLY = {.order = {JS_TYPE}, .types = {"null"}};
static const struct js_schema *const PARENT_ANY_OF[] = {&UUID, &NULL_ONLY, NULL};
static const struct js_schema PARENT = {.order = {JS_ANY_OF}, .any_of = PARENT_ANY_OF};
static const char *const REQUIRED[] = {"name", NULL};

#define PROVIDER_SCHEMA(props)                                                                     \
    {                                                                                              \
        .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},                  \
        .types = {"object"}, .properties = (props), .required = REQUIRED,                         \
    }
static const struct js_property POST_PROPS[] = {{"name", &NAME}, {"uuid", &UUID}, {NULL, NULL}};
static const struct js_property POST_PROPS_1_14[] = {
    {"name", &NAME}, {"uuid", &UUID}, {"parent_provider_uuid", &PARENT}, {NULL, NULL}};
static const struct js_property PUT_PROPS[] = {{"name", &NAME}, {NULL, NULL}};
static const struct js_property PUT_PROPS_1_14[] = {
    {"name", &NAME}, {"parent_provider_uuid", &PARENT}, {NULL, NULL}};
static const struct js_schema POST_SCHEMA = PROVIDER_SCHEMA(POST_PROPS);
static const struct js_schema POST_SCHEMA_1_14 = PROVIDER_SCHEMA(POST_PROPS_1_14);
static const struct js_schema PUT_SCHEMA = PROVIDER_SCHEMA(PUT_PROPS);
static const struct js_schema PUT_SCHEMA_1_14 = PROVIDER_SCHEMA(PUT_PROPS_1_14);

/* The parsed body of POST or PUT /resource_providers[/{uuid}]. */
struct provider_body {
    const char *name;
    bool has_uuid;
    char uuid[37];
    bool parent_given; /* the key is present */
    bool has_parent;   /* ...and not null */
    char parent[37];
};

/* Validates a provider body: POST allows uuid; 1.14+ allows parent_provider_uuid. */
static int parse_provider_body(struct req *rq, bool is_post, struct provider_body *out)
{
    bool nested = rq->mv >= MV(1, 14);
    const struct js_schema *schema = is_post ? (nested ? &POST_SCHEMA_1_14 : &POST_SCHEMA)
                                             : (nested ? &PUT_SCHEMA_1_14 : &PUT_SCHEMA);
    if (api_validate(rq, schema, rq->body))
        return -1;
    memset(out, 0, sizeof(*out));
    out->name = json_string_value(json_object_get(rq->body, "name"));
    const json_t *v = json_object_get(rq->body, "uuid");
    out->has_uuid = v && uuid_normalize(json_string_value(v), out->uuid);
    v = json_object_get(rq->body, "parent_provider_uuid");
    out->parent_given = v != NULL;
    out->has_parent = v && uuid_normalize(json_string_value(v), out->parent);
    return 0;
}

/* ---- Handlers ---- */

static int fail_not_found(struct req *rq, const char *uuid)
{
    return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found", uuid);
}

static int create_failed(struct req *rq, const struct provider_body *b, const char *uuid,
                         enum store_rc rc, enum provider_problem why)
{
    if (rc == STORE_DUPLICATE)
        return req_fail(rq, 409, ERR_DUPLICATE_NAME,
                        "Conflicting resource provider %s: %s already exists.",
                        why == PROVIDER_DUPLICATE_UUID ? "uuid" : "name",
                        why == PROVIDER_DUPLICATE_UUID ? uuid : b->name);
    if (rc == STORE_INVALID)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to create resource provider \"%s\", %s: Object action create "
                        "failed because: parent provider UUID does not exist.",
                        b->name, uuid);
    return api_fail_store(rq, rc);
}

int providers_create(struct req *rq)
{
    struct provider_body b;
    struct provider p;
    enum provider_problem why;
    char uuid[37];

    if (parse_provider_body(rq, true, &b))
        return -1;
    if (b.has_uuid)
        memcpy(uuid, b.uuid, sizeof(uuid));
    else
        uuid4_generate(uuid);
    /* ResourceProvider.create() checks the name before the parent. */
    if (!b.name[0])
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to create resource provider \"%s\", %s: Object action create "
                        "failed because: name is required",
                        b.name, uuid);
    if (b.has_parent && strcmp(b.parent, uuid) == 0)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to create resource provider \"%s\", %s: Object action create "
                        "failed because: parent provider UUID cannot be same as UUID. Please "
                        "set parent provider UUID to None if there is no parent.",
                        b.name, uuid);

    enum store_rc rc =
        store_provider_create(rq->store, uuid, b.name, b.has_parent ? b.parent : NULL, &p, &why);
    if (rc != STORE_OK)
        return create_failed(rq, &b, uuid, rc, why);

    char path[64];
    snprintf(path, sizeof(path), "/resource_providers/%s", p.uuid);
    req_set_location(rq, path);
    /* 1.20+: POST returns the provider with 200; before, 201 and no body. */
    if (rq->mv < MV(1, 20)) {
        rq->status = 201;
        return 0;
    }
    req_set_last_modified(rq, api_modified(p.created_at, p.updated_at));
    return api_reply(rq, 200, provider_to_json(rq, &p));
}

int providers_get(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    struct provider p;

    enum store_rc rc = store_provider_get(rq->store, uuid, &p);
    if (rc == STORE_NOT_FOUND)
        return fail_not_found(rq, uuid);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_last_modified(rq, api_modified(p.created_at, p.updated_at));
    return api_reply(rq, 200, provider_to_json(rq, &p));
}

static int update_failed(struct req *rq, const char *uuid, const char *name, enum store_rc rc,
                         enum provider_problem why)
{
    const char *action = "update", *reason;

    switch (rc) {
    case STORE_NOT_FOUND:
        return fail_not_found(rq, uuid);
    case STORE_DUPLICATE:
        return req_fail(rq, 409, ERR_DUPLICATE_NAME,
                        "Conflicting resource provider %s already exists.", name ? name : "");
    case STORE_INVALID:
        break;
    default:
        return api_fail_store(rq, rc);
    }
    switch (why) {
    case PROVIDER_PARENT_MISSING:
        action = "create"; /* sic: upstream names the wrong action here */
        reason = "parent provider UUID does not exist.";
        break;
    case PROVIDER_REPARENT_REFUSED:
        reason = "re-parenting a provider is not currently allowed.";
        break;
    case PROVIDER_UNPARENT_REFUSED:
        reason = "un-parenting a provider is not currently allowed.";
        break;
    default:
        reason = "creating loop in the provider tree is not allowed.";
        break;
    }
    return req_fail(rq, 400, ERR_DEFAULT,
                    "Unable to save resource provider %s: Object action %s failed because: %s",
                    uuid, action, reason);
}

int providers_update(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    struct provider_body b;
    struct provider p;
    enum provider_problem why;

    /* A missing provider is reported before the body is looked at. */
    enum store_rc rc = store_provider_get(rq->store, uuid, &p);
    if (rc != STORE_OK)
        return update_failed(rq, uuid, NULL, rc, PROVIDER_PROBLEM_NONE);
    if (parse_provider_body(rq, false, &b))
        return -1;

    struct provider_update upd = {
        .name = b.name,
        .set_parent = b.parent_given,
        .parent_uuid = b.has_parent ? b.parent : NULL,
        .allow_reparent = rq->mv >= MV(1, 37),
    };
    rc = store_provider_update(rq->store, p.uuid, &upd, &p, &why);
    if (rc != STORE_OK)
        return update_failed(rq, uuid, b.name, rc, why);
    req_set_last_modified(rq, api_modified(p.created_at, p.updated_at));
    return api_reply(rq, 200, provider_to_json(rq, &p));
}

int providers_delete(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");

    switch (store_provider_delete(rq->store, uuid)) {
    case STORE_OK:
        rq->status = 204;
        return 0;
    case STORE_NOT_FOUND:
        return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found for delete",
                        uuid);
    case STORE_IN_USE:
        return req_fail(rq, 409, ERR_PROVIDER_INUSE,
                        "Unable to delete resource provider %s: Resource provider has "
                        "allocations.",
                        uuid);
    case STORE_HAS_CHILDREN:
        return req_fail(rq, 409, ERR_PROVIDER_CANNOT_DELETE_PARENT,
                        "Unable to delete parent resource provider %s: It has child resource "
                        "providers.",
                        uuid);
    case STORE_BUSY:
        return api_fail_store(rq, STORE_BUSY);
    default:
        return api_fail_store(rq, STORE_ERROR);
    }
}

/* ---- GET /resource_providers ---- */

/* The query keys each microversion's schema allows (GET_RPS_SCHEMA_1_*). */
static int check_list_keys(struct req *rq)
{
    static const char *const v1_0[] = {"name", "uuid", NULL};
    static const char *const v1_3[] = {"name", "uuid", "member_of", NULL};
    static const char *const v1_4[] = {"name", "uuid", "member_of", "resources", NULL};
    static const char *const v1_14[] = {"name", "uuid", "member_of", "resources", "in_tree", NULL};
    static const char *const v1_18[] = {"name",    "uuid",     "member_of", "resources",
                                        "in_tree", "required", NULL};
    const char *const *allowed = rq->mv >= MV(1, 18)   ? v1_18
                                 : rq->mv >= MV(1, 14) ? v1_14
                                 : rq->mv >= MV(1, 4)  ? v1_4
                                 : rq->mv >= MV(1, 3)  ? v1_3
                                                       : v1_0;
    return api_check_query_keys(rq, allowed);
}

/* A uuid-format query value, canonicalised into out (NULL when absent). */
static int query_uuid(struct req *rq, const char *key, char out[37], const char **value)
{
    const char *v = req_query(rq, key);
    *value = NULL;
    if (!v)
        return 0;
    if (!uuid_normalize(v, out))
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Invalid query string parameters: '%s' is not a 'uuid'  Failed "
                        "validating 'format' in schema['properties']['%s']",
                        v, key);
    *value = out;
    return 0;
}

static int fail_trait(struct req *rq, const char *name)
{
    return req_fail(rq, 400, ERR_DEFAULT,
                    "Invalid trait(s) in \"required\" parameter: No such trait(s): %s.", name);
}

/* Resolves trait names to ids: unknown names are a 400 naming the first. */
static int trait_ids(struct req *rq, const struct name_set *names, struct id_set *out)
{
    long long *ids = arena_alloc(&rq->arena, (names->n ? names->n : 1) * sizeof(*ids));
    const char *missing = NULL;
    enum store_rc rc = names->n
                           ? store_traits_resolve(rq->store, names->names, names->n, ids, &missing)
                           : STORE_OK;
    if (rc == STORE_NOT_FOUND)
        return fail_trait(rq, missing);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    *out = (struct id_set){.ids = ids, .n = names->n};
    return 0;
}

static int resolve_traits(struct req *rq, const struct trait_expr *t, struct provider_filter *f)
{
    struct id_set *sets = arena_alloc(&rq->arena, (t->n_all_of ? t->n_all_of : 1) * sizeof(*sets));
    for (size_t i = 0; i < t->n_all_of; i++)
        if (trait_ids(rq, &t->all_of[i], &sets[i]))
            return -1;
    f->required_traits = sets;
    f->n_required_traits = t->n_all_of;
    return trait_ids(rq, &t->forbidden, &f->forbidden_traits);
}

static struct uuid_set uuids_of(const struct name_set *s)
{
    return (struct uuid_set){.uuids = s->names, .n = s->n};
}

static int filter_aggregates(struct req *rq, struct provider_filter *f)
{
    struct agg_expr a;
    if (query_member_of(rq, "member_of", &a))
        return -1;
    struct uuid_set *sets = arena_alloc(&rq->arena, (a.n_all_of ? a.n_all_of : 1) * sizeof(*sets));
    for (size_t i = 0; i < a.n_all_of; i++)
        sets[i] = uuids_of(&a.all_of[i]);
    f->member_of = sets;
    f->n_member_of = a.n_all_of;
    f->forbidden_aggs = uuids_of(&a.forbidden);
    return 0;
}

static int resolve_resources(struct req *rq, const struct resource_amount *res, size_t n,
                             struct provider_filter *f)
{
    struct provider_amount *amounts = arena_alloc(&rq->arena, (n ? n : 1) * sizeof(*amounts));
    for (size_t i = 0; i < n; i++) {
        enum store_rc rc = store_resource_class_id(rq->store, res[i].rc, &amounts[i].rc_id);
        if (rc == STORE_NOT_FOUND)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Invalid resource class in resources parameter: No such resource "
                            "class %s.",
                            res[i].rc);
        if (rc != STORE_OK)
            return api_fail_store(rq, rc);
        amounts[i].amount = res[i].amount;
    }
    f->resources = amounts;
    f->n_resources = n;
    return 0;
}

struct list_acc {
    struct req *rq;
    struct jtext text;
    size_t count;
    time_t modified;
};

static int list_row(void *arg, const struct provider *p)
{
    struct list_acc *acc = arg;
    time_t t = api_modified(p->created_at, p->updated_at);
    if (t > acc->modified)
        acc->modified = t;
    if (acc->count++)
        JT_LIT(&acc->text, ", ");
    provider_write(&acc->text, acc->rq->mv, p);
    return 0;
}

/* Sends {"resource_providers": [...]} with the items written so far. */
static int reply_list(struct req *rq, struct list_acc *acc)
{
    struct jtext parts[2] = {{0}, acc->text};
    JT_LIT(&parts[0], "{\"resource_providers\": [");
    JT_LIT(&parts[1], "]}");
    memset(&acc->text, 0, sizeof(acc->text));
    jt_reply(rq, parts, 2);
    req_set_last_modified(rq, acc->modified); /* 0 (no providers) means now */
    return 0;
}

int providers_list(struct req *rq)
{
    struct provider_filter f = {0};
    struct trait_expr traits;
    struct resource_amount *res;
    size_t n_res;
    char uuid[37], tree[37];

    /* Syntax first, in upstream's order: schema, member_of, required, resources. */
    if (check_list_keys(rq) || query_uuid(rq, "uuid", uuid, &f.uuid) ||
        query_uuid(rq, "in_tree", tree, &f.in_tree) || filter_aggregates(rq, &f) ||
        query_required(rq, "required", &traits) || query_resources(rq, "resources", &res, &n_res))
        return -1;
    const char *name = req_query(rq, "name");
    f.name = name && name[0] ? name : NULL;

    /* An unknown in_tree is an empty list, before any name lookup can complain. */
    struct provider_ref root;
    enum store_rc rc = f.in_tree ? store_provider_ref(rq->store, f.in_tree, &root) : STORE_OK;
    struct list_acc acc = {.rq = rq};
    if (rc == STORE_NOT_FOUND)
        return reply_list(rq, &acc);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    if (resolve_traits(rq, &traits, &f) || resolve_resources(rq, res, n_res, &f))
        return -1;

    rc = store_provider_list(rq->store, &f, list_row, &acc);
    if (rc != STORE_OK) {
        jt_free(&acc.text);
        return api_fail_store(rq, rc);
    }
    return reply_list(rq, &acc);
}
