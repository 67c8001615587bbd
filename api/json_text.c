#define _GNU_SOURCE /* mremap */
#include "api/json_text.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"
#include "server/req.h"

#define JT_MAP_MIN ((size_t)64 << 10)
#define JT_RESERVE ((size_t)64 << 20)

/* Mappings of exactly JT_RESERVE bytes are kept for the next large answer
 * instead of being unmapped: a fresh one costs a zeroed huge page per 2 MiB
 * written, which was a sixth of a 1,000-candidate answer. A kept mapping
 * stays backed for its first JT_SPARE_BACKED bytes only, so the spares
 * hold at most JT_SPARES * JT_SPARE_BACKED bytes of memory. */
#define JT_SPARES       2
#define JT_SPARE_BACKED HUGE_PAGE_SIZE

static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static char *spares[JT_SPARES];
static size_t n_spares;

/* A JT_RESERVE mapping: a kept one when there is one, else a new one. */
static char *mapping_take(void)
{
    char *m = NULL;
    pthread_mutex_lock(&spare_lock);
    if (n_spares)
        m = spares[--n_spares];
    pthread_mutex_unlock(&spare_lock);
    return m ? m : map_huge(JT_RESERVE, true);
}

/* Gives back a mapping of cap bytes of which the first used were written. */
static void mapping_give_back(char *m, size_t cap, size_t used)
{
    if (cap == JT_RESERVE) {
        pthread_mutex_lock(&spare_lock);
        bool kept = n_spares < JT_SPARES;
        if (kept)
            spares[n_spares++] = m;
        pthread_mutex_unlock(&spare_lock);
        if (kept) {
            if (used > JT_SPARE_BACKED)
                (void)madvise(m + JT_SPARE_BACKED, JT_RESERVE - JT_SPARE_BACKED, MADV_DONTNEED);
            return;
        }
    }
    munmap(m, cap);
}

void jt_reserve(struct jtext *b, size_t more)
{
    if (b->n + more <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + more)
        cap *= 2;
    if (cap <= JT_MAP_MIN) {
        b->p = xrealloc(b->p, cap);
    } else if (!b->mapped) {
        /* Reserve generously at once: untouched address space is free, and
         * a fixed aligned mapping keeps every page huge. Pages are only
         * backed once written. */
        cap = (cap + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
        char *m = cap <= JT_RESERVE ? mapping_take() : map_huge(cap, true);
        cap = cap > JT_RESERVE ? cap : JT_RESERVE;
        memcpy(m, b->p, b->n);
        free(b->p);
        b->p = m;
        b->mapped = true;
    } else {
        char *m = mremap(b->p, b->cap, cap, MREMAP_MAYMOVE);
        if (m == MAP_FAILED)
            abort();
        advise_huge(m, cap);
        b->p = m;
    }
    b->cap = cap;
}

/* The size of the mapping that holds len bytes of text and its NUL. */
static size_t jt_mapped_size(size_t len)
{
    return (len + 1 + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
}

void jt_free(struct jtext *b)
{
    if (b->mapped)
        mapping_give_back(b->p, b->cap, b->n);
    else
        free(b->p);
    memset(b, 0, sizeof(*b));
}

/* True when one of the 8 bytes of w is a control character, '"' or '\\'
 * (the bit tricks of "determine if a word has a byte less than n"). */
static bool word_needs_escape(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t quote = w ^ (ones * '"'), slash = w ^ (ones * '\\');
    uint64_t low = (w - ones * 0x20) & ~w;
    uint64_t q = (quote - ones) & ~quote, b = (slash - ones) & ~slash;
    return ((low | q | b) & highs) != 0;
}

static bool needs_escape(const char *s, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (word_needs_escape(w))
            return true;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return true;
    }
    return false;
}

/* Names and uuids placid stores rarely need escaping, so the common case is
 * a word-at-a-time check and one copy. */
void jt_str(struct jtext *b, const char *s)
{
    size_t n = strlen(s);
    bool plain = !needs_escape(s, n);
    jt_reserve(b, plain ? n + 2 : 6 * n + 2);
    char *o = b->p + b->n;
    *o++ = '"';
    if (plain) {
        memcpy(o, s, n);
        o += n;
    } else {
        for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
            if (*c == '"' || *c == '\\') {
                *o++ = '\\';
                *o++ = (char)*c;
            } else if (*c < 0x20) {
                o += sprintf(o, "\\u%04x", *c);
            } else {
                *o++ = (char)*c;
            }
        }
    }
    *o++ = '"';
    b->n = (size_t)(o - b->p);
}

void jt_int(struct jtext *b, long long v)
{
    char tmp[24];
    size_t n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    jt_reserve(b, n + 1);
    if (v < 0)
        b->p[b->n++] = '-';
    while (n)
        b->p[b->n++] = tmp[--n];
}

/* Releases a reply_text that is a jtext mapping (see jt_reply): its size
 * follows from its length. */
static void unmap_text(char *text, size_t len)
{
    size_t size = jt_mapped_size(len);
    mapping_give_back(text, size > JT_RESERVE ? size : JT_RESERVE, len);
}

void jt_reply(struct req *rq, struct jtext *parts, size_t n_parts)
{
    struct jtext b = parts[0];
    memset(&parts[0], 0, sizeof(parts[0]));
    for (size_t i = 1; i < n_parts; i++) {
        if (parts[i].n)
            jt_raw(&b, parts[i].p, parts[i].n);
        jt_free(&parts[i]);
    }
    jt_reserve(&b, 1);
    b.p[b.n] = '\0';
    if (!b.mapped) {
        req_set_reply_text(rq, b.p, b.n, NULL);
        return;
    }
    /* A mapping that grew past JT_RESERVE gives back its unused tail;
     * unmap_text recomputes the size from the length either way. */
    char *p = b.p;
    size_t size = jt_mapped_size(b.n) > JT_RESERVE ? jt_mapped_size(b.n) : JT_RESERVE;
    if (b.cap > size && (p = mremap(b.p, b.cap, size, 0)) == MAP_FAILED)
        abort();
    req_set_reply_text(rq, p, b.n, unmap_text);
}
