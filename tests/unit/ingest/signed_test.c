/* Unit tests for src/ingest/signed.c (what a DKIM signature covers: h= instances from the
 * bottom up, l= mapped back to whole raw lines) and msgr_apply_signed (message.c). */
#include <stdlib.h>
#include <string.h>

#include "../../../src/ingest/message.h"
#include "../../../src/ingest/signed.h"
#include "record.h"
#include "tap.h"
#include "util.h"

/* Coverage of the fields "A,B,A,C,A" (top to bottom) by h, as a string of 0/1. */
static void cover_of(const char *h, char out[6])
{
    const char *names[] = {"A", "b", "A", "C", "a"};
    size_t lens[] = {1, 1, 1, 1, 1};
    unsigned char covered[5];
    sig_cover_fields(h, names, lens, 5, covered);
    for (int i = 0; i < 5; i++)
        out[i] = (char)('0' + covered[i]);
    out[5] = 0;
}

static void fields(void)
{
    char c[6];
    cover_of("a", c);
    is_str(c, "00001", "one listing covers the bottom-most instance");
    cover_of("A:a", c);
    is_str(c, "00101", "two listings: the two bottom-most");
    cover_of("a:A:a:a", c);
    is_str(c, "10101", "over-signed: every instance, no more");
    cover_of(" b :\r\n\tc ; ", c);
    is_str(c, "01000", "folding white space around names; a name with junk is no name");
    cover_of("B: C", c);
    is_str(c, "01010", "case-insensitive");
    cover_of("::x:", c);
    is_str(c, "00000", "empty names and unknown names cover nothing");
    cover_of(NULL, c);
    is_str(c, "00000", "no h=: nothing");
}

static size_t prefix(const char *body, int relaxed, long long l, int *complete)
{
    return sig_body_prefix(body, strlen(body), relaxed, l, complete);
}

static void body(void)
{
    int complete;
    const char *b = "ab\r\ncd\r\n";
    is_int(prefix(b, 1, -1, &complete), 8, "no l=: all");
    ok(complete, "no l=: complete");
    is_int(prefix(b, 1, 8, &complete), 8, "l= the whole canonical body");
    ok(complete, "l= whole: complete");
    is_int(prefix(b, 1, 7, &complete), 4, "l= one short: the first line only");
    ok(!complete, "l= short: not complete");
    is_int(prefix(b, 1, 3, &complete), 0, "l= inside the first line: nothing");
    /* relaxed: runs of blanks are one space, trailing blanks and empty lines dropped */
    const char *r = "a  \t b  \n\n \t\nc\n\n\n";
    is_int(prefix(r, 1, 5 + 2 + 2 + 3, &complete), strlen(r), "relaxed: 'a b' CRLF x3 'c' CRLF");
    ok(complete, "relaxed: trailing empty lines are not counted");
    is_int(prefix(r, 1, 11, &complete), 9, "relaxed: one short: up to 'a b' (LF line ends)");
    ok(!complete, "relaxed short: not complete");
    /* simple: blanks count, a line of blanks is not empty */
    const char *s = "a  b\r\n \r\nc\r\n";
    is_int(prefix(s, 0, 6 + 3 + 3, &complete), strlen(s), "simple: every octet counts");
    is_int(prefix(s, 0, 11, &complete), 9, "simple: the blank line counts");
    is_int(prefix(s, 1, 5 + 2 + 3, &complete), strlen(s), "relaxed: the blank line is empty");
    /* a last line without a line end gets CRLF */
    is_int(prefix("ab\r\ncd", 1, 8, &complete), 6, "last line without CRLF: counted with it");
    ok(complete, "last line without CRLF: complete");
    is_int(prefix("ab\r\ncd", 1, 7, &complete), 4, "last line without CRLF: one short");
    is_int(prefix("", 1, 0, &complete), 0, "empty body, l=0");
    ok(complete, "empty body: complete");
    is_int(prefix("x\r\n", 1, 0, &complete), 0, "l=0: nothing");
    ok(!complete, "l=0 with a body: not complete");
}

