/* jcanon.h — recognise a record line that a stage may copy instead of parsing and
 * re-serialising it.
 *
 * jc_record_scan accepts a line only when it is exactly the text jansson prints for it:
 * json_dumps(json_loadb(line, JSON_REJECT_DUPLICATES), JSON_COMPACT) == line, byte for byte
 * (no white space, jansson's escapes and number forms, valid UTF-8, no duplicate keys), and
 * a valid record (an object with "v":1, a string "kind" and a non-empty string "id").
 * So writing such a line as it came is what rec_write would have written after rec_in_next:
 * a stage with nothing to do for the record passes it on unchanged without a parse. For
 * anything else (or anything unusual: depth over 64, integers over 18 digits) it returns 0
 * and the caller takes the jansson path, which stays the reference.
 *
 * The caller names up to JC_MAX_WANT members by path ("kind", "plan.actions": a top-level
 * key or one level below) and gets the raw JSON text of their values (empty span when
 * absent).
 */
#ifndef BS_JCANON_H
#define BS_JCANON_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

#define JC_MAX_WANT 8

typedef struct {
    const char *p;
    size_t n;
} jc_span;

typedef struct {
    const char *path; /* "key" or "key.sub" (plain ASCII keys) */
    jc_span val;      /* raw value text; p == NULL when absent */
} jc_want;

/* 1: LINE (N bytes, no newline) is a canonical valid record; the wanted members are set.
 * 0: take the slow path. */
/* From p, the first byte at or before end that is a quote, a backslash, a control
 * character or not ASCII (end when none): the plain run of a JSON string (SSE2 when built
 * with it). Shared by the record recogniser here and decide's scanner. */
const unsigned char *jc_skip_plain(const unsigned char *p, const unsigned char *end);

/* The content of a JSON string (between its quotes, already validated: escapes well
 * formed, no \u0000, no surrogates) unescaped into OUT, which has room for N bytes: the
 * result is never longer than the raw text. Returns its length. Shared by the canonical
 * recogniser here and decide's scanner. */
size_t jc_unescape(const char *p, size_t n, char *out);
/* The value of a hex digit, -1 when C is none. */
int jc_hexval(char c);

int jc_record_scan(const char *line, size_t n, jc_want *want, size_t nwant);

/* 1 when VAL (raw text of a value found by jc_record_scan) is the JSON string S. */
int jc_is_string(jc_span val, const char *s);

/* 1 when VAL is an array holding the JSON string S among its elements. */
int jc_array_has_string(jc_span val, const char *s);

/* The top-level elements of VAL (raw text of an array found by jc_record_scan), one per
 * call: *POS is NULL on the first call; 1 with *ELEM the next element's raw text, 0 after
 * the last one or when VAL is not an array. */
int jc_array_next(jc_span val, const char **pos, jc_span *elem);

/* 1 when VAL is an array or object with at least one element / member. */
int jc_nonempty(jc_span val);

/* The jansson value of canonical text: a line jc_record_scan accepted, or the raw text of
 * one of its values. The same tree json_loadb(p, n, 0) gives (members in the order of the
 * text), built without jansson's lexer: the text is known valid, so nothing is checked
 * again (never call it on text the recogniser did not accept). */
json_t *jc_build(const char *p, size_t n);

/* The string VAL (a value found by jc_record_scan) as a jansson string (jc_build); NULL
 * when VAL is absent or not a string. */
json_t *jc_string(jc_span val);

/* Appends to B the text json_dumps(V, JSON_COMPACT | JSON_ENCODE_ANY) gives, byte for byte
 * (members in their order, jansson's escapes, raw UTF-8), in one pass without jansson's
 * per-character dumper. -1 (B holding part of it) where jansson fails: a string that is
 * not valid UTF-8. */
int jc_dump(bs_buf *b, const json_t *v);

/* The string S (N bytes) as jc_dump writes a JSON string (jansson's escapes, raw UTF-8):
 * 0, or -1 (B holding part of it) where jansson refuses it: S is not valid UTF-8. */
int jc_dump_string(bs_buf *b, const char *s, size_t n);

/* V as jansson writes a JSON integer. */
void jc_dump_int(bs_buf *b, long long v);

#endif
