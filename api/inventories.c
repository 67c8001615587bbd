/* Inventories of a resource provider (placement/handlers/inventory.py,
 * schemas/inventory.py). Every successful write bumps the provider
 * generation by one; PUT compares the client's generation first. */
#include <stdio.h>
#include <string.h>

#include "api/accounting.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "server/microversion.h"

#define MAX_INT 2147483647 /* db_const.MAX_INT */

/* ---- Schemas (placement/schemas/inventory.py, keyword order kept) ---- */

static const struct js_schema GENERATION = {.order = {JS_TYPE}, .types = {"integer"}};

#define BOUNDED_INT(min)                                                                   \
    {                                                                                      \
        .order = {JS_TYPE, JS_MAXIMUM, JS_MINIMUM}, .types = {"integer"}, .minimum = (min), \
        .maximum = MAX_INT                                                                 \
    }

static const struct js_schema TOTAL = BOUNDED_INT(1);
static const struct js_schema RESERVED = BOUNDED_INT(0);
static const struct js_schema AT_LEAST_ONE = BOUNDED_INT(1);
static const struct js_schema RATIO = {.order = {JS_TYPE, JS_MAXIMUM},
                                       .types = {"number"},
                                       .maximum = 3.40282e+38, /* SQL_SP_FLOAT_MAX */
                                       .float_bounds = true};
static const struct js_schema RESOURCE_CLASS = {
    .order = {JS_TYPE, JS_PATTERN}, .types = {"string"}, .pattern = JS_RC_PATTERN};

#define RECORD_PROPERTIES                                                                   \
    {"resource_provider_generation", &GENERATION}, {"total", &TOTAL},                        \
        {"reserved", &RESERVED}, {"min_unit", &AT_LEAST_ONE}, {"max_unit", &AT_LEAST_ONE}, \
        {"step_size", &AT_LEAST_ONE}, {"allocation_ratio", &RATIO}

static const struct js_property BASE_PROPERTIES[] = {RECORD_PROPERTIES, {NULL, NULL}};
static const struct js_property POST_PROPERTIES[] = {
    RECORD_PROPERTIES, {"resource_class", &RESOURCE_CLASS}, {NULL, NULL}};

static const char *const BASE_REQUIRED[] = {"total", "resource_provider_generation", NULL};
static const char *const POST_REQUIRED[] = {"total", "resource_class", NULL};
static const char *const RECORD_REQUIRED[] = {"total", NULL};

#define OBJECT_ORDER {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES}

/* PUT .../inventories/{rc} */
static const struct js_schema BASE_SCHEMA = {.order = OBJECT_ORDER,
                                             .types = {"object"},
                                             .properties = BASE_PROPERTIES,
                                             .required = BASE_REQUIRED};
/* POST .../inventories */
static const struct js_schema POST_SCHEMA = {.order = OBJECT_ORDER,
                                             .types = {"object"},
                                             .properties = POST_PROPERTIES,
                                             .required = POST_REQUIRED};
/* One record of PUT .../inventories */
static const struct js_schema RECORD_SCHEMA = {.order = OBJECT_ORDER,
                                               .types = {"object"},
                                               .properties = BASE_PROPERTIES,
                                               .required = RECORD_REQUIRED};

static const struct js_pattern_property RECORDS_BY_CLASS[] = {
    {JS_RC_PATTERN, &RECORD_SCHEMA}, {{NULL, NULL}, NULL}};
static const struct js_schema INVENTORIES = {.order = {JS_TYPE, JS_PATTERN_PROPERTIES},
                                             .types = {"object"},
                                             .pattern_properties = RECORDS_BY_CLASS};
static const struct js_property PUT_PROPERTIES[] = {
    {"resource_provider_generation", &GENERATION}, {"inventories", &INVENTORIES}, {NULL, NULL}};
static const char *const PUT_REQUIRED[] = {"resource_provider_generation", "inventories", NULL};

const struct js_schema ACCT_PUT_INVENTORIES_SCHEMA = {.order = OBJECT_ORDER,
                                                      .types = {"object"},
                                                      .properties = PUT_PROPERTIES,
                                                      .required = PUT_REQUIRED};

/* ---- Shared helpers ---- */

const char *acct_provider_uuid(struct req *rq)
{
    const char *uuid = req_param(rq, "uuid");
    char *canonical = arena_alloc(&rq->arena, 37);
    return uuid_normalize(uuid, canonical) ? canonical : uuid;
}

