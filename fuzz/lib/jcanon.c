/* libFuzzer target: the canonical record recogniser (src/lib/jcanon.c), differentially
 * against jansson: a line it accepts must load as a valid record and dump back to the very
 * same bytes (jansson's and jc_dump's), and the wanted members must be jansson's values;
 * jc_string must give jansson's string for a wanted string value, jc_build its value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jcanon.h"
#include "record.h"
#include "util.h"

/* rec_in_next_without(skip) reads what a full parse minus those members gives. */
static void check_without(const char *line, size_t size)
{
    static const char *const skip[] = {"header_block", "v", "x"};
    int fds[2];
    if (size > 60000 || memchr(line, '\n', size) || pipe(fds) < 0)
        return;
    if (write(fds[1], line, size) != (ssize_t)size)
        abort();
    close(fds[1]);
    rec_in *in = rec_in_new(fds[0], "fuzz");
    json_t *got;
    if (rec_in_next_without(in, &got, skip, 3) != 1)
        abort();
    json_t *want = rec_parse_line(line, size, "fuzz", 1, NULL);
    /* a member stays when it is the first one (no comma before it) */
    for (int i = 0; i < 3; i++) {
        size_t kn = strlen(skip[i]);
        if (!(size > kn + 3 && line[1] == '"' && memcmp(line + 2, skip[i], kn) == 0 &&
              line[kn + 2] == '"'))
            json_object_del(want, skip[i]);
    }
    if (!json_equal(got, want))
        abort();
    json_decref(got);
    json_decref(want);
    rec_in_free(in);
    close(fds[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *line = (const char *)data;
    jc_want w[4] = {{"kind", {NULL, 0}},
                    {"plan.actions", {NULL, 0}},
                    {"urls", {NULL, 0}},
                    {"urls.open", {NULL, 0}}};
    if (!jc_record_scan(line, size, w, 4))
        return 0;
    check_without(line, size);
    const char *why;
    json_t *rec = rec_parse_line(line, size, "fuzz", 1, &why);
    if (why)
        abort(); /* accepted a line jansson refuses, or an invalid record */
    char *text = json_dumps(rec, JSON_COMPACT);
    if (!text || strlen(text) != size || memcmp(text, line, size) != 0)
        abort(); /* copying the line would differ from rec_write */
    free(text);
    /* jc_dump writes what jansson writes */
    bs_buf b;
    buf_init(&b);
    if (jc_dump(&b, rec) < 0 || b.len != size || memcmp(b.data, line, size) != 0)
        abort();
    buf_free(&b);
    /* jc_build gives jansson's tree, in the order of the line */
    json_t *built = jc_build(line, size);
    text = json_dumps(built, JSON_COMPACT);
    if (!json_equal(built, rec) || !text || strlen(text) != size || memcmp(text, line, size) != 0)
        abort();
    free(text);
    json_decref(built);
    /* the spans are the members' values as jansson dumps them */
    const char *paths[3] = {"kind", "plan.actions", "urls"};
    for (int i = 0; i < 3; i++) {
        json_t *v = rec_get(rec, paths[i]);
        if (!v != !w[i].val.p)
            abort();
        if (v) {
            char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            if (!t || strlen(t) != w[i].val.n || memcmp(t, w[i].val.p, w[i].val.n) != 0)
                abort();
            free(t);
        }
    }
    json_t *actions = rec_get(rec, "plan.actions");
    static const char *const names[] = {"oob", "fbl", "open", "click"};
    for (int i = 0; i < 4; i++) {
        int has = 0;
        size_t k;
        json_t *a;
        if (json_is_array(actions))
            json_array_foreach(actions, k, a) if (json_is_string(a) &&
                                                  strcmp(json_string_value(a), names[i]) == 0) has =
                1;
        if (has != jc_array_has_string(w[1].val, names[i]))
            abort();
    }
    if (jc_is_string(w[0].val, "message") != (strcmp(rec_kind(rec), "message") == 0))
        abort();
    /* jc_build on a member's value alone: jansson's value, whatever its type */
    json_t *open = rec_get(rec, "urls.open");
    json_t *arr = w[3].val.p ? jc_build(w[3].val.p, w[3].val.n) : NULL;
    if ((arr != NULL) != (open != NULL) || (arr && !json_equal(arr, open)))
        abort();
    json_decref(arr);
    /* jc_string: jansson's string for a string value, else NULL */
    json_t *kind = jc_string(w[0].val), *acts = jc_string(w[1].val);
    if (!kind || !json_equal(kind, json_object_get(rec, "kind")) ||
        (acts != NULL) != json_is_string(actions) || (acts && !json_equal(acts, actions)))
        abort();
    json_decref(kind);
    json_decref(acts);
    json_decref(rec);
    return 0;
}
