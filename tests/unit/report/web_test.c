/* Unit tests for src/report/web.c: the Host header and configured names (DNS rebinding
 * check), CORS_Origin values. Table-driven. */
#include <stdio.h>

#include "../../../src/report/web.h"
#include "tap.h"

static const struct {
    const char *value, *host; /* host NULL: malformed */
} hosts[] = {
    {"127.0.0.1:8888", "127.0.0.1"},
    {"127.0.0.1", "127.0.0.1"},
    {"LocalHost:80", "localhost"},
    {"report.example.net.", "report.example.net"},
    {"[::1]:8888", "::1"},
    {"[2001:DB8::1]", "2001:db8::1"},
    {"under_score.test", "under_score.test"},
    {"", NULL},
    {":8888", NULL},
    {"bad host", NULL},
    {"evil.example:", NULL},
    {"evil.example:123456", NULL},
    {"evil.example:80x", NULL},
    {"evil.example:80:81", NULL},
    {"[::1", NULL},
    {"[]:80", NULL},
    {"[::1]x", NULL},
    {"[fe80::1%eth0]", NULL},
    {"a/b", NULL},
    {"a@b", NULL},
    {"host\r\nX: y", NULL},
};

static const struct {
    const char *name, *want;
} names[] = {
    {"::1", "::1"},    {"2001:DB8::1", "2001:db8::1"},
    {"[::1]", "::1"},  {"Report.Example", "report.example"},
    {"1::2::3", NULL}, {"bad host!", NULL},
};

static const struct {
    const char *origin;
    int valid;
} origins[] = {
    {"*", 1},
    {"null", 1},
    {"https://dash.example", 1},
    {"http://127.0.0.1:3000", 1},
    {"https://[::1]:8443", 1},
    {"https://dash.example/", 0},
    {"https://dash.example/path", 0},
    {"javascript:alert(1)", 0},
    {"ftp://x", 0},
    {"https://", 0},
    {"https://a b", 0},
    {"https://a\r\nSet-Cookie: x", 0},
    {"", 0},
};

/* A description without the control characters of the value (one TAP line). */
static const char *clean(char *desc)
{
    for (char *p = desc; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    return desc;
}

int main(void)
{
    char out[256], desc[160];
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        int rc = web_host_parse(hosts[i].value, out, sizeof out);
        snprintf(desc, sizeof desc, "Host '%s'", hosts[i].value);
        if (hosts[i].host) {
            is_int(rc, 0, clean(desc));
            is_str(out, hosts[i].host, desc);
        } else {
            is_int(rc, -1, clean(desc));
        }
    }
    char tiny[4];
    is_int(web_host_parse("abcd", tiny, sizeof tiny), -1, "too long for the buffer: -1");
    is_int(web_host_parse("abc", tiny, sizeof tiny), 0, "fits exactly");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        int rc = web_name_parse(names[i].name, out, sizeof out);
        snprintf(desc, sizeof desc, "name '%s'", names[i].name);
        if (names[i].want) {
            is_int(rc, 0, clean(desc));
            is_str(out, names[i].want, desc);
        } else {
            is_int(rc, -1, clean(desc));
        }
    }
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        snprintf(desc, sizeof desc, "CORS_Origin '%s': %s", origins[i].origin,
                 origins[i].valid ? "valid" : "refused");
        is_int(web_origin_valid(origins[i].origin), origins[i].valid, clean(desc));
    }
    return done_testing();
}
