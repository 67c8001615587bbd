/* placid-agent's token: where it comes from (--token, --token-file,
 * $OS_TOKEN, or the built-in "admin" for a loopback URL only) and what a
 * usable one looks like. Pure functions but agent_token_read_file(), so
 * they are unit-tested (tests/unit/test_agent_token.c). */
#ifndef PLACID_AGENT_TOKEN_H
#define PLACID_AGENT_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

/* The longest token sent. Keystone's Fernet tokens are under 256 bytes and
 * its JWS tokens under 1 KiB; 8 KiB leaves room for any other scheme while
 * staying far inside an HTTP server's header limits. */
#define AGENT_MAX_TOKEN 8192

/* True when url ("http://HOST[:PORT]/...") names a loopback host:
 * localhost, 127.0.0.0/8, ::1 or ::ffff:127.x.y.z. Anything unparsable is
 * not loopback. */
bool agent_url_is_loopback(const char *url);

/* Checks that token can be sent whole as an X-Auth-Token header: 1 to
 * AGENT_MAX_TOKEN visible ASCII characters (no space, control character or
 * line break, which would cut or split the header). Returns 0, or -1 with a
 * one-line reason in err that never echoes the token. */
int agent_token_check(const char *token, char *err, size_t errsz);

/* Reads the token from the first line of path (surrounding whitespace and
 * the line break dropped) and checks it with agent_token_check(). Returns a
 * malloc'd string the caller frees, or NULL with a one-line reason in err. */
char *agent_token_read_file(const char *path, char *err, size_t errsz);

#endif
