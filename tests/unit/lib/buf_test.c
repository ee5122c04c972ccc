/* Unit tests for bs_buf (src/lib/util.h): the inline appends keep the text NUL-terminated
 * as the buffer grows, and buf_printf writes in one pass when the text fits the room left
 * and measures and writes again when it does not (at the exact boundary too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "util.h"

/* 1 when b holds exactly want, NUL-terminated, within its capacity. */
static int holds(const bs_buf *b, const char *want)
{
    size_t n = strlen(want);
    return b->len == n && b->cap > n && memcmp(b->data, want, n) == 0 && b->data[n] == 0;
}

int main(void)
{
    bs_buf b;
    buf_init(&b);
    buf_putc(&b, 'x');
    ok(holds(&b, "x"), "putc into an empty buffer");
    buf_append(&b, "", 0);
    ok(holds(&b, "x"), "appending nothing keeps the text");
    buf_puts(&b, "yz");
    ok(holds(&b, "xyz"), "puts after putc");
    buf_free(&b);

    /* Growth by single bytes and by pieces, against a reference built separately. */
    char want[5000];
    size_t n = 0;
    for (int i = 0; i < 4000; i++) {
        char c = (char)('a' + i % 26);
        buf_putc(&b, c);
        want[n++] = c;
    }
    want[n] = 0;
    ok(holds(&b, want), "4000 putc grow the buffer and keep it terminated");
    buf_reset(&b);
    ok(holds(&b, ""), "reset empties it");
    n = 0;
    for (int i = 0; i < 300; i++) {
        const char *piece = i % 3 ? "abc" : "0123456789";
        buf_puts(&b, piece);
        memcpy(want + n, piece, strlen(piece));
        n += strlen(piece);
    }
    want[n] = 0;
    ok(holds(&b, want), "300 pieces");
    buf_free(&b);

    /* printf: into nothing, then at every distance from the end of the room. */
    buf_printf(&b, "%d-%s", 42, "x");
    ok(holds(&b, "42-x"), "printf into an empty buffer");
    buf_free(&b);
    int all = 1;
    for (size_t fill = 0; fill < 70; fill++) {
        for (size_t len = 0; len < 70; len++) {
            bs_buf c;
            buf_init(&c);
            buf_reserve(&c, 63); /* capacity 64 */
            char pre[80], arg[80], expect[160];
            memset(pre, 'p', fill);
            pre[fill] = 0;
            memset(arg, 'q', len);
            arg[len] = 0;
            buf_puts(&c, pre);
            buf_printf(&c, "<%s>", arg);
            snprintf(expect, sizeof expect, "%s<%s>", pre, arg);
            if (!holds(&c, expect)) {
                printf("# printf after %zu bytes, %zu more: got '%s'\n", fill, len + 2, c.data);
                all = 0;
            }
            buf_free(&c);
        }
    }
    ok(all, "printf at every distance from the end of the room (fits, exact, over)");
    buf_printf(&b, "%s", "");
    ok(b.len == 0, "printf of nothing");
    buf_free(&b);

    char big[10000];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    buf_puts(&b, "[");
    buf_printf(&b, "%s]%d", big, 7);
    ok(b.len == sizeof big + 2 && b.data[0] == '[' && b.data[sizeof big] == ']' &&
           b.data[sizeof big + 1] == '7' && b.data[b.len] == 0,
       "printf far over the room");
    char *s = buf_steal(&b);
    ok(s && strlen(s) == sizeof big + 2 && b.data == NULL && b.len == 0, "steal hands it over");
    free(s);
    return done_testing();
}
