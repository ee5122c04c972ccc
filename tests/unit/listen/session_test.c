/* Unit tests for src/listen: the session state machine driven in-process, the reply
 * table, routing and the bounce-rate cycle. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../src/listen/conf.h"
#include "../../../src/listen/session.h"
#include "../../../src/listen/split.h"
#include "config.h"
#include "replies.h"
#include "tap.h"
#include "util.h"

static lconf cf;
static reply_table table;
static sess_env env;
static bs_buf records;
static int nrecords;
static int full;

static int real_spool(void *ctx, sess *s, spool_job *job)
{
    (void)ctx;
    (void)s;
    spool_run(job);
    return 0;
}
static void keep_record(void *ctx, char *line, size_t len)
{
    (void)ctx;
    buf_append(&records, line, len);
    buf_putc(&records, '\n');
    nrecords++;
    free(line);
}
static int is_full(void *ctx)
{
    (void)ctx;
    return full;
}
static const sess_hooks hooks = {NULL, real_spool, keep_record, is_full, NULL};

static char *talkn(const char *input, size_t n, size_t chunk);
static char *talk(const char *input, size_t chunk)
{
    return talkn(input, strlen(input), chunk);
}

/* Runs a whole conversation and returns everything the server said. */
static char *talkn(const char *input, size_t n, size_t chunk)
{
    sess *s = sess_new(&env, &hooks, "192.0.2.7", 42);
    sess_greet(s);
    size_t i = 0;
    while (i < n && !(sess_flags(s) & SESS_CLOSE)) {
        size_t k = n - i < chunk ? n - i : chunk;
        i += sess_feed(s, input + i, k);
        if (sess_flags(s) & SESS_STARTTLS)
            sess_tls_started(s);
    }
    char *out = xstrdup(sess_out(s)->data ? sess_out(s)->data : "");
    sess_free(s);
    return out;
}

static int count_files(const char *dir, char **first)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        n++;
        if (first && !*first)
            *first = xasprintf("%s/%s", dir, e->d_name);
    }
    if (d)
        closedir(d);
    return n;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    bs_buf b;
    buf_init(&b);
    char tmp[4096];
    size_t n;
    while (fp && (n = fread(tmp, 1, sizeof tmp, fp)) > 0)
        buf_append(&b, tmp, n);
    if (fp)
        fclose(fp);
    return buf_steal(&b);
}

static void clean_spool(void)
{
    DIR *d = opendir(cf.spool);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = xasprintf("%s/%s", cf.spool, e->d_name);
        unlink(p);
        free(p);
    }
    if (d)
        closedir(d);
}

static void protocol(void)
{
    char *o = talk("EHLO c.test\r\nQUIT\r\n", 1000);
    ok(strncmp(o, "220 ", 4) == 0, "greeting 220");
    ok(strstr(o, "250-PIPELINING\r\n") && strstr(o, "250-SIZE 50000000\r\n") &&
           strstr(o, "250-8BITMIME\r\n") && strstr(o, "250-ENHANCEDSTATUSCODES\r\n") &&
           strstr(o, "250-STARTTLS\r\n") && strstr(o, "250 CHUNKING\r\n"),
       "EHLO lists the extensions");
    ok(strstr(o, "221 2.0.0") != NULL, "QUIT 221");
    free(o);

    o = talk("MAIL FROM:<a@b.test>\r\nEHLO x\r\nRCPT TO:<a@bouncy-sink.test>\r\n"
             "FOO bar\r\nHELO\r\nMAIL TO:<x>\r\nVRFY u\r\nNOOP\r\nHELP\r\nEXPN x\r\nQUIT\r\n",
             7);
    ok(strstr(o, "503 5.5.1 Error: send HELO/EHLO first\r\n") != NULL, "MAIL before HELO: 503");
    ok(strstr(o, "503 5.5.1 Error: need MAIL command\r\n") != NULL, "RCPT before MAIL: 503");
    ok(strstr(o, "500 5.5.1 Error: command not recognized\r\n") != NULL, "unknown: 500 5.5.1");
    ok(strstr(o, "501 5.5.4 Syntax: EHLO hostname\r\n") != NULL, "HELO without name: 501");
    ok(strstr(o, "501 5.5.4 Syntax: MAIL FROM:<address>\r\n") != NULL, "MAIL TO: 501");
    ok(strstr(o, "252 2.0.0 ") != NULL, "VRFY 252");
    ok(strstr(o, "214 2.0.0 ") != NULL, "HELP 214");
    ok(strstr(o, "502 5.5.1 ") != NULL, "EXPN 502");
    free(o);

    bs_buf in;
    buf_init(&in);
    buf_puts(&in, "EHLO x\r\nNOOP ");
    for (int i = 0; i < 1000; i++)
        buf_putc(&in, 'x');
    buf_puts(&in, "\r\nNOOP\r\n");
    o = talk(in.data, 100);
    ok(strstr(o, "500 5.5.2 Error: line too long\r\n250 2.0.0 Ok\r\n") != NULL,
       "line over 1000 octets: 500 5.5.2, then the session goes on");
    free(o);
    buf_free(&in);

    o = talk("EHLO x\r\nA\r\nB\r\nC\r\nD\r\nE\r\nF\r\nG\r\nH\r\nI\r\nJ\r\nK\r\nNOOP\r\n", 3);
    ok(strstr(o, "421 4.7.0 ") && !strstr(o, "250 2.0.0 Ok"), "too many errors: 421 and close");
    free(o);

    static const char nul[] = "EHLO x\r\nNOOP\x00\r\nMAIL FROM:<a\xff@b>\r\nNOOP\r\n";
    o = talkn(nul, sizeof nul - 1, 5);
    ok(strstr(o, "500 5.5.2 Error: NUL") && strstr(o, "501 5.1.7") && strstr(o, "250 2.0.0 Ok"),
       "NUL and non-ASCII are refused without harm");
    free(o);
}

