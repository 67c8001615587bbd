/* The storage layer: SQLite connections, transactions and all SQL.
 * It speaks C structs and row callbacks, never HTTP or JSON. Each function
 * below is a unit of work: it runs in its own transaction (reads that look
 * at several tables in one snapshot, writes all or nothing), so a caller
 * never begins, commits or rolls back; an API operation is one call. */
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

/* True when db names a PostgreSQL database (a postgresql:// or postgres://
 * URI, or a libpq keyword string such as "host=db dbname=placid", i.e. it
 * starts with "keyword=") rather than an SQLite file (store/db_name.c). */
bool store_db_is_postgresql(const char *db);

/* db as it may be logged: a PostgreSQL conninfo with every password
 * replaced by "***", a path unchanged. Cut to fit outsz. */
void store_db_printable(const char *db, char *out, size_t outsz);

/* At most n connections for any number of worker threads: the first is
 * opened here (it runs the migrations), the others when concurrency needs
 * them. A request waiting for its group commit lends its connection to
 * others meanwhile. Returns NULL with a reason in err. A path that is a
 * PostgreSQL conninfo (store_db_is_postgresql) opens that backend instead:
 * n connections at most, its own commits (no group commit, no WAL). */
struct store_pool *store_pool_open(const char *path, unsigned n, char *err, size_t errsz);

/* store_pool_open(), except that a PostgreSQL database that cannot be
 * reached (its server still starting, say, in containers started
 * together) is tried again until it answers or wait_seconds have passed
 * (--db-wait): pauses of 0.25 s doubling up to 5 s, a log line at most
 * every 5 s. stop (may be NULL) is asked between attempts; when it returns
 * true the wait ends at once (NULL, "stopped while waiting for the
 * database" in err). 0 seconds, or SQLite: store_pool_open(). */
struct store_pool *store_pool_open_wait(const char *path, unsigned n, unsigned wait_seconds,
                                        bool (*stop)(void *arg), void *stop_arg, char *err,
                                        size_t errsz);
void store_pool_close(struct store_pool *pool);

/* Borrows a connection (opening one if none is free and fewer than n are
 * open; blocks only if all n are in use); give it back with
 * store_release(). */
struct store *store_acquire(struct store_pool *pool);
void store_release(struct store_pool *pool, struct store *st);

/* Durability: every commit is on disk before it is acknowledged
 * (synchronous=FULL). The allocation writes of concurrent requests (PUT
 * and POST /allocations, DELETE /allocations/{c}, the reshaper) share one
 * transaction and one fsync (group commit; each stays all or nothing), and
 * WAL checkpoints run on a background thread, never on a request. */
struct store_write_stats {
    unsigned long long batches;        /* group commits */
    unsigned long long grouped_writes; /* writes they carried */
    unsigned long long wal_restarts;   /* times the WAL was started over */
};
void store_pool_write_stats(struct store_pool *pool, struct store_write_stats *out);

/* Memory the allocation candidates engine may keep for provider trees it
 * has read, shared by the pool's connections (0: keep none). Default
 * STORE_TREE_CACHE_DEFAULT. */
#define STORE_TREE_CACHE_DEFAULT ((size_t)64 << 20)
void store_pool_set_tree_cache(struct store_pool *pool, size_t bytes);

/* How long a write on PostgreSQL may wait for a lock another transaction
 * holds (say a claim behind another node's claim that hangs) before it
 * gives up with STORE_BUSY (503 with Retry-After); 0: as long as it takes
 * (the default of a pool). SQLite's writers do not wait on row locks:
 * nothing there. */
void store_pool_set_db_lock_timeout(struct store_pool *pool, unsigned ms);

/* Bytes of a fixed buffer that holds any stored text of at most chars
 * characters (Placement's maxLength counts characters; UTF-8 takes up to 4
 * bytes each) and its NUL. Every fixed text buffer of a row is sized by
 * this; a read that would not fit fails rather than cutting the value. */
#define STORE_TEXT_SIZE(chars) (4 * (chars) + 1)

/* Highest schema version this binary knows. */
int store_schema_version(void);

/* ---- Counters for metrics (store/stats.c) ---- */

