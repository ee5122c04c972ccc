/* personas.c — [Personas]: loading, recipients' personas, facts for the engine. */
#include "personas.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "params.h"
#include "util.h"

#define S "Personas"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static long find_persona(const lpersonas *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].name, name) == 0)
            return (long)i;
    return -1;
}

typedef struct {
    rates *rates;
    int bad; /* a fact with too many windows, or -1 */
} window_ctx;

static void add_window(void *ctx, persona_fact f, long window)
{
    window_ctx *w = ctx;
    if (rates_add_window(w->rates, f, window) < 0)
        w->bad = (int)f;
}

/* Loads every NAME.persona of dir, in name order. */
static int load_dir(bs_config *cfg, lpersonas *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return cfg_fail(cfg, S, "Dir", "cannot open %s: %s", dir, strerror(errno));
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l > 8 && strcmp(e->d_name + l - 8, ".persona") == 0 && e->d_name[0] != '.') {
            names = xrealloc(names, (nn + 1) * sizeof *names);
            names[nn++] = xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (nn)
        qsort(names, nn, sizeof *names, cmp_names);
    int rc = 0;
    p->v = xcalloc(nn ? nn : 1, sizeof *p->v);
    for (size_t i = 0; i < nn; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        char *err = NULL;
        if (rc == 0 && persona_load(path, &p->v[p->n], &err) < 0) {
            rc = cfg_fail(cfg, S, "Dir", "%s", err);
            free(err);
        } else if (rc == 0) {
            p->n++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    return rc;
}

int lpersonas_load(bs_config *cfg, lpersonas **out)
{
    *out = NULL;
    const char *dir;
    if (param_file(cfg, S, "Dir", &dir) < 0)
        return -1;
    struct stat st;
    if (!cfg_get(cfg, S, "Dir") && stat(dir, &st) < 0)
        return 0; /* the default directory is not there: no personas */
    const char *const *items;
    size_t nitems;
    char **defaults = NULL;
    size_t ndefaults = 0;
    if (cfg_get(cfg, S, "Labels")) {
        if (cfg_list(cfg, S, "Labels", &items, &nitems) < 0)
            return -1;
        if (nitems == 1 && strcasecmp(items[0], "none") == 0)
            nitems = 0;
    } else {
        ndefaults = param_default_list(S, "Labels", &defaults);
        items = (const char *const *)defaults;
        nitems = ndefaults;
    }
    const char *mixed = cfg_get(cfg, S, "Mixed");
    int rc = 0;
    lpersonas *p = xcalloc(1, sizeof *p);
    p->mixed = -1;
    long max_entries;
    if (param_long(cfg, S, "Max_Rate_Entries", 16, 100000000, &max_entries) < 0) {
        rc = -1;
        goto done;
    }
    if (nitems == 0 && !mixed)
        goto done;
    p->rates = rates_new(max_entries);
    if ((rc = load_dir(cfg, p, dir)) < 0)
        goto done;
    p->labels = xcalloc(nitems ? nitems : 1, sizeof *p->labels);
    for (size_t i = 0; i < nitems && rc == 0; i++) {
        const char *eq = strchr(items[i], '=');
        char *label = eq ? xstrndup(items[i], (size_t)(eq - items[i])) : xstrdup(items[i]);
        const char *name = eq ? eq + 1 : items[i];
        while (*name == ' ')
            name++;
        size_t ll = strlen(label);
        while (ll && label[ll - 1] == ' ')
            label[--ll] = 0;
        bs_lower(label);
        long k = find_persona(p, name);
        if (!ll || strchr(label, '.'))
            rc = cfg_fail(cfg, S, "Labels", "'%s' is not one DNS label", label);
        else if (k < 0)
            rc = cfg_fail(cfg, S, "Labels", "no persona '%s' in %s", name, dir);
        if (rc < 0) {
            free(label);
            break;
        }
        p->labels[p->nlabels].label = label;
        p->labels[p->nlabels++].persona = (size_t)k;
    }
    p->rcpt_facts = xcalloc(p->n ? p->n : 1, sizeof *p->rcpt_facts);
    for (size_t i = 0; i < p->n; i++) {
        unsigned long used = persona_facts_used(&p->v[i], PST_RCPT);
        if (used & (1UL << PF_PTR | 1UL << PF_FCRDNS | 1UL << PF_IPREV))
            p->rcpt_facts[i] |= FACT_RDNS;
        if (used & 1UL << PF_SPF)
            p->rcpt_facts[i] |= FACT_SPF;
    }
    if (rc == 0 && mixed && (p->mixed = find_persona(p, mixed)) < 0)
        rc = cfg_fail(cfg, S, "Mixed", "no persona '%s' in %s", mixed, dir);
    for (size_t i = 0; i < p->n && rc == 0; i++) {
        window_ctx w = {p->rates, -1};
        persona_rates(&p->v[i], add_window, &w);
        int bad = w.bad;
        if (bad >= 0)
            rc =
                cfg_fail(cfg, S, "Dir", "the personas use more than %d windows for %s (persona %s)",
                         RATES_MAX_WINDOWS, persona_fact_names[bad], p->v[i].name);
    }
done:
    for (size_t i = 0; i < ndefaults; i++)
        free(defaults[i]);
    free(defaults);
    if (rc < 0 || (p->nlabels == 0 && p->mixed < 0)) {
        lpersonas_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void lpersonas_free(lpersonas *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        persona_free(&p->v[i]);
    free(p->v);
    for (size_t i = 0; i < p->nlabels; i++)
        free(p->labels[i].label);
    free(p->labels);
    free(p->rcpt_facts);
    rates_free(p->rates);
    free(p);
}

long lpersonas_for(const lpersonas *p, const char *domain, const char *stream, char *const *sinks,
                   size_t nsinks)
{
    if (!p || !stream || strcmp(stream, "mixed") != 0)
        return -1;
    for (size_t i = 0; i < nsinks; i++)
        if (strcmp(domain, sinks[i]) == 0)
            return p->mixed; /* the sink domain itself */
    const char *dot = strchr(domain, '.');
    size_t ln = dot ? (size_t)(dot - domain) : strlen(domain);
    for (size_t i = 0; i < p->nlabels; i++)
        if (strlen(p->labels[i].label) == ln && strncmp(domain, p->labels[i].label, ln) == 0)
            return (long)p->labels[i].persona;
    return p->mixed;
}

const char *lpersonas_sending_domain(const listen_facts *f)
{
    if (!(f->known & FACT_MESSAGE))
        return NULL;
    const auth_dkim_sig *v = auth_dkim_verdict(&f->auth.dkim);
    if (v && v->result == AUTH_PASS && v->domain && *v->domain)
        return v->domain;
    if (f->auth.dmarc.from_domain && *f->auth.dmarc.from_domain)
        return f->auth.dmarc.from_domain;
    return NULL;
}

long lpersonas_rate(void *ctx, persona_fact f, long window)
{
    lpersonas_rate_ctx *rc = ctx;
    const char *key = f == PF_DOMAIN_MSGS ? rc->domain : rc->client_ip;
    if (!rc->rates || !key)
        return 0;
    return rates_get(rc->rates, f, key, window, rc->now);
}

void lpersonas_facts(const listen_facts *lf, lpersonas_rate_ctx *rc, persona_facts *out)
{
    memset(out, 0, sizeof *out);
    out->rate = lpersonas_rate;
    out->rate_ctx = rc;
    int *v = out->v;
    v[PF_SPF] = (lf->known & FACT_SPF) ? (int)lf->auth.spf.result : AUTH_NONE;
    if (lf->known & FACT_MESSAGE) {
        const auth_dkim_sig *d = auth_dkim_verdict(&lf->auth.dkim);
        v[PF_DKIM] = d ? (int)d->result : AUTH_NONE;
        v[PF_DMARC] = (int)lf->auth.dmarc.result;
        v[PF_DMARC_POLICY] = (int)lf->auth.dmarc.policy;
        v[PF_DKIM_ALIGNED] = lf->auth.dmarc.dkim_aligned;
        v[PF_SPF_ALIGNED] = lf->auth.dmarc.spf_aligned;
        v[PF_FROM_COUNT] = lf->from_count;
        v[PF_MESSAGE_ID] = lf->has_message_id;
        v[PF_DATE] = lf->has_date;
        v[PF_LIST_UNSUB] = lf->list_unsubscribe;
        v[PF_LIST_UNSUB_POST] = lf->list_unsubscribe_signed;
    }
    static const int iprev[] = {[FCRDNS_NONE] = 0,
                                [FCRDNS_PASS] = 1,
                                [FCRDNS_FAIL] = 2,
                                [FCRDNS_NOPTR] = 3,
                                [FCRDNS_TEMPERROR] = 4};
    v[PF_IPREV] = (unsigned)lf->fcrdns < sizeof iprev / sizeof *iprev ? iprev[lf->fcrdns] : 0;
    v[PF_PTR] = lf->ptr != NULL;
    v[PF_FCRDNS] = lf->fcrdns == FCRDNS_PASS;
    v[PF_TLS] = lf->tls;
    v[PF_SIZE] = lf->size > 2000000000u ? 2000000000 : (int)lf->size;
    v[PF_RCPTS] = (int)lf->rcpts;
}
