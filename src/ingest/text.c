/* text.c — small text helpers for ingest (see text.h). */
#include "text.h"

#include <stdint.h>
#include <string.h>

#include "util.h"

/* Length of the valid UTF-8 sequence at s (0 when invalid or NUL). */
static size_t utf8_seq(const unsigned char *s, const unsigned char *e)
{
    unsigned c = s[0];
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned cp, min;
    if ((c & 0xE0) == 0xC0)
        len = 2, min = 0x80, cp = c & 0x1F;
    else if ((c & 0xF0) == 0xE0)
        len = 3, min = 0x800, cp = c & 0x0F;
    else if ((c & 0xF8) == 0xF0)
        len = 4, min = 0x10000, cp = c & 0x07;
    else
        return 0;
    if ((size_t)(e - s) < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

int text_utf8_valid(const char *p, size_t n)
{
    /* Eight bytes at a time while they are ASCII without NUL (most mail text);
     * a word boundary there is a character boundary, so the rest is checked alone. */
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if ((w & highs) || ((w - ones) & ~w & highs))
            break;
    }
    return bs_utf8_valid(p + i, n - i);
}

char *text_utf8_repair(const char *p, size_t n, int *changed)
{
    if (changed)
        *changed = 0;
    if (text_utf8_valid(p, n))
        return xstrndup(p, n);
    bs_buf b;
    buf_init(&b);
    const unsigned char *s = (const unsigned char *)p, *e = s + n;
    while (s < e) {
        size_t len = utf8_seq(s, e);
        if (len) {
            buf_append(&b, s, len);
            s += len;
        } else {
            buf_append(&b, "\xEF\xBF\xBD", 3);
            s++;
            if (changed)
                *changed = 1;
        }
    }
    return buf_steal(&b);
}

char *text_trimmed(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return xstrndup(s, n);
}

int text_is_hex16(const char *p, size_t n)
{
    if (n != 16)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!strchr("0123456789abcdefABCDEF", p[i]) || p[i] == 0)
            return 0;
    return 1;
}
