/* Unit tests for src/global/week.c: the ISO week, the day's index in a Weekly_Cycle_*
 * list, and the one check of such a list (listen and decide). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"
#include "util.h"
#include "week.h"

static struct tm day(int y, int mon, int mday)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = mday;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    return tm;
}

/* The error of week_cycle_load for one [Sink] value, "" when it loads. */
static char *load(const char *value, double min, double max, size_t *n)
{
    char path[] = "/tmp/bs-week-test-XXXXXX";
    int fd = mkstemp(path);
    char *text = xasprintf("[Sink]\nWeekly_Cycle_Bounce_Rate = %s\n", value);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        return xstrdup("write");
    close(fd);
    free(text);
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    unlink(path);
    if (!cfg)
        return err;
    double *v;
    char *out;
    if (week_cycle_load(cfg, "Weekly_Cycle_Bounce_Rate", min, max, &v, n) < 0) {
        const char *e = cfg_error(cfg);
        out = xstrdup(strstr(e, ": [Sink]") ? strstr(e, ": [Sink]") + 2 : e);
    } else {
        out = xstrdup("");
        free(v);
    }
    cfg_free(cfg);
    return out;
}

int main(void)
{
    static const struct {
        int y, mon, mday, week, wday;
    } cases[] = {{2026, 1, 1, 1, 4},   {2027, 1, 1, 53, 5}, {2027, 1, 4, 1, 1},
                 {2024, 12, 30, 1, 1}, {2021, 1, 3, 53, 7}, {2026, 11, 24, 48, 2}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tm tm = day(cases[i].y, cases[i].mon, cases[i].mday);
        int week, wday;
        week_iso(&tm, &week, &wday);
        char desc[80];
        snprintf(desc, sizeof desc, "ISO week of %04d-%02d-%02d is %d, weekday %d", cases[i].y,
                 cases[i].mon, cases[i].mday, cases[i].week, cases[i].wday);
        ok(week == cases[i].week && wday == cases[i].wday, desc);
    }
    struct tm tue48 = day(2026, 11, 24); /* week 48, Tuesday */
    is_int(week_index(&tue48, 7), 1, "one-week cycle: Tuesday is entry 1");
    is_int(week_index(&tue48, 14), 1, "two-week cycle, even week: entry 1");
    is_int(week_index(&tue48, 21), 1 + 7 * (48 % 3), "three-week cycle: week 48 mod 3");
    struct tm sun53 = day(2021, 1, 3); /* week 53, Sunday */
    is_int(week_index(&sun53, 14), 6 + 7, "two-week cycle, odd week, Sunday: entry 13");

    size_t n;
    char *e = load("1,2,3,4,5,6,7", 0, 100, &n);
    ok(!*e && n == 7, "seven entries load");
    free(e);
    e = load("1,2,3", 0, 100, &n);
    is_str(e,
           "[Sink] Weekly_Cycle_Bounce_Rate: 3 entries is not a multiple of 7 (one per day, "
           "Monday first, for an n-week cycle)",
           "not a multiple of 7");
    free(e);
    e = load("1,2,3,4,5,6,101", 0, 100, &n);
    is_str(e, "[Sink] Weekly_Cycle_Bounce_Rate: item 7, 101, is out of range [0, 100]",
           "out of range");
    free(e);
    e = load("1,2,3,4,5,6,nan", 0, 100, &n);
    ok(*e != 0, "NaN refused");
    free(e);
    e = load("", 0, 100, &n);
    ok(!*e && n == 0, "empty: not set");
    free(e);
    return done_testing();
}
