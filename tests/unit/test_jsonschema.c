/* api/jsonschema.c: Python repr() and jsonschema's choice and wording of
 * the reported error. */
#include <check.h>
#include <string.h>

#include "api/jsonschema.h"
#include "support.h"

static char *repr_of(const char *json)
{
    static char out[256];
    json_error_t err;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
    ck_assert_ptr_nonnull(v);
    js_repr(v, out, sizeof(out));
    json_decref(v);
    return out;
}

START_TEST(repr_follows_python)
{
    ck_assert_str_eq(repr_of("1.0"), "1.0");
    ck_assert_str_eq(repr_of("16.5"), "16.5");
    ck_assert_str_eq(repr_of("3.40282e+39"), "3.40282e+39");
    ck_assert_str_eq(repr_of("1e16"), "1e+16");
    ck_assert_str_eq(repr_of("0.0001"), "0.0001");
    ck_assert_str_eq(repr_of("0.00001"), "1e-05");
    ck_assert_str_eq(repr_of("-2"), "-2");
    ck_assert_str_eq(repr_of("\"it's\""), "\"it's\"");
    ck_assert_str_eq(repr_of("\"a\\nb\""), "'a\\nb'");
    ck_assert_str_eq(repr_of("{\"a\": [true, false, null], \"b\": {}}"),
                     "{'a': [True, False, None], 'b': {}}");
}
END_TEST

static const struct js_schema INT_MIN_1 = {
    .order = {JS_TYPE, JS_MINIMUM}, .types = {"integer"}, .minimum = 1};
static const struct js_schema NAME = {.order = {JS_TYPE, JS_PATTERN},
                                      .types = {"string"},
                                      .pattern = JS_RC_PATTERN};
static const struct js_property PROPS[] = {{"n", &INT_MIN_1}, {"name", &NAME}, {NULL, NULL}};
static const char *const REQUIRED[] = {"n", "name", NULL};
static const struct js_schema OBJ = {
    .order = {JS_TYPE, JS_PROPERTIES, JS_REQUIRED, JS_ADDITIONAL_PROPERTIES},
    .types = {"object"},
    .properties = PROPS,
    .required = REQUIRED};

static bool check(const char *json, char *msg, size_t size)
{
    json_error_t err;
    json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
    ck_assert_ptr_nonnull(v);
    bool ok = js_validate(&OBJ, v, msg, size);
    json_decref(v);
    return ok;
}

START_TEST(shallowest_error_wins_then_keyword_order)
{
    char msg[600];
    ck_assert(check("{\"n\": 2, \"name\": \"VCPU\"}", msg, sizeof(msg)));
    ck_assert_str_eq(msg, "");
    /* A deep error loses to a missing property at the top. */
    ck_assert(!check("{\"n\": 0}", msg, sizeof(msg)));
    ck_assert_msg(strncmp(msg, "'name' is a required property", 29) == 0, "%s", msg);
    ck_assert(!check("{\"n\": 0, \"name\": \"VCPU\"}", msg, sizeof(msg)));
    ck_assert_msg(strstr(msg, "0 is less than the minimum of 1\n\nFailed validating 'minimum' in "
                              "schema['properties']['n']:\n\nOn instance['n']:\n    0"),
                  "%s", msg);
    /* Among equally deep errors the first in schema order is reported. */
    ck_assert(!check("{\"x\": 1}", msg, sizeof(msg)));
    ck_assert_msg(strncmp(msg, "'n' is a required property", 26) == 0, "%s", msg);
    ck_assert(!check("{\"n\": 1, \"name\": \"x\", \"y\": 1, \"z\": 2}", msg, sizeof(msg)));
    ck_assert_msg(strncmp(msg, "Additional properties are not allowed ('y', 'z' were unexpected)",
                          64) == 0,
                  "%s", msg);
    ck_assert(!check("{\"n\": true, \"name\": \"VCPU\"}", msg, sizeof(msg)));
    ck_assert_msg(strncmp(msg, "True is not of type 'integer'", 29) == 0, "%s", msg);
    ck_assert(!check("[]", msg, sizeof(msg)));
    ck_assert_msg(strncmp(msg, "[] is not of type 'object'", 26) == 0, "%s", msg);
}
END_TEST

START_TEST(repr_of_a_byte_range_follows_python)
{
    char out[64];
    js_repr_string("1-xyz", 3, out, sizeof(out));
    ck_assert_str_eq(out, "'1-x'");
    js_repr_string("it's\t", 5, out, sizeof(out));
    ck_assert_str_eq(out, "\"it's\\t\"");
    js_repr_string("a\\b\x01", 4, out, sizeof(out));
    ck_assert_str_eq(out, "'a\\\\b\\x01'");
    js_repr_string("abcdef", 6, out, 4);
    ck_assert_str_eq(out, "'ab");
}
END_TEST

START_TEST(any_of_passes_on_one_alternative_and_fails_as_a_whole)
{
    static const struct js_schema str = {.order = {JS_TYPE, JS_FORMAT_UUID}, .types = {"string"}};
    static const struct js_schema null = {.order = {JS_TYPE}, .types = {"null"}};
    static const struct js_schema *const alts[] = {&str, &null, NULL};
    static const struct js_schema any = {.order = {JS_ANY_OF}, .any_of = alts};
    char msg[JS_MSG_SIZE];
    json_t *ok1 = json_string("00000000-0000-0000-0000-000000000001"), *ok2 = json_null();
    json_t *bad = json_string("x");
    ck_assert(js_validate(&any, ok1, msg, sizeof(msg)));
    ck_assert(js_validate(&any, ok2, msg, sizeof(msg)));
    ck_assert(!js_validate(&any, bad, msg, sizeof(msg)));
    ck_assert_msg(strstr(msg, "'x' is not valid under any of the given schemas") == msg, "%s", msg);
    ck_assert_msg(strstr(msg, "Failed validating 'anyOf'") != NULL, "%s", msg);
    json_decref(ok1);
    json_decref(ok2);
    json_decref(bad);
}
END_TEST

START_TEST(integral_reals_are_integers)
{
    json_t *v = json_real(5.0);
    long long out = 0;
    ck_assert(js_integer(v, &out));
    ck_assert_int_eq(out, 5);
    json_decref(v);
    v = json_real(5.5);
    ck_assert(!js_integer(v, &out));
    json_decref(v);
    ck_assert(js_match_group_1_33("a"));
    ck_assert(!js_match_group_1_33(""));
    ck_assert(js_match_consumer_type_get("allx"));
    ck_assert(!js_match_consumer_type_get("unknownx"));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("jsonschema");
    TCase *tc = tcase_create("jsonschema");
    tcase_add_test(tc, repr_follows_python);
    tcase_add_test(tc, shallowest_error_wins_then_keyword_order);
    tcase_add_test(tc, integral_reals_are_integers);
    tcase_add_test(tc, repr_of_a_byte_range_follows_python);
    tcase_add_test(tc, any_of_passes_on_one_alternative_and_fails_as_a_whole);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return test_run_suite(suite());
}
