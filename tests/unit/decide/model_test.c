/* Unit tests for decide: model derivation, ISO week index, User-Agent CSV, routing,
 * first address, the generator, and the fast scanner against jansson. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "decider.h"
#include "model.h"
#include "params.h"
#include "plan.h"
#include "record.h"
#include "scan.h"
#include "tap.h"
#include "util.h"
#include "week.h"

static char *write_tmp(const char *text)
{
    char *path = xstrdup("/tmp/bs-decide-test-XXXXXX");
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static decide_model *model_from(const char *ini, char **err)
{
    char *path = write_tmp(ini);
    char *lerr = NULL;
    bs_config *cfg = cfg_load(path, &lerr);
    decide_model *m = NULL;
    if (cfg)
        m = model_load(cfg, err);
    else
        *err = lerr;
    cfg_free(cfg);
    unlink(path);
    free(path);
    return m;
}

static int near(double a, double b)
{
    return fabs(a - b) < 1e-12;
}

static double at(const char *iso)
{
    double t = 0;
    bs_parse_time(iso, &t);
    return t;
}

static void derivation(void)
{
    char *err = NULL;
    decide_model *m = model_from("[Sink]\n"
                                 ""
                                 "OOB_percent = 1\nFBL_percent = 0.5\nOpen_percent = 20\n"
                                 "Open_Again_percent = 5\nClick_percent = 8\n"
                                 "Click_Again_percent = 2\nUpstream_Handled = 60\n"
                                 "Signals_Traffic_Prefix = sig\n"
                                 "Digit0_days = 1,2,3,4\nDigit1_days = 1,2\nDigit2_days = 0\n"
                                 "Weekly_Cycle_Open_Rate = 0.1,0.2,0.3,0.4,0.5,0.6,0.7,"
                                 "0.8,0.9,1,1,1,1,1.2\n",
                                 &err);
    ok(m != NULL, "model loads");
    if (!m) {
        printf("# %s\n", err);
        free(err);
        return;
    }
    /* share = 1 - 60/100 = 0.4 */
    ok(near(m->share, 0.4), "share = 1 - Upstream_Handled/100");
    ok(near(m->p_oob, 0.01 / 0.4) && near(m->p_fbl, 0.005 / 0.4) && near(m->p_open, 0.5) &&
           near(m->p_open_again, 0.125) && near(m->p_click, 0.2) && near(m->p_click_again, 0.05),
       "X = X_percent/100/share");
    /* density = (4 + 2 + 0) / (10 * 4) = 0.15 */
    ok(near(m->density, 0.15), "density = sum|days| / (10 max|days|), 0 alone = 0 days");
    is_int(m->digit_count[2], 0, "Digit2_days = 0: never");
    ok(m->digit_days[1] == ((1u << 1) | (1u << 2)), "Digit1_days bit set");
    ok(m->n_user_agents == 50, "50 user agents from the reference CSV");

    model_day d;
    setenv("TZ", "UTC", 1);
    tzset();
    /* 2026-11-24: Tuesday, ISO week 48 (48 mod 2 = 0): index 1, rate 0.2 */
    model_day_compute(m, at("2026-11-24T12:00:00Z"), &d);
    is_int(d.index, 1, "Tue week 48: index (2-1) + (48 mod 2)*7 = 1");
    is_int(d.mday, 24, "day of month");
    ok(near(d.factor, 0.2 / 0.15 > 1 ? 1 : 0.2 / 0.15), "factor = clip01(rate/density)");
    /* 2026-12-05: Saturday, week 49 (odd): index 5 + 7 = 12, rate 1 */
    model_day_compute(m, at("2026-12-05T12:00:00Z"), &d);
    is_int(d.index, 12, "Sat week 49: index 5 + 7 = 12");
    /* 2026-11-23: Monday, week 48: index 0, rate 0.1: factor 0.1/0.15 */
    model_day_compute(m, at("2026-11-23T12:00:00Z"), &d);
    is_int(d.index, 0, "Mon week 48: index 0");
    ok(near(d.factor, 0.1 / 0.15), "factor below 1");
    ok(near(d.open, 0.5 * 0.1 / 0.15) && near(d.click_again, 0.05 * 0.1 / 0.15),
       "Open..ClickAgain scaled by the factor");
    ok(near(d.oob, 0.025) && near(d.fbl, 0.0125), "OOB and FBL not scaled");
    ok(near(d.open_again_given_open, 0.25) && near(d.click_given_open, 0.4) &&
           near(d.click_again_given_click, 0.25),
       "conditionals OpenAgain/Open, Click/Open, ClickAgain/Click");
    /* Local time: 2026-11-23T23:30Z is already Tuesday in UTC-14. */
    setenv("TZ", "UTC-14", 1);
    tzset();
    model_day_compute(m, at("2026-11-23T23:30:00Z"), &d);
    is_int(d.index, 1, "day and week in local time (TZ)");
    is_int(d.mday, 24, "day of month in local time");
    setenv("TZ", "UTC", 1);
    tzset();
    model_free(m);
}

