/* jsonout.c — compact JSON writer (see jsonout.h). */
#include "jsonout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void out_string(bs_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF"; /* as jansson */
    buf_reserve(b, n + 2);
    buf_putc(b, '"');
    size_t run = 0; /* start of the pending run of bytes that need no escaping */
    for (size_t i = 0; i < n; i++) {
        /* Skip eight bytes at a time while none is a control character, '"' or '\\'
         * (whole-word tests: "has a byte < 0x20" and "has a zero byte" after XOR). */
        while (i + 8 <= n) {
            const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
            uint64_t w, q, bs;
            memcpy(&w, s + i, 8);
            q = w ^ (ones * '"');
            bs = w ^ (ones * '\\');
            if (((w - ones * 0x20) & ~w & highs) || ((q - ones) & ~q & highs) ||
                ((bs - ones) & ~bs & highs))
                break;
            i += 8;
        }
        if (i >= n)
            break;
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            buf_append(b, esc, 6);
            continue;
        }
        buf_append(b, esc, 2);
    }
    buf_append(b, s + run, n - run);
    buf_putc(b, '"');
}

void json_out(bs_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        buf_putc(b, '{');
        const char *key;
        json_t *val;
        int first = 1;
        json_object_foreach((json_t *)v, key, val)
        {
            if (!first)
                buf_putc(b, ',');
            first = 0;
            out_string(b, key, strlen(key));
            buf_putc(b, ':');
            json_out(b, val);
        }
        buf_putc(b, '}');
        break;
    }
    case JSON_ARRAY: {
        buf_putc(b, '[');
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                buf_putc(b, ',');
            json_out(b, json_array_get(v, i));
        }
        buf_putc(b, ']');
        break;
    }
    case JSON_STRING:
        out_string(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_TRUE:
        buf_puts(b, "true");
        break;
    case JSON_FALSE:
        buf_puts(b, "false");
        break;
    case JSON_NULL:
        buf_puts(b, "null");
        break;
    default: { /* JSON_REAL: jansson's own formatting */
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        buf_puts(b, s ? s : "null");
        free(s);
        break;
    }
    }
}
