/* Unit tests for src/report/format.c: records to log lines and counter updates.
 * Table-driven: each case is a record, the expected line text and counter values. */
#include <stdlib.h>
#include <string.h>

#include "../../../src/report/format.h"
#include "../../../src/report/stats.h"
#include "record.h"
#include "tap.h"
#include "util.h"

#define HDR "\"v\":1,\"ts\":\"2026-11-24T20:05:10.387Z\""
#define MSG                                                                                        \
    "{" HDR ",\"kind\":\"message\",\"id\":\"m1\",\"source\":{\"name\":\"inbound/c.msg\"},"         \
    "\"headers\":{\"to\":\"any@openclick.sink.test\",\"from\":\"news@sender.test\"},"              \
    "\"dkim\":{\"result\":\"pass\"},\"spf\":{\"result\":\"pass\"},"

typedef struct {
    const char *desc;
    const char *rec;
    const char *line;
    const char *counters; /* "name=value name=value" checked after this record alone */
    int has_error, store_done;
    const char *level;
} fcase;

static const fcase cases[] = {
    {"quiet accept", MSG "\"plan\":{\"stream\":\"accept\",\"actions\":[]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,Accept",
     "total_messages=1 accept=1 dkim_pass=1 spf_pass=1 open=0 fail_dkim=0", 0, 0, "INFO"},
    {"open and click (SPEC A7 example)",
     MSG "\"urls\":{\"open\":[\"http://t/o1\",\"http://t/o2\"],\"click\":[\"http://t/c\"]},"
         "\"html\":true,\"plan\":{\"actions\":[\"open\",\"click\"]},\"http\":{\"open\":["
         "{\"url\":\"http://t/o1\",\"status\":200},{\"url\":\"http://t/o2\",\"status\":200}],"
         "\"click\":[{\"url\":\"http://t/c\",\"status\":200}],\"not_tracking\":{\"open\":2,"
         "\"click\":1},\"errors\":[]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Open:200,200_Click:200",
     "open=1 click=1 open_again=0 accept=0 open_url_not_sparkpost=2 click_url_not_sparkpost=1", 0,
     0, "INFO"},
    {"all four, non-200 codes and a transport error",
     MSG "\"urls\":{\"open\":[\"http://t/o\"],\"click\":[\"http://t/c\"]},\"html\":true,"
         "\"plan\":{\"actions\":[\"open\",\"open_again\",\"click\",\"click_again\"]},\"http\":{"
         "\"open\":[{\"url\":\"http://t/o\",\"status\":200}],\"open_again\":[{\"url\":"
         "\"http://t/o\",\"status\":404}],\"click\":[{\"url\":\"http://t/c\",\"error\":"
         "\"address refused: 10.0.0.1 is private\"}],\"click_again\":[{\"url\":\"http://t/c\","
         "\"status\":302}]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Open:200_OpenAgain:404 "
     "http://t/o_Click:!address refused: 10.0.0.1 is private http://t/c_ClickAgain:302 http://t/c",
     "open=1 open_again=1 click=1 click_again=1 http_errors=2 http_refused=1", 1, 0, "INFO"},
    {"no HTML body",
     MSG "\"html\":false,\"urls\":{\"open\":[],\"click\":[]},\"plan\":{\"actions\":[\"open\","
         "\"click\"]},\"http\":{\"errors\":[\"!No HTML body found\"]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!No HTML body found", "open=0 click=0",
     1, 0, "INFO"},
    {"DKIM gate",
     "{" HDR ",\"kind\":\"message\",\"id\":\"m2\",\"headers\":{\"to\":\"a@fbl.sink.test\","
     "\"from\":\"x@y.test\"},\"dkim\":{\"result\":\"fail\"},\"spf\":{\"result\":\"softfail\"},"
     "\"plan\":{\"actions\":[],\"skip\":\"!DKIM fail: signature did not verify\"}}",
     "m2,a@fbl.sink.test,x@y.test,!DKIM fail: signature did not verify",
     "fail_dkim=1 dkim_fail=1 spf_softfail=1 accept=0 total_messages=1", 1, 0, "INFO"},
    {"SPF gate", MSG "\"plan\":{\"actions\":[],\"skip\":\"!SPF fail: 192.0.2.1\"}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!SPF fail: 192.0.2.1",
     "fail_spf=1 fail_dkim=0", 1, 0, "INFO"},
    {"gate code counts, not the text (DKIM)",
     MSG "\"plan\":{\"actions\":[],\"skip\":\"!signature broken\",\"skip_code\":"
         "\"dkim_fail\"}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!signature broken",
     "fail_dkim=1 fail_spf=0", 1, 0, "INFO"},
    {"gate code counts, not the text (no one-click, text reads like DKIM)",
     MSG "\"plan\":{\"actions\":[],\"skip\":\"!DKIM-like words\",\"skip_code\":"
         "\"no_one_click\"}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!DKIM-like words",
     "fail_dkim=0 fail_spf=0", 1, 0, "INFO"},
    {"gate code counts, not the text (SPF)",
     MSG "\"plan\":{\"actions\":[],\"skip\":\"!x\",\"skip_code\":\"spf_fail\"}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!x", "fail_spf=1 fail_dkim=0", 1, 0,
     "INFO"},
    {"unknown gate code from a newer writer: shown, not counted",
     MSG "\"plan\":{\"actions\":[],\"skip\":\"!SPF-ish\",\"skip_code\":\"future\"}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!SPF-ish", "fail_spf=0 fail_dkim=0", 1,
     0, "INFO"},
    {"HTTP error code counts, not the text",
     MSG "\"urls\":{\"open\":[\"http://t/o\"]},\"html\":true,\"plan\":{\"actions\":"
         "[\"open\",\"open_again\"]},\"http\":{\"open\":[{\"url\":\"http://t/o\","
         "\"error\":\"10.0.0.1 is outside\",\"error_code\":\"policy_refused\"}],"
         "\"open_again\":[{\"url\":\"http://t/o\",\"error\":\"refused by a proxy\","
         "\"error_code\":\"transport\"}]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Open:!10.0.0.1 is outside "
     "http://t/o_OpenAgain:!refused by a proxy http://t/o",
     "http_errors=2 http_refused=1", 1, 0, "INFO"},
    {"OOB sent",
     MSG "\"plan\":{\"actions\":[\"oob\"]},\"smtp\":{\"oob\":{\"status\":\"sent\",\"from\":"
         "\"any@oob.sink.test\",\"to\":\"b@sp.test\",\"mx\":\"smtp.sparkpostmail.com\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,OOB sent,from any@oob.sink.test to "
     "b@sp.test via smtp.sparkpostmail.com",
     "oob_sent=1", 0, 0, "INFO"},
    {"OOB guard",
     MSG "\"plan\":{\"actions\":[\"oob\"]},\"smtp\":{\"oob\":{\"status\":"
         "\"return_path_not_sparkpost\",\"error\":\"!OOB not sent, Return-Path b@x.test does "
         "not have a valid MX\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!OOB not sent, Return-Path b@x.test "
     "does not have a valid MX",
     "oob_return_path_not_sparkpost=1 oob_sent=0", 1, 0, "INFO"},
    {"FBL sent, store-done asked",
     "{" HDR ",\"kind\":\"message\",\"id\":\"m3\",\"headers\":{\"to\":\"a@fbl.sink.test\","
     "\"from\":\"n@s.test\",\"x_bouncy_sink\":\"Store-Done\"},\"dkim\":{\"result\":\"pass\"},"
     "\"plan\":{\"actions\":[\"fbl\"]},\"smtp\":{\"fbl\":{\"status\":\"sent\",\"to\":"
     "\"fbl@sparkpostmail.com\",\"mx\":\"smtp.sparkpostmail.com\"}}}",
     "m3,a@fbl.sink.test,n@s.test,FBL sent,to fbl@sparkpostmail.com via smtp.sparkpostmail.com",
     "fbl_sent=1", 0, 1, "INFO"},
    {"FBL SMTP error and no_mx counters",
     MSG "\"plan\":{\"actions\":[\"fbl\",\"oob\"]},\"smtp\":{\"fbl\":{\"status\":\"smtp_error\","
         "\"error\":\"FBL endpoint returned error: 554 no\"},\"oob\":{\"status\":\"no_mx\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!FBL endpoint returned error: 554 "
     "no,!OOB not sent: no_mx",
     "fbl_smtp_error=1 oob_no_mx=1", 1, 0, "INFO"},
    {"unsubscribe",
     MSG "\"plan\":{\"actions\":[\"unsubscribe\"]},\"http\":{\"unsubscribe\":{\"url\":"
         "\"https://u.test/x\",\"status\":200}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Unsubscribe:200",
     "unsubscribe=1 unsubscribe_error=0", 0, 0, "INFO"},
    {"unsubscribe failed",
     MSG "\"plan\":{\"actions\":[\"unsubscribe\"]},\"http\":{\"unsubscribe\":{\"url\":"
         "\"https://u.test/x\",\"error\":\"timeout\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Unsubscribe:!timeout "
     "https://u.test/x",
     "unsubscribe=0 unsubscribe_error=1", 1, 0, "INFO"},
    {"unsubscribe not possible: act-http's error only",
     MSG "\"plan\":{\"actions\":[\"unsubscribe\"]},\"http\":{\"unsubscribe\":{\"error\":"
         "\"no List-Unsubscribe header\"},\"errors\":[\"!Unsubscribe not sent: no "
         "List-Unsubscribe header\"]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!Unsubscribe not sent: no "
     "List-Unsubscribe header",
     "unsubscribe=0 unsubscribe_error=1 http_errors=0", 1, 0, "INFO"},
    {"Signals traffic: day gate inputs, as the old log",
     MSG "\"plan\":{\"actions\":[],\"signals\":{\"digit\":5,\"allowed\":false}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,currentDay=24,finalDigit=5,Accept",
     "accept=1", 0, 0, "INFO"},
    {"control characters cannot split the line",
     "{" HDR ",\"kind\":\"message\",\"id\":\"m4\",\"headers\":{\"to\":\"a\\r\\nb@accept.t\","
     "\"from\":\"x\\ty\"},\"plan\":{\"actions\":[]}}",
     "m4,a  b@accept.t,x y,Accept", "accept=1", 0, 0, "INFO"},
    {"commas, backslashes and Unicode line separators cannot add fields or lines",
     "{" HDR ",\"kind\":\"message\",\"id\":\"m,4\",\"headers\":{\"to\":\"\\\"D, J\\\" "
     "<a@accept.t>\",\"from\":\"x\\\\y\\u0085z\\u2028w\\u2029@s\"},\"plan\":{\"actions\":[],"
     "\"skip\":\"!no\\u2028plan, really\"}}",
     "m\\x2c4,\"D\\x2c J\" <a@accept.t>,x\\\\y\\u0085z\\u2028w\\u2029@s,!no\\u2028plan, really",
     "total_messages=1", 1, 0, "INFO"},
    {"unreadable message",
     "{" HDR ",\"kind\":\"message\",\"id\":\"m5\",\"error\":\"truncated header\"}",
     "m5,,,!truncated header", "error_messages=1 total_messages=1", 1, 0, "INFO"},
    {"in-band 5xx",
     "{" HDR ",\"kind\":\"inband\",\"id\":\"i1\",\"envelope\":{\"mail_from\":\"b@s.test\","
     "\"rcpt\":\"x@sink.test\"},\"reply\":{\"code\":550,\"enhanced\":\"5.1.1\",\"text\":"
     "\"5.1.1 <x@sink.test>: user unknown\"}}",
     "i1,x@sink.test,b@s.test,InBand 550 5.1.1 <x@sink.test>: user unknown",
     "inband_5xx=1 inband_4xx=0 total_messages=0", 0, 0, "INFO"},
    {"in-band 4xx, enhanced not in text",
     "{" HDR ",\"kind\":\"inband\",\"id\":\"i2\",\"envelope\":{\"rcpt\":\"x@sink.test\"},"
     "\"reply\":{\"code\":421,\"enhanced\":\"4.7.0\",\"text\":\"try later\"}}",
     "i2,x@sink.test,,InBand 421 4.7.0 try later", "inband_4xx=1", 0, 0, "INFO"},
    {"blackhole",
     "{" HDR ",\"kind\":\"blackhole\",\"id\":\"b1\",\"envelope\":{\"mail_from\":\"b@s.test\","
     "\"rcpt\":\"y@sink.test\"}}",
     "b1,y@sink.test,b@s.test,Blackhole", "blackhole=1", 0, 0, "INFO"},
    {"invalid record",
     "{" HDR ",\"kind\":\"invalid\",\"id\":\"inv-1\",\"error\":\"stdin:42: not JSON\","
     "\"source\":{\"name\":\"stdin\",\"line\":42},\"text\":\"garbage\"}",
     "stdin:42,,,!Invalid record: stdin:42: not JSON", "invalid_records=1", 1, 0, "ERROR"},
    {"params",
     "{" HDR ",\"kind\":\"params\",\"id\":\"p1\",\"source\":\"c.ini\",\"reason\":\"start\","
     "\"params\":{\"OOB_percent\":0.5,\"p_open\":1.1}}",
     "** Parameters (start, c.ini): {\"OOB_percent\":0.5,\"p_open\":1.1}", "total_messages=0", 0, 0,
     "INFO"},
    {"params reload failed",
     "{" HDR ",\"kind\":\"params\",\"id\":\"p2\",\"source\":\"c.ini\",\"reason\":\"reload\","
     "\"error\":\"c.ini:3: [Sink] Open_percent: bad\"}",
     "** Parameters not changed (reload, c.ini),!c.ini:3: [Sink] Open_percent: bad", "", 1, 0,
     "WARNING"},
    {"out-of-office reply sent",
     MSG "\"plan\":{\"stream\":\"ooto\",\"actions\":[\"ooto\"]},\"smtp\":{\"ooto\":{\"status\":"
         "\"sent\",\"from\":\"any@ooto.sink.test\",\"to\":\"b@sp.test\",\"mx\":"
         "\"smtp.sparkpostmail.com\",\"reply\":\"250 ok\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,OOTO sent,to b@sp.test via "
     "smtp.sparkpostmail.com",
     "ooto_sent=1 accept=0", 0, 0, "INFO"},
    {"out-of-office reply refused: auto-submitted original",
     MSG "\"plan\":{\"actions\":[\"open\",\"ooto\"]},\"html\":true,\"urls\":{\"open\":[]},"
         "\"http\":{\"open\":[]},\"smtp\":{\"ooto\":{\"status\":\"auto_submitted\",\"error\":"
         "\"!OOTO not sent, original is auto-submitted (Auto-Submitted: auto-generated)\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,_Open:,!OOTO not sent, original is "
     "auto-submitted (Auto-Submitted: auto-generated)",
     "ooto_auto_submitted=1 ooto_sent=0 open=1", 1, 0, "INFO"},
    {"out-of-office SMTP error",
     MSG "\"plan\":{\"actions\":[\"ooto\"]},\"smtp\":{\"ooto\":{\"status\":\"smtp_error\","
         "\"error\":\"!OOTO endpoint returned error: 554 5.7.1 no\"}}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!OOTO endpoint returned error: 554 "
     "5.7.1 no",
     "ooto_smtp_error=1 ooto_sent=0", 1, 0, "INFO"},
    {"out-of-office without act-smtp", MSG "\"plan\":{\"actions\":[\"ooto\"]}}",
     "inbound/c.msg,any@openclick.sink.test,news@sender.test,!OOTO not performed (no act-smtp "
     "outcome)",
     "ooto_sent=0", 1, 0, "INFO"},
    {"greylist deferred",
     "{" HDR ",\"kind\":\"greylist\",\"id\":\"gl1\",\"stream\":\"greylist\",\"envelope\":{"
     "\"mail_from\":\"b@s.test\",\"rcpt\":\"x@greylist.sink.test\",\"client_ip\":\"192.0.2.7\"},"
     "\"reply\":{\"code\":451,\"enhanced\":\"4.7.1\",\"text\":\"Greylisted, please try again "
     "later\"},\"outcome\":\"deferred\"}",
     "gl1,x@greylist.sink.test,b@s.test,Greylist 451 4.7.1 Greylisted, please try again later",
     "greylist_deferred=1 greylist_passed=0 total_messages=0", 0, 0, "INFO"},
    {"greylist passed",
     "{" HDR ",\"kind\":\"greylist\",\"id\":\"gl2\",\"stream\":\"mixed\",\"envelope\":{"
     "\"mail_from\":\"b@s.test\",\"rcpt\":\"x@greylist.sink.test\"},\"reply\":{\"code\":250,"
     "\"enhanced\":\"2.1.5\",\"text\":\"Ok\"},\"outcome\":\"passed\"}",
     "gl2,x@greylist.sink.test,b@s.test,Greylist passed", "greylist_passed=1 greylist_deferred=0",
     0, 0, "INFO"},
    {"throttle messages per minute",
     "{" HDR ",\"kind\":\"throttle\",\"id\":\"t1\",\"envelope\":{\"mail_from\":\"b@s.test\","
     "\"rcpt\":\"x@throttle.sink.test\"},\"client_ip\":\"192.0.2.7\",\"limit\":"
     "\"messages_per_minute\",\"reply\":{\"code\":451,\"enhanced\":\"4.7.1\",\"text\":\"4.7.1 "
     "Too many messages, slow down\"}}",
     "t1,x@throttle.sink.test,b@s.test,Throttle messages_per_minute 451 4.7.1 Too many messages, "
     "slow down (client 192.0.2.7)",
     "throttle_messages_per_minute=1 throttle_connections=0", 0, 0, "INFO"},
    {"throttle connections (no envelope yet)",
     "{" HDR ",\"kind\":\"throttle\",\"id\":\"t2\",\"client_ip\":\"192.0.2.8\",\"limit\":"
     "\"connections\",\"reply\":{\"code\":421,\"enhanced\":\"4.7.0\",\"text\":\"Too many "
     "connections\"}}",
     "t2,,,Throttle connections 421 4.7.0 Too many connections (client 192.0.2.8)",
     "throttle_connections=1", 0, 0, "INFO"},
    {"throttle messages per connection",
     "{" HDR ",\"kind\":\"throttle\",\"id\":\"t3\",\"envelope\":{\"mail_from\":\"b@s.test\"},"
     "\"client_ip\":\"192.0.2.9\",\"limit\":\"messages_per_connection\",\"reply\":{\"code\":421,"
     "\"enhanced\":\"4.7.0\",\"text\":\"Too many messages in this session\"}}",
     "t3,,b@s.test,Throttle messages_per_connection 421 4.7.0 Too many messages in this session "
     "(client 192.0.2.9)",
     "throttle_messages_per_connection=1", 0, 0, "INFO"},
    {"slow reply",
     "{" HDR ",\"kind\":\"slow\",\"id\":\"sl1\",\"envelope\":{\"mail_from\":\"b@s.test\","
     "\"rcpt\":\"x@slow.sink.test\"},\"delay_ms\":2000,\"stage\":\"rcpt\"}",
     "sl1,x@slow.sink.test,b@s.test,Slow rcpt 2000ms", "slow_replies=1 records_slow=0", 0, 0,
     "INFO"},
    {"a kind added later",
     "{" HDR ",\"kind\":\"Greylist-Retry\",\"id\":\"g1\",\"envelope\":{\"rcpt\":\"r@t\"}}",
     "g1,r@t,,Record Greylist-Retry", "records_greylist_retry=1", 0, 0, "INFO"},
};

