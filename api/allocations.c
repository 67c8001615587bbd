/* Allocations (placement/handlers/allocation.py, schemas/allocation.py):
 * GET/PUT/DELETE /allocations/{consumer_uuid}, POST /allocations and GET
 * /resource_providers/{uuid}/allocations. A write replaces the consumer's
 * allocations atomically in the store (one BEGIN IMMEDIATE transaction). */
#include <stdio.h>
#include <string.h>

#include "api/accounting.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "server/microversion.h"

/* ---- Schemas (keyword order as in placement/schemas/allocation.py) ---- */

static const struct js_schema UUID_STRING = {.order = {JS_TYPE, JS_FORMAT_UUID},
                                             .types = {"string"}};
static const struct js_schema AMOUNT = {
    .order = {JS_TYPE, JS_MINIMUM}, .types = {"integer"}, .minimum = 1};
static const struct js_schema INTEGER = {.order = {JS_TYPE}, .types = {"integer"}};
static const struct js_schema ID_STRING = {.order = {JS_TYPE, JS_MIN_LENGTH, JS_MAX_LENGTH},
                                           .types = {"string"},
                                           .min_length = 1,
                                           .max_length = 255};
static const struct js_schema CONSUMER_GENERATION = {.order = {JS_TYPE},
                                                     .types = {"integer", "null"}};
static const struct js_schema CONSUMER_TYPE = {
    .order = {JS_TYPE, JS_PATTERN, JS_MIN_LENGTH, JS_MAX_LENGTH},
    .types = {"string"},
    .pattern = JS_RC_PATTERN,
    .min_length = 1,
    .max_length = 255};

static const struct js_pattern_property AMOUNT_BY_CLASS[] = {{JS_RC_PATTERN, &AMOUNT},
                                                             {{NULL, NULL}, NULL}};
static const struct js_schema RESOURCES = {
    .order = {JS_TYPE, JS_MIN_PROPERTIES, JS_PATTERN_PROPERTIES, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .min_properties = 1,
    .pattern_properties = AMOUNT_BY_CLASS};

/* 1.0-1.11: a list of {"resource_provider": {"uuid"}, "resources"}. */
static const struct js_property RP_REF_PROPERTIES[] = {{"uuid", &UUID_STRING}, {NULL, NULL}};
static const char *const RP_REF_REQUIRED[] = {"uuid", NULL};
static const struct js_schema RP_REF = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_ADDITIONAL_PROPERTIES, JS_REQUIRED},
    .types = {"object"},
    .properties = RP_REF_PROPERTIES,
    .required = RP_REF_REQUIRED};
static const struct js_property LIST_ITEM_PROPERTIES[] = {
    {"resource_provider", &RP_REF}, {"resources", &RESOURCES}, {NULL, NULL}};
static const char *const LIST_ITEM_REQUIRED[] = {"resource_provider", "resources", NULL};

#define OBJECT_ORDER    {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES}
#define OBJECT_ORDER_12 {JS_TYPE, JS_PROPERTIES, JS_ADDITIONAL_PROPERTIES, JS_REQUIRED}

static const struct js_schema LIST_ITEM = {.order = OBJECT_ORDER,
                                           .types = {"object"},
                                           .properties = LIST_ITEM_PROPERTIES,
                                           .required = LIST_ITEM_REQUIRED};
static const struct js_schema LIST = {
    .order = {JS_TYPE, JS_MIN_ITEMS, JS_ITEMS}, .types = {"array"}, .min_items = 1,
    .items = &LIST_ITEM};

static const struct js_property PROPERTIES_1_0[] = {{"allocations", &LIST}, {NULL, NULL}};
static const char *const REQUIRED_1_0[] = {"allocations", NULL};
static const struct js_schema SCHEMA_1_0 = {.order = OBJECT_ORDER,
                                            .types = {"object"},
                                            .properties = PROPERTIES_1_0,
                                            .required = REQUIRED_1_0};

