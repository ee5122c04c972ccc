/* model.c — loading and validating the statistical model; per-day derivation. */
#include "model.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"
#include "params.h"
#include "route.h"
#include "util.h"
#include "week.h"

static double clip01(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void model_free(decide_model *m)
{
    if (!m)
        return;
    free(m->source);
    free(m->weekly_open);
    free(m->weekly_bounce);
    free(m->weekly_purge);
    free(m->signals_prefix);
    free_strv(m->sink_domains, m->n_sink_domains);
    free_strv(m->user_agents, m->n_user_agents);
    free(m->user_agents_file);
    free(m);
}

/* ---- User-Agent CSV ---------------------------------------------------------------- */

/* RFC 4180 CSV: the first field of every row; quoted fields may hold commas, doubled
 * quotes and line breaks. Lines end in LF, CRLF or CR alike (lines.h): the original
 * system's file has classic-Mac CR line ends. */
int model_read_user_agents(const char *path, char ***out, size_t *n, char **why)
{
    *out = NULL;
    *n = 0;
    char *text;
    size_t text_len;
    if (bs_read_file(path, (size_t)16 << 20, &text, &text_len) < 0) {
        *why = xasprintf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    bs_buf field;
    buf_init(&field);
    char **v = NULL;
    size_t nv = 0;
    int quoted = 0, in_quotes = 0, field_no = 0, row = 0;
    bs_lines lines;
    bs_lines_init(&lines, text, text_len);
    const char *line;
    size_t len;
    while (bs_lines_next(&lines, &line, &len)) {
        for (size_t i = 0; i < len; i++) {
            char c = line[i];
            if (in_quotes) {
                if (c != '"') {
                    if (field_no == 0)
                        buf_putc(&field, c);
                } else if (i + 1 < len && line[i + 1] == '"') {
                    if (field_no == 0)
                        buf_putc(&field, '"');
                    i++;
                } else {
                    in_quotes = 0;
                }
            } else if (c == '"' && !quoted) {
                quoted = in_quotes = 1;
            } else if (c == ',') {
                field_no++;
            } else if (field_no == 0) {
                buf_putc(&field, c);
            }
        }
        if (in_quotes) { /* a line break inside a quoted field */
            if (field_no == 0)
                buf_putc(&field, '\n');
            continue;
        }
        char *ua = bs_trim(field.data ? field.data : (char *)"");
        row++;
        int header = row == 1 && bs_strcaseeq(ua, "Software");
        if (*ua && !header) {
            v = xrealloc(v, (nv + 1) * sizeof *v);
            v[nv++] = xstrdup(ua);
        }
        buf_reset(&field);
        field_no = 0;
        quoted = 0;
    }
    free(text);
    buf_free(&field);
    if (in_quotes || nv == 0) {
        *why = in_quotes ? xasprintf("%s: unterminated quoted field", path)
                         : xasprintf("%s: no User-Agent in the first column", path);
        free_strv(v, nv);
        return -1;
    }
    for (size_t i = 0; i < nv; i++) {
        for (const char *p = v[i]; *p; p++) {
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                *why = xasprintf("%s: User-Agent %zu contains a control character", path, i + 1);
                free_strv(v, nv);
                return -1;
            }
        }
        if (!bs_utf8_valid(v[i], strlen(v[i]))) {
            *why = xasprintf("%s: User-Agent %zu is not valid UTF-8", path, i + 1);
            free_strv(v, nv);
            return -1;
        }
    }
    *out = v;
    *n = nv;
    return 0;
}

/* ---- loading ----------------------------------------------------------------------- */

static int pct(bs_config *cfg, const char *key, double *out)
{
    return param_double_range(cfg, "Sink", key, 0, 100, out);
}

static int digit_days(bs_config *cfg, decide_model *m)
{
    int max = 0, sum = 0;
    for (int digit = 0; digit < 10; digit++) {
        char key[16];
        snprintf(key, sizeof key, "Digit%d_days", digit);
        const char *const *items;
        size_t n;
        if (cfg_list(cfg, "Sink", key, &items, &n) < 0)
            return -1;
        uint32_t set = 0;
        int never = 0;
        for (size_t i = 0; i < n; i++) {
            long day;
            if (bs_parse_long(items[i], &day) < 0)
                return cfg_fail(cfg, "Sink", key, "item %zu, '%s', is not a whole number", i + 1,
                                items[i]);
            if (day < 0 || day > 31)
                return cfg_fail(cfg, "Sink", key,
                                "item %zu, %ld, is not a day of the month (1-31, or 0 alone "
                                "for never)",
                                i + 1, day);
            if (day == 0)
                never = 1;
            else
                set |= (uint32_t)1 << day;
        }
        if (never && set)
            return cfg_fail(cfg, "Sink", key, "0 (never) cannot be combined with days");
        m->digit_days[digit] = set;
        m->digit_count[digit] = __builtin_popcount(set);
        sum += m->digit_count[digit];
        if (m->digit_count[digit] > max)
            max = m->digit_count[digit];
    }
    if (!m->signals_prefix) {
        m->density = 1;
        return 0;
    }
    if (max == 0)
        return cfg_fail(cfg, "Sink", "Signals_Traffic_Prefix",
                        "set, but no Digit0_days..Digit9_days lists a day, so the digit "
                        "density is 0/0");
    m->density = (double)sum / (10.0 * max);
    return 0;
}

/* A conditional probability a|b of the percentages (SPEC A4.3). */
static int check_conditional(bs_config *cfg, const char *akey, double a, const char *bkey, double b,
                             const char *name)
{
    if (b == 0)
        return cfg_fail(cfg, "Sink", bkey, "0 makes %s = %s / %s a division by zero", name, akey,
                        bkey);
    if (a / b > 1)
        return cfg_fail(cfg, "Sink", akey, "%g > %s %g: %s = %g is outside [0, 1]", a, bkey, b,
                        name, a / b);
    return 0;
}

static int load(bs_config *cfg, decide_model *m)
{
    if (pct(cfg, "OOB_percent", &m->oob_pct) < 0 || pct(cfg, "FBL_percent", &m->fbl_pct) < 0 ||
        pct(cfg, "Open_percent", &m->open_pct) < 0 ||
        pct(cfg, "Open_Again_percent", &m->open_again_pct) < 0 ||
        pct(cfg, "Click_percent", &m->click_pct) < 0 ||
        pct(cfg, "Click_Again_percent", &m->click_again_pct) < 0 ||
        pct(cfg, "Upstream_Handled", &m->upstream_handled) < 0)
        return -1;
    m->share = 1 - m->upstream_handled / 100;
    if (m->share <= 0)
        return cfg_fail(cfg, "Sink", "Upstream_Handled",
                        "100 leaves this process no traffic (share = 1 - %g/100 = 0 is a "
                        "divisor)",
                        m->upstream_handled);
    m->p_oob = m->oob_pct / 100 / m->share;
    m->p_fbl = m->fbl_pct / 100 / m->share;
    m->p_open = m->open_pct / 100 / m->share;
    m->p_open_again = m->open_again_pct / 100 / m->share;
    m->p_click = m->click_pct / 100 / m->share;
    m->p_click_again = m->click_again_pct / 100 / m->share;
    if (check_conditional(cfg, "Open_Again_percent", m->open_again_pct, "Open_percent", m->open_pct,
                          "OpenAgain|Open") < 0 ||
        check_conditional(cfg, "Click_percent", m->click_pct, "Open_percent", m->open_pct,
                          "Click|Open") < 0 ||
        check_conditional(cfg, "Click_Again_percent", m->click_again_pct, "Click_percent",
                          m->click_pct, "ClickAgain|Click") < 0)
        return -1;

    if (week_cycle_load(cfg, "Weekly_Cycle_Open_Rate", 0, HUGE_VAL, &m->weekly_open,
                        &m->n_weekly_open) < 0 ||
        week_cycle_load(cfg, "Weekly_Cycle_Bounce_Rate", 0, 100, &m->weekly_bounce,
                        &m->n_weekly_bounce) < 0 ||
        week_cycle_load(cfg, "Weekly_Cycle_Suppressions_Purge", -HUGE_VAL, HUGE_VAL,
                        &m->weekly_purge, &m->n_weekly_purge) < 0)
        return -1;

    const char *prefix;
    cfg_string(cfg, "Sink", "Signals_Traffic_Prefix", NULL, &prefix);
    m->signals_prefix = prefix && *prefix ? xstrdup(prefix) : NULL;
    if (digit_days(cfg, m) < 0)
        return -1;

    /* [Listen] Sink_Domains, as listen reads it */
    if (route_sink_domains(cfg, &m->sink_domains, &m->n_sink_domains) < 0)
        return -1;
    const char *const *items;
    size_t n;

    /* [Decide] */
    char **def = NULL; /* the table's default: the direct streams that send mail back */
    size_t ndef = 0;
    if (cfg_get(cfg, "Decide", "SPF_Required")) {
        if (cfg_list(cfg, "Decide", "SPF_Required", &items, &n) < 0)
            return -1;
    } else {
        ndef = param_default_list("Decide", "SPF_Required", &def);
        items = (const char *const *)def;
        n = ndef;
    }
    m->spf_required = 0;
    if (n == 1 && bs_strcaseeq(items[0], "none")) /* an empty value is the default */
        n = 0;
    for (size_t i = 0; i < n; i++) {
        int found = 0;
        for (int s = 0; s < STREAM_COUNT; s++) {
            if (bs_strcaseeq(items[i], route_labels[s])) {
                m->spf_required |= 1u << s;
                found = 1;
            }
        }
        if (!found) {
            int rc = cfg_fail(cfg, "Decide", "SPF_Required",
                              "'%s' is not a stream (mixed, accept, oob, fbl, openclick, unsub, "
                              "ooto), or none alone",
                              items[i]);
            free_strv(def, ndef);
            return rc;
        }
    }
    free_strv(def, ndef);
    if (param_double_range(cfg, "Decide", "Unsubscribe_percent", 0, 100, &m->unsubscribe_pct) < 0)
        return -1;
    if (param_double_range(cfg, "Decide", "OOTO_percent", 0, 100, &m->ooto_pct) < 0)
        return -1;
    const char *seed = cfg_get(cfg, "Decide", "Seed");
    if (seed) {
        char *end;
        errno = 0;
        while (*seed == ' ')
            seed++;
        unsigned long long v = strtoull(seed, &end, 10);
        if (*seed < '0' || *seed > '9' || errno || *end)
            return cfg_fail(cfg, "Decide", "Seed", "'%s' is not a whole number 0-%llu", seed,
                            (unsigned long long)UINT64_MAX);
        m->have_seed = 1;
        m->seed = (uint64_t)v;
    }

    if (timing_load(cfg, &m->timing) < 0)
        return -1;

    /* User agents, last: the file is only read for an otherwise good configuration. */
    const char *ua_file = NULL, *ua_default;
    if (cfg_get(cfg, "Sink", "User_Agents_File"))
        param_file(cfg, "Sink", "User_Agents_File", &ua_file);
    else
        param_file(cfg, "Sink", "User_Agents_File", &ua_default);
    char *why = NULL;
    if (ua_file) {
        if (model_read_user_agents(ua_file, &m->user_agents, &m->n_user_agents, &why) < 0) {
            cfg_fail(cfg, "Sink", "User_Agents_File", "%s", why);
            free(why);
            return -1;
        }
    } else if (model_read_user_agents(ua_default, &m->user_agents, &m->n_user_agents, &why) < 0) {
        cfg_fail(cfg, "Sink", "User_Agents_File", "not set, and the fallback: %s", why);
        free(why);
        return -1;
    }
    m->user_agents_file = xstrdup(ua_file ? ua_file : ua_default);
    return 0;
}

decide_model *model_load(bs_config *cfg, char **err)
{
    decide_model *m = xcalloc(1, sizeof *m);
    m->source = xstrdup(cfg_path(cfg));
    *err = NULL;
    if (load(cfg, m) < 0) {
        *err = xstrdup(cfg_error(cfg));
        model_free(m);
        return NULL;
    }
    return m;
}

/* ---- per day ----------------------------------------------------------------------- */

static double ratio(double a, double b, double fallback)
{
    return b > 0 ? clip01(a / b) : fallback;
}

void model_day_compute(const decide_model *m, double now, model_day *d)
{
    memset(d, 0, sizeof *d);
    d->second = (time_t)floor(now);
    struct tm tm;
    localtime_r(&d->second, &tm);
    d->mday = tm.tm_mday;
    week_iso(&tm, &d->isoweek, &d->isoweekday);
    d->index = -1;
    d->weekly_open_rate = 1;
    if (m->n_weekly_open) {
        d->index = (int)week_index(&tm, m->n_weekly_open);
        d->weekly_open_rate = m->weekly_open[d->index];
    }
    d->factor = clip01(d->weekly_open_rate / m->density);
    d->oob = clip01(m->p_oob);
    d->fbl = clip01(m->p_fbl);
    d->open = clip01(m->p_open * d->factor);
    d->open_again = clip01(m->p_open_again * d->factor);
    d->click = clip01(m->p_click * d->factor);
    d->click_again = clip01(m->p_click_again * d->factor);
    /* When the day's divisor is 0 the branch is never entered; the undamped ratio is
     * shown instead (it is the same as long as nothing is clipped). */
    d->open_again_given_open = ratio(d->open_again, d->open, m->p_open_again / m->p_open);
    d->click_given_open = ratio(d->click, d->open, m->p_click / m->p_open);
    d->click_again_given_click = ratio(d->click_again, d->click, m->p_click_again / m->p_click);
    d->unsubscribe = m->unsubscribe_pct / 100;
    d->ooto = m->ooto_pct / 100;
}

/* ---- reporting --------------------------------------------------------------------- */

static json_t *dlist(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

json_t *model_params_json(const decide_model *m, const model_day *d)
{
    json_t *p = json_object();
    json_object_set_new(p, "OOB_percent", json_real(m->oob_pct));
    json_object_set_new(p, "FBL_percent", json_real(m->fbl_pct));
    json_object_set_new(p, "Open_percent", json_real(m->open_pct));
    json_object_set_new(p, "Open_Again_percent", json_real(m->open_again_pct));
    json_object_set_new(p, "Click_percent", json_real(m->click_pct));
    json_object_set_new(p, "Click_Again_percent", json_real(m->click_again_pct));
    json_object_set_new(p, "Upstream_Handled", json_real(m->upstream_handled));
    json_object_set_new(p, "Weekly_Cycle_Open_Rate", dlist(m->weekly_open, m->n_weekly_open));
    json_object_set_new(p, "Weekly_Cycle_Bounce_Rate", dlist(m->weekly_bounce, m->n_weekly_bounce));
    json_object_set_new(p, "Weekly_Cycle_Suppressions_Purge",
                        dlist(m->weekly_purge, m->n_weekly_purge));
    json_object_set_new(p, "Signals_Traffic_Prefix",
                        m->signals_prefix ? json_string(m->signals_prefix) : json_null());
    json_t *days = json_array();
    for (int i = 0; i < 10; i++)
        json_array_append_new(days, json_integer(m->digit_count[i]));
    json_object_set_new(p, "digit_day_counts", days);
    json_t *sinks = json_array();
    for (size_t i = 0; i < m->n_sink_domains; i++)
        json_array_append_new(sinks, json_string(m->sink_domains[i]));
    json_object_set_new(p, "Sink_Domains", sinks);
    json_t *spf = json_array();
    for (int s = 0; s < STREAM_COUNT; s++)
        if (m->spf_required & (1u << s))
            json_array_append_new(spf, json_string(route_labels[s]));
    json_object_set_new(p, "SPF_Required", spf);
    json_object_set_new(p, "Unsubscribe_percent", json_real(m->unsubscribe_pct));
    json_object_set_new(p, "OOTO_percent", json_real(m->ooto_pct));
    json_object_set_new(p, "User_Agents_File", json_string(m->user_agents_file));
    json_object_set_new(p, "user_agents", json_integer((json_int_t)m->n_user_agents));
    json_object_set_new(p, "share", json_real(m->share));
    json_object_set_new(p, "p_oob", json_real(m->p_oob));
    json_object_set_new(p, "p_fbl", json_real(m->p_fbl));
    json_object_set_new(p, "p_open", json_real(m->p_open));
    json_object_set_new(p, "p_open_again", json_real(m->p_open_again));
    json_object_set_new(p, "p_click", json_real(m->p_click));
    json_object_set_new(p, "p_click_again", json_real(m->p_click_again));
    json_object_set_new(p, "density", json_real(m->density));
    json_t *t = json_object();
    json_object_set_new(t, "day_of_month", json_integer(d->mday));
    json_object_set_new(t, "isoweek", json_integer(d->isoweek));
    json_object_set_new(t, "isoweekday", json_integer(d->isoweekday));
    json_object_set_new(t, "index", d->index >= 0 ? json_integer(d->index) : json_null());
    json_object_set_new(t, "weekly_open_rate", json_real(d->weekly_open_rate));
    json_object_set_new(t, "factor", json_real(d->factor));
    json_object_set_new(t, "oob", json_real(d->oob));
    json_object_set_new(t, "fbl", json_real(d->fbl));
    json_object_set_new(t, "open", json_real(d->open));
    json_object_set_new(t, "open_again", json_real(d->open_again));
    json_object_set_new(t, "click", json_real(d->click));
    json_object_set_new(t, "click_again", json_real(d->click_again));
    json_object_set_new(t, "open_again_given_open", json_real(d->open_again_given_open));
    json_object_set_new(t, "click_given_open", json_real(d->click_given_open));
    json_object_set_new(t, "click_again_given_click", json_real(d->click_again_given_click));
    json_object_set_new(t, "unsubscribe", json_real(d->unsubscribe));
    json_object_set_new(t, "ooto", json_real(d->ooto));
    json_object_set_new(p, "today", t);
    if (m->timing.enabled) { /* only then: params records without [Timing] stay as they were */
        json_t *tm = json_object();
        json_object_set_new(tm, "Time_Scale", json_real(m->timing.time_scale));
        for (int i = 0; i < TA_COUNT; i++) {
            char text[160];
            timing_format(&m->timing.dist[i], text, sizeof text);
            json_object_set_new(tm, timing_keys[i], json_string(text));
        }
        json_object_set_new(p, "Timing", tm);
    }
    return p;
}

char *model_params_text(const decide_model *m, const model_day *d)
{
    return xasprintf("params (%s): OOB=%g FBL=%g Open=%g OpenAgain=%g Click=%g ClickAgain=%g "
                     "share=%g density=%g day=%d index=%d factor=%g -> oob=%g fbl=%g open=%g "
                     "open_again=%g click=%g click_again=%g OpenAgain|Open=%g Click|Open=%g "
                     "ClickAgain|Click=%g unsubscribe=%g ooto=%g user_agents=%zu%s",
                     m->source, m->oob_pct, m->fbl_pct, m->open_pct, m->open_again_pct,
                     m->click_pct, m->click_again_pct, m->share, m->density, d->mday, d->index,
                     d->factor, d->oob, d->fbl, d->open, d->open_again, d->click, d->click_again,
                     d->open_again_given_open, d->click_given_open, d->click_again_given_click,
                     d->unsubscribe, d->ooto, m->n_user_agents, m->have_seed ? " seeded" : "");
}
