/* server.c — sockets, threads, TLS, timeouts and shutdown around the session machine. */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <jansson.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cidr.h"
#include "proxy.h"
#include "record.h"
#include "session.h"
#include "shape.h"
#include "spool.h"
#include "util.h"

/* Unprocessed input of a connection: the session takes all input while reading is on, and
 * reading is off while it cannot (spooling, a slow reply, replies not taken, closing), so
 * at most one read (16 KB) waits; more is a bug, and the connection is closed. This bound is
 * checked here rather than with a libevent read watermark, which re-arms the read event
 * (an event_add) on every change of the input buffer: eight times per message. */
#define READ_HIGH_WATER (256 * 1024)
/* The most one read of a plain connection takes (plain_read_cb). */
#define READ_SIZE (16 * 1024)
#define OUT_HIGH_WATER (256 * 1024)

typedef struct worker worker;
typedef struct facts_task facts_task;

typedef struct conn {
    struct conn *prev, *next;
    worker *w;
    struct bufferevent *bev;
    sess *s;
    sess_hooks hooks;
    int closing;               /* output being flushed, then freed */
    int dead;                  /* peer gone while a spool job runs */
    long read_timeout;         /* seconds last given to set_timeouts; -1: none yet */
    struct event *read_ev;     /* plain connection: its reads (conn_read_on) */
    struct timeval read_tv;    /* and their timeout */
    int reading;               /* read_ev wanted; off: removed when it next fires */
    struct timespec cmd_since; /* last reply out: the next command line must be complete
                                  within Command_Timeout (a byte a second is no escape) */
    int tls_pending;           /* STARTTLS answered; switch once the 220 is out */
    int out_paused;            /* reading stopped until the client takes its replies */
    int tls;                   /* TLS active: all output through the bufferevent */
    int delaying;              /* a slow reply is held in `held` until delay_ev fires */
    struct event *delay_ev;
    bs_buf held;
    int proxy_wait;    /* a trusted balancer's connection: no session before its PROXY header */
    facts_task *facts; /* the facts job the session waits for */
    struct event *facts_ev; /* its deadline (Facts_Timeout) */
    char ip[INET6_ADDRSTRLEN + 1];
} conn;

/* A facts job on its way through a facts thread. c is NULL once the connection gave up on
 * it (deadline, closed): the loop then only frees it when it comes back. */
struct facts_task {
    facts_job *job;
    conn *c;
    worker *w;
    facts_task *next;
};

struct worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    struct evconnlistener **listeners;
    size_t nlisteners;
    conn *conns;
    size_t nconns;
    struct event *stop_ev, *done_ev, *deadline_ev, *final_ev;
    pthread_mutex_t done_mu;
    spool_job *done_head;
    facts_task *facts_done; /* under done_mu */
    struct event *facts_ev;
    size_t jobs_pending;
    int stopping;
    lrng rng;
    unsigned long seq;
};

static const lconf *cf;
static sess_env env;
static rqueue *rq;
static SSL_CTX *ssl_ctx;
static atomic_long nconn_total;
static atomic_ulong st_messages, st_spooled, st_blackholed, st_inband, st_refused;
static atomic_ulong st_greylisted, st_throttled, st_delayed;
static atomic_ulong st_proxied, st_proxy_errors;
static worker *workers;
static size_t nworkers;

/* ---- spool writer pool: file creation and fsync never stall an event loop ---- */

static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static spool_job *pool_head, *pool_tail;
static int pool_stop;
static size_t pool_idle; /* threads waiting on pool_cv (under pool_mu): only they need a signal */
static pthread_t *pool_threads;
static size_t npool;

/* Finished jobs (a list linked by next, `last` its end, all of worker w) go back to w's
 * event loop: one lock and at most one wake-up for the list. A loop whose done list was not
 * empty has been woken already and not yet taken the list (done_cb empties it under the
 * lock), so it takes these too without another event_active. */
static void jobs_finished(worker *w, spool_job *first, spool_job *last)
{
    pthread_mutex_lock(&w->done_mu);
    int asleep = w->done_head == NULL;
    last->next = w->done_head;
    w->done_head = first;
    pthread_mutex_unlock(&w->done_mu);
    if (asleep)
        event_active(w->done_ev, EV_READ, 0);
}

/* A finished job goes back to the event loop of its connection. */
static void job_finished(spool_job *job)
{
    jobs_finished(((conn *)job->owner)->w, job, job);
}

/* With Fsync = yes a spool thread stages a job (writes and fsyncs its temporary files), then
 * queues it for the next group. If no thread is committing, it becomes the committer: it
 * takes every staged job waiting, makes the whole group durable with one spool_commit, hands
 * the jobs back (so no session answers 250 before its files and names are on disk), and goes
 * on with the jobs staged meanwhile until none waits. A thread that finds a commit running
 * only leaves its job for it: the group grows with the load, with a single session it is one
 * job, committed at once, and no job waits for another thread to be woken to commit it. */
static pthread_mutex_t sync_mu = PTHREAD_MUTEX_INITIALIZER;
static spool_job *sync_head, *sync_tail;
static int sync_busy; /* a spool thread is committing (under sync_mu) */
static atomic_ulong st_groups, st_grouped;

/* A committer's room: the group and, per worker, the jobs going back to it (first, last). */
typedef struct {
    spool_job **group;
    size_t cap;
    spool_job **back;
} committer;

