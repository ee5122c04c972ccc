/* libFuzzer target: the JSON string writer (src/lib/jwrite.c), differentially against
 * jansson: for input that is valid UTF-8 (the writer's precondition) it must print exactly
 * what json_dumps prints for the same string; jansson must refuse the rest. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jwrite.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    json_t *j = json_stringn(s, size);
    if (!bs_utf8_valid(s, size)) {
        if (j && memchr(s, 0, size) == NULL)
            abort(); /* jansson took a string the writer's callers hand to jansson */
        json_decref(j);
        return 0;
    }
    char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    bs_buf b;
    buf_init(&b);
    jw_string(&b, s, size);
    if (!ref || strlen(ref) != b.len || memcmp(ref, b.data, b.len) != 0)
        abort();
    jw_int(&b, (long long)size - 1000);
    free(ref);
    buf_free(&b);
    json_decref(j);
    return 0;
}
