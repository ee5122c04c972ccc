/* Unit tests for src/global/replies.c: the in-band reply table as listen and act-smtp
 * read it (one loader, one rule for a bad line, one set of placeholder values). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replies.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

static char *fill(const char *line, const reply_vars *v, uint64_t seed)
{
    reply_table t;
    char *err = NULL;
    if (replies_parse(line, strlen(line), "t", &t, &err) < 0) {
        printf("# %s\n", err);
        free(err);
        return xstrdup("(refused)");
    }
    bs_rng r;
    bs_rng_seed(&r, seed);
    bs_buf b;
    buf_init(&b);
    replies_fill(&t.v[0], v, &r, &b);
    replies_free(&t);
    return b.data ? buf_steal(&b) : xstrdup("");
}

int main(void)
{
    bs_set_progname("replies_test");
    reply_table t;
    char *err = NULL;
    const char *root = getenv("ROOT");
    char *path = xasprintf("%s/data/reference/inband-replies.dat", root ? root : ".");

    /* the reference table: every line passes the strict rule (listen's and act-smtp's) */
    ok(replies_load(path, &t, &err) == 0, "reference table loads strictly");
    is_int(t.n, 587, "587 replies");
    is_int(replies_retain_class(&t, 5), 525,
           "525 usable for a DSN (528 5xx minus 3 whose enhanced code is 4.x.x)");
    int agree = 1;
    for (size_t i = 0; i < t.n; i++)
        if (t.v[i].code / 100 != 5 || t.v[i].enhanced[0] != '5')
            agree = 0;
    ok(agree, "every kept reply is 5xx 5.x.x");
    replies_free(&t);
    free(path);

    /* bad lines and files: FILE:LINE, as for every configuration error */
    ok(replies_load("/nonexistent/x.dat", &t, &err) < 0 && strstr(err, "/nonexistent/x.dat: "),
       "missing table: error names the file");
    free(err);
    static const char bad[] = "# c\nrandom_bounce:550 5.1.1 ok\nrandom_bounce:550 User unknown\n";
    ok(replies_parse(bad, sizeof bad - 1, "t.dat", &t, &err) < 0 &&
           strcmp(err, "t.dat:3: no enhanced status code (class.subject.detail) followed by a "
                       "blank") == 0,
       "a line without an enhanced code: t.dat:3");
    free(err);
    static const char nul[] = "random_bounce:550 5.1.1 a\0b\n";
    ok(replies_parse(nul, sizeof nul - 1, "t.dat", &t, &err) < 0 &&
           strcmp(err, "t.dat:1: NUL byte") == 0,
       "NUL byte refused");
    free(err);
    static const char two[] = "random_bounce:250 2.0.0 fine\n";
    ok(replies_parse(two, sizeof two - 1, "t.dat", &t, &err) < 0 &&
           strstr(err, "t.dat:1: reply code is not 4xx or 5xx"),
       "2xx refused");
    free(err);
    static const char only4[] = "random_bounce:452 4.2.2 full\nrandom_bounce:550 4.2.2 x\n";
    ok(replies_parse(only4, sizeof only4 - 1, "t.dat", &t, &err) == 0 && t.n == 2,
       "550 4.2.2 is a valid line (real servers say it)");
    is_int(replies_retain_class(&t, 5), 0, "but not a DSN diagnostic: nothing of class 5 left");
    replies_free(&t);
    static const char empty[] = "# nothing\n\n";
    ok(replies_parse(empty, sizeof empty - 1, "e.dat", &t, &err) < 0 &&
           strcmp(err, "e.dat: no replies in the table") == 0,
       "empty table refused");
    free(err);
    static const char crlf[] = "random_bounce:550 5.1.1 a\r\nrandom_bounce:451 4.7.1 b\r\n";
    ok(replies_parse(crlf, sizeof crlf - 1, "t.dat", &t, &err) == 0 && t.n == 2 &&
           strcmp(t.v[1].text, "b") == 0 && strcmp(t.v[1].enhanced, "4.7.1") == 0,
       "CRLF line ends");
    replies_free(&t);

    /* placeholders: one definition of each value */
    static const char all[] = "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>> from <ORIG> "
                              "[<SENDER_IPADDRESS>] id <HEXDUMP> at "
                              "<RCPT_SERVER>[<OTHER_IPADDRESS>] <OTHER_USER> <x> <A\n";
    reply_vars v = {"jane.doe", "oob.bouncy-sink.test", "192.0.2.10", "bounces@sender.test"};
    char *f = fill(all, &v, 7);
    ok(strstr(f, "<jane.doe@oob.bouncy-sink.test>") != NULL, "RCPT_USER and RCPT_DOMAIN filled");
    ok(strstr(f, "from bounces@sender.test [192.0.2.10]") != NULL,
       "ORIG and SENDER_IPADDRESS filled");
    ok(strstr(f, ".oob.bouncy-sink.test[") != NULL, "RCPT_SERVER is a host under RCPT_DOMAIN");
    ok(strstr(f, "<RCPT") == NULL && strstr(f, "<OTHER") == NULL && strstr(f, "<HEX") == NULL,
       "no known placeholder left");
    ok(strstr(f, "<x> <A") != NULL, "what is not a placeholder is left alone");
    const char *id = strstr(f, " id ") + 4;
    size_t hl = strspn(id, "0123456789ABCDEF");
    ok(hl >= 12 && hl <= 16 && id[hl] == ' ', "HEXDUMP: 12-16 upper-case hex digits");
    const char *ip = strchr(strstr(f, "bouncy-sink.test["), '[') + 1;
    ok(strncmp(ip, "192.0.2.", 8) == 0 || strncmp(ip, "198.51.100.", 11) == 0 ||
           strncmp(ip, "203.0.113.", 10) == 0,
       "OTHER_IPADDRESS in a documentation network");
    char *again = fill(all, &v, 7);
    is_str(again, f, "the same seed gives the same text");
    free(again);
    free(f);

    reply_vars none = {NULL, NULL, NULL, NULL};
    f = fill("random_bounce:550 5.1.1 <RCPT_USER>@<RCPT_DOMAIN> [<SENDER_IPADDRESS>] <ORIG>.",
             &none, 1);
    is_str(f, "user@example.test [192.0.2.1] .", "defaults of absent values");
    free(f);
    reply_vars crlf_vars = {"a\r\nb", "d.test\n", "192.0.2.3", "x\ry"};
    f = fill("random_bounce:550 5.1.1 <RCPT_USER>@<RCPT_DOMAIN> <ORIG>", &crlf_vars, 1);
    is_str(f, "a  b@d.test  x y", "CR and LF in a value become blanks: the reply stays one line");
    free(f);

    /* picking: a code and enhanced code, its code, its class, then any */
    static const char pick[] = "random_bounce:550 5.1.1 a\nrandom_bounce:552 5.2.2 b\n"
                               "random_bounce:451 4.7.1 c\n";
    ok(replies_parse(pick, sizeof pick - 1, "p", &t, &err) == 0, "pick table");
    bs_rng r;
    bs_rng_seed(&r, 3);
    int exact = 1, cls = 1;
    for (int i = 0; i < 50; i++) {
        if (strcmp(t.v[replies_pick(&t, &r, 552, "5.2.2")].text, "b") != 0)
            exact = 0;
        if (t.v[replies_pick(&t, &r, 421, NULL)].code != 451)
            cls = 0;
    }
    ok(exact, "552 5.2.2 picks that reply");
    ok(cls, "421 picks the only 4xx");
    replies_free(&t);
    return done_testing();
}
