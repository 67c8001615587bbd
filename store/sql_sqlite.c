/* The SQL of the SQLite backend: one text for each statement id of
 * store/statements.h, and the only place where the store's static SQL
 * lives.
 * Every text is prepared when a connection opens (stmts_prepare()), so SQL
 * that does not prepare stops start-up with its error instead of failing a
 * request. A second backend (PostgreSQL) gives the same ids its own texts
 * in a file of its own (store/sql_pg.c). */
#include "store/statements.h"
#include "store/store.h" /* STORE_CONSUMER_TYPE_UNKNOWN */

/* Every provider read selects these columns, in this order. */
#define PROVIDER_COLUMNS                                                                           \
    "p.id, p.uuid, p.name, p.generation, COALESCE(pp.uuid, ''), r.uuid, p.created_at,"             \
    " COALESCE(p.updated_at, 0)"
#define PROVIDER_FROM                                                                              \
    " FROM providers p JOIN providers r ON r.id = p.root_id"                                       \
    " LEFT JOIN providers pp ON pp.id = p.parent_id"
/* The descendants of a provider, itself included, as a recursive CTE. */
#define SUBTREE_CTE                                                                                \
    "WITH RECURSIVE sub(id) AS (SELECT ?1 UNION ALL"                                               \
    " SELECT c.id FROM providers c JOIN sub ON c.parent_id = sub.id) "
/* Columns: id, name, created_at, updated_at (0 when NULL). */
#define CLASS_COLUMNS "id, name, created_at, COALESCE(updated_at, 0)"
/* Columns: id, name, created_at, updated_at (0 when NULL). */
#define TRAIT_COLUMNS "t.id, t.name, t.created_at, COALESCE(t.updated_at, 0)"
/* Every inventory read selects these columns, in this order. */
#define INVENTORY_COLUMNS                                                                      \
    "i.resource_class_id, rc.name, i.total, i.reserved, i.min_unit, i.max_unit, i.step_size," \
    " i.allocation_ratio, i.created_at, COALESCE(i.updated_at, 0)"

