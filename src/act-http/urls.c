/* urls.c — base URLs, the tracking allowlist, List-Unsubscribe parsing, probe cache. */
#include "urls.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "domain.h"
#include "util.h"

/* Canonical dotted quad (what curl's own normalisation would give back unchanged). */
static int canonical_ipv4(const char *h, size_t n)
{
    int parts = 0;
    size_t i = 0;
    while (i < n) {
        size_t start = i;
        int v = 0;
        while (i < n && h[i] >= '0' && h[i] <= '9' && i - start < 3)
            v = v * 10 + (h[i++] - '0');
        size_t len = i - start;
        if (len == 0 || v > 255 || (len > 1 && h[start] == '0'))
            return 0;
        parts++;
        if (i == n)
            break;
        if (h[i++] != '.' || i == n)
            return 0;
    }
    return parts == 4;
}

/* The common shape, without the URL parser: http(s)://host[:port] then '/', '?', '#' or
 * the end, host made of letters, digits, '-' and '.' (not numeric unless a canonical
 * dotted quad), no blank or control byte anywhere. Returns 1 for anything else, which
 * url_base hands to libcurl's parser; for what it takes, the result is the same
 * (checked by the unit tests and the urls fuzz target). */
int url_base_fast(const char *url, char **base, char **host)
{
    size_t sl;
    if (strncasecmp(url, "http://", 7) == 0)
        sl = 4;
    else if (strncasecmp(url, "https://", 8) == 0)
        sl = 5;
    else
        return 1;
    const char *h = url + sl + 3, *p = h;
    int letters = 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
           *p == '-' || *p == '.') {
        letters |= (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
        p++;
    }
    size_t hl = (size_t)(p - h);
    if (hl == 0 || hl > 253 || h[0] == '.' || h[0] == '-' || h[hl - 1] == '.')
        return 1;
    if (!letters ? !canonical_ipv4(h, hl) : (h[0] >= '0' && h[0] <= '9'))
        return 1; /* numeric forms are normalised by libcurl */
    const char *port = NULL;
    size_t pl = 0;
    if (*p == ':') {
        port = ++p;
        long v = 0;
        while (*p >= '0' && *p <= '9' && pl < 6) {
            v = v * 10 + (*p++ - '0');
            pl++;
        }
        if (pl == 0 || pl > 5 || port[0] == '0' || v > 65535)
            return 1;
    }
    if (*p && *p != '/' && *p != '?' && *p != '#')
        return 1;
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return 1;
    /* "<scheme>://<host>[:<port>]", put together without a printf (once per URL) */
    size_t bl = sl + 3 + hl + (port ? 1 + pl : 0);
    char *b = xmalloc(bl + 1);
    memcpy(b, sl == 4 ? "http://" : "https://", sl + 3);
    memcpy(b + sl + 3, h, hl);
    if (port) {
        b[sl + 3 + hl] = ':';
        memcpy(b + sl + 4 + hl, port, pl);
    }
    b[bl] = 0;
    bs_lower(b + sl + 3);
    *host = xstrndup(b + sl + 3, hl);
    *base = b;
    return 0;
}

int url_base(const char *url, char **base, char **host)
{
    *base = *host = NULL;
    if (url_base_fast(url, base, host) == 0)
        return 0;
    return url_base_curl(url, base, host);
}

int url_base_curl(const char *url, char **base, char **host)
{
    *base = *host = NULL;
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK || !*h)
        goto out;
    bs_lower(scheme);
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0)
        goto out;
    if (curl_url_get(u, CURLUPART_PORT, &port, 0) != CURLUE_OK)
        port = NULL;
    bs_lower(h);
    *base = port ? xasprintf("%s://%s:%s", scheme, h, port) : xasprintf("%s://%s", scheme, h);
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
        *host = xstrndup(h + 1, hl - 2);
    else
        *host = xstrdup(h);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

