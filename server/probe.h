/* A minimal HTTP client for `placid --check-health` (no curl in the image). */
#ifndef PLACID_SERVER_PROBE_H
#define PLACID_SERVER_PROBE_H

#include <stddef.h>

/* Sends "GET path HTTP/1.0" to host:port (host "0.0.0.0" means this
 * machine: 127.0.0.1) and waits at most timeout_ms for each step. Returns
 * the HTTP status, or -1 with a one-line reason in err. */
int probe_get(const char *host, unsigned short port, const char *path, int timeout_ms, char *err,
              size_t errsz);

#endif
