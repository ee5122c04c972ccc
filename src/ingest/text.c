/* text.c — small text helpers for ingest (see text.h). */
#include "text.h"

#include <string.h>

#include "util.h"

char *text_utf8_repair(const char *p, size_t n, int *changed)
{
    if (changed)
        *changed = 0;
    if (bs_utf8_valid(p, n))
        return xstrndup(p, n);
    bs_buf b;
    buf_init(&b);
    const char *s = p, *e = p + n;
    while (s < e) {
        size_t len = bs_utf8_seq(s, (size_t)(e - s));
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
