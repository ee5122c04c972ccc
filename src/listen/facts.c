/* facts.c — computing the costly facts of a transaction off the event loop (facts.h). */
#include "facts.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>

#include "dnsq.h"
#include "params.h"
#include "util.h"

#define MAX_PTR_NAMES 10 /* PTR names checked for FCrDNS (as Postfix and OpenDMARC bound it) */

/* Answers kept per thread: DMARC records (asked for every message) and the rDNS of
 * client IPs (every session), for CACHE_SECONDS, at most CACHE_SIZE of each, the
 * oldest replaced first. dnsq gives no TTLs: a fixed lifetime, short enough for tests
 * that change their zone between runs. */
#define CACHE_SIZE 128
#define CACHE_SECONDS 60

typedef struct {
    char *key;
    time_t at;
    int status;  /* dmarc_record's return, or an facts_fcrdns */
    char *value; /* the record, or the PTR name */
} cache_entry;

typedef struct {
    cache_entry e[CACHE_SIZE];
} cache;

struct facts_ctx {
    auth_ctx *auth;
    dnsq *dns;
    cache dmarc, rdns;
};

static cache_entry *cache_get(cache *c, const char *key)
{
    time_t now = time(NULL);
    for (size_t i = 0; i < CACHE_SIZE; i++)
        if (c->e[i].key && now - c->e[i].at < CACHE_SECONDS && now >= c->e[i].at &&
            strcmp(c->e[i].key, key) == 0)
            return &c->e[i];
    return NULL;
}

static void cache_put(cache *c, const char *key, int status, const char *value)
{
    size_t victim = 0;
    for (size_t i = 0; i < CACHE_SIZE; i++) {
        if (!c->e[i].key) {
            victim = i;
            break;
        }
        if (c->e[i].at < c->e[victim].at)
            victim = i;
    }
    cache_entry *e = &c->e[victim];
    free(e->key);
    free(e->value);
    *e = (cache_entry){xstrdup(key), time(NULL), status, value ? xstrdup(value) : NULL};
}

static void cache_free(cache *c)
{
    for (size_t i = 0; i < CACHE_SIZE; i++) {
        free(c->e[i].key);
        free(c->e[i].value);
    }
}

static const char *const fcrdns_names[] = {
    [FCRDNS_NONE] = "none",       [FCRDNS_PASS] = "pass",           [FCRDNS_FAIL] = "fail",
    [FCRDNS_NOPTR] = "permerror", [FCRDNS_TEMPERROR] = "temperror",
};

const char *facts_fcrdns_name(facts_fcrdns r)
{
    return (unsigned)r < sizeof fcrdns_names / sizeof fcrdns_names[0] ? fcrdns_names[r] : "?";
}

facts_ctx *facts_ctx_new(bs_config *cfg, char **err)
{
    long timeout = 0;
    if (param_long(cfg, "Listen", "Facts_Timeout", 1, 3600, &timeout) < 0) {
        *err = xstrdup(cfg_error(cfg));
        return NULL;
    }
    facts_ctx *fc = xcalloc(1, sizeof *fc);
    fc->auth = auth_new(cfg, err);
    if (fc->auth)
        fc->dns = dnsq_new(timeout * 1000, err);
    if (!fc->auth || !fc->dns) {
        facts_ctx_free(fc);
        return NULL;
    }
    return fc;
}

void facts_ctx_free(facts_ctx *fc)
{
    if (!fc)
        return;
    auth_free(fc->auth);
    dnsq_free(fc->dns);
    cache_free(&fc->dmarc);
    cache_free(&fc->rdns);
    free(fc);
}

/* Same address, whatever its spelling. */
static int same_ip(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    int fa = strchr(a, ':') ? AF_INET6 : AF_INET, fb = strchr(b, ':') ? AF_INET6 : AF_INET;
    return fa == fb && inet_pton(fa, a, x) == 1 && inet_pton(fb, b, y) == 1 &&
           memcmp(x, y, fa == AF_INET ? 4 : 16) == 0;
}

/* PTR of the client IP, then the addresses of each PTR name (FCrDNS, RFC 8601 iprev). */
static void rdns_ask(facts_ctx *fc, facts_job *job);
static void rdns(facts_ctx *fc, facts_job *job)
{
    listen_facts *o = &job->out;
    cache_entry *e = cache_get(&fc->rdns, job->client_ip);
    if (e) {
        o->fcrdns = (facts_fcrdns)e->status;
        o->ptr = e->value ? xstrdup(e->value) : NULL;
        return;
    }
    rdns_ask(fc, job);
    if (o->fcrdns != FCRDNS_TEMPERROR)
        cache_put(&fc->rdns, job->client_ip, (int)o->fcrdns, o->ptr);
}

