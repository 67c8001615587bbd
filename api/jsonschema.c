#include "api/jsonschema.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* ---- Python repr() ---- */

/* A bounded string builder: appends never overflow, the text stays
 * NUL-terminated. */
struct sbuf {
    char *buf;
    size_t size, len;
};

static void sb_puts(struct sbuf *sb, const char *s)
{
    while (*s && sb->len + 1 < sb->size)
        sb->buf[sb->len++] = *s++;
    sb->buf[sb->len] = '\0';
}

static void sb_printf(struct sbuf *sb, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    sb_puts(sb, tmp);
}

/* repr(float): the shortest digits that read back the same number, in
 * fixed notation for exponents -4..15 and scientific notation otherwise. */
static void repr_float(struct sbuf *sb, double d)
{
    if (isnan(d) || isinf(d)) {
        sb_puts(sb, isnan(d) ? "nan" : d < 0 ? "-inf" : "inf");
        return;
    }
    char sci[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(sci, sizeof(sci), "%.*e", prec - 1, d);
        if (strtod(sci, NULL) == d)
            break;
    }
    /* sci is [-]D[.DDD]e[+-]XX: split it into digits and exponent. */
    char digits[24] = "";
    const char *p = sci;
    bool negative = *p == '-';
    if (negative)
        p++;
    size_t nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p != '.')
            digits[nd++] = *p;
    digits[nd] = '\0';
    int exp = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (negative)
        sb_puts(sb, "-");
    if (exp < -4 || exp >= 16) {
        sb_printf(sb, "%c%s%s", digits[0], nd > 1 ? "." : "", digits + 1);
        sb_printf(sb, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
    } else if (exp < 0) {
        sb_puts(sb, "0.");
        for (int i = -1; i > exp; i--)
            sb_puts(sb, "0");
        sb_puts(sb, digits);
    } else {
        for (int i = 0; i <= exp; i++) {
            char c[2] = {i < (int)nd ? digits[i] : '0', '\0'};
            sb_puts(sb, c);
        }
        sb_puts(sb, ".");
        sb_puts(sb, (int)nd > exp + 1 ? digits + exp + 1 : "0");
    }
}

/* repr(str) of the n bytes at s: single quotes unless the text holds a
 * single quote and no double quote. */
static void repr_stringn(struct sbuf *sb, const char *s, size_t n)
{
    char quote = memchr(s, '\'', n) && !memchr(s, '"', n) ? '"' : '\'';
    char q[2] = {quote, '\0'};
    sb_puts(sb, q);
    for (const unsigned char *p = (const unsigned char *)s; p < (const unsigned char *)s + n; p++) {
        if (*p == '\\' || *p == (unsigned char)quote)
            sb_printf(sb, "\\%c", *p);
        else if (*p == '\n')
            sb_puts(sb, "\\n");
        else if (*p == '\r')
            sb_puts(sb, "\\r");
        else if (*p == '\t')
            sb_puts(sb, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            sb_printf(sb, "\\x%02x", *p);
        else {
            char c[2] = {(char)*p, '\0'};
            sb_puts(sb, c);
        }
    }
    sb_puts(sb, q);
}

static void repr_string(struct sbuf *sb, const char *s)
{
    repr_stringn(sb, s, strlen(s));
}

static void repr_value(struct sbuf *sb, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        json_t *item;
        bool first = true;
        sb_puts(sb, "{");
        json_object_foreach((json_t *)v, key, item) {
            sb_puts(sb, first ? "" : ", ");
            first = false;
            repr_string(sb, key);
            sb_puts(sb, ": ");
            repr_value(sb, item);
        }
        sb_puts(sb, "}");
        break;
    }
    case JSON_ARRAY:
        sb_puts(sb, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            sb_puts(sb, i ? ", " : "");
            repr_value(sb, json_array_get(v, i));
        }
        sb_puts(sb, "]");
        break;
    case JSON_STRING:
        repr_string(sb, json_string_value(v));
        break;
    case JSON_INTEGER:
        sb_printf(sb, "%lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        repr_float(sb, json_real_value(v));
        break;
    case JSON_TRUE:
        sb_puts(sb, "True");
        break;
    case JSON_FALSE:
        sb_puts(sb, "False");
        break;
    case JSON_NULL:
        sb_puts(sb, "None");
        break;
    }
}

void js_repr(const json_t *value, char *out, size_t size)
{
    struct sbuf sb = {out, size, 0};
    if (size)
        out[0] = '\0';
    repr_value(&sb, value);
}

