/* Fuzz target: arbitrary bytes as the start of a balancer's connection into the PROXY
 * v1/v2 parser, whole and cut at a length taken from the input (as server.c sees a header
 * arrive in pieces); a header's length never exceeds what was given, an address is
 * printable. (The trusted-network parser: fuzz/lib/cidr.c.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/listen/proxy.h"

static void check(const uint8_t *data, size_t size)
{
    proxy_header h;
    const char *why;
    proxy_result r = proxy_parse(data, size, &h, &why);
    if (r == PROXY_BAD && !why)
        abort();
    if ((r == PROXY_ADDRESS || r == PROXY_CONNECTION) && (h.length == 0 || h.length > size))
        abort();
    if (r == PROXY_ADDRESS && (strlen(h.src) == 0 || strlen(h.src) >= sizeof h.src))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    if (size > 1)
        check(data + 1, (size_t)data[0] % size);
    return 0;
}