/* Process-wide, since start; each is kept with one relaxed atomic add. */
struct store_stats {
    unsigned long long busy;        /* operations refused: database locked past the timeout */
    unsigned long long pool_waits;  /* requests that waited for a free connection */
    unsigned long long tree_hits;   /* provider-tree blocks reused from the cache */
    unsigned long long tree_misses; /* provider-tree blocks read from the database */
    unsigned long long tree_bytes;  /* bytes the tree caches hold now */
    unsigned long long pool_size, pool_open, pool_in_use; /* request connections: cap, now */
    double pool_wait_seconds;       /* time requests waited for a free connection */
    /* PostgreSQL only (0 on SQLite): */
    unsigned long long reconnects;       /* connections re-established after a break/outage */
    unsigned long long connect_failures; /* connection attempts that failed */
    unsigned long long retries_serialization, retries_deadlock, retries_connection; /* units
                                          run again after 40001, 40P01, a lost connection */
    unsigned long long unavailable;      /* units refused (503): database unreachable */
};

void store_stats_get(struct store_stats *out);

/* ---- Online backup (store/backup.c) ---- */

/* Writes a consistent copy of the database at path (which may be in use by
 * a running placid: the copy is one read transaction, VACUUM INTO) to the
 * new file dest, syncs it and checks it (PRAGMA quick_check). Neither
 * creates nor migrates path. STORE_OK; STORE_NOT_FOUND (no database at
 * path), STORE_DUPLICATE (dest exists), STORE_BUSY or STORE_ERROR, each
 * with a one-line reason in err. */
enum store_rc store_backup(const char *path, const char *dest, char *err, size_t errsz);

/* ---- Health (store/health.c) ---- */

struct store_health {
    int schema_version;  /* PRAGMA user_version of the file */
    long long providers; /* resource providers in the database */
    long long wal_bytes; /* size of the -wal file, 0 when there is none */
};

/* Proves the database can be read and written, as oslo.middleware's
 * healthcheck would for a service: in one write transaction it reads the
 * schema version and counts the providers, then rewrites the schema version
 * (same value, so a page really goes to the log and is committed).
 * STORE_OK with *out filled, STORE_BUSY when the write lock stays taken
 * past the busy timeout, STORE_ERROR (logged) otherwise. */
enum store_rc store_health_check(struct store *st, struct store_health *out);


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

/* Finds an aggregate id by uuid. STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_aggregate_id(struct store *st, const char *uuid, long long *id);

/* Finds a resource class or trait id by name. STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_resource_class_id(struct store *st, const char *name, long long *id);
enum store_rc store_trait_id(struct store *st, const char *name, long long *id);



/* ---- Resource classes and traits (store/resource_classes.c, store/traits.c) ---- */

/* Custom resource classes get ids from here on; lower ids are the standard
 * classes, which can be neither renamed nor deleted. */
#define STORE_CUSTOM_CLASS_MIN_ID 10000

/* A resource class or trait row. Stored names are ASCII of at most 255
 * characters (standard names, or CUSTOM_ names checked by the API). */
struct resource_class {
    long long id;
    char name[256];
    long long created_at;
    long long updated_at; /* 0 when never updated */
};

struct trait {
    long long id;
    char name[256];
    long long created_at;
    long long updated_at; /* 0 when never updated */
};

/* Row callbacks: row is valid only during the call. Returning non-zero
 * stops the walk early (the list function still returns STORE_OK). */
typedef int store_class_row_fn(void *arg, const struct resource_class *row);
typedef int store_trait_row_fn(void *arg, const struct trait *row);

/* Streams every resource class, standard and custom, in id order. */
enum store_rc store_resource_classes_list(struct store *st, store_class_row_fn *on_row, void *arg);

/* Fills *out with the class called name. STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_resource_class_get(struct store *st, const char *name,
                                       struct resource_class *out);

/* Creates a custom class (id max(10000, highest id + 1)); the caller has
 * checked the CUSTOM_ name rule. *created (may be NULL) tells whether a row
 * was added. With only_new, an existing name is STORE_DUPLICATE; without,
 * it is STORE_OK with *created false (PUT at 1.7 is idempotent). out (may
 * be NULL) receives the new or existing row. */
enum store_rc store_resource_class_create(struct store *st, const char *name, bool only_new,
                                          struct resource_class *out, bool *created);

/* Renames a custom class (PUT 1.2-1.6). STORE_NOT_FOUND, STORE_INVALID for
 * a standard class (checked before the new name), STORE_DUPLICATE when
 * new_name is taken. out (may be NULL) receives the renamed row. */
