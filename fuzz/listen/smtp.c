/* Fuzz target: arbitrary client bytes into the SMTP session state machine, fed in
 * chunks whose sizes come from the input, with spooling and records faked in memory;
 * the input also picks Bare_Newline (normalize or reject), so both DATA and command
 * line-end paths are covered. The input's length picks the facts (facts.h): off, a
 * synchronous job, an asynchronous one that finishes, or one given up; the fake job
 * computes the real header facts of the message (auth_header_facts), so the From
 * parser and the Authentication-Results writer see hostile input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/listen/conf.h"
#include "../../src/listen/session.h"
#include "../../src/listen/shape.h"
#include "config.h"
#include "replies.h"
#include "util.h"

static lconf cf;
static reply_table table;
static sess_env env;
static int spool_fail;

static int fake_spool(void *ctx, sess *s, spool_job *job)
{
    (void)ctx;
    (void)s;
    job->err = spool_fail ? 28 : 0;
    return 0;
}
static void drop_record(void *ctx, char *line, size_t len)
{
    (void)ctx;
    (void)len;
    free(line);
}
static int never_full(void *ctx)
{
    (void)ctx;
    return 0;
}
static int facts_mode; /* 0 off, 1 synchronous, 2 asynchronous, 3 given up */
static facts_job *held;
static int fake_facts(void *ctx, sess *s, facts_job *job)
{
    (void)ctx;
    (void)s;
    listen_facts *o = &job->out;
    if (job->want & FACT_RDNS) {
        o->fcrdns = FCRDNS_PASS;
        o->ptr = xstrdup("ptr.test");
    }
    o->auth.spf.result = AUTH_OFF;
    o->auth.dmarc.result = AUTH_OFF;
    if (job->want & FACT_MESSAGE) {
        auth_headers h;
        auth_header_facts(job->msg, job->msg_len, &o->auth.dkim, &h);
        o->from_count = h.from_count;
        /* the From domain, as hostile as it comes, into the A-R field */
        o->auth.dmarc = (auth_dmarc){.result = AUTH_NONE,
                                     .from_domain = h.from_domain ? xstrdup(h.from_domain) : NULL};
        auth_headers_clear(&h);
    }
    if (facts_mode >= 2) {
        held = job;
        return 1;
    }
    return 0;
}
static const sess_hooks hooks = {NULL, fake_spool, drop_record, never_full, fake_facts};

static void init(void)
{
    bs_config *cfg = cfg_empty();
    if (lconf_load(cfg, &cf) < 0)
        abort();
    cfg_free(cfg);
    cf.upstream_handled = 50;
    cf.inband_percent = 50;
    cf.max_message_size = 4096;
    cf.max_recipients = 100;
    /* shaping on: greylist (small table, retries pass), throttles, slow replies */
    cf.greylist_percent = 20;
    cf.greylist_delay = 0;
    cf.greylist_max_entries = 64;
    cf.th_max_entries = 64;
    cf.th_max_per_conn = 5;
    cf.th_max_per_minute = 1000;
    cf.slow_percent = 30;
    static const char t[] = "random_bounce:550 5.1.1 <<RCPT_USER>@<RCPT_DOMAIN>>: unknown <ORIG>\n"
                            "random_bounce:452 4.2.2 full <HEXDUMP> <RCPT_SERVER>\n"
                            "random_bounce:421 4.7.0 go away <SENDER_IPADDRESS>\n";
    char *err;
    if (replies_parse(t, sizeof t - 1, "fuzz", &table, &err) < 0)
        abort();
    env = (sess_env){&cf, &table, 1, shape_new(&cf, &table)};
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        init();
        inited = 1;
    }
    if (size < 1)
        return 0;
    /* first byte: bit 0 spool failure, bit 7 Bare_Newline = reject, bits 1-6 chunk size */
    spool_fail = data[0] & 1;
    cf.bare_newline = data[0] & 0x80 ? BARE_NEWLINE_REJECT : BARE_NEWLINE_NORMALIZE;
    size_t chunk = 1 + ((data[0] >> 1) & 0x3f);
    data++;
    size--;
    facts_mode = (int)(size % 4);
    cf.facts_all = facts_mode != 0;
    sess *s = sess_new(&env, &hooks, "192.0.2.1", size);
    sess_greet(s);
    size_t i = 0;
    while (i < size) {
        size_t n = size - i < chunk ? size - i : chunk;
        size_t used = sess_feed(s, (const char *)data + i, n);
        if (held) {
            if (!(sess_flags(s) & SESS_BLOCKED))
                abort();
            facts_job *j = held;
            held = NULL;
            if (facts_mode == 3) {
                facts_job_free(j);
                j = NULL;
            }
            sess_facts_done(s, j);
            if (sess_flags(s) & SESS_BLOCKED)
                abort(); /* the fake spool is synchronous */
        }
        if (sess_flags(s) & SESS_DELAY) {
            long ms;
            size_t mark;
            sess_delay(s, &ms, &mark);
            if (mark > sess_out(s)->len || ms < 0)
                abort();
            sess_delay_done(s);
        }
        buf_reset(sess_out(s));
        if (sess_flags(s) & SESS_CLOSE)
            break;
        if (sess_flags(s) & SESS_STARTTLS)
            sess_tls_started(s);
        if (used > n)
            abort();
        i += used;
    }
    sess_free(s);
    return 0;
}
