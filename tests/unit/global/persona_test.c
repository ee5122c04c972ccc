/* Unit tests for src/global/persona.c: persona files (bouncy-sink-persona(5)), their
 * errors, the condition engine on filled facts, and the shipped personas. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "persona.h"
#include "tap.h"
#include "util.h"

static persona P;

static int parse(const char *text)
{
    char *err = NULL;
    persona_free(&P);
    int rc = persona_parse(text, strlen(text), "t", "t.persona", &P, &err);
    if (rc < 0) {
        printf("# %s\n", err);
        free(err);
    }
    return rc;
}

/* The error of a bad file, "" when it parses. */
static char errbuf[512];
static const char *error_of(const char *text)
{
    char *err = NULL;
    persona p;
    if (persona_parse(text, strlen(text), "t", "t.persona", &p, &err) == 0) {
        persona_free(&p);
        return "";
    }
    snprintf(errbuf, sizeof errbuf, "%s", err);
    free(err);
    return errbuf;
}

static long rates[PERSONA_NRATES];
static long last_window;
static long rate_of(void *ctx, persona_fact f, long window)
{
    (void)ctx;
    last_window = window;
    return rates[f - PF_NSCALAR];
}

static const char *match(persona_stage st, const persona_facts *f)
{
    const persona_rule *r = persona_match(&P, st, f);
    return r ? r->name : "-";
}

