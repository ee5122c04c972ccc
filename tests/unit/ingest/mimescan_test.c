/* Unit tests for the MIME limits (src/ingest/mimescan.c and their checks in message.c):
 * each limit on hand-made messages, then a property test: for random MIME structures
 * (nested multiparts, attached messages, boundary declarations in every style, fake
 * boundaries and declarations in bodies), the pre-scan never counts fewer parts than
 * GMime builds: with the limit one below GMime's count, the message is always refused
 * before GMime sees it. */
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/ingest/message.h"
#include "../../../src/ingest/mimescan.h"
#include "tap.h"
#include "util.h"

static msg_limits limits(size_t parts, size_t depth, size_t fields)
{
    msg_limits l;
    msg_limits_default(&l);
    l.max_parts = parts;
    l.max_depth = depth;
    l.max_fields = fields;
    return l;
}

/* The error of msgr_read (caller frees), or NULL; *rc its return. */
static char *read_error(const msg_limits *l, const char *msg, int *rc)
{
    msg_reader *r = msgr_new(l);
    json_t *rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    *rc = msgr_read(r, msg, strlen(msg), rec, &env, &err);
    envelope_clear(&env);
    json_decref(rec);
    msgr_free(r);
    return err;
}

static int refused(const msg_limits *l, const char *msg, const char *want)
{
    int rc;
    char *err = read_error(l, msg, &rc);
    int yes = rc == -1 && err && strstr(err, want);
    if (!yes)
        printf("#   rc %d, error: %s\n", rc, err ? err : "(none)");
    free(err);
    return yes;
}

static int accepted(const msg_limits *l, const char *msg)
{
    int rc;
    char *err = read_error(l, msg, &rc);
    int yes = rc == 0 && !err;
    if (!yes)
        printf("#   rc %d, error: %s\n", rc, err ? err : "(none)");
    free(err);
    return yes;
}

/* A multipart/mixed of n empty text parts. */
static char *flat(size_t n, const char *boundary_param, const char *boundary)
{
    bs_buf b;
    buf_init(&b);
    buf_printf(&b, "From: a@b.test\nContent-Type: multipart/mixed; boundary=%s\n\n",
               boundary_param);
    for (size_t i = 0; i < n; i++)
        buf_printf(&b, "--%s\nContent-Type: text/plain\n\nx\n", boundary);
    buf_printf(&b, "--%s--\n", boundary);
    return buf_steal(&b);
}

