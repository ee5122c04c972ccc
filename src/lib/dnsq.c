/* dnsq.c — DNS questions within a deadline on c-ares (dnsq.h). */
#include "dnsq.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

struct dnsq {
    ares_channel ch;
    long timeout_ms;
};

typedef struct {
    int done;
    int type; /* ns_t_ptr (via gethostbyaddr), ns_t_a, ns_t_aaaa, ns_t_txt */
    dnsq_status st;
    char **v;
    size_t n, cap;
} answer;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static int lib_rc;
static void lib_init(void)
{
    lib_rc = ares_library_init(ARES_LIB_INIT_ALL);
}

dnsq *dnsq_new(long timeout_ms, char **err)
{
    pthread_once(&lib_once, lib_init);
    if (lib_rc != ARES_SUCCESS) {
        *err = xasprintf("c-ares initialisation failed: %s", ares_strerror(lib_rc));
        return NULL;
    }
    dnsq *q = xcalloc(1, sizeof *q);
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
    struct ares_options o;
    memset(&o, 0, sizeof o);
    /* two tries within the deadline */
    o.timeout = (int)(q->timeout_ms / 2 > 0 ? q->timeout_ms / 2 : 1);
    o.tries = 2;
    int rc = ares_init_options(&q->ch, &o, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
    if (rc != ARES_SUCCESS) {
        *err = xasprintf("c-ares channel: %s", ares_strerror(rc));
        free(q);
        return NULL;
    }
    return q;
}

void dnsq_free(dnsq *q)
{
    if (!q)
        return;
    ares_destroy(q->ch);
    free(q);
}

void dnsq_strings_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static void push(answer *a, char *s)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 4;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = s;
}

static char *nodot(const char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '.')
        n--;
    return xstrndup(s, n);
}

static dnsq_status status_of(int status)
{
    switch (status) {
    case ARES_SUCCESS:
        return DNSQ_OK;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
    case ARES_ENONAME:
        return DNSQ_NONE;
    default:
        return DNSQ_TEMP;
    }
}

static void host_cb(void *arg, int status, int timeouts, struct hostent *h)
{
    (void)timeouts;
    answer *a = arg;
    a->done = 1;
    a->st = status_of(status);
    if (a->st != DNSQ_OK || !h)
        return;
    if (h->h_name)
        push(a, nodot(h->h_name));
    for (char **al = h->h_aliases; al && *al; al++)
        push(a, nodot(*al));
    if (!a->n)
        a->st = DNSQ_NONE;
}

static void query_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    (void)timeouts;
    answer *a = arg;
    a->done = 1;
    a->st = status_of(status);
    if (a->st != DNSQ_OK)
        return;
    if (a->type == ns_t_a || a->type == ns_t_aaaa) {
        struct hostent *h = NULL;
        int rc = a->type == ns_t_a ? ares_parse_a_reply(abuf, alen, &h, NULL, NULL)
                                   : ares_parse_aaaa_reply(abuf, alen, &h, NULL, NULL);
        if (rc != ARES_SUCCESS) {
            a->st = status_of(rc);
            return;
        }
        for (char **p = h->h_addr_list; p && *p; p++) {
            char text[INET6_ADDRSTRLEN];
            if (inet_ntop(h->h_addrtype, *p, text, sizeof text))
                push(a, xstrdup(text));
        }
        ares_free_hostent(h);
    } else {
        struct ares_txt_ext *txt = NULL;
        int rc = ares_parse_txt_reply_ext(abuf, alen, &txt);
        if (rc != ARES_SUCCESS) {
            a->st = status_of(rc);
            return;
        }
        bs_buf b;
        buf_init(&b);
        for (struct ares_txt_ext *t = txt; t; t = t->next) {
            if (t->record_start && b.data) {
                push(a, buf_steal(&b));
                buf_init(&b);
            }
            buf_append(&b, t->txt, t->length);
            buf_putc(&b, 0);
            b.len--;
        }
        if (b.data)
            push(a, buf_steal(&b));
        else
            buf_free(&b);
        ares_free_data(txt);
    }
    if (!a->n)
        a->st = DNSQ_NONE;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - t0->tv_sec) * 1000L + (now.tv_nsec - t0->tv_nsec) / 1000000L;
}

/* Runs the channel until the answer is in or the deadline passed (then cancels). */
static void wait_answer(dnsq *q, answer *a)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!a->done) {
        long left = q->timeout_ms - ms_since(&t0);
        if (left <= 0) {
            ares_cancel(q->ch); /* calls back with ARES_ECANCELLED: temporary */
            break;
        }
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        unsigned bits = (unsigned)ares_getsock(q->ch, socks, ARES_GETSOCK_MAXNUM);
        struct pollfd fds[ARES_GETSOCK_MAXNUM];
        int nfds = 0;
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short ev = (short)((bits & (1u << i) ? POLLIN : 0) |
                               (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));
            if (ev)
                fds[nfds++] = (struct pollfd){.fd = socks[i], .events = ev, .revents = 0};
        }
        struct timeval max = {.tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000};
        struct timeval tv, *t = ares_timeout(q->ch, &max, &tv);
        long ms = t->tv_sec * 1000L + (t->tv_usec + 999) / 1000;
        poll(fds, (nfds_t)nfds, (int)(ms < left ? ms : left));
        for (int i = 0; i < nfds; i++) {
            int rd = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
            int wr = fds[i].revents & POLLOUT;
            if (rd || wr)
                ares_process_fd(q->ch, rd ? fds[i].fd : ARES_SOCKET_BAD,
                                wr ? fds[i].fd : ARES_SOCKET_BAD);
        }
        ares_process_fd(q->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* time-outs */
    }
    if (!a->done)
        a->st = DNSQ_TEMP;
}

static dnsq_status finish(answer *a, char ***out, size_t *n)
{
    if (a->st != DNSQ_OK) {
        dnsq_strings_free(a->v, a->n);
        *out = NULL;
        *n = 0;
        return a->st;
    }
    *out = a->v;
    *n = a->n;
    return DNSQ_OK;
}

dnsq_status dnsq_ptr(dnsq *q, const char *ip, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    unsigned char addr[16];
    int family = strchr(ip, ':') ? AF_INET6 : AF_INET;
    if (inet_pton(family, ip, addr) != 1)
        return DNSQ_BADARG;
    answer a = {.type = ns_t_ptr};
    ares_gethostbyaddr(q->ch, addr, family == AF_INET ? 4 : 16, family, host_cb, &a);
    wait_answer(q, &a);
    return finish(&a, out, n);
}

static dnsq_status ask(dnsq *q, const char *name, int type, char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!name || !*name)
        return DNSQ_BADARG;
    answer a = {.type = type};
    ares_query(q->ch, name, ns_c_in, type, query_cb, &a);
    wait_answer(q, &a);
    return finish(&a, out, n);
}

dnsq_status dnsq_addrs(dnsq *q, const char *name, int family, char ***out, size_t *n)
{
    return ask(q, name, family == 6 ? ns_t_aaaa : ns_t_a, out, n);
}

dnsq_status dnsq_txt(dnsq *q, const char *name, char ***out, size_t *n)
{
    return ask(q, name, ns_t_txt, out, n);
}
