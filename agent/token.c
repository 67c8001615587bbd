#include "agent/token.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Copies the host of url into host[size] (without brackets). */
static bool url_host(const char *url, char *host, size_t size)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t auth = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth);
    if (at) {
        auth -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    size_t n;
    if (*p == '[') {
        const char *close = memchr(p, ']', auth);
        if (!close)
            return false;
        p++;
        n = (size_t)(close - p);
    } else {
        n = strcspn(p, ":/?#");
    }
    if (n == 0 || n >= size)
        return false;
    memcpy(host, p, n);
    host[n] = '\0';
    return true;
}

bool agent_url_is_loopback(const char *url)
{
    char host[256];
    unsigned char addr[16];
    if (!url || !url_host(url, host, sizeof(host)))
        return false;
    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, addr) == 1)
        return addr[0] == 127;
    if (inet_pton(AF_INET6, host, addr) != 1)
        return false;
    static const unsigned char v6_loopback[16] = {[15] = 1};
    static const unsigned char v4_mapped[12] = {[10] = 0xff, [11] = 0xff};
    return memcmp(addr, v6_loopback, 16) == 0 ||
           (memcmp(addr, v4_mapped, 12) == 0 && addr[12] == 127);
}

int agent_token_check(const char *token, char *err, size_t errsz)
{
    size_t n = strlen(token);
    if (n == 0) {
        snprintf(err, errsz, "the token is empty");
        return -1;
    }
    if (n > AGENT_MAX_TOKEN) {
        snprintf(err, errsz, "the token is %zu characters long; at most %d are accepted", n,
                 AGENT_MAX_TOKEN);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c <= ' ' || c >= 0x7f) {
            snprintf(err, errsz,
                     "the token has a space, control or non-ASCII character at position %zu",
                     i + 1);
            return -1;
        }
    }
    return 0;
}

char *agent_token_read_file(const char *path, char *err, size_t errsz)
{
    char msg[256];
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errsz, "cannot read token file %s: %s", path, strerror(errno));
        return NULL;
    }
    /* One byte more than a token, its line break and a few blanks, so a
     * longer first line is seen as too long rather than silently cut. */
    size_t cap = AGENT_MAX_TOKEN + 64;
    char *line = malloc(cap + 1);
    if (!line) {
        fclose(f);
        snprintf(err, errsz, "out of memory reading token file %s", path);
        return NULL;
    }
    size_t len = 0;
    int c;
    while (len < cap && (c = fgetc(f)) != EOF && c != '\n')
        line[len++] = (char)c;
    bool read_error = ferror(f) != 0;
    fclose(f);
    line[len] = '\0';
    char *start = line;
    while (isspace((unsigned char)*start))
        start++;
    size_t n = strlen(start);
    while (n && isspace((unsigned char)start[n - 1]))
        start[--n] = '\0';
    if (read_error || len == cap) {
        snprintf(err, errsz, "token file %s: %s", path,
                 read_error ? "read error" : "the first line is too long (at most 8192 characters)");
        free(line);
        return NULL;
    }
    if (agent_token_check(start, msg, sizeof(msg)) < 0) {
        snprintf(err, errsz, "token file %s: %s", path, msg);
        free(line);
        return NULL;
    }
    memmove(line, start, n + 1);
    return line;
}
