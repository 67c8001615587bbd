/* The lock order of writers on a shared database (store/ only;
 * docs/postgresql.md §2). */
#ifndef PLACID_STORE_LOCKS_H
#define PLACID_STORE_LOCKS_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"

/* Inside a write unit, before reading the usage or inventory a write
 * depends on: locks the providers ids[0..n-1] (any order, duplicates
 * allowed) FOR UPDATE in ascending id order, then their tree_versions
 * blocks in ascending order. On PostgreSQL (READ COMMITTED) a claim that
 * reads usage after this sees every claim that held the lock before it, so
 * racing claims on several nodes cannot oversubscribe, and two writers
 * cannot deadlock on providers or blocks. On SQLite, whose write
 * transactions are serialized (BEGIN IMMEDIATE), it does nothing. STORE_OK
 * or the statement's mapped error. */
enum store_rc store_lock_providers(struct store *st, const long long *ids, size_t n);

/* Inside a write unit, before looking a custom resource class (or trait)
 * up again and inserting it: makes this unit the only creator on the
 * database until it ends (PostgreSQL: LOCK TABLE ... IN SHARE ROW
 * EXCLUSIVE MODE; reads go on). So two nodes creating names at once never
 * pick the same class id, and a name another node created first is found
 * instead of failing on the unique index. Nothing on SQLite (its write
 * transaction already excludes every other). STORE_OK or the mapped
 * error. */
enum store_rc store_lock_resource_classes(struct store *st);
enum store_rc store_lock_traits(struct store *st);

/* True when store_lock_providers takes row locks (PostgreSQL): a provider
 * generation read before it must be read again after it. False on SQLite,
 * where a caller skips its lock preparation altogether. */
bool store_locks_rows(const struct store *st);

#endif
