/* auth_dkim.c — DKIM verification with libopendkim. See auth_dkim.h.
 *
 * The DKIM_LIB handle is made once per verifier (per thread): library set-up costs
 * far more than verifying one message. Every signature is verified (libopendkim's
 * default); at most DKIMV_MAX_SIGS per message, the rest are marked permerror, so a
 * message stuffed with signatures cannot make us do unbounded RSA work or DNS queries.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <opendkim/dkim.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "auth_dkim.h"
#include "lines.h"
#include "util.h"

#define DKIMV_MAX_SIGS 8
#define DKIMV_DNS_TIMEOUT 5                 /* seconds, per key query */
#define DKIMV_KEY_CACHE 16                  /* decoded public keys kept per verifier */
#define DKIMV_ARENA_SIZE ((size_t)64 << 10) /* per-message libopendkim memory, see arena_alloc */

typedef struct {
    unsigned char *der;
    size_t len;
    EVP_PKEY *pkey;
} cached_key;

#define DKIMV_DNS_CACHE 64    /* key records kept per verifier */
#define DKIMV_DNS_MAX_TTL 300 /* seconds a key record is kept at most */
#define DKIMV_DNS_NEG_TTL 60  /* seconds a "no such key" answer is kept */

typedef struct {
    char *name;
    int type;
    unsigned char *answer;
    size_t len;
    double expires;
} dns_entry;

/* libopendkim's DNS service, replaced (see dns_start) so that NXDOMAIN and
 * "no TXT record" reach the library as answers (a permerror: no key) while
 * SERVFAIL and time-outs stay query failures (a temperror), and so that key
 * records are cached per thread instead of asked for every message. */
typedef struct {
    struct __res_state res;
    int res_ready;
    dns_entry cache[DKIMV_DNS_CACHE];
    unsigned next;
    size_t anslen; /* of the query in progress */
    int failed;
} dkimv_dns;

/* Memory for one DKIM handle (see arena_alloc). */
typedef struct {
    unsigned char *base; /* DKIMV_ARENA_SIZE bytes */
    size_t used;
} dkimv_arena;

/* One entry of the key file: pointers into key_index. */
typedef struct {
    const char *name, *value;
} file_key;

struct dkim_verifier {
    DKIM_LIB *lib;
    char *key_file;
    char *key_text; /* the key file's contents, read once */
    size_t key_text_len;
    file_key *file_keys; /* its entries in file order, cut for key_index_buflen */
    size_t nfile_keys;
    char *key_index;         /* the pieces the entries point into */
    size_t key_index_buflen; /* 0: not cut yet */
    bs_buf crlf;             /* the message with bare LF turned into CRLF, reused */
    cached_key keys[DKIMV_KEY_CACHE];
    unsigned next_key; /* round-robin replacement */
    dkimv_dns *dns;    /* NULL with a key file */
    dkimv_arena arena; /* the memory closure of the message's DKIM handle */
    int parse_only;    /* dkimv_adopt: signatures are read, none verified */
};

/* ---- DNS ---- */

/* The smallest TTL of the answer records, capped; -1 when it cannot be read. */
static long answer_ttl(const unsigned char *ans, size_t len)
{
    ns_msg msg;
    if (ns_initparse(ans, (int)len, &msg) < 0)
        return -1;
    long ttl = DKIMV_DNS_MAX_TTL;
    int n = ns_msg_count(msg, ns_s_an);
    for (int i = 0; i < n; i++) {
        ns_rr rr;
        if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
            return -1;
        if ((long)ns_rr_ttl(rr) < ttl)
            ttl = (long)ns_rr_ttl(rr);
    }
    return ttl;
}

static void dns_cache_put(dkimv_dns *d, const char *name, int type, const unsigned char *ans,
                          size_t len, long ttl)
{
    if (ttl <= 0)
        return;
    dns_entry *e = &d->cache[d->next++ % DKIMV_DNS_CACHE];
    free(e->name);
    free(e->answer);
    e->name = xstrdup(name);
    e->type = type;
    e->answer = xmalloc(len);
    memcpy(e->answer, ans, len);
    e->len = len;
    e->expires = bs_now() + (double)ttl;
}