int acct_fail_no_provider(struct req *rq, enum acct_missing_style style)
{
    const char *uuid = req_param(rq, "uuid");
    switch (style) {
    case ACCT_404_SPACE_COLON:
        return req_fail(rq, 404, ERR_DEFAULT,
                        "No resource provider with uuid %s found : "
                        "No resource provider with uuid %s found",
                        uuid, uuid);
    case ACCT_404_COLON:
        return req_fail(rq, 404, ERR_DEFAULT,
                        "No resource provider with uuid %s found: "
                        "No resource provider with uuid %s found",
                        uuid, uuid);
    case ACCT_404_QUOTED:
        return req_fail(rq, 404, ERR_DEFAULT,
                        "Resource provider '%s' not found: No resource provider with uuid %s found",
                        uuid, uuid);
    default:
        return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found", uuid);
    }
}

int acct_path_provider(struct req *rq, struct provider_ref *ref, enum acct_missing_style style)
{
    enum store_rc rc = store_provider_ref(rq->store, acct_provider_uuid(rq), ref);
    if (rc == STORE_OK)
        return 0;
    return rc == STORE_NOT_FOUND ? acct_fail_no_provider(rq, style) : api_fail_store(rq, rc);
}

static long long field_or(const json_t *record, const char *key, long long dflt)
{
    long long v;
    const json_t *j = json_object_get(record, key);
    return j && js_integer(j, &v) ? v : dflt;
}

void acct_inventory_from_json(const char *rc, const json_t *record, struct inventory *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->resource_class, sizeof(out->resource_class), "%s", rc);
    out->total = field_or(record, "total", 0);
    out->reserved = field_or(record, "reserved", 0);
    out->min_unit = field_or(record, "min_unit", 1);
    out->max_unit = field_or(record, "max_unit", MAX_INT);
    out->step_size = field_or(record, "step_size", 1);
    const json_t *ratio = json_object_get(record, "allocation_ratio");
    out->allocation_ratio = ratio ? json_number_value(ratio) : 1.0;
}

json_t *acct_inventory_to_json(const struct inventory *inv)
{
    json_t *o = json_object();
    json_object_set_new(o, "total", json_integer(inv->total));
    json_object_set_new(o, "reserved", json_integer(inv->reserved));
    json_object_set_new(o, "min_unit", json_integer(inv->min_unit));
    json_object_set_new(o, "max_unit", json_integer(inv->max_unit));
    json_object_set_new(o, "step_size", json_integer(inv->step_size));
    json_object_set_new(o, "allocation_ratio", json_real(inv->allocation_ratio));
    return o;
}

/* _validate_inventory_capacity(): capacity = int((total - reserved) * ratio)
 * must be > 0 before 1.26 and >= 0 from 1.26. what is "create"/"update".
 * The capacity stays a double: a ratio up to the schema's 3.40282e+38 makes
 * it far larger than any integer type (Python's int has no limit), and
 * int() truncates toward zero, so int(c) >= 0 is c > -1 and int(c) > 0 is
 * c >= 1. */
static int check_capacity(struct req *rq, const char *rp_uuid, const struct inventory *inv,
                          size_t n, const char *what)
{
    bool zero_ok = rq->mv >= MV(1, 26);
    for (size_t i = 0; i < n; i++) {
        double capacity = (double)(inv[i].total - inv[i].reserved) * inv[i].allocation_ratio;
        if (zero_ok ? capacity > -1.0 : capacity >= 1.0)
            continue;
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to %s inventory for resource provider %s: Invalid inventory for "
                        "'%s' on resource provider '%s'. The reserved value is greater than %s"
                        "total.",
                        what, rp_uuid, inv[i].resource_class, rp_uuid,
                        zero_ok ? "" : "or equal to ");
    }
    return 0;
}

/* One record plus the generation (omitted when 0, as upstream's `if generation`). */
static json_t *record_with_generation(const struct inventory *inv, long long generation)
{
    json_t *o = acct_inventory_to_json(inv);
    if (generation)
        json_object_set_new(o, "resource_provider_generation", json_integer(generation));
    return o;
}

static int reply_record(struct req *rq, int status, const struct inventory *inv,
                        long long generation, time_t modified)
{
    req_set_last_modified(rq, modified);
    return api_reply(rq, status, record_with_generation(inv, generation));
}

/* ---- GET .../inventories ---- */

struct listing {
    json_t *inventories;
    time_t modified;
};

static int add_inventory(void *arg, const struct inventory *inv)
{
    struct listing *l = arg;
    json_object_set_new(l->inventories, inv->resource_class, acct_inventory_to_json(inv));
    if (api_modified(inv->created_at, inv->updated_at) > l->modified)
        l->modified = api_modified(inv->created_at, inv->updated_at);
    return 0;
}

static int reply_inventories(struct req *rq, long long generation, json_t *inventories,
                             time_t modified)
{
    json_t *o = json_object();
    json_object_set_new(o, "resource_provider_generation", json_integer(generation));
    json_object_set_new(o, "inventories", inventories);
    req_set_last_modified(rq, modified);
    return api_reply(rq, 200, o);
}

