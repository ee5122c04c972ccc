/* Unit tests for src/lib/jcanon.c: a line is taken as canonical exactly when jansson would
 * print the same bytes for it, and the wanted members come back as raw values. */
#include <stdlib.h>
#include <string.h>

#include "jcanon.h"
#include "record.h"
#include "tap.h"
#include "util.h"

/* 1 when jc_dump gives json_dumps's bytes for V (both failing counts too); consumes V. */
static int dumps_like_jansson(json_t *v)
{
    bs_buf b;
    buf_init(&b);
    int r = jc_dump(&b, v);
    char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    int same = want ? r == 0 && strcmp(b.data, want) == 0 : r < 0;
    free(want);
    buf_free(&b);
    json_decref(v);
    return same;
}

/* canonical(LINE) per jc_record_scan, checked against jansson when accepted. */
static int canonical(const char *line)
{
    jc_want w[2] = {{"kind", {NULL, 0}}, {"plan.actions", {NULL, 0}}};
    size_t n = strlen(line);
    if (!jc_record_scan(line, n, w, 2))
        return 0;
    const char *why;
    json_t *rec = rec_parse_line(line, n, "t", 1, &why);
    char *text = json_dumps(rec, JSON_COMPACT);
    int same = !why && text && strcmp(text, line) == 0;
    free(text);
    /* jc_build: jansson's tree, members in the order of the line */
    json_t *built = jc_build(line, n);
    text = json_dumps(built, JSON_COMPACT);
    same = same && json_equal(built, rec) && text && strcmp(text, line) == 0;
    free(text);
    json_decref(built);
    json_decref(rec);
    return same ? 1 : -1; /* -1: accepted but jansson disagrees (a bug) */
}

