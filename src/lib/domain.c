/* domain.c — label-boundary domain matching, host name and mailbox syntax (see domain.h). */
#include "domain.h"

#include <string.h>
#include <strings.h>

static size_t without_root_dots(const char *s, size_t n)
{
    while (n && s[n - 1] == '.')
        n--;
    return n;
}

ssize_t bs_domain_under(const char *name, size_t n, const char *domain)
{
    if (!name || !domain)
        return -1;
    n = without_root_dots(name, n);
    size_t dn = without_root_dots(domain, strlen(domain));
    if (n == 0 || dn == 0)
        return -1;
    if (n == dn)
        return strncasecmp(name, domain, dn) == 0 ? 0 : -1;
    /* a subdomain: at least one octet, then the dot, then the domain */
    if (n > dn + 1 && name[n - dn - 1] == '.' && strncasecmp(name + n - dn, domain, dn) == 0)
        return (ssize_t)(n - dn - 1);
    return -1;
}

static int is_alnum(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int bs_hostname_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if (is_alnum(c) || (c == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* RFC 5321 atext (RFC 5322 3.2.3): letters, digits and these. */
static int is_atext(unsigned char c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

int bs_mailbox_valid(const char *s, size_t n)
{
    if (!s || n == 0 || n > 254)
        return 0;
    const char *at = memchr(s, '@', n);
    if (!at)
        return 0;
    size_t ln = (size_t)(at - s);
    if (ln == 0 || ln > 64)
        return 0;
    /* Dot-string: atoms joined by single dots; atext holds no '@', so a second '@' in
     * the domain fails the host name check below. */
    for (size_t i = 0; i < ln; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (i == 0 || i == ln - 1 || s[i - 1] == '.')
                return 0;
        } else if (!is_atext(c)) {
            return 0;
        }
    }
    return bs_hostname_valid(at + 1, n - ln - 1);
}
