/* libFuzzer target: the configuration reader (lines.h and inih through cfg_load), typed
 * getters, and the check of names and values against the table of settings (params.h). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"
#include "params.h"
#include "util.h"

static void ignore(void *ctx, const char *text)
{
    (void)ctx;
    (void)text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/bs-fuzz-config-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    char *err = NULL;
    bs_config *cfg = cfg_load(path, &err);
    unlink(path);
    if (!cfg) {
        free(err);
        return 0;
    }
    double d;
    long l;
    int b;
    const char *s;
    int port;
    const double *dl;
    const char *const *items;
    size_t n;
    cfg_double(cfg, "Sink", "OOB_percent", 0.5, &d);
    cfg_long(cfg, "Sink", "Logfile_backup_count", 7, 0, 1000, &l);
    cfg_bool(cfg, "Verify", "SPF", 1, &b);
    cfg_hostport(cfg, "Listen", "Address", "127.0.0.1:2525", &s, &port);
    cfg_double_list(cfg, "Sink", "Weekly_Cycle_Open_Rate", &dl, &n);
    cfg_list(cfg, "Sink", "Tracking_Domains_Allowlist", &items, &n);
    const char *const *keys, *const *values;
    cfg_section(cfg, "RP_MX_domain_allowlist", &keys, &values);
    params_check(cfg, ignore, NULL);
    params_check_values(cfg);
    cfg_free(cfg);
    return 0;
}
