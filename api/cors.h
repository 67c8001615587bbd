/* Cross-origin resource sharing as oslo.middleware's CORS middleware does
 * it (oslo_middleware/cors.py), which Placement puts outside auth when
 * [cors] allowed_origin is set. */
#ifndef PLACID_API_CORS_H
#define PLACID_API_CORS_H

#include <stdbool.h>

#include "server/req.h"

/* Comma-separated lists, BORROWED; NULL takes oslo.middleware's default. */
struct cors_config {
    const char *allowed_origin; /* NULL or "": CORS off */
    const char *allow_methods;  /* default OPTIONS,GET,HEAD,POST,PUT,DELETE,TRACE,PATCH */
    const char *allow_headers;  /* default none (the simple headers always pass) */
    const char *expose_headers; /* default none */
    long max_age;               /* seconds; 0 sends none */
    bool allow_credentials;     /* default true */
};

/* A config with oslo.middleware's defaults and no origin. */
struct cors_config cors_defaults(void);

/* True when CORS is on. */
bool cors_enabled(const struct cors_config *c);

/* With CORS on, an OPTIONS request is a preflight answered here (200,
 * with the Access-Control-* headers when origin, method and headers are
 * allowed): returns true and the request is done. Otherwise false. */
bool cors_preflight(struct req *rq, const struct cors_config *c);

/* Adds the headers of a simple/actual CORS response to rq's answer. */
void cors_apply(struct req *rq, const struct cors_config *c);

#endif
