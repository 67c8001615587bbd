/* store/traits.c: custom traits, filters, name resolution, provider sets. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "support.h"

static char path[96];
static struct store *st;

static void setup(void)
{
    st = test_store_open(path);
    /* Two providers: ids 1 and 2, generation 0. */
    test_sql_file(path, "INSERT INTO providers(id, uuid, name, root_id, created_at) VALUES"
                        " (1, 'u1', 'rp1', 1, 0), (2, 'u2', 'rp2', 2, 0)");
}

static void teardown(void)
{
    test_store_close(st, path);
}

struct seen {
    char names[512][256];
    size_t n;
};

static int collect(void *arg, const struct trait *row)
{
    struct seen *s = arg;
    ck_assert_uint_lt(s->n, 512);
    strcpy(s->names[s->n++], row->name);
    return 0;
}

static long long ensure(const char *name)
{
    struct trait row;
    bool created;
    ck_assert_int_eq(store_trait_ensure(st, name, &row, &created), STORE_OK);
    ck_assert_str_eq(row.name, name);
    return row.id;
}

static long long generation(long long id)
{
    char uuid[8];
    struct provider_ref ref;
    snprintf(uuid, sizeof(uuid), "u%lld", id);
    ck_assert_int_eq(store_provider_ref(st, uuid, &ref), STORE_OK);
    return ref.generation;
}

static struct seen *provider_traits(long long id)
{
    static struct seen s;
    char uuid[8];
    struct provider_ref ref;
    s.n = 0;
    snprintf(uuid, sizeof(uuid), "u%lld", id);
    ck_assert_int_eq(store_provider_traits_list(st, uuid, &ref, collect, &s), STORE_OK);
    ck_assert_int_eq(ref.id, id);
    return &s;
}

START_TEST(ensure_creates_once_and_keeps_created_at)
{
    struct trait a, b;
    bool created = false;
    ck_assert_int_eq(store_trait_ensure(st, "CUSTOM_X", &a, &created), STORE_OK);
    ck_assert(created);
    ck_assert_int_gt(a.id, 0);
    ck_assert_int_eq(store_trait_ensure(st, "CUSTOM_X", &b, &created), STORE_OK);
    ck_assert(!created);
    ck_assert_int_eq(b.id, a.id);
    ck_assert_int_eq(b.created_at, a.created_at);
    ck_assert_int_eq(store_trait_get(st, "CUSTOM_X", &b), STORE_OK);
    ck_assert_int_eq(store_trait_get(st, "CUSTOM_Y", &b), STORE_NOT_FOUND);
}
END_TEST

START_TEST(delete_checks_existence_then_standard_then_use)
{
    long long id = ensure("CUSTOM_X");
    ck_assert_int_eq(store_trait_delete(st, "CUSTOM_NOPE"), STORE_NOT_FOUND);
    ck_assert_int_eq(store_trait_delete(st, "HW_CPU_X86_SSE"), STORE_INVALID);
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, &id, 1, NULL), STORE_OK);
    ck_assert_int_eq(store_trait_delete(st, "CUSTOM_X"), STORE_IN_USE);
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 1, NULL, 0, NULL), STORE_OK);
    ck_assert_int_eq(store_trait_delete(st, "CUSTOM_X"), STORE_OK);
    ck_assert_int_eq(store_trait_delete(st, "CUSTOM_X"), STORE_NOT_FOUND);
}
END_TEST

