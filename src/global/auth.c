/* auth.c — message authentication: glue between the configuration, the DKIM verifier
 * (auth_dkim.c) and the SPF checker (auth_spf.c), and the record form of their outcome.
 * See auth.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth_ar.h"
#include "auth_dkim.h"
#include "auth_spf.h"
#include "params.h"
#include "util.h"

struct auth_ctx {
    char *hostname; /* [Listen] Hostname: the authserv-id of listen's A-R field */
    dkim_verifier *dkim;
    spf_checker *spf; /* NULL when [Verify] SPF = off */
};

auth_ctx *auth_new(bs_config *cfg, char **err)
{
    const char *key_file = NULL;
    int spf_on = 1;
    *err = NULL;
    if (param_file(cfg, "Verify", "DKIM_Key_File", &key_file) < 0 ||
        param_bool(cfg, "Verify", "SPF", &spf_on) < 0) {
        *err = xstrdup(cfg_error(cfg));
        return NULL;
    }
    if (key_file && *key_file == '\0')
        key_file = NULL;
    if (key_file && access(key_file, R_OK) != 0) {
        cfg_fail(cfg, "Verify", "DKIM_Key_File", "cannot read %s: %s", key_file, strerror(errno));
        *err = xstrdup(cfg_error(cfg));
        return NULL;
    }
    auth_ctx *a = xcalloc(1, sizeof *a);
    char host[256];
    const char *hn = NULL;
    if (gethostname(host, sizeof host) != 0 || !*host)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    if (cfg_string(cfg, "Listen", "Hostname", host, &hn) < 0) {
        *err = xstrdup(cfg_error(cfg));
        free(a);
        return NULL;
    }
    a->hostname = xstrdup(hn);
    char *why = NULL;
    a->dkim = dkimv_new(key_file, &why);
    if (!a->dkim) {
        *err = xasprintf("%s: DKIM set-up failed: %s", cfg_path(cfg), why ? why : "?");
        free(why);
        auth_free(a);
        return NULL;
    }
    if (spf_on) {
        a->spf = spfc_new(&why);
        if (!a->spf) {
            *err = xasprintf("%s: SPF set-up failed: %s", cfg_path(cfg), why ? why : "?");
            free(why);
            auth_free(a);
            return NULL;
        }
    }
    return a;
}

void auth_free(auth_ctx *a)
{
    if (!a)
        return;
    if (a->dkim)
        dkimv_free(a->dkim);
    if (a->spf)
        spfc_free(a->spf);
    free(a->hostname);
    free(a);
}

static const char *const result_names[] = {
    [AUTH_NONE] = "none",           [AUTH_PASS] = "pass",       [AUTH_FAIL] = "fail",
    [AUTH_SOFTFAIL] = "softfail",   [AUTH_NEUTRAL] = "neutral", [AUTH_TEMPERROR] = "temperror",
    [AUTH_PERMERROR] = "permerror", [AUTH_OFF] = "off",
};

const char *auth_result_name(auth_result r)
{
    return (unsigned)r < sizeof result_names / sizeof result_names[0] ? result_names[r] : "?";
}

const auth_dkim_sig *auth_dkim_verdict(const auth_dkim *d)
{
    return d->chosen >= 0 && (size_t)d->chosen < d->nsigs ? &d->sigs[d->chosen] : &d->message;
}

void auth_check(auth_ctx *a, const char *msg, size_t len, const auth_envelope *env,
                auth_results *out)
{
    static const auth_envelope unknown = {0};
    if (!env)
        env = &unknown;
    *out = (auth_results){.spf = {.result = AUTH_OFF}, .dmarc = {.result = AUTH_OFF}};
    dkimv_check(a->dkim, msg, len, &out->dkim);
    if (a->spf)
        spfc_check(a->spf, env->client_ip, env->helo, env->mail_from, &out->spf);
}

