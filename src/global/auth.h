/* auth.h — message authentication, shared by the programs: DKIM (libopendkim), SPF
 * (libspf2) and the shape of DMARC, for one message and the facts of its envelope.
 *
 * ingest runs it on every stored message (the facts come from the trace header listen
 * wrote); listen can run it at the end of DATA with the facts of its SMTP session. The
 * outcome is data (auth_results); auth_json renders it as the "dkim" and "spf" objects of
 * a "message" record (bouncy-sink-records(5)).
 *
 * One auth_ctx per thread (libopendkim and libspf2 handles are not shared across threads).
 * Keys come from DNS, or from [Verify] DKIM_Key_File (OpenDKIM's file query method: lines
 * "selector._domainkey.domain TXT-record-text"). [Verify] SPF = off leaves SPF unevaluated.
 *
 * Ownership: auth_check fills an auth_results the caller owns and clears with
 * auth_results_clear; every string in it is owned by it and never NULL unless said.
 */
#ifndef BS_GLOBAL_AUTH_H
#define BS_GLOBAL_AUTH_H

#include <jansson.h>
#include <stddef.h>

#include "auth_signed.h"
#include "config.h"
#include "util.h"

/* A result (RFC 8601 words, auth_result_name), for DKIM, SPF and DMARC alike. */
typedef enum {
    AUTH_NONE,
    AUTH_PASS,
    AUTH_FAIL,
    AUTH_SOFTFAIL, /* SPF only */
    AUTH_NEUTRAL,  /* SPF only */
    AUTH_TEMPERROR,
    AUTH_PERMERROR,
    AUTH_OFF, /* not evaluated: [Verify] SPF = off; DMARC, always for now */
} auth_result;

/* "none", "pass", ... "off". */
const char *auth_result_name(auth_result r);

/* The facts of the envelope; any of them NULL when unknown (SPF is then "none" with a
 * reason). mail_from may be written "<a@b>" (as in a Return-Path); "" is the null sender. */
typedef struct {
    const char *client_ip;
    const char *helo;
    const char *mail_from;
} auth_envelope;

/* One DKIM signature's outcome, or a message's when no signature decides. */
typedef struct {
    auth_result result; /* none pass fail temperror permerror */
    char *domain;       /* d= ("" when unknown) */
    char *selector;     /* s= ("" when unknown) */
    char *reason;       /* why it did not pass ("" on pass) */
    char *h;            /* a passing signature's h= tag (NULL otherwise): what it covers
                           (auth_signed.h), e.g. for RFC 9477 CFBL (cfbl.h) */
} auth_dkim_sig;

typedef struct {
    auth_dkim_sig *sigs; /* every DKIM-Signature field, top to bottom; at most 8 are
                            verified, the others are permerrors */
    size_t nsigs;
    int chosen;            /* the signature that decides: the first that passed, else the
                              first; -1 when there is none */
    auth_dkim_sig message; /* when chosen is -1: none ("no signature"), temperror (the
                              verifier could not start) or permerror (a DKIM-Signature field
                              the library could not parse) */
    sig_cover cover;       /* what the chosen signature covers, when it passed (cover.pass) */
} auth_dkim;

/* The outcome that decides: sigs[chosen], or message. */
const auth_dkim_sig *auth_dkim_verdict(const auth_dkim *d);

typedef struct {
    auth_result result; /* pass fail softfail neutral none temperror permerror, or off */
    char *domain;       /* the domain checked ("" when none; NULL when off) */
    char *reason;       /* "" on pass (NULL when off) */
} auth_spf;

/* DMARC (RFC 7489): auth_check leaves result AUTH_OFF (ingest does not evaluate it);
 * auth_dmarc_eval fills it (listen, when facts are computed). auth_json writes nothing
 * for it. */
typedef enum {
    DMARC_POLICY_UNKNOWN, /* no record found (or not evaluated) */
    DMARC_POLICY_NONE,
    DMARC_POLICY_QUARANTINE,
    DMARC_POLICY_REJECT,
} auth_dmarc_policy;

typedef enum {
    DMARC_ALIGN_RELAXED, /* adkim=r / aspf=r, the default: organisational domains match */
    DMARC_ALIGN_STRICT,  /* adkim=s / aspf=s: the domains are equal */
} auth_dmarc_align;

