/* Unit tests for src/global/params.c: lookups, distances, the check of names. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "params.h"
#include "tap.h"
#include "util.h"

static char *collected;

static void collect(void *ctx, const char *text)
{
    (void)ctx;
    char *s = xasprintf("%s%s\n", collected ? collected : "", text);
    free(collected);
    collected = s;
}

int main(void)
{
    ok(params_find("sink", "open_percent") &&
           strcmp(params_find("Sink", "OOB_percent")->def, "0.5") == 0,
       "lookups ignore case; defaults as documented");
    ok(!params_find("Sink", "Spool") && params_find("Listen", "Spool"), "keys belong to a section");
    ok(params_find_section("rp_mx_domain_allowlist")->any_key, "the allow-list takes any key");
    is_int(params_distance("Open_precent", "Open_percent"), 2, "a swap is 2 edits");
    is_int(params_distance("RELAY", "relay"), 0, "distance ignores case");
    is_int(params_distance("", "abc"), 3, "empty string");

    char path[] = "/tmp/bs-params-test-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] =
        "[Sink]\nOpen_precent = 1\nmax_threads = 3\n[RP_MX_domain_allowlist]\n"
        "x.example = y@example\n[Decid]\nSeed = 1\n[Smtp]\nRelay =\n";
    ok(write(fd, text, sizeof text - 1) == (ssize_t)(sizeof text - 1), "write file");
    close(fd);
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    unlink(path);
    ok(cfg != NULL, "file loads");
    is_int(params_check(cfg, collect, NULL), 2, "two warnings");
    char *want = xasprintf("%s:2: [Sink] Open_precent: unknown key (did you mean Open_percent?)\n"
                           "%s:6: [Decid]: unknown section (did you mean [Decide]?)\n",
                           path, path);
    is_str(collected, want, "the warnings, in file order");
    ok(params_check_values(cfg) == 0, "values parse (an empty Relay is not set)");
    free(want);
    free(collected);
    cfg_free(cfg);

    /* The getters take the table's default when a key is not set, the file's otherwise. */
    bs_config *none = cfg_empty();
    int typed = 1;
    for (size_t i = 0; i < bs_nparams; i++) {
        const bs_param *p = &bs_params[i];
        if (!p->def)
            continue;
        long l;
        double d;
        int b;
        const char *str;
        if (p->type == P_INTEGER)
            typed &= param_long(none, p->section, p->key, LONG_MIN, LONG_MAX, &l) == 0 &&
                     l == strtol(p->def, NULL, 10);
        else if (p->type == P_NUMBER)
            typed &= param_double_range(none, p->section, p->key, -1e300, 1e300, &d) == 0 &&
                     d == strtod(p->def, NULL);
        else if (p->type == P_BOOL)
            typed &= param_bool(none, p->section, p->key, &b) == 0 &&
                     b == (!strcmp(p->def, "yes") || !strcmp(p->def, "on"));
        else if (p->type == P_FSYNC)
            typed &= param_fsync(none, p->section, p->key, &b) == 0 &&
                     b == (!strcmp(p->def, "yes")      ? 1
                           : !strcmp(p->def, "syncfs") ? 2
                                                       : 0);
        typed &= param_string(none, p->section, p->key, &str) == 0 && strcmp(str, p->def) == 0;
        if (!typed) {
            printf("#   [%s] %s = %s\n", p->section, p->key, p->def);
            break;
        }
    }
    ok(typed, "every default in the table parses as its type through the param_* getters");
    is_str(param_default("listen", "spool"), "./spool", "param_default");
    ok(param_default("Listen", "Records") == NULL, "param_default: none");
    const char *host;
    int port;
    ok(param_hostport(none, "Report", "Address", &host, &port) == 0 &&
           strcmp(host, "127.0.0.1") == 0 && port == 8888,
       "param_hostport: the table's host:port");
    char **items;
    size_t n = param_default_list("Decide", "SPF_Required", &items);
    ok(n == 3 && !strcmp(items[0], "oob") && !strcmp(items[1], "fbl") && !strcmp(items[2], "ooto"),
       "param_default_list: items trimmed");
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    n = param_default_list("Listen", "Sink_Domains", &items);
    ok(n == 1 && !strcmp(items[0], "bouncy-sink.test"), "param_default_list: one item");
    for (size_t i = 0; i < n; i++)
        free(items[i]);
    free(items);
    ok(param_default_list("Listen", "Records", &items) == 0 && items == NULL,
       "param_default_list: none");
    cfg_free(none);

    char path2[] = "/tmp/bs-params-test-XXXXXX";
    fd = mkstemp(path2);
    static const char set[] = "[Listen]\nSpool = /var/spool/x\nMax_Errors = 5\nFsync = no\n"
                              "Max_Recipients =\n[Sink]\nOOB_percent = 200\n";
    ok(write(fd, set, sizeof set - 1) == (ssize_t)(sizeof set - 1), "write file");
    close(fd);
    cfg = cfg_load(path2, &err);
    unlink(path2);
    const char *spool;
    long errors, rcpts;
    int fsync_on;
    double oob;
    ok(cfg && param_string(cfg, "Listen", "Spool", &spool) == 0 &&
           strcmp(spool, "/var/spool/x") == 0,
       "param_string: the file's value");
    ok(param_long(cfg, "Listen", "Max_Errors", 1, 100, &errors) == 0 && errors == 5,
       "param_long: the file's value");
    ok(param_long(cfg, "Listen", "Max_Recipients", 100, 1000000, &rcpts) == 0 && rcpts == 1000,
       "param_long: an empty value takes the table's default");
    ok(param_bool(cfg, "Listen", "Fsync", &fsync_on) == 0 && fsync_on == 0,
       "param_bool: the file's value");
    ok(param_fsync(cfg, "Listen", "Fsync", &fsync_on) == 0 && fsync_on == 0, "param_fsync: no");
    ok(param_double_range(cfg, "Sink", "OOB_percent", 0, 100, &oob) < 0 &&
           strstr(cfg_error(cfg), ":7: [Sink] OOB_percent:") != NULL,
       "param_double_range: out of range, FILE:LINE named");
    cfg_free(cfg);

    /* [Listen] Fsync: yes, no or syncfs, in any case; anything else names the three */
    static const struct {
        const char *value;
        int want; /* -1: refused */
    } fsyncs[] = {{"syncfs", 2}, {"SyncFS", 2},   {"yes", 1},     {"on", 1},
                  {"0", 0},      {"perhaps", -1}, {"syncfs2", -1}};
    for (size_t i = 0; i < sizeof fsyncs / sizeof *fsyncs; i++) {
        char path3[] = "/tmp/bs-params-test-XXXXXX";
        fd = mkstemp(path3);
        dprintf(fd, "[Listen]\nFsync = %s\n", fsyncs[i].value);
        close(fd);
        cfg = cfg_load(path3, &err);
        unlink(path3);
        int got = -2;
        int rc = cfg ? param_fsync(cfg, "Listen", "Fsync", &got) : -2;
        char what[80];
        snprintf(what, sizeof what, "param_fsync: %s", fsyncs[i].value);
        if (fsyncs[i].want >= 0)
            ok(rc == 0 && got == fsyncs[i].want, what);
        else
            ok(rc == -1 && strstr(cfg_error(cfg), "is not yes, no or syncfs") != NULL, what);
        cfg_free(cfg);
    }
    return done_testing();
}
