/* Unit tests for src/global/dsn.c: RFC 3461 xtext, the DSN and SMTPUTF8 parameters of
 * MAIL and RCPT, listen's trace field and who may write it, the record fields. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dsn.h"
#include "tap.h"
#include "util.h"

static int param(dsn_params *p, const char *tok, dsn_where where, const char **why)
{
    return dsn_param(p, tok, strlen(tok), where, why);
}

int main(void)
{
    bs_set_progname("dsn_test");
    const char *why = NULL;
    size_t n;

    /* xtext */
    char *d = dsn_xtext_decode("a+2Bb+3Dc", 9, &n);
    is_str(d, "a+b=c", "xtext: +2B and +3D decode");
    free(d);
    ok(!dsn_xtext_decode("a+2", 3, &n), "xtext: a cut hexchar is malformed");
    ok(!dsn_xtext_decode("a+2b", 4, &n), "xtext: lower-case hex is malformed (RFC 3461)");
    ok(!dsn_xtext_decode("a=b", 3, &n), "xtext: a bare = is malformed");
    ok(!dsn_xtext_decode("a b", 3, &n), "xtext: a blank is malformed");
    bs_buf b;
    buf_init(&b);
    dsn_xtext_encode("a+b=c d\xce\xb4", &b);
    is_str(b.data, "a+2Bb+3Dc+20d+CE+B4", "xtext: encode escapes +, =, blank, 8-bit");
    buf_free(&b);

    /* MAIL */
    dsn_params m = {0};
    is_int(param(&m, "RET=hdrs", DSN_AT_MAIL, &why), 1, "RET=hdrs taken (any case)");
    is_int(m.ret, DSN_RET_HDRS, "RET=HDRS");
    is_int(param(&m, "RET=FULL", DSN_AT_MAIL, &why), -1, "RET twice: error");
    is_str(why, "RET given twice", "RET twice: why");
    is_int(param(&m, "ENVID=QQ+2B1", DSN_AT_MAIL, &why), 1, "ENVID taken");
    is_str(m.envid, "QQ+1", "ENVID decoded");
    is_int(param(&m, "SMTPUTF8", DSN_AT_MAIL, &why), 1, "SMTPUTF8 taken");
    is_int(param(&m, "SIZE=10", DSN_AT_MAIL, &why), 0, "SIZE is not a DSN parameter");
    is_int(param(&m, "NOTIFY=NEVER", DSN_AT_MAIL, &why), 0, "NOTIFY is not a MAIL parameter");
    dsn_params m2 = {0};
    is_int(param(&m2, "RET=ALL", DSN_AT_MAIL, &why), -1, "RET=ALL refused");
    is_int(param(&m2, "SMTPUTF8=yes", DSN_AT_MAIL, &why), -1, "SMTPUTF8 with a value refused");
    char envid[160];
    memset(envid, 'x', sizeof envid);
    memcpy(envid, "ENVID=", 6);
    envid[6 + 101] = 0;
    is_int(param(&m2, envid, DSN_AT_MAIL, &why), -1, "ENVID of 101 characters refused");
    envid[6 + 100] = 0;
    is_int(param(&m2, envid, DSN_AT_MAIL, &why), 1, "ENVID of 100 characters taken");
    dsn_params_clear(&m2);
    is_int(param(&m2, "ENVID=a+0Ab", DSN_AT_MAIL, &why), -1, "ENVID decoding to a LF refused");
    is_int(param(&m2, "ENVID=a+00b", DSN_AT_MAIL, &why), -1, "ENVID decoding to a NUL refused");
    is_int(param(&m2, "ENVID=", DSN_AT_MAIL, &why), -1, "empty ENVID refused");

    /* RCPT */
    dsn_params r = {0};
    is_int(param(&r, "NOTIFY=success,Failure", DSN_AT_RCPT, &why), 1, "NOTIFY list taken");
    is_int(r.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "NOTIFY bits");
    is_int(param(&r, "ORCPT=rfc822;a+40b.test", DSN_AT_RCPT, &why), 1, "ORCPT taken");
    is_str(r.orcpt, "a@b.test", "ORCPT decoded");
    is_str(r.orcpt_type, "rfc822", "ORCPT type");
    is_int(param(&r, "RET=HDRS", DSN_AT_RCPT, &why), 0, "RET is not an RCPT parameter");
    dsn_params r2 = {0};
    const char *bad_notify[] = {
        "NOTIFY=NEVER,SUCCESS", "NOTIFY=SUCCESS,SUCCESS", "NOTIFY=", "NOTIFY",
        "NOTIFY=SOMETIMES",     "NOTIFY=SUCCESS,"};
    for (size_t i = 0; i < sizeof bad_notify / sizeof bad_notify[0]; i++)
        is_int(param(&r2, bad_notify[i], DSN_AT_RCPT, &why), -1, bad_notify[i]);
    is_int(param(&r2, "NOTIFY=NEVER", DSN_AT_RCPT, &why), 1, "NOTIFY=NEVER alone taken");
    const char *bad_orcpt[] = {"ORCPT=a@b",    "ORCPT=;a@b",         "ORCPT=rfc822;",
                               "ORCPT=rf c;a", "ORCPT=rfc822;a+0Db", "ORCPT=rfc822;\xce\xb4@b"};
    for (size_t i = 0; i < sizeof bad_orcpt / sizeof bad_orcpt[0]; i++)
        is_int(param(&r2, bad_orcpt[i], DSN_AT_RCPT, &why), -1, bad_orcpt[i]);
    is_int(param(&r2, "ORCPT=utf-8;\xce\xb4@b", DSN_AT_RCPT, &why), 1,
           "ORCPT utf-8 type takes UTF-8");
    dsn_params_clear(&r2);

    /* the trace field: round trip, and only above listen's Received field */
    buf_init(&b);
    buf_puts(&b, "Return-Path: <a@b>\r\n" DSN_TRACE_FIELD ": ");
    dsn_params_format(&m, &r, &b);
    buf_puts(&b, "\r\nReceived: from x by y; date\r\nSubject: s\r\n");
    ok(strstr(b.data, DSN_TRACE_FIELD ": RET=HDRS ENVID=QQ+2B1 NOTIFY=SUCCESS,FAILURE "
                                      "ORCPT=rfc822;a@b.test SMTPUTF8\r\n") != NULL,
       "trace field words");
    dsn_params t = {0};
    is_int(dsn_from_trace(b.data, b.len, &t, &why), 1, "trace field read back");
    is_str(t.envid, "QQ+1", "trace: ENVID");
    is_str(t.orcpt, "a@b.test", "trace: ORCPT");
    is_int(t.notify, DSN_NOTIFY_SUCCESS | DSN_NOTIFY_FAILURE, "trace: NOTIFY");
    is_int(t.ret, DSN_RET_HDRS, "trace: RET");
    ok(t.smtputf8, "trace: SMTPUTF8");
    json_t *rec = json_object();
    dsn_params_json(&t, rec);
    char *js = json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
    is_str(js,
           "{\"dsn\":{\"envid\":\"QQ+1\",\"notify\":[\"SUCCESS\",\"FAILURE\"],\"orcpt\":"
           "\"rfc822;a@b.test\",\"ret\":\"HDRS\"},\"smtputf8\":true}",
           "record fields");
    free(js);
    json_decref(rec);
    dsn_params_clear(&t);
    buf_free(&b);

    const char *sender_copy =
        "Return-Path: <a@b>\r\nReceived: from x by y; date\r\n" DSN_TRACE_FIELD
        ": NOTIFY=NEVER\r\nSubject: s\r\n";
    is_int(dsn_from_trace(sender_copy, strlen(sender_copy), &t, &why), 0,
           "a field below listen's Received field does not count");
    const char *no_received = DSN_TRACE_FIELD ": NOTIFY=NEVER\r\nSubject: s\r\n";
    is_int(dsn_from_trace(no_received, strlen(no_received), &t, &why), 0,
           "no Received field: nothing is listen's");
    const char *folded = DSN_TRACE_FIELD ": NOTIFY=NEVER\r\n RET=FULL\r\nReceived: x; d\r\n";
    is_int(dsn_from_trace(folded, strlen(folded), &t, &why), -1, "a folded field is malformed");
    const char *junk = DSN_TRACE_FIELD ": SIZE=10\r\nReceived: x; d\r\n";
    is_int(dsn_from_trace(junk, strlen(junk), &t, &why), -1, "a non-DSN word is malformed");
    dsn_params_clear(&t);
    dsn_params_clear(&m);
    dsn_params_clear(&r);
    return done_testing();
}
