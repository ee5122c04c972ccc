/* jcanon.c — canonical (jansson compact) record line recogniser (see jcanon.h). */
#include "jcanon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <jansson.h>

#include "util.h"

#define JC_MAX_DEPTH 64
#define JC_MAX_KEYS 256

typedef struct {
    const char *p, *end;
    jc_want *want;
    size_t nwant;
    /* per wanted path: the length of its top-level key, and of its sub-key (0: none) */
    size_t top_n[JC_MAX_WANT + 3], sub_n[JC_MAX_WANT + 3];
} jc;

const unsigned char *jc_skip_plain(const unsigned char *p, const unsigned char *end)
{
#ifdef __SSE2__
    /* 16 bytes at a time */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                         _mm_cmplt_epi8(x, space)); /* signed: < 0x20 or >= 0x80 */
        int mask = _mm_movemask_epi8(hit);
        if (mask)
            return p + __builtin_ctz((unsigned)mask);
        p += 16;
    }
#endif
    while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
        p++;
    return p;
}

/* At the opening quote: a string exactly as jansson's dump_string writes it. */
static int string(jc *s, jc_span *raw)
{
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end;
    const unsigned char *start = p;
    for (;;) {
        p = jc_skip_plain(p, end);
        if (p >= end)
            return -1;
        unsigned c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1; /* raw control characters: jansson refuses them */
        if (c == '\\') {
            if (p + 1 >= end)
                return -1;
            switch (p[1]) {
            case '"':
            case '\\':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                continue;
            case 'u': {
                /* jansson writes \u%04X only for the other control characters */
                if (end - p < 6 || p[2] != '0' || p[3] != '0' || (p[4] != '0' && p[4] != '1'))
                    return -1;
                unsigned lo = p[5];
                unsigned v;
                if (lo >= '0' && lo <= '9')
                    v = lo - '0';
                else if (lo >= 'A' && lo <= 'F')
                    v = lo - 'A' + 10;
                else
                    return -1;
                v += (p[4] - '0') * 16u;
                if (v == 0 || v == '\b' || v == '\f' || v == '\n' || v == '\r' || v == '\t')
                    return -1; /* NUL is refused; the others have a short form */
                p += 6;
                continue;
            }
            default:
                return -1; /* \/ and escapes of printable characters are not jansson's */
            }
        }
        size_t len = bs_utf8_seq((const char *)p, (size_t)(end - p));
        if (!len)
            return -1;
        p += len;
    }
    raw->p = (const char *)start;
    raw->n = (size_t)(p - start);
    s->p = (const char *)p + 1;
    return 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* jansson's jsonp_dtostr with the default precision (17). */
static size_t dtostr(char *buf, size_t size, double v)
{
    int r = snprintf(buf, size, "%.17g", v);
    if (r < 0 || (size_t)r + 3 >= size)
        return 0;
    size_t len = (size_t)r;
    if (!strchr(buf, '.') && !strchr(buf, 'e')) {
        buf[len++] = '.';
        buf[len++] = '0';
        buf[len] = 0;
    }
    char *start = strchr(buf, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - buf) + 1);
            len -= (size_t)(end - start);
        }
    }
    return len;
}

static int number(jc *s)
{
    const char *p = s->p, *start = p;
    int real = 0;
    if (p < s->end && *p == '-')
        p++;
    const char *digits = p;
    if (p >= s->end || !is_digit(*p))
        return -1;
    if (*p == '0')
        p++;
    else
        while (p < s->end && is_digit(*p))
            p++;
    size_t ndigits = (size_t)(p - digits);
    if (p < s->end && *p == '.') {
        real = 1;
        p++;
        if (p >= s->end || !is_digit(*p))
            return -1;
        while (p < s->end && is_digit(*p))
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        real = 1;
        p++;
        if (p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || !is_digit(*p))
            return -1;
        while (p < s->end && is_digit(*p))
            p++;
    }
    size_t n = (size_t)(p - start);
    if (!real) {
        if (ndigits > 18 || (n == 2 && start[0] == '-' && start[1] == '0'))
            return -1; /* may overflow json_int_t; -0 is written 0 */
    } else {
        /* A real is canonical when jansson writes back the same text. */
        char tok[40], back[48];
        if (n >= sizeof tok)
            return -1;
        memcpy(tok, start, n);
        tok[n] = 0;
        errno = 0;
        char *e;
        double d = strtod(tok, &e);
        if (*e || errno == ERANGE)
            return -1;
        size_t bn = dtostr(back, sizeof back, d);
        if (bn != n || memcmp(back, tok, n) != 0)
            return -1;
    }
    s->p = p;
    return 0;
}