static void commit_group(committer *cm, spool_job *list)
{
    size_t n = 0;
    for (spool_job *j = list; j; j = j->next) {
        if (n == cm->cap) {
            cm->cap = cm->cap ? 2 * cm->cap : 64;
            cm->group = xrealloc(cm->group, cm->cap * sizeof *cm->group);
        }
        cm->group[n++] = j;
    }
    spool_commit(cm->group, n);
    atomic_fetch_add(&st_groups, 1);
    atomic_fetch_add(&st_grouped, n);
    /* back to the loops, one hand-over (and at most one wake-up) per loop and group; each
     * list in the order handing them back one at a time made (last staged first) */
    spool_job **back = cm->back;
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)((conn *)cm->group[i]->owner)->w->index;
        cm->group[i]->next = back[2 * k];
        if (!back[2 * k])
            back[2 * k + 1] = cm->group[i];
        back[2 * k] = cm->group[i];
    }
    for (size_t k = 0; k < nworkers; k++)
        if (back[2 * k]) {
            jobs_finished(&workers[k], back[2 * k], back[2 * k + 1]);
            back[2 * k] = back[2 * k + 1] = NULL;
        }
}

/* Queues a staged job for the next group, and commits groups if no thread does. */
static void sync_job(committer *cm, spool_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&sync_mu);
    if (sync_tail)
        sync_tail->next = job;
    else
        sync_head = job;
    sync_tail = job;
    if (sync_busy) { /* the committer takes it with its next group */
        pthread_mutex_unlock(&sync_mu);
        return;
    }
    sync_busy = 1;
    while (sync_head) {
        spool_job *list = sync_head;
        sync_head = sync_tail = NULL;
        pthread_mutex_unlock(&sync_mu);
        commit_group(cm, list);
        pthread_mutex_lock(&sync_mu);
    }
    sync_busy = 0;
    pthread_mutex_unlock(&sync_mu);
}

static void *pool_main(void *arg)
{
    (void)arg;
    committer cm = {NULL, 0, xcalloc(2 * nworkers, sizeof *cm.back)};
    for (;;) {
        pthread_mutex_lock(&pool_mu);
        while (!pool_head && !pool_stop) {
            pool_idle++;
            pthread_cond_wait(&pool_cv, &pool_mu);
            pool_idle--;
        }
        spool_job *job = pool_head;
        if (job) {
            pool_head = job->next;
            if (!pool_head)
                pool_tail = NULL;
        }
        pthread_mutex_unlock(&pool_mu);
        if (!job)
            break;
        if (!job->fsync) {
            spool_run(job);
        } else if (spool_stage(job) == 0) {
            sync_job(&cm, job);
            continue;
        }
        job_finished(job);
    }
    free(cm.group);
    free(cm.back);
    return NULL;
}

/* ---- facts threads: DNS and crypto of the facts (facts.h) never stall an event loop -- */

static pthread_mutex_t facts_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t facts_cv = PTHREAD_COND_INITIALIZER;
static facts_task *facts_head, *facts_tail;
static int facts_stop;
static pthread_t *facts_threads;
static size_t nfacts;

static void *facts_main(void *arg)
{
    facts_ctx *fc = arg;
    for (;;) {
        pthread_mutex_lock(&facts_mu);
        while (!facts_head && !facts_stop)
            pthread_cond_wait(&facts_cv, &facts_mu);
        facts_task *t = facts_stop ? NULL : facts_head;
        if (t) {
            facts_head = t->next;
            if (!facts_head)
                facts_tail = NULL;
        }
        pthread_mutex_unlock(&facts_mu);
        if (!t)
            return NULL;
        facts_run(fc, t->job);
        worker *w = t->w;
        pthread_mutex_lock(&w->done_mu);
        t->next = w->facts_done;
        w->facts_done = t;
        pthread_mutex_unlock(&w->done_mu);
        event_active(w->facts_ev, EV_READ, 0);
    }
}

/* ---- connections ---------------------------------------------------------------- */

static void conn_process(conn *c);
static void read_cb(struct bufferevent *bev, void *arg);
static void write_cb(struct bufferevent *bev, void *arg);
static void event_cb(struct bufferevent *bev, short what, void *arg);

/* Reading. A TLS connection reads through its bufferevent. A plain one reads through its
 * own event (read_ev): libevent 2.1's bufferevent asks the socket's size (FIONREAD) before
 * every read, a system call per read for nothing. Turning reading off only marks it; the
 * event is removed if it fires meanwhile, so a spool job or a delay costs no epoll_ctl. */
static void conn_read_on(conn *c)
{
    if (c->tls) {
        bufferevent_enable(c->bev, EV_READ);
        return;
    }
    c->reading = 1;
    event_add(c->read_ev, &c->read_tv); /* restarts the timeout, as bufferevent_enable does */
}

static void conn_read_off(conn *c)
{
    if (c->tls)
        bufferevent_disable(c->bev, EV_READ);
    else
        c->reading = 0;
}

static void conn_set_timeouts(conn *c, const struct timeval *rt, const struct timeval *wt)
{
    if (c->tls) {
        bufferevent_set_timeouts(c->bev, rt, wt);
        return;
    }
    c->read_tv = *rt;
    bufferevent_set_timeouts(c->bev, NULL, wt);
    if (c->reading)
        event_add(c->read_ev, &c->read_tv);
}

