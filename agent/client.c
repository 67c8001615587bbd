#include "agent/client.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/body_buf.h"
#include "core/util.h"

struct pl_client {
    CURL *curl;
    char *base; /* without trailing slash */
    char *token;
};

struct pl_client *pl_client_new(const char *base_url, const char *token)
{
    static bool curl_ready;
    if (!curl_ready) {
        /* Single-threaded program: the global init happens before any handle. */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return NULL;
        curl_ready = true;
    }
    CURL *curl = curl_easy_init();
    if (!curl)
        return NULL;
    struct pl_client *c = xcalloc(1, sizeof(*c));
    c->curl = curl;
    c->base = xstrdup(base_url);
    size_t n = strlen(c->base);
    while (n && c->base[n - 1] == '/')
        c->base[--n] = '\0';
    c->token = xstrdup(token);
    return c;
}

void pl_client_set_token(struct pl_client *c, const char *token)
{
    free(c->token);
    c->token = xstrdup(token);
}

void pl_client_free(struct pl_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->base);
    free(c->token);
    free(c);
}

void pl_response_clear(struct pl_response *r)
{
    json_decref(r->body);
    memset(r, 0, sizeof(*r));
    r->code = "";
}

/* osc-placement shows the last line of an error's detail (webob puts the
 * explanation first); do the same. */
static void take_error(struct pl_response *r)
{
    json_t *err = json_array_get(json_object_get(r->body, "errors"), 0);
    const char *detail = json_string_value(json_object_get(err, "detail"));
    const char *code = json_string_value(json_object_get(err, "code"));
    r->code = code ? code : "";
    if (!detail)
        return;
    const char *end = detail + strlen(detail);
    while (end > detail && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > detail && start[-1] != '\n')
        start--;
    while (start < end && *start == ' ')
        start++;
    snprintf(r->detail, sizeof(r->detail), "%.*s", (int)(end - start), start);
}

bool pl_call(struct pl_client *c, const char *method, const char *path, const char *mv,
             json_t *body, struct pl_response *out)
{
    char line[64], *text = NULL, *auth;
    struct curl_slist *headers = NULL;
    /* At most PL_MAX_RESPONSE bytes are kept; past it the transfer aborts. */
    struct body_buf got = {.max = PL_MAX_RESPONSE};
    CURL *h = c->curl;

    memset(out, 0, sizeof(*out));
    out->code = "";
    curl_easy_reset(h); /* keeps the connection cache */
    char *url = xmalloc(strlen(c->base) + strlen(path) + 1);
    strcpy(url, c->base);
    strcat(url, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "placid-agent");
    headers = curl_slist_append(headers, "Accept: application/json");
    snprintf(line, sizeof(line), "OpenStack-API-Version: placement %s", mv);
    headers = curl_slist_append(headers, line);
    /* The whole token, however long (agent_token_check() bounded it). */
    auth = xmalloc(strlen("X-Auth-Token: ") + strlen(c->token) + 1);
    strcpy(auth, "X-Auth-Token: ");
    strcat(auth, c->token);
    headers = curl_slist_append(headers, auth);
    free(auth);
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
    }
    if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_buf_collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);

    CURLcode rc = curl_easy_perform(h);
    bool answered = rc == CURLE_OK;
    if (answered) {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
        if (got.len)
            out->body = json_loadb(got.data, got.len, 0, NULL);
        if (out->status >= 400)
            take_error(out);
        if (out->status >= 400 && !out->detail[0])
            snprintf(out->detail, sizeof(out->detail), "HTTP %ld", out->status);
    } else if (got.too_large) {
        snprintf(out->detail, sizeof(out->detail), "%s %s: response larger than %d MiB; dropped",
                 method, url, PL_MAX_RESPONSE >> 20);
    } else {
        snprintf(out->detail, sizeof(out->detail), "%s %s: %s", method, url,
                 curl_easy_strerror(rc));
    }
    curl_slist_free_all(headers);
    free(text);
    free(got.data);
    free(url);
    return answered;
}
