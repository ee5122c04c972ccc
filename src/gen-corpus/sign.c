/* sign.c — DKIM keys and signing for gen-corpus. See sign.h. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sign.h"

const char *const sign_headers[] = {
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "list-unsubscribe",
    "list-unsubscribe-post",
    "x-msfbl",
    "cfbl-address",          /* RFC 9477 */
    "cfbl-feedback-id",      /* RFC 9477 */
    "x-bouncy-sink-outcome", /* sender-chosen outcomes (override.h) */
    NULL,
};

struct dkim_signer {
    DKIM_LIB *lib;
    char *pem;
    char *selector;
    char *domain;
    EVP_PKEY *pkey; /* pem, decoded once */
};

/* libopendkim decodes the PEM private key for every message it signs; with
 * OpenSSL 3.0 that costs several times the RSA signature. This executable's
 * PEM_read_bio_PrivateKey takes precedence over libcrypto's for libopendkim's
 * calls: while a signer is signing on this thread, a BIO holding exactly its PEM
 * gets its already decoded key; everything else goes to OpenSSL. */
static __thread dkim_signer *current_signer;

typedef EVP_PKEY *(*pem_read_fn)(BIO *, EVP_PKEY **, pem_password_cb *, void *);

EVP_PKEY *PEM_read_bio_PrivateKey(BIO *bp, EVP_PKEY **x, pem_password_cb *cb, void *u)
{
    static pem_read_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "PEM_read_bio_PrivateKey");
        if (!sym)
            bs_panic("dlsym(PEM_read_bio_PrivateKey): %s", dlerror());
        memcpy(&real, &sym, sizeof real);
    }
    dkim_signer *s = current_signer;
    char *data = NULL;
    long n;
    if (s && s->pkey && !x && BIO_method_type(bp) == BIO_TYPE_MEM &&
        (n = BIO_get_mem_data(bp, &data)) > 0 && (size_t)n == strlen(s->pem) &&
        memcmp(data, s->pem, (size_t)n) == 0 && EVP_PKEY_up_ref(s->pkey) == 1)
        return s->pkey;
    return real(bp, x, cb, u);
}

static char *ssl_error(const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return xasprintf("%s: %s", what, e ? buf : "unknown OpenSSL error");
}

char *sign_generate_key(int bits, char **err)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
    if (!key) {
        *err = ssl_error("RSA key generation");
        return NULL;
    }
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (bio && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *p;
        long n = BIO_get_mem_data(bio, &p);
        out = xstrndup(p, (size_t)n);
    } else {
        *err = ssl_error("writing the key");
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

char *sign_public_b64(const char *pem, char **err)
{
    BIO *bio = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!key) {
        *err = ssl_error("reading the private key");
        return NULL;
    }
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        *err = xstrdup("the private key is not an RSA key");
        return NULL;
    }
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    EVP_PKEY_free(key);
    if (n <= 0) {
        *err = ssl_error("encoding the public key");
        return NULL;
    }
    char *b64 = bs_base64_encode(der, (size_t)n);
    OPENSSL_free(der);
    return b64;
}

dkim_signer *signer_new(const char *pem, const char *selector, const char *domain, char **err)
{
    dkim_signer *s = xcalloc(1, sizeof *s);
    s->lib = dkim_init(NULL, NULL);
    if (!s->lib) {
        *err = xstrdup("dkim_init failed");
        free(s);
        return NULL;
    }
    DKIM_STAT st = dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS,
                                (void *)(uintptr_t)sign_headers, sizeof(char **));
    if (st != DKIM_STAT_OK) {
        *err = xasprintf("dkim_options(SIGNHDRS): %s", dkim_getresultstr(st));
        signer_free(s);
        return NULL;
    }
    s->pem = xstrdup(pem);
    BIO *bio = BIO_new_mem_buf(pem, -1);
    s->pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!s->pkey) {
        *err = ssl_error("reading the private key");
        signer_free(s);
        return NULL;
    }
    s->selector = xstrdup(selector);
    s->domain = xstrdup(domain);
    return s;
}

void signer_free(dkim_signer *s)
{
    if (!s)
        return;
    if (s->lib)
        dkim_close(s->lib);
    if (s->pkey)
        EVP_PKEY_free(s->pkey);
    free(s->pem);
    free(s->selector);
    free(s->domain);
    free(s);
}

int signer_sign(dkim_signer *s, const char *msg, size_t len, long when, bs_buf *out, char **err)
{
    uint64_t fixed = (uint64_t)when;
    dkim_options(s->lib, DKIM_OP_SETOPT, DKIM_OPTS_FIXEDTIME, &fixed, sizeof fixed);
    DKIM_STAT st;
    DKIM *d = dkim_sign(s->lib, (const unsigned char *)"gen-corpus", NULL, (dkim_sigkey_t)s->pem,
                        (const unsigned char *)s->selector, (const unsigned char *)s->domain,
                        DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, DKIM_SIGN_RSASHA256, -1, &st);
    if (!d) {
        *err = xasprintf("dkim_sign: %s", dkim_getresultstr(st));
        return -1;
    }
    current_signer = s;
    st = dkim_chunk(d, (unsigned char *)(uintptr_t)msg, len);
    if (st == DKIM_STAT_OK)
        st = dkim_chunk(d, NULL, 0);
    if (st == DKIM_STAT_OK)
        st = dkim_eom(d, NULL);
    current_signer = NULL;
    unsigned char *hdr = NULL;
    size_t hlen = 0;
    static const char name[] = "DKIM-Signature: ";
    if (st == DKIM_STAT_OK)
        st = dkim_getsighdr_d(d, sizeof name - 1, &hdr, &hlen);
    if (st != DKIM_STAT_OK) {
        const char *why = dkim_geterror(d);
        *err = xasprintf("signing: %s%s%s", dkim_getresultstr(st), why ? ": " : "", why ? why : "");
        dkim_free(d);
        return -1;
    }
    buf_puts(out, name);
    /* libopendkim folds with a bare LF before the continuation TAB. */
    for (size_t i = 0; i < hlen; i++) {
        if (hdr[i] == '\n' && (i == 0 || hdr[i - 1] != '\r'))
            buf_putc(out, '\r');
        buf_putc(out, (char)hdr[i]);
    }
    buf_puts(out, "\r\n");
    dkim_free(d);
    return 0;
}
