/* One-line logging to stderr, safe from any thread. */
#ifndef PLACID_CORE_LOG_H
#define PLACID_CORE_LOG_H

#include "core/util.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* Sets the lowest level that is printed (default LOG_INFO). Call before threads start. */
void log_set_level(enum log_level level);

/* Prints "<timestamp> <LEVEL> <message>\n" as a single write. */
void log_msg(enum log_level level, const char *fmt, ...) PRINTF_LIKE(2, 3);

#endif
