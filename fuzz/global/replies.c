/* Fuzz target: the in-band reply table parser (src/global/replies.c), then picking,
 * filling and formatting every reply it accepted, and keeping the 5xx class as act-smtp
 * does: what is kept agrees with its class. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replies.h"
#include "rng.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reply_table t;
    char *err = NULL;
    if (replies_parse((const char *)data, size, "fuzz", &t, &err) < 0) {
        if (!err)
            abort();
        free(err);
        return 0;
    }
    bs_rng r;
    bs_rng_seed(&r, size);
    reply_vars v = {"user", "inband.bouncy-sink.test", "192.0.2.1", "a@b.test"};
    for (size_t i = 0; i < t.n; i++) {
        bs_buf text, out;
        buf_init(&text);
        buf_init(&out);
        replies_fill(&t.v[i], &v, &r, &text);
        replies_format(t.v[i].code, t.v[i].enhanced, text.data, text.len, &out);
        /* every line of the reply is at most 512 octets and starts with the code */
        const char *p = out.data;
        while (*p) {
            const char *nl = strstr(p, "\r\n");
            if (!nl || nl - p + 2 > 512 || strncmp(p, out.data, 3) != 0)
                abort();
            p = nl + 2;
        }
        buf_free(&text);
        buf_free(&out);
    }
    size_t k = replies_pick(&t, &r, 550, "5.1.1");
    if (k >= t.n)
        abort();
    size_t kept = replies_retain_class(&t, 5);
    if (kept != t.n)
        abort();
    for (size_t i = 0; i < t.n; i++)
        if (t.v[i].code / 100 != 5 || t.v[i].enhanced[0] != '5')
            abort();
    replies_free(&t);
    return 0;
}
