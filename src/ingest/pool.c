/* pool.c — ordered worker pool (see pool.h). */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define POOL_MAX_BYTES ((size_t)256 << 20) /* message bytes in flight */
/* An idle worker is woken when this many jobs wait for it, or when the producer is about
 * to wait itself: not for every job while the producer is the slower side (input read
 * from a slow disk), where a wake-up per message cost two or three futex calls. */
#define WAKE_BATCH 32

enum slot_state { SLOT_FREE, SLOT_QUEUED, SLOT_TAKEN, SLOT_DONE };

typedef struct {
    ing_job job;
    enum slot_state state;
} slot;

struct ing_pool {
    pthread_mutex_t lock;
    pthread_cond_t can_submit, can_work;
    slot *slots;
    size_t nslots;
    /* Sequence numbers: next_write <= next_take <= next_submit. */
    unsigned long long next_submit, next_take, next_write;
    size_t bytes_in_flight;
    int idle_workers, producer_waiting, writing, closing;
    /* Output flushing. The output is flushed when nothing is in flight and the producer
     * has said it has nothing more to submit for now (producer_idle: it is about to wait
     * for input, for the pool, or has finished), so a record never sits in the buffer
     * while ingest waits, and a run over files that are all there makes a write(2) per
     * full buffer only. Flushing whenever nothing was in flight made a write(2) every
     * record or two whenever the worker kept up with a slower producer (a cold disk; under
     * strace, 700-1,450 writes for 4,000 messages). dirty: lines written since the last
     * flush. */
    int producer_idle, dirty;
    int out_errno; /* set when the output failed: later lines are dropped */
    FILE *out;
    pool_work_fn fn;
    int nworkers;
    pthread_t *workers;
    struct worker_arg {
        ing_pool *pool;
        void *ctx;
    } * args;
};

void job_clear(ing_job *job)
{
    free(job->data);
    json_decref(job->source);
    free(job->settle);
    free(job->input_error);
    free(job->where);
    free(job->line);
    free(job->diag);
    memset(job, 0, sizeof *job);
}

static void wake_producer(ing_pool *p)
{
    unsigned long long used = p->next_submit - p->next_write;
    if (p->producer_waiting && (used <= p->nslots / 2 || used == 0))
        pthread_cond_signal(&p->can_submit);
}

/* With the lock held and p->writing set: flushes the output, the lock released meanwhile. */
static void flush_out(ing_pool *p)
{
    pthread_mutex_unlock(&p->lock);
    int err = (!p->out_errno && fflush(p->out) != 0) ? (errno ? errno : EIO) : 0;
    pthread_mutex_lock(&p->lock);
    if (err && !p->out_errno)
        p->out_errno = err;
    p->dirty = 0;
}

static int flush_due(const ing_pool *p)
{
    return p->dirty && p->producer_idle && p->next_write == p->next_submit;
}

/* Called with the lock held by a worker that just completed a job: writes every
 * completed job in order, unless another worker is already doing so. */
static void write_ready(ing_pool *p)
{
    if (p->writing)
        return;
    p->writing = 1;
    for (;;) {
        slot *s = &p->slots[p->next_write % p->nslots];
        if (p->next_write < p->next_submit && s->state == SLOT_DONE) {
            pthread_mutex_unlock(&p->lock);
            if (s->job.diag)
                bs_error("%s", s->job.diag);
            int err = 0;
            if (!p->out_errno && s->job.line &&
                fwrite(s->job.line, 1, s->job.line_len, p->out) != s->job.line_len)
                err = errno ? errno : EIO;
            job_clear(&s->job);
            pthread_mutex_lock(&p->lock);
            if (err && !p->out_errno)
                p->out_errno = err;
            s->state = SLOT_FREE;
            p->dirty = 1;
            p->next_write++;
            wake_producer(p);
            continue;
        }
        if (flush_due(p)) {
            flush_out(p);
            continue;
        }
        break;
    }
    p->writing = 0;
}

static void *worker_main(void *arg)
{
    struct worker_arg *wa = arg;
    ing_pool *p = wa->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->closing && p->next_take == p->next_submit) {
            p->idle_workers++;
            pthread_cond_wait(&p->can_work, &p->lock);
            p->idle_workers--;
        }
        if (p->next_take == p->next_submit)
            break; /* closing and nothing left */
        slot *s = &p->slots[p->next_take % p->nslots];
        p->next_take++;
        s->state = SLOT_TAKEN;
        pthread_mutex_unlock(&p->lock);

        size_t len = s->job.len;
        if (!s->job.line) /* a line made by the producer passes as it is */
            p->fn(wa->ctx, &s->job);
        free(s->job.data); /* release the message early: only the line is left */
        s->job.data = NULL;

        pthread_mutex_lock(&p->lock);
        p->bytes_in_flight -= len;
        s->state = SLOT_DONE;
        write_ready(p);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