static const struct js_property PROPERTIES_1_8[] = {
    {"allocations", &LIST}, {"project_id", &ID_STRING}, {"user_id", &ID_STRING}, {NULL, NULL}};
static const char *const REQUIRED_1_8[] = {"allocations", "project_id", "user_id", NULL};
static const struct js_schema SCHEMA_1_8 = {.order = OBJECT_ORDER,
                                            .types = {"object"},
                                            .properties = PROPERTIES_1_8,
                                            .required = REQUIRED_1_8};

/* 1.12+: {"allocations": {RP_UUID: {"resources", "generation"}}, ...}. */
static const struct js_property RP_ENTRY_PROPERTIES[] = {
    {"generation", &INTEGER}, {"resources", &RESOURCES}, {NULL, NULL}};
static const char *const RP_ENTRY_REQUIRED[] = {"resources", NULL};
static const struct js_schema RP_ENTRY = {.order = OBJECT_ORDER,
                                          .types = {"object"},
                                          .properties = RP_ENTRY_PROPERTIES,
                                          .required = RP_ENTRY_REQUIRED};
static const struct js_pattern_property ENTRY_BY_PROVIDER[] = {{JS_UUID_PATTERN, &RP_ENTRY},
                                                               {{NULL, NULL}, NULL}};

#define ALLOCATIONS_DICT(min)                                                                 \
    {                                                                                         \
        .order = {JS_TYPE, JS_MIN_PROPERTIES, JS_PATTERN_PROPERTIES, JS_ADDITIONAL_PROPERTIES}, \
        .types = {"object"}, .min_properties = (min), .pattern_properties = ENTRY_BY_PROVIDER \
    }

static const struct js_schema ALLOCATIONS_1 = ALLOCATIONS_DICT(1);
static const struct js_schema ALLOCATIONS_0 = ALLOCATIONS_DICT(0);

static const struct js_property PROPERTIES_1_12[] = {{"allocations", &ALLOCATIONS_1},
                                                     {"project_id", &ID_STRING},
                                                     {"user_id", &ID_STRING},
                                                     {NULL, NULL}};
static const struct js_schema SCHEMA_1_12 = {.order = OBJECT_ORDER_12,
                                             .types = {"object"},
                                             .properties = PROPERTIES_1_12,
                                             .required = REQUIRED_1_8};

/* DELETABLE_ALLOCATIONS: the POST entry of 1.13-1.27. */
static const struct js_property PROPERTIES_DELETABLE[] = {{"allocations", &ALLOCATIONS_0},
                                                          {"project_id", &ID_STRING},
                                                          {"user_id", &ID_STRING},
                                                          {NULL, NULL}};
static const struct js_schema SCHEMA_DELETABLE = {.order = OBJECT_ORDER_12,
                                                  .types = {"object"},
                                                  .properties = PROPERTIES_DELETABLE,
                                                  .required = REQUIRED_1_8};

#define PROPERTIES_28                                                                       \
    {"allocations", &ALLOCATIONS_0}, {"project_id", &ID_STRING}, {"user_id", &ID_STRING}, \
        {"consumer_generation", &CONSUMER_GENERATION}
static const struct js_property PROPERTIES_1_28[] = {PROPERTIES_28, {NULL, NULL}};
static const char *const REQUIRED_1_28[] = {"allocations", "project_id", "user_id",
                                            "consumer_generation", NULL};
static const struct js_schema SCHEMA_1_28 = {.order = OBJECT_ORDER_12,
                                             .types = {"object"},
                                             .properties = PROPERTIES_1_28,
                                             .required = REQUIRED_1_28};

static const struct js_schema MAPPED_UUID = {.order = {JS_TYPE, JS_FORMAT_UUID},
                                             .types = {"string"}};
