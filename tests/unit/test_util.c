/* uuid normalisation, integer parsing, dates, the arena. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/body_buf.h"
#include "core/util.h"
#include "support.h"

START_TEST(uuid_forms_accepted_by_oslo_normalise)
{
    char out[37];
    ck_assert(uuid_normalize("C00000000000000000000000000000AB", out));
    ck_assert_str_eq(out, "c0000000-0000-0000-0000-0000000000ab");
    ck_assert(uuid_normalize("{c0000000-0000-0000-0000-0000000000ab}", out));
    ck_assert(uuid_normalize("urn:uuid:c0000000-0000-0000-0000-0000000000ab", out));
    ck_assert(!uuid_normalize("not-a-uuid", out));
    ck_assert(!uuid_normalize("c0000000-0000-0000-0000-0000000000abc", out));
    ck_assert(!uuid_normalize("", out));
}
END_TEST

START_TEST(generated_uuids_are_v4_and_distinct)
{
    char a[37], b[37], n[37];
    uuid4_generate(a);
    uuid4_generate(b);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(a[14], '4');
    ck_assert(uuid_normalize(a, n));
    ck_assert_str_eq(a, n);
}
END_TEST

START_TEST(parse_ll_rejects_junk)
{
    long long v;
    ck_assert(parse_ll("42", &v) && v == 42);
    ck_assert(parse_ll("-3", &v) && v == -3);
    ck_assert(!parse_ll("", &v));
    ck_assert(!parse_ll("4x", &v));
    ck_assert(!parse_ll(" 4", &v));
    ck_assert(!parse_ll("99999999999999999999", &v));
}
END_TEST

START_TEST(http_date_is_rfc1123)
{
    char d[30];
    http_date(0, d);
    ck_assert_str_eq(d, "Thu, 01 Jan 1970 00:00:00 GMT");
}
END_TEST

START_TEST(strptr_cmp_sorts_strings)
{
    const char *v[] = {"b", "a", "ab", ""};
    qsort(v, 4, sizeof(*v), strptr_cmp);
    ck_assert_str_eq(v[0], "");
    ck_assert_str_eq(v[1], "a");
    ck_assert_str_eq(v[2], "ab");
    ck_assert_str_eq(v[3], "b");
}
END_TEST

START_TEST(arena_grow_keeps_elements_and_doubles)
{
    struct arena a = {0};
    long long *v = NULL;
    size_t n = 0, cap = 0;
    for (long long i = 0; i < 100; i++) {
        long long *before = v;
        v = arena_grow(&a, v, n, &cap, sizeof(*v));
        ck_assert(n < cap);
        ck_assert(n == 0 || n == cap / 2 || v == before);
        v[n++] = i;
    }
    ck_assert_uint_eq(cap, 128);
    for (long long i = 0; i < 100; i++)
        ck_assert_int_eq(v[i], i);
    arena_free(&a);
}
END_TEST

/* The published FNV-1a 64 test vectors: "" and "a". */
START_TEST(fnv_constants_give_the_reference_hashes)
{
    uint64_t h = FNV64_OFFSET_BASIS;
    ck_assert(h == 0xcbf29ce484222325ull);
    h = (h ^ (unsigned char)'a') * FNV64_PRIME;
    ck_assert(h == 0xaf63dc4c8601ec8cull);
    ck_assert(fnv1a64(FNV64_OFFSET_BASIS, "", 0) == 0xcbf29ce484222325ull);
    ck_assert(fnv1a64(FNV64_OFFSET_BASIS, "a", 1) == 0xaf63dc4c8601ec8cull);
    ck_assert(fnv1a64(fnv1a64(FNV64_OFFSET_BASIS, "a", 1), "b", 1) ==
              fnv1a64(FNV64_OFFSET_BASIS, "ab", 2)); /* continues */
    ck_assert(FIBONACCI_HASH_MULT == 0x9e3779b97f4a7c15ull); /* 2^64 / 1.6180339887... */
}
END_TEST