static void routing_and_spool(void)
{
    clean_spool();
    nrecords = 0;
    buf_reset(&records);
    char *o = talk(
        "EHLO mta.sender.test\r\nMAIL FROM:<b@sender.test> SIZE=100 BODY=8BITMIME\r\n"
        "RCPT TO:<x@gmail.com>\r\nRCPT TO:<u@Accept.Bouncy-Sink.Test>\r\n"
        "RCPT TO:<550-5.1.1@inband.bouncy-sink.test>\r\nRCPT TO:<452@inband.bouncy-sink.test>\r\n"
        "DATA\r\nSubject: t\r\n\r\n..leading dot\r\nline\nmore\r\n.\r\nQUIT\r\n",
        11);
    ok(strstr(o, "550 5.7.1 <x@gmail.com>: Relaying denied\r\n") != NULL, "relay denied 550 5.7.1");
    ok(strstr(o, "\r\n550 5.1.1 ") != NULL, "550-5.1.1@inband: a 550 5.1.1 reply");
    ok(strstr(o, "\r\n452 4.") != NULL, "452@inband: a 452 reply");
    ok(strstr(o, "250 2.0.0 Ok: queued as ") != NULL, "message queued");
    is_int(nrecords, 2, "two inband records");
    ok(strstr(records.data, "\"kind\":\"inband\"") && strstr(records.data, "\"code\":550") &&
           strstr(records.data, "\"client_ip\":\"192.0.2.7\"") &&
           strstr(records.data, "\"helo\":\"mta.sender.test\""),
       "inband record fields");
    char *first = NULL;
    is_int(count_files(cf.spool, &first), 1, "one spool file");
    char *msg = first ? slurp(first) : xstrdup("");
    /* issue 15: listen's routing decision between them (route.h) */
    static const char prepended[] =
        "Return-Path: <b@sender.test>\r\nX-Bouncy-Sink-Route: accept\r\n"
        "Received: from mta.sender.test (192.0.2.7) by sink.test id ";
    ok(strncmp(msg, prepended, sizeof prepended - 1) == 0,
       "Return-Path, the route and Received prepended");
    ok(strstr(msg, " for <u@Accept.Bouncy-Sink.Test>; ") &&
           strstr(msg, "(envelope-from <b@sender.test>)\r\n"),
       "Received names rcpt and envelope sender");
    ok(strstr(msg, "\r\nSubject: t\r\n\r\n.leading dot\r\nline\r\nmore\r\n") != NULL &&
           !strstr(msg, "\r\n.\r\n"),
       "body intact, dot-unstuffed, bare LF normalized, terminator not stored");
    free(msg);
    free(first);
    free(o);

    clean_spool();
    o = talk("EHLO x\r\nMAIL FROM:<>\r\nRCPT TO:<a@oob.bouncy-sink.test>\r\nBDAT 7\r\nSubjectBDAT "
             "11 LAST\r\n: x\r\n\r\nhi\r\nQUIT\r\n",
             4);
    ok(strstr(o, "250 2.0.0 Ok: 7 octets received\r\n") && strstr(o, "Ok: queued as"),
       "BDAT chunks accepted");
    first = NULL;
    count_files(cf.spool, &first);
    msg = first ? slurp(first) : xstrdup("");
    if (!strstr(msg, ")\r\nSubject: x\r\n\r\nhi\r\n"))
        printf("# %s\n# %s\n", o, msg);
    ok(strstr(msg, "Return-Path: <>\r\n") && strstr(msg, ")\r\nSubject: x\r\n\r\nhi\r\n"),
       "BDAT body stored as sent");
    free(msg);
    free(first);
    free(o);

    o = talk("EHLO x\r\nMAIL FROM:<a@b.test> SIZE=99999999999\r\nMAIL FROM:<a@b.test> FOO=1\r\n"
             "MAIL FROM:<a@b.test>\r\nRCPT TO:<a@accept.bouncy-sink.test> XFOO=NEVER\r\n"
             "BDAT 3\r\nabcQUIT\r\n",
             1000);
    ok(strstr(o, "552 5.3.4 ") != NULL, "declared SIZE over the limit: 552 5.3.4");
    ok(strstr(o, "555 5.5.4 Unsupported option: FOO=1") != NULL, "unknown MAIL parameter: 555");
    ok(strstr(o, "555 5.5.4 Unsupported option: XFOO=NEVER") != NULL,
       "unknown RCPT parameter: 555");
    free(o);
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nDATA\r\n", 1000);
    ok(strstr(o, "554 5.5.1 Error: no valid recipients\r\n") != NULL, "DATA without rcpt: 554");
    free(o);

    /* message over the size limit */
    long saved = cf.max_message_size;
    cf.max_message_size = 1024;
    bs_buf in;
    buf_init(&in);
    buf_puts(&in,
             "EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<a@accept.bouncy-sink.test>\r\nDATA\r\n");
    for (int i = 0; i < 50; i++)
        buf_puts(&in, "0123456789012345678901234567890123456789\r\n");
    buf_puts(&in, ".\r\nNOOP\r\n");
    clean_spool();
    o = talk(in.data, 64);
    ok(strstr(o, "552 5.3.4 ") && strstr(o, "\r\n250 2.0.0 Ok\r\n"),
       "oversized message: 552 5.3.4");
    is_int(count_files(cf.spool, NULL), 0, "nothing spooled for it");
    cf.max_message_size = saved;
    free(o);
    buf_free(&in);

    /* a body over Spill_Size goes through a file; both recipients get all of it */
    clean_spool();
    cf.spill_size = 100;
    buf_init(&in);
    buf_puts(&in, "EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<a@accept.bouncy-sink.test>\r\n"
                  "RCPT TO:<b@fbl.bouncy-sink.test>\r\nDATA\r\nSubject: spill\r\n\r\n");
    for (int i = 0; i < 100; i++)
        buf_printf(&in, "line %03d of a long body.......\r\n", i);
    buf_puts(&in, "..end\r\n.\r\n");
    o = talk(in.data, 37);
    ok(strstr(o, "250 2.0.0 Ok: queued") != NULL, "spilled message queued");
    is_int(count_files(cf.spool, NULL), 2, "two spool files, no spill file left");
    DIR *d = opendir(cf.spool);
    struct dirent *e;
    int good = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *path = xasprintf("%s/%s", cf.spool, e->d_name);
        char *m = slurp(path);
        const char *b = strstr(m, "\r\nSubject: spill\r\n\r\nline 000");
        good += b && strstr(b, "line 099 of a long body.......\r\n.end\r\n") &&
                strlen(b) == 20 + 100 * 32 + 6;
        free(m);
        free(path);
    }
    if (d)
        closedir(d);
    is_int(good, 2, "both files hold the whole body");
    cf.spill_size = 1 << 20;
    free(o);
    buf_free(&in);
    clean_spool();

    /* recipients limit */
    buf_init(&in);
    buf_puts(&in, "EHLO x\r\nMAIL FROM:<a@b.test>\r\n");
    for (int i = 0; i <= cf.max_recipients; i++)
        buf_printf(&in, "RCPT TO:<r%d@openclick.bouncy-sink.test>\r\n", i);
    buf_puts(&in, "RSET\r\n");
    o = talk(in.data, 4096);
    ok(strstr(o, "452 4.5.3 Error: too many recipients\r\n") != NULL, "recipient limit: 452 4.5.3");
    free(o);
    buf_free(&in);

    /* back-pressure */
    full = 1;
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@bouncy-sink.test>\r\n"
             "RCPT TO:<a@accept.bouncy-sink.test>\r\n",
             1000);
    ok(strstr(o, "451 4.3.0 ") && strstr(o, "250 2.1.5"),
       "record queue full: mixed gets 451 4.3.0, accept still 250");
    full = 0;
    free(o);

    /* 421 from the table closes */
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<421@inband.bouncy-sink.test>\r\nNOOP\r\n",
             1000);
    ok(strstr(o, "\r\n421 4.") && !strstr(o, "250 2.0.0 Ok\r\n"), "in-band 421 closes the session");
    free(o);

    /* spool failure: 452 4.3.1, nothing left */
    char *saved_spool = cf.spool;
    cf.spool = xstrdup("/nonexistent/spool");
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT "
             "TO:<a@accept.bouncy-sink.test>\r\nDATA\r\nx\r\n.\r\n",
             1000);
    ok(strstr(o, "452 4.3.1 Insufficient system storage\r\n") != NULL, "spool failure: 452 4.3.1");
    free(o);
    free(cf.spool);
    cf.spool = saved_spool;
    clean_spool();
}

