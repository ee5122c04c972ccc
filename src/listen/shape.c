/* shape.c — greylist and per-IP throttle tables, throttle/greylist texts, slow delays. */
#include "shape.h"

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "util.h"

#define NSHARDS 16

/* ---- a bounded, sharded hash table of fixed-size entries ----------------------------- */

typedef struct {
    uint64_t key;
    int64_t t1, t2; /* greylist: first seen, last passed; throttle: window starts */
    int32_t n1, n2, n3;
    int32_t flags;
} entry;

typedef struct {
    pthread_mutex_t mu;
    entry *ent;      /* ring: slots in insertion order, head is the oldest */
    int32_t *next;   /* bucket chains */
    int32_t *bucket; /* nb heads, -1: empty */
    uint32_t nb, cap, head, count;
} shard;

typedef struct {
    shard sh[NSHARDS];
    int (*expired)(const entry *e, time_t now, const lconf *cf);
    const lconf *cf;
} table;

static void table_init(table *t, long max_entries, const lconf *cf,
                       int (*expired)(const entry *, time_t, const lconf *))
{
    t->cf = cf;
    t->expired = expired;
    uint32_t cap = (uint32_t)((max_entries + NSHARDS - 1) / NSHARDS);
    if (cap < 1)
        cap = 1;
    uint32_t nb = 1;
    while (nb < cap)
        nb <<= 1;
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &t->sh[i];
        pthread_mutex_init(&s->mu, NULL);
        s->cap = cap;
        s->nb = nb;
        s->ent = xcalloc(cap, sizeof *s->ent);
        s->next = xcalloc(cap, sizeof *s->next);
        s->bucket = xmalloc(nb * sizeof *s->bucket);
        memset(s->bucket, 0xff, nb * sizeof *s->bucket);
    }
}

static void table_free(table *t)
{
    for (int i = 0; i < NSHARDS; i++) {
        shard *s = &t->sh[i];
        pthread_mutex_destroy(&s->mu);
        free(s->ent);
        free(s->next);
        free(s->bucket);
    }
}

static shard *table_lock(table *t, uint64_t key)
{
    shard *s = &t->sh[(key >> 60) & (NSHARDS - 1)];
    pthread_mutex_lock(&s->mu);
    return s;
}

static void shard_unlink(shard *s, uint32_t slot)
{
    uint32_t b = (uint32_t)(s->ent[slot].key & (s->nb - 1));
    int32_t *pp = &s->bucket[b];
    while (*pp >= 0) {
        if ((uint32_t)*pp == slot) {
            *pp = s->next[slot];
            return;
        }
        pp = &s->next[*pp];
    }
}

static void shard_evict_head(shard *s)
{
    shard_unlink(s, s->head);
    s->head = (s->head + 1) % s->cap;
    s->count--;
}

/* The entry for key, created (zeroed) when absent and create is set; *created tells. */
static entry *shard_get(table *t, shard *s, uint64_t key, time_t now, int create, int *created)
{
    if (created)
        *created = 0;
    uint32_t b = (uint32_t)(key & (s->nb - 1));
    for (int32_t i = s->bucket[b]; i >= 0; i = s->next[i])
        if (s->ent[i].key == key)
            return &s->ent[i];
    if (!create)
        return NULL;
    /* drop expired entries at the old end, then the oldest when still full */
    while (s->count && t->expired && t->expired(&s->ent[s->head], now, t->cf))
        shard_evict_head(s);
    if (s->count == s->cap)
        shard_evict_head(s);
    uint32_t slot = (s->head + s->count) % s->cap;
    s->count++;
    memset(&s->ent[slot], 0, sizeof s->ent[slot]);
    s->ent[slot].key = key;
    s->next[slot] = s->bucket[b];
    s->bucket[b] = (int32_t)slot;
    if (created)
        *created = 1;
    return &s->ent[slot];
}

/* ---- the shape ---------------------------------------------------------------------------- */

const char *const shape_limit_names[TH_NLIMITS] = {"connections", "messages_per_connection",
                                                   "messages_per_minute"};