static void plain_read_cb(evutil_socket_t fd, short what, void *arg)
{
    conn *c = arg;
    if (!c->reading) {
        event_del(c->read_ev);
        return;
    }
    short ev = BEV_EVENT_READING | BEV_EVENT_TIMEOUT;
    if (what != EV_TIMEOUT) { /* a read restarts the timeout, as in the bufferevent */
        struct evbuffer *in = bufferevent_get_input(c->bev);
        struct evbuffer_iovec v;
        ssize_t n = -1;
        int err = ENOMEM;
        evbuffer_unfreeze(in, 0); /* a bufferevent's input is frozen but to its own reads */
        if (evbuffer_reserve_space(in, READ_SIZE, &v, 1) == 1) {
            n = recv(fd, v.iov_base, v.iov_len < READ_SIZE ? v.iov_len : READ_SIZE, 0);
            err = errno;
            v.iov_len = n > 0 ? (size_t)n : 0;
            evbuffer_commit_space(in, &v, n > 0);
        }
        evbuffer_freeze(in, 0);
        if (n > 0) {
            read_cb(c->bev, c);
            return;
        }
        if (n < 0 && (err == EAGAIN || err == EWOULDBLOCK || err == EINTR))
            return;
        ev = BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR);
    }
    /* the end of reading, as the bufferevent's: off, then event_cb */
    conn_read_off(c);
    event_cb(c->bev, ev, c);
}

static void conn_drop_bev(conn *c)
{
    if (c->read_ev) {
        event_free(c->read_ev);
        c->read_ev = NULL;
    }
    if (c->bev) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
}

static void check_exit(worker *w)
{
    if (w->stopping && w->nconns == 0 && w->jobs_pending == 0)
        event_base_loopexit(w->base, NULL);
}

static void conn_free(conn *c)
{
    worker *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->nconns--;
    atomic_fetch_sub(&nconn_total, 1);
    if (c->s) { /* no session yet: a balancer's connection before (or without) its header */
        const sess_stats *st = sess_get_stats(c->s);
        atomic_fetch_add(&st_messages, st->messages);
        atomic_fetch_add(&st_spooled, st->spooled);
        atomic_fetch_add(&st_blackholed, st->blackholed);
        atomic_fetch_add(&st_inband, st->inband);
        atomic_fetch_add(&st_refused, st->relay_denied);
        atomic_fetch_add(&st_greylisted, st->greylisted);
        atomic_fetch_add(&st_throttled, st->throttled);
        atomic_fetch_add(&st_delayed, st->delayed);
        shape_conn_close(env.shape, c->ip);
    }
    if (c->facts) /* given up: freed when its thread hands it back */
        c->facts->c = NULL;
    if (c->facts_ev)
        event_free(c->facts_ev);
    if (c->delay_ev)
        event_free(c->delay_ev);
    buf_free(&c->held);
    conn_drop_bev(c);
    sess_free(c->s);
    free(c);
    check_exit(w);
}

/* The peer is gone or the session is over: free now unless a spool job still runs. */
static void conn_close_now(conn *c)
{
    if (c->s && sess_get_state(c->s) == S_SPOOLING && (sess_flags(c->s) & SESS_BLOCKED) &&
        !c->facts) {
        c->dead = 1;
        conn_drop_bev(c);
        return;
    }
    conn_free(c);
}

static void set_timeouts(conn *c)
{
    sess_state st = sess_get_state(c->s);
    long read_s = st == S_DATA || st == S_BDAT ? cf->data_timeout : cf->command_timeout;
    /* unchanged (by default Data_Timeout = Command_Timeout): no call, which would re-add
     * both events with their timeouts twice per message */
    if (read_s == c->read_timeout)
        return;
    c->read_timeout = read_s;
    struct timeval rt = {read_s, 0};
    struct timeval wt = {cf->command_timeout, 0};
    conn_set_timeouts(c, &rt, &wt);
}

static void proxy_read(conn *c);
static void proxy_fail(conn *c, const char *why);

/* STARTTLS: called once the 220 went out. The plain bufferevent is replaced by an
 * OpenSSL one on (a duplicate of) the same socket; anything the client pipelined after
 * STARTTLS is discarded (RFC 3207). */
static void start_tls(conn *c)
{
    c->tls_pending = 0;
    int fd = dup(bufferevent_getfd(c->bev));
    conn_drop_bev(c);
    SSL *ssl = fd >= 0 ? SSL_new(ssl_ctx) : NULL;
    struct bufferevent *tb =
        ssl ? bufferevent_openssl_socket_new(c->w->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!tb) {
        if (ssl)
            SSL_free(ssl);
        if (fd >= 0)
            close(fd);
        bs_warn("cannot start TLS for %s", c->ip);
        conn_close_now(c);
        return;
    }
    c->bev = tb;
    c->tls = 1;
    bufferevent_setcb(tb, read_cb, write_cb, event_cb, c);
    c->read_timeout = -1;
    sess_tls_started(c->s);
    set_timeouts(c);
    bufferevent_enable(tb, EV_READ | EV_WRITE);
}

static void conn_send(conn *c, const char *p, size_t n)
{
    if (n)
        clock_gettime(CLOCK_MONOTONIC, &c->cmd_since);
    if (n && c->bev) {
        /* Plain connection with nothing queued: write at once, which spares the two
         * epoll_ctl calls of arming and disarming a write event for every reply. */
        if (!c->tls && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
            ssize_t w = send(bufferevent_getfd(c->bev), p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w > 0) {
                p += w;
                n -= (size_t)w;
            }
        }
        if (n)
            bufferevent_write(c->bev, p, n);
    }
}

static void delay_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    c->delaying = 0;
    sess_delay_done(c->s);
    conn_send(c, c->held.data, c->held.len);
    buf_reset(&c->held);
    if (!c->bev)
        return;
    conn_read_on(c);
    conn_process(c);
}

