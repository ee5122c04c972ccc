/* proxy.c — PROXY protocol v1 and v2 headers (HAProxy's proxy-protocol.txt). Pure
 * functions: server.c feeds the bytes, the unit tests and fuzz/listen/proxy.c drive them
 * directly. */
#include "proxy.h"

#include <netinet/in.h>
#include <string.h>

static const unsigned char v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_prefix[] = "PROXY ";

static proxy_result bad(const char **why, const char *text)
{
    *why = text;
    return PROXY_BAD;
}

/* An address as text; an IPv4-mapped IPv6 one as IPv4, as listen names direct clients. */
static void addr_text(int family, const unsigned char *a, char *out, size_t size, int *fam)
{
    if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)(const void *)a)) {
        inet_ntop(AF_INET, a + 12, out, (socklen_t)size);
        *fam = AF_INET;
        return;
    }
    inet_ntop(family, a, out, (socklen_t)size);
    *fam = family;
}

/* A v1 port: 0-65535 in decimal, without a sign or leading zeros. */
static int v1_port(const char *p, size_t n, int *out)
{
    if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
        return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    if (v > 65535)
        return -1;
    *out = (int)v;
    return 0;
}

static int v1_addr(int family, const char *p, size_t n, char *out, int *fam)
{
    char tmp[INET6_ADDRSTRLEN];
    unsigned char bin[16];
    if (n == 0 || n >= sizeof tmp)
        return -1;
    memcpy(tmp, p, n);
    tmp[n] = 0;
    if (inet_pton(family, tmp, bin) != 1)
        return -1;
    addr_text(family, bin, out, INET6_ADDRSTRLEN, fam);
    return 0;
}

static proxy_result parse_v1(const unsigned char *p, size_t n, proxy_header *h, const char **why)
{
    size_t lim = n < PROXY_V1_MAX ? n : PROXY_V1_MAX, end = 0;
    for (size_t i = 0; i < lim && !end; i++) {
        if (p[i] == '\r' && i + 1 == n)
            return PROXY_MORE;
        if (p[i] == '\r' && p[i + 1] == '\n')
            end = i;
        else if (p[i] < ' ' || p[i] > '~')
            return bad(why, "v1 line with a control character or a bare line end");
    }
    if (end + 2 > PROXY_V1_MAX || (!end && n >= PROXY_V1_MAX))
        return bad(why, "v1 line longer than 107 bytes");
    if (!end) {
        return PROXY_MORE;
    }
    /* fields between single spaces: PROXY PROTO SRC DST SPORT DPORT */
    const char *f[7];
    size_t fl[7], nf = 0;
    const char *s = (const char *)p, *e = s + end;
    while (s <= e) {
        const char *sp = memchr(s, ' ', (size_t)(e - s));
        if (!sp)
            sp = e;
        if (nf == 7)
            break;
        f[nf] = s;
        fl[nf++] = (size_t)(sp - s);
        s = sp + 1;
    }
    h->version = 1;
    h->length = end + 2;
    if (nf >= 2 && fl[1] == 7 && memcmp(f[1], "UNKNOWN", 7) == 0) {
        h->family = AF_UNSPEC; /* the rest of the line is to be ignored */
        return PROXY_CONNECTION;
    }
    int family;
    if (nf >= 2 && fl[1] == 4 && memcmp(f[1], "TCP4", 4) == 0)
        family = AF_INET;
    else if (nf >= 2 && fl[1] == 4 && memcmp(f[1], "TCP6", 4) == 0)
        family = AF_INET6;
    else
        return bad(why, "v1 protocol is not TCP4, TCP6 or UNKNOWN");
    if (nf != 6)
        return bad(why, "v1 line is not PROXY PROTO SRC DST SPORT DPORT");
    int fam_src, fam_dst;
    if (v1_addr(family, f[2], fl[2], h->src, &fam_src) < 0 ||
        v1_addr(family, f[3], fl[3], h->dst, &fam_dst) < 0)
        return bad(why, "v1 address is not one of the protocol's family");
    if (v1_port(f[4], fl[4], &h->src_port) < 0 || v1_port(f[5], fl[5], &h->dst_port) < 0)
        return bad(why, "v1 port is not 0-65535");
    h->family = fam_src;
    return PROXY_ADDRESS;
}

static proxy_result parse_v2(const unsigned char *p, size_t n, proxy_header *h, const char **why)
{
    if (n < 16)
        return PROXY_MORE;
    if ((p[12] >> 4) != 2)
        return bad(why, "v2 version is not 2");
    int cmd = p[12] & 0x0F, fam = p[13] >> 4, proto = p[13] & 0x0F;
    if (cmd > 1)
        return bad(why, "v2 command is not LOCAL or PROXY");
    if (fam > 3 || proto > 2)
        return bad(why, "v2 address family or protocol unknown");
    size_t len = (size_t)p[14] << 8 | p[15];
    if (n < 16 + len)
        return PROXY_MORE;
    h->version = 2;
    h->length = 16 + len;
    h->family = AF_UNSPEC;
    if (cmd == 0 || proto != 1 || (fam != 1 && fam != 2))
        return PROXY_CONNECTION; /* LOCAL, UNSPEC, UNIX or DGRAM: the real peer stands */
    const unsigned char *a = p + 16;
    size_t alen = fam == 1 ? 4 : 16;
    if (len < 2 * alen + 4)
        return bad(why, "v2 address block shorter than its family's");
    int family = fam == 1 ? AF_INET : AF_INET6, fam_dst;
    addr_text(family, a, h->src, sizeof h->src, &h->family);
    addr_text(family, a + alen, h->dst, sizeof h->dst, &fam_dst);
    h->src_port = a[2 * alen] << 8 | a[2 * alen + 1];
    h->dst_port = a[2 * alen + 2] << 8 | a[2 * alen + 3];
    return PROXY_ADDRESS; /* TLVs after the addresses: skipped, never read */
}

proxy_result proxy_parse(const unsigned char *p, size_t n, proxy_header *h, const char **why)
{
    memset(h, 0, sizeof *h);
    *why = NULL;
    if (n == 0)
        return PROXY_MORE;
    if (p[0] == v2_sig[0]) {
        size_t k = n < sizeof v2_sig ? n : sizeof v2_sig;
        if (memcmp(p, v2_sig, k) != 0)
            return bad(why, "not a PROXY header (v2 signature)");
        return k < sizeof v2_sig ? PROXY_MORE : parse_v2(p, n, h, why);
    }
    size_t k = n < sizeof v1_prefix - 1 ? n : sizeof v1_prefix - 1;
    if (memcmp(p, v1_prefix, k) != 0)
        return bad(why, "not a PROXY header");
    return parse_v1(p, n, h, why);
}
