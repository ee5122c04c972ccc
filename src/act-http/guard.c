/* guard.c — classify the address a fetch is about to connect to (SSRF guard).
 *
 * Every address is handled as 16 bytes of IPv6; an IPv4 address as its IPv4-mapped form
 * ::ffff:a.b.c.d, so one table covers both families. Addresses that embed an IPv4 address
 * (NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by the embedded address as well.
 */
#include "guard.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

typedef struct {
    const char *prefix; /* textual IPv4 or IPv6 network */
    int len;            /* prefix length in the family of the text */
    const char *class;  /* what guard_class returns */
    const char *phrase; /* "a loopback address" */
} range_row;

/* First match wins: the broadcast address before the reserved 240/4, :: before ::/96. */
static const range_row ranges[] = {
    {"255.255.255.255", 32, "broadcast", "a broadcast address"},
    {"0.0.0.0", 32, "unspecified", "an unspecified address"},
    {"0.0.0.0", 8, "unspecified", "an unspecified (this-network) address"},
    {"127.0.0.0", 8, "loopback", "a loopback address"},
    {"10.0.0.0", 8, "private", "a private address"},
    {"172.16.0.0", 12, "private", "a private address"},
    {"192.168.0.0", 16, "private", "a private address"},
    {"169.254.0.0", 16, "link-local", "a link-local address"},
    {"100.64.0.0", 10, "shared (CGNAT)", "a shared (CGNAT) address"},
    {"224.0.0.0", 4, "multicast", "a multicast address"},
    {"240.0.0.0", 4, "reserved", "a reserved address"},
    {"192.0.0.0", 24, "reserved", "a reserved (IETF protocol) address"},
    {"198.18.0.0", 15, "reserved", "a reserved (benchmarking) address"},
    {"::", 128, "unspecified", "an unspecified address"},
    {"::1", 128, "loopback", "a loopback address"},
    {"::", 96, "reserved", "a reserved (IPv4-compatible) address"},
    {"100::", 64, "reserved", "a reserved (discard-only) address"},
    {"64:ff9b:1::", 48, "private", "a private (local NAT64) address"},
    {"fc00::", 7, "private", "a private (unique local) address"},
    {"fe80::", 10, "link-local", "a link-local address"},
    {"fec0::", 10, "reserved", "a reserved (site-local) address"},
    {"ff00::", 8, "multicast", "a multicast address"},
};
enum { NRANGES = sizeof ranges / sizeof ranges[0] };

typedef struct {
    unsigned char net[16];
    int len; /* in bits of the 16-byte form */
} net16;

static void map_v4(const unsigned char v4[4], unsigned char out[16])
{
    memset(out, 0, 10);
    out[10] = out[11] = 0xff;
    memcpy(out + 12, v4, 4);
}

/* Text to 16-byte form; *len_adjust is 96 for IPv4 (so /8 becomes /104). */
static int parse_addr(const char *text, unsigned char out[16], int *v4)
{
    unsigned char b4[4];
    if (inet_pton(AF_INET, text, b4) == 1) {
        map_v4(b4, out);
        *v4 = 1;
        return 0;
    }
    if (inet_pton(AF_INET6, text, out) == 1) {
        *v4 = 0;
        return 0;
    }
    return -1;
}

static int in_net(const unsigned char a[16], const unsigned char net[16], int len)
{
    int full = len / 8, rest = len % 8;
    if (memcmp(a, net, (size_t)full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (net[full] & mask);
}

static net16 table[NRANGES];
static int table_ready;

static void table_init(void)
{
    if (table_ready)
        return;
    for (size_t i = 0; i < NRANGES; i++) {
        int v4;
        if (parse_addr(ranges[i].prefix, table[i].net, &v4) < 0)
            bs_panic("guard: bad table entry %s", ranges[i].prefix);
        table[i].len = ranges[i].len + (v4 ? 96 : 0);
    }
    table_ready = 1;
}

static int to16(const struct sockaddr *sa, unsigned char out[16])
{
    if (!sa)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        map_v4((const unsigned char *)&s4->sin_addr, out);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(out, &s6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

static const range_row *classify16(const unsigned char a[16])
{
    table_init();
    for (size_t i = 0; i < NRANGES; i++)
        if (in_net(a, table[i].net, table[i].len))
            return &ranges[i];
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b};
    unsigned char inner[16];
    if (memcmp(a, nat64, 12) == 0) { /* 64:ff9b::/96 carries an IPv4 address */
        map_v4(a + 12, inner);
        return classify16(inner);
    }
    if (a[0] == 0x20 && a[1] == 0x02) { /* 6to4 2002:AABB:CCDD::/48 */
        map_v4(a + 2, inner);
        return classify16(inner);
    }
    return NULL;
}

static const range_row *unknown_family_row(void)
{
    static const range_row r = {"", 0, "unknown family", "not an IP address"};
    return &r;
}

const char *guard_class(const struct sockaddr *sa)
{
    unsigned char a[16];
    if (to16(sa, a) < 0)
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
    net16 *nets;
    size_t n;
};

int guard_exceptions_add(guard_exceptions **set, const char *cidr)
{
    char text[64];
    const char *slash = strchr(cidr, '/');
    size_t alen = slash ? (size_t)(slash - cidr) : strlen(cidr);
    if (alen == 0 || alen >= sizeof text)
        return -1;
    memcpy(text, cidr, alen);
    text[alen] = 0;
    net16 n;
    int v4;
    if (parse_addr(text, n.net, &v4) < 0)
        return -1;
    long len = v4 ? 32 : 128;
    if (slash && bs_parse_long(slash + 1, &len) < 0)
        return -1;
    if (len < 0 || len > (v4 ? 32 : 128))
        return -1;
    n.len = (int)len + (v4 ? 96 : 0);
    if (!*set)
        *set = xcalloc(1, sizeof **set);
    (*set)->nets = xrealloc((*set)->nets, ((*set)->n + 1) * sizeof n);
    (*set)->nets[(*set)->n++] = n;
    return 0;
}

int guard_exceptions_match(const guard_exceptions *set, const struct sockaddr *sa)
{
    unsigned char a[16];
    if (!set || to16(sa, a) < 0)
        return 0;
    for (size_t i = 0; i < set->n; i++)
        if (in_net(a, set->nets[i].net, set->nets[i].len))
            return 1;
    return 0;
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
    const range_row *r = to16(sa, a) < 0 ? unknown_family_row() : classify16(a);
    if (!r)
        return NULL;
    char addr[INET6_ADDRSTRLEN];
    guard_addr_text(sa, addr, sizeof addr);
    snprintf(why, whylen, "%s is %s", addr, r->phrase);
    return why;
}