START_TEST(list_without_filters_is_every_trait_sorted)
{
    struct seen *s = malloc(sizeof(*s));
    s->n = 0;
    ensure("CUSTOM_A");
    ck_assert_int_eq(store_traits_list(st, NULL, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 378);
    for (size_t i = 1; i < s->n; i++)
        ck_assert_int_lt(strcmp(s->names[i - 1], s->names[i]), 0);
    free(s);
}
END_TEST

START_TEST(list_by_names_returns_each_existing_name_once)
{
    struct seen *s = calloc(1, sizeof(*s));
    const char *names[] = {"CUSTOM_B", "NOPE", "CUSTOM_A", "CUSTOM_B", "we\"ird\\"};
    struct trait_filter f = {.names = names, .n_names = 5, .associated = -1};
    ensure("CUSTOM_A");
    ensure("CUSTOM_B");
    ensure("CUSTOM_C");
    ck_assert_int_eq(store_traits_list(st, &f, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_A");
    ck_assert_str_eq(s->names[1], "CUSTOM_B");
    free(s);
}
END_TEST

START_TEST(list_by_prefix_is_case_insensitive_with_literal_underscore)
{
    struct seen *s = calloc(1, sizeof(*s));
    struct trait_filter f = {.prefix = "custom_t_", .associated = -1};
    ensure("CUSTOM_T_1");
    ensure("CUSTOM_TX"); /* '_' would match 'X' as a LIKE wildcard */
    ensure("CUSTOM_T_2");
    ck_assert_int_eq(store_traits_list(st, &f, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_T_1");
    ck_assert_str_eq(s->names[1], "CUSTOM_T_2");
    free(s);
}
END_TEST

START_TEST(list_by_association)
{
    struct seen *s = calloc(1, sizeof(*s));
    long long ids[2] = {ensure("CUSTOM_A"), ensure("CUSTOM_B")};
    ensure("CUSTOM_C");
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, &ids[0], 1, NULL), STORE_OK);
    ck_assert_int_eq(store_provider_traits_replace(st, 2, 0, ids, 2, NULL), STORE_OK);

    struct trait_filter used = {.associated = 1};
    ck_assert_int_eq(store_traits_list(st, &used, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_A");
    ck_assert_str_eq(s->names[1], "CUSTOM_B");

    struct trait_filter unused = {.prefix = "CUSTOM_", .associated = 0};
    s->n = 0;
    ck_assert_int_eq(store_traits_list(st, &unused, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 1);
    ck_assert_str_eq(s->names[0], "CUSTOM_C");
    free(s);
}
END_TEST

START_TEST(resolve_maps_names_to_ids_and_marks_the_missing)
{
    long long a = ensure("CUSTOM_A"), sse, ids[5];
    ck_assert_int_eq(store_trait_id(st, "HW_CPU_X86_SSE", &sse), STORE_OK);
    const char *names[] = {"CUSTOM_A", "HW_CPU_X86_SSE", "CUSTOM_A"};
    const char *missing = NULL;
    ck_assert_int_eq(store_traits_resolve(st, names, 3, ids, &missing), STORE_OK);
    ck_assert_int_eq(ids[0], a);
    ck_assert_int_eq(ids[1], sse);
    ck_assert_int_eq(ids[2], a);
    ck_assert_ptr_null(missing);

    const char *bad[] = {"CUSTOM_A", "NO\"PE", "ALSO_NO", "HW_CPU_X86_SSE"};
    ck_assert_int_eq(store_traits_resolve(st, bad, 4, ids, &missing), STORE_NOT_FOUND);
    ck_assert_ptr_eq(missing, bad[1]);
    ck_assert_int_eq(ids[0], a);
    ck_assert_int_eq(ids[1], 0);
    ck_assert_int_eq(ids[2], 0);
    ck_assert_int_eq(ids[3], sse);
    ck_assert_int_eq(store_traits_resolve(st, bad, 0, ids, NULL), STORE_OK);
}
END_TEST

START_TEST(replace_bumps_the_generation_only_when_the_set_changes)
{
    long long a = ensure("CUSTOM_A"), b = ensure("CUSTOM_B"), gen = -1;
    long long ab[] = {b, a, b};
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, ab, 3, &gen), STORE_OK);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(generation(1), 1);
    struct seen *s = provider_traits(1);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_A");
    ck_assert_str_eq(s->names[1], "CUSTOM_B");

    /* The same set again: no change, no bump. */
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 1, ab, 2, &gen), STORE_OK);
    ck_assert_int_eq(gen, 1);
    ck_assert_int_eq(generation(1), 1);

    /* A different set: one removed. */
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 1, &a, 1, &gen), STORE_OK);
    ck_assert_int_eq(gen, 2);
    ck_assert_uint_eq(provider_traits(1)->n, 1);
    ck_assert_uint_eq(provider_traits(2)->n, 0); /* the other provider untouched */
}
END_TEST

