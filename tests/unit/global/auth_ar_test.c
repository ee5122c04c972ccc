/* Unit tests for the facts part of the auth module: Authentication-Results written
 * (auth_ar_header) and read back (auth_ar_parse, auth_ar_from_trace: only listen's own
 * field, above its Received field, with our authserv-id, counts), DMARC evaluation on a
 * given record (auth_dmarc_eval, libopendmarc) and the header facts (auth_header_facts). */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "auth_ar.h"
#include "tap.h"
#include "util.h"

static const char *res(json_t *ar, size_t i, const char *key)
{
    return json_string_value(
        json_object_get(json_array_get(json_object_get(ar, "results"), i), key));
}

static void parse(void)
{
    const char *v = " mx.example.org 1 (comment (nested));\r\n\tspf=pass (sender ok)"
                    " smtp.mailfrom=\"a b\"@x.test;\r\n dkim/1=FAIL header.d=x.test"
                    " header.s=s1; dmarc=none header.from=x.test";
    json_t *ar = auth_ar_parse(v, strlen(v));
    ok(ar != NULL, "RFC 8601 value with comments, version, quoted-string, folding parses");
    is_str(json_string_value(json_object_get(ar, "authserv_id")), "mx.example.org", "authserv-id");
    is_int(json_array_size(json_object_get(ar, "results")), 3, "three results");
    is_str(res(ar, 0, "method"), "spf", "method");
    is_str(res(ar, 0, "smtp.mailfrom"), "a b@x.test", "quoted local-part unquoted");
    is_str(res(ar, 1, "result"), "fail", "result lower-cased, method version dropped");
    is_str(res(ar, 1, "header.s"), "s1", "property");
    json_decref(ar);
    ar = auth_ar_parse(" host; none", 11);
    ok(ar && json_array_size(json_object_get(ar, "results")) == 0, "no-result: none");
    json_decref(ar);
    static const char *const bad[] = {
        "",
        ";",
        "host; spf",
        "host; spf=",
        "host; spf=pass smtp.mailfrom",
        "host; (open",
        "host; spf=pass x=\"open",
        "host;;",
        "host spf=pass",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ar = auth_ar_parse(bad[i], strlen(bad[i]));
        char d[128];
        snprintf(d, sizeof d, "syntax error refused: '%s'", bad[i]);
        ok(ar == NULL, d);
        json_decref(ar);
    }
    bs_buf b;
    buf_init(&b);
    buf_puts(&b, "h;");
    for (int i = 0; i < 40; i++)
        buf_puts(&b, " spf=pass;");
    b.data[b.len - 1] = 0;
    b.len--;
    ar = auth_ar_parse(b.data, b.len);
    ok(ar == NULL, "more than 32 results refused (bounded)");
    buf_free(&b);
}

static void roundtrip(void)
{
    auth_results r = {.dkim = {.chosen = 0}};
    auth_dkim_sig sig = {AUTH_PASS, "good.test", "s1", "", NULL};
    r.dkim.sigs = &sig;
    r.dkim.nsigs = 1;
    r.spf = (auth_spf){AUTH_PASS, "good.test", ""};
    r.dmarc = (auth_dmarc){.result = AUTH_PASS,
                           .from_domain = "good.test",
                           .policy = DMARC_POLICY_REJECT,
                           .subdomain_policy = DMARC_POLICY_NONE,
                           .pct = 100,
                           .dkim_aligned = 1};
    bs_buf b;
    buf_init(&b);
    auth_ar_header(&r, "sink.test", "192.0.2.1", "pass", "mta.good.test", &b);
    buf_puts(&b, "Received: from x by sink.test; date\r\n"
                 "Authentication-Results: sink.test; dmarc=fail header.from=evil.test\r\n"
                 "\r\nbody\r\n");
    json_t *ar = auth_ar_from_trace(b.data, b.len, "sink.test");
    ok(ar != NULL, "our field above Received is trusted");
    is_str(res(ar, 0, "method"), "iprev", "iprev first");
    is_str(res(ar, 0, "policy.iprev"), "192.0.2.1", "iprev's IP");
    is_str(res(ar, 2, "header.d"), "good.test", "dkim d=");
    is_str(res(ar, 3, "result"), "pass", "dmarc result: ours, not the sender's");
    is_str(res(ar, 3, "policy.p"), "reject", "dmarc p=");
    is_str(res(ar, 3, "policy.sp"), "none", "dmarc sp=");
    is_str(res(ar, 3, "policy.dkim-aligned"), "yes", "dkim aligned");
    is_str(res(ar, 3, "policy.spf-aligned"), "no", "spf not aligned");
    json_decref(ar);
    ar = auth_ar_from_trace(b.data, b.len, "other.host");
    ok(ar == NULL, "another authserv-id is not trusted");
    json_decref(ar);
    const char *forged = "Received: from x by sink.test; date\r\n"
                         "Authentication-Results: sink.test; dmarc=pass header.from=x.test\r\n\r\n";
    ok(auth_ar_from_trace(forged, strlen(forged), "sink.test") == NULL,
       "a field below the topmost Received (the sender's) is not trusted");
    const char *noreceived = "Authentication-Results: sink.test; dmarc=pass header.from=x\r\n\r\n";
    ok(auth_ar_from_trace(noreceived, strlen(noreceived), "sink.test") == NULL,
       "without a Received field nothing is trusted");
    buf_free(&b);
}

