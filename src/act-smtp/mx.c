/* mx.c — MX lookup through c-ares, static overrides, a small cache; the allow-list. */
#include "mx.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "util.h"

#define MX_CACHE_SECONDS 300.0
#define MX_CACHE_MAX 4096

typedef struct {
    char *domain;
    mx_status st;
    char *host; /* MX_FOUND */
    char *why;  /* otherwise */
    double expires;
} mx_entry;

typedef struct waiter {
    mx_done_fn done;
    void *arg;
    struct waiter *next;
} waiter;

/* One domain being looked up: its MX, then (no MX record) its A, then its AAAA. */
typedef struct lookup {
    mx_resolver *r;
    char *domain;
    int type; /* ns_t_mx, ns_t_a or ns_t_aaaa */
    waiter *first, *last;
    struct lookup *next;
} lookup;

struct mx_resolver {
    ares_channel ch;
    int ch_ok, closing;
    char *init_error;
    char **ov_domain, **ov_host;
    size_t n_ov;
    mx_entry *cache;
    size_t n_cache;
    lookup *open; /* lookups in progress */
    int offline;  /* mx_set_offline: no query */
};

void mx_set_offline(mx_resolver *r)
{
    r->offline = 1;
}

static char *lower_dup_nodot(const char *s, size_t n)
{
    char *d = xstrndup(s, n);
    char *t = bs_trim(d);
    size_t len = strlen(t);
    while (len && t[len - 1] == '.')
        t[--len] = 0;
    char *out = xstrdup(t);
    free(d);
    bs_lower(out);
    return out;
}

mx_resolver *mx_new(const char *const *overrides, size_t n_overrides, const char *ns_host,
                    int ns_port, int timeout, char **err)
{
    static int ares_ready;
    mx_resolver *r = xcalloc(1, sizeof *r);
    r->ov_domain = xcalloc(n_overrides + 1, sizeof *r->ov_domain);
    r->ov_host = xcalloc(n_overrides + 1, sizeof *r->ov_host);
    for (size_t i = 0; i < n_overrides; i++) {
        const char *eq = strchr(overrides[i], '=');
        if (!eq || eq == overrides[i]) {
            *err = xasprintf("'%s' is not domain=mxhost", overrides[i]);
            mx_free(r);
            return NULL;
        }
        r->ov_domain[i] = lower_dup_nodot(overrides[i], (size_t)(eq - overrides[i]));
        r->ov_host[i] = lower_dup_nodot(eq + 1, strlen(eq + 1));
        r->n_ov++;
    }
    struct in_addr a;
    if (ns_host && inet_pton(AF_INET, ns_host, &a) != 1) {
        *err = xasprintf("'%s' is not an IPv4 address", ns_host);
        mx_free(r);
        return NULL;
    }
    int rc = ares_ready ? ARES_SUCCESS : ares_library_init(ARES_LIB_INIT_ALL);
    ares_ready = rc == ARES_SUCCESS;
    struct ares_options o;
    memset(&o, 0, sizeof o);
    int mask = 0;
    if (timeout > 0) {
        /* per try, like resolv.conf's timeout; c-ares doubles it for the second try */
        o.timeout = (timeout < 5 ? timeout : 5) * 1000;
        o.tries = 2;
        mask |= ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES;
    }
    if (rc == ARES_SUCCESS)
        rc = ares_init_options(&r->ch, &o, mask);
    if (rc != ARES_SUCCESS) {
        r->init_error = xasprintf("resolver initialisation failed: %s", ares_strerror(rc));
        return r;
    }
    r->ch_ok = 1;
    if (ns_host) {
        char *csv = xasprintf("%s:%d", ns_host, ns_port);
        rc = ares_set_servers_ports_csv(r->ch, csv);
        free(csv);
        if (rc != ARES_SUCCESS) {
            *err =
                xasprintf("cannot use name server %s:%d: %s", ns_host, ns_port, ares_strerror(rc));
            mx_free(r);
            return NULL;
        }
    }
    return r;
}

static void entry_clear(mx_entry *e)
{
    free(e->domain);
    free(e->host);
    free(e->why);
}

static void lookup_free(lookup *l)
{
    while (l->first) {
        waiter *w = l->first;
        l->first = w->next;
        free(w);
    }
    free(l->domain);
    free(l);
}

void mx_free(mx_resolver *r)
{
    if (!r)
        return;
    if (r->ch_ok) {
        r->closing = 1; /* ares_destroy calls back every open query: no waiter is told */
        ares_destroy(r->ch);
    }
    while (r->open) {
        lookup *l = r->open;
        r->open = l->next;
        lookup_free(l);
    }
    for (size_t i = 0; i < r->n_ov; i++) {
        free(r->ov_domain[i]);
        free(r->ov_host[i]);
    }
    free(r->ov_domain);
    free(r->ov_host);
    for (size_t i = 0; i < r->n_cache; i++)
        entry_clear(&r->cache[i]);
    free(r->cache);
    free(r->init_error);
    free(r);
}