/* A reply made from the question alone: rcode NXDOMAIN or NOERROR without answers. */
static int synthesize_reply(dkimv_dns *d, const char *name, int type, int rcode, unsigned char *buf,
                            size_t buflen)
{
    int n = res_nmkquery(&d->res, ns_o_query, name, ns_c_in, type, NULL, 0, NULL, buf, (int)buflen);
    if (n < (int)sizeof(HEADER))
        return -1;
    HEADER *h = (HEADER *)buf;
    h->qr = 1;
    h->ra = 1;
    h->rcode = rcode & 0xF;
    return n;
}

static int dns_start(void *srv, int type, unsigned char *query, unsigned char *buf, size_t buflen,
                     void **qh)
{
    dkimv_dns *d = srv;
    const char *name = (const char *)query;
    *qh = d;
    d->failed = 0;
    d->anslen = 0;
    double now = bs_now();
    for (unsigned i = 0; i < DKIMV_DNS_CACHE; i++) {
        dns_entry *e = &d->cache[i];
        if (e->name && e->type == type && e->expires > now && e->len <= buflen &&
            strcasecmp(e->name, name) == 0) {
            memcpy(buf, e->answer, e->len);
            d->anslen = e->len;
            return 0;
        }
    }
    if (!d->res_ready) {
        if (res_ninit(&d->res) != 0) {
            d->failed = 1;
            return 0;
        }
        d->res_ready = 1;
    }
    int n = res_nquery(&d->res, name, ns_c_in, type, buf, (int)buflen);
    if (n >= 0) {
        d->anslen = (size_t)n;
        dns_cache_put(d, name, type, buf, (size_t)n, answer_ttl(buf, (size_t)n));
        return 0;
    }
    int herr = d->res.res_h_errno;
    if (herr == HOST_NOT_FOUND || herr == NO_DATA) {
        n = synthesize_reply(d, name, type, herr == HOST_NOT_FOUND ? ns_r_nxdomain : ns_r_noerror,
                             buf, buflen);
        if (n > 0) {
            d->anslen = (size_t)n;
            dns_cache_put(d, name, type, buf, (size_t)n, DKIMV_DNS_NEG_TTL);
            return 0;
        }
    }
    d->failed = 1; /* SERVFAIL, refused, time-out: a temporary failure */
    return 0;
}

static int dns_waitreply(void *srv, void *qh, struct timeval *to, size_t *bytes, int *error,
                         int *dnssec)
{
    dkimv_dns *d = srv;
    (void)qh;
    (void)to;
    if (bytes)
        *bytes = d->anslen;
    if (error)
        *error = 0;
    if (dnssec)
        *dnssec = DKIM_DNSSEC_UNKNOWN;
    return d->failed ? DKIM_DNS_ERROR : DKIM_DNS_SUCCESS;
}

static int dns_cancel(void *srv, void *qh)
{
    (void)srv;
    (void)qh;
    return 0;
}

static int dns_init(void **srv)
{
    (void)srv;
    return 0; /* the service is set before any query */
}

static void dns_close(void *srv)
{
    (void)srv; /* freed by dkimv_free */
}

static void dns_free(dkimv_dns *d)
{
    if (!d)
        return;
    for (unsigned i = 0; i < DKIMV_DNS_CACHE; i++) {
        free(d->cache[i].name);
        free(d->cache[i].answer);
    }
    if (d->res_ready)
        res_nclose(&d->res);
    free(d);
}

/* ---- per-message memory for libopendkim ----
 *
 * libopendkim allocates some 75 blocks for every message it verifies (each header field,
 * the signature's tags, the canonicalisations and their buffers, ...) and frees them all
 * in dkim_free(): with malloc() that was a thirtieth of the instructions of a
 * verification. Its memory hooks (dkim_init) get the handle's memory closure
 * (dkim_verify): a DKIM handle is given the verifier's arena, blocks are carved from
 * it in order, freeing one of them does nothing, and the arena is emptied before the
 * next handle is made (the previous one is freed by then: dkimv_check and dkimv_adopt
 * free theirs before they return). A block that does not fit goes to malloc(), and its
 * release to free(), as everything of the library handle itself (closure NULL) does, so
 * a message that needs more than DKIMV_ARENA_SIZE is served as before. */
static void *arena_alloc(void *closure, size_t n)
{
    dkimv_arena *a = closure;
    size_t need = (n + 15) & ~(size_t)15; /* malloc()'s alignment */
    if (!a || need < n || DKIMV_ARENA_SIZE - a->used < need)
        return malloc(n);
    void *p = a->base + a->used;
    a->used += need;
    return p;
}