void js_repr_string(const char *s, size_t n, char *out, size_t size)
{
    struct sbuf sb = {out, size, 0};
    if (size)
        out[0] = '\0';
    repr_stringn(&sb, s, n);
}

/* ---- Patterns ---- */

bool js_match_rc(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

bool js_match_uuid_key(const char *s)
{
    return uuid_key_like(s);
}

bool js_match_group_1_33(const char *s)
{
    for (; *s; s++)
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            *s == '_' || *s == '-')
            return true;
    return false;
}

bool js_match_consumer_type_get(const char *s)
{
    return js_match_rc(s) || strncmp(s, "all", 3) == 0 || strcmp(s, "unknown") == 0;
}

/* ---- Validation ---- */

#define JS_MAX_DEPTH 16

struct js_ctx {
    const char *spath[2 * JS_MAX_DEPTH + 2]; /* schema path segments */
    int sdepth;
    struct {
        const char *key; /* NULL: an array index */
        size_t index;
    } ipath[JS_MAX_DEPTH + 1];
    int idepth;
    bool failed;
    int best_depth;
    char *msg;
    size_t size;
};

static const char *keyword_name(enum js_keyword kw)
{
    static const char *const names[] = {
        [JS_TYPE] = "type",
        [JS_PROPERTIES] = "properties",
        [JS_REQUIRED] = "required",
        [JS_ADDITIONAL_PROPERTIES] = "additionalProperties",
        [JS_PATTERN_PROPERTIES] = "patternProperties",
        [JS_MIN_PROPERTIES] = "minProperties",
        [JS_MIN_ITEMS] = "minItems",
        [JS_ITEMS] = "items",
        [JS_MINIMUM] = "minimum",
        [JS_MAXIMUM] = "maximum",
        [JS_MIN_LENGTH] = "minLength",
        [JS_MAX_LENGTH] = "maxLength",
        [JS_PATTERN] = "pattern",
        [JS_FORMAT_UUID] = "format",
        [JS_ANY_OF] = "anyOf",
    };
    return names[kw] ? names[kw] : "?";
}

/* Records an error at the current instance depth unless an equally shallow
 * or shallower one was recorded before (best_match keeps the first). */
static void js_error(struct js_ctx *ctx, enum js_keyword kw, const json_t *instance,
                     const char *fmt, ...) PRINTF_LIKE(4, 5);
static void js_error(struct js_ctx *ctx, enum js_keyword kw, const json_t *instance,
                     const char *fmt, ...)
{
    if (ctx->failed && ctx->idepth >= ctx->best_depth)
        return;
    ctx->failed = true;
    ctx->best_depth = ctx->idepth;
    struct sbuf sb = {ctx->msg, ctx->size, 0};
    char text[JS_MSG_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sb_puts(&sb, text);
    sb_printf(&sb, "\n\nFailed validating '%s' in schema", keyword_name(kw));
    for (int i = 0; i < ctx->sdepth; i++) {
        sb_puts(&sb, "[");
        repr_string(&sb, ctx->spath[i]);
        sb_puts(&sb, "]");
    }
    sb_puts(&sb, ":\n\nOn instance");
    for (int i = 0; i < ctx->idepth; i++) {
        sb_puts(&sb, "[");
        if (ctx->ipath[i].key)
            repr_string(&sb, ctx->ipath[i].key);
        else
            sb_printf(&sb, "%zu", ctx->ipath[i].index);
        sb_puts(&sb, "]");
    }
    sb_puts(&sb, ":\n    ");
    repr_value(&sb, instance);
}

bool js_integer(const json_t *value, long long *out)
{
    if (json_is_integer(value)) {
        *out = (long long)json_integer_value(value);
        return true;
    }
    if (json_is_real(value)) {
        /* Any integral real is an integer to jsonschema (1e20 too: it then
         * fails "maximum", not "type"). Past the range of long long it
         * saturates, so no bound can be passed by a wrap-around. */
        double d = json_real_value(value);
        if (d != floor(d))
            return false;
        *out = d >= 0x1p63 ? LLONG_MAX : d < -0x1p63 ? LLONG_MIN : (long long)d;
        return true;
    }
    return false;
}

static bool type_matches(const char *type, const json_t *v)
{
    long long ignored;
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "integer") == 0)
        return js_integer(v, &ignored);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "null") == 0)
        return json_is_null(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    return false;
}

static void check_type(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    char list[128] = "";
    for (int i = 0; i < 3 && s->types[i]; i++) {
        if (type_matches(s->types[i], v))
            return;
        size_t len = strlen(list);
        snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "", s->types[i]);
    }
    if (s->types[0]) {
        char r[256];
        js_repr(v, r, sizeof(r));
        js_error(ctx, JS_TYPE, v, "%s is not of type %s", r, list);
    }
}

