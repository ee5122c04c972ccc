/* proxy.h — the PROXY protocol, versions 1 and 2 (HAProxy's proxy-protocol.txt), as a
 * pure function over the bytes received so far. The trusted networks allowed to send it
 * ([Listen] Proxy_Networks) are src/lib/cidr.h networks.
 *
 * listen reads the header before it greets a connection from a trusted balancer
 * ([Listen] Proxy_Networks); the address it names is the client's for everything after
 * (SPF, throttling, greylisting, Received, records, logs). Nothing here does I/O.
 */
#ifndef LISTEN_PROXY_H
#define LISTEN_PROXY_H

#include <arpa/inet.h>
#include <stddef.h>
#include <sys/socket.h>

/* The longest header: a v2 one of 16 bytes and 65535 of addresses and TLVs (a v1 line is
 * at most 107 bytes). */
#define PROXY_MAX_HEADER (16 + 65535)
#define PROXY_V1_MAX 107

typedef enum {
    PROXY_BAD = -1,      /* not a PROXY header, or a malformed one: `why` says which */
    PROXY_MORE = 0,      /* a valid beginning: more bytes are needed */
    PROXY_ADDRESS = 1,   /* a client address: `src` and `src_port` are set */
    PROXY_CONNECTION = 2 /* v2 LOCAL, v1 UNKNOWN, or a family that is not TCP over IPv4/6:
                            the connection's own addresses stand (a balancer's health check) */
} proxy_result;

typedef struct {
    int version;                /* 1 or 2 */
    int family;                 /* AF_INET or AF_INET6 with PROXY_ADDRESS, else AF_UNSPEC */
    char src[INET6_ADDRSTRLEN]; /* the client, IPv4-mapped IPv6 given as IPv4 */
    char dst[INET6_ADDRSTRLEN];
    int src_port, dst_port;
    size_t length; /* bytes of the header (with PROXY_ADDRESS or PROXY_CONNECTION) */
} proxy_header;

/* Parses the header at the start of p[0..n). With PROXY_ADDRESS or PROXY_CONNECTION,
 * h->length bytes are the header and what follows is the SMTP stream; with PROXY_BAD,
 * *why is a static text. v2 TLVs are skipped unread. */
proxy_result proxy_parse(const unsigned char *p, size_t n, proxy_header *h, const char **why);

#endif