static void arena_release(void *closure, void *p)
{
    const dkimv_arena *a = closure;
    uintptr_t u = (uintptr_t)p, base = a ? (uintptr_t)a->base : 0;
    if (a && u >= base && u - base < DKIMV_ARENA_SIZE)
        return; /* emptied with the handle */
    free(p);
}

/* ---- public-key decoding cache ----
 *
 * libopendkim decodes the signer's public key (d2i_PUBKEY_bio) for every signature
 * it verifies. With OpenSSL 3.0 that decoding costs ~100 µs, six times the RSA
 * verification itself (~17 µs), and would cap ingest near 6,000 messages/s per core.
 * libopendkim offers no hook to keep decoded keys, so this file defines
 * d2i_PUBKEY_bio: the executable's definition takes precedence over libcrypto's
 * for libopendkim's calls. While a verifier is checking a message on this thread,
 * keys are served from its small cache (by exact DER bytes, so a changed key is a
 * miss); every other call goes straight to OpenSSL's function. */
static __thread dkim_verifier *current_verifier;

typedef EVP_PKEY *(*d2i_pubkey_bio_fn)(BIO *, EVP_PKEY **);

static d2i_pubkey_bio_fn real_d2i_pubkey_bio(void)
{
    static d2i_pubkey_bio_fn real;
    if (!real) {
        void *sym = dlsym(RTLD_NEXT, "d2i_PUBKEY_bio");
        if (!sym)
            bs_panic("dlsym(d2i_PUBKEY_bio): %s", dlerror());
        memcpy(&real, &sym, sizeof real);
    }
    return real;
}

EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a);
EVP_PKEY *d2i_PUBKEY_bio(BIO *bp, EVP_PKEY **a)
{
    dkim_verifier *v = current_verifier;
    char *data = NULL;
    long n;
    if (!v || a || BIO_method_type(bp) != BIO_TYPE_MEM || (n = BIO_get_mem_data(bp, &data)) <= 0)
        return real_d2i_pubkey_bio()(bp, a);
    for (unsigned i = 0; i < DKIMV_KEY_CACHE; i++) {
        cached_key *k = &v->keys[i];
        if (k->pkey && k->len == (size_t)n && memcmp(k->der, data, k->len) == 0) {
            if (EVP_PKEY_up_ref(k->pkey) != 1)
                break;
            return k->pkey;
        }
    }
    const unsigned char *p = (const unsigned char *)data;
    EVP_PKEY *pkey = d2i_PUBKEY(NULL, &p, n);
    if (!pkey || EVP_PKEY_up_ref(pkey) != 1)
        return pkey;
    cached_key *k = &v->keys[v->next_key++ % DKIMV_KEY_CACHE];
    if (k->pkey)
        EVP_PKEY_free(k->pkey);
    free(k->der);
    k->der = xmalloc((size_t)n);
    memcpy(k->der, data, (size_t)n);
    k->len = (size_t)n;
    k->pkey = pkey;
    return pkey;
}

/* ---- key file, served from memory ----
 *
 * libopendkim's file query method (dkim_get_key_file) opens the key file and scans it
 * with fgets() for every signature: a system call or three and a scan per message. The
 * file is read once when the verifier is made, and a key lookup callback serves keys
 * from memory with exactly the library's rules, so results cannot differ:
 *   - the file is cut into the pieces fgets() would return for the caller's buffer
 *     size (a line, or a part of a line longer than the buffer); text after a NUL
 *     byte in a piece is not seen;
 *   - a piece starting with '#' is skipped;
 *   - the name is the text before the first blank (isspace), compared without case
 *     with "selector._domainkey.domain"; a piece without a blank never matches;
 *   - the value starts after the blanks that follow the name and runs to the end of
 *     the piece (line end included), or is empty when the line ends after the blanks;
 *   - the first matching piece wins.
 * A change of the file during a run is not seen (the library reread it each time). */

/* Reads the whole key file into v->key_text, its lines ended by "\n" whatever they ended
 * with in the file (LF, CRLF or CR, see lines.h), so that a key file written on any
 * system gives the same keys. 0, or -1 with errno set. */
