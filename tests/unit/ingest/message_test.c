/* Unit tests for the message reader (src/ingest/message.c, html.c, text.c, jsonout.c). */
#include <stdlib.h>
#include <string.h>

#include "../../../src/ingest/html.h"
#include "../../../src/ingest/jsonout.h"
#include "../../../src/ingest/message.h"
#include "../../../src/ingest/text.h"
#include "record.h"
#include "tap.h"
#include "util.h"

static void header_length(void)
{
    size_t body;
    int term;
    const char *m1 = "A: b\r\nC: d\r\n\r\nbody";
    is_int(msg_header_length(m1, strlen(m1), 1000, &body, &term), 12, "CRLF header length");
    ok(term && body == 14, "CRLF body offset");
    const char *m2 = "A: b\n\tfolded\n\nx";
    is_int(msg_header_length(m2, strlen(m2), 1000, &body, &term), 13, "LF, folded");
    const char *m3 = "A: b\nC: d\n";
    is_int(msg_header_length(m3, strlen(m3), 1000, &body, &term), 10, "no body");
    ok(!term && body == 10, "no body: not terminated");
    const char *m4 = "A: 0123456789\n\nx";
    is_int(msg_header_length(m4, strlen(m4), 8, &body, &term), -1, "over the limit");
    is_int(msg_header_length(m4, strlen(m4), 15, &body, &term), 14, "just within the limit");
    const char *m5 = "\nbody";
    is_int(msg_header_length(m5, strlen(m5), 100, &body, &term), 0, "empty header section");
}

/* Reads msg and returns the record (caller decrefs); *err the error or NULL. */
static json_t *read_msg(msg_reader *r, const char *msg, char **err)
{
    json_t *rec = json_object();
    ing_envelope env = {0};
    msgr_read(r, msg, strlen(msg), rec, &env, err);
    envelope_clear(&env);
    return rec;
}