int url_allowlisted(const char *host, const char *base, const char *const *allow, size_t n)
{
    const char *hostport = strstr(base, "://");
    hostport = hostport ? hostport + 3 : base;
    for (size_t i = 0; i < n; i++) {
        const char *a = allow[i];
        /* the host itself: whole name, any case, a root dot ignored; not its subdomains */
        if (bs_domain_under(host, strlen(host), a) == 0 || bs_strcaseeq(a, hostport))
            return 1;
        size_t al = strlen(a);
        if (al >= 2 && a[0] == '[' && a[al - 1] == ']' && strlen(host) == al - 2 &&
            strncasecmp(a + 1, host, al - 2) == 0)
            return 1;
    }
    return 0;
}

char *unsub_uri(const char *v, int allow_http)
{
    if (!v)
        return NULL;
    for (const char *p = v; (p = strchr(p, '<')) != NULL;) {
        const char *end = strchr(p + 1, '>');
        if (!end)
            break;
        /* Folding white space may sit inside the brackets; drop it. */
        bs_buf b;
        buf_init(&b);
        for (const char *q = p + 1; q < end; q++)
            if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
                buf_putc(&b, *q);
        if (b.len > 0 && (strncasecmp(b.data, "https://", 8) == 0 ||
                          (allow_http && strncasecmp(b.data, "http://", 7) == 0)))
            return buf_steal(&b);
        buf_free(&b);
        p = end + 1;
    }
    return NULL;
}

int unsub_one_click(const char *v)
{
    if (!v)
        return 0;
    char *copy = xstrdup(v);
    int yes = bs_strcaseeq(bs_trim(copy), "List-Unsubscribe=One-Click");
    free(copy);
    return yes;
}

#define NBUCKETS 1024

struct probe_cache {
    probe_entry *b[NBUCKETS];
    size_t n;
};

probe_cache *probe_cache_new(void)
{
    return xcalloc(1, sizeof(probe_cache));
}

static void entry_free(probe_entry *e)
{
    free(e->base);
    free(e->why);
    free(e->waiters);
    free(e);
}

void probe_cache_free(probe_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NBUCKETS; i++)
        for (probe_entry *e = c->b[i], *next; e; e = next) {
            next = e->next;
            entry_free(e);
        }
    free(c);
}

probe_entry *probe_cache_get(probe_cache *c, const char *base, double now)
{
    size_t h = (size_t)(bs_fnv1a64(base, strlen(base), 0) % NBUCKETS);
    for (probe_entry *e = c->b[h]; e; e = e->next)
        if (strcmp(e->base, base) == 0) {
            if ((e->state == PROBE_YES || e->state == PROBE_NO) && now >= e->expires) {
                e->state = PROBE_UNKNOWN;
                free(e->why);
                e->why = NULL;
            }
            return e;
        }
    probe_entry *e = xcalloc(1, sizeof *e);
    e->base = xstrdup(base);
    e->next = c->b[h];
    c->b[h] = e;
    c->n++;
    return e;
}

void probe_entry_wait(probe_entry *e, void *waiter)
{
    if (e->nwaiters == e->capwaiters) {
        e->capwaiters = e->capwaiters ? 2 * e->capwaiters : 4;
        e->waiters = xrealloc(e->waiters, e->capwaiters * sizeof *e->waiters);
    }
    e->waiters[e->nwaiters++] = waiter;
}

void probe_entry_set(probe_entry *e, probe_state state, double expires, const char *why)
{
    e->state = state;
    e->expires = expires;
    free(e->why);
    e->why = why ? xstrdup(why) : NULL;
}

void probe_entry_clear_waiters(probe_entry *e)
{
    free(e->waiters);
    e->waiters = NULL;
    e->nwaiters = e->capwaiters = 0;
}

size_t probe_cache_prune(probe_cache *c, double now)
{
    for (size_t i = 0; i < NBUCKETS; i++)
        for (probe_entry **pp = &c->b[i]; *pp;) {
            probe_entry *e = *pp;
            int stale = e->state == PROBE_UNKNOWN ||
                        ((e->state == PROBE_YES || e->state == PROBE_NO) && now >= e->expires);
            if (stale && e->nwaiters == 0) {
                *pp = e->next;
                entry_free(e);
                c->n--;
            } else {
                pp = &e->next;
            }
        }
    return c->n;
}
