/* week.h — the Weekly_Cycle_* settings of [Sink] and the day's place in them, once for
 * listen (Weekly_Cycle_Bounce_Rate: the in-band bounce percent) and decide (all three).
 *
 * A cycle is 7·n numbers, one per day, Monday first, for an n-week cycle; the day's entry
 * is (ISO weekday - 1) + (ISO week mod n) · 7, in local time (TZ).
 */
#ifndef BS_WEEK_H
#define BS_WEEK_H

#include <stddef.h>
#include <time.h>

#include "config.h"

/* Reads [Sink] key as a cycle whose items lie in [min, max]. Absent or empty: *out NULL,
 * *n 0. 0 ok; -1 with cfg_error(cfg) as `FILE:LINE: [Sink] Key: N entries is not a
 * multiple of 7 (...)` or `item I, V, is out of range [min, max]`. *out: caller frees. */
int week_cycle_load(bs_config *cfg, const char *key, double min, double max, double **out,
                    size_t *n);

/* ISO 8601 week (1-53) and weekday (1 Monday .. 7 Sunday) of a broken-down time. */
void week_iso(const struct tm *tm, int *isoweek, int *isoweekday);

/* The index of the day tm in a cycle of n entries (n a positive multiple of 7). */
size_t week_index(const struct tm *tm, size_t n);

#endif
