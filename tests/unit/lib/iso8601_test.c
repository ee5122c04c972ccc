/* Unit tests for bs_iso8601 (src/lib/util.c): the record timestamp, written digit by digit,
 * is byte for byte what strftime and snprintf wrote before. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tap.h"
#include "util.h"

/* the former implementation, the reference */
static void reference(double t, char *buf, size_t n)
{
    time_t secs = (time_t)floor(t);
    int ms = (int)((t - (double)secs) * 1000.0);
    if (ms > 999)
        ms = 999;
    if (ms < 0)
        ms = 0;
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, n, "%s.%03dZ", base, ms);
}

int main(void)
{
    char got[32], want[64];
    is_str(bs_iso8601(1795550710.387, got, sizeof got), "2026-11-24T20:05:10.387Z",
           "a known instant");
    is_str(bs_iso8601(0, got, sizeof got), "1970-01-01T00:00:00.000Z", "the epoch");
    is_str(bs_iso8601(946684799.9999, got, sizeof got), "1999-12-31T23:59:59.999Z",
           "the last millisecond of a year");
    /* every field from 0 to its largest value, years 1000 to 9000 */
    int same = 1, checked = 0;
    unsigned long long x = 88172645463325252ULL;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double t = (double)(long long)(x % 253402300800ULL) - 30610224000.0 +
                   (double)(x >> 40 & 1023) / 1024.0;
        bs_iso8601(t, got, sizeof got);
        reference(t, want, sizeof want);
        if (strcmp(got, want) != 0) {
            if (same)
                printf("# %.4f: got %s, want %s\n", t, got, want);
            same = 0;
        }
        checked++;
    }
    ok(same && checked == 200000,
       "200,000 instants from year 1000 to 9000: as strftime wrote them");
    reference(-62135596800.0 - 86400.0 * 366, want, sizeof want);
    is_str(bs_iso8601(-62135596800.0 - 86400.0 * 366, got, sizeof got), want,
           "a year before 1000: strftime's own form");
    is_str(bs_iso8601(1795550710.5, got, 20), "2026-11-24T20:05:10",
           "a short buffer: truncated as snprintf does");
    return done_testing();
}
