#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "server/deadline.h"
#include "server/metrics.h"
#include "server/microversion.h"

struct http_server {
    struct MHD_Daemon *daemon; /* NULL until http_serve */
    struct http_config cfg;
    int fd; /* the listening socket, ours to close */
    struct deadline_reaper *reaper; /* whole-request deadlines; from http_serve */
    atomic_size_t body_bytes;       /* body buffer bytes reserved by all requests */
    atomic_size_t in_flight;        /* requests received whole, not yet answered */
};

/* How long http_stop waits for the answers of requests under way (a long
 * search stopped by SIGTERM answers 503) before it closes every connection. */
#define HTTP_DRAIN_MS 10000u

/* The per-connection memory pool of MHD: it holds the request line, the
 * header lines and one record per query parameter. */
#define HTTP_POOL_SIZE ((size_t)32 * 1024)
/* What MHD 0.9.75 takes from that pool per query parameter (a struct
 * MHD_HTTP_Header, 56 bytes, rounded up), and the part of the pool kept
 * free for the header lines and the reply. */
#define HTTP_POOL_PER_PARAM   ((size_t)64)
#define HTTP_POOL_HEADROOM    ((size_t)16 * 1024)
/* Connections held at once when the configuration leaves it at 0. */
#define HTTP_DEFAULT_CONNECTIONS 1024u
/* Seconds a keep-alive connection may sit idle before MHD closes it. */
#define HTTP_IDLE_TIMEOUT_S 60u
/* A refused request whose declared body is at most this large has it read
 * and dropped, so the answer can keep the connection (MHD closes one
 * answered before its body); a larger or chunked one is answered at once. */
#define HTTP_SMALL_BODY ((long long)64 * 1024)
/* A body without a Content-Length (chunked) grows by this much at a time. */
#define HTTP_BODY_STEP ((size_t)64 * 1024)

/* Per-request state, created when MHD has read the request line (on_uri)
 * and freed in the completion callback. */
struct http_call {
    struct req req;
    char *body;
    size_t body_len, body_cap;
    size_t reserved; /* of srv->body_bytes, given back at completion */
    bool started;         /* the access handler has seen the request */
    bool in_flight;       /* counted in srv->in_flight until completion */
    bool discard_body;    /* answered early or body over max_body: drop it */
    bool query_too_large; /* query cut off in on_uri: answered 414 */
    struct timespec started_at;
    char global_id[64]; /* incoming X-Openstack-Request-Id (cut), logged */
    uint32_t client;    /* the peer's IPv4 address (host order; 0: unknown), logged */
    size_t reply_bytes; /* size of a body built with jansson */
};

/* jansson answers at least this large leave megabytes of freed nodes and
 * buffers in the worker's malloc arena; glibc keeps them unless asked.
 * (Pre-serialised answers, reply_text, manage their own memory.) */
#define HTTP_TRIM_AFTER_BYTES ((size_t)256 * 1024)

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 + (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct req *rq = cls;
    (void)kind;
    if (rq->n_query % 16 == 0) {
        struct kv *grown = arena_alloc(&rq->arena, (rq->n_query + 16) * sizeof(*grown));
        if (rq->n_query)
            memcpy(grown, rq->query, rq->n_query * sizeof(*grown));
        rq->query = grown;
    }
    rq->query[rq->n_query].key = arena_strdup(&rq->arena, key);
    rq->query[rq->n_query].value = value ? arena_strdup(&rq->arena, value) : NULL;
    rq->n_query++;
    return MHD_YES;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct req *rq = cls;
    (void)kind;
    if (rq->n_in_headers % 16 == 0) {
        struct kv *grown = arena_alloc(&rq->arena, (rq->n_in_headers + 16) * sizeof(*grown));
        if (rq->n_in_headers)
            memcpy(grown, rq->in_headers, rq->n_in_headers * sizeof(*grown));
        rq->in_headers = grown;
    }
    rq->in_headers[rq->n_in_headers].key = arena_strdup(&rq->arena, key);
    rq->in_headers[rq->n_in_headers].value = arena_strdup(&rq->arena, value ? value : "");
    rq->n_in_headers++;
    return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, struct req *rq, const char *name)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    return v ? arena_strdup(&rq->arena, v) : NULL;
}

