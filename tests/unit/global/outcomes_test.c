/* Unit tests for src/global/outcomes.c: codes to record values and back, and the rule
 * for records written before the codes existed. */
#include <stdio.h>
#include <string.h>

#include "outcomes.h"
#include "tap.h"

int main(void)
{
    for (bs_skip c = BS_SKIP_NONE; c < BS_SKIP_OTHER; c++) {
        const char *n = bs_skip_name(c);
        char d[64];
        snprintf(d, sizeof d, "skip code %d <-> \"%s\"", (int)c, n ? n : "(null)");
        ok(n != NULL && bs_skip_parse(c == BS_SKIP_NONE ? NULL : n) == c, d);
    }
    for (bs_http_error c = BS_HTTP_OK; c < BS_HTTP_OTHER; c++) {
        const char *n = bs_http_error_name(c);
        char d[64];
        snprintf(d, sizeof d, "http code %d <-> \"%s\"", (int)c, n ? n : "(null)");
        ok(n != NULL && bs_http_error_parse(c == BS_HTTP_OK ? NULL : n) == c, d);
    }
    int distinct = 1;
    for (bs_smtp_status a = 0; a < BS_SMTP_NSTATUS; a++)
        for (bs_smtp_status b = 0; b < BS_SMTP_NSTATUS; b++)
            if (!bs_smtp_status_name(a) ||
                (a != b && strcmp(bs_smtp_status_name(a), bs_smtp_status_name(b)) == 0))
                distinct = 0;
    ok(distinct, "every act-smtp status has a name, each a different one");
    int rdistinct = strcmp(bs_read_error_name(BS_READ_OK), "") == 0;
    for (bs_read_error a = 1; a < BS_READ_NCODES; a++)
        for (bs_read_error b = 1; b < BS_READ_NCODES; b++)
            if (!*bs_read_error_name(a) ||
                (a != b && strcmp(bs_read_error_name(a), bs_read_error_name(b)) == 0))
                rdistinct = 0;
    ok(rdistinct, "every ingest read error has a name, each a different one; none for OK");
    ok(strcmp(bs_read_error_name(BS_READ_NCODES), "") == 0, "an out-of-range code has no name");
    ok(strcmp(bs_smtp_status_name(BS_SMTP_RETURN_PATH_NOT_SPARKPOST),
              "return_path_not_sparkpost") == 0,
       "return_path_not_sparkpost as documented");
    ok(bs_smtp_status_name(BS_SMTP_NSTATUS) == NULL, "no name past the list");
    ok(strcmp(bs_skip_name(BS_SKIP_DKIM_FAIL), "dkim_fail") == 0, "dkim_fail as documented");
    ok(strcmp(bs_http_error_name(BS_HTTP_POLICY_REFUSED), "policy_refused") == 0,
       "policy_refused as documented");
    ok(bs_skip_name(BS_SKIP_OTHER) == NULL && bs_http_error_name(BS_HTTP_OTHER) == NULL,
       "no record value for OTHER");
    ok(bs_skip_parse("newer_gate") == BS_SKIP_OTHER, "unknown skip name: OTHER");
    ok(bs_skip_parse("") == BS_SKIP_OTHER, "empty skip name: OTHER");
    ok(bs_http_error_parse("newer") == BS_HTTP_OTHER, "unknown http name: OTHER");

    /* Old records: report's rule before the codes. */
    ok(bs_skip_from_text(NULL) == BS_SKIP_NONE, "no skip text: NONE");
    ok(bs_skip_from_text("!DKIM fail: no signature") == BS_SKIP_DKIM_FAIL, "!DKIM: dkim_fail");
    ok(bs_skip_from_text("!SPF fail: softfail") == BS_SKIP_SPF_FAIL, "!SPF: spf_fail");
    ok(bs_skip_from_text("!dkim lower case") == BS_SKIP_OTHER, "the old rule was case-sensitive");
    ok(bs_skip_from_text("!No one-click unsubscribe") == BS_SKIP_OTHER, "other text: OTHER");
    ok(bs_http_error_from_text(NULL) == BS_HTTP_OK, "no error: OK");
    ok(bs_http_error_is_refusal(bs_http_error_from_text("Fetch REFUSED: x")),
       "text mentioning refused (any case) counts as a refusal");
    ok(!bs_http_error_is_refusal(bs_http_error_from_text("timeout")), "other text: not");
    ok(bs_http_error_is_refusal(BS_HTTP_POLICY_REFUSED) &&
           bs_http_error_is_refusal(BS_HTTP_CONNECTION_REFUSED) &&
           !bs_http_error_is_refusal(BS_HTTP_TRANSPORT) && !bs_http_error_is_refusal(BS_HTTP_OK),
       "refusals: policy and connection");
    return done_testing();
}