static int read_key_file(dkim_verifier *v)
{
    char *data;
    size_t len;
    if (bs_read_file(v->key_file, (size_t)256 << 20, &data, &len) < 0)
        return -1;
    bs_buf b;
    buf_init(&b);
    buf_reserve(&b, len);
    bs_lines lines;
    bs_lines_init(&lines, data, len);
    const char *line;
    size_t n;
    while (bs_lines_next(&lines, &line, &n)) {
        buf_append(&b, line, n);
        buf_putc(&b, '\n');
    }
    free(data);
    v->key_text_len = b.len;
    v->key_text = buf_steal(&b);
    return 0;
}

/* Cuts the key file into entries as dkim_get_key_file() would with a buffer of
 * buflen bytes (see above). */
static void index_key_file(dkim_verifier *v, size_t buflen)
{
    free(v->file_keys);
    free(v->key_index);
    v->file_keys = NULL;
    v->nfile_keys = 0;
    v->key_index_buflen = buflen;
    /* Every piece is copied NUL-terminated: at most one extra byte per piece. */
    size_t max_pieces = v->key_text_len / (buflen > 1 ? buflen - 1 : 1) + 2;
    for (const char *p = v->key_text, *e = p + v->key_text_len; p < e;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        max_pieces++;
        p = nl ? nl + 1 : e;
    }
    v->key_index = xmalloc(v->key_text_len + max_pieces);
    v->file_keys = xmalloc(max_pieces * sizeof *v->file_keys);
    char *out = v->key_index;
    size_t pos = 0;
    while (pos < v->key_text_len && buflen > 1) {
        /* One fgets() piece: up to buflen - 1 bytes, through the first newline. */
        size_t max = v->key_text_len - pos < buflen - 1 ? v->key_text_len - pos : buflen - 1;
        const char *nl = memchr(v->key_text + pos, '\n', max);
        size_t n = nl ? (size_t)(nl - (v->key_text + pos)) + 1 : max;
        char *piece = out;
        memcpy(piece, v->key_text + pos, n);
        piece[n] = '\0';
        out += n + 1;
        pos += n;
        if (piece[0] == '#')
            continue;
        char *value = NULL;
        for (char *c = piece; *c; c++) {
            if (*c == '\n') {
                *c = '\0';
                break;
            } else if (isascii((unsigned char)*c) && isspace((unsigned char)*c)) {
                *c = '\0';
                value = c + 1;
            } else if (value) {
                break;
            }
        }
        if (value)
            v->file_keys[v->nfile_keys++] = (file_key){piece, value};
    }
}

/* libopendkim's key lookup callback (with a key file). */
static DKIM_CBSTAT key_file_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
    dkim_verifier *v = dkim_get_user_context(dkim);
    const char *selector = (const char *)dkim_sig_getselector(sig);
    const char *domain = (const char *)dkim_sig_getdomain(sig);
    static const char mid[] = "._domainkey.";
    char name[256];
    size_t sl, dl;
    /* Unusual cases (a name the library would refuse or cut) get the library's own
     * file query, so that they behave as before. */
    if (!v || !v->key_text || !selector || !domain || buflen < 2 ||
        (sl = strlen(selector)) + sizeof mid - 1 + (dl = strlen(domain)) >= sizeof name)
        return DKIM_CBSTAT_DEFAULT;
    /* "selector._domainkey.domain" */
    memcpy(name, selector, sl);
    memcpy(name + sl, mid, sizeof mid - 1);
    memcpy(name + sl + sizeof mid - 1, domain, dl + 1);
    if (v->key_index_buflen != buflen)
        index_key_file(v, buflen);
    for (size_t i = 0; i < v->nfile_keys; i++) {
        if (strcasecmp(v->file_keys[i].name, name) == 0) {
            size_t len = strlen(v->file_keys[i].value);
            memcpy(buf, v->file_keys[i].value, len + 1); /* len < buflen: from a piece */
            return DKIM_CBSTAT_CONTINUE;
        }
    }
    return DKIM_CBSTAT_NOTFOUND; /* as the file method: DKIM_STAT_NOKEY */
}

/* Result of one signature, as an RFC 8601 dkim result word, from libopendkim's
 * per-signature error. Table-driven: what is not listed is a permerror (the
 * signature or key record is broken; a retry will not help). */
