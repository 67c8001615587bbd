/* Small allocation, string, uuid and time helpers shared by every layer. */
#ifndef PLACID_CORE_UTIL_H
#define PLACID_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))

/* malloc/calloc/realloc/strdup that abort on out-of-memory; free with free(). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* A request-lifetime bump allocator: everything is freed at once by arena_free(). */
struct arena_chunk {
    struct arena_chunk *next;
    size_t used, size;
    max_align_t data[];
};
struct arena {
    struct arena_chunk *head; /* the newest chunk, the one allocations come from */
    size_t chunk_size;        /* bytes of a new chunk; 0: 4 KiB */
};
/* arena_alloc()'s slow path: a new chunk for n bytes (a multiple of
 * sizeof(max_align_t)). */
void *arena_alloc_chunk(struct arena *a, size_t n);
/* n bytes aligned for any type, valid until arena_free() or arena_reset().
 * Inline, since the engine's hot loops allocate this way. */
static inline void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
    struct arena_chunk *c = a->head;
    if (!c || c->size - c->used < n)
        return arena_alloc_chunk(a, n);
    void *p = (char *)c->data + c->used;
    c->used += n;
    return p;
}
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_printf(struct arena *a, const char *fmt, ...) PRINTF_LIKE(2, 3);
void arena_free(struct arena *a);
/* Empties a for reuse: frees every chunk but the newest, which is kept
 * (emptied), so a reused arena runs on warm memory. */
void arena_reset(struct arena *a);

/* Makes room for one more element in the arena array v of n elements of
 * elem bytes each, whose capacity is *cap: returns v while n < *cap, else a
 * copy with twice the capacity (8 at first), updating *cap. The old copy
 * stays in the arena until arena_free(). */
void *arena_grow(struct arena *a, void *v, size_t n, size_t *cap, size_t elem);

/* Hashing constants, named once. FNV-1a, 64 bits: h = FNV64_OFFSET_BASIS,
 * then h = (h ^ byte) * FNV64_PRIME for each byte. Fibonacci hashing:
 * multiplying by 2^64 / golden ratio spreads keys over the high bits. */
#define FNV64_OFFSET_BASIS  14695981039346656037ull
#define FNV64_PRIME         1099511628211ull
#define FIBONACCI_HASH_MULT 0x9e3779b97f4a7c15ull

/* FNV-1a over n bytes, from h (FNV64_OFFSET_BASIS to start, or an earlier
 * result to continue). */
uint64_t fnv1a64(uint64_t h, const void *data, size_t n);

/* FNV-1a, 64 bits, of the bytes of s up to its NUL. */
uint64_t str_hash64(const char *s);

/* The next value of this thread's xorshift64 generator, seeded from
 * /dev/urandom on first use: for uuids and sampling, not for secrets. */
uint64_t rng_next(void);

/* Writes a random version-4 uuid, lowercase and dashed, into out[37]. */
void uuid4_generate(char out[37]);

/* Accepts what oslo's is_uuid_like accepts (32 hex digits, dashes anywhere,
 * any case, optional braces or "urn:uuid:") and writes the canonical
 * lowercase dashed form into out[37]. Returns false when s is not uuid-like. */
bool uuid_normalize(const char *s, char out[37]);

/* True when s is exactly 36 characters of hex digits and dashes, the pattern
 * Placement uses for uuid keys in allocation bodies. */
bool uuid_key_like(const char *s);

/* A qsort() comparator for an array of const char *: strcmp() order. */
int strptr_cmp(const void *a, const void *b);

/* Formats t as an RFC 1123 date ("Sun, 29 Nov 2026 03:30:05 GMT") into out[30]. */
void http_date(time_t t, char out[30]);

/* Parses a base-10 integer that fills the whole string; false on junk or overflow. */
bool parse_ll(const char *s, long long *out);

/* Replaces every invalid UTF-8 sequence of s in place with '?'. */
void utf8_sanitize(char *s);

/* True when all of s is valid UTF-8 (no overlong forms, no surrogates). */
bool utf8_valid(const char *s);

/* ---- Huge-page mappings, for large arrays and answers ---- */

/* The size of a transparent huge page (x86-64 and arm64 with 4 KiB pages). */
#define HUGE_PAGE_SIZE ((size_t)2 << 20)

/* A new private anonymous read-write mapping of bytes (a multiple of the
 * page size) that starts on a HUGE_PAGE_SIZE boundary and asks for
 * transparent huge pages (MADV_HUGEPAGE), so that all of it can use them.
 * With noreserve the kernel does not count it against the commit limit
 * (MAP_NORESERVE): for address space reserved generously and written only
 * in part. Aborts when out of memory, like xmalloc(). The caller owns it:
 * grow it with mremap(), release it with munmap(p, bytes). */
void *map_huge(size_t bytes, bool noreserve);

/* Asks for transparent huge pages on the whole huge pages that lie inside
 * [p, p + n). */
void advise_huge(void *p, size_t n);

/* Decodes the %XX escapes of a URL path or query part in place, except
 * %00, which stays as those three characters: every string made from a URL
 * is a C string, and a decoded NUL would silently cut it short. Returns the
 * new length. */
size_t url_unescape(char *s);

#endif
