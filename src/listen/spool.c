/* spool.c — write, flush and rename spool files; nothing partial survives a failure. */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "util.h"

static int is_leftover(const char *name)
{
    size_t n = strlen(name);
    if (name[0] != '.' || n < 18)
        return 0;
    for (int i = 1; i <= 16; i++)
        if (!strchr("0123456789abcdef", name[i]) || !name[i])
            return 0;
    return strcmp(name + 17, ".tmp") == 0 || strcmp(name + 17, ".spill") == 0;
}

int spool_prepare(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (!is_leftover(e->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    return 0;
}

/* SPOOL_FSYNC_FS: the kept descriptor, and how many syncfs calls have failed so far */
static int syncfs_fd = -1;
static atomic_ulong syncfs_failures;
int (*spool_syncfs_call)(int fd) = syncfs;

int spool_syncfs_open(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (syncfs_fd >= 0)
        close(syncfs_fd);
    syncfs_fd = fd;
    return 0;
}

/* Random bytes for the ids of this thread, 32 ids per getrandom(2) call rather than one
 * each (a system call per spooled message). listen never forks, so no two processes share
 * a buffer; O_EXCL would refuse a repeated name anyway. */
static _Thread_local unsigned char id_pool[256];
static _Thread_local size_t id_left;

void spool_new_id(char id[17])
{
    if (id_left < 8) {
        bs_random_bytes(id_pool, sizeof id_pool);
        id_left = sizeof id_pool;
    }
    bs_hex(id, id_pool + sizeof id_pool - id_left, 8);
    id_left -= 8;
}

int spool_spill_open(const char *dir, char *path, size_t size)
{
    char id[17];
    spool_new_id(id);
    snprintf(path, size, "%s/.%s.spill", dir, id);
    return open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
}

int spool_write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Copies len bytes of src (from offset 0) to dst. 0 ok, -1 errno set. */
static int copy_body(int src, int dst, size_t len)
{
    char buf[65536];
    off_t off = 0;
    while ((size_t)off < len) {
        size_t want = len - (size_t)off < sizeof buf ? len - (size_t)off : sizeof buf;
        ssize_t r = pread(src, buf, want, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        if (spool_write_all(dst, buf, (size_t)r) < 0)
            return -1;
        off += r;
    }
    return 0;
}

static int write_all(int fd, const char *a, size_t an, const char *b, size_t bn)
{
    while (an + bn > 0) {
        struct iovec iov[2];
        int cnt = 0;
        if (an) {
            iov[cnt].iov_base = (void *)a;
            iov[cnt++].iov_len = an;
        }
        if (bn) {
            iov[cnt].iov_base = (void *)b;
            iov[cnt++].iov_len = bn;
        }
        ssize_t w = writev(fd, iov, cnt);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = EIO;
            return -1;
        }
        size_t k = (size_t)w;
        if (k >= an) {
            k -= an;
            a += an;
            an = 0;
            if (k) {
                b += k;
                bn -= k;
            }
        } else {
            a += k;
            an -= k;
        }
    }
    return 0;
}

/* dir + "/" + pre + id + suf into out (size >= 4096), as snprintf "%s/%s%s%s" would
 * (truncated alike), without its cost: three of these per spooled file. */
static void spool_path(char *out, size_t size, const char *dir, const char *pre, const char *id,
                       const char *suf)
{
    const char *parts[] = {dir, "/", pre, id, suf};
    size_t n = 0;
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        size_t k = strlen(parts[i]);
        if (k > size - 1 - n)
            k = size - 1 - n;
        memcpy(out + n, parts[i], k);
        n += k;
    }
    out[n] = 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* Opens ".<id>.tmp" and writes header and body to it. Returns the fd, or -1 with errno set
 * and nothing left. */
static int write_tmp(spool_job *job, spool_file *f, char *tmp, size_t size)
{
    spool_path(tmp, size, job->dir, ".", f->id, ".tmp");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int bad = job->body_fd >= 0
                  ? write_all(fd, f->header, f->header_len, NULL, 0) < 0 ||
                        copy_body(job->body_fd, fd, job->body_len) < 0
                  : write_all(fd, f->header, f->header_len, job->body, job->body_len) < 0;
    if (bad) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    return fd;
}

/* Removes the temporary files of a staged job. */
static void unstage(spool_job *job)
{
    char tmp[4096];
    for (size_t i = 0; i < job->staged; i++) {
        spool_path(tmp, sizeof tmp, job->dir, ".", job->files[i].id, ".tmp");
        unlink(tmp);
    }
    job->staged = 0;
}

int spool_stage(spool_job *job)
{
    char tmp[4096];
    job->err = 0;
    job->staged = 0;
    job->sync_failures = atomic_load(&syncfs_failures);
    for (size_t i = 0; i < job->nfiles; i++) {
        int fd = write_tmp(job, &job->files[i], tmp, sizeof tmp);
        if (fd < 0) {
            job->err = errno;
            break;
        }
        job->staged++;
        /* The file's own fsync runs here, in the pool's threads, many at once: the file
         * system joins concurrent fsyncs into one journal commit, where one thread doing
         * them in turn would wait for a commit each. */
        int rc = job->fsync == SPOOL_FSYNC_FILES ? fsync(fd) : 0;
        int e = errno;
        if (close(fd) < 0 && rc == 0) {
            rc = -1;
            e = errno;
        }
        if (rc < 0) {
            job->err = e;
            break;
        }
    }
    if (job->err)
        unstage(job);
    return job->err;
}

int spool_commit(spool_job **jobs, size_t n)
{
    int err = 0;
    char from[4096], to[4096];
    /* the names, job after job; on an error, job j has its first `renamed` files renamed */
    size_t j = 0, renamed = 0;
    if (n && jobs[0]->fsync == SPOOL_FSYNC_FS) {
        /* the data of every file (and their temporary names) durable before any .msg name
         * appears: one flush of the file system. A job staged while a syncfs failed may
         * have lost pages to it that no later syncfs reports: it fails too (EIO). */
        unsigned long failures = atomic_load(&syncfs_failures);
        for (size_t k = 0; k < n && !err; k++)
            if (jobs[k]->sync_failures != failures)
                err = EIO;
        if (!err && syncfs_fd < 0) {
            err = EBADF; /* spool_syncfs_open not called: a bug, but never a 250 */
        } else if (!err && spool_syncfs_call(syncfs_fd) < 0) {
            err = errno;
            atomic_fetch_add(&syncfs_failures, 1);
        }
    }
    for (; j < n && !err; j++) {
        spool_job *job = jobs[j];
        for (renamed = 0; renamed < job->nfiles; renamed++) {
            spool_file *f = &job->files[renamed];
            spool_path(from, sizeof from, job->dir, ".", f->id, ".tmp");
            spool_path(to, sizeof to, job->dir, "", f->id, ".msg");
            if (rename(from, to) < 0) {
                err = errno;
                break;
            }
        }
    }
    /* the names on disk: one directory fsync for the group (the jobs share the setting) */
    if (!err && n && jobs[0]->fsync && sync_dir(jobs[0]->dir) < 0) {
        err = errno;
        j = n + 1; /* every file renamed */
    }
    for (size_t k = 0; k < n; k++) {
        spool_job *job = jobs[k];
        if (err) {
            /* a failing job is jobs[j - 1]: those before it are renamed, those after not */
            size_t upto = k + 1 < j ? job->nfiles : k + 1 == j ? renamed : 0;
            for (size_t i = 0; i < job->nfiles; i++) {
                if (i < upto)
                    spool_path(from, sizeof from, job->dir, "", job->files[i].id, ".msg");
                else
                    spool_path(from, sizeof from, job->dir, ".", job->files[i].id, ".tmp");
                unlink(from);
            }
        }
        job->staged = 0;
        job->err = err;
    }
    return err;
}

void spool_job_free(spool_job *job)
{
    if (!job)
        return;
    unstage(job);
    for (size_t i = 0; i < job->nfiles; i++)
        free(job->files[i].header);
    free(job->files);
    free(job);
}

int spool_run(spool_job *job)
{
    if (spool_stage(job) == 0)
        spool_commit(&job, 1);
    return job->err;
}
