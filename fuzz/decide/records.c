/* libFuzzer target: decide's record path. Every line of the input goes through
 * decider_line (fast scanner or jansson, then the plan); the output must be valid records,
 * one per non-blank line. Differential check: when the fast scanner accepts a line,
 * jansson must accept it too, with the same fields and the same plan. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/decide/decider.h"
#include "../../src/decide/model.h"
#include "../../src/decide/plan.h"
#include "../../src/decide/scan.h"
#include "config.h"
#include "record.h"
#include "util.h"

static decider dc;
static int ready;

static void setup(void)
{
    char ua[] = "/tmp/bs-fuzz-decide-ua-XXXXXX", ini[] = "/tmp/bs-fuzz-decide-ini-XXXXXX";
    int fd = mkstemp(ua);
    FILE *fp = fdopen(fd, "w");
    fputs("Software,OS\n\"Agent/1.0 (x, y)\",z\nOther/2.0\n", fp);
    fclose(fp);
    fd = mkstemp(ini);
    fp = fdopen(fd, "w");
    fprintf(fp,
            "[Sink]\nUser_Agents_File = %s\nOOB_percent = 5\nFBL_percent = 5\n"
            "Open_percent = 30\nSignals_Traffic_Prefix = test\nDigit1_days = 1,2,3\n"
            "Digit2_days = 4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25\n"
            "Weekly_Cycle_Open_Rate = 1,0.5,1,1,1,0.2,1\n"
            "[Listen]\nSink_Domains = bouncy-sink.test, b.test, a.b.test\n"
            "[Decide]\nSPF_Required = oob, fbl, mixed\nUnsubscribe_percent = 50\n",
            ua);
    fclose(fp);
    char *err = NULL;
    bs_config *cfg = cfg_load(ini, &err);
    decide_model *m = cfg ? model_load(cfg, &err) : NULL;
    if (!m) {
        fprintf(stderr, "fuzz setup: %s\n", err);
        abort();
    }
    cfg_free(cfg);
    unlink(ua);
    unlink(ini);
    bs_set_progname("decide-fuzz");
    decider_init(&dc, m, "fuzz");
    decider_force_seed(&dc, 1);
    decider_freeze_clock(&dc, 1795000000.0);
    ready = 1;
}

static void check_output(const bs_buf *out)
{
    const char *p = out->data, *end = out->data + out->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            abort(); /* every record ends with a newline */
        const char *why;
        json_t *rec = rec_parse_line(p, (size_t)(nl - p), "out", 1, &why);
        if (why) {
            fprintf(stderr, "bad output record: %s: %.*s\n", why, (int)(nl - p), p);
            abort();
        }
        json_decref(rec);
        p = nl + 1;
    }
}

static void differential(const char *line, size_t len)
{
    scan_out so;
    if (!scan_record(line, len, &so))
        return;
    const char *why;
    json_t *rec = rec_parse_line(line, len, "fuzz", 1, &why);
    if (why) {
        fprintf(stderr, "scanner accepted what jansson refuses (%s)\n", why);
        abort();
    }
    if (so.is_message != (strcmp(rec_kind(rec), "message") == 0))
        abort();
    msg_view v;
    msg_view_from_json(rec, &v);
    bs_buf a, b;
    buf_init(&a);
    buf_init(&b);
    const model_day *d = decider_day(&dc);
    plan_make(dc.model, d, dc.seed, &so.v, &a);
    plan_make(dc.model, d, dc.seed, &v, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
        fprintf(stderr, "plans differ:\n%s\n%s\n", a.data, b.data);
        abort();
    }
    buf_free(&a);
    buf_free(&b);
    json_decref(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready)
        setup();
    bs_buf out;
    buf_init(&out);
    const char *p = (const char *)data, *end = p + size;
    unsigned long lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        lineno++;
        if (len) {
            size_t before = out.len;
            decider_line(&dc, p, len, lineno, &out);
            if (out.len == before)
                abort(); /* never drop a record */
            differential(p, len);
        }
        p += len + (nl ? 1 : 0);
    }
    check_output(&out);
    buf_free(&out);
    return 0;
}
