/* records.c — bounded record queue, written by one thread with non-blocking writes. */
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

typedef struct rq_item {
    struct rq_item *next;
    size_t len;
    char *line;
} rq_item;

struct rqueue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t thread;
    rq_item *head, *tail;
    atomic_size_t count;
    size_t soft_max, hard_max;
    int stopping;
    int writer_idle; /* the writer waits on cv: pushes signal it */
    double deadline;
    char *path; /* NULL: stdout */
    int fd;
    int is_fifo;
    atomic_ulong dropped;
};

/* Opens the output; for a FIFO waits (polling) for a reader. 0 ok, -1 give up. */
static int open_output(rqueue *q)
{
    if (!q->path) {
        q->fd = STDOUT_FILENO;
        fcntl(q->fd, F_SETFL, fcntl(q->fd, F_GETFL) | O_NONBLOCK);
        return 0;
    }
    struct stat st;
    q->is_fifo = stat(q->path, &st) == 0 && S_ISFIFO(st.st_mode);
    for (;;) {
        int flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | (q->is_fifo ? 0 : O_CREAT | O_APPEND);
        q->fd = open(q->path, flags, 0644);
        if (q->fd >= 0)
            return 0;
        if (!(q->is_fifo && errno == ENXIO)) {
            bs_warn("cannot open records output (%s): %s", q->path, strerror(errno));
            return -1;
        }
        pthread_mutex_lock(&q->mu);
        int give_up = q->stopping && bs_monotonic() > q->deadline;
        pthread_mutex_unlock(&q->mu);
        if (give_up)
            return -1;
        usleep(100000);
    }
}

/* Writes all of p; 0 ok, -1 reader gone / error / deadline passed while stopping. */
static int write_out(rqueue *q, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(q->fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = q->fd, .events = POLLOUT};
            poll(&pfd, 1, 200);
            pthread_mutex_lock(&q->mu);
            int give_up = q->stopping && bs_monotonic() > q->deadline;
            pthread_mutex_unlock(&q->mu);
            if (give_up)
                return -1;
            continue;
        }
        return -1;
    }
    return 0;
}

static void *writer(void *arg)
{
    rqueue *q = arg;
    int have_fd = open_output(q) == 0;
    int warned = 0;
    bs_buf b;
    buf_init(&b);
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (!q->head && !q->stopping) {
            q->writer_idle = 1;
            pthread_cond_wait(&q->cv, &q->mu);
            q->writer_idle = 0;
        }
        if (!q->stopping && atomic_load(&q->count) < 256) {
            /* gather a batch: one write and one wake-up for many records */
            pthread_mutex_unlock(&q->mu);
            struct timespec ts = {0, 2000000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&q->mu);
        }
        rq_item *batch = q->head;
        q->head = q->tail = NULL;
        int stopping = q->stopping;
        pthread_mutex_unlock(&q->mu);
        if (!batch && stopping)
            break;
        size_t nitems = 0;
        buf_reset(&b);
        for (rq_item *it = batch; it;) {
            buf_append(&b, it->line, it->len);
            buf_putc(&b, '\n');
            rq_item *next = it->next;
            free(it->line);
            free(it);
            it = next;
            nitems++;
        }
        int ok = have_fd && write_out(q, b.data, b.len) == 0;
        while (!ok && have_fd && q->is_fifo) {
            /* the reader went away: wait for a new one and write the batch again
             * (a partly written batch may be repeated: readers drop a broken line) */
            if (!warned++)
                bs_warn("records reader of %s went away; waiting for a new one", q->path);
            close(q->fd);
            have_fd = open_output(q) == 0;
            ok = have_fd && write_out(q, b.data, b.len) == 0;
            pthread_mutex_lock(&q->mu);
            int give_up = q->stopping && bs_monotonic() > q->deadline;
            pthread_mutex_unlock(&q->mu);
            if (give_up)
                break;
        }
        if (!ok) {
            if (!warned++)
                bs_warn("cannot write records (%s): %s; records are dropped and counted",
                        q->path ? q->path : "stdout", strerror(errno));
            atomic_fetch_add(&q->dropped, nitems);
        } else {
            warned = 0;
        }
        atomic_fetch_sub(&q->count, nitems);
    }
    buf_free(&b);
    if (have_fd && q->fd != STDOUT_FILENO)
        close(q->fd);
    return NULL;
}

rqueue *rq_start(const char *path, size_t soft_max)
{
    rqueue *q = xcalloc(1, sizeof *q);
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->cv, NULL);
    q->soft_max = soft_max;
    q->hard_max = soft_max * 2 + 100000;
    q->path = path ? xstrdup(path) : NULL;
    q->fd = -1;
    atomic_init(&q->count, 0);
    atomic_init(&q->dropped, 0);
    if (pthread_create(&q->thread, NULL, writer, q) != 0)
        bs_fatal(EX_OSERR, "cannot start the records thread");
    return q;
}

void rq_push(rqueue *q, char *line, size_t len)
{
    if (atomic_load(&q->count) >= q->hard_max) {
        free(line);
        atomic_fetch_add(&q->dropped, 1);
        return;
    }
    rq_item *it = xmalloc(sizeof *it);
    it->next = NULL;
    it->line = line;
    it->len = len;
    atomic_fetch_add(&q->count, 1);
    pthread_mutex_lock(&q->mu);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    if (q->writer_idle)
        pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
}

int rq_full(rqueue *q)
{
    return atomic_load(&q->count) >= q->soft_max;
}

unsigned long rq_dropped(const rqueue *q)
{
    return atomic_load(&((rqueue *)q)->dropped);
}

void rq_stop(rqueue *q, double deadline_s)
{
    pthread_mutex_lock(&q->mu);
    q->stopping = 1;
    q->deadline = bs_monotonic() + deadline_s;
    pthread_cond_signal(&q->cv);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    for (rq_item *it = q->head; it;) {
        rq_item *next = it->next;
        free(it->line);
        free(it);
        it = next;
    }
    unsigned long d = rq_dropped(q);
    if (d)
        bs_warn("%lu records could not be written", d);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->cv);
    free(q->path);
    free(q);
}