/* Sends what the session produced and acts on its flags. */
static void conn_flush(conn *c)
{
    bs_buf *o = sess_out(c->s);
    int f = sess_flags(c->s);
    if (c->delaying && (f & SESS_CLOSE)) { /* closing (shutdown): no more waiting */
        evtimer_del(c->delay_ev);
        c->delaying = 0;
        sess_delay_done(c->s);
        conn_send(c, c->held.data, c->held.len);
        buf_reset(&c->held);
    }
    if (c->delaying) {
        buf_append(&c->held, o->data, o->len);
        buf_reset(o);
        return;
    }
    if ((f & SESS_DELAY) && !(f & SESS_CLOSE) && c->bev) {
        /* a slow reply: what came before it goes now, the rest after the delay; the
         * event loop serves other sessions meanwhile */
        long ms;
        size_t mark;
        sess_delay(c->s, &ms, &mark);
        if (mark > o->len)
            mark = o->len;
        conn_send(c, o->data, mark);
        buf_append(&c->held, o->data + mark, o->len - mark);
        buf_reset(o);
        if (!c->delay_ev)
            c->delay_ev = evtimer_new(c->w->base, delay_cb, c);
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        c->delaying = 1;
        conn_read_off(c);
        evtimer_add(c->delay_ev, &tv);
        return;
    }
    if (f & SESS_DELAY)
        sess_delay_done(c->s);
    conn_send(c, o->data, o->len);
    buf_reset(o);
    if (!c->bev)
        return;
    f = sess_flags(c->s);
    if (f & SESS_CLOSE) {
        if (!c->closing) {
            c->closing = 1;
            conn_read_off(c);
        }
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            conn_close_now(c);
        return;
    }
    if (f & SESS_STARTTLS) {
        if (!c->tls_pending) {
            c->tls_pending = 1;
            conn_read_off(c);
        }
        if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
            start_tls(c); /* the 220 is out already */
        return;
    }
    if (f & SESS_BLOCKED) {
        conn_read_off(c);
        return;
    }
    if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HIGH_WATER) {
        /* a client that pipelines without reading replies: stop reading */
        c->out_paused = 1;
        conn_read_off(c);
    }
    set_timeouts(c);
}

static void conn_process(conn *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (evbuffer_get_length(in) > 0 &&
           !(sess_flags(c->s) & (SESS_CLOSE | SESS_STARTTLS | SESS_BLOCKED | SESS_DELAY))) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = sess_feed(c->s, v.iov_base, v.iov_len);
        evbuffer_drain(in, used);
        if (used < v.iov_len)
            break;
    }
    conn_flush(c);
}

static void read_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    if (c->closing || c->tls_pending)
        return;
    if (evbuffer_get_length(bufferevent_get_input(bev)) > READ_HIGH_WATER) {
        bs_warn("input of %s not taken by its session: connection closed", c->ip);
        conn_close_now(c);
        return;
    }
    if (c->proxy_wait) {
        proxy_read(c);
        return;
    }
    sess_state st = sess_get_state(c->s);
    if (st != S_DATA && st != S_BDAT && !c->delaying && !c->out_paused) {
        /* slowloris: a command line trickling in for longer than Command_Timeout */
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - c->cmd_since.tv_sec > cf->command_timeout ||
            (now.tv_sec - c->cmd_since.tv_sec == cf->command_timeout &&
             now.tv_nsec >= c->cmd_since.tv_nsec)) {
            sess_timeout(c->s);
            bufferevent_enable(c->bev, EV_WRITE);
            conn_flush(c);
            return;
        }
    }
    conn_process(c);
}

static void write_cb(struct bufferevent *bev, void *arg)
{
    conn *c = arg;
    if (evbuffer_get_length(bufferevent_get_output(bev)) != 0)
        return;
    if (c->closing) {
        conn_close_now(c);
    } else if (c->tls_pending) {
        start_tls(c);
    } else if (c->out_paused && !c->delaying) {
        c->out_paused = 0;
        conn_read_on(c);
        conn_process(c);
    }
}

static void event_cb(struct bufferevent *bev, short what, void *arg)
{
    (void)bev;
    conn *c = arg;
    if (what == BEV_EVENT_CONNECTED) /* TLS handshake done */
        return;
    if (c->proxy_wait && !c->closing) {
        proxy_fail(c, (what & BEV_EVENT_TIMEOUT) ? "timeout" : "connection closed");
        return;
    }
    if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) && !c->closing) {
        sess_timeout(c->s);
        bufferevent_enable(c->bev, EV_WRITE);
        conn_flush(c);
        return;
    }
    conn_close_now(c);
}

/* ---- hooks -------------------------------------------------------------------------- */

static int hook_spool(void *ctx, sess *s, spool_job *job)
{
    (void)s;
    conn *c = ctx;
    /* Without fsync, a message held in memory is written here, in the loop: open, write,
     * close and rename into the page cache cost less than handing the job to a spool
     * thread and back (two thread wake-ups, two epoll_ctl, a context switch each way per
     * message). A spilled body (over Spill_Size) still goes to the pool: copying it could
     * stall the loop. */
    if (!npool || (!job->fsync && job->body_fd < 0)) {
        spool_run(job);
        return 0;
    }
    job->owner = c;
    job->next = NULL;
    c->w->jobs_pending++;
    pthread_mutex_lock(&pool_mu);
    if (pool_tail)
        pool_tail->next = job;
    else
        pool_head = job;
    pool_tail = job;
    if (pool_idle) /* a busy thread looks at the queue before it waits */
        pthread_cond_signal(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
    return 1;
}

static void facts_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *c = arg;
    if (!c->facts)
        return;
    c->facts->c = NULL; /* its thread still runs it; the session goes on without */
    c->facts = NULL;
    sess_facts_done(c->s, NULL);
    if (c->bev) {
        conn_read_on(c);
        conn_process(c);
    }
}

