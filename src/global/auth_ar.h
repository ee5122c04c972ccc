/* auth_ar.h — reading an Authentication-Results field (RFC 8601) back: the one listen
 * wrote (auth_ar_header), trusted only where listen writes it.
 *
 * Trust: a sender may put any Authentication-Results field in its message, but
 * everything it sends comes below listen's Received field. So only an
 * Authentication-Results field above the topmost Received field counts (the topmost if
 * several), only when that Received field exists, and only when its authserv-id is ours
 * (the [Listen] Hostname), as for the route trace field (route.h).
 */
#ifndef BS_GLOBAL_AUTH_AR_H
#define BS_GLOBAL_AUTH_AR_H

#include <jansson.h>
#include <stddef.h>

/* Parses a field value (after "Authentication-Results:", folded or not) into a JSON
 * object: {"authserv_id": "...", "results": [{"method": "spf", "result": "pass",
 * "smtp.mailfrom": "...", ...}, ...]} (comments dropped, quoted-strings unquoted).
 * NULL when the value breaks the RFC 8601 syntax. Bounded: at most 32 results of at
 * most 16 properties each (more is a syntax error). */
json_t *auth_ar_parse(const char *value, size_t n);

/* The trusted field of a header block (see above), parsed; NULL when there is none. */
json_t *auth_ar_from_trace(const char *block, size_t n, const char *authserv_id);

#endif