static int literal(jc *s, const char *lit, size_t n)
{
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

static int value(jc *s, int depth, const char *parent, size_t parent_n);

static int span_eq(jc_span a, jc_span b)
{
    return a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
}

/* Records VAL for every wanted entry whose path is PARENT.KEY (or KEY at the top when
 * PARENT is NULL). */
static void found(jc *s, const char *parent, size_t parent_n, jc_span key, jc_span val)
{
    for (size_t i = 0; i < s->nwant; i++) {
        const char *path = s->want[i].path;
        size_t top = s->top_n[i], sub = s->sub_n[i];
        if (parent) {
            if (sub && top == parent_n && sub == key.n && memcmp(path, parent, parent_n) == 0 &&
                memcmp(path + top + 1, key.p, key.n) == 0)
                s->want[i].val = val;
        } else if (!sub && top == key.n && memcmp(path, key.p, key.n) == 0) {
            s->want[i].val = val;
        }
    }
}

/* Whether some wanted path goes below KEY (a top-level key). */
static int wanted_below(jc *s, jc_span key)
{
    for (size_t i = 0; i < s->nwant; i++)
        if (s->sub_n[i] && s->top_n[i] == key.n && memcmp(s->want[i].path, key.p, key.n) == 0)
            return 1;
    return 0;
}

/* PARENT: NULL at the top level; the top-level key of this object one level down (for
 * wanted "key.sub" paths); "" deeper. */
static int object(jc *s, int depth, const char *parent, size_t parent_n)
{
    jc_span keys[32];
    jc_span *kv = keys;
    size_t nkeys = 0, cap = 32;
    int rc = -1;
    s->p++; /* '{' */
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (s->p >= s->end || *s->p != '"')
            goto out;
        jc_span k;
        if (string(s, &k) < 0)
            goto out;
        /* Duplicates: jansson refuses the record. The canonical form of a key is unique, so
         * comparing the raw texts is exact. */
        for (size_t i = 0; i < nkeys; i++)
            if (span_eq(kv[i], k))
                goto out;
        if (nkeys == cap) {
            if (cap >= JC_MAX_KEYS)
                goto out;
            jc_span *nk = xmalloc(2 * cap * sizeof *nk);
            memcpy(nk, kv, nkeys * sizeof *nk);
            if (kv != keys)
                free(kv);
            kv = nk;
            cap *= 2;
        }
        kv[nkeys++] = k;
        if (s->p >= s->end || *s->p != ':')
            goto out;
        s->p++;
        const char *vstart = s->p;
        const char *child = "";
        size_t child_n = 0;
        if (!parent && wanted_below(s, k)) {
            child = k.p;
            child_n = k.n;
        }
        if (value(s, depth + 1, child, child_n) < 0)
            goto out;
        if (parent == NULL || parent_n)
            found(s, parent, parent_n, k, (jc_span){vstart, (size_t)(s->p - vstart)});
        if (s->p >= s->end)
            goto out;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            s->p++;
            rc = 0;
            goto out;
        }
        goto out;
    }
out:
    if (kv != keys)
        free(kv);
    return rc;
}

