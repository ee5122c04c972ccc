/* libFuzzer target: networks written ADDRESS[/BITS] (src/lib/cidr.c), as [Listen]
 * Proxy_Networks and [Http] Allowed_Networks / Private_Address_Exceptions give them.
 * Checks what the callers rely on: a refusal says why; an accepted network has a prefix
 * of its family's range, an IPv4 one lies in ::ffff:0:0/96, it holds its own address
 * (also through a socket address), and written back as text it parses to the same. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[128];
    if (size >= sizeof text)
        return 0;
    memcpy(text, data, size);
    text[size] = 0;
    bs_cidr net;
    const char *why = NULL;
    if (bs_cidr_parse(text, &net, &why) < 0) {
        if (!why || !*why)
            abort();
        return 0;
    }
    int prefix = bs_cidr_prefix(&net);
    if (net.bits < 0 || net.bits > 128 || prefix < 0 || prefix > (net.v4 ? 32 : 128))
        abort();
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (net.v4 && (net.bits < 96 || memcmp(net.addr, mapped, 12) != 0))
        abort();
    if (!strchr(text, '/') && net.bits != 128) /* a bare address: /32 or /128 */
        abort();
    if (!bs_cidr_has(&net, net.addr))
        abort();

    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    if (net.v4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, net.addr + 12, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, net.addr, 16);
    }
    if (!bs_cidr_match(&net, 1, (struct sockaddr *)&ss))
        abort();

    char addr[INET6_ADDRSTRLEN], again[INET6_ADDRSTRLEN + 8];
    if (!inet_ntop(net.v4 ? AF_INET : AF_INET6, net.v4 ? net.addr + 12 : net.addr, addr,
                   sizeof addr))
        abort();
    snprintf(again, sizeof again, "%s/%d", addr, prefix);
    bs_cidr back;
    if (bs_cidr_parse(again, &back, &why) < 0 || back.bits != net.bits || back.v4 != net.v4 ||
        memcmp(back.addr, net.addr, 16) != 0)
        abort();
    return 0;
}
