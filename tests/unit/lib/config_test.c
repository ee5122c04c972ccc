/* Unit tests for src/lib/config.c: the production ini, errors with file:line, getters. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Issue 14 defect 7: `Key =` means "not set" for every getter. */
static void empty_values(void)
{
    char *err = NULL;
    char *p = write_tmp("[Smtp]\nRelay =\nPort =\n[Sink]\nOOB_percent =\nLogfile =\n"
                        "Tracking_Domains_Allowlist =\nWeekly_Cycle_Open_Rate =\n"
                        "[Verify]\nSPF =\n");
    bs_config *cfg = cfg_load(p, &err);
    ok(cfg != NULL, "file with empty values loads");
    const char *host = NULL, *s = NULL;
    int port = 0, b = 0;
    long l = 0;
    double d = 0;
    const char *const *items;
    const double *dl;
    size_t n = 9;
    ok(cfg_hostport(cfg, "Smtp", "Relay", NULL, &host, &port) == 0 && host == NULL,
       "Relay =: not set, no error");
    ok(cfg_hostport(cfg, "Smtp", "Relay", "127.0.0.1:2526", &host, &port) == 0 &&
           strcmp(host, "127.0.0.1") == 0 && port == 2526,
       "Relay =: the default host:port");
    ok(cfg_long(cfg, "Smtp", "Port", 25, 1, 65535, &l) == 0 && l == 25, "Port =: default");
    ok(cfg_double(cfg, "Sink", "OOB_percent", 0.5, &d) == 0 && d == 0.5, "number: default");
    ok(cfg_string(cfg, "Sink", "Logfile", "./consume-mail.log", &s) == 0 &&
           strcmp(s, "./consume-mail.log") == 0,
       "string: default");
    ok(cfg_list(cfg, "Sink", "Tracking_Domains_Allowlist", &items, &n) == 0 && n == 0,
       "list: not set");
    n = 9;
    ok(cfg_double_list(cfg, "Sink", "Weekly_Cycle_Open_Rate", &dl, &n) == 0 && n == 0,
       "number list: not set");
    ok(cfg_bool(cfg, "Verify", "SPF", 1, &b) == 0 && b == 1, "bool: default");
    ok(cfg_get(cfg, "Smtp", "Relay") == NULL, "cfg_get: NULL, as for an absent key");
    is_int(cfg_line(cfg, "Smtp", "Relay"), 2, "cfg_line still finds the line");
    cfg_free(cfg);
    unlink(p);
    free(p);
}

/* Issue 14 defect 8: empty list items and NUL bytes are refused. */
static void refused(void)
{
    char *err = NULL;
    char *p = write_tmp("[Sink]\nWeekly_Cycle_Open_Rate = ,,,,,,\nA = 1,,2\nB = 1,2,\n"
                        "C = 1,\n  2\n  ,3\nD = 1 , 2 ,\n  3,\n  4\n");
    bs_config *cfg = cfg_load(p, &err);
    const char *const *items;
    size_t n;
    ok(cfg_list(cfg, "Sink", "Weekly_Cycle_Open_Rate", &items, &n) < 0 &&
           strstr(cfg_error(cfg), ":2: [Sink] Weekly_Cycle_Open_Rate: item 1 is empty"),
       ",,,,,, refused with file:line");
    const double *dl;
    ok(cfg_double_list(cfg, "Sink", "Weekly_Cycle_Open_Rate", &dl, &n) < 0,
       ",,,,,, refused as a number list too");
    ok(cfg_list(cfg, "Sink", "A", &items, &n) < 0 && strstr(cfg_error(cfg), "item 2 is empty"),
       "1,,2 refused (item 2)");
    ok(cfg_list(cfg, "Sink", "B", &items, &n) < 0 && strstr(cfg_error(cfg), "item 3 is empty"),
       "a trailing comma refused");
    ok(cfg_list(cfg, "Sink", "C", &items, &n) == 0 && n == 3 && strcmp(items[2], "3") == 0,
       "continuation lines may end or start with a comma");
    ok(cfg_list(cfg, "Sink", "D", &items, &n) == 0 && n == 4 && strcmp(items[3], "4") == 0,
       "blanks around items and commas at line ends");
    cfg_free(cfg);
    unlink(p);
    free(p);

    static const char nul[] = "[Sink]\nOOB_percent = 0.5\nLogfile = a\0b\n";
    p = xstrdup("/tmp/bs-config-test-XXXXXX");
    int fd = mkstemp(p);
    ok(write(fd, nul, sizeof nul - 1) == (ssize_t)(sizeof nul - 1), "write file with NUL");
    close(fd);
    cfg = cfg_load(p, &err);
    ok(cfg == NULL && err && strstr(err, ":3: NUL byte"), "NUL byte refused with file:line");
    free(err);
    unlink(p);
    free(p);

    p = write_tmp("[Sink]\rOOB_percent = 1\rLogfile = x\r[Lisen]\rAddress = y\r[Empty]\r");
    cfg = cfg_load(p, &err);
    ok(cfg != NULL, "CR-only file loads");
    is_int(cfg_line(cfg, "Sink", "Logfile"), 3, "CR-only: line numbers");
    int line = 0;
    ok(cfg_nsections(cfg) == 3 && strcmp(cfg_section_at(cfg, 2, &line), "Empty") == 0 && line == 6,
       "an empty section is listed with its line");
    const char *section;
    ok(cfg_nkeys(cfg) == 3 && strcmp(cfg_key_at(cfg, 2, &section, &line), "Address") == 0 &&
           strcmp(section, "Lisen") == 0 && line == 5,
       "keys listed with section and line");
    cfg_free(cfg);
    unlink(p);
    free(p);
}

