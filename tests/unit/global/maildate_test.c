/* Unit tests for src/global/maildate.c: the RFC 5322 date in UTC, in local time with its
 * offset (the forms listen, act-smtp and gen-corpus write), whatever the locale. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "maildate.h"
#include "tap.h"

static const char *local_date(const char *tz, time_t t, unsigned flags)
{
    static char buf[MAIL_DATE_SIZE];
    setenv("TZ", tz, 1);
    tzset();
    return mail_date(t, MAIL_DATE_LOCAL | flags, buf, sizeof buf);
}

int main(void)
{
    char buf[MAIL_DATE_SIZE];
    is_str(mail_date(1795550710, MAIL_DATE_UTC, buf, sizeof buf), "Tue, 24 Nov 2026 20:05:10 +0000",
           "UTC (act-smtp)");
    is_str(mail_date(1796428800, MAIL_DATE_UTC, buf, sizeof buf), "Sat, 5 Dec 2026 00:00:00 +0000",
           "UTC: day in one digit");
    is_str(mail_date(1796428800, MAIL_DATE_DAY2, buf, sizeof buf),
           "Sat, 05 Dec 2026 00:00:00 +0000", "UTC, day in two digits (gen-corpus)");
    is_str(mail_date(0, MAIL_DATE_UTC, buf, sizeof buf), "Thu, 1 Jan 1970 00:00:00 +0000",
           "the epoch");
    is_str(local_date("UTC0", 1796428800, 0), "Sat, 5 Dec 2026 00:00:00 +0000", "local in UTC");
    is_str(local_date("EST5EDT,M3.2.0,M11.1.0", 1796428800, 0), "Fri, 4 Dec 2026 19:00:00 -0500",
           "local west of Greenwich, the day before");
    is_str(local_date("EST5EDT,M3.2.0,M11.1.0", 1783310400, 0), "Mon, 6 Jul 2026 00:00:00 -0400",
           "local with summer time");
    is_str(local_date("IST-5:30", 1796428800, MAIL_DATE_DAY2), "Sat, 05 Dec 2026 05:30:00 +0530",
           "local east, half-hour offset, two-digit day");

    /* The form listen stamped with strftime before: the same text in every zone tried. */
    static const char *const zones[] = {"UTC0", "EST5EDT,M3.2.0,M11.1.0", "IST-5:30", "NPT-5:45",
                                        "HST10"};
    int same = 1;
    for (size_t z = 0; z < sizeof zones / sizeof *zones; z++)
        for (time_t t = 1767225600; t < 1767225600 + 366 * 86400; t += 86400 * 3 + 4321) {
            char want[64];
            const char *got = local_date(zones[z], t, 0);
            struct tm tm;
            localtime_r(&t, &tm);
            strftime(want, sizeof want, "%a, %-d %b %Y %H:%M:%S %z", &tm);
            if (strcmp(got, want) != 0) {
                printf("#   %s: got '%s', expected '%s'\n", zones[z], got, want);
                same = 0;
            }
        }
    ok(same, "local: as strftime(\"%a, %-d %b %Y %H:%M:%S %z\") in the C locale");

    char small[12];
    is_str(mail_date(1795550710, MAIL_DATE_UTC, small, sizeof small), "Tue, 24 Nov",
           "cut to the buffer");
    return done_testing();
}
