/* Unit tests for src/global/auth_signed.c: what a DKIM signature covers (h= instances from
 * the bottom up, l= mapped back to whole raw lines). msgr_apply_signed, which applies it to
 * ingest's record, is tested in tests/unit/ingest/signed_test.c. */
#include <stdlib.h>
#include <string.h>

#include "auth_signed.h"
#include "tap.h"

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

int main(void)
{
    fields();
    body();
    return done_testing();
}
