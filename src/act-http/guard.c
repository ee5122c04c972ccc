/* guard.c — classify the address a fetch is about to connect to (SSRF guard).
 *
 * Every address is handled as 16 bytes of IPv6 (src/lib/cidr.h); an IPv4 address as its
 * IPv4-mapped form ::ffff:a.b.c.d, so one table covers both families. Addresses that embed
 * an IPv4 address (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the embedded address
 * as well.
 */
#include "guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"
#include "util.h"

typedef struct {
    const char *net;    /* an IPv4 or IPv6 network, "127.0.0.0/8" */
    const char *class;  /* what guard_class returns */
    const char *phrase; /* "a loopback address" */
} range_row;

/* First match wins: the broadcast address before the reserved 240/4, :: before ::/96. */
static const range_row ranges[] = {
    {"255.255.255.255/32", "broadcast", "a broadcast address"},
    {"0.0.0.0/32", "unspecified", "an unspecified address"},
    {"0.0.0.0/8", "unspecified", "an unspecified (this-network) address"},
    {"127.0.0.0/8", "loopback", "a loopback address"},
    {"10.0.0.0/8", "private", "a private address"},
    {"172.16.0.0/12", "private", "a private address"},
    {"192.168.0.0/16", "private", "a private address"},
    {"169.254.0.0/16", "link-local", "a link-local address"},
    {"100.64.0.0/10", "shared (CGNAT)", "a shared (CGNAT) address"},
    {"224.0.0.0/4", "multicast", "a multicast address"},
    {"240.0.0.0/4", "reserved", "a reserved address"},
    {"192.0.0.0/24", "reserved", "a reserved (IETF protocol) address"},
    {"198.18.0.0/15", "reserved", "a reserved (benchmarking) address"},
    {"::/128", "unspecified", "an unspecified address"},
    {"::1/128", "loopback", "a loopback address"},
    {"::/96", "reserved", "a reserved (IPv4-compatible) address"},
    {"100::/64", "reserved", "a reserved (discard-only) address"},
    {"64:ff9b:1::/48", "private", "a private (local NAT64) address"},
    {"fc00::/7", "private", "a private (unique local) address"},
    {"fe80::/10", "link-local", "a link-local address"},
    {"fec0::/10", "reserved", "a reserved (site-local) address"},
    {"ff00::/8", "multicast", "a multicast address"},
};
enum { NRANGES = sizeof ranges / sizeof ranges[0] };

static bs_cidr table[NRANGES];
static int table_ready;

static void table_init(void)
{
    if (table_ready)
        return;
    for (size_t i = 0; i < NRANGES; i++) {
        const char *why;
        if (bs_cidr_parse(ranges[i].net, &table[i], &why) < 0)
            bs_panic("guard: bad table entry %s: %s", ranges[i].net, why);
    }
    table_ready = 1;
}

static const range_row *classify16(const unsigned char a[16])
{
    table_init();
    for (size_t i = 0; i < NRANGES; i++)
        if (bs_cidr_has(&table[i], a))
            return &ranges[i];
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    unsigned char inner[16];
    if (memcmp(a, nat64, 12) == 0) { /* 64:ff9b::/96 carries an IPv4 address */
        bs_cidr_map4(a + 12, inner);
        return classify16(inner);
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 6to4 2002:AABB:CCDD::/48 */
        bs_cidr_map4(a + 2, inner);
        return classify16(inner);
    }
    return NULL;
}

static const range_row *unknown_family_row(void)
{
    static const range_row r = {"", "unknown family", "not an IP address"};
    return &r;
}

const char *guard_class(const struct sockaddr *sa)
{
    unsigned char a[16];
    if (bs_cidr_from_sockaddr(sa, a) < 0)
        return unknown_family_row()->class;
    const range_row *r = classify16(a);
    return r ? r->class : NULL;
}

void guard_addr_text(const struct sockaddr *sa, char *out, size_t outlen)
{
    const void *p = NULL;
    if (sa && sa->sa_family == AF_INET)
        p = &((const struct sockaddr_in *)sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        p = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (!p || !inet_ntop(sa->sa_family, p, out, (socklen_t)outlen))
        snprintf(out, outlen, "?");
}

struct guard_exceptions {
    bs_cidr *nets;
    size_t n;
};

int guard_exceptions_add(guard_exceptions **set, const char *cidr, const char **why)
{
    bs_cidr net;
    if (bs_cidr_parse(cidr, &net, why) < 0)
        return -1;
    if (!*set)
        *set = xcalloc(1, sizeof **set);
    (*set)->nets = xrealloc((*set)->nets, ((*set)->n + 1) * sizeof net);
    (*set)->nets[(*set)->n++] = net;
    return 0;
}

int guard_exceptions_match(const guard_exceptions *set, const struct sockaddr *sa)
{
    return set && bs_cidr_match(set->nets, set->n, sa);
}

void guard_exceptions_free(guard_exceptions *set)
{
    if (!set)
        return;
    free(set->nets);
    free(set);
}

const char *guard_check(const struct sockaddr *sa, int allow_all, const guard_exceptions *ex,
                        char *why, size_t whylen)
{
    if (allow_all || guard_exceptions_match(ex, sa))
        return NULL;
    unsigned char a[16];
    const range_row *r = bs_cidr_from_sockaddr(sa, a) < 0 ? unknown_family_row() : classify16(a);
    if (!r)
        return NULL;
    char addr[INET6_ADDRSTRLEN];
    guard_addr_text(sa, addr, sizeof addr);
    snprintf(why, whylen, "%s is %s", addr, r->phrase);
    return why;
}
