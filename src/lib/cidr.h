/* cidr.h — IP networks written "ADDRESS[/BITS]" and the addresses in them (IPv4 and IPv6).
 *
 * Every address is held as 16 bytes of IPv6; an IPv4 one as its IPv4-mapped form
 * ::ffff:a.b.c.d, so an IPv4 client on a dual-stack socket (which arrives as
 * ::ffff:a.b.c.d) is the same address as on an IPv4 socket, and one table covers both
 * families. A network written in IPv6 inside ::ffff:0:0/96 is an IPv4 network; any other
 * network written in IPv6 holds no IPv4 address, even one that covers ::ffff:0:0/96
 * (::/0 is every IPv6 address, not every address). Used by listen ([Listen] Proxy_Networks)
 * and act-http (its address guard and [Http] Allowed_Networks, Private_Address_Exceptions).
 */
#ifndef BS_CIDR_H
#define BS_CIDR_H

#include <stddef.h>
#include <sys/socket.h>

typedef struct {
    unsigned char addr[16]; /* as written (host bits are kept; they never count) */
    int bits;               /* of the 16 bytes: an IPv4 /24 is 120 */
    int v4;                 /* an IPv4 network (bits >= 96, addr in ::ffff:0:0/96) */
} bs_cidr;

/* One "ADDRESS[/BITS]" (inet_pton's IPv4 dotted quad or IPv6 text, BITS 1-3 decimal
 * digits, at most 32 for IPv4 and 128 for IPv6); a bare address is /32 or /128.
 * 0 ok; -1 with *why a static text saying what is wrong. */
int bs_cidr_parse(const char *text, bs_cidr *out, const char **why);

/* The prefix length as written: 0-32 for an IPv4 network, 0-128 for an IPv6 one. */
int bs_cidr_prefix(const bs_cidr *net);

/* The 4 bytes of an IPv4 address as 16 (::ffff:a.b.c.d). */
void bs_cidr_map4(const unsigned char v4[4], unsigned char out[16]);

/* A socket address as 16 bytes: 0, or -1 when it is not AF_INET or AF_INET6. */
int bs_cidr_from_sockaddr(const struct sockaddr *sa, unsigned char out[16]);

/* 1 when the 16-byte address is in the network. */
int bs_cidr_has(const bs_cidr *net, const unsigned char a[16]);

/* 1 when the socket address is in one of the n networks (none: 0). */
int bs_cidr_match(const bs_cidr *nets, size_t n, const struct sockaddr *sa);

#endif
