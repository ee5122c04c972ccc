/* auth_ar.c — Authentication-Results (RFC 8601 2.2) parsing (auth_ar.h). */
#include "auth_ar.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "util.h"

#define MAX_RESULTS 32
#define MAX_PROPS 16

typedef struct {
    const char *p, *end;
} cur;

/* Skips CFWS: blanks, line ends of folding and (nested) comments. -1 on an unclosed
 * comment. */
static int skip_cfws(cur *c)
{
    for (;;) {
        while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\n'))
            c->p++;
        if (c->p >= c->end || *c->p != '(')
            return 0;
        int depth = 0;
        while (c->p < c->end) {
            char ch = *c->p++;
            if (ch == '\\' && c->p < c->end)
                c->p++;
            else if (ch == '(')
                depth++;
            else if (ch == ')' && --depth == 0)
                break;
        }
        if (depth)
            return -1;
    }
}

/* RFC 2045 token characters, plus '@' and '/' that RFC 8601 values (addr-spec, a
 * method version) carry unquoted. */
static int tchar(char ch)
{
    return (unsigned char)ch > ' ' && (unsigned char)ch < 0x7f && !strchr("()<>,;:\\\"[]?=", ch);
}

/* A token (value), or a quoted-string (unquoted, with an "@domain" that follows it),
 * into b; -1 when there is none. */
static int value(cur *c, bs_buf *b)
{
    buf_reset(b);
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        while (c->p < c->end && *c->p != '"') {
            if (*c->p == '\\' && c->p + 1 < c->end)
                c->p++;
            buf_putc(b, *c->p++);
        }
        if (c->p >= c->end)
            return -1;
        c->p++;
        if (c->p < c->end && *c->p == '@') { /* local-part "@" domain (RFC 8601 2.2) */
            const char *s = c->p++;
            while (c->p < c->end && tchar(*c->p))
                c->p++;
            buf_append(b, s, (size_t)(c->p - s));
        }
    } else {
        const char *s = c->p;
        while (c->p < c->end && tchar(*c->p))
            c->p++;
        if (c->p == s)
            return -1;
        buf_append(b, s, (size_t)(c->p - s));
    }
    buf_putc(b, 0);
    b->len--;
    return 0;
}

/* A name: letters, digits, '-', '_', '.' (method, ptype.property). */
static int name(cur *c, bs_buf *b)
{
    buf_reset(b);
    const char *s = c->p;
    while (c->p < c->end && (isalnum((unsigned char)*c->p) || strchr("-_.", *c->p)))
        c->p++;
    if (c->p == s)
        return -1;
    buf_append(b, s, (size_t)(c->p - s));
    buf_putc(b, 0);
    b->len--;
    return 0;
}

/* A JSON string of b; bytes that are not valid UTF-8 become '?' (records are UTF-8). */
static json_t *jstr(bs_buf *b)
{
    json_t *j = json_string(b->data);
    if (j)
        return j;
    for (size_t i = 0; i < b->len; i++)
        if ((unsigned char)b->data[i] >= 0x80)
            b->data[i] = '?';
    return json_string(b->data);
}

json_t *auth_ar_parse(const char *v, size_t n)
{
    cur c = {v, v + n};
    bs_buf a, b;
    buf_init(&a);
    buf_init(&b);
    json_t *out = json_object(), *results = json_array();
    json_object_set_new(out, "results", results);
    if (skip_cfws(&c) < 0 || value(&c, &a) < 0)
        goto bad;
    json_object_set_new(out, "authserv_id", jstr(&a));
    if (skip_cfws(&c) < 0)
        goto bad;
    if (c.p < c.end && isdigit((unsigned char)*c.p)) { /* authres-version */
        while (c.p < c.end && isdigit((unsigned char)*c.p))
            c.p++;
        if (skip_cfws(&c) < 0)
            goto bad;
    }
    int none = 0;
    while (c.p < c.end) {
        if (*c.p != ';')
            goto bad;
        c.p++;
        if (skip_cfws(&c) < 0)
            goto bad;
        if (c.p >= c.end && json_array_size(results) == 0)
            goto bad; /* a ';' with nothing after it */
        if (c.p >= c.end)
            break;
        if (json_array_size(results) >= MAX_RESULTS || name(&c, &a) < 0)
            goto bad;
        if (strcasecmp(a.data, "none") == 0 && json_array_size(results) == 0) {
            none = 1; /* no-result */
            if (skip_cfws(&c) < 0 || c.p < c.end)
                goto bad;
            break;
        }
        json_t *r = json_object();
        json_array_append_new(results, r);
        bs_lower(a.data);
        json_object_set_new(r, "method", json_string(a.data));
        if (c.p < c.end && *c.p == '/') { /* method version */
            c.p++;
            while (c.p < c.end && isdigit((unsigned char)*c.p))
                c.p++;
        }
        if (skip_cfws(&c) < 0 || c.p >= c.end || *c.p != '=')
            goto bad;
        c.p++;
        if (skip_cfws(&c) < 0 || name(&c, &a) < 0)
            goto bad;
        bs_lower(a.data);
        json_object_set_new(r, "result", json_string(a.data));
        if (skip_cfws(&c) < 0)
            goto bad;
        int nprops = 0;
        while (c.p < c.end && *c.p != ';') {
            if (name(&c, &a) < 0 || skip_cfws(&c) < 0 || c.p >= c.end || *c.p != '=')
                goto bad;
            c.p++;
            if (skip_cfws(&c) < 0 || value(&c, &b) < 0 || skip_cfws(&c) < 0)
                goto bad;
            if (++nprops > MAX_PROPS)
                goto bad;
            bs_lower(a.data);
            if (strcmp(a.data, "method") && strcmp(a.data, "result"))
                json_object_set_new(r, a.data, jstr(&b));
        }
    }
    (void)none;
    buf_free(&a);
    buf_free(&b);
    return out;
bad:
    buf_free(&a);
    buf_free(&b);
    json_decref(out);
    return NULL;
}

static int is_wsp(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int name_is(const char *p, size_t n, const char *want)
{
    while (n && is_wsp(p[n - 1]))
        n--;
    return n == strlen(want) && strncasecmp(p, want, n) == 0;
}

json_t *auth_ar_from_trace(const char *block, size_t n, const char *authserv_id)
{
    const char *p = block, *end = block + n;
    const char *val = NULL, *val_end = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (le == p || (le == p + 1 && *p == '\r'))
            break; /* end of the header section */
        const char *colon = is_wsp(*p) ? NULL : memchr(p, ':', (size_t)(le - p));
        if (colon) {
            if (name_is(p, (size_t)(colon - p), "Received")) {
                if (!val)
                    return NULL;
                json_t *ar = auth_ar_parse(val, (size_t)(val_end - val));
                const char *id = ar ? json_string_value(json_object_get(ar, "authserv_id")) : NULL;
                if (!id || !authserv_id || strcasecmp(id, authserv_id) != 0) {
                    json_decref(ar);
                    return NULL;
                }
                return ar;
            }
            if (!val && name_is(p, (size_t)(colon - p), AUTH_AR_FIELD)) {
                val = colon + 1;
                /* the value runs over its continuation lines */
                const char *q = nl ? nl + 1 : end;
                while (q < end && is_wsp(*q)) {
                    const char *n2 = memchr(q, '\n', (size_t)(end - q));
                    q = n2 ? n2 + 1 : end;
                }
                val_end = q;
            }
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return NULL; /* no Received field: nothing here was written by listen */
}
