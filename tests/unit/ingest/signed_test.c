/* Unit tests for msgr_apply_signed (message.c): a passing DKIM signature's coverage
 * (src/global/auth_signed.c, tested in tests/unit/global/auth_signed_test.c) applied to the
 * record: duplicate once-only fields, unsigned header fields, URLs of the signed body only. */
#include <stdlib.h>
#include <string.h>

#include "../../../src/ingest/message.h"
#include "auth_signed.h"
#include "record.h"
#include "tap.h"
#include "util.h"

static json_t *apply(msg_reader *r, const char *msg, const char *h, long long l)
{
    json_t *rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    msgr_read(r, msg, strlen(msg), rec, &env, &err);
    free(err);
    envelope_clear(&env);
    json_object_set_new(rec, "dkim", json_pack("{s:s,s:s}", "result", "pass", "reason", ""));
    sig_cover c = {.pass = 1, .h = h ? xstrdup(h) : NULL, .l = l, .relaxed_body = 1};
    msgr_apply_signed(r, msg, strlen(msg), &c, rec);
    sig_cover_clear(&c);
    return rec;
}

static char *dump(const json_t *v)
{
    return v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : xstrdup("null");
}

static void apply_signed(void)
{
    msg_reader *r = msgr_new(0);
    const char *m = "List-Unsubscribe: <https://evil.test/u>\n"
                    "From: a@sender.test\n"
                    "To: x@bouncy-sink.test\n"
                    "List-Unsubscribe: <https://sender.test/u>\n"
                    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n"
                    "X-Bouncy-Sink: store-done\n"
                    "Content-Type: text/html\n"
                    "\n"
                    "<a href=\"http://t.test/f/a/good\">x</a>\n"
                    "<a href=\"http://evil.test/f/a/bad\">y</a>\n";
    json_t *rec = apply(r, m, "from:to:list-unsubscribe", -1);
    char *s;
    is_str(json_string_value(rec_get(rec, "headers.list_unsubscribe")), "<https://sender.test/u>",
           "List-Unsubscribe from the signed (bottom-most) instance");
    ok(!rec_get(rec, "headers.list_unsubscribe_post"), "unsigned List-Unsubscribe-Post left out");
    is_str(s = dump(rec_get(rec, "dkim.unsigned_headers")), "[\"List-Unsubscribe-Post\"]",
           "named in dkim.unsigned_headers");
    free(s);
    is_str(json_string_value(rec_get(rec, "headers.x_bouncy_sink")), "store-done",
           "X-Bouncy-Sink needs no signature");
    is_str(s = dump(rec_get(rec, "urls.click")),
           "[\"http://t.test/f/a/good\",\"http://evil.test/f/a/bad\"]", "no l=: every URL");
    free(s);
    ok(!rec_get(rec, "dkim.unsigned_body"), "no l=: no unsigned_body");
    json_decref(rec);

    /* l= covering the first body line only (canonical "<a ...>x</a>" CRLF). */
    rec = apply(r, m, "from:to:list-unsubscribe:list-unsubscribe-post", 40);
    is_str(s = dump(rec_get(rec, "urls.click")), "[\"http://t.test/f/a/good\"]",
           "l=: only the URLs of the signed lines");
    free(s);
    ok(json_is_true(rec_get(rec, "dkim.unsigned_body")), "l=: unsigned_body true");
    ok(!rec_get(rec, "dkim.unsigned_headers"), "every recorded header signed: no list");
    json_decref(rec);

    /* issue 18: X-Bouncy-Sink-Outcome steers an action: only from a signed instance */
    const char *ov = "X-Bouncy-Sink-Outcome: fbl\nFrom: a@sender.test\nX-Bouncy-Sink-Outcome: oob\n"
                     "\nx\n";
    rec = apply(r, ov, "from:x-bouncy-sink-outcome", -1);
    is_str(json_string_value(rec_get(rec, "headers.x_bouncy_sink_outcome")), "oob",
           "X-Bouncy-Sink-Outcome from the signed (bottom-most) instance");
    json_decref(rec);
    rec = apply(r, ov, "from", -1);
    ok(!rec_get(rec, "headers.x_bouncy_sink_outcome"), "unsigned X-Bouncy-Sink-Outcome left out");
    is_str(s = dump(rec_get(rec, "dkim.unsigned_headers")), "[\"X-Bouncy-Sink-Outcome\"]",
           "unsigned X-Bouncy-Sink-Outcome named in dkim.unsigned_headers");
    free(s);
    json_decref(rec);

    const char *dup = "From: evil@evil.test\nFrom: a@sender.test\nTo: x@bouncy-sink.test\n\nx\n";
    rec = apply(r, dup, "from:to", -1);
    is_str(json_string_value(rec_get(rec, "dkim.result")), "fail", "two From: fail");
    is_str(json_string_value(rec_get(rec, "dkim.reason")), "duplicate From header field",
           "two From: the reason");
    json_decref(rec);

    const char *mid = "From: a@sender.test\nMessage-ID: <1@x>\nmessage-id: <2@x>\n\nx\n";
    rec = apply(r, mid, "from:message-id:message-id", -1);
    is_str(json_string_value(rec_get(rec, "dkim.reason")), "duplicate Message-ID header field",
           "two Message-ID (even both signed): fail");
    json_decref(rec);

    /* No pass: nothing changes. */
    rec = json_object();
    ing_envelope env = {0};
    char *err = NULL;
    msgr_read(r, m, strlen(m), rec, &env, &err);
    free(err);
    envelope_clear(&env);
    json_object_set_new(rec, "dkim", json_pack("{s:s}", "result", "none"));
    sig_cover none = {.l = -1};
    msgr_apply_signed(r, m, strlen(m), &none, rec);
    is_str(json_string_value(rec_get(rec, "headers.list_unsubscribe")), "<https://evil.test/u>",
           "no pass: headers as read (first instance)");
    json_decref(rec);
    msgr_free(r);
}

int main(void)
{
    msgr_global_init();
    apply_signed();
    return done_testing();
}
