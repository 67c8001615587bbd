/* Client input that SQLite takes in its stride and PostgreSQL refuses, as
 * tests/e2e/robustness.py found it on the PostgreSQL backend: text that is
 * not UTF-8 (a %ff in a path or query) and a generation of 2^63 - 1. Each
 * must be what SQLite answers (not found, a generation conflict), not
 * STORE_ERROR (a 500). Against a throwaway server. */
#include <check.h>
#include <libpq-fe.h>
#include <limits.h>
#include <stdio.h>

#include "pg_test.h"
#include "store/internal.h"
#include "store/pg_conn.h"
#include "store/pg_cursor.h"
#include "store/pg_migrate.h"
#include "store/sql.h"
#include "store/store.h"
#include "support.h"

#define RP       "5a1e0000-0000-4000-8000-000000000001"
#define NOT_UTF8 "\xff\xfe"

static char uri[512];
static struct pg_pool *pool;
static struct pg_backend *be;
static struct store *st;

/* A fresh migrated database with one provider RP, a pool and a handle. */
static void setup(void)
{
    pg_test_store_open(uri, sizeof(uri), 2, &pool, &be, &st);
    struct provider p;
    enum provider_problem why;
    ck_assert_int_eq(store_provider_create(st, RP, "inputs", NULL, &p, &why), STORE_OK);
}

static void teardown(void)
{
    pg_test_store_close(pool, be, st);
}

/* Lookups by a uuid or name that is not UTF-8, inside a unit of work and
 * alone, find nothing; and the unit they ran in is not spoilt. */
START_TEST(lookups_by_text_that_is_not_utf8_find_nothing)
{
    struct provider p;
    ck_assert_int_eq(store_provider_get(st, NOT_UTF8, &p), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_get(st, "caf\xc3\x28", &p), STORE_NOT_FOUND);
    struct resource_class rc;
    ck_assert_int_eq(store_resource_class_get(st, NOT_UTF8, &rc), STORE_NOT_FOUND);
    struct trait t;
    ck_assert_int_eq(store_trait_get(st, NOT_UTF8, &t), STORE_NOT_FOUND);
    long long id = 0;
    ck_assert_int_eq(store_trait_id(st, NOT_UTF8, &id), STORE_NOT_FOUND);
    ck_assert_int_eq(store_provider_delete(st, NOT_UTF8), STORE_NOT_FOUND);
    /* The provider itself is still found (the handle works after them). */
    ck_assert_int_eq(store_provider_get(st, RP, &p), STORE_OK);
    ck_assert_str_eq(p.name, "inputs");
}
END_TEST

/* A write of text that is not UTF-8 is never taken for done: PostgreSQL
 * cannot store it (the API refuses such names before the store). */
START_TEST(a_write_of_text_that_is_not_utf8_fails)
{
    struct trait t;
    bool created = false;
    ck_assert_int_ne(store_trait_ensure(st, "CUSTOM_" NOT_UTF8, &t, &created), STORE_OK);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits WHERE name LIKE 'CUSTOM_%'"),
                     0);
}
END_TEST

/* A client's generation of 2^63 - 1 is a conflict (the provider's is 0),
 * as on SQLite; before, PostgreSQL folded $2 + 1 and overflowed. */
START_TEST(the_largest_generation_is_a_conflict_not_an_overflow)
{
    long long expect = LLONG_MAX, gen = -1;
    const char *aggs[] = {"a9a90000-0000-4000-8000-000000000001"};
    ck_assert_int_eq(store_provider_aggregates_set(st, RP, aggs, 1, &expect, &gen), STORE_CONFLICT);
    expect = 0;
    ck_assert_int_eq(store_provider_aggregates_set(st, RP, aggs, 1, &expect, &gen), STORE_OK);
    ck_assert_int_eq(gen, 1);
}
END_TEST

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_inputs");
    TCase *tc = tcase_create("pg_inputs");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, lookups_by_text_that_is_not_utf8_find_nothing);
    tcase_add_test(tc, a_write_of_text_that_is_not_utf8_fails);
    tcase_add_test(tc, the_largest_generation_is_a_conflict_not_an_overflow);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
