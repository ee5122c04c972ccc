/* auth.c — message authentication: glue between the configuration, the DKIM verifier
 * (auth_dkim.c) and the SPF checker (auth_spf.c), and the record form of their outcome.
 * See auth.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth_dkim.h"
#include "auth_spf.h"
#include "params.h"
#include "util.h"

struct auth_ctx {
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

static json_t *sig_json(const auth_dkim_sig *s)
{
    return json_pack("{s:s,s:s,s:s,s:s}", "result", auth_result_name(s->result), "domain",
                     s->domain ? s->domain : "", "selector", s->selector ? s->selector : "",
                     "reason", s->reason ? s->reason : "");
}

void auth_json(const auth_results *r, json_t *rec)
{
    json_t *list = json_array();
    for (size_t i = 0; i < r->dkim.nsigs; i++)
        json_array_append_new(list, sig_json(&r->dkim.sigs[i]));
    json_t *dkim = sig_json(auth_dkim_verdict(&r->dkim));
    json_object_set_new(dkim, "signatures", list);
    json_object_set_new(rec, "dkim", dkim);
    if (r->spf.result == AUTH_OFF)
        json_object_set_new(rec, "spf", json_pack("{s:s}", "result", "off"));
    else
        json_object_set_new(rec, "spf",
                            json_pack("{s:s,s:s,s:s}", "result", auth_result_name(r->spf.result),
                                      "domain", r->spf.domain ? r->spf.domain : "", "reason",
                                      r->spf.reason ? r->spf.reason : ""));
}