static void table_and_route(void)
{
    reply_table t;
    char *err = NULL;
    ok(replies_load("data/reference/inband-replies.dat", &t, &err) == 0 && t.n == 587,
       "reference table loads: 587 replies");
    size_t n4 = 0;
    for (size_t i = 0; i < t.n; i++)
        n4 += t.v[i].code < 500;
    is_int(n4, 59, "59 of them 4xx");
    replies_free(&t);
    static const char bad[] = "random_bounce:550 5.1.1 ok\n\nrandom_bounce:550 x.1 bad\n";
    ok(replies_parse(bad, sizeof bad - 1, "t.dat", &t, &err) < 0 &&
           strncmp(err, "t.dat:3: ", 9) == 0,
       "bad line reported with file:line");
    free(err);
    static const char unk[] = "random_bounce:550 5.1.1 <FOO_BAR> x\n";
    ok(replies_parse(unk, sizeof unk - 1, "t.dat", &t, &err) < 0, "unknown placeholder refused");
    free(err);

    int code;
    char enh[16];
    ok(replies_code_of("550-5.1.1", &code, enh, sizeof enh) && code == 550 &&
           strcmp(enh, "5.1.1") == 0,
       "550-5.1.1 names a code");
    ok(replies_code_of("452", &code, enh, sizeof enh) && code == 452 && !*enh, "452 names a code");
    ok(!replies_code_of("john", &code, enh, sizeof enh) &&
           !replies_code_of("250", &code, enh, sizeof enh),
       "other local parts do not");

    lrng r;
    bs_rng_seed(&r, 1);
    size_t k = replies_pick(&table, &r, 599, NULL);
    ok(table.v[k].code / 100 == 5, "unknown code: a reply of the same class");

    bs_buf out;
    buf_init(&out);
    char longtext[1200];
    memset(longtext, 'a', sizeof longtext);
    for (int i = 50; i < 1200; i += 50)
        longtext[i] = ' ';
    replies_format(550, "5.7.1", longtext, sizeof longtext, &out);
    ok(strncmp(out.data, "550-5.7.1 ", 10) == 0 && strstr(out.data, "\r\n550 5.7.1 ") != NULL,
       "long reply split into continuation lines");
    buf_free(&out);

    is_str(route_stream(&cf, "bouncy-sink.test"), "mixed", "sink domain: mixed");
    is_str(route_stream(&cf, "fbl.a.b.bouncy-sink.test"), "fbl", "first label counts");
    is_str(route_stream(&cf, "inband.bouncy-sink.test"), "inband", "inband label");
    is_str(route_stream(&cf, "foo.bouncy-sink.test"), "mixed", "other label: mixed");
    ok(route_stream(&cf, "evilbouncy-sink.test") == NULL && route_stream(&cf, "gmail.com") == NULL,
       "other domains: not ours");

    lconf c2 = cf;
    double cyc[14] = {1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 17};
    c2.bounce_cycle = cyc;
    c2.nbounce_cycle = 14;
    c2.inband_percent = -1;
    /* Monday 2026-11-23 local noon: ISO week 48 (even) -> index 0 */
    struct tm tm = {0};
    tm.tm_year = 126;
    tm.tm_mon = 10;
    tm.tm_mday = 23;
    tm.tm_hour = 12;
    tm.tm_isdst = -1;
    time_t mon = mktime(&tm);
    ok(lconf_bounce_percent(&c2, mon) == 1, "week 48 Monday: index 0");
    ok(lconf_bounce_percent(&c2, mon + 86400 * 8) == 12, "week 49 Tuesday: index 8");
    c2.inband_percent = 33;
    ok(lconf_bounce_percent(&c2, mon) == 33, "InBand_Bounce_percent overrides the cycle");
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* Issue 14: SMTP smuggling (only <CRLF>.<CRLF> ends DATA), bare line ends, input after
 * a refused DATA. */
static void smuggling(void)
{
    static const char *const forms[] = {"\n.\r\n", "\n.\n", "\r.\r\n", "\r\n.\n", "\r.\r"};
    static const char *const names[] = {"<LF>.<CRLF>", "<LF>.<LF>", "<CR>.<CRLF>", "<CRLF>.<LF>",
                                        "<CR>.<CR>"};
    for (size_t k = 0; k < sizeof forms / sizeof *forms; k++)
        for (size_t chunk = 1; chunk <= 1000; chunk += 999) {
            char in[1024], name[128];
            snprintf(
                in, sizeof in,
                "EHLO x\r\nMAIL FROM:<good@sender.test>\r\nRCPT TO:<v@accept.bouncy-sink.test>\r\n"
                "DATA\r\nSubject: one\r\n\r\nbody%sMAIL FROM:<forged@bank.test>\r\n"
                "RCPT TO:<w@accept.bouncy-sink.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n"
                ".\r\nQUIT\r\n",
                forms[k]);
            clean_spool();
            char *o = talk(in, chunk);
            char *first = NULL;
            int files = count_files(cf.spool, &first);
            char *msg = first ? slurp(first) : xstrdup("");
            snprintf(name, sizeof name,
                     "%s in DATA (chunks of %zu): one message, one file, "
                     "the rest is its content",
                     names[k], chunk);
            ok(count_of(o, "queued as") == 1 && files == 1 &&
                   strstr(msg, "Return-Path: <good@sender.test>\r\n") &&
                   strstr(msg, "for <v@accept.bouncy-sink.test>") &&
                   strstr(msg, "MAIL FROM:<forged@bank.test>\r\n") &&
                   strstr(msg, "Subject: smuggled\r\n") &&
                   !strstr(o, "354 End data with <CR><LF>.<CR><LF>\r\n354"),
               name);
            free(msg);
            free(first);
            free(o);
        }

    /* normalize: a bare <LF> is stored as <CRLF>, a bare <CR> as is; "." lines kept */
    clean_spool();
    char *o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<n@accept.bouncy-sink.test>\r\n"
                   "DATA\r\na\nb\rc\n.\r\n.\nd\r\n.\r\n",
                   1);
    char *first = NULL;
    count_files(cf.spool, &first);
    char *msg = first ? slurp(first) : xstrdup("");
    ok(strstr(msg, ")\r\na\r\nb\rc\r\n.\r\n.\r\nd\r\n") && count_of(o, "queued as") == 1,
       "normalize: bare <LF> stored as <CRLF>, bare <CR> kept, lone dots after them kept");
    free(msg);
    free(first);
    free(o);
    o = talk("EHLO x\nMAIL FROM:<a@b.test>\nNOOP\n", 1);
    is_int(count_of(o, "250 2.1.0 Ok\r\n") + count_of(o, "250 2.0.0 Ok\r\n"), 2,
           "normalize: a command line ending in a bare <LF> is taken");
    free(o);

    /* reject: a bare <LF> or <CR>, in a command or in DATA, gets 550 5.5.2 and the close */
    cf.bare_newline = BARE_NEWLINE_REJECT;
    o = talk("EHLO x\r\nNOOP\nNOOP\r\n", 1000);
    ok(strstr(o, "550 5.5.2 sink.test Error: bare <LF> received\r\n") && !strstr(o, "250 2.0.0 Ok"),
       "reject: a command ending in a bare <LF>: 550 5.5.2, closed");
    free(o);
    o = talk("EHLO x\r\nNOOP\rRSET\r\nNOOP\r\n", 1000);
    ok(strstr(o, "550 5.5.2 sink.test Error: bare <CR> received\r\n") && !strstr(o, "250 2.0.0 Ok"),
       "reject: a bare <CR> in a command: 550 5.5.2, closed");
    free(o);
    static const char *const bad[] = {"a\nb\r\n.\r\n", "a\r\n.\nb\r\n.\r\n", "a\rb\r\n.\r\n",
                                      "a\r\n.\rb\r\n.\r\n", "a\n.\r\n"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        char in[512], name[128];
        snprintf(in, sizeof in,
                 "EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<r@accept.bouncy-sink.test>\r\n"
                 "DATA\r\n%sNOOP\r\n",
                 bad[k]);
        clean_spool();
        o = talk(in, 3);
        snprintf(name, sizeof name,
                 "reject: DATA body %zu with a bare line end: 550 5.5.2, closed, "
                 "nothing spooled",
                 k + 1);
        ok(strstr(o, "550 5.5.2 sink.test Error: bare <") && !strstr(o, "queued") &&
               !strstr(o, "250 2.0.0 Ok\r\n") && count_files(cf.spool, NULL) == 0,
           name);
        free(o);
    }
    cf.bare_newline = BARE_NEWLINE_NORMALIZE;

    /* input pipelined after a refused DATA is not run as commands */
    clean_spool();
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@gmail.com>\r\nDATA\r\n"
             "MAIL FROM:<forged@bank.test>\r\nRCPT TO:<y@accept.bouncy-sink.test>\r\nDATA\r\n"
             "smuggled\r\n.\r\n",
             1000);
    ok(strstr(o, "554 5.5.1 Error: no valid recipients\r\n554 5.5.0 sink.test Error: SMTP protocol "
                 "synchronization\r\n") &&
           !strstr(o, "354") && count_files(cf.spool, NULL) == 0,
       "input after a refused DATA: 554 5.5.0 synchronization, closed, nothing run");
    free(o);
}