enum store_rc store_resource_class_rename(struct store *st, const char *name,
                                          const char *new_name, struct resource_class *out);

/* Deletes a custom class. STORE_NOT_FOUND, STORE_INVALID for a standard
 * class, STORE_IN_USE while inventories (or allocations) refer to it. */
enum store_rc store_resource_class_delete(struct store *st, const char *name);

/* Filters of store_traits_list; a NULL/negative member means "no filter". */
struct trait_filter {
    const char *const *names; /* name=in: exact names (n_names of them), or NULL */
    size_t n_names;
    const char *prefix;       /* name=startswith: (ASCII case-insensitive, as SQL LIKE) */
    int associated;           /* -1 any, 1 only traits some provider has, 0 only unused */
};

/* Streams the traits that pass every filter, sorted by name. */
enum store_rc store_traits_list(struct store *st, const struct trait_filter *f,
                                store_trait_row_fn *on_row, void *arg);

/* Fills *out with the trait called name. STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_trait_get(struct store *st, const char *name, struct trait *out);

/* Creates the custom trait name unless it exists (the caller has checked
 * the CUSTOM_ rule). *created tells which; out receives the row either way
 * (its created_at is the Last-Modified of PUT /traits/{name}). */
enum store_rc store_trait_ensure(struct store *st, const char *name, struct trait *out,
                                 bool *created);

/* Deletes a custom trait. Checked in Placement's order: STORE_NOT_FOUND,
 * STORE_INVALID for a standard (non-CUSTOM_) trait, STORE_IN_USE while a
 * provider has it. */
enum store_rc store_trait_delete(struct store *st, const char *name);

/* Resolves n trait names to ids with one query (for required/forbidden
 * trait filters). ids[i] (caller-owned, n entries) receives the id of
 * names[i], or 0 when no such trait exists (trait ids are never 0).
 * Returns STORE_OK when every name exists, STORE_NOT_FOUND when at least
 * one is missing (then *first_missing, unless first_missing is NULL,
 * points at the first missing names[i], borrowed from names; scan ids[]
 * for every 0 to name them all), or an error. Duplicate names are fine. */
enum store_rc store_traits_resolve(struct store *st, const char *const *names, size_t n,
                                   long long *ids, const char **first_missing);

/* GET /resource_providers/{uuid}/traits: in one read transaction (so the
 * generation matches the set) looks up the provider into *ref and streams
 * its traits, sorted by name. STORE_NOT_FOUND (ref->id 0, nothing streamed)
 * when no provider has this uuid. */
enum store_rc store_provider_traits_list(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_trait_row_fn *on_row,
                                         void *arg);

/* PUT /resource_providers/{uuid}/traits, all or nothing in one write
 * transaction, checked in Placement's order: STORE_NOT_FOUND when no
 * provider has this uuid; STORE_CONFLICT when its generation is not
 * generation; STORE_INVALID when
 * some of the n names (distinct) are no trait: ids (caller-owned, n
 * entries) then has 0 for each of them. Else the provider's set becomes
 * names (as store_provider_traits_replace), *new_generation (may be NULL)
 * receives its generation and on_row (may be NULL) is given the new set,
 * sorted by name; when the commit then fails, the result says so and the
 * rows streamed must be dropped. */
enum store_rc store_provider_traits_set(struct store *st, const char *uuid, long long generation,
                                        const char *const *names, size_t n, long long *ids,
                                        long long *new_generation, store_trait_row_fn *on_row,
                                        void *arg);

/* DELETE /resource_providers/{uuid}/traits: empties the provider's set
 * (as store_provider_traits_set with no names, but no generation given).
 * STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_provider_traits_clear(struct store *st, const char *uuid);

/* Replaces the trait set of provider provider_id with trait_ids (n
 * entries, duplicates allowed, n == 0 clears it) when its generation is
 * still generation. The generation (and updated_at) is bumped only if the
 * set changed. *new_generation (may be NULL) receives the resulting
 * generation. STORE_CONFLICT when the generation moved, STORE_NOT_FOUND
 * when the provider is gone, STORE_INVALID when a trait id is unknown. */
enum store_rc store_provider_traits_replace(struct store *st, long long provider_id,
                                            long long generation, const long long *trait_ids,
                                            size_t n, long long *new_generation);