/* Fills the request fields server/ owns: headers, query, version. */
static void fill_request(struct MHD_Connection *conn, struct http_call *call, const char *url,
                         const char *method)
{
    struct req *rq = &call->req;
    char err[256];

    rq->method = arena_strdup(&rq->arena, method);
    rq->path = arena_strdup(&rq->arena, url);
    rq->token = header(conn, rq, "X-Auth-Token");
    rq->accept = header(conn, rq, "Accept");
    rq->content_type = header(conn, rq, "Content-Type");
    rq->host = header(conn, rq, "Host");
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    long long len;
    if (cl)
        rq->content_length = parse_ll(cl, &len) ? len : REQ_LENGTH_INVALID;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, rq);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, rq);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    rq->client_fd = ci ? ci->connect_fd : -1;

    const char *version = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "OpenStack-API-Version");
    switch (mv_parse(version, &rq->mv, err, sizeof(err))) {
    case MV_OK:
        break;
    case MV_MALFORMED:
        rq->mv_known = false;
        rq->mv = MV_MIN;
        req_fail(rq, 400, NULL, "Invalid microversion: %s", err);
        break;
    case MV_UNACCEPTABLE:
        rq->mv_known = false;
        rq->mv = MV_MIN;
        req_fail(rq, 406, NULL, "Invalid microversion: %s", err);
        rq->err.version_bounds = true;
        break;
    }
}

static void add_header(struct MHD_Response *resp, const char *name, const char *value)
{
    MHD_add_response_header(resp, name, value);
}

/* What MHD needs to release a reply_text with its own free function. */
struct owned_text {
    char *text;
    size_t len;
    void (*free_text)(char *text, size_t len);
};

static void release_owned_text(void *cls)
{
    struct owned_text *o = cls;
    o->free_text(o->text, o->len);
    free(o);
}

/* Moves rq->reply_text into a response; MHD releases it once sent. */
static struct MHD_Response *reply_text_response(struct req *rq)
{
    struct MHD_Response *resp;
    if (!rq->reply_text_free) {
        resp = MHD_create_response_from_buffer(rq->reply_text_len, rq->reply_text,
                                               MHD_RESPMEM_MUST_FREE);
    } else {
        struct owned_text *o = xmalloc(sizeof(*o));
        *o = (struct owned_text){rq->reply_text, rq->reply_text_len, rq->reply_text_free};
        resp = MHD_create_response_from_buffer_with_free_callback_cls(
            rq->reply_text_len, rq->reply_text, release_owned_text, o);
    }
    rq->reply_text = NULL; /* the response owns it now */
    rq->reply_text_free = NULL;
    return resp;
}

/* Turns rq (reply or error) into an MHD response and queues it. */
static enum MHD_Result render(struct MHD_Connection *conn, struct http_call *call)
{
    struct req *rq = &call->req;
    json_t *doc = NULL;
    int status = rq->status ? rq->status : 200;
    char buf[64];

    if (rq->err.status) {
        status = rq->err.status;
        if (status == 401 && rq->reply) {
            doc = json_incref(rq->reply); /* the API's own 401 body (Keystone mode) */
        } else if (status == 401) {
            doc = json_pack("{s:s,s:s,s:s}", "message",
                            "This server could not verify that you are authorized to access the "
                            "document you requested. Either you supplied the wrong credentials "
                            "(e.g., bad password), or your browser does not understand how to "
                            "supply the credentials required.<br /><br />\n\n\n",
                            "code", "401 Unauthorized", "title", "Unauthorized");
        } else {
            doc = req_error_to_json(rq, rq->method);
        }
    } else if (rq->reply && !rq->reply_text) {
        doc = json_incref(rq->reply);
    }

