/* Unit tests for src/report/logfile.c: line prefix, rotation at local midnight, retention. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "../../../src/report/logfile.h"
#include "tap.h"
#include "util.h"

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    bs_buf b;
    buf_init(&b);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0)
        buf_append(&b, chunk, n);
    fclose(fp);
    return buf_steal(&b);
}

static int count_rotated(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strncmp(de->d_name, "c.log.", 6) == 0 && !strstr(de->d_name, ".lock"))
            n++;
    closedir(d);
    return n;
}

int main(void)
{
    bs_set_progname("logfile_test");
    setenv("TZ", "Europe/Paris", 1); /* local midnight is not UTC midnight */
    char dir[] = "/tmp/logfile_test.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char *path = xasprintf("%s/c.log", dir);
    char *err;
    rp_log *lg = rplog_open(path, 3, &err);
    ok(lg != NULL, "log opened");
    /* 2026-11-20 22:30:00 UTC = 23:30 in Paris */
    double t = 1795213800.0;
    is_int(rplog_day(t), 20261120, "local day");
    is_int(rplog_day(t + 3600), 20261121, "local midnight passed at 23:00 UTC");
    ok(rplog_write(lg, t + 0.25, "INFO", "first") == 0, "line written");
    char *text = slurp(path);
    is_str(text, "2026-11-20 23:30:00,250,consume-mail,INFO,first\n", "line prefix, local time");
    free(text);
    ok(rplog_write(lg, t + 3600, "INFO", "second") == 0, "line after midnight written");
    char *rot = xasprintf("%s.2026-11-20", path);
    text = slurp(rot);
    is_str(text, "2026-11-20 23:30:00,250,consume-mail,INFO,first\n",
           "rotated to the day that ended");
    free(text);
    text = slurp(path);
    is_str(text, "2026-11-21 00:30:00,000,consume-mail,INFO,second\n", "new file for the new day");
    free(text);
    /* rplog_put: a batch of lines, on the file only at rplog_flush */
    ok(rplog_put(lg, t + 3601, "INFO", "third") == 0 &&
           rplog_put(lg, t + 3602, "INFO", "fourth") == 0,
       "lines put");
    text = slurp(path);
    is_str(text, "2026-11-21 00:30:00,000,consume-mail,INFO,second\n",
           "put lines wait for the flush");
    free(text);
    ok(rplog_flush(lg) == 0, "flushed");
    text = slurp(path);
    is_str(text,
           "2026-11-21 00:30:00,000,consume-mail,INFO,second\n"
           "2026-11-21 00:30:01,000,consume-mail,INFO,third\n"
           "2026-11-21 00:30:02,000,consume-mail,INFO,fourth\n",
           "the batch in order after the flush");
    free(text);
    for (int day = 1; day <= 6; day++)
        rplog_write(lg, t + 3600 + day * 86400.0, "INFO", "later");
    is_int(count_rotated(dir), 3, "only Logfile_backup_count rotated files kept");
    struct stat sb;
    ok(stat(rot, &sb) != 0, "the oldest was removed");
    char *newest = xasprintf("%s.2026-11-26", path);
    ok(stat(newest, &sb) == 0, "the newest rotated file is there");
    /* the clock went back a day then forward: lines are appended, not lost */
    rplog_write(lg, t + 3600 + 5 * 86400.0, "INFO", "back");
    rplog_write(lg, t + 3600 + 7 * 86400.0, "INFO", "forward");
    rplog_close(lg);

    /* a restart on a later day rotates the old file by its modification time, which is
     * set here to the injected clock's last write (2026-11-28 00:30 in Paris), so that the
     * result does not depend on the real time of day */
    struct timeval mt[2] = {{(time_t)(t + 3600 + 7 * 86400.0), 0},
                            {(time_t)(t + 3600 + 7 * 86400.0), 0}};
    ok(utimes(path, mt) == 0, "log file dated by the injected clock");
    lg = rplog_open(path, 0, &err);
    rplog_write(lg, t + 3600 + 30 * 86400.0, "INFO", "a month later");
    rplog_close(lg);
    is_int(count_rotated(dir), 4, "restart on a later day rotated (0 keeps all)");
    char *restart_rot = xasprintf("%s.2026-11-28", path);
    text = slurp(restart_rot);
    ok(text && strstr(text, "forward"), "rotated to the day of its last line");
    free(text);
    free(restart_rot);
    free(newest);
    free(rot);
    free(path);
    char *cmd = xasprintf("rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# cleanup failed\n");
    free(cmd);
    return done_testing();
}