/* The one FNV-1a of the tree (strmap, the Keystone token cache): the
 * published test vectors "", "a" and "foobar". */
START_TEST(str_hash64_is_fnv1a)
{
    ck_assert(str_hash64("") == 0xcbf29ce484222325ull);
    ck_assert(str_hash64("a") == 0xaf63dc4c8601ec8cull);
    ck_assert(str_hash64("foobar") == 0x85944171f73967e8ull);
}
END_TEST

START_TEST(body_buf_collects_up_to_max_then_refuses)
{
    struct body_buf b = {.max = 10};
    char abc[] = "abcdef", xyz[] = "xyzw", more[] = "q";
    ck_assert_uint_eq(body_buf_collect(abc, 1, 6, &b), 6);
    ck_assert_uint_eq(body_buf_collect(xyz, 2, 2, &b), 4); /* size * n bytes */
    ck_assert_str_eq(b.data, "abcdefxyzw");
    ck_assert_uint_eq(b.len, 10);
    ck_assert(!b.too_large);
    ck_assert_uint_eq(body_buf_collect(more, 1, 1, &b), 0); /* past max */
    ck_assert(b.too_large);
    ck_assert_str_eq(b.data, "abcdefxyzw");
    free(b.data);
    struct body_buf empty = {.max = 10};
    ck_assert_uint_eq(body_buf_collect(more, 1, 0, &empty), 0);
    ck_assert_str_eq(empty.data, ""); /* a body, if empty */
    free(empty.data);
}
END_TEST

START_TEST(arena_reset_keeps_only_the_newest_chunk_empty)
{
    struct arena a = {.chunk_size = 65536};
    char *first = arena_alloc(&a, 40000);
    memset(first, 1, 40000);
    char *second = arena_alloc(&a, 40000); /* does not fit: a second chunk */
    memset(second, 2, 40000);
    arena_reset(&a);
    ck_assert_ptr_nonnull(a.head);
    ck_assert_ptr_eq(arena_alloc(&a, 40000), second); /* the kept chunk, from its start */
    char *third = arena_alloc(&a, 30000);             /* 40000 + 30000 > 65536 */
    ck_assert(third < second || third >= second + 65536);
    arena_reset(&a);
    arena_reset(&a);
    ck_assert_ptr_nonnull(arena_alloc(&a, 1));
    arena_free(&a);
    ck_assert_ptr_null(a.head);
    arena_reset(&a); /* an empty arena: nothing to do */
    ck_assert_ptr_null(a.head);
}
END_TEST

START_TEST(arena_survives_many_and_large_allocations)
{
    struct arena a = {0};
    for (int i = 0; i < 1000; i++)
        memset(arena_alloc(&a, 100), 1, 100);
    char *big = arena_alloc(&a, 100000);
    memset(big, 2, 100000);
    ck_assert_str_eq(arena_printf(&a, "%d-%s", 7, "x"), "7-x");
    arena_free(&a);
    ck_assert_ptr_null(a.head);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("util");
    tcase_add_test(tc, uuid_forms_accepted_by_oslo_normalise);
    tcase_add_test(tc, generated_uuids_are_v4_and_distinct);
    tcase_add_test(tc, parse_ll_rejects_junk);
    tcase_add_test(tc, http_date_is_rfc1123);
    tcase_add_test(tc, arena_survives_many_and_large_allocations);
    tcase_add_test(tc, arena_reset_keeps_only_the_newest_chunk_empty);
    tcase_add_test(tc, strptr_cmp_sorts_strings);
    tcase_add_test(tc, fnv_constants_give_the_reference_hashes);
    tcase_add_test(tc, str_hash64_is_fnv1a);
    tcase_add_test(tc, arena_grow_keeps_elements_and_doubles);
    tcase_add_test(tc, body_buf_collects_up_to_max_then_refuses);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
