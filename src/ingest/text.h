/* text.h — small text helpers for ingest. */
#ifndef BS_INGEST_TEXT_H
#define BS_INGEST_TEXT_H

#include <stddef.h>

/* A NUL-terminated copy of [p, p+n) that is valid UTF-8 without NUL bytes: each invalid
 * byte (and NUL) becomes U+FFFD. *changed (when not NULL) is set when anything was
 * replaced. */
char *text_utf8_repair(const char *p, size_t n, int *changed);

/* A copy of s without leading and trailing blanks (space, tab, CR, LF). */
char *text_trimmed(const char *s);

/* True when [p, p+n) is 16 hexadecimal digits. */
int text_is_hex16(const char *p, size_t n);

#endif