static const struct {
    int sigerror;
    auth_result result;
} sigerror_results[] = {
    {DKIM_SIGERROR_BADSIG, AUTH_FAIL},       {DKIM_SIGERROR_EXPIRED, AUTH_FAIL},
    {DKIM_SIGERROR_FUTURE, AUTH_FAIL},       {DKIM_SIGERROR_KEYREVOKED, AUTH_FAIL},
    {DKIM_SIGERROR_SUBDOMAIN, AUTH_FAIL},    {DKIM_SIGERROR_KEYHASHMISMATCH, AUTH_FAIL},
    {DKIM_SIGERROR_TOOLARGE_L, AUTH_FAIL},   {DKIM_SIGERROR_MBSFAILED, AUTH_FAIL},
    {DKIM_SIGERROR_KEYFAIL, AUTH_TEMPERROR}, /* the key query failed (SERVFAIL, time-out) */
};

static auth_result sigerror_result(int err)
{
    for (size_t i = 0; i < sizeof sigerror_results / sizeof sigerror_results[0]; i++)
        if (sigerror_results[i].sigerror == err)
            return sigerror_results[i].result;
    return AUTH_PERMERROR;
}

static DKIM_CBSTAT prescreen(DKIM *dkim, DKIM_SIGINFO **sigs, int nsigs)
{
    const dkim_verifier *v = dkim_get_user_context(dkim);
    for (int i = v && v->parse_only ? 0 : DKIMV_MAX_SIGS; i < nsigs; i++)
        dkim_sig_ignore(sigs[i]);
    return DKIM_CBSTAT_CONTINUE;
}

dkim_verifier *dkimv_new(const char *key_file, char **err)
{
    dkim_verifier *v = xcalloc(1, sizeof *v);
    buf_init(&v->crlf);
    *err = NULL;
    v->arena.base = xmalloc(DKIMV_ARENA_SIZE);
    v->lib = dkim_init(arena_alloc, arena_release);
    if (!v->lib) {
        *err = xstrdup("dkim_init failed");
        dkimv_free(v);
        return NULL;
    }
    unsigned int timeout = DKIMV_DNS_TIMEOUT;
    DKIM_STAT st =
        dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_TIMEOUT, &timeout, sizeof timeout);
    /* A signature that does not parse gets its own handle (a permerror) instead of
     * failing the whole message, so the other signatures are still verified. */
    unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES;
    if (st == DKIM_STAT_OK)
        st = dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
    if (st == DKIM_STAT_OK && !key_file) {
        v->dns = xcalloc(1, sizeof *v->dns);
        dkim_dns_set_init(v->lib, dns_init);
        dkim_dns_set_close(v->lib, dns_close);
        dkim_dns_set_query_start(v->lib, dns_start);
        dkim_dns_set_query_waitreply(v->lib, dns_waitreply);
        dkim_dns_set_query_cancel(v->lib, dns_cancel);
        dkim_dns_set_query_service(v->lib, v->dns);
    }
    if (st == DKIM_STAT_OK && key_file) {
        v->key_file = xstrdup(key_file);
        dkim_query_t qm = DKIM_QUERY_FILE;
        st = dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &qm, sizeof qm);
        if (st == DKIM_STAT_OK)
            st = dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, v->key_file,
                              strlen(v->key_file));
        if (st == DKIM_STAT_OK && read_key_file(v) < 0) {
            *err = xasprintf("cannot read %s: %s", v->key_file, strerror(errno));
            dkimv_free(v);
            return NULL;
        }
        if (st == DKIM_STAT_OK)
            st = dkim_set_key_lookup(v->lib, key_file_lookup);
    }
    if (st == DKIM_STAT_OK)
        st = dkim_set_prescreen(v->lib, prescreen);
    if (st != DKIM_STAT_OK) {
        *err = xasprintf("dkim_options: %s", dkim_getresultstr(st));
        dkimv_free(v);
        return NULL;
    }
    return v;
}

void dkimv_free(dkim_verifier *v)
{
    if (!v)
        return;
    if (v->lib)
        dkim_close(v->lib);
    dns_free(v->dns);
    for (unsigned i = 0; i < DKIMV_KEY_CACHE; i++) {
        if (v->keys[i].pkey)
            EVP_PKEY_free(v->keys[i].pkey);
        free(v->keys[i].der);
    }
    free(v->key_file);
    free(v->key_text);
    free(v->key_index);
    free(v->file_keys);
    buf_free(&v->crlf);
    free(v->arena.base);
    free(v);
}

/* The message with CRLF line ends: the original when it has no bare LF, else a
 * converted copy in v->crlf, made in one pass (the lines before the first bare LF in
 * one piece, then line by line, room added as needed). */
