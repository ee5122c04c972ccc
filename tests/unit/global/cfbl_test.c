/* Unit tests for src/global/cfbl.c: RFC 9477 section 3.1 alignment of CFBL-Address with
 * the From domain through the passing DKIM signatures that cover it. */
#include <jansson.h>
#include <string.h>

#include "cfbl.h"
#include "tap.h"
#include "util.h"

/* A DKIM outcome of up to two signatures "d|h|pass" */
static auth_dkim dk(const char *d1, const char *h1, int p1, const char *d2, const char *h2)
{
    auth_dkim d = {0};
    static auth_dkim_sig s[2];
    memset(s, 0, sizeof s);
    s[0] = (auth_dkim_sig){p1 ? AUTH_PASS : AUTH_FAIL, (char *)d1, (char *)"s1", (char *)"",
                           (char *)h1};
    d.sigs = s;
    d.nsigs = 1;
    if (d2) {
        s[1] = (auth_dkim_sig){AUTH_PASS, (char *)d2, (char *)"s2", (char *)"", (char *)h2};
        d.nsigs = 2;
    }
    return d;
}

static int check(const char *block, auth_dkim d, cfbl_result *r)
{
    return cfbl_check(block, strlen(block), &d, r);
}

int main(void)
{
    bs_set_progname("cfbl_test");
    cfbl_result r;
    const char *h = "from:to:subject:cfbl-address:cfbl-feedback-id";

    is_int(check("From: a@x.test\r\nSubject: s\r\n", dk("x.test", h, 1, NULL, NULL), &r), 0,
           "no CFBL-Address: 0");

    const char *same = "From: News <news@example.test>\r\nCFBL-Address: fbl@example.test; "
                       "report=arf\r\nCFBL-Feedback-ID: 111:222\r\nSubject: s\r\n";
    is_int(check(same, dk("example.test", h, 1, NULL, NULL), &r), 1, "identical domains: found");
    ok(r.aligned, "identical domains, d= the From domain: aligned");
    is_str(r.address, "fbl@example.test", "the address without its report parameter");
    is_str(r.feedback_id, "111:222", "the feedback id");
    json_t *rec = json_object();
    cfbl_json(&r, rec);
    char *js = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
    is_str(js,
           "{\"cfbl\":{\"address\":\"fbl@example.test\",\"aligned\":true,\"feedback_id\":"
           "\"111:222\"}}",
           "record field");
    free(js);
    json_decref(rec);
    cfbl_clear(&r);

    check(same, dk("mailer.example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "identical domains, d= another domain: not aligned");
    is_str(r.why, "no covering DKIM signature aligned with the From domain", "why");
    cfbl_clear(&r);
    check(same, dk("example.test", "from:to:subject:cfbl-address", 1, NULL, NULL), &r);
    ok(!r.aligned, "CFBL-Feedback-ID not covered: not aligned");
    is_str(r.why, "no valid DKIM signature covers CFBL-Address and CFBL-Feedback-ID", "why");
    cfbl_clear(&r);
    check(same, dk("example.test", h, 0, NULL, NULL), &r);
    ok(!r.aligned, "a failing signature covers nothing");
    cfbl_clear(&r);

    const char *child = "From: news@example.test\r\nCFBL-Address: fbl@fb.example.test\r\n";
    check(child, dk("example.test", h, 1, NULL, NULL), &r);
    ok(r.aligned, "CFBL domain under the From domain, d= the From domain: aligned");
    cfbl_clear(&r);
    const char *child2 =
        "From: news@mailer.example.test\r\nCFBL-Address: fbl@fb.mailer.example.test\r\n";
    check(child2, dk("example.test", h, 1, NULL, NULL), &r);
    ok(r.aligned, "d= a parent of the From domain: aligned");
    cfbl_clear(&r);
    check(child, dk("fb.example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "d= the CFBL domain only (not the From's): not aligned");
    cfbl_clear(&r);

    const char *third = "From: news@example.test\r\nCFBL-Address: fbl@esp.test\r\n";
    check(third, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "third-party CFBL domain with the From signature only: not aligned");
    cfbl_clear(&r);
    check(third, dk("example.test", h, 1, "esp.test", h), &r);
    ok(r.aligned, "third-party CFBL domain with both signatures: aligned");
    cfbl_clear(&r);
    check(third, dk("esp.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "third-party CFBL domain with its own signature only: not aligned");
    cfbl_clear(&r);
    check(third, dk("example.test", h, 1, "esp.test", "from:to"), &r);
    ok(!r.aligned, "the third party's signature must cover CFBL-Address");
    cfbl_clear(&r);
    const char *lookalike = "From: news@example.test\r\nCFBL-Address: fbl@badexample.test\r\n";
    check(lookalike, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "badexample.test is not under example.test");
    cfbl_clear(&r);

    /* only the covered instance: a field added above the signed one is another instance */
    const char *two = "CFBL-Address: evil@example.test\r\nFrom: news@example.test\r\n"
                      "CFBL-Address: fbl@example.test\r\n";
    check(two, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "two CFBL-Address fields: ignored");
    is_str(r.why, "more than one CFBL-Address field", "why");
    cfbl_clear(&r);
    const char *folded = "From: news@example.test\r\nCFBL-Address:\r\n fbl@example.test\r\n";
    check(folded, dk("example.test", h, 1, NULL, NULL), &r);
    ok(r.aligned && r.address && strcmp(r.address, "fbl@example.test") == 0,
       "a folded value is unfolded");
    cfbl_clear(&r);
    const char *list =
        "From: news@example.test\r\nCFBL-Address: a@example.test, b@example.test\r\n";
    check(list, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned && !r.address, "a list is not one mailbox");
    cfbl_clear(&r);
    const char *json = "From: news@example.test\r\nCFBL-Address: fbl@example.test; report=json\r\n";
    check(json, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "report=json: not ours");
    cfbl_clear(&r);
    const char *twofrom =
        "From: a@example.test\r\nFrom: b@other.test\r\nCFBL-Address: fbl@example.test\r\n";
    check(twofrom, dk("example.test", h, 1, NULL, NULL), &r);
    ok(!r.aligned, "two From fields: not aligned");
    cfbl_clear(&r);
    return done_testing();
}