static void rdns_ask(facts_ctx *fc, facts_job *job)
{
    listen_facts *o = &job->out;
    char **names = NULL;
    size_t n = 0;
    dnsq_status st = dnsq_ptr(fc->dns, job->client_ip, &names, &n);
    if (st == DNSQ_NONE || st == DNSQ_BADARG) {
        o->fcrdns = FCRDNS_NOPTR;
        return;
    }
    if (st != DNSQ_OK) {
        o->fcrdns = FCRDNS_TEMPERROR;
        return;
    }
    o->ptr = xstrdup(names[0]);
    int family = strchr(job->client_ip, ':') ? 6 : 4, temp = 0;
    o->fcrdns = FCRDNS_FAIL;
    for (size_t i = 0; i < n && i < MAX_PTR_NAMES && o->fcrdns != FCRDNS_PASS; i++) {
        char **ips = NULL;
        size_t k = 0;
        st = dnsq_addrs(fc->dns, names[i], family, &ips, &k);
        temp |= st == DNSQ_TEMP;
        for (size_t j = 0; j < k; j++)
            if (same_ip(ips[j], job->client_ip)) {
                o->fcrdns = FCRDNS_PASS;
                free(o->ptr);
                o->ptr = xstrdup(names[i]);
            }
        dnsq_strings_free(ips, k);
    }
    if (o->fcrdns != FCRDNS_PASS && temp)
        o->fcrdns = FCRDNS_TEMPERROR;
    dnsq_strings_free(names, n);
}

/* The DMARC record of a domain: 1 found (*rec, caller frees), 0 none, -1 lookup failed.
 * Several v=DMARC1 records count as none (RFC 7489 6.6.3). */
static int dmarc_ask(facts_ctx *fc, const char *domain, char **rec);
static int dmarc_record(facts_ctx *fc, const char *domain, char **rec)
{
    cache_entry *e = cache_get(&fc->dmarc, domain);
    if (e) {
        *rec = e->value ? xstrdup(e->value) : NULL;
        return e->status;
    }
    int found = dmarc_ask(fc, domain, rec);
    if (found >= 0)
        cache_put(&fc->dmarc, domain, found, *rec);
    return found;
}

static int dmarc_ask(facts_ctx *fc, const char *domain, char **rec)
{
    *rec = NULL;
    char *name = xasprintf("_dmarc.%s", domain);
    char **txt = NULL;
    size_t n = 0, found = 0;
    dnsq_status st = dnsq_txt(fc->dns, name, &txt, &n);
    free(name);
    if (st == DNSQ_TEMP)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const char *t = txt[i];
        while (*t == ' ' || *t == '\t')
            t++;
        if (strncasecmp(t, "v=DMARC1", 8) == 0 && (t[8] == ';' || t[8] == ' ' || !t[8])) {
            if (found++ == 0)
                *rec = xstrdup(t);
        }
    }
    dnsq_strings_free(txt, n);
    if (found != 1) {
        free(*rec);
        *rec = NULL;
        return 0;
    }
    return 1;
}

static void message_facts(facts_ctx *fc, facts_job *job)
{
    listen_facts *o = &job->out;
    auth_envelope env = {job->client_ip, job->helo, job->mail_from};
    auth_results_clear(&o->auth);
    auth_check(fc->auth, job->msg, job->msg_len, job->mail_from ? &env : NULL, &o->auth);
    auth_headers h;
    auth_header_facts(job->msg, job->msg_len, &o->auth.dkim, &h);
    o->from_count = h.from_count;
    o->has_message_id = h.has_message_id;
    o->has_date = h.has_date;
    o->list_unsubscribe = h.list_unsubscribe;
    o->list_unsubscribe_post = h.list_unsubscribe_post;
    o->list_unsubscribe_signed = h.list_unsubscribe_signed;
    char *rec = NULL;
    int found = 0;
    if (h.from_domain) {
        found = dmarc_record(fc, h.from_domain, &rec);
        if (found == 0) {
            char org[256];
            auth_org_domain(h.from_domain, org, sizeof org);
            if (strcmp(org, h.from_domain) != 0)
                found = dmarc_record(fc, org, &rec);
        }
    }
    auth_dmarc_eval(&o->auth, h.from_domain, rec, found < 0, job->client_ip);
    free(rec);
    auth_headers_clear(&h);
}

void facts_run(facts_ctx *fc, facts_job *job)
{
    listen_facts *o = &job->out;
    auth_results_clear(&o->auth);
    o->auth.spf.result = AUTH_OFF;
    o->auth.dmarc.result = AUTH_OFF;
    if (job->want & FACT_RDNS)
        rdns(fc, job);
    if (job->want & FACT_MESSAGE) {
        message_facts(fc, job);
    } else if (job->want & FACT_SPF) {
        auth_envelope env = {job->client_ip, job->helo, job->mail_from};
        auth_check_spf(fc->auth, &env, &o->auth.spf);
    }
    o->known = job->want;
}

void facts_clear(listen_facts *f)
{
    free(f->ptr);
    f->ptr = NULL;
    f->fcrdns = FCRDNS_NONE;
    auth_results_clear(&f->auth);
    f->known = 0;
}

void facts_job_free(facts_job *job)
{
    if (!job)
        return;
    free(job->client_ip);
    free(job->helo);
    free(job->mail_from);
    free(job->msg);
    facts_clear(&job->out);
    free(job);
}

int facts_dkim_pass_domain(const listen_facts *f, const char *domain)
{
    for (size_t i = 0; i < f->auth.dkim.nsigs; i++)
        if (f->auth.dkim.sigs[i].result == AUTH_PASS && f->auth.dkim.sigs[i].domain &&
            strcasecmp(f->auth.dkim.sigs[i].domain, domain) == 0)
            return 1;
    return 0;
}
