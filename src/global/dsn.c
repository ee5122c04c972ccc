/* dsn.c — RFC 3461 DSN and RFC 6531 SMTPUTF8 parameters (see dsn.h). */
#include "dsn.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

char *dsn_xtext_decode(const char *s, size_t n, size_t *outlen)
{
    bs_buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            int hi = i + 1 < n ? hexval(s[i + 1]) : -1;
            int lo = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                goto bad;
            buf_putc(&b, (char)(hi * 16 + lo));
            i += 2;
            continue;
        }
        /* xchar: 33..126 but '+' and '='; UTF-8 octets (RFC 6533 unitext) checked later */
        if (c == '=' || c < 33 || c == 127)
            goto bad;
        buf_putc(&b, (char)c);
    }
    *outlen = b.len;
    if (!b.data)
        return xstrdup("");
    return buf_steal(&b);
bad:
    buf_free(&b);
    return NULL;
}

void dsn_xtext_encode(const char *s, bs_buf *out)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
            buf_printf(out, "+%02X", *p);
        else
            buf_putc(out, (char)*p);
    }
}

static int printable_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* UTF-8 without control characters */
static int printable_utf8(const char *s, size_t n)
{
    if (!bs_utf8_valid(s, n))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int key_is(const char *tok, size_t n, const char *key, const char **val, size_t *vn)
{
    size_t kl = strlen(key);
    if (n < kl || strncasecmp(tok, key, kl) != 0)
        return 0;
    if (n == kl) {
        *val = NULL;
        *vn = 0;
        return 1;
    }
    if (tok[kl] != '=')
        return 0;
    *val = tok + kl + 1;
    *vn = n - kl - 1;
    return 1;
}

static int parse_notify(const char *v, size_t n, unsigned *out)
{
    static const struct {
        const char *word;
        unsigned bit;
    } words[] = {{"NEVER", DSN_NOTIFY_NEVER},
                 {"SUCCESS", DSN_NOTIFY_SUCCESS},
                 {"FAILURE", DSN_NOTIFY_FAILURE},
                 {"DELAY", DSN_NOTIFY_DELAY}};
    unsigned bits = 0;
    const char *p = v, *end = v + n;
    while (p <= end) {
        const char *c = memchr(p, ',', (size_t)(end - p));
        const char *we = c ? c : end;
        unsigned bit = 0;
        for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
            if (strlen(words[i].word) == (size_t)(we - p) &&
                strncasecmp(p, words[i].word, (size_t)(we - p)) == 0)
                bit = words[i].bit;
        if (!bit || (bits & bit))
            return -1;
        bits |= bit;
        if (!c)
            break;
        p = c + 1;
    }
    if ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER)
        return -1; /* NEVER stands alone */
    *out = bits;
    return 0;
}

int dsn_param(dsn_params *p, const char *tok, size_t n, dsn_where where, const char **why)
{
    const char *v;
    size_t vn;
    int mail = where != DSN_AT_RCPT, rcpt = where != DSN_AT_MAIL;
    if (mail && key_is(tok, n, "SMTPUTF8", &v, &vn)) {
        if (v) {
            *why = "SMTPUTF8 takes no value";
            return -1;
        }
        if (p->smtputf8) {
            *why = "SMTPUTF8 given twice";
            return -1;
        }
        p->smtputf8 = 1;
        return 1;
    }
    if (mail && key_is(tok, n, "RET", &v, &vn)) {
        if (p->ret != DSN_RET_UNSET) {
            *why = "RET given twice";
            return -1;
        }
        if (v && vn == 4 && strncasecmp(v, "FULL", 4) == 0)
            p->ret = DSN_RET_FULL;
        else if (v && vn == 4 && strncasecmp(v, "HDRS", 4) == 0)
            p->ret = DSN_RET_HDRS;
        else {
            *why = "RET=FULL or RET=HDRS";
            return -1;
        }
        return 1;
    }
    if (mail && key_is(tok, n, "ENVID", &v, &vn)) {
        if (p->envid) {
            *why = "ENVID given twice";
            return -1;
        }
        if (!v || vn == 0 || vn > DSN_ENVID_MAX) {
            *why = "ENVID=xtext of 1 to 100 characters";
            return -1;
        }
        size_t dn;
        char *d = dsn_xtext_decode(v, vn, &dn);
        if (!d || !printable_ascii(d, dn) || dn != strlen(d)) {
            free(d);
            *why = "ENVID is not xtext of printable ASCII";
            return -1;
        }
        p->envid = d;
        return 1;
    }
    if (rcpt && key_is(tok, n, "NOTIFY", &v, &vn)) {
        if (p->notify) {
            *why = "NOTIFY given twice";
            return -1;
        }
        if (!v || parse_notify(v, vn, &p->notify) < 0) {
            *why = "NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY";
            return -1;
        }
        return 1;
    }
    if (rcpt && key_is(tok, n, "ORCPT", &v, &vn)) {
        if (p->orcpt) {
            *why = "ORCPT given twice";
            return -1;
        }
        const char *semi = v ? memchr(v, ';', vn) : NULL;
        /* raw UTF-8 (RFC 6533 unitext) is 3 octets per byte once re-encoded for the trace */
        size_t max = where == DSN_AT_TRACE ? 3 * DSN_ORCPT_MAX : DSN_ORCPT_MAX;
        if (!v || vn > max || !semi || semi == v || semi + 1 == v + vn) {
            *why = "ORCPT=addr-type;xtext (at most 500 characters)";
            return -1;
        }
        for (const char *c = v; c < semi; c++)
            if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                  (*c >= '0' && *c <= '9') || *c == '-')) {
                *why = "ORCPT addr-type is not an atom";
                return -1;
            }
        size_t dn;
        char *d = dsn_xtext_decode(semi + 1, (size_t)(v + vn - semi - 1), &dn);
        char *type = xstrndup(v, (size_t)(semi - v));
        bs_lower(type);
        int utf8 = strcmp(type, "utf-8") == 0;
        if (!d || dn != strlen(d) || !(utf8 ? printable_utf8(d, dn) : printable_ascii(d, dn))) {
            free(d);
            free(type);
            *why = "ORCPT address is not xtext of printable characters";
            return -1;
        }
        p->orcpt_type = type;
        p->orcpt = d;
        return 1;
    }
    return 0;
}