int inventories_list(struct req *rq)
{
    struct provider_ref ref;
    struct listing l = {json_object(), 0};

    enum store_rc rc =
        store_inventories_list(rq->store, acct_provider_uuid(rq), &ref, add_inventory, &l);
    if (rc != STORE_OK) {
        json_decref(l.inventories);
        return rc == STORE_NOT_FOUND ? acct_fail_no_provider(rq, ACCT_404_SPACE_COLON)
                                     : api_fail_store(rq, rc);
    }
    return reply_inventories(rq, ref.generation, l.inventories, l.modified);
}

/* ---- PUT .../inventories ---- */

/* The body's records in body order, in the arena. */
static struct inventory *records_from_body(struct req *rq, const json_t *records, size_t *n)
{
    struct inventory *inv =
        arena_alloc(&rq->arena, (json_object_size(records) + 1) * sizeof(*inv));
    const char *rc;
    json_t *record;
    *n = 0;
    json_object_foreach((json_t *)records, rc, record) {
        acct_inventory_from_json(rc, record, &inv[(*n)++]);
    }
    return inv;
}

static int fail_replace(struct req *rq, enum store_rc rc, const struct acct_failure *fail,
                        const char *rp_uuid)
{
    switch (rc) {
    case STORE_NOT_FOUND:
        if (fail->kind == ACCT_CLASS_MISSING)
            return req_fail(rq, 400, ERR_DEFAULT,
                            "Unknown resource class in inventory for resource provider %s: "
                            "No such resource class %s.",
                            rp_uuid, fail->classes);
        return req_fail(rq, 404, ERR_DEFAULT, "No resource provider with uuid %s found", rp_uuid);
    case STORE_IN_USE:
        return req_fail(rq, 409, ERR_INVENTORY_INUSE,
                        "update conflict: Inventory for '%s' on resource provider '%s' in use.",
                        fail->classes, rp_uuid);
    case STORE_CONFLICT:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "update conflict: Another thread concurrently updated the resource "
                        "provider data. Please retry your update");
    default:
        return api_fail_store(rq, rc);
    }
}

int inventories_replace_all(struct req *rq)
{
    struct provider_ref ref;
    struct acct_failure fail;
    long long gen = 0;
    size_t n;

    if (acct_path_provider(rq, &ref, ACCT_404_PLAIN) != 0 ||
        api_validate(rq, &ACCT_PUT_INVENTORIES_SCHEMA, rq->body) != 0)
        return -1;
    js_integer(json_object_get(rq->body, "resource_provider_generation"), &gen);
    if (gen != ref.generation)
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE, "resource provider generation conflict");
    const json_t *records = json_object_get(rq->body, "inventories");
    struct inventory *inv = records_from_body(rq, records, &n);
    if (check_capacity(rq, ref.uuid, inv, n, "update") != 0)
        return -1;
    enum store_rc rc = store_inventories_replace(rq->store, ref.id, gen, inv, n, &gen, &fail);
    if (rc != STORE_OK)
        return fail_replace(rq, rc, &fail, ref.uuid);
    json_t *out = json_object();
    for (size_t i = 0; i < n; i++)
        json_object_set_new(out, inv[i].resource_class, acct_inventory_to_json(&inv[i]));
    return reply_inventories(rq, gen, out, 0);
}

/* ---- DELETE .../inventories (1.5+) ---- */

int inventories_delete_all(struct req *rq)
{
    struct provider_ref ref;
    struct acct_failure fail;

    if (acct_path_provider(rq, &ref, ACCT_404_PLAIN) != 0)
        return -1;
    enum store_rc rc = store_inventories_replace(rq->store, ref.id, -1, NULL, 0, NULL, &fail);
    switch (rc) {
    case STORE_OK:
        rq->status = 204;
        return 0;
    case STORE_IN_USE:
        return req_fail(rq, 409, ERR_INVENTORY_INUSE,
                        "Inventory for '%s' on resource provider '%s' in use.", fail.classes,
                        ref.uuid);
    case STORE_CONFLICT:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Unable to delete inventory for resource provider %s because the "
                        "inventory was updated by another process. Please retry your request.",
                        ref.uuid);
    default:
        return fail_replace(rq, rc, &fail, ref.uuid);
    }
}

/* ---- POST .../inventories ---- */

