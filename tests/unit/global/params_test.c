/* Unit tests for src/global/params.c: lookups, distances, the check of names. */
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
    return done_testing();
}
