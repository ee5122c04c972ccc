/* Fuzz target for the report builder: the first line of the input is a reply template
 * (the text of an in-band table line, filled by src/global/replies.c), the second an address field,
 * the rest an original header block. Checks that the reports never contain a bare LF and that
 * Status always agrees with the Diagnostic-Code; the out-of-office reply built from the header
 * block's Subject, Message-ID and References has no bare LF and no line over 998 octets. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/act-smtp/mkreport.h"
#include "domain.h"
#include "replies.h"
#include "rng.h"
#include "util.h"

static char *take_line(const uint8_t **p, const uint8_t *end)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    const uint8_t *e = nl ? nl : end;
    char *s = xstrndup((const char *)*p, (size_t)(e - *p));
    *p = nl ? nl + 1 : end;
    return s;
}

static void no_bare_lf(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data, *end = data + size;
    char *tmpl = take_line(&p, end);
    char *field = take_line(&p, end);
    /* the Return-Path reader: a usable address is exactly one mailbox, never empty */
    char *rp = NULL;
    mk_rp_kind rk = mk_return_path(field, &rp);
    if ((rk == MK_RP_OK) != (rp != NULL) ||
        (rp && (!bs_mailbox_valid(rp, strlen(rp)) || strchr(strchr(rp, '@') + 1, '@'))))
        abort();
    free(rp);
    char *shown = mk_printable(field, 64);
    for (const char *c = shown; *c; c++)
        if (*c < 0x20 || *c >= 0x7f)
            abort();
    free(shown);
    char *addr = mk_addr_part(field);
    char *dom = mk_addr_domain(addr ? addr : field);
    mk_orig o = {.mail_from = addr ? addr : "a@b.test",
                 .rcpt = field,
                 .client_ip = field,
                 .from_header = field,
                 .arrival = 1e9,
                 .header_block = (const char *)p,
                 .header_len = (size_t)(end - p)};
    int code;
    char enh[16];
    /* the template as a line of the reply table; one the table refuses is replaced */
    char *tline = xasprintf("random_bounce:%s", tmpl);
    reply_table table;
    char *terr = NULL;
    if (replies_parse(tline, strlen(tline), "fuzz", &table, &terr) < 0) {
        free(terr);
        static const char fallback[] = "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>>";
        if (replies_parse(fallback, sizeof fallback - 1, "fuzz", &table, &terr) < 0)
            abort();
    }
    free(tline);
    if (replies_retain_class(&table, 5) == 0) {
        replies_free(&table);
        static const char fallback5[] = "random_bounce:554 5.7.1 <ORIG> [<SENDER_IPADDRESS>]";
        if (replies_parse(fallback5, sizeof fallback5 - 1, "fuzz", &table, &terr) < 0)
            abort();
    }
    const inband_reply rep = table.v[0];
    bs_rng r;
    bs_rng_seed(&r, size);
    char *user = xstrndup(field, strcspn(field, "@"));
    reply_vars vars = {user, dom, o.client_ip, o.mail_from};
    bs_buf fb;
    buf_init(&fb);
    buf_printf(&fb, "%d %s ", rep.code, rep.enhanced);
    replies_fill(&rep, &vars, &r, &fb);
    free(user);
    replies_free(&table);
    char *filled = buf_steal(&fb);
    if (strchr(filled, '\n') || strchr(filled, '\r'))
        abort();
    mk_opts opt = {.hostname = "sink.example", .report_from = "postmaster@sink.example"};
    size_t len;
    char *dsn = mk_dsn(&opt, &o, filled, 1e9, &len);
    no_bare_lf(dsn, len);
    char *st = strstr(dsn, "\r\nStatus: ");
    char *dc = strstr(dsn, "\r\nDiagnostic-Code: smtp; ");
    if (!st || !dc)
        abort();
    char *line = xstrndup(dc + 25, strcspn(dc + 25, "\r"));
    if (mk_reply_parse(line, &code, enh, sizeof enh) < 0 || code < 500 ||
        strncmp(st + 10, enh, strlen(enh)) != 0 || st[10 + strlen(enh)] != '\r')
        abort();
    free(line);
    char *arf = mk_arf(&opt, &o, "fbl@x.test", 1e9, &len);
    no_bare_lf(arf, len);
    free(arf);

    const char *why_status;
    char *why = NULL;
    if (mk_ooto_refusal(field, o.header_block, o.header_len, &why_status, &why)) {
        if (!why || !why_status)
            abort();
    }
    free(why);
    char *subject = mk_header_get(o.header_block, o.header_len, "Subject");
    char *msgid = mk_header_get(o.header_block, o.header_len, "Message-ID");
    char *refs = mk_header_get(o.header_block, o.header_len, "References");
    mk_ooto_ref ref = {.subject = subject, .message_id = msgid, .references = refs};
    char *ooto = mk_ooto(&opt, &o, &ref, 1e9, 1e9 + 86400 * 3, &len);
    no_bare_lf(ooto, len);
    size_t col = 0;
    for (size_t i = 0; i < len; i++) {
        col = ooto[i] == '\n' ? 0 : col + 1;
        if (col > 999) /* 998 octets plus the CR */
            abort();
    }
    free(ooto);
    free(subject);
    free(msgid);
    free(refs);
    free(dsn);
    free(filled);
    free(dom);
    free(addr);
    free(field);
    free(tmpl);
    return 0;
}
