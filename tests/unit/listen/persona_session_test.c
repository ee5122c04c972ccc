/* Unit tests for listen's personas in the session (src/listen/personas.c and the hooks in
 * session.c): a recipient under a persona label gets the persona's rules at RCPT and at
 * the end of DATA, on facts a synchronous facts hook fills in; rates over a window with
 * the injectable clock; records of kind "persona"; mail that passes is spooled. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../src/listen/conf.h"
#include "../../../src/listen/personas.h"
#include "../../../src/listen/session.h"
#include "config.h"
#include "replies.h"
#include "tap.h"
#include "util.h"

static lconf cf;
static reply_table table;
static sess_env env;
static bs_buf records;
static int nfacts_jobs;

/* the facts the hook hands out */
static struct {
    int fcrdns_pass;
    auth_result spf, dkim;
    int unsub_signed;
} want;

static int real_spool(void *ctx, sess *s, spool_job *job)
{
    (void)ctx;
    (void)s;
    spool_run(job);
    return 0;
}
static void keep_record(void *ctx, char *line, size_t len)
{
    (void)ctx;
    buf_append(&records, line, len);
    buf_putc(&records, '\n');
    free(line);
}
static int not_full(void *ctx)
{
    (void)ctx;
    return 0;
}
static int sync_facts(void *ctx, sess *s, facts_job *job)
{
    (void)ctx;
    (void)s;
    nfacts_jobs++;
    listen_facts *o = &job->out;
    o->auth = (auth_results){.dkim = {.chosen = -1, .cover = {.l = -1}},
                             .spf = {.result = AUTH_OFF},
                             .dmarc = {.result = AUTH_OFF}};
    if (job->want & FACT_RDNS) {
        o->ptr = want.fcrdns_pass ? xstrdup("mta.sender.test") : NULL;
        o->fcrdns = want.fcrdns_pass ? FCRDNS_PASS : FCRDNS_NOPTR;
    }
    if (job->want & FACT_SPF)
        o->auth.spf = (auth_spf){want.spf, xstrdup("sender.test"), xstrdup("")};
    if (job->want & FACT_MESSAGE) {
        o->auth.dkim.sigs = xcalloc(1, sizeof *o->auth.dkim.sigs);
        o->auth.dkim.nsigs = 1;
        o->auth.dkim.chosen = 0;
        o->auth.dkim.sigs[0] =
            (auth_dkim_sig){want.dkim, xstrdup("sender.test"), xstrdup("s1"), xstrdup(""), NULL};
        o->auth.dmarc.from_domain = xstrdup("sender.test");
        o->from_count = 1;
        o->has_message_id = o->has_date = 1;
        o->list_unsubscribe = o->list_unsubscribe_post = want.unsub_signed;
        o->list_unsubscribe_signed = want.unsub_signed;
    }
    o->known = job->want;
    return 0;
}
static const sess_hooks hooks = {NULL, real_spool, keep_record, not_full, sync_facts};

static char *talk(const char *input)
{
    sess *s = sess_new(&env, &hooks, "192.0.2.7", 42);
    sess_greet(s);
    size_t i = 0, n = strlen(input);
    while (i < n && !(sess_flags(s) & SESS_CLOSE))
        i += sess_feed(s, input + i, n - i);
    char *out = xstrdup(sess_out(s)->data ? sess_out(s)->data : "");
    sess_free(s);
    return out;
}

static int spooled(void)
{
    int n = 0;
    DIR *d = opendir(cf.spool);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("%s/%s", cf.spool, e->d_name);
        unlink(p);
        free(p);
        n++;
    }
    if (d)
        closedir(d);
    return n;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

#define MSG(rcpt)                                                                                  \
    "EHLO mta.sender.test\r\nMAIL FROM:<news@sender.test>\r\nRCPT TO:<" rcpt ">\r\nDATA\r\n"       \
    "From: news@sender.test\r\nSubject: hi\r\n\r\nbody\r\n.\r\nQUIT\r\n"

static int has(const char *hay, const char *needle)
{
    int r = strstr(hay, needle) != NULL;
    if (!r)
        printf("# missing '%s' in:\n# %s\n", needle, hay);
    return r;
}

