/* Declarations shared by store/inventories.c, store/allocations.c,
 * store/allocation_reads.c and store/usages.c only (the accounting area of
 * the store). */
#ifndef PLACID_STORE_ACCOUNTING_H
#define PLACID_STORE_ACCOUNTING_H

#include "store/internal.h"

/* Clears *fail (kind ACCT_OK, empty strings). */
void acct_fail_clear(struct acct_failure *fail);

/* Appends item to the ", "-joined list in buf (truncating, never overflowing). */
void acct_join(char *buf, size_t size, const char *item);

/* Resolves a resource class name. STORE_NOT_FOUND sets ACCT_CLASS_MISSING
 * with the name in fail->classes. */
enum store_rc acct_class_id(struct store *st, const char *name, long long *id,
                            struct acct_failure *fail);

/* Writes inventory records inv[0..n) of a provider (insert or update, by
 * class name) without touching its generation. With remove_others, every
 * other class of the provider is deleted first, refused with STORE_IN_USE +
 * ACCT_INVENTORY_IN_USE (all such classes listed, by class id) when any of
 * them has allocations. Unknown classes: STORE_NOT_FOUND + ACCT_CLASS_MISSING,
 * checked before anything is written. Must run inside a write transaction. */
enum store_rc acct_inventories_apply(struct store *st, long long provider_id,
                                     const struct inventory *inv, size_t n, bool remove_others,
                                     struct acct_failure *fail);

/* Reads the consumer with this uuid: its row id into *id and, unless info
 * is NULL, its record into *info. STORE_OK or STORE_NOT_FOUND
 * (store/allocation_reads.c). */
enum store_rc acct_consumer_read(struct store *st, const char *uuid, long long *id,
                                 struct consumer_info *info);

#endif
