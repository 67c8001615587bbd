/* The SQL of the PostgreSQL backend. Most statements are written once, in
 * store/sql_sqlite.c, in SQL both engines accept, and reach PostgreSQL with
 * ?N rewritten to $N; the ones whose dialects differ have an override here
 * (docs/postgresql.md §1):
 *
 *   - a list bound with sql_bind_ids/sql_bind_texts is an int8[]/text[]
 *     array, so json_each(?n) becomes "= ANY($n::bigint[])" (or unnest);
 *   - the nested filters of PROVIDER_LIST (lists of lists, [[rc, amount]])
 *     stay one JSON text parameter (sql_bind_text), read with jsonb;
 *   - INSERT OR IGNORE -> ON CONFLICT DO NOTHING, scalar MAX -> GREATEST,
 *     last_insert_rowid() -> currval of the identity, "IS" -> IS NOT
 *     DISTINCT FROM, PRAGMA user_version -> schema_migrations;
 *   - a parameter whose type PostgreSQL cannot infer from its use (a bare
 *     SELECT $1, $n IS NULL before its comparison) is cast.
 *
 * tests/store/test_pg_cursor.c prepares every text on a real PostgreSQL,
 * so a missed dialect difference fails at once. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/sql_pg.h"
#include "store/store.h" /* STORE_CONSUMER_TYPE_UNKNOWN */

/* Parent and root uuids by scalar subquery (an index lookup per row), not
 * by joins: behind the list's anti-join filters the planner estimates a few
 * rows and joins providers to itself by nested loops, quadratic in the
 * number of providers (2,000 providers: 1.07 s; by subquery: 16 ms). */
#define PROVIDER_COLUMNS                                                                           \
    "p.id, p.uuid, p.name, p.generation,"                                                          \
    " COALESCE((SELECT pp.uuid FROM providers pp WHERE pp.id = p.parent_id), ''),"                  \
    " (SELECT r.uuid FROM providers r WHERE r.id = p.root_id), p.created_at,"                      \
    " COALESCE(p.updated_at, 0)"
#define PROVIDER_FROM " FROM providers p"
#define SUBTREE_CTE                                                                                \
    "WITH RECURSIVE sub(id) AS (SELECT $1::bigint UNION ALL"                                       \
    " SELECT c.id FROM providers c JOIN sub ON c.parent_id = sub.id) "
#define TRAIT_COLUMNS "t.id, t.name, t.created_at, COALESCE(t.updated_at, 0)"

