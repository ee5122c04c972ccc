/* jsonout.c — compact JSON writer (see jsonout.h). */
#include "jsonout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The offset of the first byte of [s+i, s+n) that needs escaping (a control character,
 * '"' or '\\'), or n. Sixteen bytes at a time with SSE2 (every x86-64), else eight at a
 * time in a word ("has a byte < 0x20" and "has a zero byte" after XOR); the last few
 * bytes one at a time. */
static size_t next_escape(const char *s, size_t i, size_t n)
{
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\');
    const __m128i flip = _mm_set1_epi8((char)0x80), space = _mm_set1_epi8((char)(0x20 ^ 0x80));
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* unsigned v < 0x20 as a signed comparison of both sides with the top bit flipped */
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)),
                         _mm_cmplt_epi8(_mm_xor_si128(v, flip), space));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
#else
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, bs;
        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        bs = w ^ (ones * '\\');
        if (((w - ones * 0x20) & ~w & highs) || ((q - ones) & ~q & highs) ||
            ((bs - ones) & ~bs & highs))
            break;
    }
#endif
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return i;
    }
    return n;
}

static void out_string(bs_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson */
    /* Written in place: room for the string as it is, made larger at an escape when the
     * rest might not fit (the buffer is reused from record to record). */
    buf_reserve(b, n + 2);
    char *o = b->data + b->len;
    *o++ = '"';
    size_t run = 0; /* start of the pending run of bytes that need no escaping */
    for (size_t i = next_escape(s, 0, n); i < n; i = next_escape(s, i + 1, n)) {
        /* what is written, the rest unescaped, this escape, the quote and the NUL */
        size_t used = (size_t)(o - b->data), need = used + (n - run) + 6 + 2;
        if (need > b->cap) {
            b->len = used;
            buf_reserve(b, need - used);
            o = b->data + used;
        }
        unsigned char c = (unsigned char)s[i];
        memcpy(o, s + run, i - run);
        o += i - run;
        run = i + 1;
        *o++ = '\\';
        switch (c) {
        case '"':
            *o++ = '"';
            break;
        case '\\':
            *o++ = '\\';
            break;
        case '\b':
            *o++ = 'b';
            break;
        case '\f':
            *o++ = 'f';
            break;
        case '\n':
            *o++ = 'n';
            break;
        case '\r':
            *o++ = 'r';
            break;
        case '\t':
            *o++ = 't';
            break;
        default:
            memcpy(o, "u00", 3);
            o[3] = hex[c >> 4];
            o[4] = hex[c & 15];
            o += 5;
            break;
        }
    }
    memcpy(o, s + run, n - run);
    o += n - run;
    *o++ = '"';
    *o = '\0';
    b->len = (size_t)(o - b->data);
}

/* As printf's "%" JSON_INTEGER_FORMAT, without printf. */
static void out_integer(bs_buf *b, json_int_t v)
{
    char digits[24], *end = digits + sizeof digits, *p = end;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do
        *--p = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0)
        *--p = '-';
    buf_append(b, p, (size_t)(end - p));
}

void json_out(bs_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        buf_putc(b, '{');
        const char *key;
        json_t *val;
        int first = 1;
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first)
                buf_putc(b, ',');
            first = 0;
            out_string(b, key, strlen(key));
            buf_putc(b, ':');
            json_out(b, val);
        }
        buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_putc(b, ',');
            json_out(b, json_array_get(v, i));
        }
        buf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        out_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        out_integer(b, json_integer_value(v));
        break;
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    case JSON_FALSE:
        buf_puts(b, "false");
        break;
    case JSON_NULL:
        buf_puts(b, "null");
        break;
    default: { /* JSON_REAL: jansson's own formatting */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_puts(b, s ? s : "null");
        free(s);
        break;
    }
    }
}