int dsn_params_parse(dsn_params *p, const char *s, size_t n, const char **why)
{
    const char *end = s + n;
    while (s < end) {
        while (s < end && (*s == ' ' || *s == '\t'))
            s++;
        const char *w = s;
        while (s < end && *s != ' ' && *s != '\t')
            s++;
        if (s == w)
            break;
        int r = dsn_param(p, w, (size_t)(s - w), DSN_AT_TRACE, why);
        if (r < 0)
            return -1;
        if (r == 0) {
            *why = "not a DSN parameter";
            return -1;
        }
    }
    return 0;
}

int dsn_params_any(const dsn_params *p)
{
    return p->notify || p->ret != DSN_RET_UNSET || p->smtputf8 || p->envid || p->orcpt;
}

static void put_notify(unsigned bits, bs_buf *out)
{
    if (bits & DSN_NOTIFY_NEVER) {
        buf_puts(out, "NEVER");
        return;
    }
    const char *sep = "";
    if (bits & DSN_NOTIFY_SUCCESS) {
        buf_puts(out, "SUCCESS");
        sep = ",";
    }
    if (bits & DSN_NOTIFY_FAILURE) {
        buf_printf(out, "%sFAILURE", sep);
        sep = ",";
    }
    if (bits & DSN_NOTIFY_DELAY)
        buf_printf(out, "%sDELAY", sep);
}

void dsn_params_format(const dsn_params *m, const dsn_params *r, bs_buf *out)
{
    const char *sep = "";
    if (m && m->ret != DSN_RET_UNSET) {
        buf_puts(out, m->ret == DSN_RET_FULL ? "RET=FULL" : "RET=HDRS");
        sep = " ";
    }
    if (m && m->envid) {
        buf_printf(out, "%sENVID=", sep);
        dsn_xtext_encode(m->envid, out);
        sep = " ";
    }
    if (r && r->notify) {
        buf_printf(out, "%sNOTIFY=", sep);
        put_notify(r->notify, out);
        sep = " ";
    }
    if (r && r->orcpt) {
        buf_printf(out, "%sORCPT=%s;", sep, r->orcpt_type);
        dsn_xtext_encode(r->orcpt, out);
        sep = " ";
    }
    if (m && m->smtputf8)
        buf_printf(out, "%sSMTPUTF8", sep);
}

static int name_is(const char *p, size_t n, const char *name)
{
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    return strlen(name) == n && strncasecmp(p, name, n) == 0;
}

int dsn_from_trace(const char *block, size_t n, dsn_params *p, const char **why)
{
    const char *v = NULL, *ve = NULL;
    const char *q = block, *end = block + n;
    while (q < end) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl : end;
        const char *colon = (*q == ' ' || *q == '\t') ? NULL : memchr(q, ':', (size_t)(le - q));
        if (colon) {
            if (name_is(q, (size_t)(colon - q), "Received"))
                break;
            if (!v && name_is(q, (size_t)(colon - q), DSN_TRACE_FIELD)) {
                v = colon + 1;
                ve = le;
                if (nl && nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) {
                    *why = "folded trace field";
                    return -1;
                }
            }
        }
        if (!nl) {
            q = end;
            break;
        }
        q = nl + 1;
    }
    if (q >= end || !v)
        return 0; /* no Received field (nothing here is listen's), or no field */
    while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    return dsn_params_parse(p, v, (size_t)(ve - v), why) < 0 ? -1 : 1;
}

void dsn_params_json(const dsn_params *p, json_t *rec)
{
    if (p->smtputf8)
        json_object_set_new(rec, "smtputf8", json_true());
    if (!p->notify && p->ret == DSN_RET_UNSET && !p->envid && !p->orcpt)
        return;
    json_t *o = json_object();
    if (p->notify) {
        json_t *a = json_array();
        static const char *const names[] = {"SUCCESS", "FAILURE", "DELAY", "NEVER"};
        for (unsigned i = 0; i < 4; i++)
            if (p->notify & (1u << i))
                json_array_append_new(a, json_string(names[i]));
        json_object_set_new(o, "notify", a);
    }
    if (p->ret != DSN_RET_UNSET)
        json_object_set_new(o, "ret", json_string(p->ret == DSN_RET_FULL ? "FULL" : "HDRS"));
    if (p->envid)
        json_object_set_new(o, "envid", json_string(p->envid));
    if (p->orcpt) {
        char *v = xasprintf("%s;%s", p->orcpt_type, p->orcpt);
        json_object_set_new(o, "orcpt", json_string(v));
        free(v);
    }
    json_object_set_new(rec, "dsn", o);
}

void dsn_params_clear(dsn_params *p)
{
    free(p->envid);
    free(p->orcpt_type);
    free(p->orcpt);
    memset(p, 0, sizeof *p);
}
