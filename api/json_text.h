/* A growing buffer for writing JSON text directly, for answers too large to
 * build as jansson trees (thousands of providers or candidates). */
#ifndef PLACID_API_JSON_TEXT_H
#define PLACID_API_JSON_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct req;

struct jtext {
    char *p;
    size_t n, cap;
    bool mapped; /* p is a huge-page mapping rather than malloc'd */
};

/* Makes room for more bytes. Small buffers are malloc'd; past 64 KiB the
 * buffer moves to its own mapping that grows with mremap (no copying) and
 * uses transparent huge pages, because on a virtual machine faulting in
 * fresh 4 KiB pages would dominate a large answer. */
void jt_reserve(struct jtext *b, size_t more);

/* Frees the buffer and empties b. */
void jt_free(struct jtext *b);

/* Appends n raw bytes / a literal. Inline: most calls copy a few constant
 * bytes, which the compiler turns into plain moves. */
static inline void jt_raw(struct jtext *b, const char *s, size_t n)
{
    if (b->n + n > b->cap)
        jt_reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
#define JT_LIT(b, lit) jt_raw((b), (lit), sizeof(lit) - 1)

/* Appends s as a JSON string (quotes and control characters escaped). */
void jt_str(struct jtext *b, const char *s);

/* Appends a JSON integer. */
void jt_int(struct jtext *b, long long v);

/* Concatenates the parts (emptying them) and hands the text to rq as its
 * reply_text: the first part's buffer is extended in place, so a large
 * answer is neither copied to fresh memory nor faulted in twice. */
void jt_reply(struct req *rq, struct jtext *parts, size_t n_parts);

#endif
