/* auth_odmarc.c — DMARC evaluation by libopendmarc (auth_odmarc.h). */
#include <opendmarc/dmarc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_odmarc.h"
#include "util.h"

/* libopendmarc's own organisational-domain function (opendmarc_tld.c), exported by the
 * library but missing from dmarc.h. */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

#define PUBLIC_SUFFIX_LIST "/usr/share/publicsuffix/public_suffix_list.dat"

static pthread_once_t dmarc_once = PTHREAD_ONCE_INIT;
static OPENDMARC_LIB_T dmarc_lib;
static int have_psl;

static void dmarc_init(void)
{
    memset(&dmarc_lib, 0, sizeof dmarc_lib);
    have_psl = access(PUBLIC_SUFFIX_LIST, R_OK) == 0;
    dmarc_lib.tld_type = have_psl ? OPENDMARC_TLD_TYPE_MOZILLA : OPENDMARC_TLD_TYPE_NONE;
    if (have_psl)
        snprintf((char *)dmarc_lib.tld_source_file, sizeof dmarc_lib.tld_source_file, "%s",
                 PUBLIC_SUFFIX_LIST);
    opendmarc_policy_library_init(&dmarc_lib);
}

void odm_org_domain(const char *domain, char *out, size_t n)
{
    pthread_once(&dmarc_once, dmarc_init);
    char d[256];
    snprintf(d, sizeof d, "%s", domain);
    bs_lower(d);
    if (!have_psl || opendmarc_get_tld((u_char *)d, (u_char *)out, n) != 0 || !*out) {
        /* no list: the last two labels */
        const char *p = d + strlen(d), *cut = d;
        int dots = 0;
        while (p > d) {
            p--;
            if (*p == '.' && ++dots == 2) {
                cut = p + 1;
                break;
            }
        }
        snprintf(out, n, "%s", cut);
    }
}

static int policy_of(int p)
{
    switch (p) {
    case DMARC_RECORD_P_NONE:
        return ODM_P_NONE;
    case DMARC_RECORD_P_QUARANTINE:
        return ODM_P_QUARANTINE;
    case DMARC_RECORD_P_REJECT:
        return ODM_P_REJECT;
    default:
        return ODM_P_UNKNOWN;
    }
}

void odm_eval(const char *from_domain, const char *record, const char *client_ip,
              const odm_sig *sigs, size_t nsigs, const char *spf_domain, int spf_outcome,
              odm_out *out)
{
    pthread_once(&dmarc_once, dmarc_init);
    *out = (odm_out){.result = ODM_R_TEMPERROR};
    int v6 = client_ip && strchr(client_ip, ':');
    DMARC_POLICY_T *p =
        opendmarc_policy_connect_init((u_char *)(client_ip ? client_ip : "0.0.0.0"),
                                      v6 ? DMARC_POLICY_IP_TYPE_IPV6 : DMARC_POLICY_IP_TYPE_IPV4);
    if (!p)
        return;
    char org[256] = "";
    odm_org_domain(from_domain, org, sizeof org);
    opendmarc_policy_store_from_domain(p, (u_char *)from_domain);
    int st = opendmarc_policy_store_dmarc(p, (u_char *)record, (u_char *)from_domain,
                                          strcmp(org, from_domain) ? (u_char *)org : NULL);
    if (st != DMARC_PARSE_OKAY) {
        out->result = ODM_R_PERMERROR;
        opendmarc_policy_connect_shutdown(p);
        return;
    }
    for (size_t i = 0; i < nsigs; i++)
        opendmarc_policy_store_dkim(p, (u_char *)sigs[i].domain, (u_char *)sigs[i].selector,
                                    sigs[i].outcome, NULL);
    if (spf_domain && *spf_domain)
        opendmarc_policy_store_spf(p, (u_char *)spf_domain, spf_outcome,
                                   DMARC_POLICY_SPF_ORIGIN_MAILFROM, NULL);
    int enforce = opendmarc_get_policy_to_enforce(p);
    int da = 0, sa = 0, pv = 0, sp = 0, pct = 0, adkim = 0, aspf = 0;
    opendmarc_policy_fetch_alignment(p, &da, &sa);
    opendmarc_policy_fetch_p(p, &pv);
    opendmarc_policy_fetch_sp(p, &sp);
    opendmarc_policy_fetch_pct(p, &pct);
    opendmarc_policy_fetch_adkim(p, &adkim);
    opendmarc_policy_fetch_aspf(p, &aspf);
    opendmarc_policy_connect_shutdown(p);
    out->dkim_aligned = da == DMARC_POLICY_DKIM_ALIGNMENT_PASS;
    out->spf_aligned = sa == DMARC_POLICY_SPF_ALIGNMENT_PASS;
    out->policy = policy_of(pv);
    out->sp = sp ? policy_of(sp) : out->policy;
    out->pct = pct;
    out->adkim_strict = adkim == DMARC_RECORD_A_STRICT;
    out->aspf_strict = aspf == DMARC_RECORD_A_STRICT;
    switch (enforce) {
    case DMARC_POLICY_PASS:
        out->result = ODM_R_PASS;
        break;
    case DMARC_POLICY_REJECT:
    case DMARC_POLICY_QUARANTINE:
    case DMARC_POLICY_NONE:
        out->result = ODM_R_FAIL;
        break;
    case DMARC_POLICY_ABSENT:
        out->result = ODM_R_NONE;
        break;
    default:
        out->result = ODM_R_PERMERROR;
    }
}
