/* /resource_classes (placement/handlers/resource_class.py), from 1.2. */
#include <string.h>

#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "api/jsonschema.h"
#include "server/microversion.h"

/* POST_RC_SCHEMA_V1_2 (= PUT_RC_SCHEMA_V1_2), keywords in upstream order. */
static const struct js_schema NAME_SCHEMA = {
    .order = {JS_TYPE, JS_PATTERN, JS_MAX_LENGTH},
    .types = {"string"},
    .pattern = {"^CUSTOM_[A-Z0-9_]+$", api_custom_name_pattern},
    .max_length = 255,
};
static const struct js_property BODY_PROPERTIES[] = {{"name", &NAME_SCHEMA}, {NULL, NULL}};
static const char *const BODY_REQUIRED[] = {"name", NULL};
static const struct js_schema BODY_SCHEMA = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .properties = BODY_PROPERTIES,
    .required = BODY_REQUIRED,
};

/* Validates {"name": ...} like util.extract_json. Returns the name, or
 * NULL after failing 400 "JSON does not validate: ...". */
static const char *name_from_body(struct req *rq, const json_t *body)
{
    if (api_validate(rq, &BODY_SCHEMA, body))
        return NULL;
    const json_t *name = json_object_get(body, "name");
    /* A NUL inside the string hides the rest from the C pattern check;
     * Python's re would refuse it. */
    if (strlen(json_string_value(name)) != json_string_length(name)) {
        char msg[JS_MSG_SIZE];
        js_repr(name, msg, sizeof(msg));
        api_fail_schema(rq, "%s does not match '^CUSTOM_[A-Z0-9_]+$'", msg);
        return NULL;
    }
    return json_string_value(name);
}

static json_t *class_to_json(const char *name)
{
    json_t *link = json_object();
    json_object_set_new(link, "rel", json_string("self"));
    json_object_set_new(link, "href", json_sprintf("/resource_classes/%s", name));
    json_t *links = json_array();
    json_array_append_new(links, link);
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "links", links);
    return o;
}

static int fail_not_found(struct req *rq, const char *name)
{
    return req_fail(rq, 404, ERR_DEFAULT, "No such resource class %s.", name);
}

struct class_list {
    json_t *items;
    time_t last_modified;
};

static int add_class(void *arg, const struct resource_class *row)
{
    struct class_list *l = arg;
    time_t t = api_modified(row->created_at, row->updated_at);
    if (t > l->last_modified)
        l->last_modified = t;
    json_array_append_new(l->items, class_to_json(row->name));
    return 0;
}

int resource_classes_list(struct req *rq)
{
    struct class_list l = {json_array(), 0};
    enum store_rc rc = store_resource_classes_list(rq->store, add_class, &l);
    if (rc != STORE_OK) {
        json_decref(l.items);
        return api_fail_store(rq, rc);
    }
    json_t *reply = json_object();
    json_object_set_new(reply, "resource_classes", l.items);
    req_set_last_modified(rq, l.last_modified); /* 0 (nothing shown) means now */
    return api_reply(rq, 200, reply);
}

int resource_classes_create(struct req *rq)
{
    const char *name = name_from_body(rq, rq->body);
    if (!name)
        return -1;
    enum store_rc rc = store_resource_class_create(rq->store, name, true, NULL, NULL);
    if (rc == STORE_DUPLICATE)
        return req_fail(rq, 409, ERR_DEFAULT, "Conflicting resource class already exists: %s",
                        name);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_location(rq, arena_printf(&rq->arena, "/resource_classes/%s", name));
    rq->status = 201;
    return 0;
}

int resource_class_get(struct req *rq)
{
    const char *name = req_param(rq, "name");
    struct resource_class row;
    enum store_rc rc = store_resource_class_get(rq->store, name, &row);
    if (rc == STORE_NOT_FOUND)
        return fail_not_found(rq, name);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_last_modified(rq, api_modified(row.created_at, row.updated_at));
    return api_reply(rq, 200, class_to_json(row.name));
}

/* 1.2-1.6: rename. No Last-Modified here, as upstream. */
int resource_class_update_v1_2(struct req *rq)
{
    const char *name = req_param(rq, "name");
    const char *new_name = name_from_body(rq, rq->body);
    struct resource_class row;

    if (!new_name)
        return -1;
    enum store_rc rc = store_resource_class_rename(rq->store, name, new_name, &row);
    switch (rc) {
    case STORE_OK:
        return api_reply(rq, 200, class_to_json(row.name));
    case STORE_NOT_FOUND:
        return fail_not_found(rq, name);
    case STORE_INVALID:
        return req_fail(rq, 400, ERR_DEFAULT, "Cannot update standard resource class %s", name);
    case STORE_DUPLICATE:
        return req_fail(rq, 409, ERR_DEFAULT, "Resource class already exists: %s", new_name);
    default:
        return api_fail_store(rq, rc);
    }
}

/* 1.7+: create-or-confirm with no body. Upstream validates the path name
 * by running the body schema over {"name": <name>}, hence those messages. */
int resource_class_put_v1_7(struct req *rq)
{
    const char *name = req_param(rq, "name");
    json_t *doc = json_pack("{s:s}", "name", name);
    if (!doc) /* not UTF-8: jansson refuses it, and no such class can exist */
        return req_fail(rq, 400, ERR_DEFAULT, "Malformed JSON: invalid UTF-8 in the name");
    bool ok = name_from_body(rq, doc) != NULL;
    json_decref(doc);
    if (!ok)
        return -1;

    bool created;
    enum store_rc rc = store_resource_class_create(rq->store, name, false, NULL, &created);
    if (rc != STORE_OK)
        return api_fail_store(rq, rc);
    req_set_location(rq, arena_printf(&rq->arena, "/resource_classes/%s", name));
    rq->status = created ? 201 : 204;
    return 0;
}

int resource_class_delete(struct req *rq)
{
    const char *name = req_param(rq, "name");
    enum store_rc rc = store_resource_class_delete(rq->store, name);

    switch (rc) {
    case STORE_OK:
        rq->status = 204;
        return 0;
    case STORE_NOT_FOUND:
        return fail_not_found(rq, name);
    case STORE_INVALID:
        return req_fail(rq, 400, ERR_DEFAULT,
                        "Error in delete resource class: Cannot delete standard resource class "
                        "%s.",
                        name);
    case STORE_IN_USE:
        return req_fail(rq, 409, ERR_DEFAULT,
                        "Error in delete resource class: Cannot delete resource class %s. Class "
                        "is in use in inventory.",
                        name);
    default:
        return api_fail_store(rq, rc);
    }
}