    struct MHD_Response *resp;
    if (rq->err.status && status != 401 && !req_accepts(rq->accept, "application/json")) {
        bool html = strstr(rq->accept, "html") != NULL;
        char *text = req_error_to_text(rq, rq->method, html);
        json_decref(doc);
        doc = NULL;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        add_header(resp, "Content-Type",
                   html ? "text/html; charset=UTF-8" : "text/plain; charset=UTF-8");
    } else if (!doc && rq->reply_text && !rq->err.status) {
        const char *type = rq->reply_type ? rq->reply_type : "application/json";
        resp = reply_text_response(rq);
        add_header(resp, "Content-Type", type);
    } else if (doc) {
        char *text = json_dumps(doc, JSON_ENSURE_ASCII);
        json_decref(doc);
        if (!text)
            text = xstrdup("{}");
        call->reply_bytes = strlen(text);
        resp = MHD_create_response_from_buffer(call->reply_bytes, text, MHD_RESPMEM_MUST_FREE);
        add_header(resp, "Content-Type", "application/json");
    } else {
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    }
    add_header(resp, "x-openstack-request-id", rq->request_id);
    if (rq->mv_known) {
        char v[16];
        snprintf(buf, sizeof(buf), "placement %s", mv_format(rq->mv, v));
        add_header(resp, "openstack-api-version", buf);
        add_header(resp, "vary", "openstack-api-version");
    }
    if (rq->last_modified && !rq->err.status) {
        char date[30];
        http_date(rq->last_modified, date);
        add_header(resp, "Last-Modified", date);
        add_header(resp, "Cache-Control", "no-cache");
    }
    for (size_t i = 0; i < rq->n_headers; i++)
        add_header(resp, rq->headers[i].key, rq->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    rq->status = status;
    return ret;
}

/* True when MHD can store the query of uri (starting at query, after the
 * '?') in the connection pool with room to spare. */
static bool query_fits(const char *uri, const char *query)
{
    size_t n = 1;
    for (const char *p = query; *p; p++)
        n += *p == '&';
    return strlen(uri) + n * HTTP_POOL_PER_PARAM <= HTTP_POOL_SIZE - HTTP_POOL_HEADROOM;
}

/* MHD's URI log callback: runs once per request, right after the request
 * line is read and before MHD parses the query, and its result becomes the
 * request's *con_cls. MHD 0.9.75 (up to 0.9.77 at least) stores each query
 * parameter in the connection pool; when the pool runs out it queues a 431
 * but then goes on parsing the request, and the connection hangs without an
 * answer until its timeout. So a query too large for the pool is cut off
 * here, in MHD's (writable) copy of the request line, and on_request answers
 * 414 instead. */
/* The peer's IPv4 address in host order, 0 when unknown (formatted only
 * when the request is logged). */
static uint32_t client_address(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    if (!sa || sa->sa_family != AF_INET)
        return 0;
    return ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr);
}

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct http_call *call = xcalloc(1, sizeof(*call));
    char *query = uri ? strchr(uri, '?') : NULL;
    (void)cls;

    call->client = client_address(conn);
    req_init(&call->req);
    clock_gettime(CLOCK_MONOTONIC, &call->started_at);
    metrics_request_begin();
    if (query && !query_fits(uri, query + 1)) {
        query[1] = '\0';
        call->query_too_large = true;
    }
    return call;
}

/* MHD's unescaper for the path and the query, keeping %00 (see url_unescape). */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    (void)conn;
    return url_unescape(s);
}

/* Checks what must be refused before the body is read. Returns false
 * (after req_fail) when the request is to be answered at once. */