static const char *status_text(int status)
{
    switch (status) {
    case ARES_ENOTFOUND:
        return "no such domain (NXDOMAIN)";
    case ARES_ETIMEOUT:
        return "temporary resolver failure (time-out)";
    case ARES_ESERVFAIL:
        return "temporary resolver failure (SERVFAIL)";
    case ARES_ECONNREFUSED:
        return "temporary resolver failure (name server unreachable)";
    case ARES_EREFUSED:
        return "the name server refused the query";
    default:
        return ares_strerror(status);
    }
}

int mx_read_answers(const unsigned char *ans, int len, int type, char *name, size_t size)
{
    ns_msg msg;
    if (ns_initparse(ans, len, &msg) < 0)
        return -1;
    int found = 0, best = 70000;
    for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || (int)ns_rr_type(rr) != type)
            continue;
        if (type != ns_t_mx) {
            found++;
            continue;
        }
        char n[NS_MAXDNAME];
        if (ns_rr_rdlen(rr) < 3 || ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg),
                                                      ns_rr_rdata(rr) + 2, n, sizeof n) < 0)
            continue;
        found++;
        int pref = (int)ns_get16(ns_rr_rdata(rr));
        if (pref < best) {
            best = pref;
            snprintf(name, size, "%s", n);
        }
    }
    return found;
}

static void cache_put(mx_resolver *r, const char *domain, mx_status st, const char *host,
                      const char *why)
{
    double now = bs_now();
    size_t slot = r->n_cache;
    for (size_t i = 0; i < r->n_cache; i++)
        if (r->cache[i].expires <= now || strcmp(r->cache[i].domain, domain) == 0) {
            slot = i;
            break;
        }
    if (slot == r->n_cache) {
        if (r->n_cache == MX_CACHE_MAX) {
            for (size_t i = 0; i < r->n_cache; i++)
                entry_clear(&r->cache[i]);
            r->n_cache = 0;
            slot = 0;
        }
        if (!r->cache)
            r->cache = xcalloc(MX_CACHE_MAX, sizeof *r->cache);
        r->n_cache++;
    } else {
        entry_clear(&r->cache[slot]);
    }
    mx_entry *e = &r->cache[slot];
    e->domain = xstrdup(domain);
    e->st = st;
    e->host = host ? xstrdup(host) : NULL;
    e->why = why ? xstrdup(why) : NULL;
    e->expires = now + MX_CACHE_SECONDS;
}

/* The lookup is over: cached (unless temporary), taken off the open list, every waiter told. */
static void finish(lookup *l, mx_status st, const char *host, const char *why)
{
    mx_resolver *r = l->r;
    if (st != MX_TEMPFAIL)
        cache_put(r, l->domain, st, host, why);
    for (lookup **p = &r->open; *p; p = &(*p)->next)
        if (*p == l) {
            *p = l->next;
            break;
        }
    for (waiter *w = l->first; w; w = w->next)
        w->done(w->arg, st, host, why);
    lookup_free(l);
}

/* finish() without a host, the reason formatted. */
static void finish_why(lookup *l, mx_status st, const char *fmt, ...) BS_PRINTF(3, 4);
static void finish_why(lookup *l, mx_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *why = xvasprintf(fmt, ap);
    va_end(ap);
    finish(l, st, NULL, why);
    free(why);
}

static void answered(void *arg, int status, int timeouts, unsigned char *ans, int len);

static void ask(lookup *l, int type)
{
    l->type = type;
    /* may call answered() before it returns */
    ares_query(l->r->ch, l->domain, ns_c_in, type, answered, l);
}

static void answered(void *arg, int status, int timeouts, unsigned char *ans, int len)
{
    (void)timeouts;
    lookup *l = arg;
    if (l->r->closing)
        return;
    const char *d = l->domain;
    char name[NS_MAXDNAME] = "";
    int n = status == ARES_SUCCESS ? mx_read_answers(ans, len, l->type, name, sizeof name) : 0;
    if (status != ARES_SUCCESS && status != ARES_ENODATA && status != ARES_ENOTFOUND) {
        finish_why(l, MX_TEMPFAIL, "%s lookup of %s: %s", l->type == ns_t_mx ? "MX" : "address", d,
                   status_text(status));
        return;
    }
    if (n < 0) {
        finish_why(l, MX_TEMPFAIL, "lookup of %s: unreadable answer", d);
        return;
    }
    if (l->type == ns_t_mx) {
        if (status == ARES_ENOTFOUND) {
            finish_why(l, MX_NONE, "MX lookup of %s: %s", d, status_text(status));
        } else if (n == 0) {
            ask(l, ns_t_a); /* no MX: the domain itself, if it has an address */
        } else if (name[0] == 0 || strcmp(name, ".") == 0) {
            finish_why(l, MX_NONE, "%s has a null MX (RFC 7505)", d);
        } else {
            char *host = lower_dup_nodot(name, strlen(name));
            finish(l, MX_FOUND, host, NULL);
            free(host);
        }
        return;
    }
    if (n > 0)
        finish(l, MX_FOUND, d, NULL);
    else if (l->type == ns_t_a && status != ARES_ENOTFOUND)
        ask(l, ns_t_aaaa);
    else
        finish_why(l, MX_NONE, "%s has no MX and no address record", d);
}

