/* auth_signed.h — what a passing DKIM signature covers (RFC 6376), so that only signed
 * content steers the sink's actions (part of the auth module, auth.h).
 *
 * A signature's h= tag names header fields; each name covers one instance of that field,
 * taken from the bottom of the header section upwards (the first listing of a name covers
 * the bottom-most instance, the next one the instance above it, §5.4.2); a name listed
 * more often than the field occurs covers nothing more (over-signing). Instances above the
 * covered ones were added after signing, or not signed.
 *
 * Its l= tag counts octets of the canonicalised body (§3.5, §3.4.3-4): whatever follows
 * is not signed. sig_body_prefix maps that count back to the raw body, by whole lines.
 */
#ifndef BS_GLOBAL_AUTH_SIGNED_H
#define BS_GLOBAL_AUTH_SIGNED_H

#include <stddef.h>

/* The signature that decided a DKIM pass (auth_dkim.cover, filled by dkimv_check). */
typedef struct {
    int pass;         /* a signature passed; the fields below are its own */
    char *h;          /* its h= tag value as written (owned; NULL when absent) */
    long long l;      /* its l= tag, -1 when absent */
    int relaxed_body; /* its body canonicalisation is relaxed (else simple) */
} sig_cover;

void sig_cover_clear(sig_cover *c);

/* For the n header fields of a message, top to bottom, named names[i] (name_lens[i]
 * bytes), sets covered[i] to 1 when h covers that instance, else 0. */
void sig_cover_fields(const char *h, const char *const *names, const size_t *name_lens, size_t n,
                      unsigned char *covered);

/* The length of the longest run of whole lines at the start of body (len bytes, CRLF or
 * LF line ends) whose canonical form (relaxed or simple) is at most l octets. *complete
 * is set when the whole body's canonical form is at most l octets (what follows the
 * prefix is then only empty lines, which canonicalisation drops); the prefix is then len. */
size_t sig_body_prefix(const char *body, size_t len, int relaxed, long long l, int *complete);

#endif
