/* Unit tests for src/gen-corpus/corpus.c: quoted-printable and base64 encoders
 * (round trip, line lengths, mbox safety), stream parsing, determinism and shape
 * of composed messages. */
#include <stdlib.h>
#include <string.h>

#include "../../../src/gen-corpus/corpus.h"
#include "tap.h"
#include "util.h"

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* RFC 2045 decoder for the round trip (CRLF hard breaks become LF). */
static char *qp_decode(const char *s, size_t n, size_t *outlen)
{
    bs_buf b;
    buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            buf_putc(&b, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
            i += 2;
        } else if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            buf_putc(&b, '\n');
            i++;
        } else {
            buf_putc(&b, s[i]);
        }
    }
    *outlen = b.len;
    return buf_steal(&b);
}

static size_t longest_line(const char *s, size_t n)
{
    size_t best = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            best = cur > best ? cur : best;
            cur = 0;
            i++;
        } else {
            cur++;
        }
    }
    return cur > best ? cur : best;
}

static void qp(void)
{
    static const char *const inputs[] = {
        "plain ascii line\n",
        "Zürich, Málaga and Kraków — €25\n",
        "trailing space \nand tab\t\nend",
        "From the editor: hello\nFrom here on\n",
        ".leading dot\n=equals=sign=\n",
        ("a very long line that goes on and on without any line break at all, longer than "
         "seventy-six characters for sure, with é and = and more text to wrap twice over\n"),
        "exactly seventy-five characters aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
        "\x01\x7f binary-ish\r\nCRLF line\r\n",
    };
    int rt = 0, len_ok = 0, from_ok = 0, trail_ok = 0;
    size_t n = sizeof inputs / sizeof inputs[0];
    for (size_t i = 0; i < n; i++) {
        bs_buf out;
        buf_init(&out);
        qp_encode(&out, inputs[i], strlen(inputs[i]));
        size_t dl;
        char *dec = qp_decode(out.data, out.len, &dl);
        /* CRLF input decodes to LF. */
        bs_buf want;
        buf_init(&want);
        for (const char *p = inputs[i]; *p; p++)
            if (!(*p == '\r' && p[1] == '\n'))
                buf_putc(&want, *p);
        if (dl == want.len && memcmp(dec, want.data, dl) == 0)
            rt++;
        else
            printf("# round trip %zu: got '%s'\n", i, dec);
        if (longest_line(out.data, out.len) <= 76)
            len_ok++;
        if (!strstr(out.data, "\nFrom ") && strncmp(out.data, "From ", 5) != 0)
            from_ok++;
        if (!strstr(out.data, " \r\n") && !strstr(out.data, "\t\r\n"))
            trail_ok++;
        for (size_t j = 0; j < out.len; j++)
            if ((unsigned char)out.data[j] >= 0x80) {
                printf("# 8-bit byte in QP output %zu\n", i);
                break;
            }
        free(dec);
        buf_free(&want);
        buf_free(&out);
    }
    is_int(rt, (int)n, "quoted-printable round trips");
    is_int(len_ok, (int)n, "quoted-printable lines <= 76 characters");
    is_int(from_ok, (int)n, "no encoded line starts with \"From \" (mbox safe)");
    is_int(trail_ok, (int)n, "no trailing blank before a line break");
}

static void b64(void)
{
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7 + 3);
    bs_buf out;
    buf_init(&out);
    b64_encode_lines(&out, data, sizeof data);
    is_int(longest_line(out.data, out.len), 76, "base64 lines of 76 characters");
    bs_buf joined;
    buf_init(&joined);
    for (size_t i = 0; i < out.len; i++)
        if (out.data[i] != '\r' && out.data[i] != '\n')
            buf_putc(&joined, out.data[i]);
    unsigned char *dec;
    size_t dl;
    ok(bs_base64_decode(joined.data, joined.len, &dec, &dl) == 0 && dl == sizeof data &&
           memcmp(dec, data, dl) == 0,
       "base64 round trip");
    free(dec);
    buf_free(&joined);
    buf_free(&out);
}

