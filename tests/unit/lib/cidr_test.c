/* Unit tests for src/lib/cidr.c: networks written ADDRESS[/BITS] in IPv4 and IPv6, the
 * error texts, and matching socket addresses (an IPv4-mapped IPv6 address counts as its
 * IPv4 address; an IPv6 network never holds an IPv4 address). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cidr.h"
#include "tap.h"

static struct sockaddr_in sin4(const char *a)
{
    struct sockaddr_in s;
    memset(&s, 0, sizeof s);
    s.sin_family = AF_INET;
    inet_pton(AF_INET, a, &s.sin_addr);
    return s;
}

static struct sockaddr_in6 sin6(const char *a)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    inet_pton(AF_INET6, a, &s.sin6_addr);
    return s;
}

/* The error text for a bad network, or "ok". */
static const char *why(const char *text)
{
    bs_cidr net;
    const char *w = "not set";
    return bs_cidr_parse(text, &net, &w) == 0 ? "ok" : w;
}

/* 1 when the network holds the address (text, IPv4 or IPv6), through a socket address. */
static int in(const char *net_text, const char *addr)
{
    bs_cidr net;
    const char *w;
    if (bs_cidr_parse(net_text, &net, &w) < 0)
        return -1;
    if (strchr(addr, ':')) {
        struct sockaddr_in6 s = sin6(addr);
        return bs_cidr_match(&net, 1, (struct sockaddr *)&s);
    }
    struct sockaddr_in s = sin4(addr);
    return bs_cidr_match(&net, 1, (struct sockaddr *)&s);
}

