/* maildate.c — RFC 5322 §3.3 date-time. */
#include "maildate.h"

#include <stdio.h>

char *mail_date(time_t t, unsigned flags, char *buf, size_t n)
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    long off = 0;
    if (flags & MAIL_DATE_LOCAL) {
        localtime_r(&t, &tm);
        off = tm.tm_gmtoff;
    } else {
        gmtime_r(&t, &tm);
    }
    char sign = off < 0 ? '-' : '+';
    off = off < 0 ? -off : off;
    snprintf(buf, n,
             (flags & MAIL_DATE_DAY2) ? "%s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld"
                                      : "%s, %d %s %04d %02d:%02d:%02d %c%02ld%02ld",
             wd[tm.tm_wday], tm.tm_mday, mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
             tm.tm_sec, sign, off / 3600, off / 60 % 60);
    return buf;
}