static void validate_node(struct js_ctx *ctx, const struct js_schema *s, const json_t *v);

static void descend(struct js_ctx *ctx, const struct js_schema *s, const json_t *v,
                    const char *s1, const char *s2, const char *key, size_t index)
{
    if (ctx->idepth >= JS_MAX_DEPTH)
        return;
    ctx->spath[ctx->sdepth++] = s1;
    if (s2)
        ctx->spath[ctx->sdepth++] = s2;
    ctx->ipath[ctx->idepth].key = key;
    ctx->ipath[ctx->idepth].index = index;
    ctx->idepth++;
    validate_node(ctx, s, v);
    ctx->idepth--;
    ctx->sdepth -= s2 ? 2 : 1;
}

static void check_properties(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    if (!json_is_object(v) || !s->properties)
        return;
    for (const struct js_property *p = s->properties; p->name; p++) {
        const json_t *item = json_object_get(v, p->name);
        if (item)
            descend(ctx, p->schema, item, "properties", p->name, p->name, 0);
    }
}

static void check_required(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    if (!json_is_object(v) || !s->required)
        return;
    for (const char *const *r = s->required; *r; r++)
        if (!json_object_get(v, *r))
            js_error(ctx, JS_REQUIRED, v, "'%s' is a required property", *r);
}

static bool is_declared(const struct js_schema *s, const char *key)
{
    for (const struct js_property *p = s->properties; p && p->name; p++)
        if (strcmp(p->name, key) == 0)
            return true;
    for (const struct js_pattern_property *pp = s->pattern_properties; pp && pp->pattern.regex;
         pp++)
        if (pp->pattern.match(key))
            return true;
    return false;
}

static void check_additional(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    if (!json_is_object(v))
        return;
    size_t n = 0, cap = json_object_size(v);
    const char **extras = xmalloc((cap ? cap : 1) * sizeof(*extras));
    const char *key;
    json_t *item;
    json_object_foreach((json_t *)v, key, item) {
        if (!is_declared(s, key))
            extras[n++] = key;
    }
    if (n) {
        char list[600] = "";
        struct sbuf sb = {list, sizeof(list), 0};
        bool patterns = s->pattern_properties && s->pattern_properties[0].pattern.regex;
        if (patterns)
            qsort(extras, n, sizeof(*extras), strptr_cmp);
        for (size_t i = 0; i < n; i++) {
            sb_puts(&sb, i ? ", " : "");
            repr_string(&sb, extras[i]);
        }
        if (patterns) {
            char regexes[300] = "";
            struct sbuf rb = {regexes, sizeof(regexes), 0};
            for (const struct js_pattern_property *pp = s->pattern_properties;
                 pp->pattern.regex; pp++) {
                if (rb.len)
                    sb_puts(&rb, ", ");
                repr_string(&rb, pp->pattern.regex);
            }
            js_error(ctx, JS_ADDITIONAL_PROPERTIES, v, "%s %s not match any of the regexes: %s",
                     list, n == 1 ? "does" : "do", regexes);
        } else {
            js_error(ctx, JS_ADDITIONAL_PROPERTIES, v,
                     "Additional properties are not allowed (%s %s unexpected)", list,
                     n == 1 ? "was" : "were");
        }
    }
    free(extras);
}

static void check_pattern_properties(struct js_ctx *ctx, const struct js_schema *s,
                                     const json_t *v)
{
    if (!json_is_object(v) || !s->pattern_properties)
        return;
    for (const struct js_pattern_property *pp = s->pattern_properties; pp->pattern.regex; pp++) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item) {
            if (pp->pattern.match(key))
                descend(ctx, pp->schema, item, "patternProperties", pp->pattern.regex, key, 0);
        }
    }
}

static void check_items(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    if (!json_is_array(v) || !s->items)
        return;
    for (size_t i = 0; i < json_array_size(v); i++)
        descend(ctx, s->items, json_array_get(v, i), "items", NULL, NULL, i);
}

static void bound_repr(const struct js_schema *s, double bound, char *out, size_t size)
{
    if (s->float_bounds) {
        struct sbuf sb = {out, size, 0};
        repr_float(&sb, bound);
    } else {
        snprintf(out, size, "%lld", (long long)bound);
    }
}