static void check_counters(rp_stats *st, const char *spec, const char *desc)
{
    char *copy = xstrdup(spec);
    for (char *tok = copy, *end; tok && *tok; tok = end) {
        end = strchr(tok, ' ');
        if (end)
            *end++ = 0;
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *d = xasprintf("%s: %s", desc, tok);
        is_int(stats_get(st, tok), strtol(eq + 1, NULL, 10), d);
        free(d);
    }
    free(copy);
}

int main(void)
{
    bs_set_progname("format_test");
    setenv("TZ", "UTC", 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const fcase *c = &cases[i];
        const char *why;
        json_t *rec = rec_parse_line(c->rec, strlen(c->rec), "case", 1, &why);
        if (why)
            printf("# case %zu does not parse: %s\n", i, why);
        rp_stats *st = stats_new(1764014710.0);
        bs_buf line;
        buf_init(&line);
        fmt_result res;
        fmt_record(rec, st, 1764014710.0, &line, &res);
        is_str(line.data, c->line, c->desc);
        char *d = xasprintf("%s: error flag", c->desc);
        is_int(res.has_error, c->has_error, d);
        free(d);
        d = xasprintf("%s: store-done flag", c->desc);
        is_int(res.store_done, c->store_done, d);
        free(d);
        d = xasprintf("%s: level", c->desc);
        is_str(res.level, c->level, d);
        free(d);
        check_counters(st, c->counters, c->desc);
        ok(!strchr(line.data, '\n') && !strchr(line.data, '\r'), "one line");
        buf_free(&line);
        json_decref(rec);
        stats_free(st);
    }

    /* settle path is handed back; params are kept for the page */
    rp_stats *st = stats_new(0);
    const char *r =
        "{" HDR ",\"kind\":\"message\",\"id\":\"s1\",\"settle\":\"spool/claimed/s1.msg\","
        "\"plan\":{\"actions\":[]}}";
    json_t *rec = rec_parse_line(r, strlen(r), "t", 1, NULL);
    bs_buf line;
    buf_init(&line);
    fmt_result res;
    fmt_record(rec, st, 0, &line, &res);
    is_str(res.settle, "spool/claimed/s1.msg", "settle path returned");
    json_decref(rec);
    buf_reset(&line);
    r = "{" HDR ",\"kind\":\"params\",\"id\":\"p\",\"source\":\"a.ini\",\"reason\":\"start\","
        "\"params\":{\"Open_percent\":55}}";
    rec = rec_parse_line(r, strlen(r), "t", 1, NULL);
    fmt_record(rec, st, 0, &line, &res);
    json_decref(rec);
    ok(stats_params(st) && json_integer_value(json_object_get(
                               json_object_get(stats_params(st), "params"), "Open_percent")) == 55,
       "latest params kept");
    buf_free(&line);
    stats_free(st);

    char t[40];
    setenv("TZ", "UTC", 1);
    is_str(fmt_log_time(1764014710.387, t, sizeof t), "2025-11-24 20:05:10,387",
           "log time format with milliseconds");
    return done_testing();
}