static const struct js_schema MAPPING = {.order = {JS_TYPE, JS_MIN_ITEMS, JS_ITEMS},
                                         .types = {"array"},
                                         .min_items = 1,
                                         .items = &MAPPED_UUID};
static const struct js_pattern_property MAPPING_BY_GROUP[] = {{JS_GROUP_PATTERN_1_33, &MAPPING},
                                                              {{NULL, NULL}, NULL}};
static const struct js_schema MAPPINGS = {
    .order = {JS_TYPE, JS_MIN_PROPERTIES, JS_PATTERN_PROPERTIES},
    .types = {"object"},
    .min_properties = 1,
    .pattern_properties = MAPPING_BY_GROUP};

static const struct js_property PROPERTIES_1_34[] = {
    PROPERTIES_28, {"mappings", &MAPPINGS}, {NULL, NULL}};
static const struct js_schema SCHEMA_1_34 = {.order = OBJECT_ORDER_12,
                                             .types = {"object"},
                                             .properties = PROPERTIES_1_34,
                                             .required = REQUIRED_1_28};

static const struct js_property PROPERTIES_1_38[] = {
    PROPERTIES_28, {"mappings", &MAPPINGS}, {"consumer_type", &CONSUMER_TYPE}, {NULL, NULL}};
static const char *const REQUIRED_1_38[] = {"allocations", "project_id", "user_id",
                                            "consumer_generation", "consumer_type", NULL};
static const struct js_schema SCHEMA_1_38 = {.order = OBJECT_ORDER_12,
                                             .types = {"object"},
                                             .properties = PROPERTIES_1_38,
                                             .required = REQUIRED_1_38};