/* clang-format off */
static const char *const pg_override[STMT__COUNT] = {
    /* Units begin through store/pg_unit.c; these are the same levels. */
    [STMT_BEGIN_WRITE] =
        "BEGIN ISOLATION LEVEL READ COMMITTED",
    [STMT_BEGIN_READ] =
        "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
    [STMT_USER_VERSION] =
        "SELECT COALESCE(max(version), 0) FROM schema_migrations",
    [STMT_SEED_RESOURCE_CLASS] =
        "INSERT INTO resource_classes(id, name, created_at) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
    [STMT_SEED_TRAIT] =
        "INSERT INTO traits(name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    /* The id PROVIDER_INSERT just took in this session (its identity). */
    [STMT_PROVIDER_FIX_ROOT] =
        "UPDATE providers SET root_id = id"
        " WHERE id = currval(pg_get_serial_sequence('providers', 'id')) AND root_id = 0",
    [STMT_PROVIDER_IN_SUBTREE] =
        SUBTREE_CTE "SELECT 1 FROM sub WHERE id = $2",
    [STMT_PROVIDER_MOVE_SUBTREE] =
        SUBTREE_CTE "UPDATE providers SET root_id = $2 WHERE id IN (SELECT id FROM sub)"
        " AND root_id <> $2",
    [STMT_PROVIDER_GENERATION_BUMP] =
        /* generation + 1, not $2 + 1: PostgreSQL folds a constant
         * expression when it plans the statement, so a client's generation
         * of 2^63 - 1 overflowed (22003, a 500) even where no row matched. */
        "UPDATE providers SET generation = generation + 1, updated_at = $3"
        " WHERE id = $1 AND generation = $2",
    /* $4: JSON [[trait ids any-of], ...]  $5: bigint[] forbidden trait ids
     * $6: JSON [[aggregate uuids any-of], ...]  $7: text[] forbidden aggregate uuids
     * $8: JSON [[rc id, amount], ...]; NULL filters pass (no elements). */
    [STMT_PROVIDER_LIST] =
        "SELECT " PROVIDER_COLUMNS PROVIDER_FROM " WHERE ($1::text IS NULL OR p.name = $1)"
        " AND ($2::text IS NULL OR p.uuid = $2)"
        " AND ($3::text IS NULL OR p.root_id = (SELECT t.root_id FROM providers t WHERE t.uuid = $3))"
        " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($4::jsonb) g WHERE NOT EXISTS ("
        "   SELECT 1 FROM jsonb_array_elements_text(g.value) x JOIN provider_traits pt"
        "   ON pt.trait_id = x.value::bigint WHERE pt.provider_id = p.id))"
        " AND NOT EXISTS (SELECT 1 FROM provider_traits pt WHERE pt.provider_id = p.id"
        "   AND pt.trait_id = ANY($5::bigint[]))"
        " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($6::jsonb) g WHERE NOT EXISTS ("
        "   SELECT 1 FROM jsonb_array_elements_text(g.value) x JOIN aggregates a ON a.uuid = x.value"
        "   JOIN provider_aggregates pa ON pa.aggregate_id = a.id AND pa.provider_id = p.id))"
        " AND NOT EXISTS (SELECT 1 FROM aggregates a JOIN provider_aggregates pa"
        "   ON pa.aggregate_id = a.id AND pa.provider_id = p.id WHERE a.uuid = ANY($7::text[]))"
        " AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements($8::jsonb) q WHERE NOT EXISTS ("
        "   SELECT 1 FROM inventories i"
        "   WHERE i.provider_id = p.id AND i.resource_class_id = (q.value->>0)::bigint"
        "   AND COALESCE((SELECT SUM(al.used) FROM allocations al WHERE al.provider_id = p.id"
        "        AND al.resource_class_id = i.resource_class_id), 0)"
        "       + (q.value->>1)::bigint <= (i.total - i.reserved) * i.allocation_ratio"
        "   AND i.min_unit <= (q.value->>1)::bigint"
        "   AND i.max_unit >= (q.value->>1)::bigint"
        "   AND (q.value->>1)::bigint % i.step_size = 0))"
        " ORDER BY p.id",
    /* $1, $2 (LINK): text[] of uuids. */
    [STMT_AGGREGATES_INSERT] =
        "INSERT INTO aggregates (uuid, created_at) SELECT unnest($1::text[]), $2::bigint"
        " ON CONFLICT (uuid) DO NOTHING",
    [STMT_AGGREGATES_LINK] =
        "INSERT INTO provider_aggregates (provider_id, aggregate_id)"
        " SELECT $1::bigint, a.id FROM aggregates a WHERE a.uuid = ANY($2::text[])"
        " ON CONFLICT DO NOTHING",
    [STMT_RESOURCE_CLASS_INSERT] =
        "INSERT INTO resource_classes(id, name, created_at) "
        "SELECT GREATEST($3::bigint, COALESCE(MAX(id) + 1, $3::bigint)), $1, $2 "
        "FROM resource_classes",
    /* $1: text[] of names (NULL: any)  $2: LIKE pattern  $3: associated (0/1, NULL: any) */
    [STMT_TRAITS_LIST] =
        "SELECT " TRAIT_COLUMNS " FROM traits t"
        " WHERE ($1::text[] IS NULL OR t.name = ANY($1::text[]))"
        "   AND ($2::text IS NULL OR t.name ILIKE $2 ESCAPE '\\')" /* as SQLite's LIKE */
        /* IN, one hashed scan of provider_traits: an EXISTS compared to a
         * boolean ran per trait, a sequential scan each time when the
         * statistics say few traits are used (285 ms at N=10,000; now 6). */
        "   AND ($3::int IS NULL OR (t.id IN (SELECT pt.trait_id FROM provider_traits pt))"
        "                           = ($3::int = 1))"
        " ORDER BY t.name COLLATE \"C\"",
    /* Names in byte order, as SQLite's BINARY, whatever the database's collation. */
    [STMT_PROVIDER_TRAITS] =
        "SELECT " TRAIT_COLUMNS " FROM provider_traits pt"
        " JOIN traits t ON t.id = pt.trait_id"
        " WHERE pt.provider_id = $1 ORDER BY t.name COLLATE \"C\"",
    /* The index of each name found in $1 (text[]), from 0 as json_each's key. */
    [STMT_TRAITS_RESOLVE] =
        "SELECT j.ord - 1, t.id FROM unnest($1::text[]) WITH ORDINALITY j(name, ord)"
        " JOIN traits t ON t.name = j.name",
    [STMT_PROVIDER_TRAITS_REMOVE] =
        "DELETE FROM provider_traits WHERE provider_id = $1"
        " AND trait_id <> ALL($2::bigint[])",
    /* DO NOTHING skips pairs already there (and duplicates in the list); it
     * does not hide foreign-key errors for unknown trait ids. */
    [STMT_PROVIDER_TRAITS_ADD] =
        "INSERT INTO provider_traits(provider_id, trait_id)"
        " SELECT $1::bigint, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
    [STMT_CLASS_NAMES] =
        "SELECT name FROM resource_classes WHERE id = ANY($1::bigint[]) ORDER BY id",
    [STMT_HAS_ANY_INVENTORY] =
        "SELECT EXISTS (SELECT 1 FROM inventories WHERE provider_id = $1"
        " AND resource_class_id = ANY($2::bigint[]))",
    [STMT_CONSUMER_BUMP] = /* generation + 1: as PROVIDER_GENERATION_BUMP */
        "UPDATE consumers SET generation = generation + 1, updated_at = $3"
        " WHERE id = $1 AND generation = $2",
    /* sql_insert_id() reads the RETURNING column (SQLite's rowid needs none). */
    [STMT_CONSUMER_INSERT] =
        "INSERT INTO consumers (uuid, project_id, user_id, consumer_type_id, generation,"
        " created_at) VALUES ($1, $2, $3, NULLIF($4, 0), 0, $5) RETURNING id",
    [STMT_PROJECT_USAGES] =
        "WITH sel AS ("
        "  SELECT a.consumer_id AS consumer, a.resource_class_id AS rc, a.used AS used,"
        "   CASE WHEN $3::int = 1 THEN -1 ELSE c.consumer_type_id END AS t"
        "  FROM consumers c JOIN allocations a ON a.consumer_id = c.id"
        "  WHERE c.project_id = (SELECT id FROM projects WHERE external_id = $1)"
        "   AND ($2::text IS NULL OR c.user_id = (SELECT id FROM users WHERE external_id = $2))"
        "   AND ($3 != 2 OR c.consumer_type_id IS NULL)"
        "   AND ($3 != 3 OR c.consumer_type_id ="
        "        (SELECT id FROM consumer_types WHERE name = $4))),"
        " counts AS (SELECT t, COUNT(DISTINCT consumer) AS n FROM sel GROUP BY t)"
        " SELECT CASE WHEN s.t = -1 THEN 'all'"
        "  ELSE COALESCE(ct.name, '" STORE_CONSUMER_TYPE_UNKNOWN "') END,"
        "  rc.name, SUM(s.used), (SELECT n FROM counts WHERE counts.t IS NOT DISTINCT FROM s.t)"
        " FROM sel s JOIN resource_classes rc ON rc.id = s.rc"
        " LEFT JOIN consumer_types ct ON ct.id = s.t"
        " GROUP BY s.t, s.rc, ct.name, rc.name ORDER BY s.t NULLS FIRST, s.rc", /* as SQLite */
    /* ---- store/candidates_resolve.c: $n lists of aggregate ids ---- */
    [STMT_CAND_AGG_MEMBERS] =
        "SELECT provider_id FROM provider_aggregates WHERE aggregate_id = ANY($1::bigint[])",
    [STMT_CAND_AGG_HAS] =
        "SELECT 1 FROM provider_aggregates WHERE provider_id = $1"
        " AND aggregate_id = ANY($2::bigint[])",
    /* ---- store/locks.c (docs/postgresql.md §2) ---- */
    /* Ascending ids: two writers cannot deadlock on providers. */
    [STMT_PROVIDERS_LOCK] =
        "SELECT id FROM providers WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
    /* Their blocks' version rows, locked in ascending block order right
     * after the providers, so the triggers' later bumps find them already
     * held by this transaction (an extra bump costs nothing: a version only
     * has to change). */
    [STMT_TREE_BLOCKS_TOUCH] =
        "INSERT INTO tree_versions AS t(block, version)"
        " SELECT DISTINCT root_id >> 6, 1 FROM providers"
        " WHERE id = ANY($1::bigint[]) AND root_id <> 0 ORDER BY 1"
        " ON CONFLICT (block) DO UPDATE SET version = t.version + 1",
    /* A new custom class or trait: one creator at a time on the whole
     * database. SHARE ROW EXCLUSIVE conflicts with itself and with every
     * INSERT/UPDATE/DELETE of the table (which it waits for), not with
     * reads or foreign-key checks, so the lookup that follows it sees
     * every name committed before, and the class id max(10000, max + 1)
     * cannot be taken by another node between the MAX and the INSERT. */
    [STMT_RESOURCE_CLASSES_LOCK] =
        "LOCK TABLE resource_classes IN SHARE ROW EXCLUSIVE MODE",
    [STMT_TRAITS_LOCK] =
        "LOCK TABLE traits IN SHARE ROW EXCLUSIVE MODE",
};
/* clang-format on */

