/* timing.c — the [Timing] distributions (see timing.h). */
#include "timing.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "util.h"

static const char *bs_trim_const(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

const char *const timing_action_names[TA_COUNT] = {
    "open", "open_again", "click", "click_again", "unsubscribe", "oob", "fbl", "ooto"};
const char *const timing_keys[TA_COUNT] = {"Open",        "Open_Again", "Click", "Click_Again",
                                           "Unsubscribe", "OOB",        "FBL",   "OOTO"};
const enum timing_action timing_after[TA_COUNT] = {TA_COUNT, TA_OPEN,  TA_OPEN,  TA_CLICK,
                                                   TA_COUNT, TA_COUNT, TA_COUNT, TA_COUNT};

enum timing_action timing_action_find(const char *name)
{
    for (int i = 0; i < TA_COUNT; i++)
        if (strcmp(name, timing_action_names[i]) == 0)
            return (enum timing_action)i;
    return TA_COUNT;
}

int timing_duration(const char *text, double *out)
{
    while (*text == ' ' || *text == '\t')
        text++;
    if (!(isdigit((unsigned char)*text) || *text == '.'))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || !isfinite(v) || v < 0)
        return -1;
    double unit = 1;
    switch (*end) {
    case 's':
        end++;
        break;
    case 'm':
        unit = 60;
        end++;
        break;
    case 'h':
        unit = 3600;
        end++;
        break;
    case 'd':
        unit = 86400;
        end++;
        break;
    }
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end)
        return -1;
    v *= unit;
    if (v > 3650.0 * 86400) /* ten years: anything longer is a typo */
        return -1;
    *out = v;
    return 0;
}

#define MAX_WORDS 5
#define WORD_MAX 64

int timing_parse(const char *text, timing_dist *d, char *why, size_t whylen)
{
    char w[MAX_WORDS][WORD_MAX];
    int n = 0;
    const char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, " \t");
        if (n == MAX_WORDS || len >= WORD_MAX) {
            snprintf(why, whylen, "too many or too long words (see bouncy-sink.ini(5))");
            return -1;
        }
        memcpy(w[n], p, len);
        w[n][len] = 0;
        n++;
        p += len;
    }
    memset(d, 0, sizeof *d);
    if (n == 0) {
        snprintf(why, whylen, "empty: write none for at once");
        return -1;
    }
    double v[MAX_WORDS] = {0};
    for (int i = 1; i < n; i++) {
        if (timing_duration(w[i], &v[i]) < 0) {
            snprintf(why, whylen, "'%s' is not a duration (a number >= 0 with s, m, h or d)", w[i]);
            return -1;
        }
    }
    if (bs_strcaseeq(w[0], "none") && n == 1) {
        d->kind = TD_NONE;
    } else if (bs_strcaseeq(w[0], "fixed") && n == 2) {
        d->kind = v[1] > 0 ? TD_FIXED : TD_NONE;
        d->a = v[1];
    } else if (bs_strcaseeq(w[0], "lognormal") && (n == 3 || n == 4)) {
        d->kind = TD_LOGNORMAL;
        d->a = v[1];
        /* sigma is a plain number: a unit would be a mistake */
        char *end;
        d->b = strtod(w[2], &end);
        if (*end || d->b <= 0 || d->b > 10 || d->a <= 0) {
            snprintf(why, whylen, "lognormal needs a median > 0 and a sigma in (0, 10]");
            return -1;
        }
        d->cap = n == 4 ? v[3] : 0;
    } else if (bs_strcaseeq(w[0], "exponential") && (n == 2 || n == 3)) {
        d->kind = TD_EXPONENTIAL;
        d->a = v[1];
        if (d->a <= 0) {
            snprintf(why, whylen, "exponential needs a mean > 0");
            return -1;
        }
        d->cap = n == 3 ? v[2] : 0;
    } else {
        snprintf(why, whylen,
                 "expected lognormal MEDIAN SIGMA [CAP], exponential MEAN [CAP], fixed DELAY "
                 "or none");
        return -1;
    }
    if (d->cap > 0 && d->kind != TD_NONE && d->kind != TD_FIXED && d->cap < 1e-3) {
        snprintf(why, whylen, "the cap must be at least 1ms");
        return -1;
    }
    return 0;
}

int timing_load(bs_config *cfg, timing_conf *t)
{
    memset(t, 0, sizeof *t);
    /* In force when a key of the section has a value: an empty value is the default, and
     * a file whose every key is empty behaves as no file at all. */
    const char *const *keys, *const *values;
    size_t n = cfg_section(cfg, "Timing", &keys, &values);
    for (size_t i = 0; i < n; i++)
        if (values[i] && *bs_trim_const(values[i]))
            t->enabled = 1;
    if (param_double_range(cfg, "Timing", "Time_Scale", 1e-3, 1e7, &t->time_scale) < 0)
        return -1;
    for (int i = 0; i < TA_COUNT; i++) {
        const char *text;
        if (param_string(cfg, "Timing", timing_keys[i], &text) < 0)
            return -1;
        char why[160];
        if (timing_parse(text, &t->dist[i], why, sizeof why) < 0)
            return cfg_fail(cfg, "Timing", timing_keys[i], "'%s': %s", text, why);
    }
    return 0;
}

double timing_draw(const timing_dist *d, bs_rng *r)
{
    double x;
    switch (d->kind) {
    case TD_FIXED:
        return d->a;
    case TD_LOGNORMAL: {
        /* Box-Muller: one standard normal from two uniforms */
        double u1 = 1.0 - bs_rng_uniform(r); /* (0, 1] */
        double u2 = bs_rng_uniform(r);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
        x = d->a * exp(d->b * z);
        break;
    }
    case TD_EXPONENTIAL:
        x = -d->a * log(1.0 - bs_rng_uniform(r));
        break;
    case TD_NONE:
    default:
        return 0;
    }
    if (d->cap > 0 && x > d->cap)
        x = d->cap;
    return x;
}

static void put_dur(char *buf, size_t n, double s)
{
    if (s >= 86400 && fmod(s, 86400) == 0)
        snprintf(buf, n, "%gd", s / 86400);
    else if (s >= 3600 && fmod(s, 360) == 0)
        snprintf(buf, n, "%gh", s / 3600);
    else if (s >= 60 && fmod(s, 60) == 0)
        snprintf(buf, n, "%gm", s / 60);
    else
        snprintf(buf, n, "%gs", s);
}

void timing_format(const timing_dist *d, char *buf, size_t n)
{
    char a[32], c[32];
    put_dur(a, sizeof a, d->a);
    put_dur(c, sizeof c, d->cap);
    switch (d->kind) {
    case TD_FIXED:
        snprintf(buf, n, "fixed %s", a);
        break;
    case TD_LOGNORMAL:
        if (d->cap > 0)
            snprintf(buf, n, "lognormal %s %g %s", a, d->b, c);
        else
            snprintf(buf, n, "lognormal %s %g", a, d->b);
        break;
    case TD_EXPONENTIAL:
        if (d->cap > 0)
            snprintf(buf, n, "exponential %s %s", a, c);
        else
            snprintf(buf, n, "exponential %s", a);
        break;
    case TD_NONE:
    default:
        snprintf(buf, n, "none");
    }
}