struct shape {
    const lconf *cf;
    table grey, ips;
    char *clock_file;
    inband_reply th[TH_NLIMITS]; /* text borrowed from the reply table or static */
};

#define GL_PASSED_FLAG 1

static int grey_expired(const entry *e, time_t now, const lconf *cf)
{
    int64_t since = (e->flags & GL_PASSED_FLAG) ? e->t2 : e->t1;
    return now - since > cf->greylist_window;
}

static int ip_expired(const entry *e, time_t now, const lconf *cf)
{
    (void)cf;
    return e->n1 == 0 && now - e->t1 >= 60 && now - e->t2 >= 60;
}

/* Provider-style texts: the first reply-table line containing one of the patterns, with
 * its text; the code and enhanced code are always ours. */
static const struct {
    int code;
    const char *enhanced;
    const char *patterns[3];
    const char *fallback;
} th_texts[TH_NLIMITS] = {
    [TH_CONNECTIONS] = {421,
                        "4.7.0",
                        {"Too many connections to this host", NULL, NULL},
                        "Too many connections to this host."},
    [TH_PER_CONNECTION] = {451,
                           "4.7.1",
                           {"Abusive connections. Please try again", NULL, NULL},
                           "Abusive connections. Please try again later."},
    [TH_PER_MINUTE] = {451,
                       "4.7.1",
                       {"Quota Exceeded, Try again later", "try again later", NULL},
                       "Please try again later"},
};

shape *shape_new(const lconf *cf, const reply_table *replies)
{
    shape *sh = xcalloc(1, sizeof *sh);
    sh->cf = cf;
    table_init(&sh->grey, cf->greylist_max_entries, cf, grey_expired);
    table_init(&sh->ips, cf->th_max_entries, cf, ip_expired);
    const char *env = getenv("BS_LISTEN_CLOCK_FILE");
    if (env && *env)
        sh->clock_file = xstrdup(env);
    else if (cf->clock_file)
        sh->clock_file = xstrdup(cf->clock_file);
    for (int k = 0; k < TH_NLIMITS; k++) {
        inband_reply *r = &sh->th[k];
        r->code = th_texts[k].code;
        snprintf(r->enhanced, sizeof r->enhanced, "%s", th_texts[k].enhanced);
        r->text = (char *)th_texts[k].fallback;
        for (int p = 0; p < 3 && th_texts[k].patterns[p]; p++) {
            size_t i;
            for (i = 0; replies && i < replies->n; i++)
                if (strcasestr(replies->v[i].text, th_texts[k].patterns[p]))
                    break;
            if (replies && i < replies->n) {
                r->text = replies->v[i].text;
                break;
            }
        }
    }
    return sh;
}

void shape_free(shape *sh)
{
    if (!sh)
        return;
    table_free(&sh->grey);
    table_free(&sh->ips);
    free(sh->clock_file);
    free(sh);
}

time_t shape_now(const shape *sh)
{
    time_t now = time(NULL);
    if (!sh || !sh->clock_file)
        return now;
    int fd = open(sh->clock_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return now;
    char buf[64];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return now;
    buf[n] = 0;
    char *e;
    double off = strtod(buf, &e);
    if (e == buf || !isfinite(off))
        return now;
    return now + (time_t)llround(off);
}

uint64_t shape_triple_hash(const char *ip, const char *sender, const char *rcpt)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    const char *parts[3] = {ip, sender, rcpt};
    for (int k = 0; k < 3; k++) {
        for (const unsigned char *p = (const unsigned char *)parts[k]; *p; p++) {
            unsigned char c = *p;
            if (k == 2)
                c = (unsigned char)tolower(c);
            h = (h ^ c) * 0x100000001b3ULL;
        }
        if (k < 2)
            h = (h ^ 0) * 0x100000001b3ULL;
    }
    return h;
}

int shape_greylisted(const lconf *cf, const char *stream, uint64_t h)
{
    if (strcmp(stream, "greylist") == 0)
        return 1;
    if (cf->greylist_percent <= 0 || strcmp(stream, "mixed") != 0)
        return 0;
    return (double)(h % 10000) < cf->greylist_percent * 100.0;
}

