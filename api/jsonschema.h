/* A small JSON Schema validator for Placement's request schemas
 * (the modules of placement/schemas), reporting the error Python's jsonschema would:
 * the same best error (the shallowest one, the first in schema keyword
 * order among equals, as jsonschema.best_match picks it) and the same
 * message ("'total' is a required property", "0 is less than the minimum
 * of 1", ... followed by "Failed validating 'minimum' in
 * schema['properties']['total']"). Clients and the gabbi tests grep these
 * strings, so they are reproduced verbatim; the pretty-printed schema that
 * jsonschema adds is left out.
 *
 * Schemas are static const data: a node lists its keywords in `order`, the
 * order of the upstream Python dict, because that order decides which of
 * several equally shallow errors is reported. */
#ifndef PLACID_API_JSONSCHEMA_H
#define PLACID_API_JSONSCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum js_keyword {
    JS_END = 0,
    JS_TYPE,
    JS_PROPERTIES,
    JS_REQUIRED,
    JS_ADDITIONAL_PROPERTIES, /* additionalProperties: false */
    JS_PATTERN_PROPERTIES,
    JS_MIN_PROPERTIES,
    JS_MIN_ITEMS,
    JS_ITEMS,
    JS_MINIMUM,
    JS_MAXIMUM,
    JS_MIN_LENGTH,
    JS_MAX_LENGTH,
    JS_PATTERN,
    JS_FORMAT_UUID, /* format: uuid, as oslo's is_uuid_like */
    JS_ANY_OF,      /* valid under one of any_of (reported as anyOf itself) */
};

struct js_schema;

struct js_property {
    const char *name;
    const struct js_schema *schema;
};

/* A regular expression as a C predicate; regex is its text for messages.
 * match has Python's re.search semantics for that regex. */
struct js_pattern {
    const char *regex;
    bool (*match)(const char *s);
};

struct js_pattern_property {
    struct js_pattern pattern;
    const struct js_schema *schema;
};

struct js_schema {
    enum js_keyword order[12]; /* keywords in upstream's order, JS_END-terminated */
    const char *types[3];      /* "object", "integer", "null", ...: any of them */
    const struct js_property *properties;                /* {NULL}-terminated */
    const char *const *required;                         /* NULL-terminated */
    const struct js_pattern_property *pattern_properties; /* {{NULL}}-terminated */
    long long min_properties, min_items, min_length, max_length;
    double minimum, maximum;
    bool float_bounds; /* print minimum/maximum as Python floats */
    struct js_pattern pattern;
    const struct js_schema *items;
    const struct js_schema *const *any_of; /* NULL-terminated */
};

/* Room for any message js_validate writes (jsonschema's text, quoting the
 * instance, truncated to fit). */
#define JS_MSG_SIZE 900

/* Validates instance against schema. Returns true when it is valid;
 * otherwise false with jsonschema's text for the best error in msg
 * (always NUL-terminated, truncated to size). */
bool js_validate(const struct js_schema *schema, const json_t *instance, char *msg, size_t size);

/* Writes Python's repr() of a JSON value ({'a': 1}, 'x', True, None, 1.0)
 * into out (truncated to size). */
void js_repr(const json_t *value, char *out, size_t size);

/* Writes Python's repr() of the str made of the n bytes at s ('a', "it's",
 * 'tab\\t') into out (truncated to size). */
void js_repr_string(const char *s, size_t n, char *out, size_t size);

/* The patterns of placement/schemas/common.py, as initializers of a
 * struct js_pattern, and their predicates. */
bool js_match_rc(const char *s);            /* ^[A-Z0-9_]+$ */
bool js_match_uuid_key(const char *s);      /* ^[0-9a-fA-F-]{36}$ */
bool js_match_group_1_33(const char *s);    /* [a-zA-Z0-9_-]{1,64} (a search) */
bool js_match_consumer_type_get(const char *s); /* ^[A-Z0-9_]+$|^all|^unknown$ */
#define JS_RC_PATTERN                {"^[A-Z0-9_]+$", js_match_rc}
#define JS_UUID_PATTERN              {"^[0-9a-fA-F-]{36}$", js_match_uuid_key}
#define JS_GROUP_PATTERN_1_33        {"[a-zA-Z0-9_-]{1,64}", js_match_group_1_33}
#define JS_CONSUMER_TYPE_GET_PATTERN {"^[A-Z0-9_]+$|^all|^unknown$", js_match_consumer_type_get}

/* jsonschema's idea of an integer: a JSON integer, or a real with no
 * fraction (5.0, 1e20). *out receives the value, saturated to the range of
 * long long. */
bool js_integer(const json_t *value, long long *out);

#endif
