/* Which backend a --db value names, and how it may be logged. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#ifdef PLACID_POSTGRESQL
#include "store/pg_conn.h"
#endif

/* A libpq URI, or a keyword string ("host=db dbname=placid"): its first
 * word is a lower-case keyword followed by '=' (so an SQLite file whose
 * name has that shape needs a "./" in front). One rule for both builds: one
 * without libpq refuses such a value instead of creating a file so named. */
bool store_db_is_postgresql(const char *db)
{
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
}

void store_db_printable(const char *db, char *out, size_t outsz)
{
#ifdef PLACID_POSTGRESQL
    if (store_db_is_postgresql(db)) {
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
