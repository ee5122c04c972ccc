/* Unit tests for the text helpers of src/lib/util.c that tools share: UTF-8 validation
 * (ingest, decide, record.c, act-smtp), HTML escaping (report, gen-corpus) and hex (listen). */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

static int valid(const char *s)
{
    return bs_utf8_valid(s, strlen(s));
}

static char *escaped(const char *s, unsigned flags)
{
    bs_buf b;
    buf_init(&b);
    buf_puts(&b, "[");
    buf_html_escape(&b, s, flags);
    buf_puts(&b, "]");
    return buf_steal(&b);
}

int main(void)
{
    /* One sequence at a time. */
    is_int(bs_utf8_seq("a", 1), 1, "seq: ASCII");
    is_int(bs_utf8_seq("", 0), 0, "seq: empty range");
    is_int(bs_utf8_seq("\0", 1), 0, "seq: NUL");
    is_int(bs_utf8_seq("\xC3\xA9", 2), 2, "seq: U+00E9");
    is_int(bs_utf8_seq("\xE2\x82\xAC", 3), 3, "seq: U+20AC");
    is_int(bs_utf8_seq("\xF0\x9F\x98\x80", 4), 4, "seq: U+1F600");
    is_int(bs_utf8_seq("\xF4\x8F\xBF\xBF", 4), 4, "seq: U+10FFFF, the last");
    is_int(bs_utf8_seq("\xF4\x90\x80\x80", 4), 0, "seq: above U+10FFFF");
    is_int(bs_utf8_seq("\xC0\xAF", 2), 0, "seq: overlong 2");
    is_int(bs_utf8_seq("\xC1\xBF", 2), 0, "seq: overlong 2 (C1)");
    is_int(bs_utf8_seq("\xE0\x9F\xBF", 3), 0, "seq: overlong 3");
    is_int(bs_utf8_seq("\xF0\x8F\xBF\xBF", 4), 0, "seq: overlong 4");
    is_int(bs_utf8_seq("\xED\xA0\x80", 3), 0, "seq: surrogate");
    is_int(bs_utf8_seq("\xEF\xBF\xBD", 3), 3, "seq: U+FFFD");
    is_int(bs_utf8_seq("\xE2\x82\xAC", 2), 0, "seq: cut short by n");
    is_int(bs_utf8_seq("\xE2\x28\xA1", 3), 0, "seq: bad continuation");
    is_int(bs_utf8_seq("\x80", 1), 0, "seq: lone continuation");
    is_int(bs_utf8_seq("\xF8\x88\x80\x80\x80", 5), 0, "seq: 5-byte form");
    is_int(bs_utf8_seq("\xFF", 1), 0, "seq: FF");

    /* Every two-byte string: valid exactly when it walks as sequences. */
    int agree = 1;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            char s[2] = {(char)a, (char)b};
            size_t l1 = bs_utf8_seq(s, 2);
            int walk = l1 == 2 || (l1 == 1 && bs_utf8_seq(s + 1, 1) == 1);
            agree &= bs_utf8_valid(s, 2) == walk;
            int want = (a >= 1 && a < 0x80 && b >= 1 && b < 0x80) ||
                       (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
            agree &= walk == want;
        }
    ok(agree, "all two-byte strings: valid as the definition says");

    /* The eight-byte ASCII path: a bad or NUL byte, or a sequence across a word, anywhere. */
    int fast = 1;
    for (size_t len = 1; len <= 40; len++)
        for (size_t at = 0; at < len; at++) {
            char s[48];
            memset(s, 'x', len);
            s[at] = '\0';
            fast &= !bs_utf8_valid(s, len);
            s[at] = (char)0x80;
            fast &= !bs_utf8_valid(s, len);
            s[at] = (char)0xFF;
            fast &= !bs_utf8_valid(s, len);
            s[at] = 0x7F;
            fast &= bs_utf8_valid(s, len);
            if (at + 3 <= len) {
                memcpy(s + at, "\xE2\x82\xAC", 3);
                fast &= bs_utf8_valid(s, len);
                fast &= !bs_utf8_valid(s, at + 2); /* cut inside it */
            }
        }
    ok(fast, "a bad byte, NUL or a split sequence found at any offset; valid text passes");
    /* After a multi-byte sequence the eight-byte path resumes: a bad byte further on is
     * still found wherever it is. */
    int resumed = 1;
    for (size_t len = 4; len <= 40; len++)
        for (size_t at = 3; at < len; at++) {
            char s[48];
            memset(s, 'x', len);
            memcpy(s, "\xC3\xA9x", 3);
            resumed &= bs_utf8_valid(s, len);
            s[at] = '\0';
            resumed &= !bs_utf8_valid(s, len);
            s[at] = (char)0xC3; /* a lead byte without its continuation */
            resumed &= !bs_utf8_valid(s, len);
        }
    ok(resumed, "after a multi-byte sequence, a bad byte or NUL found at any later offset");
    ok(valid("plain text of some length, more than a word"), "ASCII text");
    ok(valid("Caf\xC3\xA9 Ol\xC3\xA9 \xE2\x80\x94 na\xC3\xAFve"), "mixed text");
    ok(!valid("abcdefgh\xC3"), "cut at the end after a word");
    ok(bs_utf8_valid("", 0), "empty is valid");

    char *e = escaped("a&b<c>d\"e'f", 0);
    is_str(e, "[a&amp;b&lt;c&gt;d&quot;e'f]", "html: & < > \" escaped, ' kept (gen-corpus)");
    free(e);
    e = escaped("a&b<c>d\"e'f", BS_HTML_APOS);
    is_str(e, "[a&amp;b&lt;c&gt;d&quot;e&#39;f]", "html: ' too with BS_HTML_APOS (report)");
    free(e);
    e = escaped(NULL, BS_HTML_APOS);
    is_str(e, "[]", "html: NULL appends nothing");
    free(e);
    e = escaped("Caf\xC3\xA9 &amp;", 0);
    is_str(e, "[Caf\xC3\xA9 &amp;amp;]", "html: 8-bit text as it is, & always escaped");
    free(e);

    /* Hex of bytes (spool ids, bs_random_hex). */
    char hex[2 * 5 + 1];
    bs_hex(hex, "\x00\x0f\xa5\xff\x10", 5);
    is_str(hex, "000fa5ff10", "hex: two lower-case digits a byte, high nibble first");
    bs_hex(hex, "", 0);
    is_str(hex, "", "hex: no bytes, an empty string");
    bs_random_hex(hex, 5);
    is_int((long long)strspn(hex, "0123456789abcdef"), 10, "random hex: 10 hex digits for 5 bytes");
    is_int((long long)strlen(hex), 10, "random hex: NUL after them");
    return done_testing();
}
