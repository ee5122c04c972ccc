/* Unit tests for src/listen/shape.c: Slow_Delay parsing and draws, the triple hash, the
 * greylist table (delay, window, eviction bound), per-IP throttle counters, throttle
 * texts, and the session's greylist/throttle/slow behaviour driven in-process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../src/listen/conf.h"
#include "../../../src/listen/session.h"
#include "../../../src/listen/shape.h"
#include "../../../src/listen/split.h"
#include "config.h"
#include "replies.h"
#include "tap.h"
#include "util.h"

static lconf cf;
static reply_table table;
static bs_buf records;

static int no_spool(void *ctx, sess *s, spool_job *job)
{
    (void)ctx;
    (void)s;
    job->err = 0;
    return 0;
}
static void keep_record(void *ctx, char *line, size_t len)
{
    (void)ctx;
    buf_append(&records, line, len);
    buf_putc(&records, '\n');
    free(line);
}
static const sess_hooks hooks = {NULL, no_spool, keep_record, NULL, NULL};

static void delays(void)
{
    slow_delay d;
    ok(lconf_parse_delay("fixed:3", &d) == 0 && d.kind == DELAY_FIXED && d.a == 3, "fixed:3");
    ok(lconf_parse_delay("uniform:1-5", &d) == 0 && d.kind == DELAY_UNIFORM && d.a == 1 && d.b == 5,
       "uniform:1-5");
    ok(lconf_parse_delay("exp:2", &d) == 0 && d.kind == DELAY_EXP && d.a == 2, "exp:2");
    ok(lconf_parse_delay("uniform:0.5-1.5", &d) == 0 && d.a == 0.5, "fractions");
    ok(lconf_parse_delay("uniform:5-1", &d) < 0, "uniform: B < A refused");
    ok(lconf_parse_delay("fixed:", &d) < 0, "fixed: without value refused");
    ok(lconf_parse_delay("gauss:1", &d) < 0, "unknown distribution refused");
    ok(lconf_parse_delay("3", &d) < 0, "bare number refused");
    ok(lconf_parse_delay("fixed:99999", &d) < 0, "more than an hour refused");

    lrng r;
    bs_rng_seed(&r, 7);
    lconf_parse_delay("fixed:1.25", &d);
    is_int(shape_draw_delay(&d, &r), 1250, "fixed draw in ms");
    lconf_parse_delay("uniform:1-2", &d);
    int in = 1;
    for (int i = 0; i < 1000; i++) {
        long v = shape_draw_delay(&d, &r);
        in &= v >= 1000 && v <= 2000;
    }
    ok(in, "uniform draws within range");
    lconf_parse_delay("exp:2", &d);
    double sum = 0;
    for (int i = 0; i < 20000; i++)
        sum += (double)shape_draw_delay(&d, &r);
    double mean = sum / 20000;
    ok(mean > 1900 && mean < 2100, "exp:2 mean about 2000 ms");
}

static void hashing(void)
{
    ok(shape_triple_hash("1.2.3.4", "a@b.test", "x@greylist.bouncy-sink.test") ==
           0xb7f93fce2ed6b2e7ULL,
       "triple hash: FNV-1a 64 of ip NUL sender NUL rcpt");
    ok(shape_triple_hash("1.2.3.4", "a@b.test", "X@Greylist.bouncy-sink.test") ==
           0xb7f93fce2ed6b2e7ULL,
       "the recipient is case-folded");
    ok(shape_triple_hash("1.2.3.5", "a@b.test", "x@greylist.bouncy-sink.test") !=
           0xb7f93fce2ed6b2e7ULL,
       "the client IP is part of the triple");
    lconf c = cf;
    ok(shape_greylisted(&c, "greylist", 12345), "greylist stream: always");
    ok(!shape_greylisted(&c, "mixed", 12345), "mixed at 0 %: never");
    c.greylist_percent = 10;
    ok(shape_greylisted(&c, "mixed", 10999) && !shape_greylisted(&c, "mixed", 11000),
       "mixed at 10 %: hash % 10000 < 1000");
    ok(!shape_greylisted(&c, "accept", 10999), "other streams: never");
}

static void routes(void)
{
    const char *labels[] = {"greylist", "throttle", "slow", "ooto"};
    lrng r;
    bs_rng_seed(&r, 3);
    for (int i = 0; i < 4; i++) {
        char d[64];
        snprintf(d, sizeof d, "%s.bouncy-sink.test", labels[i]);
        const char *st = route_stream(&cf, d);
        ok(st && strcmp(st, labels[i]) == 0 && route_decide(&cf, st, &r, 0) == ROUTE_SPOOL,
           labels[i]);
    }
}

static void greylist_table(void)
{
    lconf c = cf;
    c.greylist_delay = 300;
    c.greylist_window = 3600;
    c.greylist_max_entries = 32;
    shape *sh = shape_new(&c, &table);
    time_t t = 1000000;
    uint64_t h = 0x1234;
    is_int(shape_greylist_check(sh, h, t), GL_DEFER, "first attempt deferred");
    is_int(shape_greylist_check(sh, h, t + 299), GL_DEFER, "299 s later: deferred");
    is_int(shape_greylist_check(sh, h, t + 300), GL_PASSED, "300 s after the first: passed");
    is_int(shape_greylist_check(sh, h, t + 400), GL_KNOWN, "then known");
    is_int(shape_greylist_check(sh, h, t + 400 + 3601), GL_DEFER, "idle past the window: again");
    uint64_t g = 0x5678;
    shape_greylist_check(sh, g, t);
    is_int(shape_greylist_check(sh, g, t + 3601), GL_DEFER, "unpassed triple expires");
    is_int(shape_greylist_check(sh, g, t + 3601 + 300), GL_PASSED,
           "and the new first sighting counts");

    /* bound: 1000 triples into 32 entries */
    for (uint64_t k = 0; k < 1000; k++)
        shape_greylist_check(sh, k * 0x9e3779b97f4a7c15ULL, t + 10000);
    ok(shape_greylist_entries(sh) <= 32 + 16, "entries stay bounded by Greylist_Max_Entries");
    is_int(shape_greylist_check(sh, 999 * 0x9e3779b97f4a7c15ULL, t + 10300), GL_PASSED,
           "the newest triple is still there");
    is_int(shape_greylist_check(sh, 1 * 0x9e3779b97f4a7c15ULL, t + 10300), GL_DEFER,
           "the oldest was evicted");
    shape_free(sh);
}