/* ---- Providers and aggregates (store/providers.c, store/aggregates.c) ---- */

#define PROVIDER_NAME_MAX 200 /* characters (Placement's maxLength) */

/* One provider row as the API shows it. Strings are fixed arrays: no heap. */
struct provider {
    long long id;
    char uuid[37];
    char name[STORE_TEXT_SIZE(PROVIDER_NAME_MAX)];
    long long generation;
    char parent_uuid[37]; /* "" for a root provider */
    char root_uuid[37];
    long long created_at;
    long long updated_at; /* 0 when never updated */
};

/* Why store_provider_create/update refused (with STORE_DUPLICATE or STORE_INVALID). */
enum provider_problem {
    PROVIDER_PROBLEM_NONE = 0,
    PROVIDER_DUPLICATE_UUID,   /* STORE_DUPLICATE: the uuid is taken */
    PROVIDER_DUPLICATE_NAME,   /* STORE_DUPLICATE: the name is taken */
    PROVIDER_PARENT_MISSING,   /* STORE_INVALID: no provider has the parent uuid */
    PROVIDER_REPARENT_REFUSED, /* STORE_INVALID: moving a child needs allow_reparent */
    PROVIDER_UNPARENT_REFUSED, /* STORE_INVALID: making a child a root needs allow_reparent */
    PROVIDER_LOOP,             /* STORE_INVALID: the new parent is in the provider's subtree */
};

/* Creates a provider with generation 0 under parent_uuid (NULL for a new
 * root; its root_id is then its own id). uuid and parent_uuid are canonical.
 * The parent is checked first, then the uuid, then the name. On STORE_OK
 * fills *out; STORE_DUPLICATE/STORE_INVALID set *why. */
enum store_rc store_provider_create(struct store *st, const char *uuid, const char *name,
                                    const char *parent_uuid, struct provider *out,
                                    enum provider_problem *why);

/* Reads one provider. STORE_OK, STORE_NOT_FOUND or an error. */
enum store_rc store_provider_get(struct store *st, const char *uuid, struct provider *out);

struct provider_update {
    const char *name;        /* the new name (required) */
    bool set_parent;         /* false: leave the parent alone */
    const char *parent_uuid; /* with set_parent: the new parent, NULL to make it a root */
    bool allow_reparent;     /* 1.37+: a child may move or become a root */
};

/* Renames and (optionally) re-parents a provider in one transaction, moving
 * the root of its whole subtree along. The generation is NOT bumped;
 * updated_at is set. STORE_OK (fills *out), STORE_NOT_FOUND,
 * STORE_DUPLICATE (name taken; *why) or STORE_INVALID (*why). */
enum store_rc store_provider_update(struct store *st, const char *uuid,
                                    const struct provider_update *upd, struct provider *out,
                                    enum provider_problem *why);

/* Deletes a provider with its inventories, traits and aggregate links.
 * STORE_OK, STORE_NOT_FOUND, STORE_HAS_CHILDREN or STORE_IN_USE (allocations). */
enum store_rc store_provider_delete(struct store *st, const char *uuid);

struct id_set {
    const long long *ids;
    size_t n;
};
struct uuid_set {
    const char *const *uuids; /* canonical uuids */
    size_t n;
};
struct provider_amount {
    long long rc_id;
    long long amount;
};

/* GET /resource_providers filters, all ANDed; NULL/0 means "no filter". */
struct provider_filter {
    const char *name;
    const char *uuid;
    const char *in_tree; /* a provider uuid: its whole tree; unknown matches nothing */
    const struct id_set *required_traits; /* each set: the provider has one of its traits */
    size_t n_required_traits;
    struct id_set forbidden_traits; /* the provider has none of these */
    const struct uuid_set *member_of; /* each set: the provider is in one of its aggregates */
    size_t n_member_of;
    struct uuid_set forbidden_aggs; /* the provider is in none of these */
    const struct provider_amount *resources; /* capacity, min/max_unit and step_size fit */
    size_t n_resources;
};

/* Called once per row; the provider is valid only during the call. A
 * non-zero return stops the listing (the list call still returns STORE_OK). */
typedef int provider_row_fn(void *arg, const struct provider *p);

