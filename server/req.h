/* The request context: the only thing a handler sees (house style 4.4). */
#ifndef PLACID_SERVER_REQ_H
#define PLACID_SERVER_REQ_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "core/util.h"

/* struct req's content_length when it holds no length. */
#define REQ_LENGTH_ABSENT  (-1LL) /* no Content-Length header */
#define REQ_LENGTH_INVALID (-2LL) /* a Content-Length that is not an integer */

#define REQ_MAX_PARAMS  4
#define REQ_MAX_HEADERS 8

struct kv {
    const char *key;
    const char *value; /* NULL for a query key given without '=' */
};

struct req_error {
    int status;          /* 0 while no error was recorded */
    const char *code;    /* ERR_* string, static */
    char detail[1024];   /* the human message (after webob's explanation) */
    bool version_bounds; /* 406 on version: add min_version/max_version */
};

struct store;
struct auth_caller;
struct route;
struct api_ctx;

struct req {
    /* In: set by server/ before the handler runs; handlers only read. */
    const char *method, *path;
    unsigned mv;      /* negotiated microversion */
    bool mv_known;    /* false when the version header was malformed */
    char request_id[41];
    struct kv params[REQ_MAX_PARAMS]; /* {uuid}, {name}: arena copies */
    size_t n_params;
    struct kv *query; /* arena array, repeated keys kept in order */
    size_t n_query;
    const char *token;        /* X-Auth-Token or NULL */
    const char *accept;       /* Accept or NULL */
    const char *content_type; /* Content-Type or NULL */
    const char *host;         /* Host or NULL, for absolute Location URLs */
    long long content_length; /* or REQ_LENGTH_ABSENT / REQ_LENGTH_INVALID */
    const char *raw_body;     /* BORROWED request bytes (not NUL-terminated) */
    size_t body_len;
    json_t *body;        /* parsed body or NULL; OWNED by req */
    bool is_admin;       /* set by the API layer from the token */
    struct kv *in_headers; /* every request header (arena copies), for api/'s
                            * auth, policy and CORS; see req_header() */
    size_t n_in_headers;
    const struct auth_caller *caller; /* who is calling: set by api/ (arena) */
    const struct route *route; /* matched by the API's header phase, or NULL */
    const struct api_ctx *api; /* BORROWED: the API's configuration, set by its header phase */
    const char *route_pattern; /* pattern of the route the path matched (static), or NULL:
                                * labels the request's metrics */
    struct store *store; /* BORROWED from the pool for this call */
    struct arena arena;  /* request-lifetime scratch; freed at completion */
    int client_fd;       /* the client's socket (-1: none), for req_client_gone */

    /* Out: set by the handler. */
    int status;    /* 200/201/204 ... */
    json_t *reply; /* OWNED by req; NULL means empty body */
    char *reply_text; /* OWNED by req: a pre-serialised JSON body that wins over
                       * reply, for very large answers; set with req_set_reply_text */
    size_t reply_text_len;
    void (*reply_text_free)(char *text, size_t len); /* NULL: free() */
    const char *reply_type; /* Content-Type of reply_text; NULL: application/json */
    struct kv headers[REQ_MAX_HEADERS];
    size_t n_headers;
    time_t last_modified; /* 0 = no Last-Modified/Cache-Control headers */
    struct req_error err; /* set by req_fail(); wins over reply */
};

typedef int handler_fn(struct req *rq);

/* Initialises rq for one request (zeroes it, content_length = REQ_LENGTH_ABSENT,
 * new request id). */
void req_init(struct req *rq);

/* Frees everything the request owns: body, reply, arena. */
void req_release(struct req *rq);

/* Records the first error on rq and returns -1. Invalid UTF-8 in the
 * detail becomes '?', so rendering cannot fail. */
int req_fail(struct req *rq, int status, const char *code, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* Path capture by name, or NULL. Borrowed from the arena. */
const char *req_param(const struct req *rq, const char *name);

/* Last value of a query key, or NULL when absent. A key given without '='
 * yields "". Borrowed from the arena. */
const char *req_query(const struct req *rq, const char *name);

/* Value of request header name (compared case-insensitively), or NULL.
 * Borrowed from the arena. */
const char *req_header(const struct req *rq, const char *name);

/* Number of times the query key occurs. */
size_t req_query_count(const struct req *rq, const char *name);

/* Hands a pre-serialised JSON body of len bytes to rq (status 200 unless
 * set), releasing any previous one. rq owns text from now on and releases it
 * with free_text, or free() when free_text is NULL. */
void req_set_reply_text(struct req *rq, char *text, size_t len,
                        void (*free_text)(char *text, size_t len));

/* Adds a response header; name and value are copied into the arena. */
void req_header_add(struct req *rq, const char *name, const char *value);

/* Adds Location: absolute URL of path built from the Host header, as webob does. */
void req_set_location(struct req *rq, const char *path);

/* Marks the response for Last-Modified/Cache-Control (only from 1.15);
 * t == 0 means "now". */
void req_set_last_modified(struct req *rq, time_t t);

/* Builds Placement's error body for rq->err. Returns a new reference. */
json_t *req_error_to_json(const struct req *rq, const char *method);

/* Renders rq->err for a client whose Accept header excludes JSON, as
 * webob does: an HTML page when html is true, else plain text. Returns a
 * malloc'd string the caller frees. */
char *req_error_to_text(const struct req *rq, const char *method, bool html);

/* True when the client of rq has closed its connection (or reset it), so
 * that nobody will read the answer. Cheap: one poll() without waiting; data
 * the client already sent (a pipelined request) is left unread. */
bool req_client_gone(const struct req *rq);

/* The process is stopping (SIGTERM/SIGINT): long handlers give up. */
void req_shutdown_begin(void);
bool req_shutting_down(void);

/* True when an Accept header value (NULL or "": absent) admits the media
 * type type ("application/json"): an absent header admits everything;
 * otherwise the most specific matching media range (type itself, then
 * its major type with a wildcard subtype, then the full wildcard; compared
 * without case) decides, and admits it unless its q is 0, as webob's acceptable_offers. The one rule for both
 * the 406 check and the choice of a JSON error body. */
bool req_accepts(const char *accept, const char *type);

/* The HTTP reason phrase Placement (webob) uses for status. */
const char *req_status_title(int status);

#endif