/* POST /allocations: {CONSUMER_UUID: entry} with at least one consumer. */
#define POST_SCHEMA(name, entry)                                                             \
    static const struct js_pattern_property name##_ENTRIES[] = {{JS_UUID_PATTERN, &(entry)}, \
                                                                {{NULL, NULL}, NULL}};       \
    static const struct js_schema name = {                                                   \
        .order = {JS_TYPE, JS_MIN_PROPERTIES, JS_ADDITIONAL_PROPERTIES, JS_PATTERN_PROPERTIES}, \
        .types = {"object"},                                                                 \
        .min_properties = 1,                                                                 \
        .pattern_properties = name##_ENTRIES}

POST_SCHEMA(POST_1_13, SCHEMA_DELETABLE);
POST_SCHEMA(POST_1_28, SCHEMA_1_28);
POST_SCHEMA(POST_1_34, SCHEMA_1_34);
POST_SCHEMA(POST_1_38, SCHEMA_1_38);

static const struct js_schema *put_schema(unsigned mv)
{
    if (mv < MV(1, 8))
        return &SCHEMA_1_0;
    if (mv < MV(1, 12))
        return &SCHEMA_1_8;
    if (mv < MV(1, 28))
        return &SCHEMA_1_12;
    if (mv < MV(1, 34))
        return &SCHEMA_1_28;
    return mv < MV(1, 38) ? &SCHEMA_1_34 : &SCHEMA_1_38;
}

static const struct js_schema *post_schema(unsigned mv)
{
    if (mv < MV(1, 28))
        return &POST_1_13;
    if (mv < MV(1, 34))
        return &POST_1_28;
    return mv < MV(1, 38) ? &POST_1_34 : &POST_1_38;
}

const struct js_schema *acct_post_entry_schema(unsigned mv)
{
    if (mv < MV(1, 28))
        return &SCHEMA_DELETABLE;
    if (mv < MV(1, 34))
        return &SCHEMA_1_28;
    return mv < MV(1, 38) ? &SCHEMA_1_34 : &SCHEMA_1_38;
}

/* ---- Body to store request ---- */

/* The canonical form of a uuid-like string, or the string itself. */
static const char *canonical_uuid(struct req *rq, const char *s)
{
    char out[37];
    return uuid_normalize(s, out) ? arena_strdup(&rq->arena, out) : s;
}

void acct_consumer_from_json(struct req *rq, const char *uuid, const json_t *entry,
                             struct consumer_allocs *out)
{
    const json_t *allocs = json_object_get(entry, "allocations");
    const json_t *gen = json_object_get(entry, "consumer_generation");
    const json_t *type = json_object_get(entry, "consumer_type");
    const json_t *project = json_object_get(entry, "project_id");
    size_t n = 0;
    const char *rp;
    json_t *rp_entry;

    json_object_foreach((json_t *)allocs, rp, rp_entry) {
        n += json_object_size(json_object_get(rp_entry, "resources"));
    }
    struct alloc_item *items = arena_alloc(&rq->arena, (n + 1) * sizeof(*items));
    n = 0;
    json_object_foreach((json_t *)allocs, rp, rp_entry) {
        const char *rc;
        json_t *amount;
        const char *provider = canonical_uuid(rq, rp);
        json_object_foreach(json_object_get(rp_entry, "resources"), rc, amount) {
            items[n].provider_uuid = provider;
            items[n].resource_class = rc;
            js_integer(amount, &items[n].used);
            n++;
        }
    }
    memset(out, 0, sizeof(*out));
    out->uuid = canonical_uuid(rq, uuid);
    /* Before 1.8 the owner is unknown: Placement's "incomplete consumer". */
    out->project_id = project ? json_string_value(project) : ACCT_INCOMPLETE_CONSUMER_ID;
    out->user_id = project ? json_string_value(json_object_get(entry, "user_id"))
                           : ACCT_INCOMPLETE_CONSUMER_ID;
    out->consumer_type = type ? json_string_value(type) : NULL;
    out->check_generation = rq->mv >= MV(1, 28);
    out->generation_null = !gen || json_is_null(gen);
    if (gen && !json_is_null(gen))
        js_integer(gen, &out->generation);
    out->items = items;
    out->n_items = n;
}

/* Before 1.12 the allocations are a list; like upstream, turn it into the
 * dict form (a provider named twice keeps its last resources). Returns a
 * new reference to an entry object borrowing the body's values. */
static json_t *dict_form_entry(const json_t *body)
{
    json_t *entry = json_object(), *allocs = json_object();
    const json_t *list = json_object_get(body, "allocations");
    for (size_t i = 0; i < json_array_size(list); i++) {
        const json_t *item = json_array_get(list, i);
        const char *rp =
            json_string_value(json_object_get(json_object_get(item, "resource_provider"), "uuid"));
        json_t *rp_entry = json_object();
        json_object_set(rp_entry, "resources", json_object_get(item, "resources"));
        json_object_set_new(allocs, rp, rp_entry);
    }
    json_object_set_new(entry, "allocations", allocs);
    const char *keys[] = {"project_id", "user_id"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_get(body, keys[i]))
            json_object_set(entry, keys[i], json_object_get(body, keys[i]));
    return entry;
}

/* ---- Errors ---- */

static const char *generation_text(struct req *rq, bool is_null, long long gen, const char *null)
{
    return is_null ? null : arena_printf(&rq->arena, "%lld", gen);
}

int acct_fail_allocations(struct req *rq, enum store_rc rc, const struct acct_failure *f,
                          enum acct_writer who, const char *consumer)
{
    switch (f->kind) {
    case ACCT_CONSUMER_GENERATION:
        /* nova looks for "consumer generation conflict" in the detail. */
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "consumer generation conflict - expected %s but got %s",
                        generation_text(rq, f->expected_null, f->expected, "null"),
                        generation_text(rq, f->got_null, f->got, "None"));
    case ACCT_PROVIDER_MISSING:
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Allocation for resource provider '%s' that does not exist.",
                        f->providers);
    case ACCT_CLASS_MISSING:
        if (who == ACCT_PUT)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Unable to allocate inventory for consumer %s: "
                            "No such resource class %s.",
                            consumer, f->classes);
        if (who == ACCT_RESHAPE)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "malformed reshaper data: No such resource class %s.", f->classes);
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to allocate inventory No such resource class %s.", f->classes);
    case ACCT_NO_INVENTORY:
        return req_fail(rq, 409, ERR_DEFAULT,
                        "Unable to allocate inventory: Inventory for '%s' on resource provider "
                        "'%s' invalid.",
                        f->classes, f->providers);
    case ACCT_CONSTRAINTS:
        return req_fail(rq, 409, ERR_DEFAULT,
                        "Unable to allocate inventory: Unable to create allocation for '%s' on "
                        "resource provider '%s'. The requested amount would violate inventory "
                        "constraints.",
                        f->classes, f->providers);
    case ACCT_CAPACITY:
        return req_fail(rq, 409, ERR_DEFAULT,
                        "Unable to allocate inventory: Unable to create allocation for '%s' on "
                        "resource provider '%s'. The requested amount would exceed the "
                        "capacity.",
                        f->classes, f->providers);
    case ACCT_INVENTORY_IN_USE:
        return req_fail(rq, 409, ERR_INVENTORY_INUSE,
                        "update conflict: Inventory for '%s' on resource provider '%s' in use.",
                        f->classes, f->providers);
    case ACCT_PROVIDER_GENERATION:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "resource provider generation conflict for provider %s: actual: %lld, "
                        "given: %lld",
                        f->providers, f->expected, f->got);
    default:
        break;
    }
    if (rc == STORE_CONFLICT)
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Inventory and/or allocations changed while attempting to allocate: "
                        "Another thread concurrently updated the resource provider data. "
                        "Please retry your update");
    return api_fail_store(rq, rc);
}