/* Issue 14: quoted local parts, empty domain labels, an overflowing SIZE. */
static void addresses(void)
{
    clean_spool();
    char *o = talk("EHLO x\r\nMAIL FROM:<\"j. doe\"@sender.test>\r\nRCPT TO:<\"a "
                   "b\\\"c@d\"@accept.bouncy-sink.test>\r\n"
                   "RCPT TO:<\"a,b\"@accept.bouncy-sink.test>\r\nDATA\r\nhi\r\n.\r\n",
                   1000);
    char *first = NULL;
    count_files(cf.spool, &first);
    char *msg = first ? slurp(first) : xstrdup("");
    ok(count_of(o, "250 2.1.") == 2 && strstr(o, "queued as") &&
           strstr(msg, "Return-Path: <\"j. doe\"@sender.test>\r\n") &&
           strstr(msg, " for <\"a b\\\"c@d\"@accept.bouncy-sink.test>; "),
       "quoted local parts accepted and spooled as given");
    ok(strstr(o, "501 5.1.3 Bad recipient address syntax: quoted local part with , < > ( or ) "
                 "not supported\r\n") != NULL,
       "a quoted local part the log cannot carry: 501 5.1.3 with the reason");
    free(msg);
    free(first);
    free(o);
    o = talk(
        "EHLO x\r\nMAIL FROM:<a@b..test>\r\nMAIL FROM:<a@b.test>\r\n"
        "RCPT TO:<user@x..accept.bouncy-sink.test>\r\nRCPT TO:<user@.accept.bouncy-sink.test>\r\n"
        "RCPT TO:<user@accept.bouncy-sink.test..>\r\nRCPT TO:<\"open@accept.bouncy-sink.test>\r\n"
        "RCPT TO:<user@accept.bouncy-sink.test.>\r\nQUIT\r\n",
        1000);
    ok(strstr(o, "501 5.1.7 Bad sender address syntax: empty label in domain\r\n") != NULL,
       "sender with an empty domain label: 501 5.1.7");
    is_int(count_of(o, "501 5.1.3 Bad recipient address syntax: empty label in domain\r\n"), 3,
           "recipients with an empty domain label: 501 5.1.3 (x..d, .d, d..)");
    ok(strstr(o, "501 5.1.3 Bad recipient address syntax: missing >\r\n") != NULL,
       "unterminated quoted local part: 501 5.1.3");
    is_int(count_of(o, "250 2.1.5 Ok\r\n"), 1, "one trailing dot (an absolute name) is taken");
    free(o);
    o = talk("EHLO x\r\nMAIL FROM:<a@b.test> SIZE=99999999999999999999999\r\n"
             "MAIL FROM:<a@b.test> SIZE=12a\r\nMAIL FROM:<a@b.test> SIZE=\r\n"
             "MAIL FROM:<a@b.test> SIZE=50000000\r\n",
             1000);
    ok(strstr(o, "552 5.3.4 Message size exceeds fixed limit\r\n501 5.5.4 Syntax: SIZE=number\r\n"
                 "501 5.5.4 Syntax: SIZE=number\r\n250 2.1.0 Ok\r\n") != NULL,
       "SIZE: overflowing 552 5.3.4, not a number 501, the limit itself 250");
    free(o);
}

