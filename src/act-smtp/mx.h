/* mx.h — where a report goes: MX lookup of the Return-Path domain and the backscatter guard.
 *
 * Lookup (SPEC A6): the MX of the lowest preference; no MX record → the domain's A (or
 * AAAA) record, the domain itself being the host; a null MX (RFC 7505), NXDOMAIN or no
 * address at all → none. Done asynchronously with c-ares (answers read with libresolv's
 * ns_parserr), optionally against one given name server, so a name server that does not
 * answer holds up only the records that wait for it; static answers ([Smtp] MX_Override)
 * are consulted first. Answers (also negative ones) are cached for a few minutes, and
 * lookups of a domain already being looked up wait for that one, so a stream of messages
 * from one sender costs one lookup.
 *
 * Guard: only an MX host that is a key of [RP_MX_domain_allowlist] (→ its FBL address) or
 * a host under e.sparkpost.com (→ fbl@<first label>.mail.e.sparkpost.com) receives reports.
 * Both compare whole labels, case-insensitively (bs_domain_under: fakee.sparkpost.com is
 * not under e.sparkpost.com), and the MX host must be a host name (bs_hostname_valid).
 */
#ifndef ACT_SMTP_MX_H
#define ACT_SMTP_MX_H

#include <poll.h>
#include <stddef.h>

/* MX_OFFLINE: not looked up, the resolver is offline (mx_set_offline). */
typedef enum { MX_FOUND, MX_NONE, MX_TEMPFAIL, MX_OFFLINE } mx_status;

typedef struct mx_resolver mx_resolver;

/* overrides: "domain=mxhost" items (empty mxhost: the domain has no MX and no address).
 * ns_host/ns_port: a single IPv4/IPv6 name server to ask instead of /etc/resolv.conf
 * (NULL: the system's). timeout: seconds per query. NULL with *err on a bad item. */
mx_resolver *mx_new(const char *const *overrides, size_t n_overrides, const char *ns_host,
                    int ns_port, int timeout, char **err);
void mx_free(mx_resolver *r);
/* No DNS query from now on (act-smtp --dry-run): MX_Override still answers, any other
 * domain gets MX_OFFLINE at once. */
void mx_set_offline(mx_resolver *r);

/* The outcome of a lookup: host on MX_FOUND, why on MX_NONE and MX_TEMPFAIL (both only
 * valid during the call). */
typedef void (*mx_done_fn)(void *arg, mx_status st, const char *host, const char *why);

/* Looks up domain and calls done exactly once: at once when the answer is known without
 * asking (override, cache, no resolver), otherwise later, from mx_process. */
void mx_resolve(mx_resolver *r, const char *domain, mx_done_fn done, void *arg);

/* Event-loop hooks. mx_fds fills at most MX_MAX_FDS pollfds with the resolver's sockets
 * (returns how many) and lowers *timeout_ms to the resolver's next time-out; mx_process
 * takes the same pollfds after poll() and runs whatever is ready or timed out. */
#define MX_MAX_FDS 16
int mx_fds(mx_resolver *r, struct pollfd *fds, int *timeout_ms);
void mx_process(mx_resolver *r, const struct pollfd *fds, int n);

/* Reads a DNS reply (via libresolv's ns_parserr): how many answers are of type (a CNAME
 * alone is not an answer), -1 when unreadable. For ns_t_mx, name (size bytes, at least 1)
 * gets the host of lowest preference ("" or "." for a null MX) and only readable MX
 * answers count. */
int mx_read_answers(const unsigned char *ans, int len, int type, char *name, size_t size);

/* Lookups in progress. */
size_t mx_pending(const mx_resolver *r);

/* Allow-list: parallel arrays of MX host names and FBL addresses. */
typedef struct {
    const char *const *mx;
    const char *const *fbl;
    size_t n;
} mx_allowlist;

/* FBL address for an MX host (caller frees), or NULL when the host is not allowed or is
 * not a host name. */
char *mx_fbl_address(const mx_allowlist *al, const char *mxhost);

#endif