/* ---- PUT /allocations/{consumer_uuid} ---- */

int allocations_put(struct req *rq)
{
    const char *raw = req_param(rq, "consumer_uuid");
    char consumer[37];
    struct consumer_allocs c;
    struct acct_failure fail;

    if (!uuid_normalize(raw, consumer))
        return req_fail(rq, 400, ERR_DEFAULT, "Malformed consumer_uuid: %s", raw);
    if (api_validate(rq, put_schema(rq->mv), rq->body) != 0)
        return -1;
    json_t *entry = rq->mv < MV(1, 12) ? dict_form_entry(rq->body) : json_incref(rq->body);
    acct_consumer_from_json(rq, consumer, entry, &c);
    enum store_rc rc = store_allocations_replace(rq->store, &c, 1, &fail);
    json_decref(entry); /* the store is done with the borrowed strings */
    if (rc != STORE_OK)
        return acct_fail_allocations(rq, rc, &fail, ACCT_PUT, consumer);
    rq->status = 204;
    return 0;
}

/* ---- POST /allocations (1.13+) ---- */

int allocations_post(struct req *rq)
{
    struct acct_failure fail;

    if (api_validate(rq, post_schema(rq->mv), rq->body) != 0)
        return -1;
    size_t n = 0;
    struct consumer_allocs *c =
        arena_alloc(&rq->arena, (json_object_size(rq->body) + 1) * sizeof(*c));
    const char *uuid;
    json_t *entry;
    json_object_foreach(rq->body, uuid, entry) {
        acct_consumer_from_json(rq, uuid, entry, &c[n++]);
    }
    enum store_rc rc = store_allocations_replace(rq->store, c, n, &fail);
    if (rc != STORE_OK)
        return acct_fail_allocations(rq, rc, &fail, ACCT_POST, NULL);
    rq->status = 204;
    return 0;
}

/* ---- GET /allocations/{consumer_uuid} ---- */

struct by_consumer {
    json_t *allocations;
    time_t modified;
};

