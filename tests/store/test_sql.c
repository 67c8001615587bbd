/* store/sql.h on either backend (store/sql_sqlite_cursor.c, store/sql_pg.c;
 * the @pg ctest entry): binding, stepping, columns, changes, lists as one
 * parameter, error mapping and units. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"
#include "store/sql.h"
#include "support.h"

static char path[96];
static struct store *st;

static void setup(void)
{
    st = test_store_open(path);
    test_sql_file(path, "INSERT INTO providers(id, uuid, name, root_id, created_at) VALUES"
                        " (1, 'u1', 'rp1', 1, 0)");
}

static void teardown(void)
{
    test_store_close(st, path);
}

static long long generation_of(long long id)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GENERATION);
    sql_bind_i64(q, 1, id);
    ck_assert_int_eq(sql_step(q), STORE_OK);
    long long g = sql_col_i64(q, 0);
    ck_assert_int_eq(sql_step(q), STORE_NOT_FOUND);
    sql_done(q);
    return g;
}

START_TEST(step_gives_rows_then_not_found_and_done_resets)
{
    ck_assert_int_eq(generation_of(1), 0);
    struct sql *q = sql_get(st, STMT_PROVIDER_GENERATION);
    sql_bind_i64(q, 1, 42);
    ck_assert_int_eq(sql_step(q), STORE_NOT_FOUND);
    sql_done(q);
    ck_assert_int_eq(generation_of(1), 0); /* the same statement, reusable */
}
END_TEST

START_TEST(changes_counts_the_rows_a_write_changed)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GENERATION_BUMP);
    sql_bind_i64(q, 1, 1);
    sql_bind_i64(q, 2, 0);
    sql_bind_i64(q, 3, 7);
    ck_assert_int_eq(sql_exec(q), STORE_OK);
    ck_assert_int_eq(sql_changes(q), 1);
    sql_done(q);
    q = sql_get(st, STMT_PROVIDER_GENERATION_BUMP);
    sql_bind_i64(q, 1, 1);
    sql_bind_i64(q, 2, 0); /* stale now */
    sql_bind_i64(q, 3, 7);
    ck_assert_int_eq(sql_exec(q), STORE_OK);
    ck_assert_int_eq(sql_changes(q), 0);
    sql_done(q);
    ck_assert_int_eq(generation_of(1), 1);
}
END_TEST

/* Class names for ids, through one list parameter; n ids from 0 up
 * (standard classes), so the stack and heap paths are both taken. */
static size_t class_names(size_t n, char first[64])
{
    long long ids[100];
    for (size_t i = 0; i < n; i++)
        ids[i] = (long long)i;
    struct sql *q = sql_get(st, STMT_CLASS_NAMES);
    sql_bind_ids(q, 1, ids, n);
    size_t rows = 0;
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK)
        if (rows++ == 0)
            ck_assert_int_eq(sql_col_copy(q, 0, first, 64), STORE_OK);
    ck_assert_int_eq(rc, STORE_NOT_FOUND);
    sql_done(q);
    return rows;
}

START_TEST(an_id_list_is_one_parameter_short_or_long)
{
    char first[64] = "";
    ck_assert_uint_eq(class_names(0, first), 0);
    ck_assert_uint_eq(class_names(2, first), 2);
    ck_assert_str_eq(first, "VCPU");
    size_t some = class_names(30, first);
    ck_assert_uint_gt(some, 2);
    ck_assert_uint_eq(class_names(100, first), some); /* longer than the stack buffer */
    ck_assert_str_eq(first, "VCPU");
}
END_TEST

START_TEST(a_text_list_is_one_parameter_with_quotes_escaped)
{
    const char *names[] = {"HW_CPU_X86_AVX", "NO\"SUCH\\TRAIT", "COMPUTE_STATUS_DISABLED"};
    struct sql *q = sql_get(st, STMT_TRAITS_RESOLVE);
    sql_bind_texts(q, 1, names, 3);
    int seen = 0;
    while (sql_step(q) == STORE_OK) {
        long long key = sql_col_i64(q, 0);
        ck_assert(key == 0 || key == 2);
        ck_assert(!sql_col_null(q, 1));
        seen++;
    }
    sql_done(q);
    ck_assert_int_eq(seen, 2);
}
END_TEST

START_TEST(text_nulls_read_as_empty_and_copies_are_never_cut)
{
    struct sql *q = sql_get(st, STMT_PROVIDER_GET);
    sql_bind_text(q, 1, "u1");
    ck_assert_int_eq(sql_step(q), STORE_OK);
    char small[3] = "x";
    int name_col = -1;
    for (int c = 0; c < 8; c++)
        if (strcmp(sql_col_text(q, c), "rp1") == 0)
            name_col = c;
    ck_assert_int_ge(name_col, 0);
    ck_assert_int_eq(sql_col_copy(q, name_col, small, sizeof(small)), STORE_ERROR);
    ck_assert_str_eq(small, "");
    sql_done(q);
    q = sql_get(st, STMT_PROVIDER_LIST);
    sql_bind_text(q, 1, NULL); /* NULL: no filter */
    sql_bind_text(q, 2, "u1");
    ck_assert_int_eq(sql_step(q), STORE_OK);
    sql_done(q);
}
END_TEST

