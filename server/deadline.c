#include "server/deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"

struct deadline_conn {
    int fd;
    bool armed;      /* in the list */
    uint64_t due_ms; /* valid while armed */
    struct deadline_conn *prev, *next;
};

struct deadline_reaper {
    uint64_t timeout_ms;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* on CLOCK_MONOTONIC; signalled to stop */
    pthread_t thread;
    bool stopping;
    struct deadline_conn *head, *tail; /* armed, earliest deadline first */
};

uint64_t deadline_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* List operations; the caller holds r->lock. */
static void unlink_conn(struct deadline_reaper *r, struct deadline_conn *c)
{
    if (!c->armed)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        r->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        r->tail = c->prev;
    c->prev = c->next = NULL;
    c->armed = false;
}

/* Every deadline is now + timeout, so appending keeps the list sorted. */
static void arm_conn(struct deadline_reaper *r, struct deadline_conn *c)
{
    unlink_conn(r, c);
    c->due_ms = deadline_now_ms() + r->timeout_ms;
    c->prev = r->tail;
    if (r->tail)
        r->tail->next = c;
    else
        r->head = c;
    r->tail = c;
    c->armed = true;
}

unsigned deadline_reap(struct deadline_reaper *r, uint64_t now_ms)
{
    unsigned n = 0;
    pthread_mutex_lock(&r->lock);
    while (r->head && r->head->due_ms <= now_ms) {
        struct deadline_conn *c = r->head;
        unlink_conn(r, c);
        /* Under the lock: the connection cannot be untracked, so its
         * descriptor cannot be closed and reused, until this returns. The
         * HTTP server then reads end-of-stream and closes the connection. */
        shutdown(c->fd, SHUT_RDWR);
        n++;
    }
    pthread_mutex_unlock(&r->lock);
    return n;
}

static void *reaper_main(void *arg)
{
    struct deadline_reaper *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stopping) {
        /* Sleep until the earliest deadline; with none armed, a whole
         * timeout (nothing armed later can fall due sooner). */
        uint64_t due = r->head ? r->head->due_ms : deadline_now_ms() + r->timeout_ms;
        struct timespec ts = {.tv_sec = (time_t)(due / 1000u),
                              .tv_nsec = (long)(due % 1000u) * 1000000L};
        pthread_cond_timedwait(&r->wake, &r->lock, &ts);
        if (r->stopping)
            break;
        pthread_mutex_unlock(&r->lock);
        unsigned n = deadline_reap(r, deadline_now_ms());
        if (n)
            log_msg(LOG_WARN, "closed %u connection(s) that had not sent a whole request within %us",
                    n, (unsigned)(r->timeout_ms / 1000u));
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

struct deadline_reaper *deadline_reaper_start(uint64_t timeout_ms)
{
    struct deadline_reaper *r = xcalloc(1, sizeof(*r));
    pthread_condattr_t attr;
    r->timeout_ms = timeout_ms;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->wake, &attr);
    pthread_condattr_destroy(&attr);
    if (pthread_create(&r->thread, NULL, reaper_main, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
    }
    return r;
}

void deadline_reaper_stop(struct deadline_reaper *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = true;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

struct deadline_conn *deadline_track(struct deadline_reaper *r, int fd)
{
    struct deadline_conn *c = xcalloc(1, sizeof(*c));
    c->fd = fd;
    pthread_mutex_lock(&r->lock);
    arm_conn(r, c);
    pthread_mutex_unlock(&r->lock);
    return c;
}

void deadline_disarm(struct deadline_reaper *r, struct deadline_conn *c)
{
    pthread_mutex_lock(&r->lock);
    unlink_conn(r, c);
    pthread_mutex_unlock(&r->lock);
}

void deadline_rearm(struct deadline_reaper *r, struct deadline_conn *c)
{
    pthread_mutex_lock(&r->lock);
    arm_conn(r, c);
    pthread_mutex_unlock(&r->lock);
}

void deadline_untrack(struct deadline_reaper *r, struct deadline_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&r->lock);
    unlink_conn(r, c);
    pthread_mutex_unlock(&r->lock);
    free(c);
}
