/* libFuzzer target: domain matching, host name and mailbox syntax (src/lib/domain.c).
 * Input: a name, a newline, a domain. Checks what the callers rely on: a match is on a
 * label boundary and case-insensitive, a valid host name or mailbox holds only the octets
 * its grammar allows and a mailbox exactly one '@'. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "domain.h"
#include "util.h"

static size_t trimmed(const char *s, size_t n)
{
    while (n && s[n - 1] == '.')
        n--;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    const char *nl = memchr(p, '\n', size);
    size_t n = nl ? (size_t)(nl - p) : size;
    char *domain = nl ? xstrndup(nl + 1, size - n - 1) : xstrdup("e.sparkpost.com");
    size_t dn = trimmed(domain, strlen(domain));

    ssize_t k = bs_domain_under(p, n, domain);
    size_t nn = trimmed(p, n);
    if (k == 0 && (nn != dn || strncasecmp(p, domain, dn) != 0))
        abort();
    if (k > 0 &&
        ((size_t)k + 1 + dn != nn || p[k] != '.' || strncasecmp(p + k + 1, domain, dn) != 0))
        abort();
    if (k < -1)
        abort();

    if (bs_hostname_valid(p, n)) {
        if (n > 253 || p[0] == '.' || p[0] == '-' || p[n - 1] == '.' || p[n - 1] == '-')
            abort();
        for (size_t i = 0; i < n; i++)
            if (!isalnum((unsigned char)p[i]) && p[i] != '-' && p[i] != '.')
                abort();
    }
    if (bs_mailbox_valid(p, n)) {
        size_t ats = 0;
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= ' ' || c >= 0x7f || strchr("\"<>()[]\\,;:", c))
                abort();
            ats += c == '@';
        }
        if (ats != 1 || n > 254)
            abort();
        const char *at = memchr(p, '@', n);
        if (!bs_hostname_valid(at + 1, n - (size_t)(at - p) - 1))
            abort();
    }
    free(domain);
    return 0;
}