static const char *to_crlf(dkim_verifier *v, const char *msg, size_t len, size_t *outlen)
{
    const char *p = msg, *end = msg + len, *nl;
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL && nl > msg && nl[-1] == '\r')
        p = nl + 1;
    if (!nl) {
        *outlen = len;
        return msg;
    }
    bs_buf *b = &v->crlf;
    buf_reset(b);
    buf_reserve(b, len + len / 16);
    buf_append(b, msg, (size_t)(p - msg));
    for (; nl; p = nl + 1, nl = memchr(p, '\n', (size_t)(end - p))) {
        size_t n = (size_t)(nl - p);
        buf_reserve(b, n + 2);
        char *out = b->data + b->len;
        memcpy(out, p, n);
        out += n;
        if (!(nl > p && nl[-1] == '\r'))
            *out++ = '\r';
        *out++ = '\n';
        b->len = (size_t)(out - b->data);
    }
    buf_append(b, p, (size_t)(end - p));
    *outlen = b->len;
    return b->data;
}

/* Feeds a message with CRLF line ends to libopendkim exactly as dkim_chunk() does
 * (without DKIM_LIBFLAGS_FIXCRLF, with DKIM_LIBFLAGS_BADSIGHANDLES), followed by its
 * final dkim_chunk(NULL, 0) call: the same state machine splits the header section
 * into fields for dkim_header(), then dkim_eoh() and one dkim_body() for the rest.
 * dkim_chunk copies the header byte by byte into a buffer first (a twentieth of the
 * time of a message); the text it collects is always a contiguous range of the input,
 * so here the fields are handed over in place (dkim_header copies what it keeps and
 * reads nothing past len). */
/* dkim_header, or, for the header-only feed of dkimv_adopt (body 0), nothing for a field
 * that cannot be a DKIM-Signature (its name does not start so): only the signatures are
 * wanted there. A field skipped that the library would have taken for a signature only
 * makes the signatures differ from listen's, and the message is verified. */
static DKIM_STAT put_header(DKIM *d, unsigned char *p, size_t n, int body)
{
    static const char name[] = "DKIM-Signature";
    if (!body && (n < sizeof name - 1 || strncasecmp((const char *)p, name, sizeof name - 1) != 0))
        return DKIM_STAT_OK;
    return dkim_header(d, p, n);
}

static DKIM_STAT feed_message(DKIM *d, unsigned char *buf, size_t len, int body)
{
    size_t start = 0; /* the field being collected: buf[start...] */
    int sm = 0;       /* dkim_chunk's dkim_chunksm */
    DKIM_STAT st;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = buf[i];
        switch (sm) {
        case 0: { /* only a CR changes the state: skip to the next one */
            const unsigned char *cr = memchr(buf + i, '\r', len - i);
            if (!cr)
                i = len - 1;
            else
                i = (size_t)(cr - buf), sm = 1;
            break;
        }
        case 1:
            if (c == '\n') {
                if (start == 0 && i == 1) { /* "\r\n" first: no header section */
                    st = dkim_eoh(d);
                    if (st != DKIM_STAT_OK || !body)
                        return st;
                    return i + 1 < len ? dkim_body(d, buf + i + 1, len - i - 1) : DKIM_STAT_OK;
                }
                sm = 2;
            } else if (c != '\r') {
                sm = 0;
            }
            break;
        case 2:                                                    /* after CRLF */
            if (c == ' ' || c == '\t' || c == '\v' || c == '\f') { /* folded */
                sm = 0;
            } else if (c == '\r') {
                sm = 3;
            } else { /* the next field starts: the collected one ends before CRLF */
                st = put_header(d, buf + start, i - start - 2, body);
                if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX)
                    return st;
                start = i;
                sm = 0;
            }
            break;
        case 3: /* after CRLF CR (the CR not collected yet) */
            st = put_header(d, buf + start, i - 1 - start - 2, body);
            if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX)
                return st;
            if (c == '\n') { /* the empty line */
                st = dkim_eoh(d);
                if (st != DKIM_STAT_OK || !body)
                    return st;
                return i + 1 < len ? dkim_body(d, buf + i + 1, len - i - 1) : DKIM_STAT_OK;
            }
            start = i - 1;
            sm = 0;
            break;
        }
    }
    /* No empty line: the final call passes what was collected, whole, then ends the
     * header section. */
    size_t rest = (sm == 3 ? len - 1 : len) - start;
    if (rest > 0) {
        st = put_header(d, buf + start, rest, body);
        if (st != DKIM_STAT_OK && st != DKIM_STAT_SYNTAX)
            return st;
    }
    return dkim_eoh(d);
}