static int array(jc *s, int depth)
{
    s->p++; /* '[' */
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        if (value(s, depth + 1, "", 0) < 0)
            return -1;
        if (s->p >= s->end)
            return -1;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == ']') {
            s->p++;
            return 0;
        }
        return -1;
    }
}

static int value(jc *s, int depth, const char *parent, size_t parent_n)
{
    if (depth > JC_MAX_DEPTH || s->p >= s->end)
        return -1;
    switch (*s->p) {
    case '{':
        return object(s, depth, parent, parent_n);
    case '[':
        return array(s, depth);
    case '"': {
        jc_span str;
        return string(s, &str);
    }
    case 't':
        return literal(s, "true", 4);
    case 'f':
        return literal(s, "false", 5);
    case 'n':
        return literal(s, "null", 4);
    default:
        return number(s);
    }
}

int jc_record_scan(const char *line, size_t n, jc_want *want, size_t nwant)
{
    jc_want all[JC_MAX_WANT + 3];
    if (nwant > JC_MAX_WANT)
        return 0;
    for (size_t i = 0; i < nwant; i++) {
        all[i].path = want[i].path;
        all[i].val = (jc_span){NULL, 0};
    }
    /* the members every record must have */
    all[nwant] = (jc_want){"v", {NULL, 0}};
    all[nwant + 1] = (jc_want){"kind", {NULL, 0}};
    all[nwant + 2] = (jc_want){"id", {NULL, 0}};
    jc s = {line, line + n, all, nwant + 3, {0}, {0}};
    for (size_t i = 0; i < nwant + 3; i++) {
        const char *dot = strchr(all[i].path, '.');
        s.top_n[i] = dot ? (size_t)(dot - all[i].path) : strlen(all[i].path);
        s.sub_n[i] = dot ? strlen(dot + 1) : 0;
    }
    if (n == 0 || line[0] != '{' || object(&s, 1, NULL, 0) < 0 || s.p != s.end)
        return 0;
    jc_span v = all[nwant].val, kind = all[nwant + 1].val, id = all[nwant + 2].val;
    if (!v.p || v.n != 1 || v.p[0] != '1')
        return 0;
    if (!kind.p || kind.p[0] != '"' || !id.p || id.p[0] != '"' || id.n < 3)
        return 0;
    for (size_t i = 0; i < nwant; i++)
        want[i].val = all[i].val;
    return 1;
}

int jc_is_string(jc_span val, const char *s)
{
    size_t n = strlen(s);
    return val.p && val.n == n + 2 && val.p[0] == '"' && memcmp(val.p + 1, s, n) == 0 &&
           val.p[n + 1] == '"';
}

int jc_array_next(jc_span val, const char **pos, jc_span *elem)
{
    if (!val.p || val.n < 2 || val.p[0] != '[')
        return 0;
    /* The value is canonical JSON: walk its top-level elements. */
    const char *p = *pos ? *pos : val.p + 1, *end = val.p + val.n - 1;
    if (p >= end)
        return 0;
    const char *e = p;
    int depth = 0;
    for (; e < end; e++) {
        char c = *e;
        if (c == '"') { /* to its closing quote, plain runs at once */
            const unsigned char *q = (const unsigned char *)e + 1, *qe = (const unsigned char *)end;
            for (;;) {
                q = jc_skip_plain(q, qe);
                if (q >= qe || *q == '"')
                    break;
                q += *q == '\\' ? 2 : 1;
            }
            e = (const char *)q;
            if (e >= end)
                break;
        } else if (c == '[' || c == '{') {
            depth++;
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && depth == 0) {
            break;
        }
    }
    elem->p = p;
    elem->n = (size_t)(e - p);
    *pos = e + 1;
    return 1;
}

int jc_array_has_string(jc_span val, const char *s)
{
    const char *pos = NULL;
    size_t n = strlen(s);
    jc_span el;
    while (jc_array_next(val, &pos, &el))
        if (el.n == n + 2 && el.p[0] == '"' && memcmp(el.p + 1, s, n) == 0 && el.p[n + 1] == '"')
            return 1;
    return 0;
}

