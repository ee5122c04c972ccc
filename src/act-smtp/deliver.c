/* deliver.c — the libcurl multi SMTP engine (see deliver.h). */
#include "deliver.h"

#include <curl/curl.h>
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define BACKOFF_FIRST 1.0
#define BACKOFF_MAX 60.0

typedef struct job {
    struct job *next;
    char *url, *mail_from, *rcpt;
    char *payload;
    size_t len, off;
    dl_done_fn done;
    void *arg;
    CURL *h;
    struct curl_slist *rcpts;
    int attempts;
    double first, next_at, backoff;
    char ok_line[512];  /* last 25x reply line */
    char err_line[512]; /* last 4xx/5xx reply line */
    char errbuf[CURL_ERROR_SIZE];
} job;

struct dl_engine {
    dl_opts opt;
    char *helo;
    CURLM *m;
    job *head, *tail; /* not in flight: new or waiting for a retry, FIFO */
    size_t pending;
    int in_flight;
    int idle_conns;       /* finished deliveries may have left connections in the cache */
    double last_activity; /* when the last delivery finished */
};

static void new_multi(dl_engine *e)
{
    e->m = curl_multi_init();
    if (!e->m)
        bs_fatal(EX_OSERR, "curl_multi_init failed");
    curl_multi_setopt(e->m, CURLMOPT_MAXCONNECTS, (long)(e->opt.max_in_flight * 2));
}

/* libcurl closes the connections of its cache when the multi handle is cleaned up, with
 * QUIT (it has no call to close idle connections alone): a new multi handle takes its
 * place. Only when nothing is in flight, so no transfer is cut. */
static void close_idle(dl_engine *e, double now)
{
    if (!e->idle_conns || e->in_flight > 0 || e->opt.idle_close <= 0 ||
        now - e->last_activity < e->opt.idle_close)
        return;
    curl_multi_cleanup(e->m);
    new_multi(e);
    e->idle_conns = 0;
}

dl_engine *dl_new(const dl_opts *opt)
{
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            bs_fatal(EX_OSERR, "curl_global_init failed");
        curl_ready = 1;
    }
    dl_engine *e = xcalloc(1, sizeof *e);
    e->opt = *opt;
    if (e->opt.max_in_flight < 1)
        e->opt.max_in_flight = 1;
    e->helo = xstrdup(opt->helo ? opt->helo : "localhost");
    e->opt.helo = e->helo;
    new_multi(e);
    return e;
}

static void job_free(job *j)
{
    free(j->url);
    free(j->mail_from);
    free(j->rcpt);
    free(j->payload);
    curl_slist_free_all(j->rcpts);
    free(j);
}

void dl_free(dl_engine *e)
{
    if (!e)
        return;
    /* only called when nothing is pending; anything left is dropped quietly */
    while (e->head) {
        job *j = e->head;
        e->head = j->next;
        job_free(j);
    }
    curl_multi_cleanup(e->m);
    free(e->helo);
    free(e);
}

size_t dl_pending(const dl_engine *e)
{
    return e->pending;
}

static void enqueue(dl_engine *e, job *j)
{
    j->next = NULL;
    if (e->tail)
        e->tail->next = j;
    else
        e->head = j;
    e->tail = j;
}

void dl_submit(dl_engine *e, const char *host, int port, const char *mail_from, const char *rcpt,
               char *payload, size_t len, dl_done_fn done, void *arg)
{
    job *j = xcalloc(1, sizeof *j);
    int v6 = strchr(host, ':') != NULL;
    j->url = xasprintf("smtp://%s%s%s:%d/%s", v6 ? "[" : "", host, v6 ? "]" : "", port, e->helo);
    j->mail_from = xasprintf("<%s>", mail_from);
    j->rcpt = xasprintf("<%s>", rcpt);
    j->payload = payload;
    j->len = len;
    j->done = done;
    j->arg = arg;
    j->first = bs_now();
    j->next_at = j->first;
    j->backoff = BACKOFF_FIRST;
    e->pending++;
    enqueue(e, j);
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    job *j = userp;
    size_t n = size * nitems, left = j->len - j->off;
    if (n > left)
        n = left;
    memcpy(buf, j->payload + j->off, n);
    j->off += n;
    return n;
}

/* Every server reply line comes through here (libcurl passes SMTP replies as headers). */
static size_t header_cb(char *buf, size_t size, size_t nitems, void *userp)
{
    job *j = userp;
    size_t n = size * nitems, len = n;
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    char *dst = NULL;
    if (len >= 3 && buf[0] == '2' && buf[1] == '5')
        dst = j->ok_line;
    else if (len >= 3 && (buf[0] == '4' || buf[0] == '5'))
        dst = j->err_line;
    if (dst) {
        if (len > sizeof j->ok_line - 1)
            len = sizeof j->ok_line - 1;
        memcpy(dst, buf, len);
        dst[len] = 0;
        /* "550-text" continuation → "550 text": the code and text read the same */
        if (len > 3 && dst[3] == '-')
            dst[3] = ' ';
    }
    return n;
}