void mx_resolve(mx_resolver *r, const char *domain_in, mx_done_fn done, void *arg)
{
    char *domain = lower_dup_nodot(domain_in, strlen(domain_in));
    for (size_t i = 0; i < r->n_ov; i++)
        if (strcmp(r->ov_domain[i], domain) == 0) {
            if (r->ov_host[i][0]) {
                done(arg, MX_FOUND, r->ov_host[i], NULL);
            } else {
                char *why = xasprintf("%s has no MX (MX_Override)", domain);
                done(arg, MX_NONE, NULL, why);
                free(why);
            }
            free(domain);
            return;
        }
    if (r->offline) {
        done(arg, MX_OFFLINE, NULL, "the MX is not looked up in a dry run");
        free(domain);
        return;
    }
    double now = bs_now();
    for (size_t i = 0; i < r->n_cache; i++) {
        mx_entry *e = &r->cache[i];
        if (e->expires > now && strcmp(e->domain, domain) == 0) {
            done(arg, e->st, e->host, e->why);
            free(domain);
            return;
        }
    }
    if (!r->ch_ok) {
        done(arg, MX_TEMPFAIL, NULL, r->init_error);
        free(domain);
        return;
    }
    waiter *w = xcalloc(1, sizeof *w);
    w->done = done;
    w->arg = arg;
    for (lookup *l = r->open; l; l = l->next)
        if (strcmp(l->domain, domain) == 0) {
            l->last->next = w;
            l->last = w;
            free(domain);
            return;
        }
    lookup *l = xcalloc(1, sizeof *l);
    l->r = r;
    l->domain = domain;
    l->first = l->last = w;
    l->next = r->open;
    r->open = l;
    ask(l, ns_t_mx);
}

int mx_fds(mx_resolver *r, struct pollfd *fds, int *timeout_ms)
{
    if (!r->ch_ok || !r->open)
        return 0;
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    /* the bit mask as c-ares's ARES_GETSOCK_* macros read it, without their signed shift */
    unsigned bits = (unsigned)ares_getsock(r->ch, socks, ARES_GETSOCK_MAXNUM);
    int n = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM && n < MX_MAX_FDS; i++) {
        short ev = (short)((bits & (1u << i) ? POLLIN : 0) |
                           (bits & (1u << (i + ARES_GETSOCK_MAXNUM)) ? POLLOUT : 0));
        if (ev)
            fds[n++] = (struct pollfd){.fd = socks[i], .events = ev, .revents = 0};
    }
    struct timeval max = {.tv_sec = *timeout_ms / 1000, .tv_usec = (*timeout_ms % 1000) * 1000};
    struct timeval tv, *t = ares_timeout(r->ch, *timeout_ms >= 0 ? &max : NULL, &tv);
    if (t) {
        long ms = t->tv_sec * 1000L + (t->tv_usec + 999) / 1000;
        if (*timeout_ms < 0 || ms < *timeout_ms)
            *timeout_ms = (int)ms;
    }
    return n;
}

void mx_process(mx_resolver *r, const struct pollfd *fds, int n)
{
    if (!r->ch_ok)
        return;
    for (int i = 0; i < n; i++) {
        int rd = fds[i].revents & (POLLIN | POLLERR | POLLHUP);
        int wr = fds[i].revents & POLLOUT;
        if (rd || wr)
            ares_process_fd(r->ch, rd ? fds[i].fd : ARES_SOCKET_BAD,
                            wr ? fds[i].fd : ARES_SOCKET_BAD);
    }
    ares_process_fd(r->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD); /* time-outs */
}

size_t mx_pending(const mx_resolver *r)
{
    size_t n = 0;
    for (const lookup *l = r->open; l; l = l->next)
        n++;
    return n;
}

char *mx_fbl_address(const mx_allowlist *al, const char *mxhost)
{
    if (!mxhost)
        return NULL;
    size_t n = strlen(mxhost);
    while (n && mxhost[n - 1] == '.')
        n--;
    /* a name from DNS may hold any octet: only a host name can be connected to safely */
    if (!bs_hostname_valid(mxhost, n))
        return NULL;
    for (size_t i = 0; al && i < al->n; i++)
        if (bs_domain_under(mxhost, n, al->mx[i]) == 0)
            return xstrdup(al->fbl[i]);
    ssize_t label = bs_domain_under(mxhost, n, "e.sparkpost.com");
    if (label <= 0)
        return NULL;
    label = (ssize_t)strcspn(mxhost, "."); /* the first label of the host */
    char *out = xasprintf("fbl@%.*s.mail.e.sparkpost.com", (int)label, mxhost);
    bs_lower(out);
    return out;
}
