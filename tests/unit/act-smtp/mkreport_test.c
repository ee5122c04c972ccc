/* Unit tests for src/act-smtp: reply lines, addresses, dates, the shape of
 * ARF and DSN reports, the allow-list and MX overrides. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/act-smtp/mkreport.h"
#include "../../../src/act-smtp/mx.h"
#include "tap.h"
#include "util.h"

static int lines_ok(const char *s, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            return 0; /* bare LF */
        if (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'))
            return 0; /* bare CR */
        if (s[i] == '\n')
            col = 0;
        else if (s[i] != '\r' && ++col > 998)
            return 0;
    }
    return 1;
}

typedef struct {
    int calls;
    mx_status st;
    char *host, *why;
} got;

static void remember(void *arg, mx_status st, const char *host, const char *why)
{
    got *g = arg;
    g->calls++;
    g->st = st;
    g->host = host ? xstrdup(host) : NULL;
    g->why = why ? xstrdup(why) : NULL;
}

static void got_clear(got *g)
{
    free(g->host);
    free(g->why);
    memset(g, 0, sizeof *g);
}

int main(void)
{
    bs_set_progname("mkreport_test");
    int code;
    char enh[16];

    ok(mk_reply_parse("550 5.1.1 User unknown", &code, enh, sizeof enh) == 0 && code == 550 &&
           strcmp(enh, "5.1.1") == 0,
       "reply parsed: code and enhanced code");
    ok(mk_reply_parse("552 5.2.2 x", &code, enh, sizeof enh) == 0 && strcmp(enh, "5.2.2") == 0,
       "552 5.2.2");
    ok(mk_reply_parse("550 4.2.1 mismatch", &code, enh, sizeof enh) < 0,
       "class of the enhanced code must match the reply code");
    ok(mk_reply_parse("550 User unknown", &code, enh, sizeof enh) < 0, "no enhanced code refused");
    ok(mk_reply_parse("55 5.1.1 x", &code, enh, sizeof enh) < 0, "short code refused");
    ok(mk_reply_parse("550 5.1111.1 x", &code, enh, sizeof enh) < 0 || strlen(enh) <= 9,
       "overlong enhanced code refused or bounded");

    /* the reference table (loaded and filled by src/global/replies.c): see
     * tests/unit/global/replies_test.c */
    char *err = NULL;
    mk_orig o = {.mail_from = "bounces@sender.test",
                 .rcpt = "jane.doe@oob.bouncy-sink.test",
                 .client_ip = "192.0.2.10",
                 .from_header = "\"News, Letter\" <News@Sender.TEST>",
                 .arrival = 1795550710.0,
                 .header_block = "Subject: a\r\nX-MSFBL: abc\r\n\tdef\nTo: x@y\r\n",
                 .header_len = 0};
    o.header_len = strlen(o.header_block);
    char *a = mk_addr_part("\"News, Letter\" <news@sender.test>");
    is_str(a, "news@sender.test", "addr-spec from a display-name address");
    free(a);
    a = mk_addr_part("a@b.test, c@d.test");
    is_str(a, "a@b.test", "first address of a list");
    free(a);
    a = mk_addr_part("<>");
    ok(a == NULL, "null path is no address");
    free(a);
    a = mk_addr_part("undisclosed-recipients:;");
    ok(a == NULL, "group without address is no address");
    free(a);
    a = mk_addr_domain("x@Sender.TEST.");
    is_str(a, "sender.test", "domain lower-cased, trailing dot dropped");
    free(a);

    /* issue 14 defect 6: the Return-Path is one mailbox or nothing */
    static const struct {
        const char *field;
        mk_rp_kind kind;
        const char *addr;
    } rps[] = {
        {"bounces@sender.test", MK_RP_OK, "bounces@sender.test"},
        {" <bounces@sender.test> ", MK_RP_OK, "bounces@sender.test"},
        {NULL, MK_RP_NONE, NULL},
        {"", MK_RP_NONE, NULL},
        {"<>", MK_RP_NONE, NULL},
        {" < > ", MK_RP_INVALID, NULL},
        {"victim@other.test@sender.test", MK_RP_INVALID, NULL},
        {"<victim@other.test@sender.test>", MK_RP_INVALID, NULL},
        {"\"victim@other.test\"@sender.test", MK_RP_INVALID, NULL},
        {"<@sender.test:victim@other.test>", MK_RP_INVALID, NULL},
        {"a@b.test, victim@other.test", MK_RP_INVALID, NULL},
        {"News <a@b.test>", MK_RP_INVALID, NULL},
        {"<a@b.test", MK_RP_INVALID, NULL},
        {"a@b.test\r\nRCPT TO:<victim@other.test>", MK_RP_INVALID, NULL},
    };
    for (size_t i = 0; i < sizeof rps / sizeof *rps; i++) {
        char *addr = (char *)"unset", desc[160];
        mk_rp_kind k = mk_return_path(rps[i].field, &addr);
        char *shown = mk_printable(rps[i].field ? rps[i].field : "(none)", 60);
        snprintf(desc, sizeof desc, "Return-Path '%s' read as %d", shown, rps[i].kind);
        free(shown);
        is_int(k, rps[i].kind, desc);
        is_str(addr, rps[i].addr, "... and its address");
        free(addr);
    }
    char *shown = mk_printable("a\r\n\200b", 10);
    is_str(shown, "a???b", "error text: control and 8-bit octets shown as ?");
    free(shown);
    shown = mk_printable("abcdef", 3);
    is_str(shown, "abc...", "error text: cut");
    free(shown);

    mk_opts opt = {.hostname = "sink.example", .report_from = "postmaster@sink.example"};
    size_t len;
    char *arf = mk_arf(&opt, &o, "fbl@sparkpostmail.com", 1795550800.0, &len);
    ok(len == strlen(arf), "ARF length");
    ok(lines_ok(arf, len), "ARF: CRLF everywhere, lines <= 998");
    ok(strstr(arf, "report-type=feedback-report") != NULL, "ARF report-type");
    ok(strstr(arf, "\r\nReported-Domain: sender.test\r\n") != NULL,
       "Reported-Domain is the From domain");
    ok(strstr(arf, "\r\nOriginal-Mail-From: <bounces@sender.test>\r\n") != NULL,
       "Original-Mail-From");
    ok(strstr(arf, "\r\nArrival-Date: Tue, 24 Nov 2026 20:05:10 +0000\r\n") != NULL,
       "Arrival-Date");
    ok(strstr(arf, "\r\n\r\nSubject: a\r\nX-MSFBL: abc\r\n\tdef\r\nTo: x@y\r\n") != NULL,
       "original headers kept, bare LF made CRLF, folding untouched");
    free(arf);

    o.from_header = NULL;
    o.header_block = "H: v";
    o.header_len = 4;
    char *dsn = mk_dsn(&opt, &o, "552 5.2.2 Mailbox full", 1795550800.0, &len);
    ok(lines_ok(dsn, len), "DSN: CRLF everywhere, lines <= 998");
    ok(strstr(dsn, "\r\nStatus: 5.2.2\r\n") &&
           strstr(dsn, "\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"),
       "Status and Diagnostic-Code agree");
    ok(strstr(dsn, "\r\nFinal-Recipient: rfc822; jane.doe@oob.bouncy-sink.test\r\n") != NULL,
       "Final-Recipient");
    ok(strstr(dsn, "\r\nTo: bounces@sender.test\r\n") != NULL, "DSN To: the envelope sender");
    ok(strstr(dsn, "\r\n\r\nH: v\r\n") != NULL, "a header block without final newline gets one");
    free(dsn);
    dsn = mk_dsn(&opt, &o, "451 4.7.1 later", 1795550800.0, &len);
    ok(strstr(dsn, "\r\nStatus: 5.1.1\r\n") && strstr(dsn, "smtp; 550 5.1.1"),
       "a non-5xx reply is replaced by a 550 5.1.1 (a DSN reports a permanent failure)");
    free(dsn);
    char *boundary1 = NULL, *boundary2 = NULL;
    char *d1 = mk_dsn(&opt, &o, "550 5.1.1 x", 0, &len),
         *d2 = mk_dsn(&opt, &o, "550 5.1.1 x", 0, &len);
    boundary1 = strstr(d1, "boundary=");
    boundary2 = strstr(d2, "boundary=");
    ok(boundary1 && boundary2 && strncmp(boundary1, boundary2, 40) != 0, "boundaries are random");
    free(d1);
    free(d2);

    /* allow-list */
    const char *mxs[] = {"smtp.sparkpostmail.com", "MX.Example.NET."};
    const char *fbls[] = {"fbl@sparkpostmail.com", "fbl@example.net"};
    mx_allowlist al = {mxs, fbls, 2};
    char *t = mx_fbl_address(&al, "SMTP.sparkpostmail.com.");
    is_str(t, "fbl@sparkpostmail.com", "allow-list hit, case and trailing dot ignored");
    free(t);
    t = mx_fbl_address(&al, "mx.example.net");
    is_str(t, "fbl@example.net", "allow-list key normalised too");
    free(t);
    t = mx_fbl_address(&al, "acme.e.sparkpost.com");
    is_str(t, "fbl@acme.mail.e.sparkpost.com", "e.sparkpost.com rule");
    free(t);
    t = mx_fbl_address(&al, "mx.gmail.com");
    ok(t == NULL, "anything else refused");
    t = mx_fbl_address(&al, "e.sparkpost.com.evil.test");
    ok(t == NULL, "suffix must be at the end");

    /* overrides */
    const char *ov[] = {"Sender.Test=SMTP.SparkPostMail.com.", "none.test="};
    mx_resolver *res = mx_new(ov, 2, NULL, 0, 2, &err);
    ok(res != NULL, "resolver with overrides");
    got g = {0};
    mx_resolve(res, "sender.TEST", remember, &g);
    ok(g.calls == 1 && g.st == MX_FOUND && g.host && strcmp(g.host, "smtp.sparkpostmail.com") == 0,
       "override answers at once, normalised");
    got_clear(&g);
    mx_resolve(res, "none.test", remember, &g);
    ok(g.calls == 1 && g.st == MX_NONE && g.why && !g.host, "empty override: no MX, at once");
    got_clear(&g);
    ok(mx_pending(res) == 0, "no lookup left open");
    mx_free(res);
    const char *badov[] = {"nodomain"};
    err = NULL;
    ok(mx_new(badov, 1, NULL, 0, 2, &err) == NULL && err && strstr(err, "nodomain"),
       "bad override refused");
    free(err);
    /* Out-of-office (RFC 3834). */
    {
        static const char hb[] = "Received: x\r\nSubject: a\r\n  folded\tvalue \r\n"
                                 "auto-submitted : Auto-Generated; x=y\nReferences: <a@b>\r\n";
        char *v = mk_header_get(hb, sizeof hb - 1, "Subject");
        is_str(v, "a folded\tvalue", "header value unfolded, trimmed");
        free(v);
        v = mk_header_get(hb, sizeof hb - 1, "AUTO-SUBMITTED");
        is_str(v, "Auto-Generated; x=y", "header name case-insensitive, blank before colon");
        free(v);
        v = mk_header_get(hb, sizeof hb - 1, "References");
        is_str(v, "<a@b>", "last header without folding");
        free(v);
        ok(mk_header_get(hb, sizeof hb - 1, "Subj") == NULL, "a prefix of a name is not the name");
        const char *st = NULL;
        char *owhy = NULL;
        ok(mk_ooto_refusal("b@s.test", hb, sizeof hb - 1, &st, &owhy) == 1 &&
               strcmp(st, "auto_submitted") == 0,
           "Auto-Submitted: auto-generated refused");
        free(owhy);
        static const char no[] = "Auto-Submitted: no (manual)\r\n";
        ok(mk_ooto_refusal("b@s.test", no, sizeof no - 1, &st, &owhy) == 0,
           "Auto-Submitted: no is answered");
        ok(mk_ooto_refusal("b@s.test", NULL, 0, &st, &owhy) == 0, "no header block: answered");
        ok(mk_ooto_refusal(NULL, NULL, 0, &st, &owhy) == 1 &&
               strcmp(st, "missing_return_path") == 0,
           "no sender refused");
        free(owhy);
        ok(mk_ooto_refusal("", NULL, 0, &st, &owhy) == 1, "empty sender refused");
        free(owhy);
        ok(mk_ooto_refusal("mailer-daemon@s.test", NULL, 0, &st, &owhy) == 1 &&
               strcmp(st, "system_sender") == 0,
           "MAILER-DAEMON refused");
        free(owhy);
        ok(mk_ooto_refusal("x-request@s.test", NULL, 0, &st, &owhy) == 1, "-request refused");
        free(owhy);
        ok(mk_ooto_refusal("owner-x@s.test", NULL, 0, &st, &owhy) == 1, "owner-* refused");
        free(owhy);
        ok(mk_ooto_refusal("owner@s.test", NULL, 0, &st, &owhy) == 0, "owner@ is a person");
        char *subj = mk_ooto_subject_field("Hello");
        is_str(subj, "Subject: Out of Office: Hello\r\n", "ASCII subject kept");
        free(subj);
        subj = mk_ooto_subject_field(NULL);
        is_str(subj, "Subject: Out of Office: \r\n", "no subject");
        free(subj);
        subj = mk_ooto_subject_field("Caf\xc3\xa9 \xe2\x80\x94 "
                                     "a long subject line with many words in it, quite long");
        ok(strncmp(subj, "Subject: =?UTF-8?B?", 19) == 0 && strstr(subj, "?=\r\n =?UTF-8?B?") &&
               lines_ok(subj, strlen(subj)),
           "non-ASCII subject: RFC 2047 words, folded");
        int ascii = 1, longest = 0, col = 0;
        for (const char *p = subj; *p; p++) {
            ascii &= (unsigned char)*p < 0x80;
            col = *p == '\n' ? 0 : col + 1;
            longest = col > longest ? col : longest;
        }
        ok(ascii && longest <= 78, "encoded subject: ASCII, lines <= 78");
        free(subj);
        mk_opts mo = {.hostname = "sink.example", .report_from = "p@sink.example"};
        mk_orig oo = {.mail_from = "b@s.test", .rcpt = "r@ooto.sink.test"};
        mk_ooto_ref ref = {.subject = "S", .message_id = "<1@s.test>", .references = "<0@s.test>"};
        size_t olen;
        char *m = mk_ooto(&mo, &oo, &ref, 1795550710, 1795550710 + 3 * 86400, &olen);
        ok(lines_ok(m, olen), "auto-reply: CRLF lines");
        ok(strstr(m, "\r\nIn-Reply-To: <1@s.test>\r\n") != NULL, "In-Reply-To");
        ok(strstr(m, "\r\nReferences: <0@s.test> <1@s.test>\r\n") != NULL, "References");
        ok(strstr(m, "\r\nAuto-Submitted: auto-replied\r\n") != NULL, "Auto-Submitted");
        ok(strncmp(m, "From: r@ooto.sink.test\r\nTo: b@s.test\r\n", 38) == 0, "From and To");
        ok(strstr(m, "out of the office until Friday, 27 November 2026") != NULL, "return date");
        free(m);
        mk_ooto_ref none = {0};
        m = mk_ooto(&mo, &oo, &none, 1795550710, 1795550710, &olen);
        ok(!strstr(m, "In-Reply-To") && !strstr(m, "References"), "no ids: no In-Reply-To");
        free(m);
    }
    return done_testing();
}
