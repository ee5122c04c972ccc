/* Unit tests for src/lib/config.c: the production ini, errors with file:line, getters. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"
#include "util.h"

static char *write_tmp(const char *text)
{
    char *path = xstrdup("/tmp/bs-config-test-XXXXXX");
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static void production_ini(void)
{
    char *err = NULL;
    bs_config *cfg = cfg_load("data/reference/consume-mail.ini", &err);
    ok(cfg != NULL, "production consume-mail.ini loads unchanged");
    if (!cfg) {
        printf("# %s\n", err);
        free(err);
        return;
    }
    double d;
    ok(cfg_double(cfg, "sink", "oob_percent", 0, &d) == 0 && d == 0.5,
       "keys and sections are case-insensitive (OOB_percent = 0.5)");
    ok(cfg_double(cfg, "Sink", "FBL_percent", 0, &d) == 0 && d == 0.01, "FBL_percent = 0.01");
    const char *const *items;
    size_t n;
    cfg_list(cfg, "Sink", "Tracking_Domains_Allowlist", &items, &n);
    ok(n == 2 && strcmp(items[0], "track.simonmail.simondata.com") == 0 &&
           strcmp(items[1], "thetucks.com") == 0,
       "comma list split and trimmed");
    const double *dl;
    ok(cfg_double_list(cfg, "Sink", "Weekly_Cycle_Open_Rate", &dl, &n) == 0 && n == 14 &&
           dl[1] == 0.1 && dl[8] == 0.5,
       "number list parsed (14 entries)");
    ok(cfg_double_list(cfg, "Sink", "Digit1_days", &dl, &n) == 0 && n == 17 && dl[7] == 15,
       "list with runs of blanks parsed");
    is_str(cfg_get(cfg, "RP_MX_domain_allowlist", "smtp.eu.sparkpostmail.com"),
           "fbl@eu.sparkpostmail.com", "allow-list key with dots");
    const char *const *keys, *const *values;
    is_int(cfg_section(cfg, "rp_mx_domain_allowlist", &keys, &values), 11,
           "allow-list section has 11 entries");
    is_int(cfg_line(cfg, "Sink", "Logfile"), 24, "line numbers kept");
    ok(cfg_get(cfg, "Sink", "Done_Msg_File_Dest") &&
           strcmp(cfg_get(cfg, "Sink", "Done_Msg_File_Dest"), "/var/spool/mail/inbound/done") == 0,
       "commented-out duplicate ignored, live value kept");
    cfg_free(cfg);
}

static void errors(void)
{
    char *err = NULL;
    char *p = write_tmp("[Sink]\nOOB_percent = 0.5\nthis line is wrong\n");
    bs_config *cfg = cfg_load(p, &err);
    ok(cfg == NULL && err && strstr(err, ":3: syntax error"), "syntax error names line 3");
    printf("# %s\n", err ? err : "(none)");
    free(err);
    unlink(p);
    free(p);

    p = write_tmp("[Sink]\nOOB_percent = 0.5\noob_percent = 1\n");
    cfg = cfg_load(p, &err);
    ok(cfg == NULL && err && strstr(err, ":3: [Sink] oob_percent: duplicate key"),
       "duplicate key is an error with line");
    free(err);
    unlink(p);
    free(p);

    char longline[400];
    memset(longline, 'a', sizeof longline);
    memcpy(longline, "[S]\nk = ", 8);
    longline[sizeof longline - 2] = '\n';
    longline[sizeof longline - 1] = 0;
    p = write_tmp(longline);
    cfg = cfg_load(p, &err);
    ok(cfg == NULL && err && strstr(err, ":2: line too long"), "over-long line is named");
    free(err);
    unlink(p);
    free(p);

    p = write_tmp("[Sink]\nOpen_percent = lots\nMax = 5x\n[Listen]\nAddress = nowhere\n"
                  "List = a,\n  b , c\n");
    cfg = cfg_load(p, &err);
    ok(cfg != NULL, "file with bad values still parses");
    double d;
    ok(cfg_double(cfg, "Sink", "Open_percent", 1, &d) < 0 &&
           strstr(cfg_error(cfg), ":2: [Sink] Open_percent: 'lots' is not a number"),
       "bad number: file:line: [Section] Key: why");
    long l;
    ok(cfg_long(cfg, "Sink", "Max", 1, 0, 10, &l) < 0, "bad whole number rejected");
    ok(cfg_double_range(cfg, "Sink", "Absent", 7, 0, 100, &d) == 0 && d == 7,
       "absent key gives default");
    const char *host;
    int port;
    ok(cfg_hostport(cfg, "Listen", "Address", NULL, &host, &port) < 0 &&
           strstr(cfg_error(cfg), ":5: [Listen] Address"),
       "bad host:port rejected with line");
    ok(cfg_hostport(cfg, "Listen", "Other", "[::1]:2525", &host, &port) == 0 &&
           strcmp(host, "::1") == 0 && port == 2525,
       "IPv6 default host:port");
    const char *const *items;
    size_t n;
    cfg_list(cfg, "Listen", "List", &items, &n);
    ok(n == 3 && strcmp(items[1], "b") == 0 && strcmp(items[2], "c") == 0,
       "indented continuation lines extend a list");
    cfg_free(cfg);
    unlink(p);
    free(p);

    cfg = cfg_load("/nonexistent/x.ini", &err);
    ok(cfg == NULL && err && strstr(err, "cannot open"), "missing file reported");
    free(err);
}

int main(void)
{
    production_ini();
    errors();
    return done_testing();
}
