/* Small helpers over store/sql.h shared by the units of work; they work on
 * every backend. */
#include "store/internal.h"

enum store_rc sql_run_id(struct store *st, enum stmt_id sid, long long id)
{
    struct sql *q = sql_get(st, sid);
    sql_bind_i64(q, 1, id);
    return sql_run(q);
}

enum store_rc sql_flag_id(struct store *st, enum stmt_id sid, long long id, bool *out)
{
    struct sql *q = sql_get(st, sid);
    sql_bind_i64(q, 1, id);
    enum store_rc rc = sql_step(q);
    *out = rc == STORE_OK && sql_col_i64(q, 0) != 0;
    sql_done(q);
    return rows_end(rc);
}
