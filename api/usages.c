/* Usages (placement/handlers/usage.py, schemas/usage.py): per provider,
 * and per project (and user) from 1.9, grouped by consumer type from 1.38. */
#include <string.h>

#include "api/accounting.h"
#include "api/common.h"
#include "api/errors.h"
#include "api/handlers.h"
#include "server/microversion.h"

/* ---- GET /resource_providers/{uuid}/usages ---- */

static int add_usage(void *arg, const struct usage_row *row)
{
    json_object_set_new(arg, row->resource_class, json_integer(row->used));
    return 0;
}

int provider_usages_get(struct req *rq)
{
    struct provider_ref ref;
    json_t *usages = json_object();

    enum store_rc rc =
        store_provider_usages(rq->store, acct_provider_uuid(rq), &ref, add_usage, usages);
    if (rc != STORE_OK) {
        json_decref(usages);
        return rc == STORE_NOT_FOUND ? acct_fail_no_provider(rq, ACCT_404_COLON)
                                     : api_fail_store(rq, rc);
    }
    json_t *o = json_object();
    json_object_set_new(o, "resource_provider_generation", json_integer(ref.generation));
    json_object_set_new(o, "usages", usages);
    /* "What is the usage, now?": upstream always sends the current time. */
    req_set_last_modified(rq, 0);
    return api_reply(rq, 200, o);
}

/* ---- GET /usages (1.9+) ---- */

static const struct js_schema ID_STRING = {.order = {JS_TYPE, JS_MIN_LENGTH, JS_MAX_LENGTH},
                                           .types = {"string"},
                                           .min_length = 1,
                                           .max_length = 255};
static const struct js_schema CONSUMER_TYPE = {
    .order = {JS_TYPE, JS_PATTERN, JS_MIN_LENGTH, JS_MAX_LENGTH},
    .types = {"string"},
    .pattern = JS_CONSUMER_TYPE_GET_PATTERN,
    .min_length = 1,
    .max_length = 255};
static const struct js_property PROPERTIES_1_9[] = {
    {"project_id", &ID_STRING}, {"user_id", &ID_STRING}, {NULL, NULL}};
static const struct js_property PROPERTIES_1_38[] = {{"project_id", &ID_STRING},
                                                     {"user_id", &ID_STRING},
                                                     {"consumer_type", &CONSUMER_TYPE},
                                                     {NULL, NULL}};
static const char *const REQUIRED[] = {"project_id", NULL};
static const struct js_schema QUERY_1_9 = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .properties = PROPERTIES_1_9,
    .required = REQUIRED};
static const struct js_schema QUERY_1_38 = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .properties = PROPERTIES_1_38,
    .required = REQUIRED};

/* util.validate_query_params(): the query as a dict (last value of a
 * repeated key wins), validated like a body. */
static int validate_query(struct req *rq)
{
    json_t *q = json_object();
    char msg[JS_MSG_SIZE];
    for (size_t i = 0; i < rq->n_query; i++)
        json_object_set_new(q, rq->query[i].key,
                            json_string(rq->query[i].value ? rq->query[i].value : ""));
    bool ok = js_validate(rq->mv >= MV(1, 38) ? &QUERY_1_38 : &QUERY_1_9, q, msg, sizeof(msg));
    json_decref(q);
    if (ok)
        return 0;
    return req_fail(rq, 400, ERR_DEFAULT, "Invalid query string parameters: %s", msg);
}

struct grouped {
    json_t *usages;
    bool by_type;
};

static int add_grouped(void *arg, const struct usage_row *row)
{
    struct grouped *g = arg;
    json_t *target = g->usages;
    if (g->by_type) {
        target = json_object_get(g->usages, row->group);
        if (!target) {
            target = json_object();
            json_object_set_new(g->usages, row->group, target);
        }
        json_object_set_new(target, "consumer_count", json_integer(row->consumer_count));
    }
    json_object_set_new(target, row->resource_class, json_integer(row->used));
    return 0;
}

static enum usage_grouping grouping_of(const char *consumer_type)
{
    if (!consumer_type)
        return USAGE_BY_TYPE;
    if (strcmp(consumer_type, "all") == 0)
        return USAGE_ALL;
    if (strcmp(consumer_type, STORE_CONSUMER_TYPE_UNKNOWN) == 0)
        return USAGE_UNKNOWN;
    return USAGE_ONE_TYPE;
}

int usages_get(struct req *rq)
{
    if (validate_query(rq) != 0)
        return -1;
    const char *consumer_type = req_query(rq, "consumer_type");
    struct grouped g = {json_object(), rq->mv >= MV(1, 38)};
    /* Before 1.38 the sums ignore consumer types: one group, unlabelled. */
    enum usage_grouping grouping = g.by_type ? grouping_of(consumer_type) : USAGE_ALL;
    enum store_rc rc =
        store_usages_by_project(rq->store, req_query(rq, "project_id"), req_query(rq, "user_id"),
                                grouping, consumer_type, add_grouped, &g);
    if (rc != STORE_OK) {
        json_decref(g.usages);
        return api_fail_store(rq, rc);
    }
    json_t *o = json_object();
    json_object_set_new(o, "usages", g.usages);
    req_set_last_modified(rq, 0);
    return api_reply(rq, 200, o);
}
