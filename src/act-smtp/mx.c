/* mx.c — MX lookup through libresolv, static overrides, a small cache; the allow-list. */
#include "mx.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

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

struct mx_resolver {
    struct __res_state res;
    int res_ok;
    char *init_error;
    char **ov_domain, **ov_host;
    size_t n_ov;
    mx_entry *cache;
    size_t n_cache;
};

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
    if (res_ninit(&r->res) != 0) {
        r->init_error = xstrdup("resolver initialisation failed (res_ninit)");
    } else {
        r->res_ok = 1;
        if (timeout > 0) {
            r->res.retrans = timeout < 5 ? timeout : 5;
            r->res.retry = 2;
        }
        if (ns_host) {
            struct in_addr a;
            if (inet_pton(AF_INET, ns_host, &a) != 1) {
                *err = xasprintf("'%s' is not an IPv4 address", ns_host);
                mx_free(r);
                return NULL;
            }
            memset(&r->res.nsaddr_list[0], 0, sizeof r->res.nsaddr_list[0]);
            r->res.nsaddr_list[0].sin_family = AF_INET;
            r->res.nsaddr_list[0].sin_port = htons((uint16_t)ns_port);
            r->res.nsaddr_list[0].sin_addr = a;
            r->res.nscount = 1;
            r->res._u._ext.nscount = 0; /* no IPv6 servers from resolv.conf */
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

void mx_free(mx_resolver *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_ov; i++) {
        free(r->ov_domain[i]);
        free(r->ov_host[i]);
    }
    free(r->ov_domain);
    free(r->ov_host);
    for (size_t i = 0; i < r->n_cache; i++)
        entry_clear(&r->cache[i]);
    free(r->cache);
    if (r->res_ok)
        res_nclose(&r->res);
    free(r->init_error);
    free(r);
}

static const char *herr_text(int h)
{
    switch (h) {
    case HOST_NOT_FOUND:
        return "no such domain (NXDOMAIN)";
    case NO_DATA:
        return "no records of that type";
    case TRY_AGAIN:
        return "temporary resolver failure (SERVFAIL or time-out)";
    case NO_RECOVERY:
        return "non-recoverable resolver failure";
    default:
        return "resolver failure";
    }
}

/* One query. Returns answer length > 0, 0 for NODATA, -1 for NXDOMAIN, -2 temporary. */
static int query(mx_resolver *r, const char *domain, int type, unsigned char *ans, int anslen,
                 int *herr)
{
    int n = res_nquery(&r->res, domain, ns_c_in, type, ans, anslen);
    *herr = r->res.res_h_errno;
    if (n >= 0) {
        ns_msg msg;
        if (ns_initparse(ans, n, &msg) < 0) {
            *herr = NO_RECOVERY;
            return -2;
        }
        /* count answers of the asked type (a CNAME alone is not an answer) */
        int found = 0;
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) == 0 && (int)ns_rr_type(rr) == type)
                found++;
        }
        return found ? n : 0;
    }
    if (*herr == NO_DATA)
        return 0;
    if (*herr == HOST_NOT_FOUND)
        return -1;
    return -2;
}