/* bouncy-sink.ini(5) "Paths": a relative value is relative to the file's directory. */
static void paths(void)
{
    char dir[] = "/tmp/bs-config-paths-XXXXXX";
    ok(mkdtemp(dir) != NULL, "a temporary directory");
    char *sub = xasprintf("%s/etc", dir);
    mkdir(sub, 0700);
    char *file = xasprintf("%s/sink.ini", sub);
    FILE *fp = fopen(file, "w");
    fputs("[Listen]\nSpool = spool\nRecords = ./run/listen.fifo\nTLS_Certificate = "
          "/srv/tls/cert.pem\nTLS_Key = ../tls/key.pem\n",
          fp);
    fclose(fp);
    char *err = NULL;
    /* Loaded through a relative name from another working directory. */
    char *cwd = getcwd(NULL, 0);
    ok(chdir(dir) == 0, "chdir to the temporary directory");
    bs_config *cfg = cfg_load("etc/sink.ini", &err);
    ok(chdir(cwd) == 0, "chdir back");
    ok(cfg != NULL, "loads");
    is_str(cfg_dir(cfg), sub, "cfg_dir: the file's directory, absolute");
    const char *v;
    cfg_file(cfg, "Listen", "Spool", "./default", &v);
    char *want = xasprintf("%s/spool", sub);
    is_str(v, want, "relative value: under the file's directory");
    free(want);
    cfg_file(cfg, "Listen", "Records", NULL, &v);
    want = xasprintf("%s/run/listen.fifo", sub);
    is_str(v, want, "./ value: under the file's directory");
    free(want);
    cfg_file(cfg, "Listen", "TLS_Certificate", NULL, &v);
    is_str(v, "/srv/tls/cert.pem", "absolute value: as written");
    cfg_file(cfg, "Listen", "TLS_Key", NULL, &v);
    want = xasprintf("%s/tls/key.pem", dir);
    is_str(v, want, "../ value: from the file's directory's parent");
    free(want);
    cfg_file(cfg, "Listen", "Missing", "./default", &v);
    is_str(v, "./default", "not set: the default as given");
    cfg_free(cfg);
    bs_config *empty = cfg_empty();
    ok(cfg_dir(empty) == NULL && strcmp(cfg_resolve(empty, "x/y"), "x/y") == 0,
       "no file: values as written");
    cfg_free(empty);
    unlink(file);
    rmdir(sub);
    rmdir(dir);
    free(cwd);
    free(file);
    free(sub);
}

int main(void)
{
    production_ini();
    errors();
    empty_values();
    refused();
    paths();
    return done_testing();
}
