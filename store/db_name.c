/* Which backend a --db value names, and how it may be logged. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#ifdef PLACID_POSTGRESQL
#include "store/pg_conn.h"
#endif

bool store_db_is_postgresql(const char *db)
{
#ifdef PLACID_POSTGRESQL
    return pg_is_conninfo(db);
#else
    /* The same rule as pg_is_conninfo(), so that a build without libpq
     * refuses such a value instead of creating an SQLite file named so. */
    if (strncmp(db, "postgresql://", 13) == 0 || strncmp(db, "postgres://", 11) == 0)
        return true;
    const char *p = db;
    while (isspace((unsigned char)*p))
        p++;
    const char *k = p;
    while ((*p >= 'a' && *p <= 'z') || *p == '_')
        p++;
    if (p == k)
        return false;
    while (isspace((unsigned char)*p))
        p++;
    return *p == '=';
#endif
}

void store_db_printable(const char *db, char *out, size_t outsz)
{
#ifdef PLACID_POSTGRESQL
    if (pg_is_conninfo(db)) {
        pg_conninfo_masked(db, out, outsz);
        return;
    }
#else
    if (store_db_is_postgresql(db)) {
        snprintf(out, outsz, "(a PostgreSQL database)");
        return;
    }
#endif
    snprintf(out, outsz, "%s", db);
}

static bool preview;

void store_pg_preview(bool on)
{
    preview = on;
}

bool store_pg_preview_on(void)
{
    return preview;
}
