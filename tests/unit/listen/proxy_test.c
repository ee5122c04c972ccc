/* Unit tests for src/listen/proxy.c: PROXY protocol v1 and v2 headers fed whole and byte by
 * byte, the limits of the specification (107-byte v1 line, v2 lengths), LOCAL and UNKNOWN,
 * TLVs skipped. (The trusted networks: tests/unit/lib/cidr_test.c.) */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/listen/proxy.h"
#include "tap.h"

static const unsigned char sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static proxy_result parse(const void *p, size_t n, proxy_header *h)
{
    const char *why;
    return proxy_parse(p, n, h, &why);
}

/* Every proper prefix of a complete header wants more bytes. */
static int prefixes_want_more(const void *p, size_t n)
{
    proxy_header h;
    for (size_t i = 0; i < n; i++)
        if (parse(p, i, &h) != PROXY_MORE)
            return 0;
    return 1;
}

static size_t v2(unsigned char *out, int cmd, int fam, const void *body, size_t len)
{
    memcpy(out, sig, 12);
    out[12] = (unsigned char)(0x20 | cmd);
    out[13] = (unsigned char)fam;
    out[14] = (unsigned char)(len >> 8);
    out[15] = (unsigned char)len;
    memcpy(out + 16, body, len);
    return 16 + len;
}