/* ---- facts (facts.h): the session's side, with a fake computation ---- */

static int facts_calls, facts_async;
static unsigned facts_want;
static char *facts_msg;
static facts_job *pending_job;

static int fake_facts(void *ctx, sess *s, facts_job *job)
{
    (void)ctx;
    (void)s;
    facts_calls++;
    facts_want = job->want;
    free(facts_msg);
    facts_msg = job->msg ? xstrndup(job->msg, job->msg_len) : NULL;
    listen_facts *o = &job->out;
    if (job->want & FACT_RDNS) {
        o->fcrdns = FCRDNS_PASS;
        o->ptr = xstrdup("mta.x.test");
    }
    o->auth.spf = (auth_spf){AUTH_PASS, xstrdup("x.test"), xstrdup("")};
    if (job->want & FACT_MESSAGE) {
        o->auth.dkim.sigs = xcalloc(1, sizeof *o->auth.dkim.sigs);
        o->auth.dkim.sigs[0] =
            (auth_dkim_sig){AUTH_PASS, xstrdup("x.test"), xstrdup("s1"), xstrdup(""), NULL};
        o->auth.dkim.nsigs = 1;
        o->auth.dkim.chosen = 0;
        o->auth.dmarc = (auth_dmarc){.result = AUTH_PASS, .from_domain = xstrdup("x.test")};
        o->from_count = 1;
        o->list_unsubscribe_signed = 1;
    }
    if (facts_async) {
        pending_job = job;
        return 1;
    }
    return 0;
}
static const sess_hooks facts_hooks = {NULL, real_spool, keep_record, is_full, fake_facts};

