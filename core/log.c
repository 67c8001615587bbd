#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level min_level = LOG_INFO;
static enum log_format line_format = LOG_TEXT;
static const char *const level_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_set_level(enum log_level level)
{
    min_level = level;
}

void log_set_format(enum log_format format)
{
    line_format = format;
}

/* ---- a growing line ---- */

struct line {
    char *p;
    size_t n, cap;
};

static void put_mem(struct line *l, const char *s, size_t n)
{
    if (l->n + n + 2 > l->cap) {
        l->cap = (l->n + n + 2) * 2;
        l->p = xrealloc(l->p, l->cap);
    }
    memcpy(l->p + l->n, s, n);
    l->n += n;
}

static void put(struct line *l, const char *s)
{
    put_mem(l, s, strlen(s));
}

static void putf(struct line *l, const char *fmt, ...) PRINTF_LIKE(2, 3);

static void putf(struct line *l, const char *fmt, ...)
{
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put_mem(l, buf, n < 0 ? 0 : (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

/* ---- escaping ---- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there
 * are not one; *cp receives the code point. */
static size_t utf8_seq(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    if (!n)
        return 0;
    unsigned v = n == 1 ? c : c & (0x7f >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/* The escape for one character (code point cp, or a raw invalid byte when
 * invalid), or NULL when it is written as it is. */
static const char *escape_of(unsigned cp, bool invalid, enum log_format format, char buf[16])
{
    if (invalid) {
        snprintf(buf, 16, format == LOG_JSON ? "\\\\x%02x" : "\\x%02x", cp);
        return buf;
    }
    switch (cp) {
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '"': return format == LOG_JSON ? "\\\"" : NULL;
    default: break;
    }
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
        snprintf(buf, 16, format == LOG_JSON || cp > 0x7f ? "\\u%04x" : "\\x%02x", cp);
        return buf;
    }
    return NULL;
}

static void put_escaped(struct line *l, const char *s, enum log_format format)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        const unsigned char *start = p;
        unsigned cp = 0;
        /* printable ASCII that needs no escape in either format: the common case */
        while (*p >= 0x20 && *p < 0x7f && *p != '\\' && *p != '"')
            p++;
        char buf[16];
        const char *esc = NULL;
        /* the plain run */
        for (size_t n; *p; p += n) {
            n = utf8_seq(p, &cp);
            if (!n || (esc = escape_of(cp, false, format, buf)))
                break;
        }
        put_mem(l, (const char *)start, (size_t)(p - start));
        if (!*p)
            break;
        size_t n = utf8_seq(p, &cp);
        put(l, n ? esc : escape_of(*p, true, format, buf));
        p += n ? n : 1;
    }
}

size_t log_escape(char *out, size_t cap, const char *s, enum log_format format)
{
    struct line l = {0};
    put_escaped(&l, s, format);
    if (cap) {
        size_t n = l.n < cap - 1 ? l.n : cap - 1;
        if (n)
            memcpy(out, l.p, n);
        out[n] = '\0';
    }
    free(l.p);
    return l.n;
}

/* ---- lines ---- */

/* "src/file.c" from a compiler path: the last two components. */
static const char *short_file(const char *file)
{
    const char *last = strrchr(file, '/');
    if (!last)
        return file;
    const char *p = last;
    while (p > file && p[-1] != '/')
        p--;
    return p;
}

static void put_time(struct line *l)
{
    struct timeval tv;
    struct tm tm;
    char ts[40];
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    size_t n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
    put(l, ts);
}

/* Starts a line: text "<time> <LEVEL> ", JSON {"time": ..., "level": ...,
 * "caller": ... (without the closing brace). */
static void begin(struct line *l, enum log_level level, const char *file, int line)
{
    if (line_format == LOG_TEXT) {
        put_time(l);
        putf(l, " %s ", level_names[level]);
        return;
    }
    put(l, "{\"time\": \"");
    put_time(l);
    putf(l, "\", \"level\": \"%s\", \"caller\": \"", level_names[level]);
    put_escaped(l, short_file(file), LOG_JSON);
    putf(l, ":%d\"", line);
}

/* A JSON string member ", \"name\": \"value\"", escaped; NULL is null. */
static void member(struct line *l, const char *name, const char *value)
{
    putf(l, ", \"%s\": ", name);
    if (!value) {
        put(l, "null");
        return;
    }
    put(l, "\"");
    put_escaped(l, value, LOG_JSON);
    put(l, "\"");
}

/* Ends the line and writes it with one write(), which keeps lines from
 * different threads whole. */
static void finish(struct line *l)
{
    if (line_format == LOG_JSON)
        put(l, "}");
    put(l, "\n");
    ssize_t w = write(STDERR_FILENO, l->p, l->n);
    (void)w;
    free(l->p);
}

void log_msg_at(const char *file, int line, enum log_level level, const char *fmt, ...)
{
    char msg[4096];
    struct line l = {0};
    if (level < min_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    begin(&l, level, file, line);
    if (line_format == LOG_TEXT)
        put_escaped(&l, msg, LOG_TEXT);
    else
        member(&l, "message", msg);
    finish(&l);
}

static void request_text(struct line *l, const struct log_request *r)
{
    put_escaped(l, r->method ? r->method : "-", LOG_TEXT);
    put(l, " ");
    put_escaped(l, r->path ? r->path : "-", LOG_TEXT);
    putf(l, " %d %.2fms ", r->status, r->duration_ms);
    put_escaped(l, r->request_id ? r->request_id : "-", LOG_TEXT);
    if (r->global_request_id) {
        put(l, " global=");
        put_escaped(l, r->global_request_id, LOG_TEXT);
    }
    if (r->aborted)
        put(l, " (aborted)");
}

static void request_json(struct line *l, const struct log_request *r)
{
    struct line msg = {0}; /* the text line's words, escaped once, as JSON */
    put(&msg, r->method ? r->method : "-");
    put(&msg, " ");
    put(&msg, r->path ? r->path : "-");
    putf(&msg, " %d %.2fms%s", r->status, r->duration_ms, r->aborted ? " (aborted)" : "");
    msg.p[msg.n] = '\0';
    member(l, "message", msg.p);
    free(msg.p);
    member(l, "request_id", r->request_id);
    member(l, "global_request_id", r->global_request_id);
    member(l, "method", r->method);
    member(l, "path", r->path);
    putf(l, ", \"status\": %d, \"duration_ms\": %.3f", r->status, r->duration_ms);
    if (r->client_ipv4)
        putf(l, ", \"client\": \"%u.%u.%u.%u\"", r->client_ipv4 >> 24, (r->client_ipv4 >> 16) & 255,
             (r->client_ipv4 >> 8) & 255, r->client_ipv4 & 255);
    else
        put(l, ", \"client\": null");
    putf(l, ", \"aborted\": %s", r->aborted ? "true" : "false");
}

void log_request_at(const char *file, int line, const struct log_request *r)
{
    struct line l = {0};
    if (LOG_INFO < min_level)
        return;
    begin(&l, LOG_INFO, file, line);
    if (line_format == LOG_TEXT)
        request_text(&l, r);
    else
        request_json(&l, r);
    finish(&l);
}