/* clang-format off */
const char *const sqlite_sql[STMT__COUNT] = {
    /* ---- store/store.c ---- */
    [STMT_BEGIN_WRITE] =
        "BEGIN IMMEDIATE",
    [STMT_BEGIN_READ] =
        "BEGIN",
    [STMT_COMMIT] =
        "COMMIT",
    [STMT_ROLLBACK] =
        "ROLLBACK",

    /* ---- store/group_commit.c ---- */
    [STMT_SAVEPOINT_JOB] =
        "SAVEPOINT job",
    [STMT_RELEASE_JOB] =
        "RELEASE job",
    [STMT_ROLLBACK_TO_JOB] =
        "ROLLBACK TO job",

    /* ---- store/health.c ---- */
    [STMT_USER_VERSION] =
        "PRAGMA user_version",
    [STMT_COUNT_PROVIDERS] =
        "SELECT count(*) FROM providers",

    /* ---- store/migrate.c ---- */
    [STMT_SEED_RESOURCE_CLASS] =
        "INSERT OR IGNORE INTO resource_classes(id, name, created_at) VALUES (?1, ?2, ?3)",
    [STMT_SEED_TRAIT] =
        "INSERT OR IGNORE INTO traits(name, created_at) VALUES (?1, ?2)",

    /* ---- store/lookup.c ---- */
    [STMT_PROVIDER_REF] =
        "SELECT id, generation, COALESCE(parent_id, 0), root_id, uuid FROM providers WHERE uuid = ?1",
    [STMT_RESOURCE_CLASS_ID] =
        "SELECT id FROM resource_classes WHERE name = ?1",
    [STMT_TRAIT_ID] =
        "SELECT id FROM traits WHERE name = ?1",

    /* ---- store/providers.c ---- */
    [STMT_PROVIDER_GET] =
        "SELECT " PROVIDER_COLUMNS PROVIDER_FROM " WHERE p.uuid = ?1",
    [STMT_PROVIDER_UUID_TAKEN] =
        "SELECT 1 FROM providers WHERE uuid = ?1",
    [STMT_PROVIDER_NAME_TAKEN] =
        "SELECT 1 FROM providers WHERE name = ?1",
    /* A new root is its own root: insert, then point root_id at the new id. */
    [STMT_PROVIDER_INSERT] =
        "INSERT INTO providers (uuid, name, generation, parent_id, root_id,"
        " created_at) VALUES (?1, ?2, 0, ?3, COALESCE(?4, 0), ?5)",
    [STMT_PROVIDER_FIX_ROOT] =
        "UPDATE providers SET root_id = id WHERE id = last_insert_rowid() AND root_id = 0",
    [STMT_PROVIDER_IN_SUBTREE] =
        SUBTREE_CTE "SELECT 1 FROM sub WHERE id = ?2",
    [STMT_PROVIDER_UPDATE] =
        "UPDATE providers SET name = ?2, parent_id = ?3, updated_at = ?4"
        " WHERE id = ?1",
    /* The whole subtree follows its top to the new root (root_id is denormalised). */
    [STMT_PROVIDER_MOVE_SUBTREE] =
        SUBTREE_CTE "UPDATE providers SET root_id = ?2 WHERE id IN (SELECT id FROM sub)"
        " AND root_id <> ?2",
    [STMT_PROVIDER_HAS_CHILDREN] =
        "SELECT 1 FROM providers WHERE parent_id = ?1 LIMIT 1",
    [STMT_PROVIDER_HAS_ALLOCATIONS] =
        "SELECT 1 FROM allocations WHERE provider_id = ?1 LIMIT 1",
    /* Inventories, trait links and aggregate links go with it (ON DELETE CASCADE). */
    [STMT_PROVIDER_DELETE] =
        "DELETE FROM providers WHERE id = ?1",
    [STMT_PROVIDER_GENERATION] =
        "SELECT generation FROM providers WHERE id = ?1",
    [STMT_PROVIDER_GENERATION_BUMP] =
        "UPDATE providers SET generation = ?2 + 1, updated_at = ?3"
        " WHERE id = ?1 AND generation = ?2",
    /* ?4: [[trait ids any-of], ...]  ?5: [forbidden trait ids]
     * ?6: [[aggregate uuids any-of], ...]  ?7: [forbidden aggregate uuids]
     * ?8: [[rc id, amount], ...] with Placement's capacity rule
     * (used + amount <= (total - reserved) * allocation_ratio, min_unit <= amount <= max_unit,
     * amount % step_size == 0). json_each(NULL) has no rows, so an unused filter passes.
     * The aggregate clauses say CROSS JOIN to keep SQLite's join order: from each listed uuid
     * through the unique index to the (provider_id, aggregate_id) key. Left to itself, SQLite
     * walked all of a provider's aggregates for each listed uuid (2,500 uuids against 25,000
     * links took 3.7 s). */
    [STMT_PROVIDER_LIST] =
        "SELECT " PROVIDER_COLUMNS PROVIDER_FROM " WHERE (?1 IS NULL OR p.name = ?1)"
        " AND (?2 IS NULL OR p.uuid = ?2)"
        " AND (?3 IS NULL OR p.root_id = (SELECT t.root_id FROM providers t WHERE t.uuid = ?3))"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?4) g WHERE NOT EXISTS ("
        "   SELECT 1 FROM json_each(g.value) x JOIN provider_traits pt ON pt.trait_id = x.value"
        "   WHERE pt.provider_id = p.id))"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?5) x JOIN provider_traits pt"
        "   ON pt.trait_id = x.value WHERE pt.provider_id = p.id)"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?6) g WHERE NOT EXISTS ("
        "   SELECT 1 FROM json_each(g.value) x CROSS JOIN aggregates a ON a.uuid = x.value"
        "   CROSS JOIN provider_aggregates pa ON pa.aggregate_id = a.id AND pa.provider_id = p.id))"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?7) x CROSS JOIN aggregates a ON a.uuid = x.value"
        "   CROSS JOIN provider_aggregates pa ON pa.aggregate_id = a.id AND pa.provider_id = p.id)"
        " AND NOT EXISTS (SELECT 1 FROM json_each(?8) q WHERE NOT EXISTS ("
        "   SELECT 1 FROM inventories i"
        "   WHERE i.provider_id = p.id AND i.resource_class_id = json_extract(q.value, '$[0]')"
        "   AND COALESCE((SELECT SUM(al.used) FROM allocations al WHERE al.provider_id = p.id"
        "        AND al.resource_class_id = i.resource_class_id), 0)"
        "       + json_extract(q.value, '$[1]') <= (i.total - i.reserved) * i.allocation_ratio"
        "   AND i.min_unit <= json_extract(q.value, '$[1]')"
        "   AND i.max_unit >= json_extract(q.value, '$[1]')"
        "   AND json_extract(q.value, '$[1]') % i.step_size = 0))"
        " ORDER BY p.id",

    /* ---- store/aggregates.c ---- */
    [STMT_PROVIDER_AGGREGATES] =
        "SELECT a.uuid FROM provider_aggregates pa JOIN aggregates a ON a.id = pa.aggregate_id"
        " WHERE pa.provider_id = ?1 ORDER BY a.id",
    /* ?1: JSON array of uuids. "WHERE true" tells SQLite's parser that
     * ON CONFLICT is the upsert clause, not a join constraint. */
    [STMT_AGGREGATES_INSERT] =
        "INSERT INTO aggregates (uuid, created_at) SELECT value, ?2 FROM json_each(?1) WHERE true"
        " ON CONFLICT (uuid) DO NOTHING",
    [STMT_AGGREGATE_ID] =
        "SELECT id FROM aggregates WHERE uuid = ?1",
    /* ?2: JSON array of uuids, all in aggregates (AGGREGATES_INSERT first). */
    [STMT_AGGREGATES_LINK] =
        "INSERT INTO provider_aggregates (provider_id, aggregate_id)"
        " SELECT ?1, a.id FROM aggregates a WHERE a.uuid IN (SELECT value FROM json_each(?2))"
        " ON CONFLICT DO NOTHING",
    [STMT_AGGREGATES_UNLINK_ALL] =
        "DELETE FROM provider_aggregates WHERE provider_id = ?1",

    /* ---- store/resource_classes.c ---- */
    [STMT_RESOURCE_CLASSES_LIST] =
        "SELECT " CLASS_COLUMNS " FROM resource_classes ORDER BY id",
    [STMT_RESOURCE_CLASS_GET] =
        "SELECT " CLASS_COLUMNS " FROM resource_classes WHERE name = ?1",
    [STMT_RESOURCE_CLASS_INSERT] =
        "INSERT INTO resource_classes(id, name, created_at) "
        "SELECT MAX(?3, COALESCE(MAX(id) + 1, ?3)), ?1, ?2 "
        "FROM resource_classes",
    [STMT_RESOURCE_CLASS_RENAME] =
        "UPDATE resource_classes SET name = ?2, updated_at = ?3 WHERE id = ?1",
    [STMT_RESOURCE_CLASS_IN_USE] =
        "SELECT EXISTS (SELECT 1 FROM inventories WHERE resource_class_id = ?1)"
        " OR EXISTS (SELECT 1 FROM allocations WHERE resource_class_id = ?1)",
    [STMT_RESOURCE_CLASS_DELETE] =
        "DELETE FROM resource_classes WHERE id = ?1",

    /* ---- store/traits.c ---- */
    [STMT_TRAITS_LIST] =
        "SELECT " TRAIT_COLUMNS " FROM traits t"
        " WHERE (?1 IS NULL OR t.name IN (SELECT value FROM json_each(?1)))"
        "   AND (?2 IS NULL OR t.name LIKE ?2 ESCAPE '\\')"
        "   AND (?3 IS NULL OR EXISTS (SELECT 1 FROM provider_traits pt"
        "                              WHERE pt.trait_id = t.id) = ?3)"
        " ORDER BY t.name",
    [STMT_TRAIT_GET] =
        "SELECT " TRAIT_COLUMNS " FROM traits t WHERE t.name = ?1",
    [STMT_TRAIT_INSERT] =
        "INSERT INTO traits(name, created_at) VALUES (?1, ?2)",
    [STMT_TRAIT_IN_USE] =
        "SELECT EXISTS (SELECT 1 FROM provider_traits WHERE trait_id = ?1)",
    [STMT_TRAIT_DELETE] =
        "DELETE FROM traits WHERE id = ?1",
    [STMT_TRAITS_RESOLVE] =
        "SELECT j.key, t.id FROM json_each(?1) j JOIN traits t ON t.name = j.value",
    [STMT_PROVIDER_TRAITS] =
        "SELECT " TRAIT_COLUMNS " FROM provider_traits pt"
        " JOIN traits t ON t.id = pt.trait_id"
        " WHERE pt.provider_id = ?1 ORDER BY t.name",
    [STMT_PROVIDER_TRAITS_REMOVE] =
        "DELETE FROM provider_traits WHERE provider_id = ?1"
        " AND trait_id NOT IN (SELECT value FROM json_each(?2))",
    /* OR IGNORE skips pairs already there (and duplicates in the list);
     * it does not hide foreign-key errors for unknown trait ids. */
    [STMT_PROVIDER_TRAITS_ADD] =
        "INSERT OR IGNORE INTO provider_traits(provider_id, trait_id)"
        " SELECT ?1, value FROM json_each(?2)",

    /* ---- store/inventories.c ---- */
    [STMT_INVENTORIES_LIST] =
        "SELECT " INVENTORY_COLUMNS
        " FROM inventories i JOIN resource_classes rc"
        " ON rc.id = i.resource_class_id"
        " WHERE i.provider_id = ?1 ORDER BY i.resource_class_id",
    [STMT_INVENTORY_GET] =
        "SELECT " INVENTORY_COLUMNS
        " FROM inventories i JOIN resource_classes rc"
        " ON rc.id = i.resource_class_id"
        " WHERE i.provider_id = ?1 AND rc.name = ?2",
    [STMT_INVENTORY_UPSERT] =
        "INSERT INTO inventories (provider_id, resource_class_id, total, reserved, min_unit,"
        " max_unit, step_size, allocation_ratio, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        " ON CONFLICT (provider_id, resource_class_id) DO UPDATE SET total = excluded.total,"
        " reserved = excluded.reserved, min_unit = excluded.min_unit,"
        " max_unit = excluded.max_unit, step_size = excluded.step_size,"
        " allocation_ratio = excluded.allocation_ratio, updated_at = excluded.created_at",
    [STMT_INVENTORY_REMOVE] =
        "DELETE FROM inventories WHERE provider_id = ?1 AND resource_class_id = ?2",
    [STMT_DOOMED_CLASSES] =
        "SELECT i.resource_class_id, rc.name, EXISTS (SELECT 1 FROM allocations a"
        " WHERE a.provider_id = i.provider_id AND a.resource_class_id = i.resource_class_id)"
        " FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id"
        " WHERE i.provider_id = ?1 ORDER BY i.resource_class_id",
    [STMT_INVENTORY_INSERT] =
        "INSERT INTO inventories (provider_id, resource_class_id, total, reserved, min_unit,"
        " max_unit, step_size, allocation_ratio, created_at)"
        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [STMT_INVENTORY_OVERWRITE] =
        "UPDATE inventories SET total = ?3, reserved = ?4, min_unit = ?5, max_unit = ?6,"
        " step_size = ?7, allocation_ratio = ?8, updated_at = ?9"
        " WHERE provider_id = ?1 AND resource_class_id = ?2",
    [STMT_INVENTORY_IN_USE] =
        "SELECT EXISTS (SELECT 1 FROM allocations"
        " WHERE provider_id = ?1 AND resource_class_id = ?2)",

    /* ---- store/allocations.c ---- */
    [STMT_PROJECT_ID] =
        "SELECT id FROM projects WHERE external_id = ?1",
    [STMT_PROJECT_INSERT] =
        "INSERT INTO projects (external_id) VALUES (?1) ON CONFLICT DO NOTHING RETURNING id",
    [STMT_USER_ID] =
        "SELECT id FROM users WHERE external_id = ?1",
    [STMT_USER_INSERT] =
        "INSERT INTO users (external_id) VALUES (?1) ON CONFLICT DO NOTHING RETURNING id",
    [STMT_CONSUMER_TYPE_ID] =
        "SELECT id FROM consumer_types WHERE name = ?1",
    [STMT_CONSUMER_TYPE_INSERT] =
        "INSERT INTO consumer_types (name, created_at) VALUES (?1, ?2)"
        " ON CONFLICT DO NOTHING RETURNING id",
    [STMT_CONSUMER_LOOKUP] =
        "SELECT id, generation, project_id, user_id,"
        " COALESCE(consumer_type_id, 0) FROM consumers WHERE uuid = ?1",
    [STMT_CONSUMER_ALLOCATIONS_DELETE] =
        "DELETE FROM allocations WHERE consumer_id = ?1",
    [STMT_CONSUMER_ALLOCATIONS] =
        "SELECT provider_id, resource_class_id, used FROM allocations WHERE consumer_id = ?1",
    [STMT_ITEM_INVENTORY] =
        "SELECT total, reserved, min_unit, max_unit, step_size, allocation_ratio,"
        " (SELECT COALESCE(SUM(used), 0) FROM allocations"
        "  WHERE provider_id = ?1 AND resource_class_id = ?2)"
        " FROM inventories WHERE provider_id = ?1 AND resource_class_id = ?2",
    [STMT_CLASS_NAMES] =
        "SELECT name FROM resource_classes"
        " WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    [STMT_HAS_ANY_INVENTORY] =
        "SELECT EXISTS (SELECT 1 FROM inventories WHERE provider_id = ?1"
        " AND resource_class_id IN (SELECT value FROM json_each(?2)))",
    [STMT_CONSUMER_INSERT] =
        "INSERT INTO consumers (uuid, project_id, user_id, consumer_type_id, generation,"
        " created_at) VALUES (?1, ?2, ?3, NULLIF(?4, 0), 0, ?5)",
    [STMT_CONSUMER_REFRESH] =
        "UPDATE consumers SET project_id = ?2, user_id = ?3, consumer_type_id = NULLIF(?4, 0),"
        " updated_at = ?5 WHERE id = ?1",
    [STMT_ALLOCATION_INSERT] =
        "INSERT INTO allocations (provider_id, consumer_id,"
        " resource_class_id, used, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    [STMT_CONSUMER_BUMP] =
        "UPDATE consumers SET generation = ?2 + 1, updated_at = ?3"
        " WHERE id = ?1 AND generation = ?2",
    [STMT_CONSUMER_DELETE] =
        "DELETE FROM consumers WHERE id = ?1",

    /* ---- store/allocation_reads.c ---- */
    [STMT_CONSUMER_READ] =
        "SELECT c.id, c.uuid, c.generation, p.external_id, u.external_id,"
        " COALESCE(ct.name, '" STORE_CONSUMER_TYPE_UNKNOWN "')"
        " FROM consumers c JOIN projects p ON p.id = c.project_id"
        " JOIN users u ON u.id = c.user_id"
        " LEFT JOIN consumer_types ct ON ct.id = c.consumer_type_id WHERE c.uuid = ?1",
    [STMT_CONSUMER_ALLOCATION_ROWS] =
        "SELECT p.uuid, p.generation, rc.name, a.used, a.created_at, COALESCE(a.updated_at, 0)"
        " FROM allocations a JOIN providers p ON p.id = a.provider_id"
        " JOIN resource_classes rc ON rc.id = a.resource_class_id"
        " WHERE a.consumer_id = ?1 ORDER BY a.id",
    [STMT_PROVIDER_ALLOCATION_ROWS] =
        "SELECT c.uuid, c.generation, rc.name, a.used, a.created_at, COALESCE(a.updated_at, 0)"
        " FROM allocations a JOIN consumers c ON c.id = a.consumer_id"
        " JOIN resource_classes rc ON rc.id = a.resource_class_id"
        " WHERE a.provider_id = ?1 ORDER BY a.id",

    /* ---- store/usages.c ---- */
    /* One row per class with inventory, 0 when nothing is allocated. */
    [STMT_PROVIDER_USAGES] =
        "SELECT NULL, rc.name, COALESCE((SELECT SUM(a.used) FROM allocations a"
        "  WHERE a.provider_id = i.provider_id AND a.resource_class_id = i.resource_class_id), 0),"
        " 0 FROM inventories i JOIN resource_classes rc ON rc.id = i.resource_class_id"
        " WHERE i.provider_id = ?1 ORDER BY i.resource_class_id",
    /* ?3 is the grouping: the group key t is -1 for USAGE_ALL (a single
     * group), the consumer type id otherwise (NULL = untyped). The consumer
     * count is counted per group, so a consumer with several classes is
     * counted once (upstream's separate count query). */
    [STMT_PROJECT_USAGES] =
        "WITH sel AS ("
        "  SELECT a.consumer_id AS consumer, a.resource_class_id AS rc, a.used AS used,"
        "   CASE WHEN ?3 = 1 THEN -1 ELSE c.consumer_type_id END AS t"
        "  FROM consumers c JOIN allocations a ON a.consumer_id = c.id"
        "  WHERE c.project_id = (SELECT id FROM projects WHERE external_id = ?1)"
        "   AND (?2 IS NULL OR c.user_id = (SELECT id FROM users WHERE external_id = ?2))"
        "   AND (?3 != 2 OR c.consumer_type_id IS NULL)"
        "   AND (?3 != 3 OR c.consumer_type_id ="
        "        (SELECT id FROM consumer_types WHERE name = ?4))),"
        " counts AS (SELECT t, COUNT(DISTINCT consumer) AS n FROM sel GROUP BY t)"
        " SELECT CASE WHEN s.t = -1 THEN 'all'"
        "  ELSE COALESCE(ct.name, '" STORE_CONSUMER_TYPE_UNKNOWN "') END,"
        "  rc.name, SUM(s.used), (SELECT n FROM counts WHERE counts.t IS s.t)"
        " FROM sel s JOIN resource_classes rc ON rc.id = s.rc"
        " LEFT JOIN consumer_types ct ON ct.id = s.t"
        " GROUP BY s.t, s.rc ORDER BY s.t, s.rc",

    /* ---- store/candidates_load.c: range scans over provider ids, rows in
     * provider id order (merged in memory); a tree member outside the range
     * (an "outlier") is read on its own ---- */
    [STMT_CAND_PROVIDERS] =
        "SELECT id, root_id, COALESCE(parent_id, 0), uuid FROM providers"
        " WHERE id BETWEEN ?1 AND ?2 ORDER BY id",
    [STMT_CAND_INVENTORIES] =
        "SELECT provider_id, resource_class_id, total, reserved, min_unit, max_unit, step_size,"
        " allocation_ratio FROM inventories WHERE provider_id BETWEEN ?1 AND ?2"
        " ORDER BY provider_id, resource_class_id",
    [STMT_CAND_USAGES] =
        "SELECT provider_id, resource_class_id, SUM(used) FROM allocations"
        " WHERE provider_id BETWEEN ?1 AND ?2 GROUP BY provider_id, resource_class_id"
        " ORDER BY provider_id, resource_class_id",
    [STMT_CAND_TRAITS] =
        "SELECT provider_id, trait_id FROM provider_traits WHERE provider_id BETWEEN ?1 AND ?2"
        " ORDER BY provider_id, trait_id",
    [STMT_CAND_AGGREGATES] =
        "SELECT provider_id, aggregate_id FROM provider_aggregates"
        " WHERE provider_id BETWEEN ?1 AND ?2 ORDER BY provider_id, aggregate_id",
    [STMT_CAND_OUTLIERS] =
        "SELECT id FROM providers WHERE root_id BETWEEN ?1 AND ?2 AND (id < ?1 OR id > ?2)"
        " ORDER BY id",
    [STMT_CAND_SHARING_ROOTS] =
        "SELECT DISTINCT p.root_id FROM provider_traits t JOIN providers p ON p.id = t.provider_id"
        " WHERE t.trait_id = ?1 ORDER BY p.root_id",
    [STMT_CAND_NEXT_BLOCKS] =
        "SELECT block, version FROM tree_versions WHERE block > ?1 ORDER BY block LIMIT ?2",

    /* ---- store/candidates_resolve.c ---- */
    [STMT_CAND_RC_NAME] =
        "SELECT name FROM resource_classes WHERE id = ?1",
    [STMT_CAND_TRAIT_NAME] =
        "SELECT name FROM traits WHERE id = ?1",
    [STMT_CAND_HAS_TREES] =
        "SELECT 1 FROM providers WHERE parent_id IS NOT NULL LIMIT 1",
    [STMT_CAND_ROOTS_WITH_TRAIT] =
        "SELECT p.id FROM provider_traits t JOIN providers p ON p.id = t.provider_id"
        " WHERE t.trait_id = ?1 AND p.parent_id IS NULL",
    [STMT_CAND_ALL_ROOTS] =
        "SELECT id FROM providers WHERE parent_id IS NULL",
    [STMT_CAND_PROVIDER_TRAITS] =
        "SELECT trait_id FROM provider_traits WHERE provider_id = ?1 ORDER BY trait_id",
    [STMT_CAND_AGG_MEMBERS] =
        "SELECT provider_id FROM provider_aggregates"
        " WHERE aggregate_id IN (SELECT value FROM json_each(?1))",
    [STMT_CAND_AGG_HAS] =
        "SELECT 1 FROM provider_aggregates WHERE provider_id = ?1"
        " AND aggregate_id IN (SELECT value FROM json_each(?2))",

    /* ---- store/locks.c: SQLite's writers are serialized by BEGIN
     * IMMEDIATE, so store_lock_providers() runs these on PostgreSQL only
     * (store/sql_pg.c); the texts here keep the shape. ---- */
    [STMT_PROVIDERS_LOCK] =
        "SELECT id FROM providers WHERE id IN (SELECT value FROM json_each(?1)) ORDER BY id",
    [STMT_TREE_BLOCKS_TOUCH] =
        "UPDATE tree_versions SET version = version + 1 WHERE block IN"
        " (SELECT root_id >> 6 FROM providers WHERE id IN (SELECT value FROM json_each(?1)))",
    /* No rows, no parameters, nothing done (LOCK TABLE on PostgreSQL). */
    [STMT_RESOURCE_CLASSES_LOCK] =
        "UPDATE resource_classes SET id = id WHERE 0",
    [STMT_TRAITS_LOCK] =
        "UPDATE traits SET id = id WHERE 0",
};
/* clang-format on */
