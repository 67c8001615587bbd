/* Finished blocks of provider trees, shared by every connection of one
 * database (store/ internal).
 *
 * The allocation candidates engine reads provider trees a block at a time:
 * block b is the trees whose root id r has r >> TREE_BLOCK_SHIFT == b. Each
 * block has a version in the table tree_versions, bumped by triggers in the
 * same transaction as any change to those trees (migration 0002). A block
 * read at version v is therefore valid for every reader whose snapshot shows
 * version v, whichever connection or process wrote it: the engine looks the
 * version up in its own read transaction and asks this cache for (b, v).
 *
 * The cache holds opaque objects (the engine's finished trees) with a
 * reference count; it frees an object with the destroy function it was made
 * with once the object is neither listed nor referenced. Objects are
 * immutable once adopted, so any number of requests may read one at once.
 * Thread-safe. */
#ifndef PLACID_STORE_TREE_CACHE_H
#define PLACID_STORE_TREE_CACHE_H

#include <stddef.h>

#define TREE_BLOCK_SHIFT 6 /* must agree with migrations/0002_tree_versions.sql */

struct tree_cache;

/* A reference to one cached (or private) object. */
struct tree_entry {
    long long block, version;
    void *obj;
    size_t bytes;
    unsigned refs;
    int listed; /* reachable from the cache's table */
};

typedef void tree_destroy_fn(void *obj);

/* A cache that lists at most budget bytes of objects (0: lists none, every
 * object stays private to its reader). Free with tree_cache_free(). */
struct tree_cache *tree_cache_new(size_t budget, tree_destroy_fn *destroy);

/* Frees the cache and every listed object. No reference may be held. */
void tree_cache_free(struct tree_cache *c);

/* Changes the budget; objects already listed stay until replaced. */
void tree_cache_set_budget(struct tree_cache *c, size_t budget);

/* The object of block at exactly version, with a new reference the caller
 * gives back with tree_cache_release(); NULL when not cached. */
struct tree_entry *tree_cache_get(struct tree_cache *c, long long block, long long version);

/* Takes ownership of obj, the block read at version (bytes: its size), and
 * returns a reference to it for the caller to release. It is listed, in
 * place of an older version, when the budget allows. */
struct tree_entry *tree_cache_adopt(struct tree_cache *c, long long block, long long version,
                                    void *obj, size_t bytes);

/* Gives back a reference from tree_cache_get() or tree_cache_adopt(). */
void tree_cache_release(struct tree_cache *c, struct tree_entry *e);

/* Bytes of the listed objects. */
size_t tree_cache_bytes(struct tree_cache *c);

#endif