/* Streams the providers matching f, in id order. */
enum store_rc store_provider_list(struct store *st, const struct provider_filter *f,
                                  provider_row_fn *on_row, void *arg);

/* Called once per aggregate uuid (valid only during the call). */
typedef int aggregate_row_fn(void *arg, const char *uuid);

/* Streams the provider's aggregate uuids and sets *generation.
 * STORE_OK or STORE_NOT_FOUND. */
enum store_rc store_provider_aggregates_get(struct store *st, const char *rp_uuid,
                                            long long *generation, aggregate_row_fn *on_agg,
                                            void *arg);

/* Replaces the provider's aggregates with aggs (canonical uuids; unknown
 * ones are created). With expect_gen non-NULL the generation must equal
 * *expect_gen and is bumped by one (else STORE_CONFLICT); with NULL it is
 * left alone (before 1.19). *generation receives the resulting generation.
 * STORE_OK, STORE_NOT_FOUND or STORE_CONFLICT. */
enum store_rc store_provider_aggregates_set(struct store *st, const char *rp_uuid,
                                            const char *const *aggs, size_t n,
                                            const long long *expect_gen, long long *generation);

/* ---- Inventories, allocations, usages (store/inventories.c, store/allocations.c,
 *      store/allocation_reads.c, store/usages.c) ---- */

#define STORE_NAME_MAX 256 /* ASCII names (resource class, consumer type) and uuids: 255 + NUL */

/* One inventory record. As input (writes) only resource_class and the six
 * numbers are read; the store resolves the name. As output every field is set. */
struct inventory {
    long long rc_id;
    char resource_class[STORE_NAME_MAX];
    long long total, reserved, min_unit, max_unit, step_size;
    double allocation_ratio;
    long long created_at;
    long long updated_at; /* 0 when never updated */
};

/* Why an accounting write was refused: filled next to the store_rc so that
 * the API can word Placement's message. Lists are joined with ", ". */
enum acct_failure_kind {
    ACCT_OK = 0,
    ACCT_PROVIDER_GENERATION, /* STORE_CONFLICT: provider generation moved (expected/got) */
    ACCT_CONSUMER_GENERATION, /* STORE_CONFLICT: consumer; expected (or null) vs got (or null) */
    ACCT_PROVIDER_MISSING,    /* STORE_NOT_FOUND: an allocation (or reshape) names an unknown provider */
    ACCT_CLASS_MISSING,       /* STORE_NOT_FOUND: unknown resource class (classes) */
    ACCT_INVENTORY_MISSING,   /* STORE_NOT_FOUND: no inventory of that class to update/delete */
    ACCT_NO_INVENTORY,        /* STORE_INVALID: providers lack inventory for classes */
    ACCT_CONSTRAINTS,         /* STORE_INVALID: min_unit/max_unit/step_size violated */
    ACCT_CAPACITY,            /* STORE_INVALID: the amount would exceed the capacity */
    ACCT_INVENTORY_IN_USE,    /* STORE_IN_USE: inventory of classes has allocations */
    ACCT_INVENTORY_EXISTS,    /* STORE_DUPLICATE: the provider already has that class */
};

struct acct_failure {
    enum acct_failure_kind kind;
    char consumer[STORE_NAME_MAX];
    char providers[512];
    char classes[1024];
    long long expected, got;
    bool expected_null, got_null;
};

/* Row callbacks: the row and its strings are valid only during the call. A
 * non-zero return stops the walk (the list call still returns STORE_OK). */
typedef int store_inventory_fn(void *arg, const struct inventory *inv);

/* GET .../inventories: in one read transaction (so the generation matches
 * the records) looks up the provider with this uuid into *ref and streams
 * its inventories in class id order. STORE_NOT_FOUND (ref->id 0, nothing
 * streamed) when no provider has this uuid. */
enum store_rc store_inventories_list(struct store *st, const char *uuid, struct provider_ref *ref,
                                     store_inventory_fn *on_row, void *arg);

/* GET .../inventories/{rc}: in one read transaction looks up the provider
 * into *ref and fills *out with its inventory of class rc (a name).
 * STORE_NOT_FOUND with ref->id 0 when no provider has this uuid, with
 * ref->id set when there is no such class or no inventory of it. */
enum store_rc store_inventory_get(struct store *st, const char *uuid, const char *rc,
                                  struct provider_ref *ref, struct inventory *out);

