/* The storage layer: SQLite connections, transactions and all SQL.
 * It speaks C structs and row callbacks, never HTTP or JSON. */
#ifndef PLACID_STORE_STORE_H
#define PLACID_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>

enum store_rc {
    STORE_OK = 0,
    STORE_NOT_FOUND = -1,    /* the named object does not exist */
    STORE_CONFLICT = -2,     /* generation mismatch */
    STORE_DUPLICATE = -3,    /* unique name or uuid taken */
    STORE_IN_USE = -4,       /* referenced by allocations/inventories/providers */
    STORE_HAS_CHILDREN = -5, /* provider with child providers */
    STORE_BUSY = -6,         /* database locked past the busy timeout */
    STORE_ERROR = -7,        /* anything else (logged) */
    STORE_INVALID = -8,      /* a request that breaks a rule the store enforces */
};

struct store;
struct store_pool;

/* Opens (creating if needed) the database at path and applies pending
 * migrations and the standard resource classes and traits. Returns NULL with
 * a one-line reason in err when the file cannot be opened or was written by
 * a newer placid. The caller frees the store with store_close(). */
struct store *store_open(const char *path, char *err, size_t errsz);
void store_close(struct store *st);

/* A fixed set of n connections for n worker threads. The pool runs the
 * migrations once. Returns NULL with a reason in err. */
struct store_pool *store_pool_open(const char *path, unsigned n, char *err, size_t errsz);
void store_pool_close(struct store_pool *pool);

/* Borrows a connection (blocks only if all n are in use); give it back with
 * store_release(). */
struct store *store_acquire(struct store_pool *pool);
void store_release(struct store_pool *pool, struct store *st);

/* Highest schema version this binary knows. */
int store_schema_version(void);


/* ---- Lookups shared by every area (store/lookup.c) ---- */

struct provider_ref {
    long long id;
    long long generation;
    long long parent_id; /* 0 for a root */
    long long root_id;
    char uuid[37];
};

/* Finds the provider with this (canonical) uuid. STORE_OK, STORE_NOT_FOUND or an error. */
enum store_rc store_provider_ref(struct store *st, const char *uuid, struct provider_ref *out);

/* Finds a resource class or trait id by name. STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_resource_class_id(struct store *st, const char *name, long long *id);
enum store_rc store_trait_id(struct store *st, const char *name, long long *id);

/* The SQLite-level transaction helpers for callers that must group several
 * store calls into one atomic unit (nesting is counted: inner begin/commit
 * pairs are no-ops). Writes must use store_begin_write. */
enum store_rc store_begin_write(struct store *st);
enum store_rc store_begin_read(struct store *st);
enum store_rc store_commit(struct store *st);
void store_rollback(struct store *st);

#endif