static int hook_facts(void *ctx, sess *s, facts_job *job)
{
    (void)s;
    conn *c = ctx;
    facts_task *t = xcalloc(1, sizeof *t);
    t->job = job;
    t->c = c;
    t->w = c->w;
    job->owner = t;
    c->facts = t;
    if (!c->facts_ev)
        c->facts_ev = evtimer_new(c->w->base, facts_deadline_cb, c);
    /* each DNS question of the job is bounded by Facts_Timeout (dnsq.h); the job as a
     * whole (several questions, libspf2's and libopendkim's own) by three times that */
    struct timeval tv = {3 * cf->facts_timeout, 0};
    evtimer_add(c->facts_ev, &tv);
    pthread_mutex_lock(&facts_mu);
    if (facts_tail)
        facts_tail->next = t;
    else
        facts_head = t;
    facts_tail = t;
    pthread_cond_signal(&facts_cv);
    pthread_mutex_unlock(&facts_mu);
    return 1;
}

/* Facts jobs back from their threads: each resumes its session (stopping: only freed). */
static void facts_drain(worker *w, int stopping)
{
    pthread_mutex_lock(&w->done_mu);
    facts_task *list = w->facts_done;
    w->facts_done = NULL;
    pthread_mutex_unlock(&w->done_mu);
    while (list) {
        facts_task *t = list;
        list = t->next;
        conn *c = t->c;
        facts_job *job = t->job;
        free(t);
        if (!c || stopping) { /* given up, or the server is stopping */
            if (c)
                c->facts = NULL;
            facts_job_free(job);
            continue;
        }
        c->facts = NULL;
        evtimer_del(c->facts_ev);
        sess_facts_done(c->s, job);
        if (c->bev) {
            conn_read_on(c);
            conn_process(c);
        }
    }
    check_exit(w);
}

static void facts_done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    facts_drain(arg, 0);
}

static void hook_record(void *ctx, char *line, size_t len)
{
    (void)ctx;
    rq_push(rq, line, len);
}

static int hook_full(void *ctx)
{
    (void)ctx;
    return rq_full(rq);
}

static void done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    pthread_mutex_lock(&w->done_mu);
    spool_job *list = w->done_head;
    w->done_head = NULL;
    pthread_mutex_unlock(&w->done_mu);
    while (list) {
        spool_job *job = list;
        list = job->next;
        conn *c = job->owner;
        w->jobs_pending--;
        sess_spool_done(c->s); /* frees the job */
        if (c->dead) {
            conn_free(c);
            continue;
        }
        conn_read_on(c);
        conn_process(c);
    }
    check_exit(w);
}

/* ---- accepting ------------------------------------------------------------------------ */

static void client_ip(const struct sockaddr *sa, char *out, size_t n)
{
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)n);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)n);
        else
            inet_ntop(AF_INET6, a, out, (socklen_t)n);
    } else {
        snprintf(out, n, "unknown");
    }
}

/* Throttle_Max_Connections_Per_IP reached: the 421 4.7.0 reply into `line` and a record;
 * the caller sends it and closes. */
static void throttle_conn_refusal(worker *w, const char *ip, bs_buf *line)
{
    reply_vars vars = {"postmaster", cf->sink_domains[0], ip, ""};
    int code;
    const char *enh;
    bs_buf text;
    buf_init(&text);
    shape_throttle_reply(env.shape, TH_CONNECTIONS, &vars, &w->rng, &code, &enh, &text);
    replies_format(code, enh, text.data, text.len, line);
    atomic_fetch_add(&st_throttled, 1);
    char id[17];
    bs_rng_hex(&w->rng, id, 8, 0);
    json_t *rec = rec_new("throttle", id);
    json_t *e = json_object();
    json_object_set_new(e, "mail_from", json_string(""));
    json_object_set_new(e, "rcpt", json_string(""));
    json_object_set_new(e, "client_ip", json_string(ip));
    json_object_set_new(e, "helo", json_string(""));
    json_object_set_new(rec, "envelope", e);
    json_object_set_new(rec, "client_ip", json_string(ip));
    json_object_set_new(rec, "limit", json_string(shape_limit_names[TH_CONNECTIONS]));
    json_t *r = json_object();
    json_object_set_new(r, "code", json_integer(code));
    json_object_set_new(r, "enhanced", json_string(enh));
    json_object_set_new(r, "text", json_stringn(text.data, text.len));
    json_object_set_new(rec, "reply", r);
    char *out = json_dumps(rec, JSON_COMPACT);
    json_decref(rec);
    if (out)
        rq_push(rq, out, strlen(out));
    buf_free(&text);
}

/* The session for c->ip: greeting, then whatever the client sent already. c may be freed. */
static void conn_start_session(conn *c)
{
    worker *w = c->w;
    c->hooks = (sess_hooks){c, hook_spool, hook_record, hook_full, nfacts ? hook_facts : NULL};
    uint64_t seed =
        cf->has_seed ? cf->seed + (uint64_t)w->index * 1000003u + w->seq++ : bs_rng_next(&w->rng);
    c->s = sess_new(&env, &c->hooks, c->ip, seed);
    c->read_timeout = -1;
    set_timeouts(c);
    clock_gettime(CLOCK_MONOTONIC, &c->cmd_since);
    sess_greet(c->s);
    conn_process(c);
}

