/* jwrite.c — JSON values printed as jansson prints them (jwrite.h). */
#include "jwrite.h"

#include <string.h>

#include "jcanon.h"

void jw_string(bs_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    while (p < end) {
        /* a run that needs no escape: ASCII text and UTF-8 sequences alike */
        const unsigned char *q = jc_skip_plain(p, end);
        while (q < end && *q >= 0x80)
            q = jc_skip_plain(q + 1, end);
        buf_append(b, p, (size_t)(q - p));
        if (q == end)
            break;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (*q) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[*q >> 4];
            esc[5] = hex[*q & 15];
            len = 6;
        }
        buf_append(b, esc, len);
        p = q + 1;
    }
    buf_putc(b, '"');
}

void jw_int(bs_buf *b, long long v)
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
