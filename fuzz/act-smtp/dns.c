/* Fuzz target for the reading of DNS replies to act-smtp's MX, A and AAAA queries
 * (mx_read_answers). The first input byte picks the query type (MX, A, AAAA, or a type
 * asked for nothing), the rest is the reply as a name server would send it. Checks: the
 * count is -1 or at most the answer count, the MX host is NUL-terminated inside its buffer
 * (also in a buffer too small for it), and a reply with no MX answer leaves it empty. */
#include <arpa/nameser.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/act-smtp/mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[] = {ns_t_mx, ns_t_a, ns_t_aaaa, ns_t_txt};
    if (size < 1 || size > 65536)
        return 0;
    int type = types[data[0] % 4];
    const unsigned char *ans = data + 1;
    int len = (int)(size - 1);
    int ancount = len >= 8 ? (ans[6] << 8 | ans[7]) : 0;

    char name[NS_MAXDNAME];
    memset(name, 0, sizeof name);
    int n = mx_read_answers(ans, len, type, name, sizeof name);
    if (n < -1 || n > ancount)
        abort();
    if (memchr(name, 0, sizeof name) == NULL)
        abort();
    if (type == ns_t_mx && n <= 0 && name[0] != 0)
        abort();
    if (type != ns_t_mx && name[0] != 0)
        abort();

    char small[8];
    memset(small, 'x', sizeof small);
    small[0] = 0;
    int m = mx_read_answers(ans, len, type, small, sizeof small);
    if (m != n || memchr(small, 0, sizeof small) == NULL)
        abort();
    if (type == ns_t_mx && n > 0 && strncmp(small, name, sizeof small - 1) != 0)
        abort();
    return 0;
}