gl_result shape_greylist_check(shape *sh, uint64_t h, time_t now)
{
    const lconf *cf = sh->cf;
    shard *s = table_lock(&sh->grey, h);
    int created;
    entry *e = shard_get(&sh->grey, s, h, now, 1, &created);
    gl_result r;
    if (created || grey_expired(e, now, cf)) {
        e->t1 = now;
        e->t2 = 0;
        e->flags = 0;
        r = GL_DEFER;
    } else if (e->flags & GL_PASSED_FLAG) {
        e->t2 = now;
        r = GL_KNOWN;
    } else if (now - e->t1 >= cf->greylist_delay) {
        e->flags |= GL_PASSED_FLAG;
        e->t2 = now;
        r = GL_PASSED;
    } else {
        r = GL_DEFER; /* too early: the first-seen time stays */
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

size_t shape_greylist_entries(shape *sh)
{
    size_t n = 0;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_mutex_lock(&sh->grey.sh[i].mu);
        n += sh->grey.sh[i].count;
        pthread_mutex_unlock(&sh->grey.sh[i].mu);
    }
    return n;
}

static uint64_t ip_key(const char *ip)
{
    return shape_triple_hash(ip, "", "");
}

int shape_conn_open(shape *sh, const char *ip)
{
    if (sh->cf->th_max_conns <= 0)
        return 0;
    uint64_t k = ip_key(ip);
    shard *s = table_lock(&sh->ips, k);
    entry *e = shard_get(&sh->ips, s, k, time(NULL), 1, NULL);
    int rc = 0;
    if (e->n1 >= sh->cf->th_max_conns)
        rc = -1;
    else
        e->n1++;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void shape_conn_close(shape *sh, const char *ip)
{
    if (sh->cf->th_max_conns <= 0)
        return;
    uint64_t k = ip_key(ip);
    shard *s = table_lock(&sh->ips, k);
    entry *e = shard_get(&sh->ips, s, k, 0, 0, NULL);
    if (e && e->n1 > 0) /* an evicted entry: nothing to undo */
        e->n1--;
    pthread_mutex_unlock(&s->mu);
}

int shape_minute_take(shape *sh, const char *ip, int which, long limit, time_t now)
{
    if (limit <= 0)
        return 0;
    uint64_t k = ip_key(ip);
    shard *s = table_lock(&sh->ips, k);
    entry *e = shard_get(&sh->ips, s, k, now, 1, NULL);
    int64_t *start = which ? &e->t2 : &e->t1;
    int32_t *count = which ? &e->n3 : &e->n2;
    if (now - *start >= 60 || now < *start) {
        *start = now;
        *count = 0;
    }
    int rc = 0;
    if (*count >= limit)
        rc = -1;
    else
        (*count)++;
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void shape_throttle_reply(const shape *sh, th_limit which, const reply_vars *vars, lrng *r,
                          int *code, const char **enhanced, bs_buf *text)
{
    const inband_reply *rep = &sh->th[which];
    *code = rep->code;
    *enhanced = rep->enhanced;
    replies_fill(rep, vars, r, text);
}

void shape_greylist_text(const char *rcpt, bs_buf *text)
{
    const char *at = strrchr(rcpt, '@');
    const char *domain = at ? at + 1 : rcpt;
    buf_printf(text,
               "<%s>: Recipient address rejected: Greylisted, see "
               "https://postgrey.schweikert.ch/help/%s.html",
               rcpt, domain);
}

long shape_draw_delay(const slow_delay *d, lrng *r)
{
    double s;
    switch (d->kind) {
    case DELAY_UNIFORM:
        s = d->a + (d->b - d->a) * bs_rng_uniform(r);
        break;
    case DELAY_EXP:
        s = -d->a * log(1.0 - bs_rng_uniform(r));
        if (s > 3600)
            s = 3600;
        break;
    default:
        s = d->a;
        break;
    }
    return (long)llround(s * 1000.0);
}
