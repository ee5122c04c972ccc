/* conf.c — [Listen] settings, the bounce-rate cycle, and the session RNG. */
#include "conf.h"
#include "personas.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "params.h"
#include "route.h"
#include "util.h"
#include "week.h"

#define S "Listen"

/* "FILE:LINE" of a setting ("FILE" alone when it is not in the file: a default). */
static char *where_of(const bs_config *cfg, const char *key)
{
    int line = cfg_line(cfg, S, key);
    return line > 0 ? xasprintf("%s:%d", cfg_path(cfg), line) : xstrdup(cfg_path(cfg));
}

static int parse_addr(bs_config *cfg, const char *item, listen_addr *a)
{
    const char *colon, *h = item;
    size_t hlen;
    if (*item == '[') {
        const char *close = strchr(item, ']');
        if (!close || close[1] != ':')
            return cfg_fail(cfg, S, "Address", "'%s' is not [address]:port", item);
        h = item + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(item, ':');
        if (!colon)
            return cfg_fail(cfg, S, "Address", "'%s' is not host:port", item);
        hlen = (size_t)(colon - item);
    }
    long p;
    if (hlen == 0 || bs_parse_long(colon + 1, &p) < 0 || p < 0 || p > 65535)
        return cfg_fail(cfg, S, "Address", "'%s' is not host:port (port 0-65535)", item);
    a->host = xstrndup(h, hlen);
    a->port = (int)p;
    a->where = where_of(cfg, "Address");
    return 0;
}