/* Replaces the whole inventory of a provider (n == 0 deletes it all) and
 * bumps its generation by one, in one transaction. With generation >= 0 the
 * provider's generation must still be that (else STORE_CONFLICT,
 * ACCT_PROVIDER_GENERATION); -1 skips the check (DELETE .../inventories).
 * STORE_NOT_FOUND + ACCT_CLASS_MISSING for an unknown class; STORE_IN_USE +
 * ACCT_INVENTORY_IN_USE when a class to remove has allocations. Lowering a
 * total below the usage is allowed. *new_generation (may be NULL) receives
 * the new generation. fail must not be NULL. */
enum store_rc store_inventories_replace(struct store *st, long long provider_id,
                                        long long generation, const struct inventory *inv,
                                        size_t n, long long *new_generation,
                                        struct acct_failure *fail);

/* Adds one inventory (POST) and bumps the generation. STORE_NOT_FOUND +
 * ACCT_CLASS_MISSING; STORE_DUPLICATE + ACCT_INVENTORY_EXISTS. */
enum store_rc store_inventory_add(struct store *st, long long provider_id,
                                  const struct inventory *inv, long long *new_generation,
                                  struct acct_failure *fail);

/* Updates the existing inventory of inv->resource_class when the provider
 * generation is still generation, and bumps it. STORE_CONFLICT;
 * STORE_NOT_FOUND + ACCT_CLASS_MISSING or ACCT_INVENTORY_MISSING. */
enum store_rc store_inventory_update(struct store *st, long long provider_id,
                                     long long generation, const struct inventory *inv,
                                     long long *new_generation, struct acct_failure *fail);

/* Deletes the provider's inventory of class rc and bumps the generation.
 * STORE_NOT_FOUND (+ ACCT_CLASS_MISSING or ACCT_INVENTORY_MISSING);
 * STORE_IN_USE + ACCT_INVENTORY_IN_USE when it has allocations. */
enum store_rc store_inventory_delete(struct store *st, long long provider_id, const char *rc,
                                     long long *new_generation, struct acct_failure *fail);

/* One (provider, class, amount) of a consumer's new allocations. Strings
 * are borrowed for the call. provider_uuid is looked up exactly as given. */
struct alloc_item {
    const char *provider_uuid;
    const char *resource_class;
    long long used; /* >= 1 */
};

/* The complete new allocations of one consumer. */
struct consumer_allocs {
    const char *uuid;          /* the consumer id as stored (36 characters) */
    const char *project_id;    /* external ids; created on first use */
    const char *user_id;
    const char *consumer_type; /* NULL: keep the consumer's type (before 1.38) */
    bool check_generation;     /* 1.28+: compare with generation / generation_null */
    bool generation_null;      /* the client says the consumer must not exist */
    long long generation;
    const struct alloc_item *items;
    size_t n_items; /* 0 removes every allocation of the consumer */
};

/* Replaces the allocations of n consumers atomically (one BEGIN IMMEDIATE
 * transaction), in Placement's order of checks: consumer generations
 * (STORE_CONFLICT + ACCT_CONSUMER_GENERATION), providers (STORE_NOT_FOUND +
 * ACCT_PROVIDER_MISSING), classes (STORE_NOT_FOUND + ACCT_CLASS_MISSING),
 * then per provider and class: inventory present, min_unit/max_unit/
 * step_size and used + amount <= (total - reserved) * allocation_ratio
 * (STORE_INVALID + ACCT_NO_INVENTORY/CONSTRAINTS/CAPACITY); a change that
 * reduces an existing overage is allowed. On success every provider touched
 * and every consumer written gets generation + 1, projects, users, consumer
 * types and consumers are created as needed, and consumers left without
 * allocations are deleted. fail must not be NULL. */
enum store_rc store_allocations_replace(struct store *st, const struct consumer_allocs *c,
                                        size_t n, struct acct_failure *fail);

/* A provider's new inventory for store_reshape; generation is the one the
 * client sent (checked again inside the transaction). */
struct reshape_inventory {
    const char *provider_uuid; /* canonical */
    long long generation;
    const struct inventory *inv;
    size_t n_inv;
};

