/* A small Placement client over libcurl: one keep-alive connection, JSON in
 * and out, the token and microversion headers nova's report client sends. */
#ifndef PLACID_AGENT_CLIENT_H
#define PLACID_AGENT_CLIENT_H

#include <jansson.h>
#include <stdbool.h>

struct pl_client;

/* Creates a client for base_url ("http://127.0.0.1:8778", a trailing slash is
 * fine) sending X-Auth-Token: token. Strings are copied. Free with
 * pl_client_free(). Returns NULL if libcurl cannot be initialised. */
struct pl_client *pl_client_new(const char *base_url, const char *token);

/* Replaces the token (copied), e.g. after the token file changed. */
void pl_client_set_token(struct pl_client *c, const char *token);

/* The largest answer body read (8 MiB; the agent's biggest answer, a trait
 * list, is a few KiB). A larger one is dropped: pl_call() returns false, as
 * for an unreachable server (retried with backoff), with a detail saying so. */
#define PL_MAX_RESPONSE (8 << 20)
void pl_client_free(struct pl_client *c);

struct pl_response {
    long status;      /* HTTP status; 0 when the server was not reached */
    json_t *body;     /* parsed JSON body (new reference) or NULL */
    const char *code; /* errors[0].code or "" (borrowed from body) */
    char detail[512]; /* errors[0].detail's last line, or the transport error */
};

/* Sends method path (e.g. "/resource_providers/U/traits") at microversion mv
 * ("1.6") with body (borrowed, may be NULL) and fills *out. Returns true when
 * an HTTP answer came back (whatever its status), false when the server could
 * not be reached (out->detail says why). Release out with pl_response_clear(). */
bool pl_call(struct pl_client *c, const char *method, const char *path, const char *mv,
             json_t *body, struct pl_response *out);

void pl_response_clear(struct pl_response *r);

#endif
