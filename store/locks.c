/* store_lock_providers: the lock order of writers on PostgreSQL. */
#include "store/locks.h"
#include "store/internal.h"
#include "store/sql.h"

enum store_rc store_lock_providers(struct store *st, const long long *ids, size_t n)
{
    if (!st->ops || n == 0)
        return STORE_OK; /* SQLite: the write transaction already excludes every other */
    struct sql *q = sql_get(st, STMT_PROVIDERS_LOCK);
    sql_bind_ids(q, 1, ids, n);
    enum store_rc rc;
    while ((rc = sql_step(q)) == STORE_OK)
        ;
    sql_done(q);
    if (rc != STORE_NOT_FOUND)
        return rc;
    q = sql_get(st, STMT_TREE_BLOCKS_TOUCH);
    sql_bind_ids(q, 1, ids, n);
    return sql_run(q);
}

static enum store_rc lock_table(struct store *st, enum stmt_id id)
{
    if (!st->ops)
        return STORE_OK; /* SQLite: the write transaction already excludes every other */
    return sql_run(sql_get(st, id));
}

enum store_rc store_lock_resource_classes(struct store *st)
{
    return lock_table(st, STMT_RESOURCE_CLASSES_LOCK);
}

enum store_rc store_lock_traits(struct store *st)
{
    return lock_table(st, STMT_TRAITS_LOCK);
}

bool store_locks_rows(const struct store *st)
{
    return st->ops != NULL;
}