int main(void)
{
    bs_set_progname("jcanon_test");
    static const struct {
        const char *line;
        int want;
        const char *desc;
    } cases[] = {
        {"{\"v\":1,\"kind\":\"message\",\"id\":\"a\"}", 1, "a minimal record"},
        {"{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"x\":\"\\u0001\\u001F\\b\\f\\n\\r\\t\\\"\\\\/"
         "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e\"}",
         1, "jansson's escapes and raw UTF-8"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"n\":[0,-1,123456789012345678,0.5,1e20,"
         "0.10000000000000001,1.0,true,false,null,{},[],\"\"]}",
         1, "numbers as jansson writes them"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\\u0008\"}", 0, "\\u0008 (jansson: \\b)"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\\u001f\"}", 0, "lower-case \\u001f"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\\/\"}", 0, "\\/"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\\u00e9\"}", 0, "\\u00e9"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\\u0000\"}", 0, "\\u0000"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\xff\"}", 0, "invalid UTF-8"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"x\":\"\xed\xa0\x80\"}", 0, "a UTF-8 surrogate"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"n\":-0}", 0, "-0"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"n\":1e+20}", 0, "1e+20 (jansson: 1e20)"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"n\":0.2}", 0,
         "0.2 (jansson: 0.20000000000000001)"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"n\":1234567890123456789}", 0, "19 digits"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"a\":1,\"a\":2}", 0, "a duplicate key"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"o\":{\"a\":1,\"b\":{\"a\":1},\"a\":2}}", 0,
         "a nested duplicate key"},
        {"{ \"v\":1,\"kind\":\"m\",\"id\":\"a\"}", 0, "white space"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\"} ", 0, "trailing white space"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"\"}", 0, "an empty id"},
        {"{\"v\":1,\"kind\":1,\"id\":\"a\"}", 0, "a kind that is not a string"},
        {"{\"v\":2,\"kind\":\"m\",\"id\":\"a\"}", 0, "v 2"},
        {"{\"v\":1.0,\"kind\":\"m\",\"id\":\"a\"}", 0, "v 1.0"},
        {"{\"kind\":\"m\",\"id\":\"a\"}", 0, "no v"},
        {"[{\"v\":1,\"kind\":\"m\",\"id\":\"a\"}]", 0, "not an object"},
        {"{\"v\":1,\"kind\":\"m\",\"id\":\"a\"", 0, "truncated"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        is_int(canonical(cases[i].line), cases[i].want, cases[i].desc);

    /* 70 levels of arrays: valid for jansson, left to it */
    char deep[200] = "{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"d\":";
    size_t n = strlen(deep);
    for (int i = 0; i < 70; i++)
        deep[n++] = '[';
    for (int i = 0; i < 70; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    deep[n] = 0;
    is_int(canonical(deep), 0, "nesting over 64 levels: the slow path");

    const char *line = "{\"v\":1,\"kind\":\"message\",\"id\":\"a\",\"plan\":{\"stream\":\"x\","
                       "\"actions\":[[\"oob\"],{\"oob\":\"fbl\"},\"open\",\"fb\"]},"
                       "\"actions\":[\"fbl\"]}";
    jc_want w[3] = {{"kind", {NULL, 0}}, {"plan.actions", {NULL, 0}}, {"urls", {NULL, 0}}};
    ok(jc_record_scan(line, strlen(line), w, 3), "a record with a plan");
    ok(jc_is_string(w[0].val, "message") && !jc_is_string(w[0].val, "messag"), "kind");
    is_int((int)w[1].val.n, (int)strlen("[[\"oob\"],{\"oob\":\"fbl\"},\"open\",\"fb\"]"),
           "plan.actions is the raw array");
    ok(jc_array_has_string(w[1].val, "open"), "open among the actions");
    ok(!jc_array_has_string(w[1].val, "oob"), "oob only nested: not an action");
    ok(!jc_array_has_string(w[1].val, "fbl"), "fbl only as a value: not an action");
    ok(!jc_array_has_string(w[1].val, "f"), "a prefix is not an action");
    ok(w[2].val.p == NULL, "an absent member");
    {
        /* jc_array_next: the top-level elements in order, nested ones whole */
        static const char *const want_el[] = {"[\"oob\"]", "{\"oob\":\"fbl\"}", "\"open\"",
                                              "\"fb\""};
        const char *pos = NULL;
        jc_span el;
        size_t k = 0;
        int same = 1;
        while (jc_array_next(w[1].val, &pos, &el)) {
            same &= k < 4 && el.n == strlen(want_el[k]) && memcmp(el.p, want_el[k], el.n) == 0;
            k++;
        }
        ok(same && k == 4, "jc_array_next: the four elements of plan.actions");
        pos = NULL;
        ok(!jc_array_next((jc_span){"[]", 2}, &pos, &el), "jc_array_next: none in []");
        pos = NULL;
        ok(!jc_array_next(w[0].val, &pos, &el), "jc_array_next: a string is no array");
    }
    ok(!jc_nonempty(w[2].val) && jc_nonempty(w[1].val), "jc_nonempty");

    /* jc_string: a string value unescaped, anything else NULL */
    static const char raw[] = "\"a\\\"b\\u00e9\\n\\/\"";
    json_t *s = jc_string((jc_span){raw, sizeof raw - 1});
    ok(s && strcmp(json_string_value(s), "a\"b\xc3\xa9\n/") == 0, "jc_string unescapes");
    json_decref(s);
    ok(!jc_string((jc_span){"[\"a\"]", 5}) && !jc_string((jc_span){NULL, 0}) &&
           !jc_string((jc_span){"1", 1}),
       "jc_string: NULL for an array, a number, an absent value");
    s = jc_string((jc_span){"\"\"", 2});
    ok(s && json_string_length(s) == 0, "jc_string: the empty string");
    json_decref(s);

    /* jc_dump: jansson's compact text, byte for byte */
    ok(dumps_like_jansson(json_pack("{s:[{s:s,s:i},{s:s,s:s}],s:{s:i,s:i},s:[s],s:{}}", "open",
                                    "url", "http://h/q/1?a=b&c=\"d\"", "status", 200, "url",
                                    "http://h/\xc3\xa9", "error", "a\tb\\c", "not_tracking", "open",
                                    2, "click", -7, "errors", "!x", "e")),
       "jc_dump: an http object");
    static const char ctl[] = "\x01\x1f\x7f\b\f\n\r\t\"\\/ \0z";
    ok(dumps_like_jansson(json_stringn(ctl, sizeof ctl - 1)),
       "jc_dump: control characters, DEL, NUL, quotes, slash");
    ok(dumps_like_jansson(json_string("\xe2\x80\xa8 \xf0\x9d\x84\x9e \xef\xbf\xbf")),
       "jc_dump: raw UTF-8 (U+2028, astral)");
    ok(dumps_like_jansson(
           json_pack("[f,f,f,I,b,b,n,[],{}]", 0.5, 1e20, 0.1, -((json_int_t)1 << 62), 1, 0)),
       "jc_dump: reals, a large integer, literals, empty containers");
    json_t *o = json_object();
    json_object_setn_new(o, "k\0\xc3\xa9", 4, json_null());
    json_object_set_new(o, "b", json_true());
    json_object_set_new(o, "a", json_false());
    ok(dumps_like_jansson(o), "jc_dump: keys in insertion order, a NUL in a key");
    ok(dumps_like_jansson(json_pack("[o]", json_stringn_nocheck("a\xff", 2))),
       "jc_dump: fails where jansson does (not UTF-8)");
    ok(dumps_like_jansson(json_stringn_nocheck("\xed\xa0\x80", 3)),
       "jc_dump: a surrogate is not UTF-8 either");
    /* jc_build on the raw text of members, as jansson loads them */
    const char *nums = "{\"v\":1,\"kind\":\"m\",\"id\":\"a\",\"r\":0.10000000000000001,"
                       "\"i\":-123456789012345678,\"k\\n\\u0001\":{\"\\\"\":[\"\\t\"]},\"e\":1e20}";
    jc_want m[3] = {{"r", {NULL, 0}}, {"i", {NULL, 0}}, {"e", {NULL, 0}}};
    ok(jc_record_scan(nums, strlen(nums), m, 3), "a record with numbers and escaped keys");
    json_t *r = jc_build(m[0].val.p, m[0].val.n), *i = jc_build(m[1].val.p, m[1].val.n),
           *e = jc_build(m[2].val.p, m[2].val.n);
    ok(json_is_real(r) && json_real_value(r) == 0.1, "a real member alone");
    ok(json_is_integer(i) && json_integer_value(i) == -123456789012345678LL,
       "an integer member alone, 18 digits");
    ok(json_is_real(e) && json_real_value(e) == 1e20, "an exponent member alone");
    json_decref(r);
    json_decref(i);
    json_decref(e);
    json_t *rec = jc_build(nums, strlen(nums));
    json_t *inner = json_object_get(json_object_get(rec, "k\n\001"), "\"");
    ok(json_is_array(inner) && strcmp(json_string_value(json_array_get(inner, 0)), "\t") == 0,
       "escaped keys and strings unescaped");
    json_decref(rec);
    return done_testing();
}
