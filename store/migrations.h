/* The schema migrations compiled into the binary (from migrations/). */
#ifndef PLACID_STORE_MIGRATIONS_H
#define PLACID_STORE_MIGRATIONS_H

#include <stddef.h>

struct migration {
    int version;      /* the NNNN prefix of the file name */
    const char *name; /* file name without .sql */
    const char *sql;
};

extern const struct migration store_migrations[];
extern const size_t store_migrations_count;

#endif