int jc_nonempty(jc_span val)
{
    return val.p && val.n > 2 && (val.p[0] == '[' || val.p[0] == '{');
}

int jc_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void put_utf8(char *out, size_t *o, unsigned cp)
{
    if (cp < 0x80) {
        out[(*o)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*o)++] = (char)(0xC0 | (cp >> 6));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    } else {
        out[(*o)++] = (char)(0xE0 | (cp >> 12));
        out[(*o)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[(*o)++] = (char)(0x80 | (cp & 0x3F));
    }
}

size_t jc_unescape(const char *p, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != '\\') { /* the run up to the next escape at once */
            const char *bs = memchr(p + i, '\\', n - i);
            size_t run = bs ? (size_t)(bs - (p + i)) : n - i;
            memmove(out + o, p + i, run);
            o += run;
            i += run - 1;
            continue;
        }
        char c = p[++i];
        switch (c) {
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u': {
            unsigned v = 0;
            for (int k = 1; k <= 4; k++)
                v = v * 16 + (unsigned)jc_hexval(p[i + k]);
            i += 4;
            put_utf8(out, &o, v);
            break;
        }
        default:
            out[o++] = c;
            break; /* " \ / */
        }
    }
    return o;
}

json_t *jc_string(jc_span val)
{
    if (!val.p || val.n < 2 || val.p[0] != '"')
        return NULL;
    return jc_build(val.p, val.n);
}

int jc_dump_string(bs_buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    buf_putc(b, '"');
    while (p < end) {
        const unsigned char *q = jc_skip_plain(p, end);
        buf_append(b, p, (size_t)(q - p));
        if (q >= end)
            break;
        unsigned c = *q;
        size_t len = 1;
        if (c >= 0x80) {
            if (!(len = bs_utf8_seq((const char *)q, (size_t)(end - q))))
                return -1; /* jansson refuses to dump it */
            buf_append(b, q, len);
        } else if (c == '"' || c == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)c);
        } else if (c < 0x20) {
            static const char short_form[] = {
                ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
            char esc[8];
            if (c < sizeof short_form && short_form[c])
                snprintf(esc, sizeof esc, "\\%c", short_form[c]);
            else
                snprintf(esc, sizeof esc, "\\u%04X", c);
            buf_puts(b, esc);
        } else {
            buf_putc(b, (char)c); /* DEL: jansson prints it as it is */
        }
        p = q + len;
    }
    buf_putc(b, '"');
    return 0;
}

void jc_dump_int(bs_buf *b, long long v)
{
    char d[24];
    size_t i = sizeof d;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    buf_append(b, d + i, sizeof d - i);
}

int jc_dump(bs_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *m;
        int first = 1;
        buf_putc(b, '{');
        json_object_keylen_foreach((json_t *)v, key, klen, m)
        {
            if (!first)
                buf_putc(b, ',');
            first = 0;
            if (jc_dump_string(b, key, klen) < 0)
                return -1;
            buf_putc(b, ':');
            if (jc_dump(b, m) < 0)
                return -1;
        }
        buf_putc(b, '}');
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *m;
        buf_putc(b, '[');
        json_array_foreach(v, i, m)
        {
            if (i)
                buf_putc(b, ',');
            if (jc_dump(b, m) < 0)
                return -1;
        }
        buf_putc(b, ']');
        return 0;
    }
    case JSON_STRING:
        return jc_dump_string(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
        jc_dump_int(b, (long long)json_integer_value(v));
        return 0;
    case JSON_TRUE:
        buf_puts(b, "true");
        return 0;
    case JSON_FALSE:
        buf_puts(b, "false");
        return 0;
    case JSON_NULL:
        buf_puts(b, "null");
        return 0;
    default: { /* a real: jansson's own form */
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!t)
            return -1;
        buf_puts(b, t);
        free(t);
        return 0;
    }
    }
}
/* jc_build: a walk over text the recogniser accepted (balanced, jansson's escapes, numbers
 * in jansson's forms, depth at most JC_MAX_DEPTH), so it only splits and converts. */
