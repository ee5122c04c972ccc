/* Unit tests for src/ingest/envelope.c: Received and Return-Path parsing. */
#include <stdlib.h>
#include <string.h>

#include "../../../src/ingest/envelope.h"
#include "../../../src/ingest/message.h"
#include "tap.h"
#include "util.h"

static void received(const char *value, const char *helo, const char *ip, const char *rcpt,
                     const char *date, const char *env_from, const char *desc)
{
    ing_envelope e = {0};
    envelope_parse_received(value, &e);
    char d[200];
    snprintf(d, sizeof d, "%s: helo", desc);
    is_str(e.helo, helo, d);
    snprintf(d, sizeof d, "%s: client ip", desc);
    is_str(e.client_ip, ip, d);
    snprintf(d, sizeof d, "%s: rcpt", desc);
    is_str(e.rcpt, rcpt, d);
    snprintf(d, sizeof d, "%s: date", desc);
    is_str(e.received, date, d);
    snprintf(d, sizeof d, "%s: envelope-from", desc);
    is_str(e.envelope_from, env_from, d);
    envelope_clear(&e);
}

int main(void)
{
    bs_set_progname("envelope_test");
    msgr_global_init();
    received(" from mta1a2.demo-t.sparkpostelite.com (172.31.7.50) by "
             "ip-172-31-4-82.us-west-2.compute.internal id h2lul42evlsj for "
             "<test+1@not-gmail.com.bouncy-sink.trymsys.net>; Mon, 4 Jun 2018 17:56:34 +0000 "
             "(envelope-from <bounces@stevet-spe-send.trymsys.net>)\n",
             "mta1a2.demo-t.sparkpostelite.com", "172.31.7.50",
             "test+1@not-gmail.com.bouncy-sink.trymsys.net", "2018-06-04T17:56:34Z",
             "bounces@stevet-spe-send.trymsys.net", "PowerMTA");
    received("from helo.test (rdns.example [198.51.100.7])\r\n\tby mx (Postfix) with ESMTPS id "
             "X1\r\n\tfor u@accept.sink.test; Wed, 25 Nov 2026 01:02:03 +0200",
             "helo.test", "198.51.100.7", "u@accept.sink.test", "2026-11-24T23:02:03Z", NULL,
             "Postfix, no brackets around the recipient, +0200");
    received("from [192.0.2.1] ([IPv6:2001:db8::1]) by h id i for <a@b>; "
             "Tue, 24 Nov 2026 20:05:10 GMT",
             "[192.0.2.1]", "2001:db8::1", "a@b", "2026-11-24T20:05:10Z", NULL,
             "address literal HELO, IPv6 tag");
    received("from x (unknown) by h; garbage date", "x", NULL, NULL, NULL, NULL,
             "no IP, no rcpt, bad date");
    received("by only.test id 1; Tue, 24 Nov 2026 20:05:10 +0000", NULL, NULL, NULL,
             "2026-11-24T20:05:10Z", NULL, "no from clause");
    received("from a (b (nested 192.0.2.9) [192.0.2.5]) by c (envelope-from <s@x>) for "
             "<r@y>; Tue, 24 Nov 2026 20:05:10 +0000",
             "a", "192.0.2.9", "r@y", "2026-11-24T20:05:10Z", "s@x",
             "nested comment; envelope-from before the date");
    received("", NULL, NULL, NULL, NULL, NULL, "empty value");
    received("from (((((", NULL, NULL, NULL, NULL, NULL, "unclosed comments");

    char *p;
    is_str(p = envelope_parse_path(" <bounces@sender.test>\n"), "bounces@sender.test",
           "Return-Path with brackets");
    free(p);
    is_str(p = envelope_parse_path("<>"), "", "null sender");
    free(p);
    is_str(p = envelope_parse_path("<@relay.test,@r2.test:u@x.test>"), "u@x.test",
           "source route dropped");
    free(p);
    is_str(p = envelope_parse_path(" plain@x.test "), "plain@x.test", "bare address");
    free(p);
    ok(envelope_parse_path("<unclosed") == NULL, "unclosed bracket: unknown");
    ok(envelope_parse_path("two words") == NULL, "not a path: unknown");
    ok(envelope_parse_path(NULL) == NULL, "NULL: unknown");

    ing_envelope e = {.mail_from = xstrdup(""), .helo = xstrdup("h\xff")};
    json_t *rec = json_object();
    envelope_to_json(&e, rec);
    char *s = json_dumps(json_object_get(rec, "envelope"), JSON_COMPACT);
    is_str(s, "{\"mail_from\":\"\",\"helo\":\"h\xef\xbf\xbd\"}",
           "envelope JSON: known fields only, invalid UTF-8 repaired");
    free(s);
    json_decref(rec);
    envelope_clear(&e);
    return done_testing();
}
