/* One collector for HTTP response bodies, shared by the Keystone client
 * (api/keystone.c, also in placid-agent), the agent's Keystone login
 * (agent/keystone.c) and the agent's Placement client (agent/client.c). */
#ifndef PLACID_CORE_BODY_BUF_H
#define PLACID_CORE_BODY_BUF_H

#include <stdbool.h>
#include <stddef.h>

/* A body received so far. Start it zeroed but for max. The caller owns
 * data: free(b.data). */
struct body_buf {
    char *data;     /* NUL-terminated; NULL until the first call */
    size_t len;     /* bytes in data, not counting the NUL */
    size_t cap;     /* bytes allocated for data */
    size_t max;     /* a body longer than this is refused */
    bool too_large; /* set when a body was refused for max */
};

/* Appends the size * n bytes at data to the body_buf cls. Has libcurl's
 * CURLOPT_WRITEFUNCTION signature (core/ does not link libcurl): returns
 * the bytes taken, or 0 (libcurl then aborts the transfer with
 * CURLE_WRITE_ERROR) when the body would pass cls->max. */
size_t body_buf_collect(char *data, size_t size, size_t n, void *cls);

#endif