int main(void)
{
    bs_set_progname("persona_test");
    persona_facts f = {.rate = rate_of};

    /* conditions on results, yes/no facts, alternatives, not, and/or precedence */
    ok(parse("# comment\n"
             "param limit 3\n"
             "bulk $limit 24h\n"
             "rule unauth data spf != pass and dkim != pass => 550 5.7.26 Unauthenticated "
             "<CLIENT_IP>\n"
             "rule dmarc data dmarc = fail|temperror and dmarc_policy = reject => 550 5.7.1 "
             "DMARC <FROM_DOMAIN>\n"
             "rule unsub data bulk and not list_unsubscribe_post => 550 5.7.27 unsub\n"
             "rule ptr rcpt not ptr or not fcrdns => 550 5.7.25 no PTR for <CLIENT_IP>\n"
             "rule rate rcpt ip_msgs/60s >= $limit => 421 4.7.28 slow down\n"
             "rule big data (size > 1000 or from_count != 1) and tls => 552 5.3.4 big\n") == 0,
       "a persona with every kind of condition parses");
    is_int(P.nrules, 6, "6 rules");
    is_int(P.bulk_threshold, 3, "bulk threshold from $limit");
    is_int(P.bulk_window, 86400, "bulk window 24h");
    is_str(P.name, "t", "name");

    f.v[PF_SPF] = AUTH_FAIL;
    f.v[PF_DKIM] = AUTH_NONE;
    is_str(match(PST_DATA, &f), "unauth", "no SPF and no DKIM pass: unauth");
    f.v[PF_SPF] = AUTH_PASS;
    is_str(match(PST_DATA, &f), "-", "SPF pass: no rule");
    f.v[PF_DMARC] = AUTH_FAIL;
    f.v[PF_DMARC_POLICY] = DMARC_POLICY_REJECT;
    is_str(match(PST_DATA, &f), "dmarc", "DMARC fail with p=reject");
    f.v[PF_DMARC_POLICY] = DMARC_POLICY_NONE;
    is_str(match(PST_DATA, &f), "-", "DMARC fail with p=none: no rule");
    f.v[PF_DMARC] = AUTH_TEMPERROR;
    f.v[PF_DMARC_POLICY] = DMARC_POLICY_REJECT;
    is_str(match(PST_DATA, &f), "dmarc", "alternatives: temperror matches fail|temperror");
    f.v[PF_DMARC] = AUTH_PASS;

    rates[PF_DOMAIN_MSGS - PF_NSCALAR] = 2;
    is_str(match(PST_DATA, &f), "-", "below the bulk threshold: no unsubscribe rule");
    rates[PF_DOMAIN_MSGS - PF_NSCALAR] = 3;
    is_str(match(PST_DATA, &f), "unsub", "bulk sender without List-Unsubscribe-Post");
    is_int(last_window, 86400, "bulk counted over its window");
    f.v[PF_LIST_UNSUB_POST] = 1;
    is_str(match(PST_DATA, &f), "-", "bulk sender with List-Unsubscribe-Post");

    f.v[PF_PTR] = 1;
    f.v[PF_FCRDNS] = 0;
    is_str(match(PST_RCPT, &f), "ptr", "PTR without FCrDNS");
    f.v[PF_FCRDNS] = 1;
    is_str(match(PST_RCPT, &f), "-", "FCrDNS: no rule at rcpt");
    rates[PF_IP_MSGS - PF_NSCALAR] = 3;
    is_str(match(PST_RCPT, &f), "rate", "ip_msgs/60s >= 3");
    is_int(last_window, 60, "rate counted over 60 s");
    rates[PF_IP_MSGS - PF_NSCALAR] = 2;
    is_str(match(PST_RCPT, &f), "-", "ip_msgs/60s = 2: no rule");
    is_str(match(PST_MAIL, &f), "-", "no rule at mail");

    f.v[PF_SIZE] = 2000;
    f.v[PF_FROM_COUNT] = 1;
    is_str(match(PST_DATA, &f), "-", "parentheses: big but no TLS");
    f.v[PF_TLS] = 1;
    is_str(match(PST_DATA, &f), "big", "parentheses: big under TLS");
    f.v[PF_SIZE] = 10;
    f.v[PF_FROM_COUNT] = 2;
    is_str(match(PST_DATA, &f), "big", "two From fields");

    /* the facts the rules up to a stage name (what listen computes before them) */
    is_int(persona_facts_used(&P, PST_RCPT), 1UL << PF_PTR | 1UL << PF_FCRDNS | 1UL << PF_IP_MSGS,
           "facts named up to rcpt");
    ok(persona_facts_used(&P, PST_DATA) & 1UL << PF_SPF, "spf named at data");
    is_int(persona_facts_used(&P, PST_MAIL), 0, "none up to mail");

    /* reply texts */
    bs_buf b;
    buf_init(&b);
    persona_vars vars = {.client_ip = "192.0.2.7", .from_domain = "ex\r\nample.test"};
    persona_fill(&P.rules[0], &vars, &b);
    is_str(b.data, "Unauthenticated 192.0.2.7", "placeholder <CLIENT_IP> filled");
    buf_reset(&b);
    persona_fill(&P.rules[1], &vars, &b);
    is_str(b.data, "DMARC ex  ample.test", "CR LF in a value become blanks");
    buf_free(&b);
    is_int(P.rules[0].code, 550, "code");
    is_str(P.rules[0].enhanced, "5.7.26", "enhanced code");

    /* errors name FILE:LINE and say why */
    is_str(error_of("\nrule a data spf = maybe => 550 5.7.1 x\n"),
           "t.persona:2: spf cannot be 'maybe' (one of: none pass fail softfail neutral "
           "temperror permerror off)",
           "unknown word");
    is_str(error_of("rule a rcpt dkim = pass => 550 5.7.1 x\n"),
           "t.persona:1: fact dkim is not known at stage rcpt (from data on)",
           "a fact before its stage");
    is_str(error_of("rule a data always => 250 2.0.0 x\n"),
           "t.persona:1: reply code must be 4xx or 5xx", "2xx reply");
    is_str(error_of("rule a data always => 550 4.7.1 x\n"),
           "t.persona:1: enhanced status code 4.7.1 does not agree with reply code 550",
           "class mismatch");
    is_str(error_of("rule a data always => 550 5.7.1 <NOPE>\n"),
           "t.persona:1: unknown placeholder <NOPE>", "unknown placeholder");
    is_str(error_of("rule a data always => 550 5.7.1 x\nrule a data always => 550 5.7.1 y\n"),
           "t.persona:2: rule a defined twice (line 1)", "duplicate rule");
    is_str(error_of("rule a data ip_msgs > 3 => 421 4.7.0 x\n"),
           "t.persona:1: ip_msgs needs a window (ip_msgs/60s)", "rate without a window");
    is_str(error_of("rule a data (spf = pass => 421 4.7.0 x\n"), "t.persona:1: missing )",
           "missing )");
    is_str(error_of("rule a data spf = pass x => 421 4.7.0 x\n"),
           "t.persona:1: unexpected 'x ' in the condition", "trailing junk");
    is_str(error_of("rule a data size > $nope => 421 4.7.0 x\n"),
           "t.persona:1: unknown parameter $nope (a param line must come first)", "unknown param");
    is_str(error_of("rule a lunch always => 421 4.7.0 x\n"),
           "t.persona:1: stage 'lunch' is not connect, ehlo, mail, rcpt or data", "bad stage");
    is_str(error_of("# nothing\n"), "t.persona: no rules", "no rules");
    is_str(error_of("rules a data always => 421 4.7.0 x\n"),
           "t.persona:1: 'rule', 'param' or 'bulk' expected", "unknown keyword");
    is_str(error_of("rule a data ip_msgs/0s > 1 => 421 4.7.0 x\n"),
           "t.persona:1: bad window '0s' (e.g. 60s, 10m, 24h, 1d; at most 30 days)", "zero window");
    is_str(error_of("rule a data spf > pass => 421 4.7.0 x\n"),
           "t.persona:1: spf takes = or !=", "ordering on words");

    /* the shipped personas load, and each has rules */
    const char *root = getenv("ROOT");
    char *dir = xasprintf("%s/data/personas", root ? root : ".");
    DIR *d = opendir(dir);
    ok(d != NULL, "data/personas exists");
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 9 || strcmp(e->d_name + l - 8, ".persona") != 0)
            continue;
        char *path = xasprintf("%s/%s", dir, e->d_name);
        char *err = NULL;
        persona p;
        int rc = persona_load(path, &p, &err);
        char *desc = xasprintf("shipped %s loads", e->d_name);
        ok(rc == 0, desc);
        if (rc < 0) {
            printf("# %s\n", err);
            free(err);
        } else {
            ok(p.nrules >= 3, "and has rules");
            persona_free(&p);
        }
        free(desc);
        free(path);
        n++;
    }
    if (d)
        closedir(d);
    is_int(n, 3, "three shipped personas");

    /* reverse DNS in the shipped gmail and yahoo personas: a temporary failure is not a
     * missing PTR */
    char *path = xasprintf("%s/gmail.persona", dir);
    char *err = NULL;
    persona_free(&P);
    ok(persona_load(path, &P, &err) == 0, "gmail loads");
    free(path);
    persona_facts g = {0};
    g.v[PF_IPREV] = 4; /* temperror */
    is_str(match(PST_RCPT, &g), "ptr-temperror", "gmail: iprev temperror: 421 4.7.23 rule");
    g.v[PF_IPREV] = 3; /* permerror: no PTR */
    is_str(match(PST_RCPT, &g), "no-ptr", "gmail: no PTR: 550 5.7.25 rule");
    g.v[PF_IPREV] = 1;
    g.v[PF_PTR] = g.v[PF_FCRDNS] = 1;
    is_str(match(PST_RCPT, &g), "-", "gmail: iprev pass: no rcpt rule");
    path = xasprintf("%s/yahoo.persona", dir);
    persona_free(&P);
    ok(persona_load(path, &P, &err) == 0, "yahoo loads");
    free(path);
    g.v[PF_IPREV] = 4;
    is_str(match(PST_RCPT, &g), "-", "yahoo: iprev temperror: no rule");
    g.v[PF_IPREV] = 2;
    is_str(match(PST_RCPT, &g), "no-ptr", "yahoo: iprev fail: no-ptr");
    is_str(error_of("rule a rcpt iprev = maybe => 421 4.7.0 x\n"),
           "t.persona:1: iprev cannot be 'maybe' (one of: none pass fail permerror temperror)",
           "iprev words");
    free(dir);
    persona_free(&P);
    return done_testing();
}