void auth_check_spf(auth_ctx *a, const auth_envelope *env, auth_spf *out)
{
    static const auth_envelope unknown = {0};
    if (!env)
        env = &unknown;
    *out = (auth_spf){.result = AUTH_OFF};
    if (a->spf)
        spfc_check(a->spf, env->client_ip, env->helo, env->mail_from, out);
}

static void sig_clear(auth_dkim_sig *s)
{
    free(s->domain);
    free(s->h);
    free(s->selector);
    free(s->reason);
}

void auth_results_clear(auth_results *r)
{
    for (size_t i = 0; i < r->dkim.nsigs; i++)
        sig_clear(&r->dkim.sigs[i]);
    free(r->dkim.sigs);
    sig_clear(&r->dkim.message);
    sig_cover_clear(&r->dkim.cover);
    free(r->spf.domain);
    free(r->spf.reason);
    free(r->dmarc.from_domain);
    *r = (auth_results){.dkim = {.chosen = -1, .cover = {.l = -1}}};
}

/* An object of string members (NULL names end the list), or NULL when a value is not
 * UTF-8: what json_pack("{s:s,...}") builds, without parsing a format per record. */
static json_t *string_object(const char *const *kv)
{
    json_t *o = json_object();
    for (; kv[0]; kv += 2) {
        json_t *v = json_string(kv[1]);
        if (!v) {
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, kv[0], v);
    }
    return o;
}

static json_t *sig_json(const auth_dkim_sig *s)
{
    const char *kv[] = {
        "result",   auth_result_name(s->result),    "domain", s->domain ? s->domain : "",
        "selector", s->selector ? s->selector : "", "reason", s->reason ? s->reason : "",
        NULL};
    return string_object(kv);
}

void auth_json(const auth_results *r, json_t *rec)
{
    json_t *list = json_array();
    for (size_t i = 0; i < r->dkim.nsigs; i++)
        json_array_append_new(list, sig_json(&r->dkim.sigs[i]));
    json_t *dkim = sig_json(auth_dkim_verdict(&r->dkim));
    json_object_set_new(dkim, "signatures", list);
    json_object_set_new(rec, "dkim", dkim);
    if (r->spf.result == AUTH_OFF) {
        const char *kv[] = {"result", "off", NULL};
        json_object_set_new(rec, "spf", string_object(kv));
    } else {
        const char *kv[] = {"result", auth_result_name(r->spf.result),
                            "domain", r->spf.domain ? r->spf.domain : "",
                            "reason", r->spf.reason ? r->spf.reason : "",
                            NULL};
        json_object_set_new(rec, "spf", string_object(kv));
    }
}

static const char *const policy_names[] = {
    [DMARC_POLICY_UNKNOWN] = "unknown",
    [DMARC_POLICY_NONE] = "none",
    [DMARC_POLICY_QUARANTINE] = "quarantine",
    [DMARC_POLICY_REJECT] = "reject",
};

