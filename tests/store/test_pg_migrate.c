/* PostgreSQL migrations (store/pg_migrate.c) against a throwaway server. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pg_test.h"
#include "store/migrations.h"
#include "store/pg_conn.h"
#include "store/pg_migrate.h"
#include "store/standard_names.h"
#include "store/store.h"

static PGconn *connect_to(const char *uri)
{
    char err[512];
    PGconn *conn = pg_conn_open(uri, err, sizeof(err));
    ck_assert_msg(conn != NULL, "%s", err);
    return conn;
}

static void migrate_ok(const char *uri)
{
    char err[512];
    PGconn *conn = connect_to(uri);
    ck_assert_msg(pg_migrate(conn, err, sizeof(err)) == 0, "%s", err);
    PQfinish(conn);
}

static void assert_complete_schema(const char *uri)
{
    ck_assert_int_eq(pg_test_value(uri, "SELECT max(version) FROM schema_migrations"),
                     store_schema_version());
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM schema_migrations"),
                     (long long)pg_migrations_count);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM resource_classes"),
                     (long long)standard_resource_classes_count);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits"),
                     (long long)standard_traits_count);
}

START_TEST(postgresql_migrations_match_the_sqlite_ones)
{
    ck_assert_uint_eq(pg_migrations_count, store_migrations_count);
    for (size_t i = 0; i < pg_migrations_count; i++) {
        ck_assert_int_eq(pg_migrations[i].version, store_migrations[i].version);
        ck_assert_str_eq(pg_migrations[i].name, store_migrations[i].name);
    }
}
END_TEST

START_TEST(migration_from_empty_creates_the_schema_and_standard_names)
{
    char uri[512], err[512];
    pg_test_new_db(uri, sizeof(uri));
    PGconn *conn = connect_to(uri);
    ck_assert_int_eq(pg_schema_version_read(conn, err, sizeof(err)), 0);
    ck_assert_msg(pg_migrate(conn, err, sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(pg_schema_version_read(conn, err, sizeof(err)), store_schema_version());
    PQfinish(conn);
    assert_complete_schema(uri);
    ck_assert_int_eq(pg_test_value(uri, "SELECT id FROM resource_classes WHERE name = 'VCPU'"), 0);
    ck_assert_int_eq(pg_test_value(uri, "SELECT id FROM resource_classes "
                                        "WHERE name = 'NET_PACKET_RATE_IGR_KILOPACKET_PER_SEC'"),
                     20);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits "
                                        "WHERE name = 'COMPUTE_NET_VIRTIO_PACKED'"),
                     1);
    /* Identity ids follow the list order, as SQLite's rowids do. */
    ck_assert_int_eq(pg_test_value(uri, "SELECT id FROM traits WHERE name = 'COMPUTE_ACCELERATORS'"),
                     1);
}
END_TEST

/* 0002's triggers bump a block's version as SQLite's do: a new root (root
 * id 0 until it points at itself), its inventory, an update and deletes. */
START_TEST(tree_version_triggers_bump_the_block_of_the_changed_tree)
{
    char uri[512];
    pg_test_new_db(uri, sizeof(uri));
    migrate_ok(uri);
    const char *version = "SELECT COALESCE(sum(version), 0) FROM tree_versions";
    pg_test_value(uri, "INSERT INTO providers(uuid, name, root_id, created_at) "
                       "VALUES ('u1', 'n1', 0, 0)");
    ck_assert_int_eq(pg_test_value(uri, version), 0);
    pg_test_value(uri, "UPDATE providers SET root_id = id");
    ck_assert_int_eq(pg_test_value(uri, version), 1);
    pg_test_value(uri, "INSERT INTO inventories(provider_id, resource_class_id, total, created_at)"
                       " SELECT id, 0, 8, 0 FROM providers");
    ck_assert_int_eq(pg_test_value(uri, version), 2);
    pg_test_value(uri, "UPDATE inventories SET total = 9");
    ck_assert_int_eq(pg_test_value(uri, version), 3);
    pg_test_value(uri, "DELETE FROM inventories");
    pg_test_value(uri, "DELETE FROM providers");
    ck_assert_int_eq(pg_test_value(uri, version), 5);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM tree_versions"), 1);
}
END_TEST

START_TEST(rerun_is_idempotent_and_restores_missing_standard_names)
{
    char uri[512];
    pg_test_new_db(uri, sizeof(uri));
    migrate_ok(uri);
    long long max_id = pg_test_value(uri, "SELECT max(id) FROM traits");
    pg_test_value(uri, "DELETE FROM traits WHERE name = 'COMPUTE_NET_VIRTIO_PACKED'");
    pg_test_value(uri, "INSERT INTO traits(name, created_at) VALUES ('CUSTOM_KEEP', 0)");
    migrate_ok(uri);
    migrate_ok(uri);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM schema_migrations"),
                     (long long)pg_migrations_count);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits"),
                     (long long)standard_traits_count + 1);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM traits WHERE name IN "
                                        "('COMPUTE_NET_VIRTIO_PACKED', 'CUSTOM_KEEP')"),
                     2);
    /* Only the two new names took identity values. */
    ck_assert_int_eq(pg_test_value(uri, "SELECT max(id) FROM traits"), max_id + 2);
}
END_TEST

