/* lines.c — LF, CRLF and CR line ends read alike (see lines.h). */
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void bs_lines_init(bs_lines *it, const char *data, size_t len)
{
    it->p = data;
    it->end = data + len;
    it->lineno = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
        it->p += 3;
}

int bs_lines_next(bs_lines *it, const char **line, size_t *len)
{
    if (it->p >= it->end)
        return 0;
    const char *s = it->p, *e = s;
    while (e < it->end && *e != '\n' && *e != '\r')
        e++;
    *line = s;
    *len = (size_t)(e - s);
    if (e < it->end && *e == '\r' && e + 1 < it->end && e[1] == '\n')
        e++;
    it->p = e < it->end ? e + 1 : e;
    it->lineno++;
    return 1;
}

int bs_read_file(const char *path, size_t max, char **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    bs_buf b;
    buf_init(&b);
    buf_reserve(&b, 0);
    b.data[0] = '\0';
    for (;;) {
        buf_reserve(&b, 64 * 1024);
        ssize_t n = read(fd, b.data + b.len, b.cap - b.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || b.len + (size_t)(n > 0 ? n : 0) > max) {
            int e = n < 0 ? errno : EFBIG;
            close(fd);
            buf_free(&b);
            errno = e;
            return -1;
        }
        if (n == 0)
            break;
        b.len += (size_t)n;
        b.data[b.len] = '\0';
    }
    close(fd);
    *len = b.len;
    *data = buf_steal(&b);
    return 0;
}
