/* auth_dmarc.c — the header facts of a message (auth.h). DMARC itself is auth_odmarc.c
 * (libopendmarc's macros clash with auth.h's DMARC_POLICY_* names, so it stays apart). */
#include <ctype.h>
#include <gmime/gmime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "auth.h"
#include "auth_odmarc.h"
#include "util.h"

void auth_org_domain(const char *domain, char *out, size_t n)
{
    odm_org_domain(domain, out, n);
}

static int outcome_of(auth_result r)
{
    switch (r) {
    case AUTH_PASS:
        return ODM_PASS;
    case AUTH_FAIL:
    case AUTH_SOFTFAIL:
    case AUTH_NEUTRAL:
    case AUTH_PERMERROR:
        return ODM_FAIL;
    case AUTH_TEMPERROR:
        return ODM_TEMP;
    default:
        return ODM_NONE;
    }
}

void auth_dmarc_eval(auth_results *r, const char *from_domain, const char *record,
                     int lookup_failed, const char *client_ip)
{
    auth_dmarc *d = &r->dmarc;
    free(d->from_domain);
    *d = (auth_dmarc){.result = AUTH_NONE};
    if (!from_domain || !*from_domain) {
        d->result = AUTH_PERMERROR; /* no RFC5322.From domain to evaluate */
        return;
    }
    d->from_domain = xstrdup(from_domain);
    bs_lower(d->from_domain);
    if (lookup_failed) {
        d->result = AUTH_TEMPERROR;
        return;
    }
    if (!record)
        return; /* none: no policy published */
    odm_sig *sigs = xcalloc(r->dkim.nsigs + 1, sizeof *sigs);
    size_t n = 0;
    for (size_t i = 0; i < r->dkim.nsigs; i++)
        if (r->dkim.sigs[i].domain && *r->dkim.sigs[i].domain)
            sigs[n++] = (odm_sig){r->dkim.sigs[i].domain,
                                  r->dkim.sigs[i].selector ? r->dkim.sigs[i].selector : "",
                                  outcome_of(r->dkim.sigs[i].result)};
    odm_out o;
    odm_eval(d->from_domain, record, client_ip, sigs, n,
             r->spf.result != AUTH_OFF ? r->spf.domain : NULL, outcome_of(r->spf.result), &o);
    free(sigs);
    static const auth_result results[] = {
        [ODM_R_NONE] = AUTH_NONE,           [ODM_R_PASS] = AUTH_PASS,
        [ODM_R_FAIL] = AUTH_FAIL,           [ODM_R_PERMERROR] = AUTH_PERMERROR,
        [ODM_R_TEMPERROR] = AUTH_TEMPERROR,
    };
    static const auth_dmarc_policy policies[] = {
        [ODM_P_UNKNOWN] = DMARC_POLICY_UNKNOWN,
        [ODM_P_NONE] = DMARC_POLICY_NONE,
        [ODM_P_QUARANTINE] = DMARC_POLICY_QUARANTINE,
        [ODM_P_REJECT] = DMARC_POLICY_REJECT,
    };
    d->result = results[o.result];
    d->policy = policies[o.policy];
    d->subdomain_policy = policies[o.sp];
    d->pct = o.pct;
    d->adkim = o.adkim_strict ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED;
    d->aspf = o.aspf_strict ? DMARC_ALIGN_STRICT : DMARC_ALIGN_RELAXED;
    d->dkim_aligned = o.dkim_aligned;
    d->spf_aligned = o.spf_aligned;
}

/* ---- header facts ------------------------------------------------------------------ */

static pthread_once_t gmime_once = PTHREAD_ONCE_INIT;
static void gmime_init(void)
{
    g_mime_init();
}

/* The domain of the first mailbox of a From field value (lower case), or NULL. */
static char *from_domain_of(const char *value)
{
    pthread_once(&gmime_once, gmime_init);
    InternetAddressList *l = internet_address_list_parse(NULL, value);
    char *dom = NULL;
    if (l && internet_address_list_length(l) > 0) {
        InternetAddress *a = internet_address_list_get_address(l, 0);
        if (INTERNET_ADDRESS_IS_MAILBOX(a)) {
            const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(a));
            const char *at = addr ? strrchr(addr, '@') : NULL;
            if (at && at[1]) {
                dom = xstrdup(at + 1);
                bs_lower(dom);
            }
        }
    }
    if (l)
        g_object_unref(l);
    return dom;
}

#define MAX_FIELDS 1000 /* header fields looked at; a bigger header counts the first ones */

void auth_header_facts(const char *msg, size_t len, const auth_dkim *dkim, auth_headers *out)
{
    *out = (auth_headers){0};
    const char **names = xcalloc(MAX_FIELDS, sizeof *names);
    size_t *lens = xcalloc(MAX_FIELDS, sizeof *lens);
    size_t nf = 0, from_at = 0;
    long lu = -1, lup = -1; /* field index of the last List-Unsubscribe(-Post) */
    const char *p = msg, *end = msg + len;
    bs_buf from;
    buf_init(&from);
    int in_from = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t n = (size_t)(le - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n == 0)
            break; /* end of the header */
        if (*p == ' ' || *p == '\t') {
            if (in_from)
                buf_append(&from, p, n);
        } else {
            const char *colon = memchr(p, ':', n);
            in_from = 0;
            if (colon && nf < MAX_FIELDS) {
                size_t nl_ = (size_t)(colon - p);
                while (nl_ && (p[nl_ - 1] == ' ' || p[nl_ - 1] == '\t'))
                    nl_--;
                names[nf] = p;
                lens[nf] = nl_;
#define IS(s) (nl_ == sizeof s - 1 && strncasecmp(p, s, nl_) == 0)
                if (IS("From")) {
                    if (out->from_count++ == 0) {
                        in_from = 1;
                        from_at = nf;
                        buf_append(&from, colon + 1, (size_t)(p + n - colon - 1));
                    }
                } else if (IS("Message-ID")) {
                    out->has_message_id = 1;
                } else if (IS("Date")) {
                    out->has_date = 1;
                } else if (IS("List-Unsubscribe")) {
                    out->list_unsubscribe = 1;
                    lu = (long)nf;
                } else if (IS("List-Unsubscribe-Post")) {
                    out->list_unsubscribe_post = 1;
                    lup = (long)nf;
                }
#undef IS
                nf++;
            }
        }
        p = nl ? nl + 1 : end;
    }
    (void)from_at;
    buf_putc(&from, 0);
    if (out->from_count)
        out->from_domain = from_domain_of(from.data);
    buf_free(&from);
    if (lu >= 0 && lup >= 0 && dkim && dkim->cover.pass && dkim->cover.h) {
        unsigned char *covered = xcalloc(nf ? nf : 1, 1);
        sig_cover_fields(dkim->cover.h, names, lens, nf, covered);
        out->list_unsubscribe_signed = covered[lu] && covered[lup];
        free(covered);
    }
    free(names);
    free(lens);
}

void auth_headers_clear(auth_headers *h)
{
    free(h->from_domain);
    *h = (auth_headers){0};
}
