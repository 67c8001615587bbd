/* The SQL of the PostgreSQL backend (store/sql_pg.c): the text of every
 * statement id of store/statements.h in PostgreSQL's dialect. Internal to
 * store/; needs no libpq, so it is built (and its rewrite tested) with or
 * without the backend. */
#ifndef PLACID_STORE_SQL_PG_H
#define PLACID_STORE_SQL_PG_H

#include <stdbool.h>
#include <stddef.h>

#include "store/statements.h"

/* The PostgreSQL text of id: its override when the dialects differ, else
 * the SQLite text with ?N rewritten to $N. Static storage, never NULL.
 * Thread-safe (the table is built once, on first use). */
const char *pg_sql_text(enum stmt_id id);

/* The number of parameters of id's PostgreSQL text (its highest $N). */
int pg_sql_nparams(enum stmt_id id);

/* Whether id is planned at every execution instead of prepared once: the
 * statements with optional filters ("$N IS NULL OR ..."). After five
 * executions on a connection PostgreSQL may switch a prepared statement to
 * a generic plan made without the values, which cannot know which filters
 * are off: the provider list's took 12 s at N=10,000 where its plan for the
 * values takes 48 ms. Planning costs about 1 ms. */
bool pg_sql_plan_each_time(enum stmt_id id);

/* Copies sqlite_text into out (outsz bytes) with every ?N outside quotes
 * ('...', "...") rewritten to $N, and stores the highest N in *nparams
 * (0 when none). Returns 0, or -1 when out is too small or a bare '?'
 * has no number (PostgreSQL has no anonymous parameters). */
int pg_sql_rewrite(const char *sqlite_text, char *out, size_t outsz, int *nparams);

#endif
