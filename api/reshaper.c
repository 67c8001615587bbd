/* POST /reshaper (1.30+; placement/handlers/reshaper.py): inventories and
 * allocations of several providers and consumers replaced in one
 * transaction, all or nothing. */
#include <string.h>

#include "api/accounting.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "server/microversion.h"

/* {"inventories": {RP_UUID: PUT .../inventories body} (at least one),
 *  "allocations": {CONSUMER_UUID: POST /allocations entry} (may be empty)} */
static const struct js_pattern_property INVENTORIES_BY_PROVIDER[] = {
    {JS_UUID_PATTERN, &ACCT_PUT_INVENTORIES_SCHEMA}, {{NULL, NULL}, NULL}};
static const struct js_schema INVENTORIES = {
    .order = {JS_TYPE, JS_PATTERN_PROPERTIES, JS_MIN_PROPERTIES, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .min_properties = 1,
    .pattern_properties = INVENTORIES_BY_PROVIDER};
static const char *const REQUIRED[] = {"inventories", "allocations", NULL};

/* The allocations member differs by version only in its entry schema,
 * which is built at run time from the POST /allocations one. */
static int validate(struct req *rq)
{
    const struct js_pattern_property entries[] = {
        {JS_UUID_PATTERN, acct_post_entry_schema(rq->mv)}, {{NULL, NULL}, NULL}};
    const struct js_schema allocations = {
        .order = {JS_TYPE, JS_MIN_PROPERTIES, JS_ADDITIONAL_PROPERTIES, JS_PATTERN_PROPERTIES},
        .types = {"object"},
        .min_properties = 0,
        .pattern_properties = entries};
    const struct js_property properties[] = {
        {"inventories", &INVENTORIES}, {"allocations", &allocations}, {NULL, NULL}};
    const struct js_schema schema = {
        .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
        .types = {"object"},
        .properties = properties,
        .required = REQUIRED};
    return api_validate(rq, &schema, rq->body);
}

/* The early checks of upstream, before any consumer is looked at: every
 * provider exists and still has the generation the client saw. */
static int inventories_from_body(struct req *rq, struct reshape_inventory **out, size_t *n)
{
    const json_t *body = json_object_get(rq->body, "inventories");
    struct reshape_inventory *ri =
        arena_alloc(&rq->arena, (json_object_size(body) + 1) * sizeof(*ri));
    const char *uuid;
    json_t *entry;
    *n = 0;
    json_object_foreach((json_t *)body, uuid, entry) {
        struct provider_ref ref;
        char canonical[37];
        enum store_rc rc = store_provider_ref(
            rq->store, uuid_normalize(uuid, canonical) ? canonical : uuid, &ref);
        if (rc == STORE_NOT_FOUND)
            return req_fail(rq, 400, ERR_PROVIDER_NOT_FOUND,
                            "Resource provider %s in inventories not found: "
                            "No resource provider with uuid %s found",
                            uuid, uuid);
        if (rc != STORE_OK)
            return api_fail_store(rq, rc);
        long long gen = 0;
        js_integer(json_object_get(entry, "resource_provider_generation"), &gen);
        if (gen != ref.generation)
            return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                            "resource provider generation conflict for provider %s: "
                            "actual: %lld, given: %lld",
                            uuid, ref.generation, gen);
        const json_t *records = json_object_get(entry, "inventories");
        struct inventory *inv =
            arena_alloc(&rq->arena, (json_object_size(records) + 1) * sizeof(*inv));
        size_t k = 0;
        const char *rc_name;
        json_t *record;
        json_object_foreach((json_t *)records, rc_name, record) {
            acct_inventory_from_json(rc_name, record, &inv[k++]);
        }
        ri[*n].provider_uuid = arena_strdup(&rq->arena, ref.uuid);
        ri[*n].generation = gen;
        ri[*n].inv = inv;
        ri[*n].n_inv = k;
        (*n)++;
    }
    *out = ri;
    return 0;
}

int reshaper_post(struct req *rq)
{
    struct reshape_inventory *ri = NULL;
    size_t n_inv, n_c = 0;
    struct acct_failure fail;

    if (validate(rq) != 0 || inventories_from_body(rq, &ri, &n_inv) != 0)
        return -1;
    const json_t *allocs = json_object_get(rq->body, "allocations");
    struct consumer_allocs *c =
        arena_alloc(&rq->arena, (json_object_size(allocs) + 1) * sizeof(*c));
    const char *uuid;
    json_t *entry;
    json_object_foreach((json_t *)allocs, uuid, entry) {
        acct_consumer_from_json(rq, uuid, entry, &c[n_c++]);
    }
    enum store_rc rc = store_reshape(rq->store, ri, n_inv, c, n_c, &fail);
    if (rc != STORE_OK)
        return acct_fail_allocations(rq, rc, &fail, ACCT_RESHAPE, NULL);
    rq->status = 204;
    return 0;
}
