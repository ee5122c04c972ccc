/* scan.c — strict JSON subset scanner with field extraction (see scan.h). */
#include "scan.h"

#include "jcanon.h"
#include "route.h"
#include "util.h"

#include <string.h>
#include <strings.h>

#define MAX_DEPTH 32
#define MAX_KEYS 128

/* Where an object sits: decides which of its string members are wanted. */
enum ctx { CTX_OTHER, CTX_TOP, CTX_ENVELOPE, CTX_HEADERS, CTX_DKIM, CTX_SPF };

#define MAX_PENDING 16

typedef struct {
    const char *p, *end, *base;
    scan_out *o;
    span v_token;
    span kind;
    span *pending[MAX_PENDING]; /* wanted strings holding escapes, still raw */
    int npending;
    span header_block; /* raw (still escaped) */
    int header_block_esc, header_block_b64;
} scanner;

/* Unescaped copies of wanted strings live here until the next scan_record (decide is
 * single-threaded). */
static char *unescaped;
static size_t unescaped_cap;

static void ws(scanner *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

/* At the opening quote. *raw gets the content; *esc whether it holds escapes. */
static int string(scanner *s, span *raw, int *esc)
{
    const unsigned char *p = (const unsigned char *)s->p + 1;
    const unsigned char *end = (const unsigned char *)s->end;
    const unsigned char *start = p;
    *esc = 0;
    for (;;) {
        p = jc_skip_plain(p, end);
        if (p >= end)
            return -1;
        unsigned c = *p;
        if (c == '"')
            break;
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            *esc = 1;
            if (p + 1 >= end)
                return -1;
            switch (p[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                p += 2;
                break;
            case 'u': {
                if (end - p < 6)
                    return -1;
                int v = 0;
                for (int i = 2; i < 6; i++) {
                    int h = jc_hexval((char)p[i]);
                    if (h < 0)
                        return -1;
                    v = v * 16 + h;
                }
                if (v == 0 || (v >= 0xD800 && v <= 0xDFFF))
                    return -1; /* NUL and surrogate pairs: left to jansson */
                p += 6;
                break;
            }
            default:
                return -1;
            }
            continue;
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

static int number(scanner *s, span *tok)
{
    const char *p = s->p, *start = p;
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
    if (p - digits > 18)
        return -1; /* might overflow json_int_t / need care: jansson decides */
    if (p < s->end && *p == '.') {
        p++;
        if (p >= s->end || !is_digit(*p))
            return -1;
        while (p < s->end && is_digit(*p))
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E'))
        return -1; /* exponents may overflow: jansson decides */
    tok->p = start;
    tok->n = (size_t)(p - start);
    s->p = p;
    return 0;
}

static int literal(scanner *s, const char *lit)
{
    size_t n = strlen(lit);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

static int value(scanner *s, int depth, enum ctx ctx, span *str, int *str_esc, int *is_obj);

static int key_is(span k, const char *lit)
{
    size_t n = strlen(lit);
    return k.n == n && memcmp(k.p, lit, n) == 0;
}

/* The member of an object that is wanted as a string, or NULL. */
static span *wanted(scanner *s, enum ctx ctx, span k)
{
    msg_view *v = &s->o->v;
    switch (ctx) {
    case CTX_TOP:
        if (key_is(k, "id"))
            return &v->id;
        if (key_is(k, "kind"))
            return &s->kind;
        if (key_is(k, "error"))
            return &v->error;
        return NULL;
    case CTX_ENVELOPE:
        return key_is(k, "rcpt") ? &v->rcpt : NULL;
    case CTX_HEADERS:
        if (key_is(k, "to"))
            return &v->to;
        if (key_is(k, "list_unsubscribe"))
            return &v->list_unsubscribe;
        if (key_is(k, "list_unsubscribe_post"))
            return &v->list_unsubscribe_post;
        if (key_is(k, "x_bouncy_sink_outcome"))
            return &v->outcome;
        return NULL;
    case CTX_DKIM:
        if (key_is(k, "result"))
            return &v->dkim_result;
        if (key_is(k, "reason"))
            return &v->dkim_reason;
        return NULL;
    case CTX_SPF:
        return key_is(k, "result") ? &v->spf_result : NULL;
    default:
        return NULL;
    }
}

static enum ctx child_ctx(enum ctx ctx, span k)
{
    if (ctx != CTX_TOP)
        return CTX_OTHER;
    if (key_is(k, "envelope"))
        return CTX_ENVELOPE;
    if (key_is(k, "headers"))
        return CTX_HEADERS;
    if (key_is(k, "dkim"))
        return CTX_DKIM;
    if (key_is(k, "spf"))
        return CTX_SPF;
    return CTX_OTHER;
}

static int object(scanner *s, int depth, enum ctx ctx)
{
    span keys[MAX_KEYS];
    size_t nkeys = 0;
    s->p++; /* '{' */
    ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        if (s->p >= s->end || *s->p != '"')
            return -1;
        span k;
        int esc;
        if (string(s, &k, &esc) < 0 || esc || nkeys == MAX_KEYS)
            return -1;
        for (size_t i = 0; i < nkeys; i++)
            if (keys[i].n == k.n && memcmp(keys[i].p, k.p, k.n) == 0)
                return -1; /* duplicate: jansson rejects the record */
        keys[nkeys++] = k;
        ws(s);
        if (s->p >= s->end || *s->p != ':')
            return -1;
        s->p++;
        ws(s);
        span str = {NULL, 0};
        int str_esc = 0, is_obj = 0;
        enum ctx cc = child_ctx(ctx, k);
        const char *vstart = s->p;
        if (value(s, depth + 1, cc, &str, &str_esc, &is_obj) < 0)
            return -1;
        span *want = wanted(s, ctx, k);
        if (want) {
            *want = str;
            if (str.p && str_esc) {
                if (s->npending == MAX_PENDING)
                    return -1;
                s->pending[s->npending++] = want;
            }
        }
        if (ctx == CTX_TOP) {
            if (key_is(k, "v")) {
                s->v_token.p = vstart;
                s->v_token.n = (size_t)(s->p - vstart);
            } else if (key_is(k, "plan")) {
                s->o->has_plan = 1;
            } else if (key_is(k, "dkim")) {
                s->o->v.has_dkim = is_obj;
            } else if (key_is(k, "header_block")) {
                s->header_block = str;
                s->header_block_esc = str_esc;
            } else if (key_is(k, "header_block_b64")) {
                s->header_block_b64 = 1;
            }
        }
        ws(s);
        if (s->p >= s->end)
            return -1;
        if (*s->p == ',') {
            s->p++;
            continue;
        }
        if (*s->p == '}') {
            if (ctx == CTX_TOP)
                s->o->close = (size_t)(s->p - s->base);
            s->p++;
            return 0;
        }
        return -1;
    }
}

static int array(scanner *s, int depth)
{
    s->p++; /* '[' */
    ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        return 0;
    }
    for (;;) {
        ws(s);
        span str;
        int esc, is_obj;
        if (value(s, depth + 1, CTX_OTHER, &str, &esc, &is_obj) < 0)
            return -1;
        ws(s);
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

static int value(scanner *s, int depth, enum ctx ctx, span *str, int *str_esc, int *is_obj)
{
    span tok;
    str->p = NULL;
    *is_obj = 0;
    if (depth > MAX_DEPTH || s->p >= s->end)
        return -1;
    switch (*s->p) {
    case '{':
        *is_obj = 1;
        return object(s, depth, ctx);
    case '[':
        return array(s, depth);
    case '"':
        return string(s, str, str_esc);
    case 't':
        return literal(s, "true");
    case 'f':
        return literal(s, "false");
    case 'n':
        return literal(s, "null");
    default:
        return number(s, &tok);
    }
}

/* The length of the raw (JSON-escaped) header block up to and including the colon of its
 * first Received field, 0 when it has none: all that route_from_trace reads, so only that
 * much is unescaped. */
static size_t through_first_received(const char *p, size_t n)
{
    int line_start = 1;
    size_t i = 0;
    while (i < n) {
        if (line_start && n - i >= 8 && strncasecmp(p + i, "received", 8) == 0) {
            size_t j = i + 8;
            for (;;) {
                if (j < n && p[j] == ' ')
                    j++;
                else if (n - j >= 2 && p[j] == '\\' && p[j + 1] == 't')
                    j += 2;
                else
                    break;
            }
            if (j < n && p[j] == ':')
                return j + 1;
        }
        if (p[i] != '\\') {
            /* no line starts before the next escape (\n or \u000a): skip to it */
            const char *esc = memchr(p + i + 1, '\\', n - i - 1);
            if (!esc)
                return 0;
            line_start = 0;
            i = (size_t)(esc - p);
        } else if (i + 1 < n && p[i + 1] == 'n') {
            line_start = 1;
            i += 2;
        } else if (i + 1 < n && p[i + 1] == 'u') {
            line_start = n - i >= 6 && strncasecmp(p + i + 2, "000a", 4) == 0;
            i += 6;
        } else {
            line_start = 0;
            i += 2;
        }
    }
    return 0;
}

static char *trace_buf;
static size_t trace_cap;

/* Listen's routing decision in the raw header block (route_from_trace). */
static int trace_route(const scanner *s)
{
    size_t cut = through_first_received(s->header_block.p, s->header_block.n);
    if (!cut)
        return RT_FOREIGN;
    if (!s->header_block_esc)
        return route_from_trace(s->header_block.p, cut);
    if (cut > trace_cap) {
        trace_cap = cut * 2;
        trace_buf = xrealloc(trace_buf, trace_cap);
    }
    return route_from_trace(trace_buf, jc_unescape(s->header_block.p, cut, trace_buf));
}

int scan_record(const char *p, size_t n, scan_out *o)
{
    memset(o, 0, sizeof *o);
    scanner s;
    memset(&s, 0, sizeof s);
    s.p = s.base = p;
    s.end = p + n;
    s.o = o;
    ws(&s);
    if (s.p >= s.end || *s.p != '{')
        return 0;
    span str;
    int esc, is_obj;
    if (value(&s, 1, CTX_TOP, &str, &esc, &is_obj) < 0)
        return 0;
    ws(&s);
    if (s.p != s.end)
        return 0;
    if (s.npending) {
        size_t total = 0;
        for (int i = 0; i < s.npending; i++)
            total += s.pending[i]->n;
        if (total > unescaped_cap) {
            unescaped_cap = total * 2;
            unescaped = xrealloc(unescaped, unescaped_cap);
        }
        size_t off = 0;
        for (int i = 0; i < s.npending; i++) {
            span *sp = s.pending[i];
            size_t len = jc_unescape(sp->p, sp->n, unescaped + off);
            sp->p = unescaped + off;
            sp->n = len;
            off += len;
        }
    }
    if (!(s.v_token.n == 1 && s.v_token.p[0] == '1'))
        return 0;
    if (!s.kind.p || !o->v.id.p || !o->v.id.n)
        return 0;
    o->is_message = s.kind.n == 7 && memcmp(s.kind.p, "message", 7) == 0;
    if (s.header_block_b64)
        return 0; /* the block is base64: the slow path decodes it */
    o->v.route = s.header_block.p ? trace_route(&s) : RT_FOREIGN;
    return 1;
}
