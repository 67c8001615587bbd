#include "server/req.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "server/microversion.h"

void req_init(struct req *rq)
{
    char uuid[37];

    memset(rq, 0, sizeof(*rq));
    rq->content_length = REQ_LENGTH_ABSENT;
    rq->mv = MV_MIN;
    rq->mv_known = true;
    rq->client_fd = -1;
    uuid4_generate(uuid);
    snprintf(rq->request_id, sizeof(rq->request_id), "req-%s", uuid);
}

void req_release(struct req *rq)
{
    json_decref(rq->body);
    json_decref(rq->reply);
    rq->body = rq->reply = NULL;
    req_set_reply_text(rq, NULL, 0, NULL);
    arena_free(&rq->arena);
}

int req_fail(struct req *rq, int status, const char *code, const char *fmt, ...)
{
    if (rq->err.status)
        return -1;
    rq->err.status = status;
    rq->err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rq->err.detail, sizeof(rq->err.detail), fmt, ap);
    va_end(ap);
    utf8_sanitize(rq->err.detail);
    return -1;
}

void req_set_reply_text(struct req *rq, char *text, size_t len,
                        void (*free_text)(char *text, size_t len))
{
    if (rq->reply_text) {
        if (rq->reply_text_free)
            rq->reply_text_free(rq->reply_text, rq->reply_text_len);
        else
            free(rq->reply_text);
    }
    rq->reply_text = text;
    rq->reply_text_len = len;
    rq->reply_text_free = free_text;
    if (text && !rq->status)
        rq->status = 200;
}

const char *req_param(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_params; i++)
        if (strcmp(rq->params[i].key, name) == 0)
            return rq->params[i].value;
    return NULL;
}

const char *req_query(const struct req *rq, const char *name)
{
    const char *found = NULL;
    for (size_t i = 0; i < rq->n_query; i++)
        if (strcmp(rq->query[i].key, name) == 0)
            found = rq->query[i].value ? rq->query[i].value : "";
    return found;
}

const char *req_header(const struct req *rq, const char *name)
{
    for (size_t i = 0; i < rq->n_in_headers; i++)
        if (strcasecmp(rq->in_headers[i].key, name) == 0)
            return rq->in_headers[i].value;
    return NULL;
}

size_t req_query_count(const struct req *rq, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < rq->n_query; i++)
        if (strcmp(rq->query[i].key, name) == 0)
            n++;
    return n;
}

void req_header_add(struct req *rq, const char *name, const char *value)
{
    if (rq->n_headers >= REQ_MAX_HEADERS)
        return;
    rq->headers[rq->n_headers].key = arena_strdup(&rq->arena, name);
    rq->headers[rq->n_headers].value = arena_strdup(&rq->arena, value);
    rq->n_headers++;
}

void req_set_location(struct req *rq, const char *path)
{
    const char *url = rq->host ? arena_printf(&rq->arena, "http://%s%s", rq->host, path) : path;
    req_header_add(rq, "Location", url);
}

void req_set_last_modified(struct req *rq, time_t t)
{
    if (rq->mv < MV(1, 15))
        return;
    rq->last_modified = t ? t : time(NULL);
}

const char *req_status_title(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 409: return "Conflict";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return "Internal Server Error";
    }
}

/* webob's explanation that precedes the message in every detail. */
static const char *status_explanation(int status)
{
    switch (status) {
    case 400:
        return "The server could not comply with the request since it is either malformed or "
               "otherwise incorrect.";
    case 403: return "Access was denied to this resource.";
    case 404: return "The resource could not be found.";
    case 406:
        return "The resource could not be generated that was acceptable to your browser (content "
               "of type application/json. ";
    case 409: return "There was a conflict when trying to complete your request.";
    case 413: return "The request is larger than the server is willing or able to process.";
    case 414: return "The request URI was too long for this server.";
    case 503:
        return "The server is currently unavailable. Please try again at a later time.";
    default:
        return "The server has either erred or is incapable of performing the requested "
               "operation.";
    }
}

/* webob renders the body through strip_tags(), which turns each newline of
 * the message into a space: jsonschema's multi-line text arrives as one
 * line ("...property  Failed validating ... On instance:     {}"). */
static const char *one_line(const char *msg, char *buf, size_t n)
{
    snprintf(buf, n, "%s", msg);
    for (char *p = buf; (p = strchr(p, '\n')) != NULL;)
        *p = ' ';
    return buf;
}

static char *error_detail(const struct req *rq, const char *method, char *buf, size_t n)
{
    char flat[sizeof(rq->err.detail)];
    const char *msg = one_line(rq->err.detail, flat, sizeof(flat));
    switch (rq->err.status) {
    case 405:
        snprintf(buf, n, "The method %s is not allowed for this resource. \n\n %s", method, msg);
        break;
    case 406:
        snprintf(buf, n, "%s\n\n %s", status_explanation(406), msg);
        break;
    case 415:
        snprintf(buf, n, "The request media type %s is not supported by this server. \n\n %s",
                 rq->content_type ? rq->content_type : "", msg);
        break;
    default:
        snprintf(buf, n, "%s\n\n %s  ", status_explanation(rq->err.status), msg);
    }
    utf8_sanitize(buf);
    return buf;
}