static bool acceptable(struct http_server *srv, struct MHD_Connection *conn, struct http_call *call)
{
    if (call->query_too_large) {
        req_fail(&call->req, 414, NULL, "The query string has too many parameters.");
        return false;
    }
    /* MHD 0.9.75 reads a body in any other transfer coding ("gzip",
     * "gzip, chunked") until the client closes the connection, so the
     * request would hang; RFC 9112 section 6.3 asks for a 400. */
    const char *te = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
    if (te && strcasecmp(te, "chunked") != 0) {
        req_fail(&call->req, 400, NULL,
                 "Transfer-Encoding '%s' is not supported: send the body with Content-Length "
                 "or chunked.",
                 te);
        return false;
    }
    if (call->req.content_length >= 0 && (size_t)call->req.content_length > srv->cfg.max_body) {
        req_fail(&call->req, 413, NULL, "Request body larger than %zu bytes.", srv->cfg.max_body);
        return false;
    }
    return true;
}

/* Reserves n more body bytes for call under the server-wide cap. */
static bool reserve_body(struct http_server *srv, struct http_call *call, size_t n)
{
    size_t cap = srv->cfg.max_body_memory;
    size_t cur = atomic_load(&srv->body_bytes);
    do {
        if (cap && (cur > cap || n > cap - cur))
            return false;
    } while (!atomic_compare_exchange_weak(&srv->body_bytes, &cur, cur + n));
    call->reserved += n;
    return true;
}

static void release_body(struct http_server *srv, struct http_call *call)
{
    atomic_fetch_sub(&srv->body_bytes, call->reserved);
    call->reserved = 0;
}

/* Drops what was buffered of the body, and reading the rest. */
static void drop_body(struct http_server *srv, struct http_call *call)
{
    call->discard_body = true;
    free(call->body);
    call->body = NULL;
    call->body_len = call->body_cap = 0;
    release_body(srv, call);
}

static void fail_busy(struct req *rq)
{
    req_fail(rq, 503, NULL, "Too many request bodies are being received at once; retry later.");
    req_header_add(rq, "Retry-After", "1");
}

/* The first access-handler call: the headers are in. Runs the API's header
 * checks (auth, routing, method, policy) and reserves the body's memory, so
 * nothing is buffered for a request that will be refused. Returns false
 * when the request is to be answered at once, without reading its body. A
 * request refused here with no body or a small one is answered in the final
 * call instead (the body dropped as it arrives), so its connection can stay
 * open. */
static bool start_request(struct http_server *srv, struct MHD_Connection *conn,
                          struct http_call *call, const char *url, const char *method)
{
    struct req *rq = &call->req;
    call->started = true;
    fill_request(conn, call, url, method);
    const char *global = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     "X-Openstack-Request-Id");
    if (global)
        snprintf(call->global_id, sizeof(call->global_id), "%s", global);
    if (!acceptable(srv, conn, call)) {
        call->discard_body = true;
        return false;
    }
    if (!rq->err.status && srv->cfg.check_headers)
        srv->cfg.check_headers(rq, srv->cfg.ctx);
    if (!rq->err.status && rq->content_length > 0 &&
        !reserve_body(srv, call, (size_t)rq->content_length))
        fail_busy(rq);
    if (!rq->err.status)
        return true;
    call->discard_body = true;
    return rq->content_length <= HTTP_SMALL_BODY &&
           !MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding");
}

/* Appends a piece of the body. With a Content-Length the buffer is
 * allocated once, at that size (reserved with the headers); a chunked body
 * grows in HTTP_BODY_STEP steps, each reserved first. Returns false after
 * req_fail (413 past --max-body, 503 past the server-wide cap); the rest of
 * the body is then dropped. */