static void throttle_table(void)
{
    lconf c = cf;
    c.th_max_conns = 2;
    shape *sh = shape_new(&c, &table);
    ok(shape_conn_open(sh, "10.0.0.1") == 0 && shape_conn_open(sh, "10.0.0.1") == 0,
       "two connections");
    ok(shape_conn_open(sh, "10.0.0.1") < 0, "third refused");
    ok(shape_conn_open(sh, "10.0.0.2") == 0, "another IP counted on its own");
    shape_conn_close(sh, "10.0.0.1");
    ok(shape_conn_open(sh, "10.0.0.1") == 0, "a close frees a slot");
    time_t t = 5000;
    int okn = 0;
    for (int i = 0; i < 3; i++)
        okn += shape_minute_take(sh, "10.0.0.1", 0, 3, t + i) == 0;
    is_int(okn, 3, "three messages in the minute");
    ok(shape_minute_take(sh, "10.0.0.1", 0, 3, t + 59) < 0, "fourth refused within 60 s");
    ok(shape_minute_take(sh, "10.0.0.1", 1, 3, t + 59) == 0, "the subdomain counter is separate");
    ok(shape_minute_take(sh, "10.0.0.1", 0, 3, t + 60) == 0, "a new window after 60 s");
    ok(shape_minute_take(sh, "10.0.0.1", 0, 0, t) == 0, "limit 0: off");

    reply_vars v = {"u", "throttle.bouncy-sink.test", "10.0.0.1", "a@b.test"};
    lrng r;
    bs_rng_seed(&r, 1);
    bs_buf text;
    buf_init(&text);
    int code;
    const char *enh;
    shape_throttle_reply(sh, TH_CONNECTIONS, &v, &r, &code, &enh, &text);
    ok(code == 421 && strcmp(enh, "4.7.0") == 0, "connections: 421 4.7.0");
    is_str(text.data, "Too many connections to this host.", "connections: fallback text");
    buf_free(&text);
    shape_free(sh);

    static const char t2[] = "random_bounce:554 5.7.1 <<RCPT_USER>@<RCPT_DOMAIN>>: Quota "
                             "Exceeded, Try again later.\n";
    reply_table tab;
    char *err;
    if (replies_parse(t2, sizeof t2 - 1, "t2", &tab, &err) < 0)
        bs_fatal(70, "%s", err);
    sh = shape_new(&c, &tab);
    buf_init(&text);
    shape_throttle_reply(sh, TH_PER_MINUTE, &v, &r, &code, &enh, &text);
    ok(code == 451 && strcmp(enh, "4.7.1") == 0, "per minute: 451 4.7.1 whatever the table says");
    is_str(text.data, "<u@throttle.bouncy-sink.test>: Quota Exceeded, Try again later.",
           "per minute: the table's text, placeholders filled");
    buf_free(&text);
    shape_free(sh);
    replies_free(&tab);
}

