/* auth_dkim.h — DKIM verification (private to the auth module, auth.c), on libopendkim.
 *
 * One dkim_verifier per thread: it owns a DKIM_LIB handle, set up once, a scratch
 * buffer for CRLF conversion and a 64 KB block from which libopendkim's memory for one
 * message is taken (emptied for the next). Keys come from DNS, or, when key_file is
 * not NULL, from that file (lines "selector._domainkey.domain TXT-text"), read once
 * by dkimv_new and searched in memory with the rules of OpenDKIM's file query method.
 */
#ifndef BS_GLOBAL_AUTH_DKIM_H
#define BS_GLOBAL_AUTH_DKIM_H

#include <stddef.h>

#include "auth.h"

typedef struct dkim_verifier dkim_verifier;

/* NULL on failure with *err (caller frees) saying why. */
dkim_verifier *dkimv_new(const char *key_file, char **err);
void dkimv_free(dkim_verifier *v);

/* Verifies every DKIM-Signature of the message (header, empty line, body; CRLF or
 * LF line ends) into *out (overwritten; see auth.h). */
void dkimv_check(dkim_verifier *v, const char *msg, size_t len, auth_dkim *out);

/* Takes the verdict of an earlier verification of the same message in which all n
 * signatures passed (listen's, see auth_check_reusing): the message's DKIM-Signature
 * fields are parsed, without key lookup, hashing or RSA, and when they are exactly n
 * with these domains and selectors in this order, *out is what dkimv_check gives for
 * them (every signature pass, the first chosen, its cover). Else -1, *out empty. */
int dkimv_adopt(dkim_verifier *v, const char *msg, size_t len, const char *const *domains,
                const char *const *selectors, size_t n, auth_dkim *out);

#endif
