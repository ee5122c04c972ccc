/* dnsq.h — DNS questions answered within a deadline, on c-ares, for a thread that may
 * block (one dnsq per thread; the caller's event loop never waits on it).
 *
 * Every call asks one question and waits at most the timeout given to dnsq_new (then the
 * question is cancelled and the answer is DNSQ_TEMP). Name servers: /etc/resolv.conf.
 * Ownership: the string arrays returned are the caller's (dnsq_strings_free).
 */
#ifndef BS_DNSQ_H
#define BS_DNSQ_H

#include <stddef.h>

typedef struct dnsq dnsq;

typedef enum {
    DNSQ_OK,     /* answers in *out (at least one) */
    DNSQ_NONE,   /* NXDOMAIN or no record of that type */
    DNSQ_TEMP,   /* time-out, SERVFAIL, no name server reachable */
    DNSQ_BADARG, /* not an IP address / not a name */
} dnsq_status;

/* NULL with *err (caller frees) when c-ares cannot start. */
dnsq *dnsq_new(long timeout_ms, char **err);
void dnsq_free(dnsq *q);

/* The PTR names of an IPv4 or IPv6 address (text), without trailing dots. */
dnsq_status dnsq_ptr(dnsq *q, const char *ip, char ***out, size_t *n);
/* The addresses (text) of name: A records for family 4, AAAA for 6. */
dnsq_status dnsq_addrs(dnsq *q, const char *name, int family, char ***out, size_t *n);
/* The TXT records of name, each record's strings joined. */
dnsq_status dnsq_txt(dnsq *q, const char *name, char ***out, size_t *n);

void dnsq_strings_free(char **v, size_t n);

#endif
