/* week.c — Weekly_Cycle_* settings and the week index (see week.h). */
#include "week.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

int week_cycle_load(bs_config *cfg, const char *key, double min, double max, double **out,
                    size_t *n)
{
    const double *d;
    size_t count;
    *out = NULL;
    *n = 0;
    if (cfg_double_list(cfg, "Sink", key, &d, &count) < 0)
        return -1;
    if (count == 0)
        return 0;
    if (count % 7 != 0)
        return cfg_fail(cfg, "Sink", key,
                        "%zu entries is not a multiple of 7 (one per day, Monday first, "
                        "for an n-week cycle)",
                        count);
    for (size_t i = 0; i < count; i++)
        if (!(d[i] >= min && d[i] <= max))
            return cfg_fail(cfg, "Sink", key, "item %zu, %g, is out of range [%g, %g]", i + 1, d[i],
                            min, max);
    *out = xmalloc(count * sizeof **out);
    memcpy(*out, d, count * sizeof **out);
    *n = count;
    return 0;
}

void week_iso(const struct tm *tm, int *isoweek, int *isoweekday)
{
    char buf[8];
    strftime(buf, sizeof buf, "%V", tm);
    *isoweek = (int)strtol(buf, NULL, 10);
    *isoweekday = tm->tm_wday == 0 ? 7 : tm->tm_wday;
}

size_t week_index(const struct tm *tm, size_t n)
{
    int isoweek, isoweekday;
    week_iso(tm, &isoweek, &isoweekday);
    size_t weeks = n / 7;
    return (size_t)(isoweekday - 1) + (size_t)isoweek % weeks * 7;
}