/* Behind a balancer, once the header named the client: throttling counts the proxied
 * address (Throttle_Max_Connections_Per_IP), then the session starts. */
static void conn_begin(conn *c)
{
    worker *w = c->w;
    c->proxy_wait = 0;
    if (env.shape && shape_conn_open(env.shape, c->ip) < 0) {
        bs_buf line;
        buf_init(&line);
        throttle_conn_refusal(w, c->ip, &line);
        c->closing = 1;
        conn_read_off(c);
        bufferevent_write(c->bev, line.data, line.len);
        buf_free(&line);
        return; /* write_cb closes once the reply is out */
    }
    conn_start_session(c);
}

/* A balancer's connection without a usable header: warned about as Postfix does ("haproxy
 * read: ..."), a 421 where the peer may still read it, closed; no session, no record. */
static void proxy_fail(conn *c, const char *why)
{
    atomic_fetch_add(&st_proxy_errors, 1);
    bs_warn("PROXY header from %s: %s", c->ip, why);
    c->closing = 1;
    conn_read_off(c);
    if (strcmp(why, "connection closed") == 0) {
        conn_close_now(c);
        return;
    }
    char msg[512];
    int n =
        snprintf(msg, sizeof msg, "421 4.3.0 %s Cannot read the PROXY header\r\n", cf->hostname);
    bufferevent_write(c->bev, msg, (size_t)n);
}

/* Reads the PROXY header of a trusted balancer (Proxy_Networks) within Proxy_Timeout: the
 * address it names becomes the client's; LOCAL (health checks) and UNKNOWN keep the
 * balancer's own, as Postfix's smtpd does. */
static void proxy_read(conn *c)
{
    /* Proxy_Timeout counts from the connect, to the microsecond (whole seconds cut up to a
     * second early), and a trickle is no escape: the read timeout, which every read
     * restarts, is re-armed below for what is left. */
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long left_us = (long long)cf->proxy_timeout * 1000000 -
                        ((long long)(now.tv_sec - c->cmd_since.tv_sec) * 1000000 +
                         (now.tv_nsec - c->cmd_since.tv_nsec) / 1000);
    if (left_us <= 0) {
        proxy_fail(c, "timeout");
        return;
    }
    struct evbuffer *in = bufferevent_get_input(c->bev);
    size_t len = evbuffer_get_length(in);
    if (len > PROXY_MAX_HEADER)
        len = PROXY_MAX_HEADER;
    const unsigned char *p = evbuffer_pullup(in, (ev_ssize_t)len);
    proxy_header h;
    const char *why;
    proxy_result r = proxy_parse(p, len, &h, &why);
    if (r == PROXY_MORE) {
        struct timeval t = {(time_t)(left_us / 1000000), (suseconds_t)(left_us % 1000000)};
        conn_set_timeouts(c, &t, &t);
        return;
    }
    if (r == PROXY_BAD) {
        proxy_fail(c, why);
        return;
    }
    evbuffer_drain(in, h.length);
    if (r == PROXY_ADDRESS)
        snprintf(c->ip, sizeof c->ip, "%s", h.src);
    atomic_fetch_add(&st_proxied, 1);
    conn_begin(c);
}

static void accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
    (void)l;
    (void)socklen;
    worker *w = arg;
    if (w->stopping || atomic_fetch_add(&nconn_total, 1) >= cf->max_connections) {
        if (!w->stopping)
            atomic_fetch_sub(&nconn_total, 1);
        char msg[512];
        int n = snprintf(msg, sizeof msg, "421 4.7.0 %s Too many connections\r\n", cf->hostname);
        if (write(fd, msg, (size_t)n) < 0) {
            /* nothing to do: the client is gone */
        }
        evutil_closesocket(fd);
        return;
    }
    char ip[INET6_ADDRSTRLEN + 1];
    client_ip(sa, ip, sizeof ip);
    int balancer = cf->nproxy_nets && bs_cidr_match(cf->proxy_nets, cf->nproxy_nets, sa);
    if (!balancer && env.shape && shape_conn_open(env.shape, ip) < 0) {
        atomic_fetch_sub(&nconn_total, 1);
        bs_buf line;
        buf_init(&line);
        throttle_conn_refusal(w, ip, &line);
        if (write(fd, line.data, line.len) < 0) {
            /* nothing to do: the client is gone */
        }
        evutil_closesocket(fd);
        buf_free(&line);
        return;
    }
    conn *c = xcalloc(1, sizeof *c);
    c->w = w;
    buf_init(&c->held);
    snprintf(c->ip, sizeof c->ip, "%s", ip);
    c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE);
    c->read_ev = c->bev ? event_new(w->base, fd, EV_READ | EV_PERSIST, plain_read_cb, c) : NULL;
    if (!c->read_ev) {
        if (c->bev)
            bufferevent_free(c->bev);
        else
            evutil_closesocket(fd);
        if (!balancer)
            shape_conn_close(env.shape, c->ip);
        free(c);
        atomic_fetch_sub(&nconn_total, 1);
        return;
    }
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->nconns++;
    bufferevent_setcb(c->bev, read_cb, write_cb, event_cb, c);
    bufferevent_enable(c->bev, EV_WRITE);
    c->reading = 1; /* added with its timeout by set_timeouts or conn_set_timeouts */
    if (balancer) {
        /* no greeting before the header (the balancer's client is waiting for ours) */
        c->proxy_wait = 1;
        struct timeval t = {cf->proxy_timeout, 0};
        conn_set_timeouts(c, &t, &t);
        clock_gettime(CLOCK_MONOTONIC, &c->cmd_since);
        return;
    }
    conn_start_session(c); /* shape_conn_open counted the client above */
}