int main(void)
{
    proxy_header h;
    const char *why;

    /* v1 */
    const char *l1 = "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\nEHLO x\r\n";
    ok(parse(l1, strlen(l1), &h) == PROXY_ADDRESS, "v1 TCP4");
    is_str(h.src, "192.0.2.7", "v1 source address");
    is_int(h.src_port, 56324, "v1 source port");
    is_int(h.dst_port, 25, "v1 destination port");
    is_int(h.length, strlen("PROXY TCP4 192.0.2.7 198.51.100.1 56324 25\r\n"),
           "v1 length stops at CRLF");
    is_int(h.version, 1, "version 1");
    ok(prefixes_want_more(l1, h.length), "v1: every prefix wants more");
    const char *l6 = "PROXY TCP6 2001:db8::5 2001:db8::1 1 65535\r\n";
    ok(parse(l6, strlen(l6), &h) == PROXY_ADDRESS && !strcmp(h.src, "2001:db8::5") &&
           h.family == AF_INET6,
       "v1 TCP6");
    const char *lm = "PROXY TCP6 ::ffff:192.0.2.9 ::1 1 2\r\n";
    ok(parse(lm, strlen(lm), &h) == PROXY_ADDRESS && !strcmp(h.src, "192.0.2.9") &&
           h.family == AF_INET,
       "v1 TCP6 with an IPv4-mapped address: given as IPv4");
    const char *lu = "PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";
    ok(parse(lu, strlen(lu), &h) == PROXY_CONNECTION && h.length == strlen(lu),
       "v1 UNKNOWN: the connection's address, rest of the line ignored");
    ok(parse("PROXY UNKNOWN\r\n", 15, &h) == PROXY_CONNECTION, "v1 UNKNOWN alone");
    static const char *const bad[] = {
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324\r\n",      /* field missing */
        "PROXY TCP4 192.0.2.7 198.51.100.1 56324 25 x\r\n", /* field too many */
        "PROXY TCP4  192.0.2.7 198.51.100.1 56324 25\r\n",  /* two spaces */
        "PROXY TCP4 2001:db8::1 198.51.100.1 1 25\r\n",     /* family mismatch */
        "PROXY TCP6 192.0.2.7 2001:db8::1 1 25\r\n",        /* family mismatch */
        "PROXY TCP4 192.0.2.7 198.51.100.1 65536 25\r\n",   /* port too large */
        "PROXY TCP4 192.0.2.7 198.51.100.1 025 25\r\n",     /* leading zero */
        "PROXY TCP4 192.0.2.7 198.51.100.1 -1 25\r\n",      /* sign */
        "PROXY TCP4 192.0.2.7 198.51.100.1 1 25 \r\n",      /* trailing space */
        "PROXY UDP4 192.0.2.7 198.51.100.1 1 25\r\n",       /* protocol */
        "PROXY TCP4 192.0.2.7\n198.51.100.1 1 25\r\n",      /* bare LF */
        "PROXY TCP4 192.0.2.7\r198.51.100.1 1 25\r\n",      /* bare CR */
        "PROXY TCP4 192.0.2.7 198.51.100.1 1 2\0\r\n",      /* NUL (length below) */
        "proxy TCP4 192.0.2.7 198.51.100.1 1 25\r\n",       /* case */
        "EHLO client.test\r\n",                             /* no header at all */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = i == 12 ? 39 : strlen(bad[i]);
        if (!ok(proxy_parse((const unsigned char *)bad[i], n, &h, &why) == PROXY_BAD && why,
                "v1: a malformed line is refused"))
            printf("# %s", bad[i]);
    }
    char longl[200];
    memcpy(longl, "PROXY UNKNOWN ", 14);
    memset(longl + 14, 'x', sizeof longl - 14);
    ok(parse(longl, 106, &h) == PROXY_MORE, "v1: 106 bytes without CRLF want more");
    ok(parse(longl, 107, &h) == PROXY_BAD, "v1: 107 bytes without CRLF are too long");
    memcpy(longl + 105, "\r\n", 2);
    ok(parse(longl, 107, &h) == PROXY_CONNECTION && h.length == 107, "v1: a 107-byte line");
    memcpy(longl + 105, "x\r\n", 3);
    ok(parse(longl, 108, &h) == PROXY_BAD, "v1: a 108-byte line is too long");

    /* v2 */
    unsigned char buf[70000], body[65535];
    memset(body, 0, sizeof body);
    inet_pton(AF_INET, "192.0.2.7", body);
    inet_pton(AF_INET, "198.51.100.1", body + 4);
    body[8] = 0xDC, body[9] = 0x04, body[10] = 0, body[11] = 25;
    size_t n = v2(buf, 1, 0x11, body, 12);
    ok(parse(buf, n, &h) == PROXY_ADDRESS && !strcmp(h.src, "192.0.2.7") &&
           !strcmp(h.dst, "198.51.100.1") && h.src_port == 56324 && h.dst_port == 25 &&
           h.length == 28 && h.version == 2,
       "v2 PROXY TCP over IPv4");
    ok(prefixes_want_more(buf, n), "v2: every prefix wants more");
    /* TLVs (ALPN, a NOOP) after the addresses, then the SMTP stream */
    memcpy(body + 12, "\x01\x00\x02h2\x04\x00\x01\x00", 9);
    n = v2(buf, 1, 0x11, body, 21);
    memcpy(buf + n, "EHLO x\r\n", 8);
    ok(parse(buf, n + 8, &h) == PROXY_ADDRESS && h.length == n && !strcmp(h.src, "192.0.2.7"),
       "v2 with TLVs: skipped, the header ends where its length says");
    /* the largest header there is: 65535 bytes of addresses and TLVs */
    n = v2(buf, 1, 0x11, body, 65535);
    ok(parse(buf, n - 1, &h) == PROXY_MORE && parse(buf, n, &h) == PROXY_ADDRESS &&
           h.length == PROXY_MAX_HEADER,
       "v2 with 65535 bytes after the fixed part");
    memset(body, 0, 36);
    inet_pton(AF_INET6, "2001:db8::5", body);
    inet_pton(AF_INET6, "2001:db8::1", body + 16);
    body[32] = 0x15, body[33] = 0xB3, body[34] = 0, body[35] = 25;
    n = v2(buf, 1, 0x21, body, 36);
    ok(parse(buf, n, &h) == PROXY_ADDRESS && !strcmp(h.src, "2001:db8::5") && h.src_port == 5555 &&
           h.family == AF_INET6,
       "v2 PROXY TCP over IPv6");
    n = v2(buf, 0, 0x00, body, 0);
    ok(parse(buf, n, &h) == PROXY_CONNECTION && h.length == 16, "v2 LOCAL (health check)");
    n = v2(buf, 0, 0x11, body, 12);
    ok(parse(buf, n, &h) == PROXY_CONNECTION && h.length == 28,
       "v2 LOCAL with addresses: ignored, the connection's own stand");
    n = v2(buf, 1, 0x00, body, 0);
    ok(parse(buf, n, &h) == PROXY_CONNECTION, "v2 PROXY UNSPEC: the connection's address");
    n = v2(buf, 1, 0x31, body, 216);
    ok(parse(buf, n, &h) == PROXY_CONNECTION, "v2 PROXY over a UNIX socket: the connection's");
    n = v2(buf, 1, 0x12, body, 12);
    ok(parse(buf, n, &h) == PROXY_CONNECTION, "v2 PROXY DGRAM: the connection's");
    n = v2(buf, 1, 0x11, body, 11);
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 IPv4 with an address block too short");
    n = v2(buf, 1, 0x21, body, 35);
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 IPv6 with an address block too short");
    n = v2(buf, 2, 0x11, body, 12);
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 command 2");
    n = v2(buf, 1, 0x41, body, 12);
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 family 4");
    n = v2(buf, 1, 0x13, body, 12);
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 protocol 3");
    n = v2(buf, 1, 0x11, body, 12);
    buf[12] = 0x11;
    ok(parse(buf, n, &h) == PROXY_BAD, "v2 version 1 in the version byte");
    n = v2(buf, 1, 0x11, body, 12);
    buf[11] = 'X';
    ok(parse(buf, 3, &h) == PROXY_MORE && parse(buf, 12, &h) == PROXY_BAD,
       "v2 signature: refused at the first byte that differs");
    ok(parse("\r\nQUIT\r\n", 8, &h) == PROXY_BAD, "CRLF then text is not a v2 header");
    ok(parse("", 0, &h) == PROXY_MORE, "nothing yet: more");
    return done_testing();
}
