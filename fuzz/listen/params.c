/* libFuzzer target: the MAIL and RCPT parameters (src/listen/esmtp.c, src/global/dsn.c).
 * Input: a MAIL parameter list, a newline, an RCPT parameter list. Checks what listen and
 * ingest rely on: what is taken is bounded and printable as dsn.h says, the trace field
 * written from it is ASCII without line ends, and reading that field back gives the same
 * parameters (the spool round trip). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/listen/esmtp.h"
#include "dsn.h"
#include "util.h"

static void check_value(const char *v, size_t max)
{
    if (v && (strlen(v) > max || strpbrk(v, "\r\n")))
        abort();
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = xstrndup((const char *)data, size);
    char *nl = strchr(in, '\n');
    const char *rcpt_words = "";
    if (nl) {
        *nl = 0;
        rcpt_words = nl + 1;
    }
    dsn_params m = {0}, r = {0}, t = {0};
    char *word;
    const char *why;
    esmtp_result em = esmtp_params(in, 0, 1000, &m, &word, &why);
    free(word);
    esmtp_result er = esmtp_params(rcpt_words, 1, 1000, &r, &word, &why);
    free(word);
    if (em == ESMTP_OK && er == ESMTP_OK) {
        check_value(m.envid, DSN_ENVID_MAX);
        check_value(r.orcpt, DSN_ORCPT_MAX);
        check_value(r.orcpt_type, DSN_ORCPT_MAX);
        if (r.notify & DSN_NOTIFY_NEVER && r.notify != DSN_NOTIFY_NEVER)
            abort();
        bs_buf b;
        buf_init(&b);
        buf_puts(&b, DSN_TRACE_FIELD ": ");
        size_t start = b.len;
        dsn_params_format(&m, &r, &b);
        for (size_t i = start; i < b.len; i++)
            if ((unsigned char)b.data[i] < 0x20 || (unsigned char)b.data[i] > 0x7e)
                abort();
        buf_puts(&b, "\r\nReceived: from x by y; date\r\n");
        int got = dsn_from_trace(b.data, b.len, &t, &why);
        if (dsn_params_any(&m) || dsn_params_any(&r)) {
            if (got != 1 || t.notify != r.notify || t.ret != m.ret || t.smtputf8 != m.smtputf8 ||
                !same(t.envid, m.envid) || !same(t.orcpt, r.orcpt) ||
                !same(t.orcpt_type, r.orcpt_type))
                abort();
        }
        buf_free(&b);
    }
    /* the raw input as a header block too */
    dsn_params_clear(&t);
    dsn_from_trace((const char *)data, size, &t, &why);
    dsn_params_clear(&t);
    dsn_params_clear(&m);
    dsn_params_clear(&r);
    free(in);
    return 0;
}