int inventories_create(struct req *rq)
{
    struct provider_ref ref;
    struct acct_failure fail;
    struct inventory inv;
    long long gen = 0;

    if (acct_path_provider(rq, &ref, ACCT_404_PLAIN) != 0 ||
        api_validate(rq, &POST_SCHEMA, rq->body) != 0)
        return -1;
    const char *rc_name = json_string_value(json_object_get(rq->body, "resource_class"));
    acct_inventory_from_json(rc_name, rq->body, &inv);
    if (check_capacity(rq, ref.uuid, &inv, 1, "create") != 0)
        return -1;
    enum store_rc rc = store_inventory_add(rq->store, ref.id, &inv, &gen, &fail);
    switch (rc) {
    case STORE_OK:
        break;
    case STORE_NOT_FOUND:
        if (fail.kind != ACCT_CLASS_MISSING)
            return fail_replace(rq, rc, &fail, ref.uuid);
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Unable to create inventory for resource provider %s: "
                        "No such resource class %s.",
                        ref.uuid, rc_name);
    case STORE_DUPLICATE:
    case STORE_CONFLICT:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Update conflict: Inventory for '%s' on resource provider '%s' "
                        "already exists.",
                        rc_name, ref.uuid);
    default:
        return api_fail_store(rq, rc);
    }
    req_set_location(rq, arena_printf(&rq->arena, "/resource_providers/%s/inventories/%s",
                                      ref.uuid, rc_name));
    return reply_record(rq, 201, &inv, gen, 0);
}

/* ---- GET .../inventories/{rc} ---- */

int inventory_get(struct req *rq)
{
    const char *rc_name = req_param(rq, "rc");
    struct provider_ref ref;
    struct inventory inv;

    enum store_rc rc = store_inventory_get(rq->store, acct_provider_uuid(rq), rc_name, &ref, &inv);
    if (rc == STORE_NOT_FOUND && ref.id == 0)
        return acct_fail_no_provider(rq, ACCT_404_SPACE_COLON);
    if (rc == STORE_NOT_FOUND)
        return req_fail(rq, 404, ERR_DEFAULT, "No inventory of class %s for %s", rc_name,
                        req_param(rq, "uuid"));
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    return reply_record(rq, 200, &inv, ref.generation,
                        api_modified(inv.created_at, inv.updated_at));
}

/* ---- PUT .../inventories/{rc} ---- */

int inventory_update(struct req *rq)
{
    const char *rc_name = req_param(rq, "rc");
    struct provider_ref ref;
    struct acct_failure fail;
    struct inventory inv;
    long long gen = 0;

    if (acct_path_provider(rq, &ref, ACCT_404_PLAIN) != 0 ||
        api_validate(rq, &BASE_SCHEMA, rq->body) != 0)
        return -1;
    js_integer(json_object_get(rq->body, "resource_provider_generation"), &gen);
    if (gen != ref.generation)
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE, "resource provider generation conflict");
    acct_inventory_from_json(rc_name, rq->body, &inv);
    if (check_capacity(rq, ref.uuid, &inv, 1, "update") != 0)
        return -1;
    enum store_rc rc = store_inventory_update(rq->store, ref.id, gen, &inv, &gen, &fail);
    if (rc == STORE_NOT_FOUND && fail.kind == ACCT_INVENTORY_MISSING)
        return req_fail(rq, 400, ERR_DEFAULT,
                        "No inventory record with resource class for resource provider %s: "
                        "No inventory of class %s found.",
                        ref.uuid, rc_name);
    if (rc == STORE_NOT_FOUND && fail.kind == ACCT_CLASS_MISSING)
        return req_fail(rq, 404, ERR_DEFAULT, "No such resource class %s.", rc_name);
    if (rc != STORE_OK)
        return fail_replace(rq, rc, &fail, ref.uuid);
    return reply_record(rq, 200, &inv, gen, 0);
}

/* ---- DELETE .../inventories/{rc} ---- */

int inventory_delete(struct req *rq)
{
    const char *rc_name = req_param(rq, "rc");
    struct provider_ref ref;
    struct acct_failure fail;

    if (acct_path_provider(rq, &ref, ACCT_404_PLAIN) != 0)
        return -1;
    enum store_rc rc = store_inventory_delete(rq->store, ref.id, rc_name, NULL, &fail);
    switch (rc) {
    case STORE_OK:
        rq->status = 204;
        return 0;
    case STORE_IN_USE:
        /* Upstream answers an inventory in use here with concurrent_update. */
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Unable to delete inventory of class %s: Inventory for '%s' on resource "
                        "provider '%s' in use.",
                        rc_name, rc_name, ref.uuid);
    case STORE_CONFLICT:
        return req_fail(rq, 409, ERR_CONCURRENT_UPDATE,
                        "Unable to delete inventory of class %s: Another thread concurrently "
                        "updated the resource provider data. Please retry your update",
                        rc_name);
    case STORE_NOT_FOUND:
        return req_fail(rq, 404, ERR_DEFAULT, "No inventory of class %s found for delete: %s",
                        rc_name,
                        fail.kind == ACCT_CLASS_MISSING
                            ? arena_printf(&rq->arena, "No such resource class %s.", rc_name)
                            : arena_printf(&rq->arena, "No inventory of class %s found for delete",
                                           rc_name));
    default:
        return api_fail_store(rq, rc);
    }
}