/* A value as written in an A-R field: a token, else a quoted-string. */
static void ar_value(bs_buf *out, const char *v)
{
    int token = *v != '\0';
    for (const char *p = v; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`{|}~@", *p)))
            token = 0;
    if (token) {
        buf_puts(out, v);
        return;
    }
    buf_putc(out, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_putc(out, '\\');
        if ((unsigned char)*p >= 0x20 && *p != 0x7f)
            buf_putc(out, *p);
    }
    buf_putc(out, '"');
}

void auth_ar_header(const auth_results *r, const char *authserv_id, const char *client_ip,
                    const char *iprev, const char *ptr, bs_buf *out)
{
    buf_printf(out, AUTH_AR_FIELD ": %s", authserv_id);
    if (iprev) {
        buf_printf(out, ";\r\n\tiprev=%s policy.iprev=", iprev);
        ar_value(out, client_ip ? client_ip : "unknown");
        if (ptr && *ptr) {
            buf_puts(out, " (");
            for (const char *p = ptr; *p; p++)
                if (isalnum((unsigned char)*p) || *p == '.' || *p == '-' || *p == '_')
                    buf_putc(out, *p);
            buf_putc(out, ')');
        }
    }
    if (r->spf.result != AUTH_OFF) {
        buf_printf(out, ";\r\n\tspf=%s smtp.mailfrom=", auth_result_name(r->spf.result));
        ar_value(out, r->spf.domain && *r->spf.domain ? r->spf.domain : "unknown");
    }
    const auth_dkim_sig *v = auth_dkim_verdict(&r->dkim);
    if (r->dkim.nsigs == 0) {
        buf_printf(out, ";\r\n\tdkim=%s", auth_result_name(v->result));
    } else {
        for (size_t i = 0; i < r->dkim.nsigs; i++) {
            const auth_dkim_sig *g = &r->dkim.sigs[i];
            buf_printf(out, ";\r\n\tdkim=%s header.d=", auth_result_name(g->result));
            ar_value(out, g->domain && *g->domain ? g->domain : "unknown");
            buf_puts(out, " header.s=");
            ar_value(out, g->selector && *g->selector ? g->selector : "unknown");
        }
    }
    if (r->dmarc.result != AUTH_OFF) {
        const auth_dmarc *d = &r->dmarc;
        buf_printf(out, ";\r\n\tdmarc=%s", auth_result_name(d->result));
        if (d->policy != DMARC_POLICY_UNKNOWN)
            buf_printf(out,
                       " policy.p=%s policy.sp=%s policy.pct=%d policy.adkim=%c policy.aspf=%c"
                       " policy.dkim-aligned=%s policy.spf-aligned=%s",
                       policy_names[d->policy], policy_names[d->subdomain_policy], d->pct,
                       d->adkim == DMARC_ALIGN_STRICT ? 's' : 'r',
                       d->aspf == DMARC_ALIGN_STRICT ? 's' : 'r', d->dkim_aligned ? "yes" : "no",
                       d->spf_aligned ? "yes" : "no");
        buf_puts(out, " header.from=");
        ar_value(out, d->from_domain && *d->from_domain ? d->from_domain : "unknown");
    }
    buf_puts(out, "\r\n");
}

/* listen's DKIM verdicts from its field ar (see auth_check_reusing): 0 and *out set, or
 * -1. */
static int adopt_listen_dkim(auth_ctx *a, const json_t *ar, const char *msg, size_t len,
                             auth_dkim *out)
{
    const json_t *results = json_object_get(ar, "results");
    const char *domains[8], *selectors[8];
    size_t n = 0, i;
    const json_t *r;
    json_array_foreach(results, i, r)
    {
        const char *method = json_string_value(json_object_get(r, "method"));
        if (!method || strcmp(method, "dkim") != 0)
            continue;
        const char *result = json_string_value(json_object_get(r, "result"));
        const char *d = json_string_value(json_object_get(r, "header.d"));
        const char *sel = json_string_value(json_object_get(r, "header.s"));
        if (!result || strcmp(result, "pass") != 0 || !d || !sel ||
            n == sizeof domains / sizeof *domains)
            return -1; /* not all passed: ours to verify (reasons, temperrors) */
        domains[n] = d;
        selectors[n++] = sel;
    }
    return n ? dkimv_adopt(a->dkim, msg, len, domains, selectors, n, out) : -1;
}

void auth_check_reusing(auth_ctx *a, const char *msg, size_t len, const auth_envelope *env,
                        auth_results *out, json_t **listen_ar, int *reused)
{
    *listen_ar = auth_ar_from_trace(msg, len, a->hostname);
    *reused = 0;
    auth_dkim dkim;
    if (!*listen_ar || adopt_listen_dkim(a, *listen_ar, msg, len, &dkim) < 0) {
        auth_check(a, msg, len, env, out);
        return;
    }
    static const auth_envelope unknown = {0};
    *out = (auth_results){.dkim = dkim, .spf = {.result = AUTH_OFF}, .dmarc = {.result = AUTH_OFF}};
    *reused = 1;
    if (a->spf)
        spfc_check(a->spf, (env ? env : &unknown)->client_ip, (env ? env : &unknown)->helo,
                   (env ? env : &unknown)->mail_from, &out->spf);
}
