/* mx.h — where a report goes: MX lookup of the Return-Path domain and the backscatter guard.
 *
 * Lookup (SPEC A6): the MX of the lowest preference; no MX record → the domain's A (or
 * AAAA) record, the domain itself being the host; a null MX (RFC 7505), NXDOMAIN or no
 * address at all → none. Done with libresolv (res_nquery, ns_parserr), optionally against
 * one given name server; static answers ([Smtp] MX_Override) are consulted first.
 * Answers (also negative ones) are cached for a few minutes, so a stream of messages from
 * one sender costs one lookup.
 *
 * Guard: only an MX host that is a key of [RP_MX_domain_allowlist] (→ its FBL address) or
 * that ends in e.sparkpost.com (→ fbl@<first label>.mail.e.sparkpost.com) receives reports.
 */
#ifndef ACT_SMTP_MX_H
#define ACT_SMTP_MX_H

#include <stddef.h>

typedef enum { MX_FOUND, MX_NONE, MX_TEMPFAIL } mx_status;

typedef struct mx_resolver mx_resolver;

/* overrides: "domain=mxhost" items (empty mxhost: the domain has no MX and no address).
 * ns_host/ns_port: a single IPv4/IPv6 name server to ask instead of /etc/resolv.conf
 * (NULL: the system's). timeout: seconds per query. NULL with *err on a bad item. */
mx_resolver *mx_new(const char *const *overrides, size_t n_overrides, const char *ns_host,
                    int ns_port, int timeout, char **err);
void mx_free(mx_resolver *r);

/* *host (caller frees) on MX_FOUND; *why (caller frees) on MX_NONE and MX_TEMPFAIL. */
mx_status mx_lookup(mx_resolver *r, const char *domain, char **host, char **why);

/* Allow-list: parallel arrays of MX host names and FBL addresses. */
typedef struct {
    const char *const *mx;
    const char *const *fbl;
    size_t n;
} mx_allowlist;

/* FBL address for an MX host (caller frees), or NULL when the host is not allowed. */
char *mx_fbl_address(const mx_allowlist *al, const char *mxhost);

#endif