int pg_sql_rewrite(const char *in, char *out, size_t outsz, int *nparams)
{
    size_t o = 0;
    char quote = 0;
    *nparams = 0;
    for (const char *p = in; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
        } else if (*p == '\'' || *p == '"') {
            quote = *p;
        } else if (*p == '?') {
            if (p[1] < '0' || p[1] > '9')
                return -1;
            int n = 0;
            for (const char *d = p + 1; *d >= '0' && *d <= '9'; d++)
                n = n * 10 + (*d - '0');
            if (n > *nparams)
                *nparams = n;
            if (o + 1 >= outsz)
                return -1;
            out[o++] = '$';
            continue;
        } else if (*p == '$' && p[1] >= '0' && p[1] <= '9') {
            /* an override's own $N */
            int n = 0;
            for (const char *d = p + 1; *d >= '0' && *d <= '9'; d++)
                n = n * 10 + (*d - '0');
            if (n > *nparams)
                *nparams = n;
        }
        if (o + 1 >= outsz)
            return -1;
        out[o++] = *p;
    }
    out[o] = '\0';
    return 0;
}

#define PG_SQL_ARENA (64 * 1024)

static char arena[PG_SQL_ARENA];
static const char *texts[STMT__COUNT];
static int nparams[STMT__COUNT];
static pthread_once_t built = PTHREAD_ONCE_INIT;

/* Rewrites every text into the arena. A text that does not fit or has a
 * bare '?' is a bug of this file, caught by every test that prepares. */
static void build(void)
{
    size_t used = 0;
    for (int id = 0; id < STMT__COUNT; id++) {
        const char *src = pg_override[id] ? pg_override[id] : sqlite_sql[id];
        if (pg_sql_rewrite(src, arena + used, sizeof(arena) - used, &nparams[id]) != 0) {
            texts[id] = "SELECT 'pg_sql: text does not rewrite' :: bigint";
            nparams[id] = 0;
            continue;
        }
        texts[id] = arena + used;
        used += strlen(arena + used) + 1;
    }
}

const char *pg_sql_text(enum stmt_id id)
{
    pthread_once(&built, build);
    return texts[id];
}

int pg_sql_nparams(enum stmt_id id)
{
    pthread_once(&built, build);
    return nparams[id];
}

bool pg_sql_plan_each_time(enum stmt_id id)
{
    return strstr(pg_sql_text(id), "IS NULL OR") != NULL;
}
