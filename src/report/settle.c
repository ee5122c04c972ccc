/* settle.c — delete or keep processed spool files, only inside the claimed directory. */
#include "settle.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "util.h"

struct rp_settle {
    char *claimed_path;
    char *done_path;        /* NULL: files are deleted */
    int claimed_fd;         /* -1 until opened */
    struct stat claimed_st; /* claimed_fd's, fstat'ed when opened (its inode never changes) */
    int done_fd;            /* -1 until opened */
};

rp_settle *settle_new(const char *claimed_dir, const char *done_dir)
{
    rp_settle *s = xcalloc(1, sizeof *s);
    s->claimed_path = xstrdup(claimed_dir);
    s->done_path = done_dir && *done_dir ? xstrdup(done_dir) : NULL;
    s->claimed_fd = -1;
    s->done_fd = -1;
    return s;
}

void settle_free(rp_settle *s)
{
    if (!s)
        return;
    if (s->claimed_fd >= 0)
        close(s->claimed_fd);
    if (s->done_fd >= 0)
        close(s->done_fd);
    free(s->claimed_path);
    free(s->done_path);
    free(s);
}

int settle_keeps(const rp_settle *s, int has_error, int store_done)
{
    return s->done_path && (has_error || store_done);
}

static int open_dir(const char *path)
{
    return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static int same_inode(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* Whether the directory `dir` is the claimed directory. The descriptor is opened once;
 * on a mismatch it is opened again by name, in case the spool was recreated. */
static int is_claimed_dir(rp_settle *s, const struct stat *dir, const char **why)
{
    if (s->claimed_fd >= 0 && same_inode(&s->claimed_st, dir))
        return 1;
    int fd = open_dir(s->claimed_path);
    if (fd < 0) {
        *why = "the spool's claimed directory cannot be opened";
        return 0;
    }
    if (s->claimed_fd >= 0)
        close(s->claimed_fd);
    s->claimed_fd = fd;
    if (fstat(fd, &s->claimed_st) != 0) {
        *why = "the spool's claimed directory cannot be opened";
        close(fd);
        s->claimed_fd = -1;
        return 0;
    }
    if (same_inode(&s->claimed_st, dir))
        return 1;
    *why = "not in the spool's claimed directory";
    return 0;
}

int settle_check(rp_settle *s, const char *path, const char **name, const char **why)
{
    *name = NULL;
    *why = NULL;
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    /* What ingest claims: a *.msg file, not hidden; never "." or "..". */
    if (n < 5 || n > NAME_MAX || base[0] == '.' || strcmp(base + n - 4, ".msg") != 0) {
        *why = "not the name of a spool file (*.msg)";
        return -1;
    }
    char *dir = !slash          ? xstrdup(".")
                : slash == path ? xstrdup("/")
                                : xstrndup(path, (size_t)(slash - path));
    struct stat sb;
    int rc = stat(dir, &sb);
    free(dir);
    if (rc != 0 || !S_ISDIR(sb.st_mode)) {
        *why = "not in the spool's claimed directory";
        return -1;
    }
    if (!is_claimed_dir(s, &sb, why))
        return -1;
    if (fstatat(s->claimed_fd, base, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(sb.st_mode)) {
        *why = "not a regular file (a symbolic link, directory or device)";
        return -1;
    }
    *name = base;
    return 0;
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

/* renameat, or copy and unlink across file systems; never through a symbolic link. */
static int move_file(int from_dir, int to_dir, const char *name)
{
    if (renameat(from_dir, name, to_dir, name) == 0)
        return 0;
    if (errno != EXDEV)
        return -1;
    int in = openat(from_dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    struct stat sb;
    if (fstat(in, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(in);
        errno = EINVAL;
        return -1;
    }
    int out = openat(to_dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
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
        return unlinkat(from_dir, name, 0);
    unlinkat(to_dir, name, 0);
    errno = saved;
    return -1;
}

int settle_file(rp_settle *s, const char *name, int keep)
{
    int rc = 0;
    char *shown = NULL;
    if (!keep) {
        if (unlinkat(s->claimed_fd, name, 0) != 0) {
            shown = fmt_diag(name);
            bs_warn("cannot delete settled file (%s/%s): %s", s->claimed_path, shown,
                    strerror(errno));
            rc = -1;
        }
        free(shown);
        return rc;
    }
    if (s->done_fd < 0) {
        if (make_dirs(s->done_path) != 0 || (s->done_fd = open_dir(s->done_path)) < 0) {
            bs_warn("cannot create Done_Msg_File_Dest (%s): %s", s->done_path, strerror(errno));
            return -1;
        }
    }
    if (move_file(s->claimed_fd, s->done_fd, name) != 0) {
        shown = fmt_diag(name);
        bs_warn("cannot move settled file (%s/%s to %s): %s", s->claimed_path, shown, s->done_path,
                strerror(errno));
        rc = -1;
    }
    free(shown);
    return rc;
}
