#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void oom(void)
{
    fputs("placid: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

#define ARENA_CHUNK 4096

void *arena_alloc_chunk(struct arena *a, size_t n)
{
    size_t chunk = a->chunk_size ? a->chunk_size : ARENA_CHUNK;
    size_t size = n > chunk ? n : chunk;
    struct arena_chunk *c = xmalloc(sizeof(*c) + size);
    c->size = size;
    c->used = n;
    c->next = a->head;
    a->head = c;
    return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p = arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *p = arena_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void *arena_grow(struct arena *a, void *v, size_t n, size_t *cap, size_t elem)
{
    if (n < *cap)
        return v;
    size_t ncap = *cap ? 2 * *cap : 8;
    void *nv = arena_alloc(a, ncap * elem);
    if (n)
        memcpy(nv, v, n * elem);
    *cap = ncap;
    return nv;
}

void arena_free(struct arena *a)
{
    struct arena_chunk *c = a->head;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
}

uint64_t fnv1a64(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * FNV64_PRIME;
    return h;
}

void arena_reset(struct arena *a)
{
    if (!a->head)
        return;
    struct arena_chunk *keep = a->head, *c = keep->next;
    while (c) {
        struct arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    keep->next = NULL;
    keep->used = 0;
}

uint64_t str_hash64(const char *s)
{
    return fnv1a64(FNV64_OFFSET_BASIS, s, strlen(s));
}

/* xorshift state seeded from /dev/urandom per thread; uuids need uniqueness,
 * not secrecy. The shifts are Marsaglia's xorshift64 triple (13, 7, 17),
 * which gives the full period of 2^64 - 1 from any non-zero state. */
static _Thread_local uint64_t rng_state;

enum { XORSHIFT64_A = 13, XORSHIFT64_B = 7, XORSHIFT64_C = 17 };

uint64_t rng_next(void)
{
    if (!rng_state) {
        int fd = open("/dev/urandom", O_RDONLY);
        if (fd < 0 || read(fd, &rng_state, sizeof(rng_state)) != (ssize_t)sizeof(rng_state))
            rng_state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&rng_state;
        if (fd >= 0)
            close(fd);
        rng_state |= 1;
    }
    rng_state ^= rng_state << XORSHIFT64_A;
    rng_state ^= rng_state >> XORSHIFT64_B;
    rng_state ^= rng_state << XORSHIFT64_C;
    return rng_state;
}

static void format_uuid(const unsigned char b[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void uuid4_generate(char out[37])
{
    unsigned char b[16];
    uint64_t r1 = rng_next(), r2 = rng_next();
    memcpy(b, &r1, 8);
    memcpy(b + 8, &r2, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    format_uuid(b, out);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool uuid_normalize(const char *s, char out[37])
{
    if (!s)
        return false;
    if (strncmp(s, "urn:uuid:", 9) == 0)
        s += 9;
    size_t len = strlen(s);
    if (len >= 2 && s[0] == '{' && s[len - 1] == '}') {
        s++;
        len -= 2;
    }
    unsigned char b[16];
    int nib = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '-')
            continue;
        int v = hexval((unsigned char)s[i]);
        if (v < 0 || nib >= 32)
            return false;
        if (nib % 2 == 0)
            b[nib / 2] = (unsigned char)(v << 4);
        else
            b[nib / 2] = (unsigned char)(b[nib / 2] | v);
        nib++;
    }
    if (nib != 32)
        return false;
    format_uuid(b, out);
    return true;
}

bool uuid_key_like(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!isxdigit((unsigned char)s[n]) && s[n] != '-')
            return false;
    return n == 36;
}

int strptr_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void http_date(time_t t, char out[30])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

bool parse_ll(const char *s, long long *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Length of the valid UTF-8 sequence at s, or 0 when it is invalid. */
static size_t utf8_seq_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    uint32_t cp;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    static const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (n == 0) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n = utf8_seq_len(p);
        if (n == 0)
            return false;
        p += n;
    }
    return true;
}

size_t url_unescape(char *s)
{
    char *r = s, *w = s;
    while (*r) {
        int hi, lo;
        if (r[0] == '%' && (hi = hexval((unsigned char)r[1])) >= 0 &&
            (lo = hexval((unsigned char)r[2])) >= 0 && (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

void *map_huge(size_t bytes, bool noreserve)
{
    /* Map a huge page more than asked, then trim both ends to the aligned
     * part. */
    size_t len = bytes + HUGE_PAGE_SIZE;
    int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0);
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (p == MAP_FAILED)
        oom();
    uintptr_t a = ((uintptr_t)p + HUGE_PAGE_SIZE - 1) & ~(uintptr_t)(HUGE_PAGE_SIZE - 1);
    size_t head = a - (uintptr_t)p;
    if (head)
        munmap(p, head);
    if (len - head - bytes)
        munmap((char *)a + bytes, len - head - bytes);
    (void)madvise((void *)a, bytes, MADV_HUGEPAGE);
    return (void *)a;
}

void advise_huge(void *p, size_t n)
{
    uintptr_t mask = ~(uintptr_t)(HUGE_PAGE_SIZE - 1);
    uintptr_t start = ((uintptr_t)p + HUGE_PAGE_SIZE - 1) & mask;
    uintptr_t end = ((uintptr_t)p + n) & mask;
    if (end > start)
        (void)madvise((void *)start, end - start, MADV_HUGEPAGE);
}