int lconf_load(bs_config *cfg, lconf *c)
{
    memset(c, 0, sizeof *c);
    c->inband_percent = -1;
    const char *const *items;
    size_t n;
    const char *s;

    if (cfg_list(cfg, S, "Address", &items, &n) < 0)
        return -1;
    if (n == 0) {
        c->addrs = xcalloc(1, sizeof *c->addrs);
        c->addrs[0].host = xstrdup("127.0.0.1");
        c->addrs[0].port = 2525;
        c->addrs[0].where = where_of(cfg, "Address");
        c->naddrs = 1;
    } else {
        c->addrs = xcalloc(n, sizeof *c->addrs);
        for (size_t i = 0; i < n; i++) {
            if (parse_addr(cfg, items[i], &c->addrs[i]) < 0)
                return -1;
            c->naddrs++;
        }
    }

    if (route_sink_domains(cfg, &c->sink_domains, &c->nsink) < 0)
        return -1;

    char host[256];
    if (gethostname(host, sizeof host) != 0 || !*host)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    if (cfg_string(cfg, S, "Hostname", host, &s) < 0)
        return -1;
    c->hostname = xstrdup(s);
    for (const char *p = c->hostname; *p; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return cfg_fail(cfg, S, "Hostname", "must be printable ASCII without blanks");

    if (param_file(cfg, S, "Spool", &s) < 0)
        return -1;
    c->spool = xstrdup(s);
    if (param_fsync(cfg, S, "Fsync", &c->fsync) < 0) /* 0, 1, 2: SPOOL_FSYNC_* */
        return -1;
    if (param_file(cfg, S, "Records", &s) < 0)
        return -1;
    c->records = s && *s ? xstrdup(s) : NULL;
    if (param_file(cfg, S, "TLS_Certificate", &s) < 0)
        return -1;
    c->tls_cert = s && *s ? xstrdup(s) : NULL;
    if (param_file(cfg, S, "TLS_Key", &s) < 0)
        return -1;
    c->tls_key = s && *s ? xstrdup(s) : NULL;
    if (!c->tls_key && c->tls_cert)
        c->tls_key = xstrdup(c->tls_cert); /* one PEM with both */
    if (c->tls_key && !c->tls_cert)
        return cfg_fail(cfg, S, "TLS_Key", "set without TLS_Certificate");
    if (c->tls_cert) {
        c->tls_cert_where = where_of(cfg, "TLS_Certificate");
        c->tls_key_where =
            where_of(cfg, cfg_get(cfg, S, "TLS_Key") ? "TLS_Key" : "TLS_Certificate");
    }
    if (param_string(cfg, S, "Bare_Newline", &s) < 0)
        return -1;
    if (strcasecmp(s, "normalize") == 0)
        c->bare_newline = BARE_NEWLINE_NORMALIZE;
    else if (strcasecmp(s, "reject") == 0)
        c->bare_newline = BARE_NEWLINE_REJECT;
    else
        return cfg_fail(cfg, S, "Bare_Newline", "'%s' is not normalize or reject", s);
    if (param_file(cfg, S, "InBand_Replies_File", &s) < 0)
        return -1;
    c->replies_file = xstrdup(s);

    /* One event loop per two cores: a loop takes more than 15,000 small messages a second,
     * several times what the stages behind it can take, and the sink shares its host with
     * ingest, act-http, act-smtp and report (and, in tests and benchmarks, the client). A
     * loop per core only added loops that sleep and wake for every message (bench/listen.sh:
     * 2 loops on 2 cores made twice the context switches of one, at a lower rate). */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long loops = cores / 2;
    if (loops < 1)
        loops = 1;
    if (loops > 64)
        loops = 64;
    size_t max_size = 0;
    if (cfg_long(cfg, S, "Threads", loops, 1, 64, &c->threads) < 0 ||
        param_long(cfg, S, "Max_Connections", 1, 1000000, &c->max_connections) < 0 ||
        param_long(cfg, S, "Command_Timeout", 1, 86400, &c->command_timeout) < 0 ||
        param_long(cfg, S, "Data_Timeout", 1, 86400, &c->data_timeout) < 0 ||
        param_long(cfg, S, "Shutdown_Timeout", 0, 86400, &c->shutdown_timeout) < 0 ||
        param_size(cfg, S, "Max_Message_Size", 1024, (size_t)1 << 40, &max_size) < 0 ||
        param_long(cfg, S, "Max_Recipients", 100, 1000000, &c->max_recipients) < 0 ||
        param_long(cfg, S, "Max_Errors", 1, 1000000, &c->max_errors) < 0 ||
        param_long(cfg, S, "Records_Queue", 1, 100000000, &c->records_queue) < 0 ||
        param_long(cfg, S, "Spool_Threads", 0, 64, &c->spool_threads) < 0 ||
        param_long(cfg, S, "Spill_Size", 0, (long)1 << 40, &c->spill_size) < 0)
        return -1;
    c->max_message_size = (long)max_size;

    long facts_threads;
    if (param_bool(cfg, S, "Facts", &c->facts_all) < 0 ||
        param_long(cfg, S, "Facts_Threads", 1, 64, &facts_threads) < 0 ||
        param_long(cfg, S, "Facts_Timeout", 1, 3600, &c->facts_timeout) < 0)
        return -1;
    c->facts_ctxs = xcalloc((size_t)facts_threads, sizeof *c->facts_ctxs);
    for (long i = 0; i < facts_threads; i++) {
        char *err = NULL;
        c->facts_ctxs[i] = facts_ctx_new(cfg, &err);
        if (!c->facts_ctxs[i] && !c->facts_all) {
            /* not needed unless a persona applies: say so, do without (temperror) */
            bs_warn("facts cannot be computed (%s): transactions that need them get temperror",
                    err ? err : "?");
            free(err);
            break;
        }
        if (!c->facts_ctxs[i]) {
            cfg_fail(cfg, S, "Facts", "cannot set up the facts computation: %s", err ? err : "?");
            free(err);
            return -1;
        }
        c->nfacts_ctxs++;
    }

    if (cfg_get(cfg, S, "Seed")) {
        long seed;
        if (cfg_long(cfg, S, "Seed", 0, 0, LONG_MAX, &seed) < 0)
            return -1;
        c->has_seed = 1;
        c->seed = (uint64_t)seed;
    }

    if (param_double_range(cfg, "Sink", "Upstream_Handled", 0, 100, &c->upstream_handled) < 0)
        return -1;
    if (cfg_get(cfg, S, "InBand_Bounce_percent") &&
        cfg_double_range(cfg, S, "InBand_Bounce_percent", 0, 0, 100, &c->inband_percent) < 0)
        return -1;
    if (week_cycle_load(cfg, "Weekly_Cycle_Bounce_Rate", 0, 100, &c->bounce_cycle,
                        &c->nbounce_cycle) < 0)
        return -1;

    if (param_double_range(cfg, S, "Greylist_percent", 0, 100, &c->greylist_percent) < 0 ||
        param_long(cfg, S, "Greylist_Delay", 0, 86400 * 30, &c->greylist_delay) < 0 ||
        param_long(cfg, S, "Greylist_Window", 1, 86400 * 365, &c->greylist_window) < 0 ||
        param_long(cfg, S, "Greylist_Max_Entries", 16, 100000000, &c->greylist_max_entries) < 0 ||
        param_long(cfg, S, "Throttle_Max_Connections_Per_IP", 0, 1000000, &c->th_max_conns) < 0 ||
        param_long(cfg, S, "Throttle_Max_Messages_Per_Connection", 0, 1000000000,
                   &c->th_max_per_conn) < 0 ||
        param_long(cfg, S, "Throttle_Max_Messages_Per_Minute", 0, 1000000000,
                   &c->th_max_per_minute) < 0 ||
        param_long(cfg, S, "Throttle_Subdomain_Messages_Per_Minute", 0, 1000000000,
                   &c->th_sub_per_minute) < 0 ||
        param_long(cfg, S, "Throttle_Subdomain_Messages_Per_Connection", 0, 1000000000,
                   &c->th_sub_per_conn) < 0 ||
        param_long(cfg, S, "Throttle_Max_Entries", 16, 100000000, &c->th_max_entries) < 0 ||
        param_double_range(cfg, S, "Slow_percent", 0, 100, &c->slow_percent) < 0)
        return -1;
    if (param_string(cfg, S, "Slow_Delay", &s) < 0)
        return -1;
    if (lconf_parse_delay(s, &c->slow) < 0)
        return cfg_fail(cfg, S, "Slow_Delay",
                        "'%s' is not fixed:S, uniform:A-B or exp:MEAN (seconds, at most 3600)", s);
    if (param_file(cfg, S, "Clock_Offset_File", &s) < 0)
        return -1;
    c->clock_file = s && *s ? xstrdup(s) : NULL;

    if (cfg_list(cfg, S, "Proxy_Networks", &items, &n) < 0)
        return -1;
    c->proxy_nets = n ? xcalloc(n, sizeof *c->proxy_nets) : NULL;
    for (size_t i = 0; i < n; i++) {
        const char *why;
        if (bs_cidr_parse(items[i], &c->proxy_nets[i], &why) < 0)
            return cfg_fail(cfg, S, "Proxy_Networks", "'%s' is not an address or CIDR range: %s",
                            items[i], why);
        c->nproxy_nets++;
    }
    if (param_long(cfg, S, "Proxy_Timeout", 1, 3600, &c->proxy_timeout) < 0)
        return -1;
    return lpersonas_load(cfg, &c->personas);
}

static int parse_secs(const char *p, const char *end, double *out)
{
    char tmp[64];
    size_t n = (size_t)(end - p);
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    char *e;
    double v = strtod(tmp, &e);
    if (*e || !(v >= 0 && v <= 3600))
        return -1;
    *out = v;
    return 0;
}

int lconf_parse_delay(const char *spec, slow_delay *d)
{
    const char *colon = strchr(spec, ':');
    if (!colon)
        return -1;
    const char *arg = colon + 1, *end = arg + strlen(arg);
    size_t kl = (size_t)(colon - spec);
    memset(d, 0, sizeof *d);
    if (kl == 5 && strncasecmp(spec, "fixed", 5) == 0) {
        d->kind = DELAY_FIXED;
        return parse_secs(arg, end, &d->a);
    }
    if (kl == 3 && strncasecmp(spec, "exp", 3) == 0) {
        d->kind = DELAY_EXP;
        return parse_secs(arg, end, &d->a);
    }
    if (kl == 7 && strncasecmp(spec, "uniform", 7) == 0) {
        d->kind = DELAY_UNIFORM;
        const char *dash = strchr(arg, '-');
        if (!dash || parse_secs(arg, dash, &d->a) < 0 || parse_secs(dash + 1, end, &d->b) < 0 ||
            d->b < d->a)
            return -1;
        return 0;
    }
    return -1;
}

void lconf_free(lconf *c)
{
    for (size_t i = 0; i < c->naddrs; i++) {
        free(c->addrs[i].host);
        free(c->addrs[i].where);
    }
    free(c->addrs);
    for (size_t i = 0; i < c->nfacts_ctxs; i++)
        facts_ctx_free(c->facts_ctxs[i]);
    free(c->facts_ctxs);
    route_sink_domains_free(c->sink_domains, c->nsink);
    free(c->hostname);
    free(c->spool);
    free(c->records);
    free(c->tls_cert);
    free(c->tls_key);
    free(c->tls_cert_where);
    free(c->tls_key_where);
    free(c->replies_file);
    free(c->bounce_cycle);
    free(c->clock_file);
    free(c->proxy_nets);
    lpersonas_free(c->personas);
    memset(c, 0, sizeof *c);
}

double lconf_bounce_percent(const lconf *c, time_t t)
{
    if (c->inband_percent >= 0)
        return c->inband_percent;
    if (c->nbounce_cycle == 0)
        return 0;
    struct tm tm;
    localtime_r(&t, &tm);
    return c->bounce_cycle[week_index(&tm, c->nbounce_cycle)];
}