static void check_bound(struct js_ctx *ctx, const struct js_schema *s, const json_t *v,
                        enum js_keyword kw)
{
    if (!json_is_number(v))
        return;
    double d = json_number_value(v);
    bool bad = kw == JS_MINIMUM ? d < s->minimum : d > s->maximum;
    if (json_is_integer(v)) {
        long long i = (long long)json_integer_value(v);
        bad = kw == JS_MINIMUM ? (double)i < s->minimum : (double)i > s->maximum;
    }
    if (!bad)
        return;
    char r[64], b[64];
    js_repr(v, r, sizeof(r));
    bound_repr(s, kw == JS_MINIMUM ? s->minimum : s->maximum, b, sizeof(b));
    js_error(ctx, kw, v, kw == JS_MINIMUM ? "%s is less than the minimum of %s"
                                          : "%s is greater than the maximum of %s",
             r, b);
}

/* Length in characters (code points), as Python counts it. */
static long long utf8_length(const char *s)
{
    long long n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void check_string(struct js_ctx *ctx, const struct js_schema *s, const json_t *v,
                         enum js_keyword kw)
{
    if (!json_is_string(v))
        return;
    const char *str = json_string_value(v);
    bool bad = false;
    const char *what = "";
    switch (kw) {
    case JS_MIN_LENGTH:
        bad = utf8_length(str) < s->min_length;
        what = "is too short";
        break;
    case JS_MAX_LENGTH:
        bad = utf8_length(str) > s->max_length;
        what = "is too long";
        break;
    case JS_PATTERN:
        bad = !s->pattern.match(str);
        what = "does not match";
        break;
    default: {
        char canonical[37];
        bad = !uuid_normalize(str, canonical);
        what = "is not a 'uuid'";
        break;
    }
    }
    if (!bad)
        return;
    char r[600], p[300] = "";
    js_repr(v, r, sizeof(r));
    if (kw == JS_PATTERN) {
        struct sbuf sb = {p, sizeof(p), 0};
        sb_puts(&sb, " ");
        repr_string(&sb, s->pattern.regex);
    }
    js_error(ctx, kw, v, "%s %s%s", r, what, p);
}

/* anyOf: the error is on anyOf itself, as best_match reports it when the
 * alternatives fail equally deep (as they do for Placement's schemas). */
static void check_any_of(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    char scratch[8];
    for (const struct js_schema *const *alt = s->any_of; alt && *alt; alt++)
        if (js_validate(*alt, v, scratch, sizeof(scratch)))
            return;
    char r[600];
    js_repr(v, r, sizeof(r));
    js_error(ctx, JS_ANY_OF, v, "%s is not valid under any of the given schemas", r);
}

static void validate_node(struct js_ctx *ctx, const struct js_schema *s, const json_t *v)
{
    char r[600];
    for (size_t k = 0; k < sizeof(s->order) / sizeof(s->order[0]) && s->order[k]; k++) {
        switch (s->order[k]) {
        case JS_TYPE:
            check_type(ctx, s, v);
            break;
        case JS_PROPERTIES:
            check_properties(ctx, s, v);
            break;
        case JS_REQUIRED:
            check_required(ctx, s, v);
            break;
        case JS_ADDITIONAL_PROPERTIES:
            check_additional(ctx, s, v);
            break;
        case JS_PATTERN_PROPERTIES:
            check_pattern_properties(ctx, s, v);
            break;
        case JS_MIN_PROPERTIES:
            if (json_is_object(v) && (long long)json_object_size(v) < s->min_properties) {
                js_repr(v, r, sizeof(r));
                js_error(ctx, JS_MIN_PROPERTIES, v, "%s does not have enough properties", r);
            }
            break;
        case JS_MIN_ITEMS:
            if (json_is_array(v) && (long long)json_array_size(v) < s->min_items) {
                js_repr(v, r, sizeof(r));
                js_error(ctx, JS_MIN_ITEMS, v, "%s is too short", r);
            }
            break;
        case JS_ITEMS:
            check_items(ctx, s, v);
            break;
        case JS_MINIMUM:
        case JS_MAXIMUM:
            check_bound(ctx, s, v, s->order[k]);
            break;
        case JS_MIN_LENGTH:
        case JS_MAX_LENGTH:
        case JS_PATTERN:
        case JS_FORMAT_UUID:
            check_string(ctx, s, v, s->order[k]);
            break;
        case JS_ANY_OF:
            check_any_of(ctx, s, v);
            break;
        case JS_END:
            return;
        }
    }
}

bool js_validate(const struct js_schema *schema, const json_t *instance, char *msg, size_t size)
{
    struct js_ctx ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.msg = msg;
    ctx.size = size;
    if (size)
        msg[0] = '\0';
    validate_node(&ctx, schema, instance);
    return !ctx.failed;
}
