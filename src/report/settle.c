/* settle.c — delete or keep processed spool files. */
#include "settle.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int settle_keeps(const char *done_dir, int has_error, int store_done)
{
    return done_dir && *done_dir && (has_error || store_done);
}

/* mkdir -p */
static int make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0; s++) {
        int end = (*s == 0);
        if (*s == '/' || end) {
            char saved = *s;
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                rc = -1;
            *s = saved;
        }
        if (end)
            break;
    }
    free(p);
    return rc;
}

/* rename, or copy and unlink across file systems. */
static int move_file(const char *src, const char *dst)
{
    if (rename(src, dst) == 0)
        return 0;
    if (errno != EXDEV)
        return -1;
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) {
        close(in);
        return -1;
    }
    char buf[65536];
    ssize_t n;
    int rc = 0;
    while ((n = read(in, buf, sizeof buf)) > 0)
        if (write(out, buf, (size_t)n) != n) {
            rc = -1;
            break;
        }
    if (n < 0)
        rc = -1;
    int saved = errno;
    if (close(out) != 0)
        rc = -1;
    close(in);
    if (rc == 0)
        return unlink(src);
    unlink(dst);
    errno = saved;
    return -1;
}

int settle_file(const char *path, const char *done_dir, int keep)
{
    if (!keep) {
        if (unlink(path) != 0) {
            bs_warn("cannot delete settled file (%s): %s", path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (make_dirs(done_dir) != 0) {
        bs_warn("cannot create Done_Msg_File_Dest (%s): %s", done_dir, strerror(errno));
        return -1;
    }
    char *copy = xstrdup(path);
    char *dst = xasprintf("%s/%s", done_dir, basename(copy));
    int rc = move_file(path, dst);
    if (rc != 0)
        bs_warn("cannot move settled file (%s to %s): %s", path, dst, strerror(errno));
    free(dst);
    free(copy);
    return rc;
}
