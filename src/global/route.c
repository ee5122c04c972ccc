/* route.c — routing labels, the stream of a recipient, listen's trace field (route.h). */
#include "route.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "params.h"
#include "util.h"

const char *const route_labels[RT_COUNT] = {"mixed",     "accept",   "oob",  "fbl",
                                            "openclick", "unsub",    "ooto", "inband",
                                            "greylist",  "throttle", "slow"};

enum bs_route route_domain(const char *const *sinks, size_t nsinks, const char *d, size_t dn)
{
    while (dn && d[dn - 1] == '.')
        dn--;
    size_t best = 0;
    ssize_t in_front = -1;
    for (size_t i = 0; i < nsinks; i++) {
        size_t sn = strlen(sinks[i]);
        if (in_front >= 0 && sn <= best)
            continue;
        ssize_t k = bs_domain_under(d, dn, sinks[i]);
        if (k >= 0) {
            in_front = k;
            best = sn;
        }
    }
    if (in_front < 0)
        return RT_FOREIGN;
    if (in_front == 0)
        return RT_MIXED; /* the sink domain itself */
    const char *dot = memchr(d, '.', dn);
    size_t ln = (size_t)(dot - d);
    for (int r = RT_MIXED + 1; r < RT_COUNT; r++)
        if (strlen(route_labels[r]) == ln && strncasecmp(d, route_labels[r], ln) == 0)
            return (enum bs_route)r;
    return RT_MIXED;
}

enum bs_route route_address(const char *const *sinks, size_t nsinks, const char *addr, size_t n)
{
    for (size_t i = n; i-- > 0;)
        if (addr[i] == '@')
            return route_domain(sinks, nsinks, addr + i + 1, n - i - 1);
    return RT_FOREIGN;
}

enum bs_route route_parse(const char *s, size_t n)
{
    for (int r = 0; r < RT_COUNT; r++)
        if (strlen(route_labels[r]) == n && memcmp(s, route_labels[r], n) == 0)
            return (enum bs_route)r;
    return RT_FOREIGN;
}

enum bs_route route_plan_stream(enum bs_route r)
{
    switch (r) {
    case RT_GREYLIST:
    case RT_THROTTLE:
    case RT_SLOW:
        return RT_ACCEPT;
    case RT_INBAND:
    case RT_FOREIGN:
    case RT_COUNT:
        return RT_MIXED;
    default:
        return r;
    }
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether the field name [p, p+n) (blanks before the colon allowed) is name. */
static int name_is(const char *p, size_t n, const char *name)
{
    while (n && is_wsp(p[n - 1]))
        n--;
    return n == strlen(name) && strncasecmp(p, name, n) == 0;
}

enum bs_route route_from_trace(const char *block, size_t n)
{
    enum bs_route found = RT_FOREIGN;
    int seen = 0;
    const char *p = block, *end = block + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *colon = is_wsp(*p) ? NULL : memchr(p, ':', (size_t)(le - p));
        if (colon) {
            if (name_is(p, (size_t)(colon - p), "Received"))
                return found; /* listen's own Received: what is below is the sender's */
            if (!seen && name_is(p, (size_t)(colon - p), ROUTE_TRACE_FIELD)) {
                seen = 1;
                const char *v = colon + 1, *ve = le;
                while (v < ve && is_wsp(*v))
                    v++;
                while (ve > v && (is_wsp(ve[-1]) || ve[-1] == '\r'))
                    ve--;
                found = route_parse(v, (size_t)(ve - v));
                if (nl && nl + 1 < end && is_wsp(nl[1]))
                    found = RT_FOREIGN; /* folded: more than a label */
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return RT_FOREIGN; /* no Received field: nothing here was written by listen */
}

/* A domain name as Sink_Domains takes it: labels of letters, digits, '-' and '_'. */
static int valid_domain(const char *d)
{
    if (!*d || *d == '.' || strstr(d, ".."))
        return 0;
    for (const char *p = d; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '.' || *p == '_'))
            return 0;
    return 1;
}

int route_sink_domains(bs_config *cfg, char ***out, size_t *nout)
{
    const char *const *items;
    size_t n;
    *out = NULL;
    *nout = 0;
    if (cfg_list(cfg, "Listen", "Sink_Domains", &items, &n) < 0)
        return -1;
    if (n == 0) { /* not set (absent or empty): the table's default */
        *nout = param_default_list("Listen", "Sink_Domains", out);
        return 0;
    }
    char **v = xcalloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char *d = xstrdup(items[i]);
        bs_lower(d);
        size_t l = strlen(d);
        while (l && d[l - 1] == '.')
            d[--l] = 0;
        v[i] = d;
        if (!valid_domain(d)) {
            route_sink_domains_free(v, i + 1);
            return cfg_fail(cfg, "Listen", "Sink_Domains", "'%s' is not a domain name", items[i]);
        }
    }
    *out = v;
    *nout = n;
    return 0;
}

void route_sink_domains_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
