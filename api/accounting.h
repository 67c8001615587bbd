/* Declarations shared by the accounting handlers only: api/inventories.c,
 * api/allocations.c, api/usages.c and api/reshaper.c (the reshaper reuses
 * the inventory and allocation body formats and error wording). */
#ifndef PLACID_API_ACCOUNTING_H
#define PLACID_API_ACCOUNTING_H

#include <jansson.h>

#include "api/jsonschema.h"
#include "server/req.h"
#include "store/store.h"

/* Placement's [placement]incomplete_consumer_project_id/user_id: the
 * owner of allocations written before 1.8. */
#define ACCT_INCOMPLETE_CONSUMER_ID "00000000-0000-0000-0000-000000000000"

/* How a missing provider is worded; each handler of upstream has its own. */
enum acct_missing_style {
    ACCT_404_PLAIN,       /* "No resource provider with uuid U found" */
    ACCT_404_SPACE_COLON, /* "... found : No resource provider ..." (inventory GETs) */
    ACCT_404_COLON,       /* "... found: No resource provider ..." (usages) */
    ACCT_404_QUOTED,      /* "Resource provider 'U' not found: ..." (allocations) */
};

/* The {uuid} path parameter, canonical when it is a uuid (in the arena),
 * else as given. */
const char *acct_provider_uuid(struct req *rq);

/* Fails 404 for the missing provider of the {uuid} path parameter, worded
 * in the given style. Returns -1. */
int acct_fail_no_provider(struct req *rq, enum acct_missing_style style);

/* Looks up the provider of the {uuid} path parameter into *ref. Fails 404
 * in the given style (or 500/503) and returns -1. */
int acct_path_provider(struct req *rq, struct provider_ref *ref, enum acct_missing_style style);

/* ---- Inventories (api/inventories.c) ---- */

/* PUT .../inventories body: {"resource_provider_generation", "inventories"}. */
extern const struct js_schema ACCT_PUT_INVENTORIES_SCHEMA;

/* Fills *out from a validated inventory record, with Placement's defaults
 * for the missing fields. rc is copied. */
void acct_inventory_from_json(const char *rc, const json_t *record, struct inventory *out);

/* A new reference: {"total", "reserved", ..., "allocation_ratio"}. */
json_t *acct_inventory_to_json(const struct inventory *inv);

/* ---- Allocations (api/allocations.c) ---- */

/* The schema of one consumer's entry in POST /allocations (and the
 * reshaper) at rq->mv (1.13, 1.28, 1.34 or 1.38 rules). */
const struct js_schema *acct_post_entry_schema(unsigned mv);

/* Builds a store request from one validated dict-form entry ({"allocations":
 * {RP: {"resources": {...}}}, "project_id", ...}) of consumer uuid (copied
 * into the arena). Items live in rq->arena. */
void acct_consumer_from_json(struct req *rq, const char *uuid, const json_t *entry,
                             struct consumer_allocs *out);

/* Who is writing allocations: the wording of a few messages differs. */
enum acct_writer { ACCT_PUT, ACCT_POST, ACCT_RESHAPE };

/* Maps a failed allocation write to Placement's error. consumer names the
 * PUT consumer (for one message). Always returns -1. */
int acct_fail_allocations(struct req *rq, enum store_rc rc, const struct acct_failure *fail,
                          enum acct_writer who, const char *consumer);

#endif
