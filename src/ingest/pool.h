/* pool.h — ordered worker pool: messages are processed by N threads and their records
 * written in submission order by one writer thread.
 *
 * The producer (main thread) submits jobs; a worker turns a job into one output line
 * (and maybe a diagnostic). Whichever worker completes the oldest unwritten job becomes
 * the writer for as long as there are completed jobs in order: it prints diagnostics on
 * stderr and lines on the output, and flushes the output when nothing is left in flight
 * and the producer has nothing more to submit for now (pool_idle, pool_wait_idle), so a
 * record never sits in a buffer while ingest waits for input. Threads sleep and wake only
 * when they must (no hand-off per message; idle workers are woken a few jobs at a time). The number
 * of jobs and of message bytes in flight is bounded, so memory stays bounded.
 */
#ifndef BS_INGEST_POOL_H
#define BS_INGEST_POOL_H

#include <jansson.h>
#include <stdio.h>

typedef struct {
    /* input, set by the producer */
    char *data;        /* the message (xmalloc'ed; NULL when not kept) */
    size_t len;        /* bytes in data */
    size_t size;       /* the message's full size */
    char id[17];       /* record id */
    json_t *source;    /* record source object (reference owned by the job) */
    char *settle;      /* claimed path or NULL */
    char *input_error; /* problem found while reading (over the size limit...) or NULL */
    char *where;       /* input name for diagnostics ("spool/x.msg", "stdin, message 3") */
    /* output, set by the worker (or by the producer: the job is then written as it is) */
    char *line; /* one record, newline-terminated */
    size_t line_len;
    char *diag; /* text for a "prog: error: ..." line, or NULL */
} ing_job;

typedef void (*pool_work_fn)(void *worker_ctx, ing_job *job);
typedef struct ing_pool ing_pool;

/* ctxs[i] is handed to fn by worker i. */
ing_pool *pool_new(int nworkers, void **ctxs, pool_work_fn fn, FILE *out);
/* Takes over the job's allocations. Blocks while too much is in flight. Returns -1
 * (and frees the job) once the output has failed. */
int pool_submit(ing_pool *p, ing_job *job);
/* The producer has nothing more to submit for now (it is about to wait for input): every
 * job in flight is started, and the output is flushed once they are all written. Any
 * pool_submit ends this. */
void pool_idle(ing_pool *p);
/* Waits until every job submitted so far is written (a pool_idle: the writer flushes the
 * output then). -1 once the output has failed. */
int pool_wait_idle(ing_pool *p);
/* Waits for everything submitted, stops the threads and frees the pool. Returns 0, or
 * the errno of the output failure. */
int pool_finish(ing_pool *p);

/* Frees every field of a job. */
void job_clear(ing_job *job);

#endif