json_t *req_error_to_json(const struct req *rq, const char *method)
{
    char detail[2048];
    json_t *e = json_object();

    json_object_set_new(e, "status", json_integer(rq->err.status));
    json_object_set_new(e, "title", json_string(req_status_title(rq->err.status)));
    json_object_set_new(e, "detail",
                        json_string(error_detail(rq, method, detail, sizeof(detail))));
    if (rq->mv_known && rq->mv >= MV(1, 23))
        json_object_set_new(e, "code",
                            json_string(rq->err.code ? rq->err.code : "placement.undefined_code"));
    json_object_set_new(e, "request_id", json_string(rq->request_id));
    if (rq->err.version_bounds) {
        char buf[16];
        json_object_set_new(e, "max_version", json_string(mv_format(MV_LATEST, buf)));
        json_object_set_new(e, "min_version", json_string(mv_format(MV_MIN, buf)));
    }
    json_t *errors = json_array();
    json_array_append_new(errors, e);
    return json_pack("{s:o}", "errors", errors);
}

/* Copies s with the five characters HTML gives meaning to replaced by
 * entities, as webob's html_escape does (everything echoed from the request,
 * such as a version header, reaches the page through the detail). Returns a
 * malloc'd string the caller frees. */
static char *html_escape(const char *s)
{
    char *out = xmalloc(strlen(s) * 6 + 1), *o = out; /* "&quot;" is the longest */
    for (; *s; s++) {
        const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                        : *s == '"' ? "&quot;" : *s == '\'' ? "&#x27;" : NULL;
        if (ent) {
            size_t n = strlen(ent);
            memcpy(o, ent, n);
            o += n;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
    return out;
}

char *req_error_to_text(const struct req *rq, const char *method, bool html)
{
    char detail[2048];
    int status = rq->err.status;
    const char *title = req_status_title(status);
    size_t n;
    char *out;

    error_detail(rq, method, detail, sizeof(detail));
    if (!html) {
        n = strlen(detail) + strlen(title) + 32;
        out = xmalloc(n);
        snprintf(out, n, "%d %s\n\n%s", status, title, detail);
        return out;
    }
    char *body = html_escape(detail);
    n = strlen(body) + 2 * strlen(title) + 160;
    out = xmalloc(n);
    snprintf(out, n,
             "<html>\n <head>\n  <title>%d %s</title>\n </head>\n <body>\n"
             "  <h1>%d %s</h1>\n  %s<br /><br />\n\n\n\n </body>\n</html>",
             status, title, status, title, body);
    free(body);
    return out;
}

bool req_client_gone(const struct req *rq)
{
    if (rq->client_fd < 0)
        return false;
    struct pollfd pfd = {.fd = rq->client_fd, .events = POLLIN};
    if (poll(&pfd, 1, 0) <= 0)
        return false;
    if (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))
        return true;
    if (!(pfd.revents & POLLIN))
        return false;
    /* Readable: either a pipelined request (still there) or end of file. */
    char c;
    ssize_t n = recv(rq->client_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static atomic_bool shutting_down;

void req_shutdown_begin(void)
{
    atomic_store(&shutting_down, true);
}

bool req_shutting_down(void)
{
    return atomic_load(&shutting_down);
}

/* The q of one Accept element's parameters (";q=0.5;level=1"), 1 by default. */
static double accept_q(const char *params, const char *end)
{
    for (const char *p = params; p && p < end; p = memchr(p + 1, ';', (size_t)(end - p - 1))) {
        const char *v = p + 1;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        if (end - v >= 2 && (v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
            return strtod(v + 2, NULL);
    }
    return 1.0;
}

/* How specifically range (of len bytes) matches type: 3 exactly, 2 by a
 * wildcard subtype of its major type, 1 by the full wildcard, 0 not at all. */
static int accept_match(const char *range, size_t len, const char *type)
{
    size_t major = strcspn(type, "/");
    if (len == strlen(type) && strncasecmp(range, type, len) == 0)
        return 3;
    if (len == major + 2 && strncasecmp(range, type, major + 1) == 0 && range[major + 1] == '*')
        return 2;
    return len == 3 && memcmp(range, "*/*", 3) == 0;
}

bool req_accepts(const char *accept, const char *type)
{
    if (!accept || !accept[strspn(accept, " \t")])
        return true;
    int best = 0;
    double q = 0;
    for (const char *e = accept; *e;) {
        const char *end = e + strcspn(e, ",");
        e += strspn(e, " \t");
        const char *semi = memchr(e, ';', (size_t)(end - e));
        const char *rend = semi ? semi : end;
        while (rend > e && (rend[-1] == ' ' || rend[-1] == '\t'))
            rend--;
        int m = accept_match(e, (size_t)(rend - e), type);
        if (m > best) {
            best = m;
            q = accept_q(semi, end);
        }
        e = *end ? end + 1 : end;
    }
    return best > 0 && q > 0;
}
