/* sign.h — DKIM keys and signing for gen-corpus (libopendkim + OpenSSL).
 *
 * A dkim_signer holds one RSA private key (PEM), the selector and domain, and a
 * DKIM_LIB handle made once. Not shared between threads.
 */
#ifndef BS_GEN_CORPUS_SIGN_H
#define BS_GEN_CORPUS_SIGN_H

#include <stddef.h>

#include "util.h"

typedef struct dkim_signer dkim_signer;

/* Generates an RSA key of `bits` bits; returns its PKCS#8 PEM (caller frees) or
 * NULL with *err. */
char *sign_generate_key(int bits, char **err);
/* The public half of a PEM private key as base64 DER SubjectPublicKeyInfo (the p=
 * value of the DKIM key record), or NULL with *err. */
char *sign_public_b64(const char *pem, char **err);

dkim_signer *signer_new(const char *pem, const char *selector, const char *domain, char **err);
void signer_free(dkim_signer *s);

/* Signs a CRLF message (relaxed/relaxed, rsa-sha256, t = `when`); appends the
 * complete field "DKIM-Signature: ...\r\n" (folded with CRLF TAB) to out.
 * 0 ok, -1 with *err. */
int signer_sign(dkim_signer *s, const char *msg, size_t len, long when, bs_buf *out, char **err);

/* The headers signed, in h= order. */
extern const char *const sign_headers[];

#endif