static void reader(void)
{
    msg_reader *r = msgr_new(NULL);
    char *err;
    json_t *rec = read_msg(r,
                           "Return-Path: <s@x.test>\nFrom: =?utf-8?q?S=C3=A9?= <s@x.test>\n"
                           "Subject:  padded  \nContent-Type: text/html\n\n"
                           "<p><img src=x.gif><a href=\"y\">y</a></p>\n",
                           &err);
    ok(err == NULL, "good message: no error");
    is_str(rec_str(rec, "headers.from"), "Sé <s@x.test>", "From decoded");
    is_str(rec_str(rec, "headers.subject"), "padded", "value trimmed");
    is_str(rec_str(rec, "envelope.mail_from"), "s@x.test", "Return-Path");
    is_str(json_string_value(json_array_get(rec_get(rec, "urls.open"), 0)), "x.gif",
           "relative URL kept as written");
    ok(json_is_true(json_object_get(rec, "html")), "html true");
    is_int(json_integer_value(json_object_get(rec, "size")), 145, "size");
    json_decref(rec);

    /* Values read eight bytes at a time until one may need decoding: "=?" across two
     * words, a tab and an encoded word later on, 8-bit text, DEL. */
    rec = read_msg(r,
                   "Subject: abcdefg=?UTF-8?Q?caf=C3=A9?= and more text here\n"
                   "X-MSFBL: 0123456789abcdef\tlong value, then =?ISO-8859-1?Q?=E9t=E9?=\n"
                   "To: caf\xC3\xA9 <c@d.test>\nFrom: plain ascii text longer than a word\x7F\n\n"
                   "x\n",
                   &err);
    is_str(rec_str(rec, "headers.subject"), "abcdefgcaf\xC3\xA9 and more text here",
           "encoded word starting at the end of a word decoded");
    is_str(rec_str(rec, "headers.x_msfbl"), "0123456789abcdef\tlong value, then \xC3\xA9t\xC3\xA9",
           "encoded word after a tab decoded");
    is_str(rec_str(rec, "headers.to"), "caf\xC3\xA9 <c@d.test>", "8-bit UTF-8 value kept");
    is_str(rec_str(rec, "headers.from"), "plain ascii text longer than a word\x7F",
           "plain value as it is");
    free(err);
    json_decref(rec);

    struct {
        const char *msg, *want, *desc;
        int header_block;
    } bad[] = {
        {"", "empty message", "empty", 0},
        {"\n\nbody\n", "no header section", "empty header section", 0},
        {"just text\n\nbody", "no header section", "first line not a field", 0},
        {": no name\n\nx", "no header section", "field without a name", 0},
        {"From: a\nSubject: cut", "truncated", "cut inside the header", 1},
        {"From: a\nContent-Type: multipart/mixed; boundary=z\n\n--z\n\nx\n", "truncated",
         "multipart not closed", 1},
        {"From: a\nContent-Type: multipart/mixed\n\nx\n", "broken MIME", "no boundary", 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rec = read_msg(r, bad[i].msg, &err);
        ok(err && strstr(err, bad[i].want), bad[i].desc);
        if (err && !strstr(err, bad[i].want))
            printf("#   error: %s\n", err);
        ok(!!json_object_get(rec, "header_block") + !!json_object_get(rec, "header_block_b64") ==
               bad[i].header_block,
           "header_block present only when readable");
        free(err);
        json_decref(rec);
    }
    /* 8-bit header text: readable, no error, the block kept as header_block_b64. */
    rec = read_msg(r, "Subject: \xe9t\xe9\n\nx\n", &err);
    ok(!err, "8-bit header: no error");
    is_str(json_string_value(json_object_get(rec, "header_block_b64")),
           "U3ViamVjdDog6XTpCg==", "8-bit header: header_block_b64");
    is_str(json_string_value(rec_get(rec, "headers.subject")), "\xc3\xa9t\xc3\xa9",
           "8-bit header: decoded (Latin-1)");
    free(err);
    json_decref(rec);
    /* NUL in the header: unreadable. */
    json_t *rec2 = json_object();
    ing_envelope env = {0};
    ok(msgr_read(r, "A: b\0c\n\nx", 9, rec2, &env, &err) == -1 && err && strstr(err, "NUL"),
       "NUL byte in the header: unreadable");
    free(err);
    json_decref(rec2);
    msgr_free(r);

    msg_limits small;
    msg_limits_default(&small);
    small.max_header = 64;
    r = msgr_new(&small);
    rec =
        read_msg(r, "X-Long: 01234567890123456789012345678901234567890123456789012345\n\nx", &err);
    ok(err && strstr(err, "longer than 64 bytes"), "header limit");
    free(err);
    json_decref(rec);
    msgr_free(r);
}

static void helpers(void)
{
    char *s;
    is_str(s = html_clean_url("  http://a.test/x\n  y\t "), "http://a.test/x  y",
           "URL: blanks trimmed, line breaks and tabs removed");
    free(s);
    ok(html_clean_url(" \n ") == NULL, "blank URL: none");
    is_str(s = html_clean_url(" http://a.test/caf\xC3\xA9?q=1 "), "http://a.test/caf\xC3\xA9?q=1",
           "URL: valid UTF-8 without tabs or line breaks, trimmed");
    free(s);
    is_str(s = html_clean_url("http://a.test/\xFFx"), "http://a.test/\xEF\xBF\xBDx",
           "URL: invalid UTF-8 replaced");
    free(s);
    is_str(s = html_clean_url("http://a.test/a\rb\x7F"), "http://a.test/ab\x7F",
           "URL: a CR alone removed, DEL kept");
    free(s);
    int changed;
    is_str(s = text_utf8_repair("a\xff"
                                "b\xc3\xa9",
                                5, &changed),
           "a\xef\xbf\xbd"
           "b\xc3\xa9",
           "invalid byte replaced");
    ok(changed, "changed flag");
    free(s);
    is_str(s = text_utf8_repair("\xed\xa0\x80", 3, NULL), "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
           "surrogate rejected");
    free(s);
    ok(text_is_hex16("0123456789abcDEF", 16) && !text_is_hex16("0123456789abcdeg", 16) &&
           !text_is_hex16("0123", 4),
       "hex16");

    json_t *v =
        json_pack("{s:s, s:i, s:b, s:n, s:[s, s], s:{}, s:[], s:f}", "a\"b", "x\\y/\n\t\x01\x1f é",
                  "n", -42, "t", 1, "z", "arr", "", "\r\b\f", "o", "e", "r", 0.5);
    bs_buf b;
    buf_init(&b);
    json_out(&b, v);
    char *want = json_dumps(v, JSON_COMPACT);
    is_str(b.data, want, "json_out = json_dumps(JSON_COMPACT)");
    free(want);
    buf_free(&b);
    json_decref(v);

    /* Long strings (the sixteen- and eight-byte scans): a byte to escape at every offset
     * of every length up to 70, each kind of byte, with UTF-8 and DEL around it. */
    static const char *const kinds[] = {"\"", "\\", "\n", "\x01", "\x1f", "\t"};
    int same = 1;
    for (size_t len = 1; len <= 70 && same; len++)
        for (size_t at = 0; at < len && same; at++)
            for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
                char text[80];
                for (size_t i = 0; i < len; i++)
                    text[i] = i % 7 == 3 ? 0x7F : (char)('a' + i % 26);
                if (len >= 2 && at != 0 && at != 1)
                    memcpy(text, "\xC3\xA9", 2);
                text[at] = kinds[k][0];
                json_t *str = json_stringn(text, len);
                buf_init(&b);
                json_out(&b, str);
                want = json_dumps(str, JSON_COMPACT | JSON_ENCODE_ANY);
                same &= want && strcmp(b.data, want) == 0;
                free(want);
                buf_free(&b);
                json_decref(str);
            }
    ok(same, "json_out = json_dumps for a byte to escape at any offset of long strings");
    /* Every byte escaped, six bytes out for each: the buffer grows inside the string. */
    char ctl[300];
    for (size_t i = 0; i < sizeof ctl; i++)
        ctl[i] = (char)(1 + i % 31);
    json_t *str = json_pack("[s%,s%]", "x", (size_t)1, ctl, sizeof ctl);
    buf_init(&b);
    json_out(&b, str);
    want = json_dumps(str, JSON_COMPACT);
    is_str(b.data, want, "json_out = json_dumps for a long string of control characters");
    ok(b.len == strlen(b.data), "json_out: the buffer's length is its text's");
    free(want);
    buf_free(&b);
    json_decref(str);
}

static void html(void)
{
    html_extractor *h = html_new();
    json_t *open = json_array(), *click = json_array();
    const char *doc = "<a href='1'><img src=2><a HREF=\"3\" href=\"dup\"></a>"
                      "<noscript><img src=4></noscript>"
                      "<img src=''><IMG Src=6>";
    html_urls(h, doc, strlen(doc), "UTF-8", open, click);
    char *o = json_dumps(open, JSON_COMPACT), *c = json_dumps(click, JSON_COMPACT);
    is_str(c, "[\"1\",\"3\"]", "click URLs: first attribute of duplicates");
    is_str(o, "[\"2\",\"4\",\"6\"]", "open URLs in order; empty src skipped");
    free(o);
    free(c);
    json_array_clear(open);
    html_urls(h, "", 0, NULL, open, click);
    html_urls(h, "<img src=", 9, NULL, open, click);
    ok(json_array_size(open) <= 1, "empty and cut documents are harmless");
    json_decref(open);
    json_decref(click);
    html_free(h);
}

int main(void)
{
    bs_set_progname("message_test");
    msgr_global_init();
    header_length();
    reader();
    helpers();
    html();
    return done_testing();
}