static int resumed;
static void on_resume(sess *s, void *arg)
{
    (void)s;
    resumed += arg == &resumed;
}

static void feed(sess *s, const char *p)
{
    sess_feed(s, p, strlen(p));
}

static void facts(void)
{
    const char *txn =
        "EHLO c.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<r@accept.bouncy-sink.test>\r\n"
        "DATA\r\nFrom: a@x.test\r\n\r\nhello\r\n.\r\n";
    /* Facts = no and nobody asking: no job, no header */
    clean_spool();
    cf.facts_all = 0;
    facts_calls = 0;
    sess *s = sess_new(&env, &facts_hooks, "192.0.2.7", 1);
    sess_greet(s);
    feed(s, txn);
    char *first = NULL;
    count_files(cf.spool, &first);
    char *f = first ? slurp(first) : xstrdup("");
    is_int(facts_calls, 0, "no facts asked for: no facts job");
    ok(!strstr(f, "Authentication-Results:"), "no facts: no Authentication-Results header");
    free(f);
    free(first);
    first = NULL;
    sess_free(s);

    /* Facts = yes: one job for the message, the header above our Received field */
    clean_spool();
    cf.facts_all = 1;
    s = sess_new(&env, &facts_hooks, "192.0.2.7", 1);
    sess_greet(s);
    feed(s, txn);
    is_int(facts_calls, 1, "Facts = yes: one facts job at the end of DATA");
    is_int(facts_want, FACT_ALL, "it computes rDNS, SPF and the message's facts");
    is_str(facts_msg, "From: a@x.test\r\n\r\nhello\r\n", "the job has the message as received");
    count_files(cf.spool, &first);
    f = first ? slurp(first) : xstrdup("");
    const char *ar = strstr(f, "Authentication-Results: sink.test;");
    const char *rcv = strstr(f, "\r\nReceived: ");
    ok(ar && rcv && ar < rcv, "the A-R header, authserv-id = Hostname, above our Received field");
    ok(strstr(f, "iprev=pass policy.iprev=192.0.2.7 (mta.x.test)") != NULL,
       "iprev and PTR written");
    ok(strstr(f, "dkim=pass header.d=x.test header.s=s1") != NULL, "dkim d= written");
    ok(strstr(f, "dmarc=pass header.from=x.test") != NULL, "dmarc written");
    ok(strstr(sess_out(s)->data, "250 2.0.0 Ok: queued as") != NULL, "the message is accepted");
    free(f);
    free(first);
    first = NULL;
    feed(s, "MAIL FROM:<b@x.test>\r\nRCPT TO:<r@accept.bouncy-sink.test>\r\nDATA\r\n"
            "Subject: 2\r\n\r\n.\r\n");
    is_int(facts_calls, 2, "the next transaction: a job again");
    is_int(facts_want, FACT_SPF | FACT_MESSAGE, "rDNS is the session's: not computed again");
    sess_free(s);
    cf.facts_all = 0;

    /* sess_facts_get: what is asked for and when */
    facts_calls = 0;
    s = sess_new(&env, &facts_hooks, "192.0.2.7", 1);
    sess_greet(s);
    feed(s, "EHLO c.test\r\n");
    is_int(sess_facts_get(s, FACT_SPF | FACT_MESSAGE, on_resume, &resumed), 0,
           "SPF before MAIL, message facts before DATA: nothing to compute");
    is_int(facts_calls, 0, "no job");
    is_int(sess_facts_get(s, FACT_RDNS, on_resume, &resumed), 0, "rDNS: computed synchronously");
    is_int(facts_calls, 1, "one job");
    const listen_facts *lf = sess_facts(s);
    ok((lf->known & FACT_RDNS) && lf->fcrdns == FCRDNS_PASS && strcmp(lf->ptr, "mta.x.test") == 0,
       "rDNS known: pass, PTR name");
    is_str(lf->helo, "c.test", "cheap facts: HELO");
    is_int(sess_facts_get(s, FACT_RDNS, on_resume, &resumed), 0, "asked again: known already");
    is_int(facts_calls, 1, "no second job");
    feed(s, "MAIL FROM:<a@x.test>\r\nRCPT TO:<r@accept.bouncy-sink.test>\r\n");
    facts_async = 1;
    resumed = 0;
    is_int(sess_facts_get(s, FACT_SPF, on_resume, &resumed), 1, "SPF after MAIL: a job runs");
    ok(sess_flags(s) & SESS_BLOCKED, "the session is blocked meanwhile");
    is_int(resumed, 0, "not resumed yet");
    facts_job *j = pending_job;
    sess_facts_done(s, j);
    is_int(resumed, 1, "resumed when the job is done");
    ok(!(sess_flags(s) & SESS_BLOCKED), "no longer blocked");
    lf = sess_facts(s);
    ok(lf->auth.spf.result == AUTH_PASS && lf->rcpts == 1 && strcmp(lf->mail_from, "a@x.test") == 0,
       "SPF pass; cheap facts: MAIL FROM, one recipient");
    feed(s, "RSET\r\nMAIL FROM:<c@x.test>\r\n");
    is_int(sess_facts_get(s, FACT_SPF, on_resume, &resumed), 1, "a new transaction: SPF again");
    facts_job_free(pending_job); /* the server gave it up (deadline) */
    sess_facts_done(s, NULL);
    is_int(resumed, 2, "resumed on the deadline too");
    is_int(sess_facts(s)->auth.spf.result, AUTH_TEMPERROR, "what timed out reads temperror");
    facts_async = 0;
    sess_free(s);
    free(facts_msg);
    facts_msg = NULL;
}

