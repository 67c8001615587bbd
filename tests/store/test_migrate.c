/* Migrations and the standard-name sync. */
#include <check.h>
#include <sqlite3.h>
#include <string.h>

#include "store/store.h"
#include "support.h"

static long long count(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    long long n = -1;
    ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
    ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
    if (sqlite3_step(s) == SQLITE_ROW)
        n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

START_TEST(fresh_database_has_standard_names_with_library_ids)
{
    char path[96];
    struct store *st = test_store_open(path);
    long long id;
    ck_assert_int_eq(store_resource_class_id(st, "VCPU", &id), STORE_OK);
    ck_assert_int_eq(id, 0);
    ck_assert_int_eq(store_resource_class_id(st, "NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC", &id),
                     STORE_OK);
    ck_assert_int_eq(id, 20);
    ck_assert_int_eq(store_trait_id(st, "COMPUTE_NET_VIRTIO_PACKED", &id), STORE_OK);
    ck_assert_int_eq(count(path, "SELECT count(*) FROM resource_classes"), 21);
    ck_assert_int_eq(count(path, "SELECT count(*) FROM traits"), 377);
    ck_assert_int_eq(count(path, "PRAGMA user_version"), store_schema_version());
    ck_assert_int_eq(count(path, "SELECT count(*) FROM schema_migrations"), store_schema_version());
    test_store_close(st, path);
}
END_TEST

START_TEST(reopening_adds_missing_standard_names_and_keeps_custom_ones)
{
    char path[96], err[256];
    struct store *st = test_store_open(path);
    store_close(st);
    test_sql_file(path, "DELETE FROM traits WHERE name = 'COMPUTE_NET_VIRTIO_PACKED';"
                        "INSERT INTO traits(name, created_at) VALUES ('CUSTOM_KEEP', 0);");
    st = store_open(path, err, sizeof(err));
    ck_assert_ptr_nonnull(st);
    long long id;
    ck_assert_int_eq(store_trait_id(st, "COMPUTE_NET_VIRTIO_PACKED", &id), STORE_OK);
    ck_assert_int_eq(store_trait_id(st, "CUSTOM_KEEP", &id), STORE_OK);
    test_store_close(st, path);
}
END_TEST

START_TEST(database_from_a_newer_placid_is_refused)
{
    char path[96], err[256];
    struct store *st = test_store_open(path);
    store_close(st);
    test_sql_file(path, "PRAGMA user_version = 9999");
    ck_assert_ptr_null(store_open(path, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "newer"));
    test_sql_file(path, "PRAGMA user_version = 1");
    st = store_open(path, err, sizeof(err));
    test_store_close(st, path);
}
END_TEST

START_TEST(unopenable_path_reports_why)
{
    char err[256];
    ck_assert_ptr_null(store_open("/nonexistent-dir/x/p.db", err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent-dir/x/p.db"));
}
END_TEST

/* Every static statement prepares when a connection opens: a schema that
 * does not fit them (here a column renamed behind placid's back) stops the
 * open with one line naming the statement and SQLite's error, instead of
 * failing requests later. */
START_TEST(a_statement_that_does_not_prepare_stops_the_open)
{
    char path[96], err[512];
    struct store *st = test_store_open(path);
    store_close(st);
    test_sql_file(path, "ALTER TABLE consumers RENAME COLUMN generation TO gen");
    ck_assert_ptr_null(store_open(path, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "cannot prepare statement CONSUMER_", 34) == 0, "%s", err);
    ck_assert_msg(strstr(err, "no such column: generation") != NULL, "%s", err);
    ck_assert_ptr_null(strchr(err, '\n'));
    ck_assert_ptr_null(store_pool_open(path, 2, err, sizeof(err)));
    ck_assert_msg(strncmp(err, "cannot prepare statement ", 25) == 0, "%s", err);
    test_sql_file(path, "ALTER TABLE consumers RENAME COLUMN gen TO generation");
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    test_store_close(st, path);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("migrate");
    tcase_add_test(tc, fresh_database_has_standard_names_with_library_ids);
    tcase_add_test(tc, reopening_adds_missing_standard_names_and_keeps_custom_ones);
    tcase_add_test(tc, database_from_a_newer_placid_is_refused);
    tcase_add_test(tc, unopenable_path_reports_why);
    tcase_add_test(tc, a_statement_that_does_not_prepare_stops_the_open);
    suite_add_tcase(s, tc);
    return test_run_suite(s);
}