typedef struct {
    auth_result result;                 /* pass fail none temperror permerror; off */
    char *from_domain;                  /* the RFC5322.From domain (NULL when unknown) */
    auth_dmarc_policy policy;           /* p= */
    auth_dmarc_policy subdomain_policy; /* sp= */
    int pct;                            /* pct= */
    auth_dmarc_align adkim, aspf;       /* the record's alignment modes */
    int dkim_aligned;                   /* a passing signature's d= aligns with from_domain */
    int spf_aligned;                    /* SPF passed for a domain aligned with it */
} auth_dmarc;

typedef struct {
    auth_dkim dkim;
    auth_spf spf;
    auth_dmarc dmarc;
} auth_results;

typedef struct auth_ctx auth_ctx;

/* NULL on a configuration error, with *err (caller frees) in the FILE:LINE: form. */
auth_ctx *auth_new(bs_config *cfg, char **err);
void auth_free(auth_ctx *a);

/* msg/len: the whole message as stored (header, empty line, body), CRLF or LF line ends.
 * env: its envelope facts (NULL: all unknown). *out is overwritten; auth_results_clear it
 * after use. */
void auth_check(auth_ctx *a, const char *msg, size_t len, const auth_envelope *env,
                auth_results *out);
void auth_results_clear(auth_results *r);
/* SPF alone (listen asks at MAIL): *out overwritten (result off when [Verify] SPF = off). */
void auth_check_spf(auth_ctx *a, const auth_envelope *env, auth_spf *out);

/* Sets rec's "dkim" and "spf" objects (bouncy-sink-records(5)) from r. */
void auth_json(const auth_results *r, json_t *rec);

/* DMARC (RFC 7489) for a message whose DKIM and SPF outcomes are in r, by libopendmarc:
 * fills r->dmarc. from_domain: the RFC5322.From domain (NULL: none, permerror); record:
 * the DMARC record found (at _dmarc.<from_domain>, else at _dmarc.<organisational
 * domain>), NULL when none (result none); lookup_failed: the record lookup failed
 * (temperror). Results: pass (an aligned identifier passed), fail (none did; p= says what
 * the owner wants), none, temperror, permerror (a record libopendmarc cannot parse). */
void auth_dmarc_eval(auth_results *r, const char *from_domain, const char *record,
                     int lookup_failed, const char *client_ip);
/* The organisational domain of domain (public suffix list; without it, the last two
 * labels), lower case, into out. */
void auth_org_domain(const char *domain, char *out, size_t n);

/* Header facts of a message (the header section of msg/len), for the persona rules. */
typedef struct {
    int from_count;    /* From fields */
    char *from_domain; /* the domain of the first From's first mailbox, or NULL */
    int has_message_id, has_date;
    int list_unsubscribe, list_unsubscribe_post;
    int list_unsubscribe_signed; /* both, each covered by the passing signature of dkim */
} auth_headers;
void auth_header_facts(const char *msg, size_t len, const auth_dkim *dkim, auth_headers *out);
void auth_headers_clear(auth_headers *h);

/* The Authentication-Results field (RFC 8601) listen writes above its Received field:
 *   Authentication-Results: <authserv_id>; iprev=pass policy.iprev=192.0.2.1 (ptr.name);
 *       spf=pass smtp.mailfrom=a@b; dkim=pass header.d=b header.s=s1;
 *       dmarc=pass (p=reject sp=reject pct=100 adkim=r aspf=r dkim_aligned=1
 *       spf_aligned=1) header.from=b
 * iprev (an iprev result name) and ptr may be NULL (no iprev clause). Appends one field,
 * folded, CRLF ended, to out. */
#define AUTH_AR_FIELD "Authentication-Results"
void auth_ar_header(const auth_results *r, const char *authserv_id, const char *client_ip,
                    const char *iprev, const char *ptr, bs_buf *out);

/* auth_check for a message listen has already checked: when the trusted
 * Authentication-Results field (the one listen wrote above its Received field with our
 * authserv-id, [Listen] Hostname; a sender's own field never counts) says dkim=pass for every
 * signature, and the message's DKIM-Signature fields are exactly those (same number,
 * domains and selectors, in order), listen's verdicts are taken instead of verifying
 * again (no key lookup, body hash or RSA; the same bytes were verified when listen
 * received them); any other case (no such field, a forged one, another result, other
 * signatures) verifies as auth_check. *listen_ar (NULL when none) is the trusted field
 * parsed as auth_ar_parse gives it (auth_ar.h), the record's "listen_auth"; the caller
 * owns it. *reused says whether listen's verdicts were taken. */
void auth_check_reusing(auth_ctx *a, const char *msg, size_t len, const auth_envelope *env,
                        auth_results *out, json_t **listen_ar, int *reused);

#endif
