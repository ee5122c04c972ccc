/* guard.h — the address guard of act-http (SSRF protection).
 *
 * Classifies the address a connection is about to be made to: loopback, private,
 * link-local, unspecified, multicast, broadcast, shared (CGNAT) and reserved ranges,
 * for IPv4, IPv6 and IPv4 embedded in IPv6 (::ffff:a.b.c.d, 64:ff9b::a.b.c.d).
 * The table is in guard.c. Exceptions are CIDR ranges that are allowed all the same.
 */
#ifndef ACT_HTTP_GUARD_H
#define ACT_HTTP_GUARD_H

#include <stddef.h>
#include <sys/socket.h>

/* NULL when the address may be connected to, else the class ("loopback", "private",
 * "link-local", "unspecified", "multicast", "broadcast", "shared (CGNAT)", "reserved").
 * Static strings. */
const char *guard_class(const struct sockaddr *sa);

/* A set of allowed CIDR ranges ("127.0.0.2", "10.0.0.0/8", "fd00::/8"; src/lib/cidr.h). */
typedef struct guard_exceptions guard_exceptions;
/* Parses one range and adds it; -1 with *why a static text when it is not an address or
 * CIDR range. */
int guard_exceptions_add(guard_exceptions **set, const char *cidr, const char **why);
int guard_exceptions_match(const guard_exceptions *set, const struct sockaddr *sa);
void guard_exceptions_free(guard_exceptions *set);

/* The verdict for a connection: NULL to allow, else writes "A.B.C.D is a loopback address"
 * into why and returns why. allow_all allows every address. */
const char *guard_check(const struct sockaddr *sa, int allow_all, const guard_exceptions *ex,
                        char *why, size_t whylen);

/* The address as text (inet_ntop), "?" for another family. */
void guard_addr_text(const struct sockaddr *sa, char *out, size_t outlen);

#endif
