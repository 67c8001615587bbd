/* The memo of standard names' ids: see store/name_memo.h. */
#include "store/name_memo.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "store/standard_names.h"

static int compare_names(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

/* The index of name in the standard list of kind, or -1. The traits are
 * listed in byte order; the 21 classes are in id order and few. */
static long standard_index(enum memo_kind kind, const char *name)
{
    if (kind == MEMO_TRAIT) {
        const char *const *hit = bsearch(name, standard_traits, standard_traits_count,
                                         sizeof(*standard_traits), compare_names);
        return hit ? (long)(hit - standard_traits) : -1;
    }
    for (size_t i = 0; i < standard_resource_classes_count; i++)
        if (strcmp(standard_resource_classes[i], name) == 0)
            return (long)i;
    return -1;
}

static size_t standard_count(enum memo_kind kind)
{
    return kind == MEMO_TRAIT ? standard_traits_count : standard_resource_classes_count;
}

static const char *standard_name(enum memo_kind kind, size_t i)
{
    return kind == MEMO_TRAIT ? standard_traits[i] : standard_resource_classes[i];
}

bool name_memo_id(const struct name_memo *m, enum memo_kind kind, const char *name,
                  long long *id)
{
    if (!m->ids[kind])
        return false;
    long i = standard_index(kind, name);
    if (i < 0 || m->ids[kind][i] == 0)
        return false;
    *id = m->ids[kind][i] - 1;
    return true;
}

const char *name_memo_name(const struct name_memo *m, enum memo_kind kind, long long id)
{
    uintptr_t v = idmap_get(&m->names[kind], (uint64_t)id);
    return v ? standard_name(kind, v - 1) : NULL;
}

void name_memo_note(struct name_memo *m, enum memo_kind kind, const char *name, long long id)
{
    long i = standard_index(kind, name);
    if (i < 0)
        return;
    if (!m->ids[kind])
        m->ids[kind] = xcalloc(standard_count(kind), sizeof(*m->ids[kind]));
    m->ids[kind][i] = id + 1;
    idmap_put(&m->names[kind], (uint64_t)id, (uintptr_t)i + 1);
}

void name_memo_free(struct name_memo *m)
{
    for (int k = 0; k < MEMO__COUNT; k++) {
        free(m->ids[k]);
        m->ids[k] = NULL;
        idmap_free(&m->names[k]);
    }
}