static void dmarc(void)
{
    auth_results r;
    memset(&r, 0, sizeof r);
    r.dkim.chosen = -1;
    auth_dkim_sig sig = {AUTH_PASS, xstrdup("mail.good.test"), xstrdup("s1"), xstrdup(""), NULL};
    r.dkim.sigs = xcalloc(1, sizeof sig);
    r.dkim.sigs[0] = sig;
    r.dkim.nsigs = 1;
    r.dkim.chosen = 0;
    r.spf = (auth_spf){AUTH_PASS, xstrdup("esp.test"), xstrdup("")};
    auth_dmarc_eval(&r, "Good.Test", "v=DMARC1; p=quarantine; sp=reject; pct=50", 0, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_PASS, "relaxed: DKIM d=mail.good.test aligns with good.test");
    is_int(r.dmarc.policy, DMARC_POLICY_QUARANTINE, "p=quarantine");
    is_int(r.dmarc.subdomain_policy, DMARC_POLICY_REJECT, "sp=reject");
    is_int(r.dmarc.pct, 50, "pct=50");
    ok(r.dmarc.dkim_aligned && !r.dmarc.spf_aligned, "DKIM aligned, SPF (esp.test) not");
    is_str(r.dmarc.from_domain, "good.test", "From domain lower case");
    auth_dmarc_eval(&r, "good.test", "v=DMARC1; p=reject; adkim=s", 0, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_FAIL, "adkim=s: a subdomain's signature does not align: fail");
    is_int(r.dmarc.adkim, DMARC_ALIGN_STRICT, "adkim=s");
    auth_dmarc_eval(&r, "good.test", NULL, 0, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_NONE, "no record: none");
    auth_dmarc_eval(&r, "good.test", NULL, 1, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_TEMPERROR, "lookup failed: temperror");
    auth_dmarc_eval(&r, NULL, NULL, 0, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_PERMERROR, "no From domain: permerror");
    auth_dmarc_eval(&r, "good.test", "v=DMARC1; p=bogus", 0, "192.0.2.1");
    is_int(r.dmarc.result, AUTH_PERMERROR, "bad record: permerror");
    char org[256];
    auth_org_domain("a.b.example.co.uk", org, sizeof org);
    is_str(org, "example.co.uk", "organisational domain by the public suffix list");
    auth_results_clear(&r);
}

static void headers(void)
{
    const char *h = "From: \"A\" <a@Good.Test>\r\nMessage-ID: <x@y>\r\nDate: today\r\n"
                    "List-Unsubscribe: <https://u>\r\nList-Unsubscribe-Post: "
                    "List-Unsubscribe=One-Click\r\n\r\nFrom: not a header\r\n";
    auth_headers f;
    auth_dkim d = {.chosen = -1};
    auth_header_facts(h, strlen(h), &d, &f);
    is_int(f.from_count, 1, "one From (the body's does not count)");
    is_str(f.from_domain, "good.test", "From domain by GMime, lower case");
    ok(f.has_message_id && f.has_date, "Message-ID and Date");
    ok(f.list_unsubscribe && f.list_unsubscribe_post, "List-Unsubscribe and -Post present");
    ok(!f.list_unsubscribe_signed, "no passing signature: not signed");
    auth_headers_clear(&f);
    d.cover = (sig_cover){.pass = 1, .h = "From:List-Unsubscribe:List-Unsubscribe-Post", .l = -1};
    auth_header_facts(h, strlen(h), &d, &f);
    ok(f.list_unsubscribe_signed, "both covered by the passing signature: signed");
    auth_headers_clear(&f);
    d.cover.h = "From:List-Unsubscribe";
    auth_header_facts(h, strlen(h), &d, &f);
    ok(!f.list_unsubscribe_signed, "List-Unsubscribe-Post not in h=: not signed");
    auth_headers_clear(&f);
    const char *two = "From: a@x.test\r\nFrom: b@y.test\r\nSubject: s\r\n\r\n";
    auth_header_facts(two, strlen(two), NULL, &f);
    is_int(f.from_count, 2, "two From fields counted");
    ok(!f.has_message_id && !f.has_date && !f.list_unsubscribe, "absent fields");
    auth_headers_clear(&f);
}

int main(void)
{
    parse();
    roundtrip();
    dmarc();
    headers();
    return done_testing();
}