static int add_by_provider(void *arg, const struct allocation_row *row)
{
    struct by_consumer *b = arg;
    json_t *rp = json_object_get(b->allocations, row->provider_uuid);
    if (!rp) {
        rp = json_object();
        json_object_set_new(rp, "resources", json_object());
        json_object_set_new(b->allocations, row->provider_uuid, rp);
    }
    json_object_set_new(json_object_get(rp, "resources"), row->resource_class,
                        json_integer(row->used));
    json_object_set_new(rp, "generation", json_integer(row->provider_generation));
    if (api_modified(row->created_at, row->updated_at) > b->modified)
        b->modified = api_modified(row->created_at, row->updated_at);
    return 0;
}

int allocations_get(struct req *rq)
{
    const char *consumer = canonical_uuid(rq, req_param(rq, "consumer_uuid"));
    struct by_consumer b = {json_object(), 0};
    struct consumer_info info;

    enum store_rc rc = store_consumer_allocations(rq->store, consumer, &info, add_by_provider, &b);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
        json_decref(b.allocations);
        return api_fail_store(rq, rc);
    }
    json_t *o = json_object();
    bool any = json_object_size(b.allocations) > 0;
    json_object_set_new(o, "allocations", b.allocations);
    if (any && rq->mv >= MV(1, 12)) {
        json_object_set_new(o, "project_id", json_string(info.project_id));
        json_object_set_new(o, "user_id", json_string(info.user_id));
        if (rq->mv >= MV(1, 28))
            json_object_set_new(o, "consumer_generation", json_integer(info.generation));
        if (rq->mv >= MV(1, 38))
            json_object_set_new(o, "consumer_type", json_string(info.consumer_type));
    }
    req_set_last_modified(rq, b.modified);
    return api_reply(rq, 200, o);
}

/* ---- DELETE /allocations/{consumer_uuid} ---- */

int allocations_delete(struct req *rq)
{
    const char *raw = req_param(rq, "consumer_uuid");
    enum store_rc rc = store_consumer_delete(rq->store, canonical_uuid(rq, raw));
    if (rc == STORE_NOT_FOUND)
        return req_fail(rq, 404, ERR_DEFAULT, "No allocations for consumer '%s'", raw);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    rq->status = 204;
    return 0;
}

/* ---- GET /resource_providers/{uuid}/allocations ---- */

struct by_provider {
    json_t *allocations;
    bool with_generation;
    time_t modified;
};

static int add_by_consumer(void *arg, const struct allocation_row *row)
{
    struct by_provider *b = arg;
    json_t *c = json_object_get(b->allocations, row->consumer_uuid);
    if (!c) {
        c = json_object();
        json_object_set_new(c, "resources", json_object());
        json_object_set_new(b->allocations, row->consumer_uuid, c);
    }
    json_object_set_new(json_object_get(c, "resources"), row->resource_class,
                        json_integer(row->used));
    if (b->with_generation)
        json_object_set_new(c, "consumer_generation", json_integer(row->consumer_generation));
    if (api_modified(row->created_at, row->updated_at) > b->modified)
        b->modified = api_modified(row->created_at, row->updated_at);
    return 0;
}

int provider_allocations_get(struct req *rq)
{
    struct provider_ref ref;
    struct by_provider b = {json_object(), rq->mv >= MV(1, 28), 0};

    enum store_rc rc = store_provider_allocations(rq->store, acct_provider_uuid(rq), &ref,
                                                  add_by_consumer, &b);
    if (rc != STORE_OK) {
        json_decref(b.allocations);
        return rc == STORE_NOT_FOUND ? acct_fail_no_provider(rq, ACCT_404_QUOTED)
                                     : api_fail_store(rq, rc);
    }
    json_t *o = json_object();
    json_object_set_new(o, "allocations", b.allocations);
    json_object_set_new(o, "resource_provider_generation", json_integer(ref.generation));
    req_set_last_modified(rq, b.modified);
    return api_reply(rq, 200, o);
}