static bool append_body(struct http_server *srv, struct http_call *call, const char *data,
                        size_t n)
{
    size_t need = call->body_len + n;
    if (need > srv->cfg.max_body) {
        /* A chunked body outgrew the limit: read and drop the rest, then
         * answer 413 like for a declared size. */
        drop_body(srv, call);
        req_fail(&call->req, 413, NULL, "Request body larger than %zu bytes.", srv->cfg.max_body);
        return false;
    }
    if (need > call->body_cap) {
        size_t cap = call->req.content_length > 0 ? (size_t)call->req.content_length
                                                  : (need + HTTP_BODY_STEP - 1) / HTTP_BODY_STEP *
                                                        HTTP_BODY_STEP;
        if (cap > srv->cfg.max_body)
            cap = srv->cfg.max_body;
        if (cap < need)
            cap = need;
        if (cap > call->reserved && !reserve_body(srv, call, cap - call->reserved)) {
            drop_body(srv, call);
            fail_busy(&call->req);
            return false;
        }
        call->body = xrealloc(call->body, cap);
        call->body_cap = cap;
    }
    memcpy(call->body + call->body_len, data, n);
    call->body_len = need;
    return true;
}

/* The deadline record of a connection (its MHD socket context), or NULL. */
static struct deadline_conn *conn_deadline(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* The request is in whole (or answered before its body): the deadline no
 * longer applies while it is handled and answered. */
static void request_received(struct http_server *srv, struct MHD_Connection *conn,
                             struct http_call *call)
{
    if (!call->in_flight) {
        call->in_flight = true;
        atomic_fetch_add(&srv->in_flight, 1);
    }
    struct deadline_conn *dc = srv->reaper ? conn_deadline(conn) : NULL;
    if (dc)
        deadline_disarm(srv->reaper, dc);
}

/* MHD's connection notifier: a connection is tracked from its accept until
 * just before MHD closes its socket (MHD 0.9.75 notifies CLOSED before
 * close()), so the reaper only ever shuts down a live descriptor. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct http_server *srv = cls;
    if (!srv->reaper)
        return;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? deadline_track(srv->reaper, ci->connect_fd) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        deadline_untrack(srv->reaper, *socket_context);
        *socket_context = NULL;
    }
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *srv = cls;
    struct http_call *call = *con_cls;
    (void)version;

    if (!call->started) {
        if (start_request(srv, conn, call, url, method))
            return MHD_YES;
        request_received(srv, conn, call);
        return render(conn, call);
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (!call->discard_body) /* else answered already, or will be: discard */
            append_body(srv, call, upload_data, n);
        return MHD_YES;
    }
    if (call->discard_body && call->req.status)
        return MHD_YES; /* the early answer is queued already */
    request_received(srv, conn, call);
    call->req.raw_body = call->body;
    call->req.body_len = call->body_len;
    if (!call->req.err.status)
        srv->cfg.dispatch(&call->req, srv->cfg.ctx);
    return render(conn, call);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_call *call = *con_cls;
    struct deadline_reaper *reaper = ((struct http_server *)cls)->reaper;
    struct deadline_conn *dc = reaper ? conn_deadline(conn) : NULL;
    if (dc) /* a kept-alive connection owes its next request within the deadline */
        deadline_rearm(reaper, dc);
    if (!call)
        return;
    struct req *rq = &call->req;
    release_body(cls, call);
    if (call->in_flight)
        atomic_fetch_sub(&((struct http_server *)cls)->in_flight, 1);
    double ms = elapsed_ms(&call->started_at);
    metrics_request_end(rq->route_pattern, rq->method, rq->status, ms / 1e3);
    struct log_request line = {.method = rq->method, .path = rq->path, .status = rq->status,
                               .duration_ms = ms, .request_id = rq->request_id,
                               .global_request_id = call->global_id[0] ? call->global_id : NULL,
                               .client_ipv4 = call->client,
                               .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK};
    log_request(&line);
    req_release(rq);
    free(call->body);
    bool trim = call->reply_bytes >= HTTP_TRIM_AFTER_BYTES;
    free(call);
    *con_cls = NULL;
    if (trim)
        malloc_trim(0);
}