START_TEST(database_from_a_newer_placid_is_refused)
{
    char uri[512], err[512];
    pg_test_new_db(uri, sizeof(uri));
    migrate_ok(uri);
    pg_test_value(uri, "INSERT INTO schema_migrations VALUES (9999, '9999_future', 0)");
    PGconn *conn = connect_to(uri);
    ck_assert_int_eq(pg_migrate(conn, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "database schema version 9999 is newer than this placid supports") &&
                      !strchr(err, '\n'),
                  "%s", err);
    pg_test_value(uri, "DELETE FROM schema_migrations WHERE version = 9999");
    ck_assert_msg(pg_migrate(conn, err, sizeof(err)) == 0, "%s", err);
    PQfinish(conn);
}
END_TEST

/* A failing migration rolls back whole (PostgreSQL's DDL is transactional)
 * and releases the advisory lock: another connection migrates afterwards. */
START_TEST(failing_migration_leaves_nothing_and_releases_the_lock)
{
    char uri[512], err[512];
    pg_test_new_db(uri, sizeof(uri));
    pg_test_value(uri, "CREATE TABLE allocations (x int)"); /* 0001 creates it last */
    PGconn *conn = connect_to(uri);
    ck_assert_int_eq(pg_migrate(conn, err, sizeof(err)), -1);
    ck_assert_msg(strstr(err, "migration 0001_initial_schema failed:") && strstr(err, "allocations"),
                  "%s", err);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM pg_tables WHERE tablename IN "
                                        "('resource_classes', 'providers', 'consumers')"),
                     0);
    ck_assert_int_eq(pg_schema_version_read(conn, err, sizeof(err)), 0);
    pg_test_value(uri, "DROP TABLE allocations");
    migrate_ok(uri); /* would wait forever if conn still held the lock */
    PQfinish(conn);
    assert_complete_schema(uri);
}
END_TEST

struct migrator {
    const char *uri;
    pthread_barrier_t *start;
    int rc;
    char err[512];
};

static void *migrator_run(void *arg)
{
    struct migrator *m = arg;
    PGconn *conn = pg_conn_open(m->uri, m->err, sizeof(m->err));
    pthread_barrier_wait(m->start);
    m->rc = conn ? pg_migrate(conn, m->err, sizeof(m->err)) : -1;
    PQfinish(conn);
    return NULL;
}

/* Several nodes starting at once on an empty database: each succeeds and
 * the schema is there once. Without the advisory lock the second CREATE
 * TABLE of a migration fails ("already exists"). */
START_TEST(concurrent_migrators_on_an_empty_database_all_succeed)
{
    enum { NODES = 4, ROUNDS = 3 };
    for (int round = 0; round < ROUNDS; round++) {
        char uri[512];
        pg_test_new_db(uri, sizeof(uri));
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, NODES);
        struct migrator m[NODES];
        pthread_t th[NODES];
        for (int i = 0; i < NODES; i++) {
            m[i] = (struct migrator){.uri = uri, .start = &start};
            ck_assert_int_eq(pthread_create(&th[i], NULL, migrator_run, &m[i]), 0);
        }
        for (int i = 0; i < NODES; i++)
            pthread_join(th[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < NODES; i++)
            ck_assert_msg(m[i].rc == 0, "node %d: %s", i, m[i].err);
        assert_complete_schema(uri);
    }
}
END_TEST

/* The lock is really taken: a migrator waits while another session holds
 * it, having created nothing, and finishes once it is released. */
START_TEST(migrator_waits_for_the_advisory_lock)
{
    char uri[512], sql[256];
    pg_test_new_db(uri, sizeof(uri));
    PGconn *holder = connect_to(uri);
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_lock(%lld)", PG_MIGRATE_LOCK_KEY);
    PQclear(PQexec(holder, sql));

    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct migrator m = {.uri = uri, .start = &start};
    pthread_t th;
    ck_assert_int_eq(pthread_create(&th, NULL, migrator_run, &m), 0);
    pthread_barrier_wait(&start);
    /* Wait (no time bound: ctest's timeout is the bound) until the migrator
     * is blocked on the advisory lock. */
    while (pg_test_value(uri, "SELECT count(*) FROM pg_locks l JOIN pg_database d "
                              "ON d.oid = l.database WHERE l.locktype = 'advisory' "
                              "AND NOT l.granted AND d.datname = current_database()") == 0)
        usleep(20000);
    ck_assert_int_eq(pg_test_value(uri, "SELECT count(*) FROM pg_tables "
                                        "WHERE tablename = 'schema_migrations'"),
                     0);
    snprintf(sql, sizeof(sql), "SELECT pg_advisory_unlock(%lld)", PG_MIGRATE_LOCK_KEY);
    PQclear(PQexec(holder, sql));
    pthread_join(th, NULL);
    pthread_barrier_destroy(&start);
    ck_assert_msg(m.rc == 0, "%s", m.err);
    assert_complete_schema(uri);
    PQfinish(holder);
}
END_TEST

int main(void)
{
    int up = pg_test_up();
    if (up != 0)
        return up;
    Suite *s = suite_create("pg_migrate");
    TCase *tc = tcase_create("pg_migrate");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, postgresql_migrations_match_the_sqlite_ones);
    tcase_add_test(tc, migration_from_empty_creates_the_schema_and_standard_names);
    tcase_add_test(tc, tree_version_triggers_bump_the_block_of_the_changed_tree);
    tcase_add_test(tc, rerun_is_idempotent_and_restores_missing_standard_names);
    tcase_add_test(tc, database_from_a_newer_placid_is_refused);
    tcase_add_test(tc, failing_migration_leaves_nothing_and_releases_the_lock);
    tcase_add_test(tc, concurrent_migrators_on_an_empty_database_all_succeed);
    tcase_add_test(tc, migrator_waits_for_the_advisory_lock);
    suite_add_tcase(s, tc);
    return pg_test_run_suite(s);
}
