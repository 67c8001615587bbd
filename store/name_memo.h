/* What a store handle remembers of the ids of the standard resource classes
 * and traits. The API never renames or deletes a standard name (only
 * CUSTOM_ names are written by clients), so an id read once from the
 * database stays right for as long as the database lives, on every node
 * that shares it; custom names are always read. On PostgreSQL this saves a
 * round trip per name of a request (a candidates query names a few classes
 * and traits, and its answer a few more).
 *
 * One per store handle (struct store), used by one thread at a time;
 * zero-initialized is empty. */
#ifndef PLACID_STORE_NAME_MEMO_H
#define PLACID_STORE_NAME_MEMO_H

#include <stdbool.h>

#include "core/idmap.h"

enum memo_kind { MEMO_RC, MEMO_TRAIT, MEMO__COUNT };

struct name_memo {
    long long *ids[MEMO__COUNT];    /* id + 1 by standard index (VCPU is id 0); 0: not read
                                     * yet; malloc'd on first note */
    struct idmap names[MEMO__COUNT]; /* id -> standard index + 1 */
};

/* The id of standard name, when m has read it before. */
bool name_memo_id(const struct name_memo *m, enum memo_kind kind, const char *name,
                  long long *id);

/* The standard name of id (a static string), or NULL when m has not read it. */
const char *name_memo_name(const struct name_memo *m, enum memo_kind kind, long long id);

/* Remembers that name has id in the database; ignored unless name is standard. */
void name_memo_note(struct name_memo *m, enum memo_kind kind, const char *name, long long id);

/* Frees what m holds; m is then empty. */
void name_memo_free(struct name_memo *m);

#endif