static void clipping(void)
{
    char *err = NULL;
    /* Production-like: Open = 0.55/0.5 = 1.1, clipped; conditionals from clipped values. */
    decide_model *m = model_from("[Sink]\n", &err);
    ok(m != NULL, "defaults load");
    if (!m) {
        free(err);
        return;
    }
    model_day d;
    model_day_compute(m, at("2026-11-23T12:00:00Z"), &d);
    ok(near(m->p_open, 1.1) && near(d.open, 1), "Open 1.1 clipped to 1");
    ok(near(d.open_again_given_open, 0.2), "OpenAgain|Open = 0.2/1 after clipping");
    is_int(d.index, -1, "no Weekly_Cycle_Open_Rate: no index");
    ok(near(d.factor, 1), "no Weekly_Cycle_Open_Rate: factor 1");
    model_free(m);
}

static void iso_weeks(void)
{
    static const struct {
        int y, mon, mday, week, wday;
    } cases[] = {{2026, 1, 1, 1, 4},   {2027, 1, 1, 53, 5}, {2027, 1, 4, 1, 1},
                 {2024, 12, 30, 1, 1}, {2021, 1, 3, 53, 7}, {2026, 11, 24, 48, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tm tm = {0};
        tm.tm_year = cases[i].y - 1900;
        tm.tm_mon = cases[i].mon - 1;
        tm.tm_mday = cases[i].mday;
        tm.tm_hour = 12;
        time_t t = timegm(&tm);
        gmtime_r(&t, &tm);
        int week, wday;
        week_iso(&tm, &week, &wday);
        char desc[80];
        snprintf(desc, sizeof desc, "ISO week of %04d-%02d-%02d is %d, weekday %d", cases[i].y,
                 cases[i].mon, cases[i].mday, cases[i].week, cases[i].wday);
        ok(week == cases[i].week && wday == cases[i].wday, desc);
    }
}

static void user_agents(void)
{
    char *path = write_tmp("\xEF\xBB\xBFSoftware,OS\n"
                           "\"Agent, with comma\",x\n"
                           "Plain/1.0,y\r\n"
                           "\n"
                           "\"Quoted \"\"q\"\"\",z\n"
                           "Last/2.0");
    char **ua;
    size_t n;
    char *why = NULL;
    int rc = model_read_user_agents(path, &ua, &n, &why);
    ok(rc == 0 && n == 4, "CSV: BOM, header skipped, blank line skipped, no final newline");
    if (rc == 0 && n == 4) {
        is_str(ua[0], "Agent, with comma", "CSV: quoted comma");
        is_str(ua[1], "Plain/1.0", "CSV: CRLF");
        is_str(ua[2], "Quoted \"q\"", "CSV: doubled quotes");
        is_str(ua[3], "Last/2.0", "CSV: last line");
    }
    for (size_t i = 0; rc == 0 && i < n; i++)
        free(ua[i]);
    if (rc == 0)
        free(ua);
    free(why);
    unlink(path);
    free(path);
    /* A line break inside a quoted field would end up in a request header: refused. */
    path = write_tmp("Software\n\"Multi\nline\",x\n");
    why = NULL;
    ok(model_read_user_agents(path, &ua, &n, &why) == -1 && why && strstr(why, "control character"),
       "CSV: User-Agent with a line break refused");
    free(why);
    unlink(path);
    free(path);
}

static void routing(void)
{
    char *err = NULL;
    decide_model *m =
        model_from("[Sink]\n"
                   "[Listen]\nSink_Domains = Bouncy-Sink.test, sink.example, oob.sink.example\n",
                   &err);
    ok(m != NULL, "model with three sink domains");
    if (!m) {
        free(err);
        return;
    }
    static const struct {
        const char *addr;
        enum stream s;
    } cases[] = {
        {"a@accept.bouncy-sink.test", STREAM_ACCEPT},
        {"a@OOB.bouncy-sink.test", STREAM_OOB},
        {"a@fbl.a.b.bouncy-sink.test", STREAM_FBL},
        {"a@openclick.bouncy-sink.test.", STREAM_OPENCLICK},
        {"a@unsub.bouncy-sink.test", STREAM_UNSUB},
        {"a@inband.bouncy-sink.test", STREAM_MIXED},
        {"a@bouncy-sink.test", STREAM_MIXED},
        {"a@accept.elsewhere.test", STREAM_MIXED},
        {"a@acceptbouncy-sink.test", STREAM_MIXED},
        {"a@oob.sink.example", STREAM_MIXED},
        {"a@fbl.oob.sink.example", STREAM_FBL},
        {"a@accept.sink.example", STREAM_ACCEPT},
        {"no-at-sign", STREAM_MIXED},
        {"weird@@accept.bouncy-sink.test", STREAM_ACCEPT},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char desc[96];
        snprintf(desc, sizeof desc, "route %s -> %s", cases[i].addr, route_labels[cases[i].s]);
        is_int(plan_route(m, cases[i].addr, strlen(cases[i].addr)), cases[i].s, desc);
    }
    model_free(m);

    static const struct {
        const char *field, *want;
    } addrs[] = {
        {"a@x.test", "a@x.test"},
        {"  <a@x.test> ", "a@x.test"},
        {"\"Doe, J\" <j@x.test>, k@y.test", "j@x.test"},
        {"k@y.test, \"Doe\" <j@x.test>", "k@y.test"},
        {"(comment, <c@c>) d@x.test", "(comment, <c@c>) d@x.test"},
        {", , z@x.test", "z@x.test"},
        {"Name <unterminated@x.test", "unterminated@x.test"},
        {"", NULL},
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        span f = {addrs[i].field, strlen(addrs[i].field)};
        span a = plan_first_address(f);
        char *got = a.p ? xstrndup(a.p, a.n) : NULL;
        char desc[96];
        snprintf(desc, sizeof desc, "first address of '%s'", addrs[i].field);
        is_str(got, addrs[i].want, desc);
        free(got);
    }
}

static void generator(void)
{
    rng a, b;
    rng_for_message(&a, 1, "id1", 3);
    rng_for_message(&b, 1, "id1", 3);
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= bs_rng_next(&a) == bs_rng_next(&b);
    ok(same, "same seed and id: same sequence");
    rng_for_message(&b, 2, "id1", 3);
    ok(bs_rng_next(&a) != bs_rng_next(&b), "another seed: another sequence");
    rng_for_message(&a, 1, "id1", 3);
    rng_for_message(&b, 1, "id2", 3);
    ok(bs_rng_next(&a) != bs_rng_next(&b), "another id: another sequence");
    /* xoshiro256** reference: state {1,2,3,4} gives 11520 as the first output. */
    rng r = {{1, 2, 3, 4}};
    ok(bs_rng_next(&r) == 11520, "xoshiro256** reference output");
    double lo = 1, hi = 0, sum = 0;
    size_t counts[5] = {0};
    bs_rng_seed(&r, 7);
    for (int i = 0; i < 100000; i++) {
        double u = bs_rng_uniform(&r);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
        counts[bs_rng_below(&r, 5)]++;
    }
    ok(lo >= 0 && hi < 1 && fabs(sum / 100000 - 0.5) < 0.005, "uniform in [0,1), mean 0.5");
    int flat = 1;
    for (int i = 0; i < 5; i++)
        flat &= counts[i] > 19000 && counts[i] < 21000;
    ok(flat, "bs_rng_below(5) roughly flat");
}

/* The fast scanner accepts only what rec_parse_line accepts, with the same fields. */
static void scanner(void)
{
    static const char *lines[] = {
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\"}",
        " { \"v\" : 1 , \"kind\" : \"inband\" , \"id\" : \"a\" } ",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":[1,-2.5,true,false,null,{},[]],"
        "\"envelope\":{\"rcpt\":\"r@x\"},\"headers\":{\"to\":\"t@x\",\"list_unsubscribe\":\"<u>\","
        "\"list_unsubscribe_post\":\"p\"},\"dkim\":{\"result\":\"pass\",\"reason\":\"\"},"
        "\"spf\":{\"result\":\"off\"},\"error\":\"e\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"caf\xc3\xa9\",\"s\":\"\\u00e9\\n\\\"\"}",
        "{\"v\":1.0,\"kind\":\"message\",\"id\":\"a\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"id\":\"b\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":1e5}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\\u0000\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\\ud800\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\xc0\xaf\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\xed\xa0\x80\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":01}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":1.}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":12345678901234567890}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\"} x",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":[1,]}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":tru}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"tab\there\"}",
        "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"headers\":{\"to\":\"a\\u0040b\"}}",
        "{\"v\":1,\"kind\":\"m\\u0065ssage\",\"id\":\"a\"}",
        "[{\"v\":1}]",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        const char *l = lines[i];
        scan_out so;
        int fast = scan_record(l, strlen(l), &so);
        const char *why;
        json_t *rec = rec_parse_line(l, strlen(l), "t", 1, &why);
        char desc[160];
        snprintf(desc, sizeof desc, "scanner agrees with jansson on line %zu", i + 1);
        int good = 1;
        if (fast) {
            good = why == NULL;
            msg_view v;
            msg_view_from_json(rec, &v);
#define SAME(f) (so.v.f.p ? v.f.p && so.v.f.n == v.f.n && !memcmp(so.v.f.p, v.f.p, v.f.n) : !v.f.p)
            good = good && SAME(id) && SAME(rcpt) && SAME(to) && SAME(dkim_result) &&
                   SAME(dkim_reason) && SAME(spf_result) && SAME(error) && SAME(list_unsubscribe) &&
                   SAME(list_unsubscribe_post) && so.v.has_dkim == v.has_dkim &&
                   so.is_message == (strcmp(rec_kind(rec), "message") == 0);
#undef SAME
        }
        ok(good, desc);
        json_decref(rec);
    }
    const char *l = "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\\u00e9\"}";
    scan_out so;
    ok(scan_record(l, strlen(l), &so) == 1, "fast path taken for escapes in other fields");
    l = "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":12345678901234567890}";
    ok(scan_record(l, strlen(l), &so) == 0, "slow path for long integers");
}

