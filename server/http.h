/* The HTTP front end (libmicrohttpd). The only file that includes microhttpd.h. */
#ifndef PLACID_SERVER_HTTP_H
#define PLACID_SERVER_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "server/req.h"

/* Called once per complete request on a worker thread. It must set either
 * rq->status (and optionally rq->reply/headers) or rq->err via req_fail(). */
typedef void http_dispatch_fn(struct req *rq, void *ctx);

/* Called once per request on a worker thread as soon as its headers are in,
 * before any body is read. Returns false after req_fail() to answer at once
 * without reading the body. */
typedef bool http_check_fn(struct req *rq, void *ctx);

struct http_config {
    const char *host;      /* numeric IPv4 address to bind */
    unsigned short port;   /* 0 = any free port */
    unsigned threads;      /* worker threads (MHD thread pool) */
    size_t max_body;       /* larger bodies get 413 */
    unsigned request_timeout; /* seconds to receive a whole request; 0 = no deadline */
    unsigned max_connections; /* open client connections at most; 0 = 1024 */
    unsigned max_per_client;  /* per client IP address; 0 = no cap */
    size_t max_body_memory;   /* body bytes buffered across connections; 0 = no cap */
    http_check_fn *check_headers; /* optional, see above */
    http_dispatch_fn *dispatch;
    void *ctx;
};

struct http_server;

/* Starts listening and serving. Returns NULL (after writing a one-line
 * reason into err) when the address cannot be bound. */
struct http_server *http_start(const struct http_config *cfg, char *err, size_t errsz);

/* http_start in two steps, so that a busy port is reported before a slow
 * start-up (the database) and no request arrives before it is done:
 * http_listen binds and listens (NULL and a one-line reason in err when it
 * cannot); http_serve starts answering, or frees srv and returns false. A
 * server that never served is freed with http_stop. http_listen copies cfg;
 * the dispatch function and its ctx are used from http_serve on. */
struct http_server *http_listen(const struct http_config *cfg, char *err, size_t errsz);
bool http_serve(struct http_server *srv, char *err, size_t errsz);

/* The port actually bound (useful with port 0). */
unsigned short http_port(const struct http_server *srv);

/* Stops accepting, finishes in-flight requests, frees the server. */
void http_stop(struct http_server *srv);

#endif
