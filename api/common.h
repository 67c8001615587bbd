/* Helpers shared by the handlers of api/. */
#ifndef PLACID_API_COMMON_H
#define PLACID_API_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <time.h>

#include "api/jsonschema.h"
#include "server/req.h"
#include "store/store.h"

/* Maps a store result that the handler has no specific message for:
 * STORE_BUSY is 503 with Retry-After, anything else 500. Returns -1. */
int api_fail_store(struct req *rq, enum store_rc rc);

/* Checks that every query key is in allowed (NULL-terminated). Otherwise
 * fails 400 "Invalid query string parameters: ..." and returns -1. */
int api_check_query_keys(struct req *rq, const char *const allowed[]);

/* Fails 400 with Placement's schema-validation prefix
 * "JSON does not validate: <message>". Returns -1. */
int api_fail_schema(struct req *rq, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Validates doc against schema. Returns 0 when it is valid; otherwise
 * fails as api_fail_schema with jsonschema's message and returns -1. */
int api_validate(struct req *rq, const struct js_schema *schema, const json_t *doc);

/* Python's repr() of v (as js_repr: 'a', True, None, {'k': 1.0}) for a
 * message, copied into the request arena. */
const char *api_repr(struct req *rq, const json_t *v);

/* Sets the reply: status and body (steals reply; NULL for none). Returns 0. */
int api_reply(struct req *rq, int status, json_t *reply);

/* The Last-Modified time of a row, as Placement takes it: updated_at, or
 * created_at for a row never updated (updated_at 0). */
time_t api_modified(long long created_at, long long updated_at);

/* True when name matches ^CUSTOM_[A-Z0-9_]+$ (CUSTOM_RC_PATTERN and
 * CUSTOM_TRAIT_PATTERN of placement/schemas/common.py; a js_pattern
 * predicate). maxLength 255 is a separate schema keyword. */
bool api_custom_name_pattern(const char *name);

#endif