/* Blanks the value of every "ts" (the clock moves between two runs). */
static void blank_ts(char *p)
{
    while ((p = strstr(p, "\"ts\":\""))) {
        p += 6;
        for (; *p && *p != '"'; p++)
            *p = '0';
    }
}

/* The records of blackholed and in-band recipients are written directly (jc_dump_string, jcanon.h);
 * they must be the bytes jansson writes for them, whatever the envelope holds: quotes, backslashes,
 * UTF-8, bytes that are not UTF-8 (jansson drops such a member: the direct writer hands those to
 * jansson). */
static void direct_records(void)
{
    static const char *talks[] = {
        ("EHLO mta.sender.test\r\nMAIL FROM:<b@sender.test>\r\nRCPT TO:<a@bouncy-sink.test>\r\n"
         "RCPT TO:<550-5.1.1@inband.bouncy-sink.test>\r\nRCPT TO:<452@inband.bouncy-sink.test>\r\n"
         "RCPT TO:<b@Bouncy-Sink.Test>\r\nDATA\r\nSubject: t\r\n\r\nbody\r\n.\r\nQUIT\r\n"),
        ("EHLO [192.0.2.1]\r\nMAIL FROM:<\"q\\\"uo te\"@sender.test>\r\n"
         "RCPT TO:<\"x\\\\y\"@bouncy-sink.test>\r\nRCPT TO:<550@inband.bouncy-sink.test>\r\n"
         "DATA\r\n\r\nx\r\n.\r\nQUIT\r\n"),
        ("EHLO h.test\r\nMAIL FROM:<us\xc3\xa9@sender.test> SMTPUTF8\r\n"
         "RCPT TO:<\xe2\x82\xac@bouncy-sink.test>\r\nRCPT TO:<554@inband.bouncy-sink.test>\r\n"
         "DATA\r\n\r\nx\r\n.\r\nQUIT\r\n"),
        ("HELO h.test\r\nMAIL FROM:<>\r\nRCPT TO:<z@bouncy-sink.test>\r\n"
         "RCPT TO:<550@inband.bouncy-sink.test>\r\nDATA\r\n\r\nx\r\n.\r\nQUIT\r\n"),
    };
    int same = 1, n_direct = 0;
    double upstream = cf.upstream_handled;
    cf.upstream_handled = 100; /* every accepted recipient blackholed: a record each */
    for (size_t i = 0; i < sizeof talks / sizeof *talks; i++) {
        char *got[2];
        int n[2];
        for (int via = 0; via < 2; via++) {
            sess_records_via_jansson = via;
            nrecords = 0;
            buf_reset(&records);
            free(talk(talks[i], 7));
            buf_putc(&records, '\0');
            got[via] = xstrdup(records.data);
            blank_ts(got[via]);
            n[via] = nrecords;
        }
        sess_records_via_jansson = 0;
        if (n[0] != n[1] || strcmp(got[0], got[1]) != 0) {
            printf("#   direct:  %s#   jansson: %s", got[0], got[1]);
            same = 0;
        }
        n_direct += n[0];
        free(got[0]);
        free(got[1]);
    }
    cf.upstream_handled = upstream;
    ok(same, "blackhole and in-band records written directly are jansson's bytes");
    ok(n_direct >= 10, "the conversations made blackhole and in-band records");
    clean_spool();
}

