/* Unit tests for src/listen/spool.c: staged jobs committed as one group (file fsyncs, renames,
 * one directory fsync), and a group that fails as a whole leaving no file at all; with
 * Fsync = syncfs one syncfs per group, and a failed syncfs failing every job staged while
 * it ran. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../../src/listen/spool.h"
#include "tap.h"
#include "util.h"

static char dir[256];

/* syncfs as spool_commit calls it: counted, and failing with EIO while fail_syncfs is set
 * (a file system's write-back cannot be made to fail here) */
static int syncfs_calls, fail_syncfs;
static int counted_syncfs(int fd)
{
    syncfs_calls++;
    if (fail_syncfs) {
        errno = EIO;
        return -1;
    }
    return syncfs(fd);
}

static spool_job *new_job(const char *tag, size_t nfiles)
{
    spool_job *job = xcalloc(1, sizeof *job);
    job->dir = dir;
    job->fsync = 1;
    job->body = "Subject: t\r\n\r\nbody\r\n";
    job->body_len = strlen(job->body);
    job->body_fd = -1;
    job->files = xcalloc(nfiles, sizeof *job->files);
    job->nfiles = nfiles;
    for (size_t i = 0; i < nfiles; i++) {
        spool_file *f = &job->files[i];
        snprintf(f->id, sizeof f->id, "%s%0*zx", tag, (int)(16 - strlen(tag)), i);
        f->header = xstrdup("Return-Path: <a@b.test>\r\n");
        f->header_len = strlen(f->header);
    }
    return job;
}

/* counts the entries of dir: names ending in ".msg", and all the others */
static void count(int *msg, int *other)
{
    *msg = *other = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        size_t n = strlen(e->d_name);
        struct stat st;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (n > 4 && !strcmp(e->d_name + n - 4, ".msg") && stat(p, &st) == 0 && S_ISREG(st.st_mode))
            (*msg)++;
        else
            (*other)++;
    }
    if (d)
        closedir(d);
}

static void clear(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d))) {
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    if (d)
        closedir(d);
}

