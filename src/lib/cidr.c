/* cidr.c — IP networks and the addresses in them; see cidr.h. */
#include "cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void bs_cidr_map4(const unsigned char v4[4], unsigned char out[16])
{
    memcpy(out, mapped_prefix, sizeof mapped_prefix);
    memcpy(out + 12, v4, 4);
}

int bs_cidr_parse(const char *text, bs_cidr *out, const char **why)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = strchr(text, '/');
    size_t alen = slash ? (size_t)(slash - text) : strlen(text);
    memset(out, 0, sizeof *out);
    if (alen == 0) {
        *why = "no address";
        return -1;
    }
    unsigned char b4[4];
    int max = 0; /* 32 for IPv4, 128 for IPv6 */
    if (alen < sizeof addr) {
        memcpy(addr, text, alen);
        addr[alen] = 0;
        if (inet_pton(AF_INET, addr, b4) == 1) {
            bs_cidr_map4(b4, out->addr);
            max = 32;
        } else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
            max = 128;
        }
    }
    if (!max) {
        *why = "not an IPv4 or IPv6 address";
        return -1;
    }
    int bits = max;
    if (slash) {
        const char *b = slash + 1;
        size_t n = strlen(b);
        if (n == 0) {
            *why = "no prefix length after '/'";
            return -1;
        }
        if (n > 3 || strspn(b, "0123456789") != n) {
            *why = max == 32 ? "prefix length is not a number from 0 to 32"
                             : "prefix length is not a number from 0 to 128";
            return -1;
        }
        bits = 0;
        for (; *b; b++)
            bits = bits * 10 + (*b - '0');
        if (bits > max) {
            *why = max == 32 ? "prefix length over 32 for an IPv4 network"
                             : "prefix length over 128 for an IPv6 network";
            return -1;
        }
    }
    out->bits = bits + (max == 32 ? 96 : 0);
    out->v4 = out->bits >= 96 && memcmp(out->addr, mapped_prefix, sizeof mapped_prefix) == 0;
    return 0;
}

int bs_cidr_prefix(const bs_cidr *net)
{
    return net->v4 ? net->bits - 96 : net->bits;
}

int bs_cidr_from_sockaddr(const struct sockaddr *sa, unsigned char out[16])
{
    if (!sa)
        return -1;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        bs_cidr_map4((const unsigned char *)&s4->sin_addr, out);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        memcpy(out, &s6->sin6_addr, 16);
        return 0;
    }
    return -1;
}

int bs_cidr_has(const bs_cidr *net, const unsigned char a[16])
{
    if (!net->v4 && memcmp(a, mapped_prefix, sizeof mapped_prefix) == 0)
        return 0; /* an IPv4 address is in IPv4 networks only */
    int whole = net->bits / 8, rest = net->bits % 8;
    if (memcmp(a, net->addr, (size_t)whole) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (net->addr[whole] & mask);
}

int bs_cidr_match(const bs_cidr *nets, size_t n, const struct sockaddr *sa)
{
    unsigned char a[16];
    if (n == 0 || bs_cidr_from_sockaddr(sa, a) < 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (bs_cidr_has(&nets[i], a))
            return 1;
    return 0;
}
