/* Group commit: allocation writes of concurrent requests share one
 * transaction and one fsync.
 *
 * With synchronous=FULL every commit waits for the disk, and so does every
 * writer queued behind it on SQLite's write lock (whose busy handler also
 * lets unlucky writers starve). Instead the pool's claim writes are jobs
 * for one committer thread on its own connection: it takes every job that
 * is waiting, runs them one after the other inside one BEGIN IMMEDIATE,
 * each within its own SAVEPOINT (a job that fails is rolled back to it, so
 * each request stays all or nothing and later jobs see exactly the earlier
 * ones that succeeded, as if run one by one), commits once, and only then
 * wakes the requests. While it waits for the disk, new jobs queue up for
 * the next batch. A request is answered only after its batch is durable. */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/util.h"
#include "store/internal.h"

struct gc_job {
    gc_job_fn *fn;
    void *arg;
    enum store_rc rc;
    bool finished;
    struct gc_job *next;
};

struct committer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t work;     /* to the thread: jobs queued, or stop */
    pthread_cond_t finished; /* to the requests: a batch is done */
    struct store *st;        /* the thread's own connection */
    struct gc_job *head, *tail;
    bool stop;
    unsigned long long batches, jobs;
};

/* How long BEGIN IMMEDIATE may wait for the write lock (in 1 ms polls,
 * like the pool's busy timeout): SQLite's own busy handler sleeps up to
 * 100 ms between tries, long after a short holder (the checkpointer's
 * RESTART, an inventory write) is gone, and every request of the batch
 * would wait for that. */
#define GC_BUSY_MS 5000

static int poll_busy(void *arg, int tries)
{
    (void)arg;
    if (tries >= GC_BUSY_MS)
        return 0;
    struct timespec ms = {0, 1000000L};
    nanosleep(&ms, NULL);
    return 1;
}

static enum store_rc exec_static(struct store *st, enum stmt_id id)
{
    return stmt_exec(st, stmt_of(st, id), store_stmt_names[id]);
}

/* Runs one job inside the open transaction. Returns false when the
 * transaction itself was lost (SQLite rolled it back after an error). */
static bool run_job(struct store *st, struct gc_job *job)
{
    job->rc = exec_static(st, STMT_SAVEPOINT_JOB);
    if (job->rc == STORE_OK) {
        job->rc = job->fn(st, job->arg);
        if (job->rc != STORE_OK && !sqlite3_get_autocommit(st->db))
            exec_static(st, STMT_ROLLBACK_TO_JOB);
        if (!sqlite3_get_autocommit(st->db))
            exec_static(st, STMT_RELEASE_JOB);
    }
    return !sqlite3_get_autocommit(st->db);
}

/* Runs the jobs from *next on in one transaction, until the list ends or
 * the transaction is lost; then commits. Jobs that succeeded but whose
 * transaction did not commit get its error. Advances *next. */
static void run_transaction(struct store *st, struct gc_job **next)
{
    struct gc_job *first = *next, *job = first;
    enum store_rc rc = tx_begin_write(st);
    if (rc != STORE_OK) {
        for (; job; job = job->next)
            job->rc = rc;
        *next = NULL;
        return;
    }
    bool alive = true;
    while (job && alive) {
        alive = run_job(st, job);
        job = job->next;
    }
    *next = job;
    if (alive) {
        rc = tx_commit(st);
    } else {
        log_msg(LOG_ERROR, "store: a grouped write lost its transaction: %s",
                sqlite3_errmsg(st->db));
        st->tx_depth = 1;
        tx_rollback(st);
        rc = STORE_ERROR;
    }
    for (struct gc_job *j = first; j != job; j = j->next)
        if (j->rc == STORE_OK)
            j->rc = rc;
}

static void *committer_main(void *arg)
{
    struct committer *gc = arg;
    pthread_mutex_lock(&gc->lock);
    for (;;) {
        while (!gc->head && !gc->stop)
            pthread_cond_wait(&gc->work, &gc->lock);
        if (!gc->head)
            break; /* stopped with nothing left to do */
        struct gc_job *batch = gc->head;
        gc->head = gc->tail = NULL;
        pthread_mutex_unlock(&gc->lock);
        unsigned long long n = 0;
        for (struct gc_job *j = batch; j; j = j->next)
            n++;
        for (struct gc_job *next = batch; next;)
            run_transaction(gc->st, &next);
        pthread_mutex_lock(&gc->lock);
        gc->batches++;
        gc->jobs += n;
        for (struct gc_job *j = batch, *after; j; j = after) {
            after = j->next; /* j belongs to its request once finished */
            j->finished = true;
        }
        pthread_cond_broadcast(&gc->finished);
    }
    pthread_mutex_unlock(&gc->lock);
    return NULL;
}

struct committer *gc_start(struct store *st)
{
    struct committer *gc = xcalloc(1, sizeof(*gc));
    gc->st = st;
    sqlite3_busy_handler(st->db, poll_busy, NULL);
    pthread_mutex_init(&gc->lock, NULL);
    pthread_cond_init(&gc->work, NULL);
    pthread_cond_init(&gc->finished, NULL);
    if (pthread_create(&gc->thread, NULL, committer_main, gc) != 0) {
        log_msg(LOG_ERROR, "store: cannot start the group commit thread");
        abort();
    }
    return gc;
}

void gc_stop(struct committer *gc)
{
    if (!gc)
        return;
    pthread_mutex_lock(&gc->lock);
    gc->stop = true;
    pthread_cond_signal(&gc->work);
    pthread_mutex_unlock(&gc->lock);
    pthread_join(gc->thread, NULL);
    store_close(gc->st);
    pthread_mutex_destroy(&gc->lock);
    pthread_cond_destroy(&gc->work);
    pthread_cond_destroy(&gc->finished);
    free(gc);
}

enum store_rc gc_run(struct committer *gc, gc_job_fn *fn, void *arg)
{
    struct gc_job job = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&gc->lock);
    if (gc->stop) {
        pthread_mutex_unlock(&gc->lock);
        return STORE_BUSY;
    }
    if (gc->tail)
        gc->tail->next = &job;
    else
        gc->head = &job;
    gc->tail = &job;
    pthread_cond_signal(&gc->work);
    while (!job.finished)
        pthread_cond_wait(&gc->finished, &gc->lock);
    pthread_mutex_unlock(&gc->lock);
    return job.rc;
}

void gc_stats(struct committer *gc, unsigned long long *batches, unsigned long long *jobs)
{
    pthread_mutex_lock(&gc->lock);
    *batches = gc->batches;
    *jobs = gc->jobs;
    pthread_mutex_unlock(&gc->lock);
}