/* True when the header section has a DKIM-Signature field (case-insensitive). */
static int has_signature_field(const char *msg, size_t len)
{
    static const char name[] = "dkim-signature:";
    const size_t nlen = sizeof name - 1;
    const char *p = msg, *end = msg + len;
    while (p < end) {
        if (*p == '\r' || *p == '\n')
            return 0; /* empty line: end of header */
        if ((size_t)(end - p) >= nlen && strncasecmp(p, name, nlen) == 0)
            return 1;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return 0;
        p = nl + 1;
    }
    return 0;
}

static void set_sig(auth_dkim_sig *o, auth_result result, const char *domain, const char *selector,
                    const char *reason)
{
    o->result = result;
    o->domain = xstrdup(domain ? domain : "");
    o->selector = xstrdup(selector ? selector : "");
    o->reason = xstrdup(reason ? reason : "");
}

static void describe_sig(DKIM_SIGINFO *sig, auth_dkim_sig *o)
{
    const char *domain = (const char *)dkim_sig_getdomain(sig);
    const char *selector = (const char *)dkim_sig_getselector(sig);
    unsigned int flags = dkim_sig_getflags(sig);
    int bh = dkim_sig_getbh(sig);
    int err = dkim_sig_geterror(sig);

    if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
        set_sig(o, AUTH_PASS, domain, selector, "");
        const char *h = (const char *)dkim_sig_gettagvalue(sig, 0, (u_char *)"h");
        o->h = h ? xstrdup(h) : NULL;
    } else if (flags & DKIM_SIGFLAG_IGNORE)
        set_sig(o, AUTH_PERMERROR, domain, selector,
                err != DKIM_SIGERROR_OK && err != DKIM_SIGERROR_UNKNOWN
                    ? dkim_sig_geterrorstr(err)
                    : "signature ignored (too many signatures or unsupported)");
    else if (bh == DKIM_SIGBH_MISMATCH &&
             (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN ||
              err == DKIM_SIGERROR_BADSIG))
        set_sig(o, AUTH_FAIL, domain, selector, "body hash did not verify");
    else if ((err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN) &&
             !(flags & DKIM_SIGFLAG_PROCESSED))
        set_sig(o, AUTH_PERMERROR, domain, selector, "signature not processed");
    else if (err == DKIM_SIGERROR_OK || err == DKIM_SIGERROR_UNKNOWN)
        set_sig(o, AUTH_FAIL, domain, selector, "signature did not verify");
    else {
        /* libopendkim says "key not found in DNS" also for the key file. */
        const char *why =
            err == DKIM_SIGERROR_NOKEY ? "no key for signature" : dkim_sig_geterrorstr(err);
        set_sig(o, sigerror_result(err), domain, selector, why ? why : "unknown error");
    }
}

/* What the passing signature sig covers: its h= and l= tags and body canonicalisation. */
static void describe_cover(DKIM_SIGINFO *sig, sig_cover *cover)
{
    cover->pass = 1;
    const char *h = (const char *)dkim_sig_gettagvalue(sig, 0, (u_char *)"h");
    cover->h = h ? xstrdup(h) : NULL;
    const char *l = (const char *)dkim_sig_gettagvalue(sig, 0, (u_char *)"l");
    cover->l = -1;
    if (l) { /* digits, as libopendkim checked; folding white space allowed around */
        long long n = 0;
        for (; *l; l++)
            if (*l >= '0' && *l <= '9' && n < (1LL << 50))
                n = n * 10 + (*l - '0');
        cover->l = n;
    }
    dkim_canon_t hc, bc;
    cover->relaxed_body =
        dkim_sig_getcanons(sig, &hc, &bc) == DKIM_STAT_OK && bc == DKIM_CANON_RELAXED;
}

