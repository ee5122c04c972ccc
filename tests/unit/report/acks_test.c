/* Unit tests for src/report/acks.c: the action ids read back from the log at start, also
 * across the daily rotation (a restart just after midnight finds the actions logged just
 * before it in <Logfile>.YYYY-MM-DD, and must not log them again). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/report/acks.h"
#include "../../../src/report/logfile.h"
#include "tap.h"
#include "util.h"

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (!fp || fputs(text, fp) < 0 || fclose(fp) != 0)
        abort();
}

#define ACTION(t, aid)                                                                             \
    t ",consume-mail,INFO,/s/claimed/m.msg,a@open.s,f@s,Action open " aid                          \
      " +3600.000s due 2026-11-20T23:00:00.000Z,_Open:200\n"

int main(void)
{
    bs_set_progname("acks_test");
    char dir[] = "/tmp/acks_test.XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char *log = xasprintf("%s/c.log", dir);
    char *older = xasprintf("%s.2026-11-19", log);
    char *rotated = xasprintf("%s.2026-11-20", log);

    char aid[64];
    ok(acks_id_of_line(ACTION("2026-11-20 23:59:59,990", "m1/open"),
                       strlen(ACTION("2026-11-20 23:59:59,990", "m1/open")), aid, sizeof aid) &&
           strcmp(aid, "m1/open") == 0,
       "the id of an Action line");
    const char *msg = "2026-11-20 23:59:59,990,consume-mail,INFO,/s/m.msg,a@s,f@s,Accept\n";
    ok(!acks_id_of_line(msg, strlen(msg), aid, sizeof aid), "a message line names no action");

    /* Only the log file: its ids. */
    write_file(log, ACTION("2026-11-21 00:00:00,010", "m2/open"));
    rp_acks *a = acks_new(NULL, NULL);
    is_int((long)acks_read_log(a, log), 1, "one id in the log file");
    ok(acks_seen(a, "m2/open") && !acks_seen(a, "m1/open"), "that id remembered, no other");
    acks_free(a);

    /* Rotated at midnight: the day that ended holds the actions logged just before it. */
    write_file(older, ACTION("2026-11-19 23:00:00,000", "m0/open"));
    write_file(rotated,
               "2026-11-20 23:59:59,000,consume-mail,INFO,/s/m1.msg,a@s,f@s,Accept\n" ACTION(
                   "2026-11-20 23:59:59,990", "m1/open"));
    a = acks_new(NULL, NULL);
    is_int((long)acks_read_log(a, log), 2, "the ids of the log file and of the day rotated before");
    ok(acks_seen(a, "m1/open"), "an action logged just before midnight is known after a restart");
    ok(acks_seen(a, "m2/open"), "and the one logged after it");
    ok(!acks_seen(a, "m0/open"), "older rotated files are not read");
    acks_free(a);

    char *newest = rplog_newest_rotated(log);
    is_str(newest, rotated, "the newest rotated file is the latest date");
    free(newest);
    char *none = xasprintf("%s/other.log", dir);
    ok(rplog_newest_rotated(none) == NULL, "none for a log without rotated files");

    /* Right after the rotation the new file does not exist yet. */
    unlink(log);
    a = acks_new(NULL, NULL);
    is_int((long)acks_read_log(a, log), 1, "no log file yet: the rotated file's ids");
    ok(acks_seen(a, "m1/open"), "the action logged before midnight is known");
    acks_free(a);

    unlink(older);
    unlink(rotated);
    rmdir(dir);
    free(none);
    free(log);
    free(older);
    free(rotated);
    return done_testing();
}
