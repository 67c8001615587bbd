/* The ids of the store's static statements, shared by every backend; the
 * SQL of each backend is in one file of its own (store/sql_sqlite.c for
 * SQLite). Every id is prepared when a connection opens, so using one never
 * fails and needs no check. Internal to store/. */
#ifndef PLACID_STORE_STATEMENTS_H
#define PLACID_STORE_STATEMENTS_H

/* clang-format off */
#define STORE_STATEMENTS(X) \
    /* store/store.c */ \
    X(BEGIN_WRITE) \
    X(BEGIN_READ) \
    X(COMMIT) \
    X(ROLLBACK) \
    /* store/group_commit.c */ \
    X(SAVEPOINT_JOB) \
    X(RELEASE_JOB) \
    X(ROLLBACK_TO_JOB) \
    /* store/health.c */ \
    X(USER_VERSION) \
    X(COUNT_PROVIDERS) \
    /* store/migrate.c */ \
    X(SEED_RESOURCE_CLASS) \
    X(SEED_TRAIT) \
    /* store/lookup.c */ \
    X(PROVIDER_REF) \
    X(RESOURCE_CLASS_ID) \
    X(TRAIT_ID) \
    /* store/providers.c */ \
    X(PROVIDER_GET) \
    X(PROVIDER_UUID_TAKEN) \
    X(PROVIDER_NAME_TAKEN) \
    X(PROVIDER_INSERT) \
    X(PROVIDER_FIX_ROOT) \
    X(PROVIDER_IN_SUBTREE) \
    X(PROVIDER_UPDATE) \
    X(PROVIDER_MOVE_SUBTREE) \
    X(PROVIDER_HAS_CHILDREN) \
    X(PROVIDER_HAS_ALLOCATIONS) \
    X(PROVIDER_DELETE) \
    X(PROVIDER_GENERATION) \
    X(PROVIDER_GENERATION_BUMP) \
    X(PROVIDER_LIST) \
    /* store/aggregates.c */ \
    X(PROVIDER_AGGREGATES) \
    X(AGGREGATES_INSERT) \
    X(AGGREGATE_ID) \
    X(AGGREGATES_LINK) \
    X(AGGREGATES_UNLINK_ALL) \
    /* store/resource_classes.c */ \
    X(RESOURCE_CLASSES_LIST) \
    X(RESOURCE_CLASS_GET) \
    X(RESOURCE_CLASS_INSERT) \
    X(RESOURCE_CLASS_RENAME) \
    X(RESOURCE_CLASS_IN_USE) \
    X(RESOURCE_CLASS_DELETE) \
    /* store/traits.c */ \
    X(TRAITS_LIST) \
    X(TRAIT_GET) \
    X(TRAIT_INSERT) \
    X(TRAIT_IN_USE) \
    X(TRAIT_DELETE) \
    X(TRAITS_RESOLVE) \
    X(PROVIDER_TRAITS) \
    X(PROVIDER_TRAITS_REMOVE) \
    X(PROVIDER_TRAITS_ADD) \
    /* store/inventories.c */ \
    X(INVENTORIES_LIST) \
    X(INVENTORY_GET) \
    X(INVENTORY_UPSERT) \
    X(INVENTORY_REMOVE) \
    X(DOOMED_CLASSES) \
    X(INVENTORY_INSERT) \
    X(INVENTORY_OVERWRITE) \
    X(INVENTORY_IN_USE) \
    /* store/allocations.c */ \
    X(PROJECT_ID) \
    X(PROJECT_INSERT) \
    X(USER_ID) \
    X(USER_INSERT) \
    X(CONSUMER_TYPE_ID) \
    X(CONSUMER_TYPE_INSERT) \
    X(CONSUMER_LOOKUP) \
    X(CONSUMER_ALLOCATIONS_DELETE) \
    X(CONSUMER_ALLOCATIONS) \
    X(ITEM_INVENTORY) \
    X(CLASS_NAMES) \
    X(HAS_ANY_INVENTORY) \
    X(CONSUMER_INSERT) \
    X(CONSUMER_REFRESH) \
    X(ALLOCATION_INSERT) \
    X(CONSUMER_BUMP) \
    X(CONSUMER_DELETE) \
    /* store/allocation_reads.c */ \
    X(CONSUMER_READ) \
    X(CONSUMER_ALLOCATION_ROWS) \
    X(PROVIDER_ALLOCATION_ROWS) \
    /* store/usages.c */ \
    X(PROVIDER_USAGES) \
    X(PROJECT_USAGES) \
    /* store/candidates_load.c */ \
    X(CAND_PROVIDERS) \
    X(CAND_INVENTORIES) \
    X(CAND_USAGES) \
    X(CAND_TRAITS) \
    X(CAND_AGGREGATES) \
    X(CAND_OUTLIERS) \
    X(CAND_SHARING_ROOTS) \
    X(CAND_NEXT_BLOCKS) \
    /* store/candidates_resolve.c */ \
    X(CAND_RC_NAME) \
    X(CAND_TRAIT_NAME) \
    X(CAND_HAS_TREES) \
    X(CAND_ROOTS_WITH_TRAIT) \
    X(CAND_ALL_ROOTS) \
    X(CAND_PROVIDER_TRAITS) \
    X(CAND_AGG_MEMBERS) \
    X(CAND_AGG_HAS) \
    /* store/locks.c (PostgreSQL's write order; SQLite never runs them) */ \
    X(PROVIDERS_LOCK) \
    X(TREE_BLOCKS_TOUCH) \
    X(RESOURCE_CLASSES_LOCK) \
    X(TRAITS_LOCK)

enum stmt_id {
#define X(id) STMT_##id,
    STORE_STATEMENTS(X)
#undef X
    STMT__COUNT
};
/* clang-format on */

/* The SQLite text of each id (store/sql_sqlite.c); never NULL. */
extern const char *const sqlite_sql[STMT__COUNT];

/* The name of each id ("PROVIDER_REF"), for messages (store/statements.c). */
extern const char *const store_stmt_names[STMT__COUNT];

#endif
