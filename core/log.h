/* One-line logging to stderr, safe from any thread, as text or JSON lines.
 * Every field is escaped: control characters, invalid UTF-8 and Unicode
 * line separators never reach the log raw, so no input can forge a line. */
#ifndef PLACID_CORE_LOG_H
#define PLACID_CORE_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_TEXT, LOG_JSON };

/* Sets the lowest level that is printed (default LOG_INFO). Call before threads start. */
void log_set_level(enum log_level level);

/* Sets the line format (default LOG_TEXT). Call before threads start. */
void log_set_format(enum log_format format);

/* Text: "<timestamp> <LEVEL> <message>\n"; JSON: {"time", "level",
 * "message", "caller": "file:line"}. One write() per line. */
#define log_msg(level, ...) log_msg_at(__FILE__, __LINE__, (level), __VA_ARGS__)
void log_msg_at(const char *file, int line, enum log_level level, const char *fmt, ...)
    PRINTF_LIKE(4, 5);

/* The fields of one request's line (strings may be NULL). */
struct log_request {
    const char *method, *path;
    int status;
    double duration_ms;
    const char *request_id, *global_request_id;
    uint32_t client_ipv4; /* the peer's address in host order, 0: unknown */
    bool aborted;       /* the connection ended before the answer was sent */
};

/* Text: "<timestamp> INFO <method> <path> <status> <ms>ms <request id>
 * [global=<id>] [(aborted)]"; JSON: an object with each field named. */
#define log_request(r) log_request_at(__FILE__, __LINE__, (r))
void log_request_at(const char *file, int line, const struct log_request *r);

/* Appends s to out (cap bytes, always NUL-terminated) escaped as a log field
 * of format: text escapes '\\', controls, invalid UTF-8 and U+0085/U+2028/
 * U+2029 as \\n, \\t, \\r, \\xNN or \\uNNNN; JSON escapes for a JSON string
 * (without the quotes), invalid bytes as the text \\xNN. Returns the length
 * the escaped field needs (like snprintf). */
size_t log_escape(char *out, size_t cap, const char *s, enum log_format format);

#endif
