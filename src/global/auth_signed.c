/* auth_signed.c — what a passing DKIM signature covers (see auth_signed.h). */
#include "auth_signed.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void sig_cover_clear(sig_cover *c)
{
    free(c->h);
    c->h = NULL;
    c->pass = 0;
    c->l = -1;
    c->relaxed_body = 0;
}

static int is_fws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

void sig_cover_fields(const char *h, const char *const *names, const size_t *name_lens, size_t n,
                      unsigned char *covered)
{
    memset(covered, 0, n);
    if (!h)
        return;
    const char *p = h;
    while (*p) {
        /* One name: the text up to the next ':' without folding white space. */
        while (is_fws(*p))
            p++;
        const char *s = p;
        while (*p && *p != ':')
            p++;
        const char *e = p;
        while (e > s && is_fws(e[-1]))
            e--;
        if (*p == ':')
            p++;
        size_t len = (size_t)(e - s);
        if (!len)
            continue;
        /* The bottom-most instance of that name not covered yet. */
        for (size_t i = n; i-- > 0;) {
            if (!covered[i] && name_lens[i] == len && strncasecmp(names[i], s, len) == 0) {
                covered[i] = 1;
                break;
            }
        }
    }
}

static int is_wsp(char c)
{
    return c == ' ' || c == '\t';
}

/* Octets of the canonical form of one line's content [s, e) (line end excluded). */
static size_t canon_line_len(const char *s, const char *e, int relaxed)
{
    if (!relaxed)
        return (size_t)(e - s);
    while (e > s && is_wsp(e[-1])) /* trailing white space is dropped */
        e--;
    size_t n = 0;
    for (const char *p = s; p < e; p++) {
        if (is_wsp(*p)) { /* a run of white space becomes one space */
            while (p + 1 < e && is_wsp(p[1]))
                p++;
        }
        n++;
    }
    return n;
}

size_t sig_body_prefix(const char *body, size_t len, int relaxed, long long l, int *complete)
{
    *complete = 1;
    if (l < 0)
        return len;
    unsigned long long count = 0, pending = 0; /* pending: empty lines not yet counted */
    size_t pos = 0, prefix = 0;
    while (pos < len) {
        const char *line = body + pos;
        const char *nl = memchr(line, '\n', len - pos);
        const char *end = nl ? nl : body + len;
        size_t next = nl ? (size_t)(nl - body) + 1 : len;
        if (nl && end > line && end[-1] == '\r')
            end--;
        size_t n = canon_line_len(line, end, relaxed);
        pos = next;
        if (n == 0) { /* counted only when a non-empty line follows */
            pending += 2;
            continue;
        }
        /* A last line without a line end gets CRLF, as every other line. */
        if (count + pending + n + 2 > (unsigned long long)l) {
            *complete = 0;
            return prefix;
        }
        count += pending + n + 2;
        pending = 0;
        prefix = next;
    }
    return len;
}