void dkimv_check(dkim_verifier *v, const char *msg, size_t len, auth_dkim *out)
{
    *out = (auth_dkim){.chosen = -1, .cover = {.l = -1}};
    if (!has_signature_field(msg, len)) {
        set_sig(&out->message, AUTH_NONE, "", "", "no signature");
        return;
    }

    size_t clen;
    const char *cmsg = to_crlf(v, msg, len, &clen);
    DKIM_STAT st;
    v->arena.used = 0;
    DKIM *d = dkim_verify(v->lib, (const unsigned char *)"bouncy-sink", &v->arena, &st);
    if (!d) {
        set_sig(&out->message, AUTH_TEMPERROR, "", "", dkim_getresultstr(st));
        return;
    }
    dkim_set_user_context(d, v);
    current_verifier = v;
    st = feed_message(d, (unsigned char *)(uintptr_t)cmsg, clen, 1);
    if (st == DKIM_STAT_OK)
        st = dkim_eom(d, NULL);
    current_verifier = NULL;

    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    if (dkim_getsiglist(d, &sigs, &nsigs) != DKIM_STAT_OK)
        nsigs = 0;

    if (nsigs > 0)
        out->sigs = xcalloc((size_t)nsigs, sizeof *out->sigs);
    for (int i = 0; i < nsigs; i++) {
        describe_sig(sigs[i], &out->sigs[i]);
        out->nsigs++;
        if (out->chosen < 0 ||
            (out->sigs[i].result == AUTH_PASS && out->sigs[out->chosen].result != AUTH_PASS))
            out->chosen = i;
    }
    if (out->chosen >= 0 && out->sigs[out->chosen].result == AUTH_PASS)
        describe_cover(sigs[out->chosen], &out->cover);
    if (out->chosen < 0) {
        /* A DKIM-Signature field libopendkim could not even parse. */
        const char *why = dkim_geterror(d);
        set_sig(&out->message, AUTH_PERMERROR, "", "", why && *why ? why : dkim_getresultstr(st));
    }
    dkim_free(d);
}

int dkimv_adopt(dkim_verifier *v, const char *msg, size_t len, const char *const *domains,
                const char *const *selectors, size_t n, auth_dkim *out)
{
    *out = (auth_dkim){.chosen = -1, .cover = {.l = -1}};
    if (n == 0 || n > DKIMV_MAX_SIGS || !has_signature_field(msg, len))
        return -1;
    /* Only the header section is fed, every signature ignored at the prescreen: the
     * library parses the DKIM-Signature fields (tags, canonicalisations) and looks up
     * no key, hashes no body and verifies nothing. */
    long hlen = 0;
    for (const char *p = msg, *end = msg + len, *nl; p < end; p = nl + 1) {
        if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
            hlen = (long)(p - msg) + (*p == '\n' ? 1 : 2);
            break;
        }
        if (!(nl = memchr(p, '\n', (size_t)(end - p))))
            return -1; /* no end of the header section */
    }
    if (hlen == 0)
        return -1;
    size_t clen;
    const char *cmsg = to_crlf(v, msg, (size_t)hlen, &clen);
    DKIM_STAT st;
    v->arena.used = 0;
    DKIM *d = dkim_verify(v->lib, (const unsigned char *)"bouncy-sink", &v->arena, &st);
    if (!d)
        return -1;
    dkim_set_user_context(d, v);
    v->parse_only = 1;
    feed_message(d, (unsigned char *)(uintptr_t)cmsg, clen, 0);
    v->parse_only = 0;
    DKIM_SIGINFO **sigs = NULL;
    int nsigs = 0;
    int same = dkim_getsiglist(d, &sigs, &nsigs) == DKIM_STAT_OK && nsigs > 0 && (size_t)nsigs == n;
    for (size_t i = 0; same && i < n; i++) {
        const char *domain = (const char *)dkim_sig_getdomain(sigs[i]);
        const char *selector = (const char *)dkim_sig_getselector(sigs[i]);
        same = domain && selector && strcmp(domain, domains[i]) == 0 &&
               strcmp(selector, selectors[i]) == 0;
    }
    if (!same) {
        dkim_free(d);
        return -1;
    }
    out->sigs = xcalloc(n, sizeof *out->sigs);
    for (size_t i = 0; i < n; i++) {
        auth_dkim_sig *o = &out->sigs[out->nsigs++];
        set_sig(o, AUTH_PASS, domains[i], selectors[i], "");
        const char *h = (const char *)dkim_sig_gettagvalue(sigs[i], 0, (u_char *)"h");
        o->h = h ? xstrdup(h) : NULL;
    }
    out->chosen = 0;
    describe_cover(sigs[0], &out->cover);
    dkim_free(d);
    return 0;
}