START_TEST(a_unique_violation_is_duplicate)
{
    struct sql *q = sql_get(st, STMT_TRAIT_INSERT);
    sql_bind_text(q, 1, "CUSTOM_X");
    sql_bind_i64(q, 2, 1);
    ck_assert_int_eq(sql_run(q), STORE_OK);
    q = sql_get(st, STMT_TRAIT_INSERT);
    sql_bind_text(q, 1, "CUSTOM_X");
    sql_bind_i64(q, 2, 1);
    ck_assert_int_eq(sql_run(q), STORE_DUPLICATE);
}
END_TEST

/* The insert the store reads an id from (a new consumer): SQLite's rowid,
 * PostgreSQL's RETURNING column. */
START_TEST(insert_id_is_the_new_rows_id)
{
    test_sql(st, "INSERT INTO projects(external_id) VALUES ('p');"
                 "INSERT INTO users(external_id) VALUES ('u')");
    struct sql *q = sql_get(st, STMT_CONSUMER_INSERT);
    sql_bind_text(q, 1, "c1");
    sql_bind_i64(q, 2, test_sql_value(st, "SELECT id FROM projects"));
    sql_bind_i64(q, 3, test_sql_value(st, "SELECT id FROM users"));
    sql_bind_i64(q, 4, 0);
    sql_bind_i64(q, 5, 1);
    ck_assert_int_eq(sql_exec(q), STORE_OK);
    long long id = sql_insert_id(q);
    sql_done(q);
    ck_assert_int_gt(id, 0);
    ck_assert_int_eq(id, test_sql_value(st, "SELECT id FROM consumers WHERE uuid = 'c1'"));
}
END_TEST

struct bump {
    long long gen;         /* the generation to bump from */
    enum store_rc outcome; /* what the body returns after bumping */
    int runs;
};

static enum store_rc bump_body(struct store *s, void *arg)
{
    struct bump *b = arg;
    b->runs++;
    struct sql *q = sql_get(s, STMT_PROVIDER_GENERATION_BUMP);
    sql_bind_i64(q, 1, 1);
    sql_bind_i64(q, 2, b->gen);
    sql_bind_i64(q, 3, 1);
    enum store_rc rc = sql_exec(q);
    if (rc == STORE_OK && sql_changes(q) != 1)
        rc = STORE_CONFLICT;
    sql_done(q);
    return rc != STORE_OK ? rc : b->outcome;
}

START_TEST(a_unit_commits_on_ok_and_rolls_back_otherwise)
{
    struct bump b = {0, STORE_INVALID, 0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, bump_body, &b), STORE_INVALID);
    ck_assert_int_eq(generation_of(1), 0); /* rolled back */
    b.outcome = STORE_OK;
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, bump_body, &b), STORE_OK);
    ck_assert_int_eq(generation_of(1), 1);
    ck_assert_int_eq(store_unit(st, UNIT_GROUPED_WRITE, STORE_CONFLICT, bump_body, &b),
                     STORE_CONFLICT); /* generation 0 is stale now */
    b.gen = 1;
    ck_assert_int_eq(store_unit(st, UNIT_GROUPED_WRITE, STORE_CONFLICT, bump_body, &b), STORE_OK);
    ck_assert_int_eq(generation_of(1), 2);
    ck_assert_int_eq(b.runs, 4); /* a stale generation is a result: never retried */
    ck_assert(!test_in_transaction(st));
}
END_TEST

static enum store_rc outer_body(struct store *s, void *arg)
{
    struct bump *b = arg;
    enum store_rc rc = store_unit(s, UNIT_WRITE, STORE_CONFLICT, bump_body, b);
    ck_assert(test_in_transaction(s)); /* still inside the outer transaction */
    return rc == STORE_OK ? STORE_INVALID : rc;
}

START_TEST(a_unit_inside_a_unit_joins_its_transaction)
{
    struct bump b = {0, STORE_OK, 0};
    ck_assert_int_eq(store_unit(st, UNIT_WRITE, STORE_CONFLICT, outer_body, &b), STORE_INVALID);
    ck_assert_int_eq(generation_of(1), 0); /* the inner bump went with the outer rollback */
}
END_TEST

static enum store_rc read_body(struct store *s, void *arg)
{
    (void)s;
    *(long long *)arg = generation_of(1);
    ck_assert(test_in_transaction(st));
    return STORE_OK;
}

START_TEST(a_read_unit_runs_in_a_transaction_and_ends_it)
{
    long long g = -1;
    ck_assert_int_eq(store_unit(st, UNIT_READ, STORE_BUSY, read_body, &g), STORE_OK);
    ck_assert_int_eq(g, 0);
    ck_assert(!test_in_transaction(st));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("store_sql");
    TCase *tc = tcase_create("sql");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, step_gives_rows_then_not_found_and_done_resets);
    tcase_add_test(tc, changes_counts_the_rows_a_write_changed);
    tcase_add_test(tc, an_id_list_is_one_parameter_short_or_long);
    tcase_add_test(tc, a_text_list_is_one_parameter_with_quotes_escaped);
    tcase_add_test(tc, text_nulls_read_as_empty_and_copies_are_never_cut);
    tcase_add_test(tc, a_unique_violation_is_duplicate);
    tcase_add_test(tc, insert_id_is_the_new_rows_id);
    tcase_add_test(tc, a_unit_commits_on_ok_and_rolls_back_otherwise);
    tcase_add_test(tc, a_unit_inside_a_unit_joins_its_transaction);
    tcase_add_test(tc, a_read_unit_runs_in_a_transaction_and_ends_it);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