ing_pool *pool_new(int nworkers, void **ctxs, pool_work_fn fn, FILE *out)
{
    ing_pool *p = xcalloc(1, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->can_submit, NULL);
    pthread_cond_init(&p->can_work, NULL);
    /* 64 jobs per worker: the producer sleeps and wakes every 32 messages. More slots
     * (256 was measured) saved a few futex calls but no measurable CPU, and every queued
     * job is a claimed spool file that a crash leaves to be read again. */
    p->nslots = (size_t)nworkers * 64;
    p->slots = xcalloc(p->nslots, sizeof *p->slots);
    p->out = out;
    p->fn = fn;
    p->nworkers = nworkers;
    p->workers = xcalloc((size_t)nworkers, sizeof *p->workers);
    p->args = xcalloc((size_t)nworkers, sizeof *p->args);
    for (int i = 0; i < nworkers; i++) {
        p->args[i].pool = p;
        p->args[i].ctx = ctxs[i];
        int rc = pthread_create(&p->workers[i], NULL, worker_main, &p->args[i]);
        if (rc)
            bs_fatal(EX_OSERR, "cannot start a worker thread: %s", strerror(rc));
    }
    return p;
}

/* With the lock held, before the producer waits: idle workers take what is queued, as
 * many as there are jobs (one job wakes one worker, not every idle one). */
static void wake_workers(ing_pool *p)
{
    unsigned long long queued = p->next_submit - p->next_take;
    if (!p->idle_workers || !queued)
        return;
    if (queued >= (unsigned long long)p->idle_workers)
        pthread_cond_broadcast(&p->can_work);
    else
        for (unsigned long long i = 0; i < queued; i++)
            pthread_cond_signal(&p->can_work);
}

int pool_submit(ing_pool *p, ing_job *job)
{
    pthread_mutex_lock(&p->lock);
    p->producer_idle = 0;
    for (;;) {
        if (p->out_errno)
            break;
        slot *s = &p->slots[p->next_submit % p->nslots];
        if (s->state == SLOT_FREE &&
            (p->bytes_in_flight == 0 || p->bytes_in_flight + job->len <= POOL_MAX_BYTES))
            break;
        wake_workers(p);
        p->producer_waiting = 1;
        pthread_cond_wait(&p->can_submit, &p->lock);
        p->producer_waiting = 0;
    }
    if (p->out_errno) {
        pthread_mutex_unlock(&p->lock);
        job_clear(job);
        return -1;
    }
    slot *s = &p->slots[p->next_submit % p->nslots];
    s->job = *job;
    memset(job, 0, sizeof *job);
    s->state = SLOT_QUEUED;
    p->bytes_in_flight += s->job.len;
    p->next_submit++;
    if (p->idle_workers && p->next_submit - p->next_take >= WAKE_BATCH)
        pthread_cond_signal(&p->can_work);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

/* With the lock held: the producer has nothing more to submit for now. */
static void producer_idle(ing_pool *p)
{
    p->producer_idle = 1;
    wake_workers(p);
    if (!p->writing && flush_due(p)) { /* else the writer flushes when it is done */
        p->writing = 1;
        flush_out(p);
        p->writing = 0;
    }
}

void pool_idle(ing_pool *p)
{
    pthread_mutex_lock(&p->lock);
    producer_idle(p);
    pthread_mutex_unlock(&p->lock);
}

int pool_wait_idle(ing_pool *p)
{
    pthread_mutex_lock(&p->lock);
    producer_idle(p);
    while (!p->out_errno && p->next_write != p->next_submit) {
        p->producer_waiting = 1;
        pthread_cond_wait(&p->can_submit, &p->lock);
        p->producer_waiting = 0;
    }
    int failed = p->out_errno != 0;
    pthread_mutex_unlock(&p->lock);
    return failed ? -1 : 0;
}

int pool_finish(ing_pool *p)
{
    pthread_mutex_lock(&p->lock);
    p->closing = 1;
    pthread_cond_broadcast(&p->can_work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i], NULL);
    int err = p->out_errno;
    if (!err && fflush(p->out) != 0)
        err = errno ? errno : EIO;
    for (size_t i = 0; i < p->nslots; i++)
        job_clear(&p->slots[i].job);
    free(p->slots);
    free(p->workers);
    free(p->args);
    pthread_cond_destroy(&p->can_submit);
    pthread_cond_destroy(&p->can_work);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return err;
}
