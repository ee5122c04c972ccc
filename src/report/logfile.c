/* logfile.c — the log file, its daily rotation and retention. */
#include "logfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "util.h"

struct rp_log {
    char *path;
    long backups;
    FILE *fp;
    int lock_fd; /* <Logfile>.lock, flock()ed while we write: one writer only */
    long day;    /* local day of the current file's content, 0 = none yet */
};

long rplog_day(double t)
{
    time_t secs = (time_t)floor(t);
    struct tm tm;
    localtime_r(&secs, &tm);
    return (long)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static FILE *open_append(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "a");
    if (!fp)
        close(fd);
    else /* a batch of lines (rplog_put) in one write */
        setvbuf(fp, NULL, _IOFBF, 65536);
    return fp;
}

rp_log *rplog_open(const char *path, long backups, char **err)
{
    *err = NULL;
    char *lock = xasprintf("%s.lock", path);
    int lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd < 0) {
        *err = xasprintf("cannot open log lock file (%s): %s", lock, strerror(errno));
        free(lock);
        return NULL;
    }
    if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int saved = errno;
        *err = xasprintf("log file is written by another process (%s locked): %s", lock,
                         saved == EWOULDBLOCK ? "only one report may write a log file"
                                              : strerror(saved));
        free(lock);
        close(lock_fd);
        errno = saved;
        return NULL;
    }
    free(lock);
    FILE *fp = open_append(path);
    if (!fp) {
        int saved = errno;
        *err = xasprintf("cannot open log file (%s): %s", path, strerror(errno));
        close(lock_fd);
        errno = saved;
        return NULL;
    }
    rp_log *lg = xcalloc(1, sizeof *lg);
    lg->path = xstrdup(path);
    lg->backups = backups;
    lg->fp = fp;
    lg->lock_fd = lock_fd;
    struct stat sb;
    if (fstat(fileno(fp), &sb) == 0 && sb.st_size > 0)
        lg->day = rplog_day((double)sb.st_mtime);
    return lg;
}

/* Appends the content of src to dst, then removes src. */
static int append_file(const char *src, const char *dst)
{
    FILE *in = fopen(src, "r");
    FILE *out = in ? open_append(dst) : NULL;
    int rc = in && out ? 0 : -1;
    char buf[65536];
    size_t n;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, n, out) != n)
            rc = -1;
    if (in && ferror(in))
        rc = -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (in)
        fclose(in);
    if (rc == 0 && unlink(src) != 0)
        rc = -1;
    return rc;
}

static int is_rotated_name(const char *name, const char *base)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || name[bl] != '.' || strlen(name + bl + 1) != 10)
        return 0;
    const char *d = name + bl + 1; /* YYYY-MM-DD */
    for (int i = 0; i < 10; i++) {
        int dash = (i == 4 || i == 7);
        if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9'))
            return 0;
    }
    return 1;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rotated files of the log at path, <base>.YYYY-MM-DD, sorted oldest first (the names
 * sort by date), and the directory they are in (*dir; caller frees it, the names and the
 * array). NULL with *n = 0 when there are none; -1 when the directory cannot be listed
 * (errno set), else 0. */
static int list_rotated(const char *path, char **dir, char ***names, size_t *n)
{
    char *dcopy = xstrdup(path), *bcopy = xstrdup(path);
    *dir = xstrdup(dirname(dcopy));
    const char *base = basename(bcopy);
    *names = NULL;
    *n = 0;
    DIR *d = opendir(*dir);
    int err = d ? 0 : errno;
    if (d) {
        struct dirent *de;
        while ((de = readdir(d))) {
            if (!is_rotated_name(de->d_name, base))
                continue;
            *names = xrealloc(*names, (*n + 1) * sizeof **names);
            (*names)[(*n)++] = xstrdup(de->d_name);
        }
        closedir(d);
        if (*n > 1)
            qsort(*names, *n, sizeof **names, cmp_str);
    }
    free(dcopy);
    free(bcopy);
    errno = err;
    return err ? -1 : 0;
}

static void free_names(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* Keeps the newest `backups` rotated files. */
static void prune(const rp_log *lg)
{
    if (lg->backups <= 0)
        return;
    char *dir, **names;
    size_t n;
    if (list_rotated(lg->path, &dir, &names, &n) < 0)
        bs_warn("cannot list log directory (%s): %s", dir, strerror(errno));
    for (size_t i = 0; i + (size_t)lg->backups < n; i++) {
        char *full = xasprintf("%s/%s", dir, names[i]);
        if (unlink(full) != 0 && errno != ENOENT)
            bs_warn("cannot remove old log file (%s): %s", full, strerror(errno));
        free(full);
    }
    free_names(names, n);
    free(dir);
}

char *rplog_newest_rotated(const char *path)
{
    char *dir, **names;
    size_t n;
    list_rotated(path, &dir, &names, &n);
    char *full = n ? xasprintf("%s/%s", dir, names[n - 1]) : NULL;
    free_names(names, n);
    free(dir);
    return full;
}

static void rotate(rp_log *lg)
{
    char *dst = xasprintf("%s.%04ld-%02ld-%02ld", lg->path, lg->day / 10000, lg->day / 100 % 100,
                          lg->day % 100);
    if (fclose(lg->fp) != 0)
        bs_warn("error closing log file (%s): %s", lg->path, strerror(errno));
    lg->fp = NULL;
    int rc;
    if (access(dst, F_OK) == 0) /* the clock went back and forth: keep both days' lines */
        rc = append_file(lg->path, dst);
    else
        rc = rename(lg->path, dst);
    if (rc != 0)
        bs_warn("cannot rotate log file (%s to %s): %s", lg->path, dst, strerror(errno));
    free(dst);
    lg->fp = open_append(lg->path);
    prune(lg);
}

int rplog_write(rp_log *lg, double now, const char *level, const char *text)
{
    if (rplog_put(lg, now, level, text) != 0)
        return -1;
    return rplog_flush(lg);
}

int rplog_flush(rp_log *lg)
{
    if (lg->fp && (fflush(lg->fp) != 0 || ferror(lg->fp))) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int rplog_put(rp_log *lg, double now, const char *level, const char *text)
{
    long day = rplog_day(now);
    if (lg->day && day > lg->day)
        rotate(lg);
    if (!lg->fp && !(lg->fp = open_append(lg->path)))
        return -1;
    if (!lg->day || day > lg->day)
        lg->day = day;
    char t[40];
    fmt_log_time(now, t, sizeof t);
    if (fprintf(lg->fp, "%s,%s,%s,%s\n", t, LOG_LOGGER_NAME, level, text) < 0 || ferror(lg->fp)) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

int rplog_close(rp_log *lg)
{
    int rc = 0;
    if (lg->fp && fclose(lg->fp) != 0)
        rc = -1;
    close(lg->lock_fd); /* releases the lock */
    free(lg->path);
    free(lg);
    return rc;
}