static void start(dl_engine *e, job *j)
{
    CURL *h = curl_easy_init();
    if (!h)
        bs_fatal(EX_OSERR, "curl_easy_init failed");
    j->h = h;
    j->off = 0;
    j->ok_line[0] = j->err_line[0] = j->errbuf[0] = 0;
    j->attempts++;
    if (!j->rcpts)
        j->rcpts = curl_slist_append(NULL, j->rcpt);
    long to_ms = (long)(e->opt.timeout * 1000.0);
    long to_s = (long)ceil(e->opt.timeout);
    curl_easy_setopt(h, CURLOPT_URL, j->url);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp");
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, j->mail_from);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, j->rcpts);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(h, CURLOPT_READDATA, j);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, e->opt.tls_verify ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, e->opt.tls_verify ? 2L : 0L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, to_ms > 0 ? to_ms : 1L);
    curl_easy_setopt(h, CURLOPT_SERVER_RESPONSE_TIMEOUT, to_s > 0 ? to_s : 1L);
    if (e->opt.idle_close > 0) /* never reuse one the server may be about to drop */
        curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, (long)ceil(e->opt.idle_close));
    /* a safety net for a server that trickles: no transfer of a report takes this long */
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, to_ms > 0 ? 10 * to_ms : 10L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, j->errbuf);
    curl_easy_setopt(h, CURLOPT_PRIVATE, j);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    CURLMcode mc = curl_multi_add_handle(e->m, h);
    if (mc != CURLM_OK) /* as in act-http: a handle we misuse, a bug */
        bs_panic("curl_multi_add_handle: %s", curl_multi_strerror(mc));
    e->in_flight++;
}

static void start_ready(dl_engine *e)
{
    double now = bs_now();
    job *prev = NULL, *j = e->head;
    while (j && e->in_flight < e->opt.max_in_flight) {
        job *next = j->next;
        if (j->next_at <= now) {
            if (prev)
                prev->next = next;
            else
                e->head = next;
            if (e->tail == j)
                e->tail = prev;
            j->next = NULL;
            start(e, j);
        } else {
            prev = j;
        }
        j = next;
    }
}

static void finish(dl_engine *e, job *j, const dl_result *r)
{
    e->pending--;
    j->done(j->arg, r);
    job_free(j);
}

static void completed(dl_engine *e, job *j, CURLcode rc)
{
    long code = 0;
    curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &code);
    curl_multi_remove_handle(e->m, j->h);
    curl_easy_cleanup(j->h);
    j->h = NULL;
    e->in_flight--;
    e->idle_conns = 1;
    e->last_activity = bs_now();

    dl_result r = {0};
    r.attempts = j->attempts;
    if (rc == CURLE_OK) {
        r.ok = 1;
        r.code = j->ok_line[0] ? strtol(j->ok_line, NULL, 10) : code;
        r.reply = j->ok_line;
        finish(e, j, &r);
        return;
    }
    char *error;
    if (j->err_line[0]) {
        code = strtol(j->err_line, NULL, 10);
        error = xstrdup(j->err_line);
    } else {
        code = 0;
        error = xasprintf("%s%s%s", curl_easy_strerror(rc), j->errbuf[0] ? ": " : "", j->errbuf);
    }
    double now = bs_now();
    if (code < 500 && now + j->backoff - j->first <= e->opt.retry_max) {
        j->next_at = now + j->backoff;
        j->backoff = j->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : j->backoff * 2;
        free(error);
        enqueue(e, j);
        return;
    }
    r.code = code;
    r.reply = j->err_line;
    r.error = error;
    finish(e, j, &r);
    free(error);
}

static void reap(dl_engine *e)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(e->m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        job *j = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&j);
        completed(e, j, msg->data.result);
    }
}

void dl_run(dl_engine *e, struct pollfd *extra, int n, int max_wait_ms)
{
    int running;
    start_ready(e);
    curl_multi_perform(e->m, &running);
    reap(e);
    start_ready(e);

    int wait = max_wait_ms;
    if (e->in_flight < e->opt.max_in_flight) {
        double now = bs_now();
        for (job *j = e->head; j; j = j->next) {
            double ms = (j->next_at - now) * 1000.0;
            int w = ms <= 0 ? 0 : (int)ceil(ms);
            if (w < wait)
                wait = w;
        }
    }
    if (e->idle_conns && e->in_flight == 0 && e->opt.idle_close > 0) { /* wake to close */
        double ms = (e->last_activity + e->opt.idle_close - bs_now()) * 1000.0;
        int w = ms <= 0 ? 0 : (int)ceil(ms);
        if (w < wait)
            wait = w;
    }
    struct curl_waitfd w[DL_MAX_EXTRA];
    if (n > DL_MAX_EXTRA)
        n = DL_MAX_EXTRA;
    for (int i = 0; i < n; i++) {
        w[i].fd = extra[i].fd;
        w[i].events = (short)((extra[i].events & POLLIN ? CURL_WAIT_POLLIN : 0) |
                              (extra[i].events & POLLOUT ? CURL_WAIT_POLLOUT : 0));
        w[i].revents = 0;
    }
    int numfds = 0;
    curl_multi_poll(e->m, n ? w : NULL, (unsigned)n, wait, &numfds);
    for (int i = 0; i < n; i++)
        extra[i].revents = (short)((w[i].revents & CURL_WAIT_POLLIN ? POLLIN : 0) |
                                   (w[i].revents & CURL_WAIT_POLLOUT ? POLLOUT : 0));
    curl_multi_perform(e->m, &running);
    reap(e);
    close_idle(e, bs_now());
}