static void each_limit(void)
{
    msg_limits l = limits(10, 20, 10000);
    char *m = flat(9, "b", "b");
    ok(accepted(&l, m), "10 parts (a multipart of 9) within a limit of 10");
    free(m);
    m = flat(10, "b", "b");
    ok(refused(&l, m, "MIME parts over the limit of 10 ([Ingest] Max_MIME_Parts)"),
       "11 parts over a limit of 10");
    free(m);
    m = flat(10, "\"q b\"", "q b");
    ok(refused(&l, m, "Max_MIME_Parts"), "quoted boundary with a blank");
    free(m);
    m = flat(10, "\"b\\\"x\"", "b\"x");
    ok(refused(&l, m, "Max_MIME_Parts"), "escaped quote: every -- line counts");
    free(m);

    /* Many "--" lines in a text body that declares no boundary: not parts. */
    bs_buf b;
    buf_init(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: text/plain\n\n");
    for (int i = 0; i < 50; i++)
        buf_puts(&b, "-- a line that looks like a signature separator\n");
    ok(accepted(&l, b.data), "-- lines of a text body are not parts");
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: text/plain\n\nboundary*0=x\n");
    for (int i = 0; i < 50; i++)
        buf_puts(&b, "-- a line\n");
    ok(refused(&l, b.data, "Max_MIME_Parts"),
       "a declaration in RFC 2231 form: every -- line counts (over-estimate, never under)");

    /* Header fields and header sections of parts. */
    l = limits(1000, 20, 30);
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: multipart/mixed; boundary=z\n\n--z\n");
    for (int i = 0; i < 40; i++)
        buf_printf(&b, "X-F%d: v\n", i);
    buf_puts(&b, "\nbody\n--z--\n");
    ok(refused(&l, b.data, "header fields over the limit of 30 ([Ingest] Max_Header_Fields)"),
       "40 fields in a part over a limit of 30");
    l = limits(1000, 20, 50);
    ok(accepted(&l, b.data), "42 fields within a limit of 50");
    l.max_header = 200;
    ok(refused(&l, b.data, "a MIME part's header section longer than 200 bytes"),
       "a part's header section over Max_Header_Size");

    /* Depth: checked on GMime's tree. */
    l = limits(1000, 5, 10000);
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: multipart/mixed; boundary=b0\n\n");
    for (int i = 1; i <= 6; i++)
        buf_printf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i - 1, i);
    buf_puts(&b, "--b6\nContent-Type: text/html\n\n<img src=x>\n--b6--\n");
    for (int i = 5; i >= 0; i--)
        buf_printf(&b, "--b%d--\n", i);
    ok(refused(&l, b.data, "MIME nesting deeper than 5 ([Ingest] Max_MIME_Depth)"),
       "8 levels deep over a limit of 5");
    l.max_depth = 8;
    ok(accepted(&l, b.data), "8 levels deep within a limit of 8");

    /* Attached messages are parts too. */
    l = limits(4, 20, 10000);
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: message/rfc822\n\n");
    for (int i = 0; i < 4; i++)
        buf_puts(&b, "From: c@d.test\nContent-Type: message/rfc822\n\n");
    buf_puts(&b, "From: e@f.test\n\nend\n");
    ok(refused(&l, b.data, "Max_MIME_Parts"), "messages attached 5 deep over 4 parts");

    /* Decoded size of the HTML part. */
    l = limits(1000, 20, 10000);
    l.max_decoded = 1024;
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\n");
    for (int i = 0; i < 30; i++)
        buf_puts(&b, "PGltZyBzcmM9eD4gPGltZyBzcmM9eD4gPGltZyBzcmM9eD4gPGltZyBzcmM9eD4g\n");
    ok(refused(&l, b.data, "HTML part larger than 1024 bytes once decoded"),
       "base64 HTML over Max_Decoded_Size");
    l.max_decoded = 4096;
    ok(accepted(&l, b.data), "the same within 4096");
    buf_reset(&b);
    buf_puts(&b, "From: a@b.test\nContent-Type: text/html; charset=iso-8859-1\n\n");
    for (int i = 0; i < 30; i++)
        buf_puts(&b, "<p>caf\xe9 caf\xe9 caf\xe9 caf\xe9 caf\xe9 caf\xe9 caf\xe9 caf\xe9 </p>\n");
    l.max_decoded = 1024;
    ok(refused(&l, b.data, "once decoded"), "charset-converted HTML over Max_Decoded_Size");
    buf_free(&b);
}

/* ---- the property test ---- */

static unsigned long long seed = 0x9e3779b97f4a7c15ULL;
static unsigned rnd(unsigned n)
{
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((seed >> 33) % n);
}

static const char *eol(void)
{
    return rnd(3) ? "\n" : "\r\n";
}

static void junk_body(bs_buf *b)
{
    int lines = (int)rnd(4);
    for (int i = 0; i < lines; i++) {
        switch (rnd(6)) {
        case 0:
            buf_printf(b, "--b%u%s", rnd(8), eol()); /* may be a real boundary */
            break;
        case 1:
            buf_printf(b, "see boundary=b%u here%s", rnd(8), eol());
            break;
        case 2:
            buf_printf(b, "-- %s", eol());
            break;
        case 3:
            buf_printf(b, "Content-Type: message/rfc822%s", eol());
            break;
        default:
            buf_printf(b, "text %u%s", rnd(1000), eol());
        }
    }
}

static void entity(bs_buf *b, int depth);

static void headers(bs_buf *b)
{
    int n = (int)rnd(3);
    for (int i = 0; i < n; i++)
        buf_printf(b, "X-H%d: v%s", i, eol());
}