static json_t *apply(msg_reader *r, const char *msg, const char *h, long long l)
{
    json_t *rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    msgr_read(r, msg, strlen(msg), rec, &env, &err);
    free(err);
    envelope_clear(&env);
    json_object_set_new(rec, "dkim", json_pack("{s:s,s:s}", "result", "pass", "reason", ""));
    sig_cover c = {.pass = 1, .h = h ? xstrdup(h) : NULL, .l = l, .relaxed_body = 1};
    msgr_apply_signed(r, msg, strlen(msg), &c, rec);
    sig_cover_clear(&c);
    return rec;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("null");
}

static void apply_signed(void)
{
    msg_reader *r = msgr_new(0);
    const char *m = "List-Unsubscribe: <https://evil.test/u>\n"
                    "From: a@sender.test\n"
                    "To: x@bouncy-sink.test\n"
                    "List-Unsubscribe: <https://sender.test/u>\n"
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
                    "X-Bouncy-Sink: store-done\n"
                    "Content-Type: text/html\n"
                    "\n"
                    "<a href=\"http://t.test/f/a/good\">x</a>\n"
                    "<a href=\"http://evil.test/f/a/bad\">y</a>\n";
    json_t *rec = apply(r, m, "from:to:list-unsubscribe", -1);
    char *s;
    is_str(json_string_value(rec_get(rec, "headers.list_unsubscribe")), "<https://sender.test/u>",
           "List-Unsubscribe from the signed (bottom-most) instance");
    ok(!rec_get(rec, "headers.list_unsubscribe_post"), "unsigned List-Unsubscribe-Post left out");
    is_str(s = dump(rec_get(rec, "dkim.unsigned_headers")), "[\"List-Unsubscribe-Post\"]",
           "named in dkim.unsigned_headers");
    free(s);
    is_str(json_string_value(rec_get(rec, "headers.x_bouncy_sink")), "store-done",
           "X-Bouncy-Sink needs no signature");
    is_str(s = dump(rec_get(rec, "urls.click")),
           "[\"http://t.test/f/a/good\",\"http://evil.test/f/a/bad\"]", "no l=: every URL");
    free(s);
    ok(!rec_get(rec, "dkim.unsigned_body"), "no l=: no unsigned_body");
    json_decref(rec);

    /* l= covering the first body line only (canonical "<a ...>x</a>" CRLF). */
    rec = apply(r, m, "from:to:list-unsubscribe:list-unsubscribe-post", 40);
    is_str(s = dump(rec_get(rec, "urls.click")), "[\"http://t.test/f/a/good\"]",
           "l=: only the URLs of the signed lines");
    free(s);
    ok(json_is_true(rec_get(rec, "dkim.unsigned_body")), "l=: unsigned_body true");
    ok(!rec_get(rec, "dkim.unsigned_headers"), "every recorded header signed: no list");
    json_decref(rec);

    const char *dup = "From: evil@evil.test\nFrom: a@sender.test\nTo: x@bouncy-sink.test\n\nx\n";
    rec = apply(r, dup, "from:to", -1);
    is_str(json_string_value(rec_get(rec, "dkim.result")), "fail", "two From: fail");
    is_str(json_string_value(rec_get(rec, "dkim.reason")), "duplicate From header field",
           "two From: the reason");
    json_decref(rec);

    const char *mid = "From: a@sender.test\nMessage-ID: <1@x>\nmessage-id: <2@x>\n\nx\n";
    rec = apply(r, mid, "from:message-id:message-id", -1);
    is_str(json_string_value(rec_get(rec, "dkim.reason")), "duplicate Message-ID header field",
           "two Message-ID (even both signed): fail");
    json_decref(rec);

    /* No pass: nothing changes. */
    rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    msgr_read(r, m, strlen(m), rec, &env, &err);
    free(err);
    envelope_clear(&env);
    json_object_set_new(rec, "dkim", json_pack("{s:s}", "result", "none"));
    sig_cover none = {.l = -1};
    msgr_apply_signed(r, m, strlen(m), &none, rec);
    is_str(json_string_value(rec_get(rec, "headers.list_unsubscribe")), "<https://evil.test/u>",
           "no pass: headers as read (first instance)");
    json_decref(rec);
    msgr_free(r);
}

int main(void)
{
    msgr_global_init();
    fields();
    body();
    apply_signed();
    return done_testing();
}
