/* auth_odmarc.h — libopendmarc behind plain types (private to the auth module): its
 * macros (DMARC_POLICY_REJECT, ...) clash with auth.h's names, so no file includes both. */
#ifndef BS_GLOBAL_AUTH_ODMARC_H
#define BS_GLOBAL_AUTH_ODMARC_H

#include <stddef.h>

/* Outcomes of an identifier, as libopendmarc numbers them. */
enum { ODM_NONE = 0, ODM_PASS = 1, ODM_FAIL = 2, ODM_TEMP = 3 };
/* Results and policies. */
enum { ODM_R_NONE, ODM_R_PASS, ODM_R_FAIL, ODM_R_PERMERROR, ODM_R_TEMPERROR };
enum { ODM_P_UNKNOWN, ODM_P_NONE, ODM_P_QUARANTINE, ODM_P_REJECT };

typedef struct {
    const char *domain, *selector;
    int outcome; /* ODM_* */
} odm_sig;

typedef struct {
    int result;     /* ODM_R_* */
    int policy, sp; /* ODM_P_* (sp: p when the record has none) */
    int pct;
    int adkim_strict, aspf_strict;
    int dkim_aligned, spf_aligned;
} odm_out;

/* Evaluates the DMARC record text (found for from_domain or its organisational domain). */
void odm_eval(const char *from_domain, const char *record, const char *client_ip,
              const odm_sig *sigs, size_t nsigs, const char *spf_domain, int spf_outcome,
              odm_out *out);
/* The organisational domain (public suffix list, else the last two labels). */
void odm_org_domain(const char *domain, char *out, size_t n);

#endif