/* Not set: the values of the table of settings (src/global/params.c), not decide's own. */
static void table_defaults(void)
{
    char *err = NULL;
    decide_model *m = model_from("[Decide]\nSeed = 1\n", &err);
    ok(m != NULL, "defaults: model loads");
    if (!m) {
        printf("# %s\n", err);
        free(err);
        return;
    }
    char **sinks;
    size_t nsinks = param_default_list("Listen", "Sink_Domains", &sinks);
    int same = m->n_sink_domains == nsinks;
    for (size_t i = 0; same && i < nsinks; i++)
        same = strcmp(m->sink_domains[i], sinks[i]) == 0;
    ok(nsinks > 0 && same, "defaults: Sink_Domains as the table has it");
    for (size_t i = 0; i < nsinks; i++)
        free(sinks[i]);
    free(sinks);
    ok(m->spf_required == (1u << STREAM_OOB | 1u << STREAM_FBL | 1u << STREAM_OOTO),
       "defaults: SPF_Required is the table's oob, fbl, ooto");
    ok(m->oob_pct == strtod(param_default("Sink", "OOB_percent"), NULL) &&
           m->fbl_pct == strtod(param_default("Sink", "FBL_percent"), NULL) &&
           m->upstream_handled == strtod(param_default("Sink", "Upstream_Handled"), NULL),
       "defaults: the percentages are the table's");
    char *ua = xasprintf("%s/%s", params_data_dir(), param_default("Sink", "User_Agents_File"));
    is_str(m->user_agents_file, ua,
           "defaults: User_Agents_File is the table's, in the data directory");
    free(ua);
    model_free(m);
}

int main(void)
{
    bs_set_progname("model_test");
    derivation();
    table_defaults();
    clipping();
    iso_weeks();
    user_agents();
    routing();
    generator();
    scanner();
    return done_testing();
}