static void streams(void)
{
    corpus_stream *s;
    size_t n;
    char *err = NULL;
    ok(corpus_parse_streams("accept=10, oob=5,fbl=5,openclick=30,mixed=50", &s, &n, &err) == 0 &&
           n == 5 && strcmp(s[3].name, "openclick") == 0 && s[4].weight == 50,
       "stream weights parsed");
    corpus_free_streams(s, n);
    ok(corpus_parse_streams("UNSUB", &s, &n, &err) == 0 && n == 1 && s[0].weight == 1 &&
           strcmp(s[0].name, "unsub") == 0,
       "a bare name has weight 1, lower-cased");
    corpus_free_streams(s, n);
    static const char *const bad[] = {"",         "accept=-1", "accept=x", "a b=1",
                                      "accept=0", "-x=1",      "acc.ept=1"};
    int rejected = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (corpus_parse_streams(bad[i], &s, &n, &err) < 0 && err)
            rejected++;
        else
            corpus_free_streams(s, n);
        free(err);
        err = NULL;
    }
    is_int(rejected, (int)(sizeof bad / sizeof bad[0]), "bad stream specs rejected with a reason");
}

static void compose(void)
{
    corpus_stream st[] = {{"openclick", 1}, {"mixed", 1}};
    corpus_opts o = {
        .tracking_base = "http://t.test",
        .unsub_base = "https://u.test",
        .sink_domain = "sink.test",
        .from_domain = "sender.test",
        .mail_from = "b@sender.test",
        .streams = st,
        .nstreams = 2,
        .seed = 42,
        .date = 1795554000,
        .interval = 1,
    };
    corpus_msg a, b;
    corpus_msg_init(&a);
    corpus_msg_init(&b);
    corpus_make(&o, 17, &a);
    corpus_make(&o, 17, &b);
    ok(a.msg.len == b.msg.len && memcmp(a.msg.data, b.msg.data, a.msg.len) == 0 &&
           strcmp(a.id, b.id) == 0,
       "same seed and index: same message");
    corpus_make(&o, 18, &b);
    ok(strcmp(a.id, b.id) != 0, "another index: another message");
    o.seed = 43;
    corpus_make(&o, 17, &b);
    ok(strcmp(a.id, b.id) != 0, "another seed: another message");
    o.seed = 42;

    int shape = 0, tracked = 0, bare_lf = 0, qp_seen = 0, b64_seen = 0, latin1 = 0;
    for (unsigned long i = 0; i < 100; i++) {
        corpus_make(&o, i, &a);
        const char *m = a.msg.data;
        if (strstr(m, "\r\nMIME-Version: 1.0\r\n") && strstr(m, "X-MSFBL: ") &&
            strstr(m, "List-Unsubscribe: <mailto:") && strstr(m, "<https://u.test/u/") &&
            strstr(m, "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") &&
            strstr(m, "multipart/alternative") && strstr(m, "Content-Type: text/html") &&
            strstr(m, "Content-Type: text/plain") && strstr(m, "\r\nMessage-ID: <") &&
            strstr(m, "\r\nDate: ") && strstr(m, "\r\nSubject: ") && strstr(m, "\r\nFrom: "))
            shape++;
        int has_q = 0, has_f = 0;
        for (size_t k = 0; k < json_array_size(a.open); k++)
            has_q |=
                strncmp(json_string_value(json_array_get(a.open, k)), "http://t.test/q/", 16) == 0;
        for (size_t k = 0; k < json_array_size(a.click); k++)
            has_f |= strncmp(json_string_value(json_array_get(a.click, k)), "http://t.test/f/a/",
                             18) == 0;
        tracked += has_q && has_f;
        for (size_t k = 0; k < a.msg.len; k++)
            if (m[k] == '\n' && (k == 0 || m[k - 1] != '\r'))
                bare_lf++;
        qp_seen += strcmp(a.html_cte, "quoted-printable") == 0;
        b64_seen += strcmp(a.html_cte, "base64") == 0;
        latin1 += strcmp(a.charset, "ISO-8859-1") == 0;
        if (!(strstr(a.rcpt, "@openclick.sink.test") || bs_has_suffix_ci(a.rcpt, ".sink.test") ||
              bs_has_suffix_ci(a.rcpt, "@sink.test")))
            printf("# recipient %s\n", a.rcpt);
    }
    is_int(shape, 100, "every message has the ESP header fields and both parts");
    is_int(tracked, 100, "every message has an open pixel and a tracked link");
    is_int(bare_lf, 0, "messages are built with CRLF only");
    ok(qp_seen > 10 && b64_seen > 10 && latin1 > 0,
       "quoted-printable, base64 and ISO-8859-1 variants all occur");
    corpus_msg_free(&a);
    corpus_msg_free(&b);
}

int main(void)
{
    qp();
    b64();
    streams();
    compose();
    return done_testing();
}