/* POST /reshaper: replaces the inventories of the listed providers and the
 * allocations of the listed consumers in one transaction, all or nothing
 * (Placement's objects/reshaper.py: interim union inventories, then the
 * allocations, then the final inventories). Failures are those of
 * store_inventories_replace and store_allocations_replace, plus
 * STORE_NOT_FOUND + ACCT_PROVIDER_MISSING for an unknown inventory provider. */
enum store_rc store_reshape(struct store *st, const struct reshape_inventory *inv, size_t n_inv,
                            const struct consumer_allocs *c, size_t n_c,
                            struct acct_failure *fail);

/* One allocation row as the API shows it; valid only during the callback. */
struct allocation_row {
    const char *consumer_uuid;
    long long consumer_generation;
    const char *provider_uuid;
    long long provider_generation;
    const char *resource_class;
    long long used;
    long long created_at;
    long long updated_at; /* 0 when never updated */
};
typedef int store_allocation_fn(void *arg, const struct allocation_row *row);

/* The type Placement reports for a consumer written without one (before
 * 1.38, or never given one): its DEFAULT_CONSUMER_TYPE. Real type names
 * are upper case, so it cannot clash with one. */
#define STORE_CONSUMER_TYPE_UNKNOWN "unknown"

#define STORE_EXTERNAL_ID_MAX 255 /* characters of a project or user id (any UTF-8) */

/* A consumer's own record; strings are fixed arrays. */
struct consumer_info {
    char uuid[STORE_NAME_MAX];
    char project_id[STORE_TEXT_SIZE(STORE_EXTERNAL_ID_MAX)];
    char user_id[STORE_TEXT_SIZE(STORE_EXTERNAL_ID_MAX)];
    char consumer_type[STORE_NAME_MAX]; /* ASCII; STORE_CONSUMER_TYPE_UNKNOWN without a type */
    long long generation;
};

/* Reads a consumer and streams its allocations in one read transaction.
 * info and on_row may be NULL. STORE_NOT_FOUND when no such consumer exists (then
 * nothing is streamed). */
enum store_rc store_consumer_allocations(struct store *st, const char *consumer_uuid,
                                         struct consumer_info *info,
                                         store_allocation_fn *on_row, void *arg);

/* GET /resource_providers/{uuid}/allocations: in one read transaction
 * looks up the provider into *ref and streams every allocation against it.
 * STORE_NOT_FOUND (ref->id 0, nothing streamed) when no provider has this
 * uuid. */
enum store_rc store_provider_allocations(struct store *st, const char *uuid,
                                         struct provider_ref *ref, store_allocation_fn *on_row,
                                         void *arg);

/* Deletes every allocation of the consumer and the consumer itself, without
 * touching generations (DELETE /allocations/{c}). STORE_NOT_FOUND when it
 * has no allocations. */
enum store_rc store_consumer_delete(struct store *st, const char *consumer_uuid);

/* One usage sum. group is the consumer type name, STORE_CONSUMER_TYPE_UNKNOWN or
 * "all", and NULL for provider usages; consumer_count counts the distinct
 * consumers of the group. */
struct usage_row {
    const char *group;
    const char *resource_class;
    long long used;
    long long consumer_count;
};
typedef int store_usage_fn(void *arg, const struct usage_row *row);

/* GET /resource_providers/{uuid}/usages: in one read transaction looks up
 * the provider into *ref and streams, for every class it has inventory of,
 * the sum of its allocations (0 when unused). STORE_NOT_FOUND (ref->id 0,
 * nothing streamed) when no provider has this uuid. */
enum store_rc store_provider_usages(struct store *st, const char *uuid, struct provider_ref *ref,
                                    store_usage_fn *on_row, void *arg);

enum usage_grouping {
    USAGE_BY_TYPE = 0, /* one group per consumer type, untyped under "unknown" */
    USAGE_ALL = 1,     /* everything under "all" (also used before 1.38) */
    USAGE_UNKNOWN = 2, /* only consumers without a type, under "unknown" */
    USAGE_ONE_TYPE = 3 /* only consumers of consumer_type */
};

/* Streams the usage sums of the consumers of project_id (and user_id when
 * not NULL), grouped as asked, per class. consumer_type is read only with
 * USAGE_ONE_TYPE. */
enum store_rc store_usages_by_project(struct store *st, const char *project_id,
                                      const char *user_id, enum usage_grouping grouping,
                                      const char *consumer_type, store_usage_fn *on_row,
                                      void *arg);

#endif