int main(void)
{
    bs_cidr nets[3];
    const char *w;
    ok(bs_cidr_parse("192.0.2.0/24", &nets[0], &w) == 0, "an IPv4 range");
    ok(nets[0].v4 && nets[0].bits == 120 && bs_cidr_prefix(&nets[0]) == 24,
       "IPv4 /24: 120 bits of the 16-byte form, prefix 24");
    ok(bs_cidr_parse("2001:db8::/33", &nets[1], &w) == 0, "an IPv6 range");
    ok(!nets[1].v4 && bs_cidr_prefix(&nets[1]) == 33, "IPv6 /33");
    ok(bs_cidr_parse("198.51.100.7", &nets[2], &w) == 0 && bs_cidr_prefix(&nets[2]) == 32,
       "one IPv4 address: /32");
    bs_cidr one6;
    ok(bs_cidr_parse("2001:db8::1", &one6, &w) == 0 && bs_cidr_prefix(&one6) == 128,
       "one IPv6 address: /128");

    /* what is refused, and why */
    is_str(why("192.0.2.0/33"), "prefix length over 32 for an IPv4 network", "IPv4 /33");
    is_str(why("2001:db8::/129"), "prefix length over 128 for an IPv6 network", "IPv6 /129");
    is_str(why("192.0.2.0/"), "no prefix length after '/'", "a slash and nothing");
    is_str(why("192.0.2.0/x"), "prefix length is not a number from 0 to 32", "/x");
    is_str(why("192.0.2.0/-1"), "prefix length is not a number from 0 to 32", "/-1");
    is_str(why("192.0.2.0/+8"), "prefix length is not a number from 0 to 32", "/+8");
    is_str(why("192.0.2.0/ 8"), "prefix length is not a number from 0 to 32", "/ 8");
    is_str(why("192.0.2.0/0024"), "prefix length is not a number from 0 to 32", "/0024");
    is_str(why("fd00::/1000"), "prefix length is not a number from 0 to 128", "IPv6 /1000");
    is_str(why("192.0.2.0/24/1"), "prefix length is not a number from 0 to 32", "two slashes");
    is_str(why("host.test"), "not an IPv4 or IPv6 address", "a name");
    is_str(why("host.test/24"), "not an IPv4 or IPv6 address", "a name with a prefix");
    is_str(why("192.0.2"), "not an IPv4 or IPv6 address", "three octets");
    is_str(why("192.0.2.256"), "not an IPv4 or IPv6 address", "an octet over 255");
    is_str(why("fe80::1%eth0"), "not an IPv4 or IPv6 address", "a zone index");
    is_str(why(" 192.0.2.1"), "not an IPv4 or IPv6 address", "a leading space");
    is_str(why(""), "no address", "empty");
    is_str(why("/24"), "no address", "a prefix alone");
    is_str(why("1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb/64"),
           "not an IPv4 or IPv6 address", "longer than any address");
    is_str(why("0000:0000:0000:0000:0000:ffff:192.168.100.200/128"), "ok",
           "the longest address text");
    is_str(why("192.0.2.0/024"), "ok", "three digits with a leading zero");
    is_str(why("0.0.0.0/0"), "ok", "every IPv4 address");
    is_str(why("::/0"), "ok", "every IPv6 address");

    /* matching */
    struct sockaddr_in a = sin4("192.0.2.200"), b = sin4("192.0.3.1"), c = sin4("198.51.100.7"),
                       d = sin4("198.51.100.8");
    ok(bs_cidr_match(nets, 3, (struct sockaddr *)&a), "192.0.2.200 in 192.0.2.0/24");
    ok(!bs_cidr_match(nets, 3, (struct sockaddr *)&b), "192.0.3.1 not in it");
    ok(bs_cidr_match(nets, 3, (struct sockaddr *)&c), "the one address");
    ok(!bs_cidr_match(nets, 3, (struct sockaddr *)&d), "its neighbour not");
    struct sockaddr_in6 e = sin6("2001:db8:7fff::1"), f = sin6("2001:db8:8000::1"),
                        g = sin6("::ffff:192.0.2.1");
    ok(bs_cidr_match(nets, 3, (struct sockaddr *)&e), "2001:db8:7fff::1 in 2001:db8::/33");
    ok(!bs_cidr_match(nets, 3, (struct sockaddr *)&f), "2001:db8:8000::1 not in it");
    ok(bs_cidr_match(nets, 3, (struct sockaddr *)&g), "an IPv4-mapped address as IPv4");
    ok(!bs_cidr_match(nets, 0, (struct sockaddr *)&a), "no networks: no one");
    struct sockaddr un = {.sa_family = AF_UNIX};
    ok(!bs_cidr_match(nets, 3, &un), "another address family: no");
    ok(!bs_cidr_match(nets, 3, NULL), "no address: no");

    is_int(in("10.0.0.0/8", "10.255.255.255"), 1, "the last address of 10/8");
    is_int(in("10.0.0.0/8", "11.0.0.0"), 0, "the next one not");
    is_int(in("10.1.2.3/8", "10.200.0.1"), 1, "host bits of the network do not count");
    is_int(in("172.16.0.0/12", "172.31.255.255"), 1, "/12: the last address");
    is_int(in("172.16.0.0/12", "172.32.0.0"), 0, "/12: the next one not");
    is_int(in("0.0.0.0/0", "203.0.113.9"), 1, "0/0 holds every IPv4 address");
    is_int(in("0.0.0.0/0", "::ffff:203.0.113.9"), 1, "... and every IPv4-mapped one");
    is_int(in("0.0.0.0/0", "2001:db8::1"), 0, "... but no IPv6 address");
    is_int(in("::/0", "2001:db8::1"), 1, "::/0 holds every IPv6 address");
    is_int(in("::/0", "203.0.113.9"), 0, "... but no IPv4 address");
    is_int(in("::/0", "::ffff:203.0.113.9"), 0, "... nor an IPv4-mapped one");
    is_int(in("::/80", "::ffff:203.0.113.9"), 0, "nor does ::/80, which covers ::ffff:0:0/96");
    is_int(in("::ffff:192.0.2.0/120", "192.0.2.77"), 1,
           "a network written IPv4-mapped is an IPv4 network");
    is_int(in("::ffff:0:0/96", "198.51.100.1"), 1, "::ffff:0:0/96 holds every IPv4 address");
    is_int(in("::ffff:192.0.2.0/120", "192.0.3.1"), 0, "... and only its own");
    is_int(in("fe80::/10", "febf:ffff::1"), 1, "fe80::/10: the last block");
    is_int(in("fe80::/10", "fec0::1"), 0, "fe80::/10: fec0:: not");
    is_int(in("::1", "::1"), 1, "::1/128 holds ::1");
    is_int(in("::1", "::2"), 0, "... and not ::2");
    is_int(in("::/96", "::ffff:127.0.0.1"), 0, "IPv4-compatible ::/96 is not IPv4-mapped");

    unsigned char m[16], want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
    bs_cidr_map4((const unsigned char[]){192, 0, 2, 1}, m);
    ok(memcmp(m, want, 16) == 0, "map4: ::ffff:192.0.2.1");
    ok(bs_cidr_from_sockaddr((struct sockaddr *)&a, m) == 0 && m[10] == 0xff && m[12] == 192,
       "from_sockaddr: an IPv4 socket address mapped");
    ok(bs_cidr_from_sockaddr(&un, m) < 0, "from_sockaddr: another family refused");
    return done_testing();
}