static void multipart(bs_buf *b, int depth)
{
    unsigned id = rnd(8);
    char bd[32];
    snprintf(bd, sizeof bd, "b%u", id);
    switch (rnd(5)) {
    case 0:
        buf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s\"%s", bd, eol());
        break;
    case 1:
        buf_printf(b, "Content-Type: multipart/mixed;%s boundary=%s%s", eol(), bd, eol());
        break;
    case 2:
        buf_printf(b, "Content-Type: multipart/alternative; BOUNDARY = %s ; x=y%s", bd, eol());
        break;
    case 3:
        buf_printf(b, "Content-Type: multipart/mixed; boundary=\"%s \"%s", bd, eol());
        break;
    default:
        buf_printf(b, "Content-Type: multipart/mixed; boundary=%s%s", bd, eol());
    }
    headers(b);
    buf_puts(b, eol());
    junk_body(b);
    int n = (int)rnd(5);
    for (int i = 0; i < n; i++) {
        buf_printf(b, "--%s%s%s", bd, rnd(4) ? "" : "  ", eol());
        entity(b, depth + 1);
    }
    if (rnd(5))
        buf_printf(b, "--%s--%s", bd, eol());
    junk_body(b);
}

static void entity(bs_buf *b, int depth)
{
    unsigned k = depth > 5 ? 0 : rnd(6);
    if (k >= 3) {
        multipart(b, depth);
    } else if (k == 2) {
        buf_printf(b, "Content-Type: message/rfc822%s", eol());
        headers(b);
        buf_puts(b, eol());
        buf_printf(b, "From: x@y.test%s", eol());
        entity(b, depth + 1);
    } else {
        if (rnd(2))
            buf_printf(b, "Content-Type: text/%s%s", rnd(2) ? "html" : "plain", eol());
        headers(b);
        buf_puts(b, eol());
        junk_body(b);
    }
}

/* GMime's entity count for the bytes (as msgr_read hands them to it). */
static size_t gmime_parts(GMimeObject *o)
{
    if (!o)
        return 0;
    size_t n = 1;
    if (GMIME_IS_MULTIPART(o)) {
        GMimeMultipart *mp = GMIME_MULTIPART(o);
        for (int i = 0; i < g_mime_multipart_get_count(mp); i++)
            n += gmime_parts(g_mime_multipart_get_part(mp, i));
    } else if (GMIME_IS_MESSAGE_PART(o)) {
        GMimeMessage *m = g_mime_message_part_get_message(GMIME_MESSAGE_PART(o));
        if (m)
            n += gmime_parts(g_mime_message_get_mime_part(m));
    }
    return n;
}

static void property(void)
{
    int bad = 0, tight = 0, cases = 3000;
    for (int c = 0; c < cases; c++) {
        bs_buf b;
        buf_init(&b);
        buf_printf(&b, "MIME-Version: 1.0%s", eol());
        entity(&b, 1);
        GMimeStream *s = g_mime_stream_mem_new_with_buffer(b.data, b.len);
        GMimeParser *p = g_mime_parser_new_with_stream(s);
        GMimeMessage *m = g_mime_parser_construct_message(p, NULL);
        size_t parts = m ? gmime_parts(g_mime_message_get_mime_part(m)) : 0;
        if (m)
            g_object_unref(m);
        g_object_unref(p);
        g_object_unref(s);
        if (parts > 1) {
            msg_limits l = limits(parts - 1, 1000, 100000);
            char *why = mime_prescan(b.data, b.len, 1, &l);
            if (!why || !strstr(why, "Max_MIME_Parts")) {
                if (bad++ < 3)
                    printf("#   GMime built %zu parts, the pre-scan let it through:\n%s\n", parts,
                           b.data);
            }
            free(why);
            l.max_parts = parts + 3;
            why = mime_prescan(b.data, b.len, 1, &l);
            tight += why == NULL;
            free(why);
        }
        buf_free(&b);
    }
    is_int(bad, 0, "random structures: the pre-scan never counts fewer parts than GMime builds");
    ok(tight > cases / 5, "and it is close: most are accepted with a limit 3 above GMime's count");
    printf("# %d of %d accepted with a limit of GMime's count + 3\n", tight, cases);
}

int main(void)
{
    bs_set_progname("mimescan_test");
    msgr_global_init();
    each_limit();
    property();
    return done_testing();
}
