/* esmtp.c — MAIL and RCPT parameters (see esmtp.h). */
#include "esmtp.h"

#include <string.h>
#include <strings.h>

void esmtp_ehlo_lines(bs_buf *out)
{
    buf_puts(out, "250-DSN\r\n250-SMTPUTF8\r\n");
}

/* RFC 1870 size-value = 1*20DIGIT; a number past any limit (however many digits) is a
 * message too big, not bad syntax. */
static esmtp_result size_param(const char *d, size_t n, long max_size, const char **why)
{
    long v = 0;
    if (n == 0 || strspn(d, "0123456789") < n) {
        *why = "SIZE=number";
        return ESMTP_SYNTAX;
    }
    for (size_t i = 0; i < n && v <= max_size; i++)
        v = v * 10 + (d[i] - '0');
    return v > max_size ? ESMTP_TOO_BIG : ESMTP_OK;
}

esmtp_result esmtp_params(const char *rest, int rcpt, long max_size, dsn_params *p, char **word,
                          const char **why)
{
    *word = NULL;
    *why = NULL;
    const char *s = rest;
    for (;;) {
        while (*s == ' ')
            s++;
        if (!*s)
            return ESMTP_OK;
        const char *w = s;
        s += strcspn(s, " ");
        size_t n = (size_t)(s - w);
        int r = dsn_param(p, w, n, rcpt ? DSN_AT_RCPT : DSN_AT_MAIL, why);
        if (r < 0)
            return ESMTP_SYNTAX;
        if (r > 0)
            continue;
        if (!rcpt && n >= 5 && strncasecmp(w, "SIZE=", 5) == 0) {
            esmtp_result e = size_param(w + 5, n - 5, max_size, why);
            if (e != ESMTP_OK)
                return e;
        } else if (!rcpt && ((n == 9 && strncasecmp(w, "BODY=7BIT", 9) == 0) ||
                             (n == 13 && strncasecmp(w, "BODY=8BITMIME", 13) == 0))) {
            /* accepted */
        } else {
            *word = xstrndup(w, n);
            return ESMTP_UNKNOWN;
        }
    }
}