/* MHD's printf-style format: the attribute lets clang's -Wformat-nonliteral
 * see that fmt is a format passed through, as gcc assumes for a va_list. */
static void mhd_log(void *cls, const char *fmt, va_list ap) PRINTF_LIKE(2, 0);
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg(LOG_WARN, "http: %s", line);
}

struct http_server *http_listen(const struct http_config *cfg, char *err, size_t errsz)
{
    struct sockaddr_in addr;
    int one = 1;

    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        snprintf(err, errsz, "invalid listen address '%s' (use a numeric IPv4 address)", cfg->host);
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(err, errsz, "cannot listen on %s:%u (%s)", cfg->host, (unsigned)cfg->port,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    srv->cfg = *cfg;
    srv->fd = fd;
    return srv;
}

bool http_serve(struct http_server *srv, char *err, size_t errsz)
{
    if (srv->cfg.request_timeout)
        srv->reaper = deadline_reaper_start((uint64_t)srv->cfg.request_timeout * 1000u);
    if (srv->cfg.request_timeout && !srv->reaper) {
        snprintf(err, errsz, "cannot start the request deadline thread");
        close(srv->fd);
        free(srv);
        return false;
    }
    srv->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0, NULL, NULL, on_request,
        srv, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, srv->fd,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)srv->cfg.threads, MHD_OPTION_CONNECTION_LIMIT,
        srv->cfg.max_connections ? srv->cfg.max_connections : HTTP_DEFAULT_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        (unsigned int)srv->cfg.max_per_client, MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
        MHD_OPTION_CONNECTION_TIMEOUT, HTTP_IDLE_TIMEOUT_S,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_POOL_SIZE, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, srv, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
        MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, srv, MHD_OPTION_END);
    if (srv->daemon)
        return true;
    snprintf(err, errsz, "cannot serve on %s:%u (see the log)", srv->cfg.host,
             (unsigned)srv->cfg.port);
    deadline_reaper_stop(srv->reaper);
    free(srv); /* not the socket: a failing MHD_start_daemon closes it itself */
    return false;
}

struct http_server *http_start(const struct http_config *cfg, char *err, size_t errsz)
{
    struct http_server *srv = http_listen(cfg, err, errsz);
    return srv && http_serve(srv, err, errsz) ? srv : NULL;
}

unsigned short http_port(const struct http_server *srv)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof(addr);
    if (getsockname(srv->fd, (struct sockaddr *)&addr, &len) != 0)
        return 0;
    return ntohs(addr.sin_port);
}

/* Waits until every request received whole has been answered (its answer
 * sent, or its connection gone), at most HTTP_DRAIN_MS. */
static void http_drain(struct http_server *srv)
{
    const struct timespec tick = {0, 5 * 1000 * 1000};
    unsigned waited = 0;
    while (atomic_load(&srv->in_flight) > 0 && waited < HTTP_DRAIN_MS) {
        nanosleep(&tick, NULL);
        waited += 5;
    }
    if (atomic_load(&srv->in_flight) > 0)
        log_msg(LOG_WARN, "stopping with %zu request(s) unanswered after %u ms",
                (size_t)atomic_load(&srv->in_flight), HTTP_DRAIN_MS);
}

void http_stop(struct http_server *srv)
{
    if (!srv)
        return;
    /* Quiesce first so no new connection is accepted, let the requests
     * under way be answered (bounded: HTTP_DRAIN_MS), then stop, which
     * closes every connection. The listening socket is ours
     * (MHD_OPTION_LISTEN_SOCKET): closed after. */
    if (srv->daemon) {
        MHD_quiesce_daemon(srv->daemon);
        http_drain(srv);
        MHD_stop_daemon(srv->daemon);
    }
    deadline_reaper_stop(srv->reaper); /* every connection is closed: none tracked */
    close(srv->fd);
    free(srv);
}