static int open_listener(const listen_addr *a, int reuseport)
{
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", a->port);
    const char *host = strcmp(a->host, "*") == 0 ? NULL : a->host;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        bs_error("[Listen] Address: cannot resolve '%s' (%s): %s", a->host, a->where,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        exit(EX_CONFIG);
    }
    int fd = socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        bs_fatal(EX_OSERR, "socket (%s:%d): %s", a->host, a->port, strerror(errno));
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (res->ai_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
        bs_fatal(EX_UNAVAILABLE, "cannot listen (%s:%d): %s", a->host, a->port, strerror(errno));
    if (listen(fd, 1024) < 0)
        bs_fatal(EX_OSERR, "listen (%s:%d): %s", a->host, a->port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

/* ---- shutdown ------------------------------------------------------------------------------- */

static void final_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    event_base_loopbreak(w->base);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (!c->s || sess_get_state(c->s) == S_SPOOLING || c->closing || !c->bev)
            continue;
        sess_shutdown(c->s, 1);
        conn_flush(c);
    }
    struct timeval two = {2, 0};
    event_add(w->final_ev, &two);
    check_exit(w);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    worker *w = arg;
    if (w->stopping)
        return;
    w->stopping = 1;
    for (size_t i = 0; i < w->nlisteners; i++)
        evconnlistener_free(w->listeners[i]);
    w->nlisteners = 0;
    for (conn *c = w->conns, *next; c; c = next) {
        next = c->next;
        if (c->closing || !c->bev)
            continue;
        if (!c->s) { /* still waiting for a PROXY header: nothing to finish */
            conn_free(c);
            continue;
        }
        sess_shutdown(c->s, 0);
        conn_flush(c);
    }
    struct timeval tv = {cf->shutdown_timeout, 0};
    event_add(w->deadline_ev, &tv);
    check_exit(w);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    event_base_dispatch(w->base);
    return NULL;
}

static struct event_base *main_base;

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    bs_info("signal %d: no new connections, finishing open transactions (up to %ld s)", (int)sig,
            cf->shutdown_timeout);
    for (size_t i = 0; i < nworkers; i++)
        event_active(workers[i].stop_ev, EV_READ, 0);
    event_base_loopexit(main_base, NULL);
}

/* Why the last OpenSSL call failed: the first (deepest) error queued, e.g. "No such file
 * or directory", "no start line (PEM routines)". The queue is emptied. */
static void tls_why(char *why, size_t size)
{
    unsigned long e = ERR_get_error();
    if (!e) {
        snprintf(why, size, "unknown OpenSSL error");
    } else if (ERR_SYSTEM_ERROR(e)) {
        snprintf(why, size, "%s", strerror(ERR_GET_REASON(e)));
    } else {
        const char *r = ERR_reason_error_string(e), *lib = ERR_lib_error_string(e);
        if (r && lib)
            snprintf(why, size, "%s (%s)", r, lib);
        else if (r)
            snprintf(why, size, "%s", r);
        else
            ERR_error_string_n(e, why, size);
    }
    ERR_clear_error();
}

/* A TLS file that cannot be used: a configuration error naming the file and the setting. */
BS_NORETURN static void tls_fail(const char *key, const char *what, const char *path,
                                 const char *where)
{
    char why[256];
    tls_why(why, sizeof why);
    bs_error("[Listen] %s: cannot load %s from %s (%s): %s", key, what, path, where, why);
    exit(EX_CONFIG);
}

