/* rates.c — sliding-window counters per key in a bounded table (rates.h). */
#include "rates.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define WAYS 4
#define NLOCKS 16

typedef struct {
    uint64_t key; /* 0: empty */
    int64_t used; /* last touched, for eviction */
    int64_t newest[RATES_MAX_WINDOWS];
    uint32_t slot[RATES_MAX_WINDOWS][RATES_SLOTS];
} rentry;

struct rates {
    long windows[PERSONA_NRATES][RATES_MAX_WINDOWS];
    int nwindows[PERSONA_NRATES];
    rentry *ent;
    size_t nsets;
    pthread_mutex_t mu[NLOCKS];
};

rates *rates_new(long max_entries)
{
    rates *r = xcalloc(1, sizeof *r);
    size_t sets = 1;
    while (sets * WAYS < (size_t)(max_entries < WAYS ? WAYS : max_entries))
        sets <<= 1;
    r->nsets = sets;
    r->ent = xcalloc(sets * WAYS, sizeof *r->ent);
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_init(&r->mu[i], NULL);
    return r;
}

void rates_free(rates *r)
{
    if (!r)
        return;
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_destroy(&r->mu[i]);
    free(r->ent);
    free(r);
}

int rates_add_window(rates *r, persona_fact f, long window)
{
    int k = (int)f - PF_NSCALAR;
    if (k < 0 || k >= PERSONA_NRATES || window < 1)
        return -1;
    for (int i = 0; i < r->nwindows[k]; i++)
        if (r->windows[k][i] == window)
            return 0;
    if (r->nwindows[k] == RATES_MAX_WINDOWS)
        return -1;
    r->windows[k][r->nwindows[k]++] = window;
    return 0;
}

/* FNV-1a 64 of the fact and the key (never 0). */
static uint64_t key_hash(persona_fact f, const char *key)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)f;
    h *= 1099511628211ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        h ^= *p >= 'A' && *p <= 'Z' ? *p + 32 : *p;
        h *= 1099511628211ULL;
    }
    return h ? h : 1;
}

static int64_t slot_width(long window)
{
    return (window + RATES_SLOTS - 1) / RATES_SLOTS;
}

/* The entry of h in its (locked) set; created when create is set, else NULL if absent. */
static rentry *find(rates *r, uint64_t h, int64_t now, int create)
{
    rentry *set = &r->ent[(h & (r->nsets - 1)) * WAYS];
    rentry *victim = &set[0];
    for (int i = 0; i < WAYS; i++) {
        if (set[i].key == h) {
            set[i].used = now;
            return &set[i];
        }
        if (set[i].key == 0 || (victim->key && set[i].used < victim->used))
            victim = &set[i];
    }
    if (!create)
        return NULL;
    memset(victim, 0, sizeof *victim);
    victim->key = h;
    victim->used = now;
    return victim;
}

static pthread_mutex_t *lock_of(rates *r, uint64_t h)
{
    return &r->mu[(h & (r->nsets - 1)) % NLOCKS];
}

void rates_count(rates *r, persona_fact f, const char *key, time_t now)
{
    int k = (int)f - PF_NSCALAR;
    if (k < 0 || k >= PERSONA_NRATES || !r->nwindows[k])
        return;
    uint64_t h = key_hash(f, key);
    pthread_mutex_t *mu = lock_of(r, h);
    pthread_mutex_lock(mu);
    rentry *e = find(r, h, (int64_t)now, 1);
    for (int w = 0; w < r->nwindows[k]; w++) {
        int64_t idx = (int64_t)now / slot_width(r->windows[k][w]);
        if (idx > e->newest[w]) {
            /* clear the slots between the newest and now */
            int64_t from = e->newest[w] + 1;
            if (idx - from >= RATES_SLOTS || e->newest[w] == 0)
                from = idx - RATES_SLOTS + 1;
            for (int64_t j = from; j <= idx; j++)
                e->slot[w][(uint64_t)j % RATES_SLOTS] = 0;
            e->newest[w] = idx;
        }
        if (idx > e->newest[w] - RATES_SLOTS) /* a clock set back counts in its slot */
            e->slot[w][(uint64_t)idx % RATES_SLOTS]++;
    }
    pthread_mutex_unlock(mu);
}

long rates_get(rates *r, persona_fact f, const char *key, long window, time_t now)
{
    int k = (int)f - PF_NSCALAR;
    if (k < 0 || k >= PERSONA_NRATES)
        return 0;
    int w = 0;
    while (w < r->nwindows[k] && r->windows[k][w] != window)
        w++;
    if (w == r->nwindows[k])
        return 0;
    uint64_t h = key_hash(f, key);
    pthread_mutex_t *mu = lock_of(r, h);
    pthread_mutex_lock(mu);
    long n = 0;
    rentry *e = find(r, h, (int64_t)now, 0);
    if (e) {
        int64_t idx = (int64_t)now / slot_width(window);
        for (int64_t j = e->newest[w]; j > e->newest[w] - RATES_SLOTS && j > idx - RATES_SLOTS; j--)
            if (j <= idx)
                n += e->slot[w][(uint64_t)j % RATES_SLOTS];
    }
    pthread_mutex_unlock(mu);
    return n;
}

size_t rates_entries(rates *r)
{
    size_t n = 0;
    for (int i = 0; i < NLOCKS; i++)
        pthread_mutex_lock(&r->mu[i]);
    for (size_t i = 0; i < r->nsets * WAYS; i++)
        n += r->ent[i].key != 0;
    for (int i = NLOCKS - 1; i >= 0; i--)
        pthread_mutex_unlock(&r->mu[i]);
    return n;
}
