#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "server/log.h"
#include "server/microversion.h"
#include "server/util.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_config cfg;
};

/* Per-request state, created on the first access-handler call and freed in
 * the completion callback. */
struct http_call {
    struct req req;
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    struct timespec started;
    char global_id[64]; /* incoming X-Openstack-Request-Id, logged */
};

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
        rq->content_length = parse_ll(cl, &len) ? len : -2;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, rq);

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

/* True when an Accept header (NULL = absent) admits a JSON error body. */
static bool accepts_json(const char *accept)
{
    return !accept || !accept[0] || strstr(accept, "json") || strstr(accept, "*/*");
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
        if (status == 401) {
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
    if (rq->err.status && status != 401 && !accepts_json(rq->accept)) {
        bool html = strstr(rq->accept, "html") != NULL;
        char *text = req_error_to_text(rq, rq->method, html);
        json_decref(doc);
        doc = NULL;
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        add_header(resp, "Content-Type",
                   html ? "text/html; charset=UTF-8" : "text/plain; charset=UTF-8");
    } else if (!doc && rq->reply_text && !rq->err.status) {
        resp = MHD_create_response_from_buffer(rq->reply_text_len, rq->reply_text,
                                               MHD_RESPMEM_MUST_FREE);
        rq->reply_text = NULL; /* MHD frees it now */
        add_header(resp, "Content-Type", "application/json");
    } else if (doc) {
        char *text = json_dumps(doc, JSON_ENSURE_ASCII);
        json_decref(doc);
        if (!text)
            text = xstrdup("{}");
        resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    struct http_server *srv = cls;
    struct http_call *call = *con_cls;
    (void)version;

    if (!call) {
        call = xcalloc(1, sizeof(*call));
        req_init(&call->req);
        clock_gettime(CLOCK_MONOTONIC, &call->started);
        *con_cls = call;
        fill_request(conn, call, url, method);
        const char *global = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         "X-Openstack-Request-Id");
        if (global)
            snprintf(call->global_id, sizeof(call->global_id), " global=%s", global);
        if (call->req.content_length >= 0 &&
            (size_t)call->req.content_length > srv->cfg.max_body) {
            call->too_large = true;
            req_fail(&call->req, 413, NULL, "Request body larger than %zu bytes.",
                     srv->cfg.max_body);
            return render(conn, call);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (call->body_len + n > srv->cfg.max_body)
            return MHD_NO; /* oversized chunked body: drop the connection */
        if (call->body_len + n > call->body_cap) {
            call->body_cap = (call->body_len + n) * 2;
            call->body = xrealloc(call->body, call->body_cap);
        }
        memcpy(call->body + call->body_len, upload_data, n);
        call->body_len += n;
        return MHD_YES;
    }
    if (call->too_large)
        return MHD_YES;
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
    (void)cls;
    (void)conn;
    if (!call)
        return;
    struct req *rq = &call->req;
    log_msg(LOG_INFO, "%s %s %d %.2fms %s%s%s", rq->method ? rq->method : "-",
            rq->path ? rq->path : "-", rq->status, elapsed_ms(&call->started), rq->request_id,
            call->global_id, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    req_release(rq);
    free(call->body);
    free(call);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    log_msg(LOG_WARN, "http: %s", line);
}

struct http_server *http_start(const struct http_config *cfg, char *err, size_t errsz)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        snprintf(err, errsz, "invalid listen address '%s' (use a numeric IPv4 address)", cfg->host);
        return NULL;
    }
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    srv->cfg = *cfg;
    srv->daemon = MHD_start_daemon(
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, cfg->port, NULL, NULL, on_request, srv,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned int)cfg->threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)(128 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
        MHD_OPTION_END);
    if (!srv->daemon) {
        snprintf(err, errsz, "cannot listen on %s:%u (address in use or not permitted)", cfg->host,
                 (unsigned)cfg->port);
        free(srv);
        return NULL;
    }
    return srv;
}

unsigned short http_port(const struct http_server *srv)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

void http_stop(struct http_server *srv)
{
    if (!srv)
        return;
    /* Quiesce first so no new connection is accepted, then stop: MHD waits
     * for the worker threads, which finish the requests they are serving. */
    MHD_quiesce_daemon(srv->daemon);
    MHD_stop_daemon(srv->daemon);
    free(srv);
}