static mx_status lookup_dns(mx_resolver *r, const char *domain, char **host, char **why)
{
    unsigned char ans[8192];
    int herr;
    if (!r->res_ok) {
        *why = xstrdup(r->init_error);
        return MX_TEMPFAIL;
    }
    int n = query(r, domain, ns_t_mx, ans, sizeof ans, &herr);
    if (n == -2) {
        *why = xasprintf("MX lookup of %s: %s", domain, herr_text(herr));
        return MX_TEMPFAIL;
    }
    if (n == -1) {
        *why = xasprintf("MX lookup of %s: %s", domain, herr_text(herr));
        return MX_NONE;
    }
    if (n > 0) {
        ns_msg msg;
        ns_initparse(ans, n, &msg);
        int best = 70000;
        char bestname[NS_MAXDNAME] = "";
        for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
            ns_rr rr;
            if (ns_parserr(&msg, ns_s_an, i, &rr) < 0 || ns_rr_type(rr) != ns_t_mx ||
                ns_rr_rdlen(rr) < 3)
                continue;
            int pref = (int)ns_get16(ns_rr_rdata(rr));
            char name[NS_MAXDNAME];
            if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2, name,
                                   sizeof name) < 0)
                continue;
            if (pref < best) {
                best = pref;
                memcpy(bestname, name, sizeof name);
            }
        }
        if (best == 70000) {
            *why = xasprintf("MX lookup of %s: unreadable answer", domain);
            return MX_TEMPFAIL;
        }
        if (bestname[0] == 0 || strcmp(bestname, ".") == 0) {
            *why = xasprintf("%s has a null MX (RFC 7505)", domain);
            return MX_NONE;
        }
        *host = lower_dup_nodot(bestname, strlen(bestname));
        return MX_FOUND;
    }
    /* no MX: the domain itself, if it has an address */
    static const int types[] = {ns_t_a, ns_t_aaaa};
    for (size_t i = 0; i < 2; i++) {
        n = query(r, domain, types[i], ans, sizeof ans, &herr);
        if (n > 0) {
            *host = lower_dup_nodot(domain, strlen(domain));
            return MX_FOUND;
        }
        if (n == -2) {
            *why = xasprintf("address lookup of %s: %s", domain, herr_text(herr));
            return MX_TEMPFAIL;
        }
        if (n == -1)
            break;
    }
    *why = xasprintf("%s has no MX and no address record", domain);
    return MX_NONE;
}

mx_status mx_lookup(mx_resolver *r, const char *domain_in, char **host, char **why)
{
    *host = NULL;
    *why = NULL;
    char *domain = lower_dup_nodot(domain_in, strlen(domain_in));
    mx_status st;
    for (size_t i = 0; i < r->n_ov; i++)
        if (strcmp(r->ov_domain[i], domain) == 0) {
            if (r->ov_host[i][0]) {
                *host = xstrdup(r->ov_host[i]);
                st = MX_FOUND;
            } else {
                *why = xasprintf("%s has no MX (MX_Override)", domain);
                st = MX_NONE;
            }
            free(domain);
            return st;
        }
    double now = bs_now();
    for (size_t i = 0; i < r->n_cache; i++) {
        mx_entry *e = &r->cache[i];
        if (strcmp(e->domain, domain) == 0 && e->expires > now) {
            if (e->host)
                *host = xstrdup(e->host);
            if (e->why)
                *why = xstrdup(e->why);
            free(domain);
            return e->st;
        }
    }
    st = lookup_dns(r, domain, host, why);
    if (st != MX_TEMPFAIL) {
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
            if (slot == 0 && !r->cache)
                r->cache = xcalloc(MX_CACHE_MAX, sizeof *r->cache);
            r->n_cache++;
        } else {
            entry_clear(&r->cache[slot]);
        }
        mx_entry *e = &r->cache[slot];
        e->domain = xstrdup(domain);
        e->st = st;
        e->host = *host ? xstrdup(*host) : NULL;
        e->why = *why ? xstrdup(*why) : NULL;
        e->expires = now + MX_CACHE_SECONDS;
    }
    free(domain);
    return st;
}

char *mx_fbl_address(const mx_allowlist *al, const char *mxhost)
{
    if (!mxhost || !*mxhost)
        return NULL;
    char *h = lower_dup_nodot(mxhost, strlen(mxhost));
    char *out = NULL;
    for (size_t i = 0; al && i < al->n && !out; i++) {
        char *k = lower_dup_nodot(al->mx[i], strlen(al->mx[i]));
        if (strcmp(k, h) == 0)
            out = xstrdup(al->fbl[i]);
        free(k);
    }
    if (!out && bs_has_suffix_ci(h, "e.sparkpost.com")) {
        size_t label = strcspn(h, ".");
        if (label > 0 && h[label] == '.')
            out = xasprintf("fbl@%.*s.mail.e.sparkpost.com", (int)label, h);
    }
    free(h);
    return out;
}
