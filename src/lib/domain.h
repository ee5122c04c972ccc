/* domain.h — domain names and mailbox addresses: the one place where a host is compared
 * with a domain, and where an address that will be used as an SMTP recipient is checked.
 *
 * Every "is this host that domain, or under it?" question in Bouncy Sink goes through
 * bs_domain_under: whole labels only ("fakee.sparkpost.com" is not under
 * "e.sparkpost.com"), ASCII case-insensitive, a trailing root dot ignored on either side.
 */
#ifndef BS_DOMAIN_H
#define BS_DOMAIN_H

#include <stddef.h>
#include <sys/types.h>

/* Where the name [name, name+n) stands relative to domain (NUL-terminated):
 *   -1  neither domain nor a subdomain of it (also when either is empty or ".");
 *    0  the domain itself;
 *   k>0 a subdomain: its first k bytes are the labels in front of the domain, without
 *       the dot that separates them ("acme" for acme.e.sparkpost.com under e.sparkpost.com).
 * No syntax check is made: see bs_hostname_valid. */
ssize_t bs_domain_under(const char *name, size_t n, const char *domain);

/* True when [s, s+n) is a host name as RFC 5321 writes a Domain: dot-separated labels of
 * letters, digits and hyphens, a label 1-63 octets that neither starts nor ends with a
 * hyphen, at most 253 octets in all, no trailing dot. */
int bs_hostname_valid(const char *s, size_t n);

/* True when [s, s+n) is exactly one RFC 5321 Mailbox usable as a recipient without any
 * relay reading it differently: Local-part "@" Domain, where the local part is a
 * Dot-string (atoms of atext joined by single dots, at most 64 octets) and the domain a
 * host name (bs_hostname_valid); at most 254 octets in all (a 256-octet Path with its
 * angle brackets). Refused as well: a quoted local part ("a@b"@c.test would carry a second
 * @), an address literal, a source route, anything outside printable ASCII. */
int bs_mailbox_valid(const char *s, size_t n);

#endif
