/* The background checkpointer of a connection pool: WAL checkpoints off the
 * request path, so that no write waits for a reader.
 *
 * A commit only tells the checkpointer how long the WAL is (the WAL hook).
 * The checkpointer thread, on its own connection, runs PASSIVE checkpoints,
 * which copy what no reader still needs and never wait for anyone. Past
 * WAL_RESTART_FRAMES it also restarts the log, which needs a moment when
 * no read transaction uses the WAL: it waits for the pool's explicit read
 * transactions to end (without holding any lock, so writers go on), holds
 * new ones back for that moment (the gate) and runs a RESTART checkpoint,
 * whose own wait for readers is cut short (CKPT_RESTART_WAIT_MS) so that it
 * never holds the write lock for long. When readers overlap without a gap
 * for CKPT_DRAIN_MS, the gate closes anyway and new read transactions wait
 * for the running ones: reads wait, writes do not, and the WAL stays
 * bounded. journal_size_limit then truncates the restarted file. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"

/* WAL frames (pages of 4 KiB) past which a PASSIVE checkpoint runs, and
 * past which the log is restarted. */
#define CKPT_PASSIVE_FRAMES 1000
#define CKPT_RESTART_FRAMES 4000
#define CKPT_IDLE_MS        1000 /* a PASSIVE checkpoint at least this often */
#define CKPT_DRAIN_MS       2000 /* wait this long for a gap between readers */
#define CKPT_RESTART_WAIT_MS 10  /* the RESTART's own wait for readers and writers */
#define CKPT_RETRY_MS       100  /* after a RESTART that found the log busy */

struct checkpointer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;      /* to the thread: WAL grew, a reader left, stop */
    pthread_cond_t gate_open; /* to read transactions held at the gate */
    sqlite3 *db;              /* the thread's own connection */
    int wal_frames;           /* as last reported by a commit */
    unsigned readers;         /* explicit read transactions in progress */
    bool gate_closed;
    bool draining; /* the thread waits for readers: tell it when one ends */
    bool stop;
    unsigned long long restarts; /* successful log restarts */
};

static void deadline_in(struct timespec *ts, long ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int ckpt_on_wal_commit(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    struct checkpointer *ck = arg;
    if (frames < CKPT_PASSIVE_FRAMES)
        return SQLITE_OK;
    pthread_mutex_lock(&ck->lock);
    ck->wal_frames = frames;
    pthread_cond_signal(&ck->wake);
    pthread_mutex_unlock(&ck->lock);
    return SQLITE_OK;
}

void ckpt_reader_enter(struct checkpointer *ck)
{
    if (!ck)
        return;
    pthread_mutex_lock(&ck->lock);
    while (ck->gate_closed && !ck->stop)
        pthread_cond_wait(&ck->gate_open, &ck->lock);
    ck->readers++;
    pthread_mutex_unlock(&ck->lock);
}

void ckpt_reader_leave(struct checkpointer *ck)
{
    if (!ck)
        return;
    pthread_mutex_lock(&ck->lock);
    if (--ck->readers == 0 && ck->draining)
        pthread_cond_signal(&ck->wake);
    pthread_mutex_unlock(&ck->lock);
}

/* Gives up a RESTART's wait for readers or a writer after
 * CKPT_RESTART_WAIT_MS (SQLite calls it with the number of tries so far). */
static int restart_busy(void *arg, int tries)
{
    (void)arg;
    if (tries >= CKPT_RESTART_WAIT_MS)
        return 0;
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
    return 1;
}

/* Waits (lock held on entry and exit) until no explicit read transaction
 * is in progress: first for a natural gap, then with the gate closed. */
static void drain_readers(struct checkpointer *ck)
{
    struct timespec until;
    deadline_in(&until, CKPT_DRAIN_MS);
    ck->draining = true;
    while (ck->readers > 0 && !ck->stop)
        if (pthread_cond_timedwait(&ck->wake, &ck->lock, &until) == ETIMEDOUT)
            break;
    ck->gate_closed = true;
    while (ck->readers > 0 && !ck->stop)
        pthread_cond_wait(&ck->wake, &ck->lock);
    ck->draining = false;
}

/* Restarts the log (lock held on entry and exit). */
static void restart_log(struct checkpointer *ck)
{
    drain_readers(ck);
    pthread_mutex_unlock(&ck->lock);
    /* With the readers gone, a PASSIVE checkpoint copies the whole log
     * while writers go on; the RESTART then holds the write lock only for
     * the few frames committed meanwhile. */
    int log = -1, done = -1;
    sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
    int rc = sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_RESTART, &log, &done);
    pthread_mutex_lock(&ck->lock);
    ck->gate_closed = false;
    pthread_cond_broadcast(&ck->gate_open);
    if (rc == SQLITE_OK) {
        ck->restarts++;
        return;
    }
    if (rc != SQLITE_BUSY)
        log_msg(LOG_WARN, "store: WAL restart failed: %s", sqlite3_errmsg(ck->db));
    struct timespec until;
    deadline_in(&until, CKPT_RETRY_MS);
    pthread_cond_timedwait(&ck->wake, &ck->lock, &until);
    ck->wal_frames = CKPT_RESTART_FRAMES; /* try again */
}

static void *checkpointer_main(void *arg)
{
    struct checkpointer *ck = arg;
    pthread_mutex_lock(&ck->lock);
    while (!ck->stop) {
        if (ck->wal_frames < CKPT_PASSIVE_FRAMES) {
            struct timespec until;
            deadline_in(&until, CKPT_IDLE_MS);
            pthread_cond_timedwait(&ck->wake, &ck->lock, &until);
        }
        if (ck->stop)
            break;
        ck->wal_frames = 0;
        pthread_mutex_unlock(&ck->lock);
        int log = -1, done = -1;
        sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        pthread_mutex_lock(&ck->lock);
        if (log >= CKPT_RESTART_FRAMES && !ck->stop)
            restart_log(ck);
    }
    pthread_mutex_unlock(&ck->lock);
    return NULL;
}

struct checkpointer *ckpt_start(sqlite3 *db)
{
    struct checkpointer *ck = xcalloc(1, sizeof(*ck));
    ck->db = db;
    sqlite3_busy_handler(db, restart_busy, NULL);
    pthread_mutex_init(&ck->lock, NULL);
    pthread_cond_init(&ck->wake, NULL);
    pthread_cond_init(&ck->gate_open, NULL);
    if (pthread_create(&ck->thread, NULL, checkpointer_main, ck) != 0) {
        log_msg(LOG_ERROR, "store: cannot start the checkpointer thread");
        abort();
    }
    return ck;
}

void ckpt_stop(struct checkpointer *ck)
{
    if (!ck)
        return;
    pthread_mutex_lock(&ck->lock);
    ck->stop = true;
    pthread_cond_broadcast(&ck->wake);
    pthread_cond_broadcast(&ck->gate_open);
    pthread_mutex_unlock(&ck->lock);
    pthread_join(ck->thread, NULL);
    /* A last PASSIVE checkpoint: the next start finds a short log. */
    sqlite3_wal_checkpoint_v2(ck->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    sqlite3_close(ck->db);
    pthread_mutex_destroy(&ck->lock);
    pthread_cond_destroy(&ck->wake);
    pthread_cond_destroy(&ck->gate_open);
    free(ck);
}

unsigned long long ckpt_restarts(struct checkpointer *ck)
{
    pthread_mutex_lock(&ck->lock);
    unsigned long long n = ck->restarts;
    pthread_mutex_unlock(&ck->lock);
    return n;
}
