/* jwrite.h — write JSON text exactly as jansson's json_dumps(JSON_COMPACT) prints it, for a
 * hot path that knows its record's shape (listen's blackhole and in-band records) and so
 * need not build a json_t tree and dump it. The caller writes the punctuation and keys
 * in jansson's order (insertion order); these put the values.
 *
 * jw_string requires valid UTF-8 without NUL (bs_utf8_valid): for anything else jansson
 * refuses the string (json_string returns NULL) and the caller must take the jansson path,
 * which stays the reference. tests/unit/lib/jwrite_test.c compares both byte for byte.
 */
#ifndef BS_JWRITE_H
#define BS_JWRITE_H

#include <stddef.h>

#include "util.h"

/* S (N bytes, valid UTF-8) as a JSON string: quoted, with jansson's escapes (\" \\ \b \f
 * \n \r \t, other controls as \u00XX with upper-case hex digits; '/' and non-ASCII as
 * they are). */
void jw_string(bs_buf *b, const char *s, size_t n);

/* V as jansson prints a JSON integer. */
void jw_int(bs_buf *b, long long v);

#endif