int main(void)
{
    snprintf(dir, sizeof dir, "%s/bs-spool-test.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ok(mkdtemp(dir) != NULL, "temporary spool directory");
    int msg, other;

    /* a group of three jobs, 1 + 2 + 3 files */
    spool_job *g[3] = {new_job("a", 1), new_job("b", 2), new_job("c", 3)};
    for (int i = 0; i < 3; i++)
        is_int(spool_stage(g[i]), 0, "job staged");
    count(&msg, &other);
    is_int(msg, 0, "staged: no .msg yet (no 250 may be given)");
    is_int(other, 6, "staged: six temporary files");
    is_int(spool_commit(g, 3), 0, "group committed");
    for (int i = 0; i < 3; i++)
        is_int(g[i]->err, 0, "every job of the group succeeded");
    count(&msg, &other);
    is_int(msg, 6, "six .msg files");
    is_int(other, 0, "no temporary file left");
    char p[512];
    snprintf(p, sizeof p, "%s/%s.msg", dir, g[2]->files[2].id);
    FILE *fp = fopen(p, "r");
    char got[200] = "";
    size_t k = fp ? fread(got, 1, sizeof got - 1, fp) : 0;
    got[k] = 0;
    if (fp)
        fclose(fp);
    is_str(got, "Return-Path: <a@b.test>\r\nSubject: t\r\n\r\nbody\r\n", "header and body written");
    for (int i = 0; i < 3; i++)
        spool_job_free(g[i]);
    clear();

    /* a group whose second job cannot be renamed (a directory holds its second file's name):
     * every job fails with that error, the first job's renamed files are removed again */
    spool_job *f[3] = {new_job("d", 2), new_job("e", 2), new_job("f", 2)};
    for (int i = 0; i < 3; i++)
        spool_stage(f[i]);
    snprintf(p, sizeof p, "%s/%s.msg", dir, f[1]->files[1].id);
    ok(mkdir(p, 0755) == 0, "a directory in the way of one file");
    int err = spool_commit(f, 3);
    ok(err != 0, "the group fails");
    for (int i = 0; i < 3; i++)
        is_int(f[i]->err, err, "every job of the group gets the error (a 4xx to each session)");
    rmdir(p);
    count(&msg, &other);
    is_int(msg, 0, "no .msg file of the failed group");
    is_int(other, 0, "no temporary file of the failed group");
    for (int i = 0; i < 3; i++)
        spool_job_free(f[i]);

    /* a job that cannot be staged leaves nothing; a staged job freed uncommitted neither */
    spool_job *bad = new_job("g", 2);
    bad->dir = "/nonexistent/bs-spool-test";
    ok(spool_stage(bad) == ENOENT && bad->err == ENOENT,
       "staging into a missing directory: ENOENT");
    spool_job_free(bad);
    spool_job *left = new_job("h", 2);
    spool_stage(left);
    spool_job_free(left);
    count(&msg, &other);
    is_int(msg + other, 0, "a staged job freed without commit leaves no file");

    /* ids: 16 lowercase hex digits, none repeated across many refills of the thread's
     * buffer of random bytes (32 ids a refill) */
    enum { NIDS = 1000 };
    static char ids[NIDS][17];
    int well_formed = 1, repeated = 0;
    for (int i = 0; i < NIDS; i++) {
        spool_new_id(ids[i]);
        well_formed &= strlen(ids[i]) == 16 && strspn(ids[i], "0123456789abcdef") == 16;
        for (int j = 0; j < i && !repeated; j++)
            repeated = !strcmp(ids[i], ids[j]);
    }
    ok(well_formed, "spool_new_id: 16 lowercase hex digits");
    ok(!repeated, "spool_new_id: 1,000 ids, none repeated");

    /* Fsync = syncfs: no file fsync'ed at staging; one syncfs for a group of three jobs */
    ok(spool_syncfs_open(dir) == 0, "spool_syncfs_open");
    spool_syncfs_call = counted_syncfs;
    spool_job *s3[3] = {new_job("i", 1), new_job("j", 2), new_job("k", 1)};
    for (int i = 0; i < 3; i++) {
        s3[i]->fsync = SPOOL_FSYNC_FS;
        is_int(spool_stage(s3[i]), 0, "syncfs: job staged");
    }
    is_int(syncfs_calls, 0, "syncfs: none while staging");
    is_int(spool_commit(s3, 3), 0, "syncfs: group committed");
    is_int(syncfs_calls, 1, "syncfs: one call for the group");
    count(&msg, &other);
    is_int(msg, 4, "syncfs: four .msg files");
    is_int(other, 0, "syncfs: no temporary file left");
    for (int i = 0; i < 3; i++)
        spool_job_free(s3[i]);
    clear();

    /* a failed syncfs: its group fails and leaves nothing; so does a job staged before the
     * failure and committed after it (its pages may be the lost ones, and no later syncfs
     * would say so); a job staged after the failure is committed */
    spool_job *a = new_job("l", 2), *b = new_job("m", 1);
    a->fsync = b->fsync = SPOOL_FSYNC_FS;
    spool_stage(a);
    spool_stage(b);
    fail_syncfs = 1;
    is_int(spool_commit(&a, 1), EIO, "syncfs fails: the group gets its error");
    is_int(a->err, EIO, "syncfs fails: the job gets its error");
    fail_syncfs = 0;
    is_int(spool_commit(&b, 1), EIO, "a job staged before a failed syncfs fails too");
    is_int(syncfs_calls, 2, "... without a syncfs of its own");
    count(&msg, &other);
    is_int(msg + other, 0, "no file of either job left");
    spool_job *c = new_job("n", 2);
    c->fsync = SPOOL_FSYNC_FS;
    is_int(spool_stage(c), 0, "a job staged after the failure");
    is_int(spool_commit(&c, 1), 0, "is committed");
    count(&msg, &other);
    is_int(msg, 2, "its two .msg files");
    spool_job_free(a);
    spool_job_free(b);
    spool_job_free(c);
    clear();
    spool_syncfs_call = syncfs;

    /* an empty group is nothing to do */
    is_int(spool_commit(NULL, 0), 0, "empty group");
    rmdir(dir);
    return done_testing();
}