int main(void)
{
    bs_set_progname("persona_session_test");
    char tmpl[] = "/tmp/bs-persona-unit-XXXXXX";
    char *dir = xstrdup(mkdtemp(tmpl));
    char *pdir = xasprintf("%s/personas", dir), *spool = xasprintf("%s/spool", dir);
    char *clock = xasprintf("%s/clock", dir), *ini = xasprintf("%s/t.ini", dir);
    mkdir(pdir, 0700);
    mkdir(spool, 0700);
    char *pfile = xasprintf("%s/prov.persona", pdir);
    write_file(pfile, "param ip 4\n"
                      "bulk 5 24h\n"
                      "rule rate rcpt ip_msgs/60s >= $ip => 421 4.7.28 rate <CLIENT_IP>\n"
                      "rule ptr rcpt not ptr or not fcrdns => 550 5.7.25 no PTR <CLIENT_IP>\n"
                      "rule unauth data spf != pass and dkim != pass => 550 5.7.26 unauth "
                      "<MAIL_DOMAIN>\n"
                      "rule unsub data bulk and not list_unsubscribe_post => 550 5.7.1 unsub "
                      "<DKIM_DOMAIN>\n");
    write_file(clock, "0\n");
    char *text = xasprintf("[Listen]\nSink_Domains = sink.test\nHostname = mx.sink.test\n"
                           "Spool = %s\nFsync = no\n"
                           "InBand_Bounce_percent = 0\nClock_Offset_File = %s\n"
                           "[Sink]\nUpstream_Handled = 0\n"
                           "[Personas]\nDir = %s\nLabels = prov, other=prov\n",
                           spool, clock, pdir);
    write_file(ini, text);
    free(text);
    char *err = NULL;
    bs_config *cfg = cfg_load(ini, &err);
    ok(cfg && lconf_load(cfg, &cf) == 0, "config with [Personas] loads");
    if (!cf.personas) {
        printf("# %s\n", cfg ? cfg_error(cfg) : err);
        return done_testing();
    }
    cfg_free(cfg);
    is_int(cf.personas->n, 1, "one persona");
    is_int(cf.personas->nlabels, 2, "two labels");
    static const char t[] = "random_bounce:550 5.1.1 unknown\n";
    replies_parse(t, sizeof t - 1, "t", &table, &err);
    env = (sess_env){&cf, &table, 0, shape_new(&cf, &table)};
    buf_init(&records);

    /* a compliant sender: accepted and spooled, as any mail */
    want = (typeof(want)){1, AUTH_PASS, AUTH_PASS, 0};
    char *o = talk(MSG("a@prov.sink.test"));
    ok(has(o, "250 2.1.5 Ok\r\n") && has(o, "250 2.0.0 Ok: queued as"), "compliant: accepted");
    is_int(spooled(), 1, "compliant: spooled");
    ok(records.len == 0, "compliant: no persona record");
    ok(nfacts_jobs >= 2, "facts were asked for (RCPT, end of DATA)");
    free(o);

    /* not a persona recipient: no facts asked */
    int jobs = nfacts_jobs;
    o = talk(MSG("a@mixed.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as"), "a mixed recipient: accepted");
    is_int(nfacts_jobs, jobs, "a mixed recipient: no facts computed");
    spooled();
    free(o);

    /* no PTR: 550 5.7.25 at RCPT, the placeholder filled, a persona record */
    want.fcrdns_pass = 0;
    o = talk(MSG("b@other.sink.test"));
    ok(has(o, "550 5.7.25 no PTR 192.0.2.7\r\n"), "no PTR: 550 5.7.25 at RCPT (label other=prov)");
    ok(has(o, "554 5.5.1 Error: no valid recipients"), "no PTR: no recipient left for DATA");
    ok(has(records.data, "\"kind\":\"persona\"") && has(records.data, "\"persona\":\"prov\"") &&
           has(records.data, "\"rule\":\"ptr\"") && has(records.data, "\"stage\":\"rcpt\"") &&
           has(records.data, "\"code\":550") && has(records.data, "\"rcpt\":\"b@other.sink.test\""),
       "no PTR: the persona record");
    is_int(spooled(), 0, "no PTR: nothing spooled");
    buf_reset(&records);
    free(o);

    /* unauthenticated: 550 5.7.26 at the end of DATA */
    want = (typeof(want)){1, AUTH_FAIL, AUTH_NONE, 0};
    o = talk(MSG("c@prov.sink.test"));
    ok(has(o, "250 2.1.5 Ok\r\n") && has(o, "550 5.7.26 unauth sender.test\r\n"),
       "unauthenticated: RCPT accepted, 550 5.7.26 at the end of DATA");
    ok(has(records.data, "\"rule\":\"unauth\"") && has(records.data, "\"stage\":\"data\""),
       "unauthenticated: the record");
    is_int(spooled(), 0, "unauthenticated: nothing spooled");
    ok(has(o, "221 2.0.0 Bye"), "the session goes on after the refusal");
    buf_reset(&records);
    free(o);
    want.spf = AUTH_PASS;
    o = talk(MSG("c@prov.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as") && !strstr(o, "5.7.26"), "SPF pass alone: accepted");
    spooled();
    free(o);

    /* rates: 4 messages from 192.0.2.7 in this minute so far (one refused at RCPT did
     * not count); the next RCPT is deferred, a minute later accepted again */
    want.dkim = AUTH_PASS;
    o = talk(MSG("d@prov.sink.test"));
    ok(has(o, "421 4.7.28 rate 192.0.2.7\r\n"), "over the rate: 421 4.7.28 at RCPT");
    ok(!strstr(o, "221 2.0.0 Bye"), "421 closes the session");
    ok(has(records.data, "\"rule\":\"rate\""), "rate: the record");
    buf_reset(&records);
    free(o);
    write_file(clock, "65\n");
    o = talk(MSG("d@prov.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as"), "a minute later: accepted again");
    spooled();
    free(o);

    /* bulk: sender.test sent 2 messages signed in 24 h (threshold 2): now the
     * unsubscribe rule applies */
    write_file(clock, "200\n");
    o = talk(MSG("e@prov.sink.test"));
    ok(has(o, "550 5.7.1 unsub sender.test\r\n"), "bulk without List-Unsubscribe-Post: 550");
    free(o);
    want.unsub_signed = 1;
    o = talk(MSG("e@prov.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as"), "bulk with a signed List-Unsubscribe-Post: accepted");
    spooled();
    free(o);

    /* [Personas] Mixed: the mixed stream's recipients get the persona, other streams not */
    write_file(clock, "400000\n");
    want = (typeof(want)){0, AUTH_PASS, AUTH_PASS, 1};
    o = talk(MSG("m@mixed.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as"), "no Mixed persona: a mixed recipient accepted");
    free(o);
    cf.personas->mixed = 0;
    o = talk(MSG("m@mixed.sink.test"));
    ok(has(o, "550 5.7.25 no PTR"), "Mixed = prov: a mixed recipient gets it");
    free(o);
    o = talk(MSG("m@sink.test"));
    ok(has(o, "550 5.7.25 no PTR"), "Mixed = prov: the sink domain itself too");
    free(o);
    o = talk(MSG("m@accept.sink.test"));
    ok(has(o, "250 2.0.0 Ok: queued as"), "Mixed = prov: the accept stream does not");
    free(o);
    cf.personas->mixed = -1;
    spooled();

    /* errors: a bad persona file names FILE:LINE; an unknown persona in Labels */
    write_file(pfile, "rule a rcpt dkim = pass => 550 5.7.1 x\n");
    cfg = cfg_load(ini, &err);
    lconf c2;
    ok(lconf_load(cfg, &c2) < 0 && has(cfg_error(cfg), "prov.persona:1: fact dkim is not known "
                                                       "at stage rcpt"),
       "a bad persona file: FILE:LINE: why");
    cfg_free(cfg);
    lconf_free(&c2);
    write_file(pfile, "rule a rcpt always => 550 5.7.1 x\n");
    text = xasprintf("[Listen]\nSpool = %s\n[Personas]\nDir = %s\nLabels = gmail\n", spool, pdir);
    write_file(ini, text);
    free(text);
    cfg = cfg_load(ini, &err);
    ok(lconf_load(cfg, &c2) < 0 && has(cfg_error(cfg), "t.ini:5: [Personas] Labels: no persona "
                                                       "'gmail' in"),
       "an unknown persona in Labels");
    cfg_free(cfg);
    lconf_free(&c2);
    text = xasprintf("[Listen]\nSpool = %s\n[Personas]\nDir = %s/nope\n", spool, pdir);
    write_file(ini, text);
    free(text);
    cfg = cfg_load(ini, &err);
    ok(lconf_load(cfg, &c2) < 0 && has(cfg_error(cfg), "[Personas] Dir: cannot open"),
       "a missing Dir");
    cfg_free(cfg);
    lconf_free(&c2);

    shape_free(env.shape);
    replies_free(&table);
    lconf_free(&cf);
    buf_free(&records);
    unlink(pfile);
    unlink(clock);
    unlink(ini);
    rmdir(pdir);
    rmdir(spool);
    rmdir(dir);
    free(pfile);
    free(pdir);
    free(spool);
    free(clock);
    free(ini);
    free(dir);
    return done_testing();
}
