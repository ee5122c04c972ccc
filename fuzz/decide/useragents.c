/* libFuzzer target: the User-Agent CSV reader (model_read_user_agents: RFC 4180 quoting
 * over lines with LF, CRLF or CR ends). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/decide/model.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/bs-fuzz-ua-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        unlink(path);
        return 0;
    }
    close(fd);
    char **v = NULL, *why = NULL;
    size_t n = 0;
    int rc = model_read_user_agents(path, &v, &n, &why);
    unlink(path);
    if (rc < 0) {
        if (!why || v || n)
            abort();
        free(why);
        return 0;
    }
    if (!n)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (!*v[i] || strchr(v[i], '\n') || strchr(v[i], '\r'))
            abort(); /* empty or control characters are refused */
        free(v[i]);
    }
    free(v);
    return 0;
}