static SSL_CTX *tls_setup(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        bs_fatal(EX_SOFTWARE, "cannot create a TLS context");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cf->tls_cert) != 1)
        tls_fail("TLS_Certificate", "a certificate", cf->tls_cert, cf->tls_cert_where);
    if (SSL_CTX_use_PrivateKey_file(ctx, cf->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        tls_fail("TLS_Key", "a matching private key", cf->tls_key, cf->tls_key_where);
    return ctx;
}

int server_run(const lconf *conf, const reply_table *replies, rqueue *queue)
{
    cf = conf;
    rq = queue;
    if (evthread_use_pthreads() != 0)
        bs_fatal(EX_SOFTWARE, "libevent without thread support");
    if (cf->tls_cert)
        ssl_ctx = tls_setup();
    env = (sess_env){cf, replies, ssl_ctx != NULL, shape_new(cf, replies)};

    /* signals first: once a port accepts connections, SIGTERM means a clean stop */
    main_base = event_base_new();
    struct event *sigterm = evsignal_new(main_base, SIGTERM, signal_cb, NULL);
    struct event *sigint = evsignal_new(main_base, SIGINT, signal_cb, NULL);
    event_add(sigterm, NULL);
    event_add(sigint, NULL);
    nworkers = (size_t)cf->threads;
    /* SO_REUSEPORT would silently share a port with another listen: first check with
     * a plain bind that each address is free */
    if (nworkers > 1)
        for (size_t k = 0; k < cf->naddrs; k++)
            close(open_listener(&cf->addrs[k], 0));
    workers = xcalloc(nworkers, sizeof *workers);
    for (size_t i = 0; i < nworkers; i++) {
        worker *w = &workers[i];
        w->index = (int)i;
        w->base = event_base_new();
        if (!w->base)
            bs_fatal(EX_OSERR, "cannot create an event base");
        pthread_mutex_init(&w->done_mu, NULL);
        bs_rng_seed(&w->rng, cf->has_seed ? cf->seed ^ (0x5bd1e995u * (i + 1)) : 0);
        if (!cf->has_seed) {
            uint64_t r;
            bs_random_bytes(&r, sizeof r);
            bs_rng_seed(&w->rng, r);
        }
        w->stop_ev = event_new(w->base, -1, 0, stop_cb, w);
        w->done_ev = event_new(w->base, -1, 0, done_cb, w);
        w->facts_ev = event_new(w->base, -1, 0, facts_done_cb, w);
        w->deadline_ev = evtimer_new(w->base, deadline_cb, w);
        w->final_ev = evtimer_new(w->base, final_cb, w);
        w->listeners = xcalloc(cf->naddrs, sizeof *w->listeners);
        for (size_t k = 0; k < cf->naddrs; k++) {
            int fd = open_listener(&cf->addrs[k], nworkers > 1);
            w->listeners[k] = evconnlistener_new(
                w->base, accept_cb, w, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
            if (!w->listeners[k])
                bs_fatal(EX_OSERR, "cannot listen on %s:%d", cf->addrs[k].host, cf->addrs[k].port);
            w->nlisteners++;
        }
    }
    npool = (size_t)cf->spool_threads;
    pool_threads = npool ? xcalloc(npool, sizeof *pool_threads) : NULL;
    for (size_t i = 0; i < npool; i++)
        if (pthread_create(&pool_threads[i], NULL, pool_main, NULL) != 0)
            bs_fatal(EX_OSERR, "cannot start a spool thread");
    nfacts = cf->nfacts_ctxs;
    facts_threads = xcalloc(nfacts ? nfacts : 1, sizeof *facts_threads);
    for (size_t i = 0; i < nfacts; i++)
        if (pthread_create(&facts_threads[i], NULL, facts_main, cf->facts_ctxs[i]) != 0)
            bs_fatal(EX_OSERR, "cannot start a facts thread");

    for (size_t i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]) != 0)
            bs_fatal(EX_OSERR, "cannot start a thread");
    for (size_t k = 0; k < cf->naddrs; k++)
        bs_info("listening on %s:%d (%zu threads)", cf->addrs[k].host, cf->addrs[k].port, nworkers);

    event_base_dispatch(main_base);

    for (size_t i = 0; i < nworkers; i++)
        pthread_join(workers[i].thread, NULL);
    pthread_mutex_lock(&pool_mu);
    pool_stop = 1;
    pthread_cond_broadcast(&pool_cv);
    pthread_mutex_unlock(&pool_mu);
    for (size_t i = 0; i < npool; i++)
        pthread_join(pool_threads[i], NULL);
    free(pool_threads);
    pthread_mutex_lock(&facts_mu);
    facts_stop = 1;
    pthread_cond_broadcast(&facts_cv);
    pthread_mutex_unlock(&facts_mu);
    for (size_t i = 0; i < nfacts; i++)
        pthread_join(facts_threads[i], NULL);
    free(facts_threads);
    while (facts_head) { /* never run */
        facts_task *t = facts_head;
        facts_head = t->next;
        if (t->c)
            t->c->facts = NULL;
        facts_job_free(t->job);
        free(t);
    }

    for (size_t i = 0; i < nworkers; i++) {
        worker *w = &workers[i];
        /* drain anything a pool thread finished after the loop stopped */
        done_cb(-1, 0, w);
        facts_drain(w, 1);
        while (w->conns) {
            conn *c = w->conns;
            if (c->dead || !c->bev) {
                conn_free(c);
                continue;
            }
            conn_free(c);
        }
        for (size_t k = 0; k < w->nlisteners; k++)
            evconnlistener_free(w->listeners[k]);
        free(w->listeners);
        event_free(w->stop_ev);
        event_free(w->done_ev);
        event_free(w->facts_ev);
        event_free(w->deadline_ev);
        event_free(w->final_ev);
        event_base_free(w->base);
        pthread_mutex_destroy(&w->done_mu);
    }
    free(workers);
    event_free(sigterm);
    event_free(sigint);
    event_base_free(main_base);
    if (ssl_ctx)
        SSL_CTX_free(ssl_ctx);
    shape_free(env.shape);
    env.shape = NULL;
    bs_info("stopped: %lu messages, %lu spooled, %lu blackholed, %lu in-band, %lu relay denied, "
            "%lu greylisted, %lu throttled, %lu slow replies",
            atomic_load(&st_messages), atomic_load(&st_spooled), atomic_load(&st_blackholed),
            atomic_load(&st_inband), atomic_load(&st_refused), atomic_load(&st_greylisted),
            atomic_load(&st_throttled), atomic_load(&st_delayed));
    if (npool && cf->fsync && atomic_load(&st_groups))
        bs_info("stopped: %lu spool jobs made durable in %lu groups (%.1f per directory fsync)",
                atomic_load(&st_grouped), atomic_load(&st_groups),
                (double)atomic_load(&st_grouped) / (double)atomic_load(&st_groups));
    if (cf->nproxy_nets)
        bs_info("stopped: %lu PROXY headers read, %lu refused or missing", atomic_load(&st_proxied),
                atomic_load(&st_proxy_errors));
    return 0;
}
