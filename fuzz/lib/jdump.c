/* libFuzzer target: jansson's compact string and integer forms as jc_dump_string and
 * jc_dump_int write them (src/lib/jcanon.c; listen's direct records use them),
 * differentially against jansson: a string jansson takes must print exactly as json_dumps
 * prints it, and one it refuses (not valid UTF-8) must be refused (-1). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcanon.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    json_t *j = json_stringn(s, size);
    bs_buf b;
    buf_init(&b);
    int rc = jc_dump_string(&b, s, size);
    if (!j) {
        if (rc == 0)
            abort(); /* jansson refuses what the writer printed */
    } else {
        char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        if (rc != 0 || !ref || strlen(ref) != b.len || memcmp(ref, b.data, b.len) != 0)
            abort();
        free(ref);
    }
    json_decref(j);
    /* an integer from the input's first bytes */
    long long v = 0;
    memcpy(&v, data, size < sizeof v ? size : sizeof v);
    json_t *i = json_integer(v);
    char *ref = json_dumps(i, JSON_COMPACT | JSON_ENCODE_ANY);
    buf_reset(&b);
    jc_dump_int(&b, v);
    if (!ref || strlen(ref) != b.len || memcmp(ref, b.data, b.len) != 0)
        abort();
    free(ref);
    json_decref(i);
    buf_free(&b);
    return 0;
}
