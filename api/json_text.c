#define _GNU_SOURCE /* mremap */
#include "api/json_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "server/req.h"
#include "server/util.h"

#define JT_MAP_MIN ((size_t)64 << 10)
#define JT_RESERVE ((size_t)64 << 20)

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
        cap = cap > JT_RESERVE ? cap : JT_RESERVE;
        cap = (cap + HUGE_PAGE_SIZE - 1) & ~(HUGE_PAGE_SIZE - 1);
        char *m = map_huge(cap, true);
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
        munmap(b->p, b->cap);
    else
        free(b->p);
    memset(b, 0, sizeof(*b));
}

void jt_raw(struct jtext *b, const char *s, size_t n)
{
    jt_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

/* Names and uuids placid stores rarely need escaping, so the common case is
 * one scan and one copy. */
void jt_str(struct jtext *b, const char *s)
{
    size_t n = 0;
    bool plain = true;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++, n++)
        plain &= *c >= 0x20 && *c != '"' && *c != '\\';
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

/* Releases a reply_text that is a jtext mapping (see jt_reply). */
static void unmap_text(char *text, size_t len)
{
    munmap(text, jt_mapped_size(len));
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
    /* Give back the reserved but unused tail; unmap_text recomputes the
     * size from the length. */
    char *p = mremap(b.p, b.cap, jt_mapped_size(b.n), 0);
    if (p == MAP_FAILED)
        abort();
    req_set_reply_text(rq, p, b.n, unmap_text);
}