typedef struct {
    const char *p, *end;
    char *scratch; /* unescaped strings */
    size_t cap;
} jb;

/* At the opening quote: the string's bytes, raw when it holds no escape (pointing into the
 * text), else unescaped into the scratch buffer. */
static size_t build_chars(jb *b, const char **out)
{
    const unsigned char *start = (const unsigned char *)b->p + 1, *p = start;
    int escaped = 0;
    for (;;) {
        p = jc_skip_plain(p, (const unsigned char *)b->end);
        if (*p == '"')
            break;
        if (*p == '\\') {
            escaped = 1;
            p += 2;
        } else {
            p++; /* a byte of a UTF-8 sequence */
        }
    }
    size_t n = (size_t)(p - start);
    b->p = (const char *)p + 1;
    if (!escaped) {
        *out = (const char *)start;
        return n;
    }
    if (b->cap < n) {
        free(b->scratch);
        b->cap = n < 256 ? 256 : n;
        b->scratch = xmalloc(b->cap);
    }
    *out = b->scratch;
    return jc_unescape((const char *)start, n, b->scratch);
}

static json_t *build_number(jb *b)
{
    const char *start = b->p, *p = start;
    int real = 0;
    while (p < b->end &&
           (*p == '-' || *p == '+' || *p == '.' || *p == 'e' || *p == 'E' || is_digit(*p))) {
        if (*p == '.' || *p == 'e' || *p == 'E')
            real = 1;
        p++;
    }
    b->p = p;
    if (real) { /* under 40 bytes, as the recogniser checked */
        char tok[40];
        size_t n = (size_t)(p - start);
        memcpy(tok, start, n);
        tok[n] = 0;
        return json_real(strtod(tok, NULL));
    }
    int neg = *start == '-';
    json_int_t v = 0; /* at most 18 digits: no overflow */
    for (const char *d = start + neg; d < p; d++)
        v = v * 10 + (*d - '0');
    return json_integer(neg ? -v : v);
}

static json_t *build_value(jb *b);

static json_t *build_object(jb *b)
{
    json_t *o = json_object();
    b->p++; /* '{' */
    if (*b->p == '}') {
        b->p++;
        return o;
    }
    for (;;) {
        const char *k;
        size_t kn = build_chars(b, &k);
        char small[64], *key = (char *)k;
        if (k == b->scratch) { /* the value may need the scratch buffer */
            key = kn <= sizeof small ? small : xmalloc(kn);
            memcpy(key, k, kn);
        }
        b->p++; /* ':' */
        json_object_setn_new_nocheck(o, key, kn, build_value(b));
        if (key != k && key != small)
            free(key);
        if (*b->p++ == '}')
            return o;
    }
}

static json_t *build_array(jb *b)
{
    json_t *a = json_array();
    b->p++; /* '[' */
    if (*b->p == ']') {
        b->p++;
        return a;
    }
    for (;;) {
        json_array_append_new(a, build_value(b));
        if (*b->p++ == ']')
            return a;
    }
}

static json_t *build_value(jb *b)
{
    switch (*b->p) {
    case '{':
        return build_object(b);
    case '[':
        return build_array(b);
    case '"': {
        const char *s;
        size_t n = build_chars(b, &s);
        return json_stringn_nocheck(s, n);
    }
    case 't':
        b->p += 4;
        return json_true();
    case 'f':
        b->p += 5;
        return json_false();
    case 'n':
        b->p += 4;
        return json_null();
    default:
        return build_number(b);
    }
}

json_t *jc_build(const char *p, size_t n)
{
    jb b = {p, p + n, NULL, 0};
    json_t *v = build_value(&b);
    free(b.scratch);
    return v;
}