START_TEST(replace_with_a_stale_generation_is_a_conflict_and_changes_nothing)
{
    long long a = ensure("CUSTOM_A");
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 7, &a, 1, NULL), STORE_CONFLICT);
    ck_assert_int_eq(generation(1), 0);
    ck_assert_uint_eq(provider_traits(1)->n, 0);
    /* Even an unchanged set needs the right generation. */
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 7, NULL, 0, NULL), STORE_CONFLICT);
}
END_TEST

START_TEST(clearing_bumps_only_a_provider_that_had_traits)
{
    long long a = ensure("CUSTOM_A"), gen;
    ck_assert_int_eq(store_provider_traits_replace(st, 2, 0, NULL, 0, &gen), STORE_OK);
    ck_assert_int_eq(gen, 0);
    ck_assert_int_eq(store_provider_traits_replace(st, 2, 0, &a, 1, &gen), STORE_OK);
    ck_assert_int_eq(store_provider_traits_replace(st, 2, 1, NULL, 0, &gen), STORE_OK);
    ck_assert_int_eq(gen, 2);
    ck_assert_int_eq(generation(2), 2);
    ck_assert_uint_eq(provider_traits(2)->n, 0);
}
END_TEST

START_TEST(replace_refuses_unknown_providers_and_trait_ids)
{
    long long a = ensure("CUSTOM_A");
    long long ids[] = {a, 999999};
    ck_assert_int_eq(store_provider_traits_replace(st, 42, 0, &a, 1, NULL), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, ids, 2, NULL), STORE_INVALID);
    ck_assert_int_eq(generation(1), 0);
    ck_assert_uint_eq(provider_traits(1)->n, 0); /* rolled back: CUSTOM_A not kept */
}
END_TEST

/* Lists sort names by their bytes (SQLite's BINARY), whatever the collation
 * of a PostgreSQL database: under en-US "CUSTOM_A_B" would come before
 * "CUSTOM_AB". */
START_TEST(trait_lists_sort_names_by_their_bytes)
{
    long long ids[] = {ensure("CUSTOM_A_B"), ensure("CUSTOM_AB")};
    struct seen *s = calloc(1, sizeof(*s));
    struct trait_filter f = {.prefix = "CUSTOM_A", .associated = -1};
    ck_assert_int_eq(store_traits_list(st, &f, collect, s), STORE_OK);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_AB");
    ck_assert_str_eq(s->names[1], "CUSTOM_A_B");
    free(s);
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, ids, 2, NULL), STORE_OK);
    s = provider_traits(1);
    ck_assert_uint_eq(s->n, 2);
    ck_assert_str_eq(s->names[0], "CUSTOM_AB");
    ck_assert_str_eq(s->names[1], "CUSTOM_A_B");
}
END_TEST

/* ---- The units of work of /resource_providers/{uuid}/traits ---- */

static int collect_in_transaction(void *arg, const struct trait *row)
{
    ck_assert_msg(test_in_transaction(st), "rows must come from the unit's snapshot");
    return collect(arg, row);
}

START_TEST(traits_list_reads_the_provider_and_its_set_in_one_transaction)
{
    long long a = ensure("CUSTOM_A");
    struct seen *s = calloc(1, sizeof(*s));
    struct provider_ref ref = {.id = -1};
    ck_assert_int_eq(store_provider_traits_replace(st, 2, 0, &a, 1, NULL), STORE_OK);
    ck_assert_int_eq(store_provider_traits_list(st, "u2", &ref, collect_in_transaction, s),
                     STORE_OK);
    ck_assert_int_eq(ref.generation, 1);
    ck_assert_uint_eq(s->n, 1);
    ck_assert(!test_in_transaction(st)); /* and it is over */
    ck_assert_int_eq(store_provider_traits_list(st, "nope", &ref, collect, s), STORE_NOT_FOUND);
    ck_assert_int_eq(ref.id, 0);
    ck_assert_uint_eq(s->n, 1);
    ck_assert(!test_in_transaction(st));
    free(s);
}
END_TEST

