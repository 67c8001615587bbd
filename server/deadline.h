/* Whole-request deadlines for client connections (slowloris defence).
 *
 * libmicrohttpd's connection timeout is an idle timeout: every byte resets
 * it, so a client that trickles a header line a byte at a time holds its
 * connection (and, with many of them, the connection limit) for ever. A
 * deadline reaper bounds the whole request instead: a tracked connection is
 * armed when it is accepted and again after each answer, disarmed once its
 * request has been received whole, and a connection still armed at its
 * deadline has its socket shut down, which makes the HTTP server see the
 * end of the stream and close it. Every deadline is the same length of time
 * after its arming, so the armed connections form one FIFO list and every
 * operation is O(1). Thread-safe; no libmicrohttpd here (server/http.c
 * calls it from its callbacks). */
#ifndef PLACID_SERVER_DEADLINE_H
#define PLACID_SERVER_DEADLINE_H

#include <stdint.h>

struct deadline_reaper;
struct deadline_conn;

/* Starts a reaper thread with the given deadline (milliseconds, > 0).
 * Returns NULL when the thread cannot be started. Free with
 * deadline_reaper_stop. */
struct deadline_reaper *deadline_reaper_start(uint64_t timeout_ms);

/* Stops the thread and frees the reaper. Every tracked connection must
 * have been untracked before. NULL is ignored. */
void deadline_reaper_stop(struct deadline_reaper *r);

/* Tracks socket fd, armed from now. Returns the tracking record (owned by
 * the reaper until deadline_untrack). */
struct deadline_conn *deadline_track(struct deadline_reaper *r, int fd);

/* The connection's request has arrived whole: no deadline until rearmed. */
void deadline_disarm(struct deadline_reaper *r, struct deadline_conn *c);

/* The connection must deliver its next request whole within the deadline
 * from now (after an answer, on a kept-alive connection). */
void deadline_rearm(struct deadline_reaper *r, struct deadline_conn *c);

/* Forgets c and frees it; must be called before fd is closed, so the reaper
 * never shuts down a descriptor that has been reused. NULL c is ignored. */
void deadline_untrack(struct deadline_reaper *r, struct deadline_conn *c);

/* Shuts down every connection whose deadline is at or before now_ms (on
 * deadline_now_ms's clock) and returns how many. The reaper thread calls
 * this; exported for tests. */
unsigned deadline_reap(struct deadline_reaper *r, uint64_t now_ms);

/* The monotonic clock deadlines are measured on, in milliseconds. */
uint64_t deadline_now_ms(void);

#endif
