#include "server/microversion.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* Upstream's message ends with Python's own reason from
 * Version(*(int(v) for v in s.split('.', 1))): int() of the first part that
 * is not a number, or the minor missing from a lone "X". Both parts numbers
 * (only out of range here) get no reason. */
static void malformed(const char *buf, char *err, size_t errsz)
{
    char major[64];
    const char *dot = strchr(buf, '.');
    long long v;
    snprintf(major, sizeof(major), "%.*s", dot ? (int)(dot - buf) : (int)strlen(buf), buf);
    const char *bad = !parse_ll(major, &v) ? major : dot && !parse_ll(dot + 1, &v) ? dot + 1 : NULL;
    if (bad)
        snprintf(err, errsz,
                 "invalid version string: %s; invalid literal for int() with base 10: '%s'", buf,
                 bad);
    else if (!dot)
        snprintf(err, errsz,
                 "invalid version string: %s; Version.__new__() missing 1 required positional "
                 "argument: 'minor'",
                 buf);
    else
        snprintf(err, errsz, "invalid version string: %s", buf);
}

/* Parses "X.Y" (or "latest") of length n. Python's int() accepts leading
 * zeros and surrounding blanks, so "1.05" is 1.5. */
static enum mv_result parse_value(const char *s, size_t n, unsigned *out, char *err, size_t errsz)
{
    char buf[64];
    trim(&s, &n);
    if (n >= sizeof(buf)) {
        snprintf(err, errsz, "invalid version string: %.40s...", s);
        return MV_MALFORMED;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    if (strcasecmp(buf, "latest") == 0) {
        *out = MV_LATEST;
        return MV_OK;
    }
    char *dot = strchr(buf, '.');
    long long major, minor;
    if (dot) {
        *dot = '\0';
        if (parse_ll(buf, &major) && parse_ll(dot + 1, &minor) && major >= 0 && minor >= 0 &&
            major < 65536 && minor < 65536) {
            *out = MV(major, minor);
            if (*out < MV_MIN || *out > MV_LATEST) {
                snprintf(err, errsz, "Unacceptable version header: %lld.%lld", major, minor);
                return MV_UNACCEPTABLE;
            }
            return MV_OK;
        }
        *dot = '.';
    }
    malformed(buf, err, errsz);
    return MV_MALFORMED;
}

enum mv_result mv_parse(const char *header, unsigned *out, char *err, size_t errsz)
{
    const char *value = NULL;
    size_t value_len = 0;

    *out = MV_MIN;
    if (!header)
        return MV_OK;
    for (const char *p = header; *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *item = p;
        trim(&item, &n);
        if (n > 9 && strncasecmp(item, "placement", 9) == 0 && isspace((unsigned char)item[9])) {
            value = item + 9;
            value_len = n - 9;
        }
        p = end ? end + 1 : p + strlen(p);
    }
    if (!value)
        return MV_OK;
    return parse_value(value, value_len, out, err, errsz);
}

char *mv_format(unsigned mv, char buf[16])
{
    snprintf(buf, 16, "%u.%u", MV_MAJOR(mv), MV_MINOR(mv));
    return buf;
}