START_TEST(traits_set_checks_provider_then_generation_then_names)
{
    ensure("CUSTOM_A");
    const char *names[] = {"CUSTOM_A", "CUSTOM_NOPE", "ALSO_NOPE"};
    long long ids[3], gen = -1;
    ck_assert_int_eq(store_provider_traits_set(st, "nope", 5, names, 3, ids, &gen, NULL, NULL),
                     STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_traits_set(st, "u1", 5, names, 3, ids, &gen, NULL, NULL),
                     STORE_CONFLICT);
    ck_assert_int_eq(store_provider_traits_set(st, "u1", -1, names, 3, ids, &gen, NULL, NULL),
                     STORE_CONFLICT);
    ck_assert_int_eq(store_provider_traits_set(st, "u1", 0, names, 3, ids, &gen, NULL, NULL),
                     STORE_INVALID);
    ck_assert_int_gt(ids[0], 0);
    ck_assert_int_eq(ids[1], 0);
    ck_assert_int_eq(ids[2], 0);
    ck_assert_int_eq(gen, -1);
    ck_assert_int_eq(generation(1), 0);

    struct seen *s = calloc(1, sizeof(*s));
    ck_assert_int_eq(store_provider_traits_set(st, "u1", 0, names, 1, ids, &gen, collect, s),
                     STORE_OK);
    ck_assert_int_eq(gen, 1);
    ck_assert_uint_eq(s->n, 1);
    ck_assert_str_eq(s->names[0], "CUSTOM_A");
    ck_assert(!test_in_transaction(st));
    free(s);
}
END_TEST

/* The last step of PUT (listing the new set) fails on a name written
 * behind the API's back that no row buffer holds: the replacement and the
 * generation bump before it must be undone too. */
START_TEST(traits_set_is_all_or_nothing_when_a_later_step_fails)
{
    char sql[512], name[300];
    memset(name, 'X', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(sql, sizeof(sql), "INSERT INTO traits(name, created_at) VALUES ('%s', 0)", name);
    test_sql_file(path, sql);
    ensure("CUSTOM_A");
    const char *names[] = {"CUSTOM_A", name};
    long long ids[2], gen = -1;
    struct seen *s = calloc(1, sizeof(*s));
    ck_assert_int_eq(store_provider_traits_set(st, "u1", 0, names, 2, ids, &gen, collect, s),
                     STORE_ERROR);
    ck_assert_int_eq(generation(1), 0);
    ck_assert_uint_eq(provider_traits(1)->n, 0);
    ck_assert(!test_in_transaction(st));
    free(s);
}
END_TEST

START_TEST(traits_clear_empties_the_set_without_a_generation)
{
    long long a = ensure("CUSTOM_A");
    ck_assert_int_eq(store_provider_traits_clear(st, "nope"), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_traits_clear(st, "u1"), STORE_OK);
    ck_assert_int_eq(generation(1), 0); /* nothing to clear: no bump */
    ck_assert_int_eq(store_provider_traits_replace(st, 1, 0, &a, 1, NULL), STORE_OK);
    ck_assert_int_eq(store_provider_traits_clear(st, "u1"), STORE_OK);
    ck_assert_int_eq(generation(1), 2);
    ck_assert_uint_eq(provider_traits(1)->n, 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_traits");
    TCase *tc = tcase_create("traits");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ensure_creates_once_and_keeps_created_at);
    tcase_add_test(tc, delete_checks_existence_then_standard_then_use);
    tcase_add_test(tc, list_without_filters_is_every_trait_sorted);
    tcase_add_test(tc, list_by_names_returns_each_existing_name_once);
    tcase_add_test(tc, list_by_prefix_is_case_insensitive_with_literal_underscore);
    tcase_add_test(tc, trait_lists_sort_names_by_their_bytes);
    tcase_add_test(tc, list_by_association);
    tcase_add_test(tc, resolve_maps_names_to_ids_and_marks_the_missing);
    tcase_add_test(tc, replace_bumps_the_generation_only_when_the_set_changes);
    tcase_add_test(tc, traits_list_reads_the_provider_and_its_set_in_one_transaction);
    tcase_add_test(tc, traits_set_checks_provider_then_generation_then_names);
    tcase_add_test(tc, traits_set_is_all_or_nothing_when_a_later_step_fails);
    tcase_add_test(tc, traits_clear_empties_the_set_without_a_generation);
    tcase_add_test(tc, replace_with_a_stale_generation_is_a_conflict_and_changes_nothing);
    tcase_add_test(tc, clearing_bumps_only_a_provider_that_had_traits);
    tcase_add_test(tc, replace_refuses_unknown_providers_and_trait_ids);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