/* Feeds a conversation, finishing every delay at once; returns the server's output. */
static char *talk(sess_env *env, const char *ip, const char *input, int *ndelays)
{
    sess *s = sess_new(env, &hooks, ip, 42);
    sess_greet(s);
    size_t i = 0, n = strlen(input);
    *ndelays = 0;
    for (int guard = 0; guard < 10000 && !(sess_flags(s) & SESS_CLOSE); guard++) {
        if (sess_flags(s) & SESS_DELAY) {
            long ms;
            size_t mark;
            sess_delay(s, &ms, &mark);
            ++*ndelays;
            sess_delay_done(s);
            continue;
        }
        if (i == n)
            break;
        i += sess_feed(s, input + i, n - i);
    }
    char *out = xstrndup(sess_out(s)->data, sess_out(s)->len);
    sess_free(s);
    return out;
}

static void sessions(void)
{
    lconf c = cf;
    c.greylist_delay = 0; /* a retry passes at once */
    c.th_max_per_conn = 1;
    c.th_sub_per_conn = 1;
    lconf_parse_delay("fixed:1", &c.slow);
    shape *sh = shape_new(&c, &table);
    sess_env env = {&c, &table, 0, sh};
    int nd;
    const char *conv = "HELO h\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<g@greylist.bouncy-sink.test>\r\n"
                       "QUIT\r\n";
    char *o = talk(&env, "192.0.2.1", conv, &nd);
    ok(strstr(o, "451 4.7.1 <g@greylist.bouncy-sink.test>: Recipient address rejected: "
                 "Greylisted, see https://postgrey.schweikert.ch/help/"
                 "greylist.bouncy-sink.test.html\r\n") != NULL,
       "session: greylisted");
    free(o);
    o = talk(&env, "192.0.2.1", conv, &nd);
    ok(strstr(o, "250 2.1.5 Ok\r\n") != NULL, "session: retry passes");
    free(o);
    ok(strstr(records.data, "\"kind\":\"greylist\"") &&
           strstr(records.data, "\"outcome\":\"passed\""),
       "session: greylist records");

    o = talk(&env, "192.0.2.2",
             "HELO h\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<x@accept.bouncy-sink.test>\r\n"
             "DATA\r\nx\r\n.\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<y@accept.bouncy-sink.test>\r\n"
             "QUIT\r\n",
             &nd);
    ok(strstr(o, "451 4.7.1 Abusive connections. Please try again later.\r\n") != NULL,
       "session: second message over Max_Messages_Per_Connection = 1");
    free(o);
    ok(strstr(records.data, "\"limit\":\"messages_per_connection\""), "session: throttle record");

    o = talk(&env, "192.0.2.3",
             "HELO h\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<s@slow.bouncy-sink.test>\r\nDATA\r\n"
             "x\r\n.\r\nQUIT\r\n",
             &nd);
    is_int(nd, 2, "session: slow recipient delays RCPT and end of DATA");
    ok(strstr(o, "250 2.0.0 Ok: queued as ") && strstr(o, "221 2.0.0 Bye"),
       "session: slow conversation completes");
    free(o);
    ok(strstr(records.data, "\"delay_ms\":1000,\"stage\":\"rcpt\""), "session: slow record");

    c.slow_percent = 100;
    o = talk(&env, "192.0.2.4", "HELO h\r\nQUIT\r\n", &nd);
    is_int(nd, 1, "Slow_percent = 100: the banner is delayed");
    free(o);
    shape_free(sh);
}

int main(void)
{
    bs_config *cfg = cfg_empty();
    if (lconf_load(cfg, &cf) < 0)
        return 1;
    cfg_free(cfg);
    free(cf.hostname);
    cf.hostname = xstrdup("sink.test");
    static const char t[] = "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>>: unknown\n";
    char *err;
    if (replies_parse(t, sizeof t - 1, "t", &table, &err) < 0)
        return 1;
    buf_init(&records);
    buf_putc(&records, 0);
    records.len = 0;

    delays();
    hashing();
    routes();
    greylist_table();
    throttle_table();
    sessions();

    replies_free(&table);
    lconf_free(&cf);
    buf_free(&records);
    return done_testing();
}