int main(void)
{
    bs_config *cfg = cfg_empty();
    if (lconf_load(cfg, &cf) < 0)
        return 1;
    cfg_free(cfg);
    free(cf.hostname);
    cf.hostname = xstrdup("sink.test");
    free(cf.spool);
    char tmpl[] = "/tmp/bs-listen-unit-XXXXXX";
    cf.spool = xstrdup(mkdtemp(tmpl));
    cf.fsync = 0;
    cf.max_recipients = 100;
    static const char t[] = "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>>: unknown <ORIG>\n"
                            "random_bounce:452 4.2.2 full <HEXDUMP> <RCPT_SERVER>\n"
                            "random_bounce:421 4.7.0 go away <SENDER_IPADDRESS>\n"
                            "random_bounce:554 5.7.1 spam <OTHER_IPADDRESS> <OTHER_USER>\n";
    char *err;
    if (replies_parse(t, sizeof t - 1, "t", &table, &err) < 0)
        return 1;
    env = (sess_env){&cf, &table, 1, NULL};
    buf_init(&records);

    protocol();
    routing_and_spool();
    table_and_route();
    smuggling();
    addresses();
    facts();
    direct_records();

    clean_spool();
    rmdir(cf.spool);
    replies_free(&table);
    lconf_free(&cf);
    buf_free(&records);
    return done_testing();
}
