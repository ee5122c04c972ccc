/* override.c — the grammar of sender-chosen outcomes (see override.h). */
#include "override.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "route.h"

static int digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

static int num(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* RFC 3463 enhanced code: class "." 1*3DIGIT "." 1*3DIGIT */
static int enhanced_ok(const char *s, size_t n, int cls)
{
    if (n < 5 || s[0] - '0' != cls || s[1] != '.')
        return 0;
    size_t i = 2, d = 0;
    while (i < n && isdigit((unsigned char)s[i]) && d < 3)
        i++, d++;
    if (!d || i >= n || s[i] != '.')
        return 0;
    i++;
    d = 0;
    while (i < n && isdigit((unsigned char)s[i]) && d < 3)
        i++, d++;
    return d && i == n;
}

static int parse_time(const char *s, size_t n, double *out)
{
    if (n == 16 && digits(s, 8) && (s[8] == 't' || s[8] == 'T') && digits(s + 9, 6) &&
        (s[15] == 'z' || s[15] == 'Z')) {
        struct tm tm = {0};
        tm.tm_year = num(s, 4) - 1900;
        tm.tm_mon = num(s + 4, 2) - 1;
        tm.tm_mday = num(s + 6, 2);
        tm.tm_hour = num(s + 9, 2);
        tm.tm_min = num(s + 11, 2);
        tm.tm_sec = num(s + 13, 2);
        if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
            tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
            return -1;
        int mday = tm.tm_mday;
        time_t t = timegm(&tm);
        if (t < 0 || tm.tm_mday != mday) /* before 1970, or 20260231 normalised: refused */
            return -1;
        *out = (double)t;
        return 0;
    }
    if (n >= 1 && n <= 12 && digits(s, n)) {
        double v = 0;
        for (size_t i = 0; i < n; i++)
            v = v * 10 + (s[i] - '0');
        *out = v;
        return 0;
    }
    return -1;
}

static const struct {
    const char *word;
    int route;
} actions[] = {
    {"accept", RT_ACCEPT},       {"oob", RT_OOB},     {"fbl", RT_FBL},
    {"ooto", RT_OOTO},           {"unsub", RT_UNSUB}, {"open-click", RT_OPENCLICK},
    {"openclick", RT_OPENCLICK},
};

int override_parse(const char *s, size_t n, bs_override *o, const char **why)
{
    memset(o, 0, sizeof *o);
    *why = "unknown directive";
    if (n == 0 || n >= sizeof o->text)
        return -1;
    for (size_t i = 0; i < n; i++)
        o->text[i] = (char)tolower((unsigned char)s[i]);
    o->text[n] = 0;
    const char *t = o->text;
    if ((t[0] == '4' || t[0] == '5') && n >= 3 && digits(t, 3)) {
        o->code = num(t, 3);
        if (n == 3) {
            o->kind = OV_REPLY;
            return 0;
        }
        if (t[3] != '-' || !enhanced_ok(t + 4, n - 4, t[0] - '0')) {
            *why = "reply: CODE or CODE-X.Y.Z with the code's class";
            return -1;
        }
        memcpy(o->enhanced, t + 4, n - 4);
        o->enhanced[n - 4] = 0;
        o->kind = OV_REPLY;
        return 0;
    }
    static const char defer[] = "defer-until-";
    if (n > sizeof defer - 1 && memcmp(t, defer, sizeof defer - 1) == 0) {
        if (parse_time(t + sizeof defer - 1, n - (sizeof defer - 1), &o->until) < 0) {
            *why = "defer-until-YYYYMMDDtHHMMSSz or defer-until-EPOCHSECONDS";
            return -1;
        }
        o->kind = OV_DEFER;
        return 0;
    }
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(t, actions[i].word) == 0) {
            o->kind = OV_ACTION;
            o->route = actions[i].route;
            return 0;
        }
    return -1;
}

int override_from_local(const char *local, size_t n, bs_override *o, const char **why)
{
    memset(o, 0, sizeof *o);
    const size_t tl = sizeof OVERRIDE_TAG - 1;
    const char *found = NULL;
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(local + i, OVERRIDE_TAG, tl) == 0)
            found = local + i;
    if (!found)
        return 0;
    const char *d = found + tl;
    return override_parse(d, (size_t)(local + n - d), o, why) < 0 ? -1 : 1;
}

int override_from_address(const char *addr, size_t n, bs_override *o, const char **why)
{
    const char *at = NULL;
    for (size_t i = 0; i < n; i++)
        if (addr[i] == '@')
            at = addr + i;
    return override_from_local(addr, at ? (size_t)(at - addr) : n, o, why);
}
