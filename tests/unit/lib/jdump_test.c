/* Unit tests for jc_dump_string and jc_dump_int (src/lib/jcanon.c): strings and integers
 * printed byte for byte as jansson's json_dumps(JSON_COMPACT) prints them, over fixed cases
 * and random valid UTF-8. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcanon.h"
#include "rng.h"
#include "tap.h"
#include "util.h"

/* 1 when jc_dump_string(S) is what jansson prints for the string S (N bytes) */
static int same_string(const char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    char *ref = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    bs_buf b;
    buf_init(&b);
    jc_dump_string(&b, s, n);
    buf_putc(&b, '\0');
    int same = ref && strcmp(ref, b.data) == 0;
    if (!same)
        printf("#   jansson '%s', jc_dump_string '%s'\n", ref ? ref : "(refused)", b.data);
    free(ref);
    json_decref(j);
    buf_free(&b);
    return same;
}

static int same_int(long long v)
{
    json_t *j = json_integer(v);
    char *ref = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    bs_buf b;
    buf_init(&b);
    jc_dump_int(&b, v);
    buf_putc(&b, '\0');
    int same = strcmp(ref, b.data) == 0;
    free(ref);
    json_decref(j);
    buf_free(&b);
    return same;
}

int main(void)
{
    bs_set_progname("jdump_test");
    static const char *cases[] = {
        "",
        "plain ascii",
        "quote \" backslash \\ slash /",
        "\b\f\n\r\t",
        "\x01\x1f\x7f",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e",
        "a long run of plain text before an escape, longer than sixteen bytes\n and after",
        "\xe2\x80\xa8 line separator",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char desc[80];
        snprintf(desc, sizeof desc, "jc_dump_string prints case %zu as jansson does", i);
        ok(same_string(cases[i], strlen(cases[i])), desc);
    }
    static const long long ints[] = {0, 1, -1, 9, 10, 250, 1048576, INT64_MAX, INT64_MIN};
    int all = 1;
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        all &= same_int(ints[i]);
    ok(all, "jc_dump_int prints integers (0, +-1, limits) as jansson does");

    /* random strings of controls, specials, ASCII and multi-byte UTF-8; the valid ones
     * (bs_utf8_valid, the writer's precondition) must print as jansson prints them */
    static const char *pieces[] = {"\"",
                                   "\\",
                                   "/",
                                   "\n",
                                   "\x01",
                                   "\x1f",
                                   "a",
                                   "Z",
                                   " ",
                                   "\xc3\xa9",
                                   "\xe2\x82\xac",
                                   "\xf0\x9f\x98\x80",
                                   "\x7f",
                                   "0123456789abcdef",
                                   "\xc3",
                                   "\xed\xa0\x80"};
    bs_rng r;
    bs_rng_seed(&r, 21);
    int checked = 0, valid = 0, agree = 1;
    for (int k = 0; k < 20000; k++) {
        char s[256];
        size_t n = 0, parts = bs_rng_below(&r, 24);
        for (size_t p = 0; p < parts; p++) {
            const char *piece = pieces[bs_rng_below(&r, sizeof pieces / sizeof *pieces)];
            size_t len = strlen(piece);
            if (n + len >= sizeof s)
                break;
            memcpy(s + n, piece, len);
            n += len;
        }
        checked++;
        if (!bs_utf8_valid(s, n)) {
            json_t *j = json_stringn(s, n);
            agree &= j == NULL; /* jansson refuses what the writer does not take */
            json_decref(j);
            continue;
        }
        valid++;
        if (!same_string(s, n)) {
            agree = 0;
            break;
        }
    }
    ok(agree && valid > 1000 && valid < checked,
       "20,000 random strings: the valid ones print as jansson prints them, jansson refuses "
       "the others");
    return done_testing();
}
