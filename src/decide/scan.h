/* scan.h — a fast, strict JSON scanner for the common record line.
 *
 * scan_record validates one line and extracts the fields decide needs without building
 * a tree. It accepts only a subset of what jansson accepts (no \u0000 or surrogate
 * escapes, no exponents, no integers over 18 digits, no duplicate or escaped keys,
 * nesting up to 32 levels); for anything else it returns 0 and the caller takes the slow
 * path (rec_parse_line), which stays the reference. So a line the scanner accepts is a
 * line jansson accepts, with the same field values. Wanted strings with escapes are
 * decoded into a buffer of scan.c that stays valid until the next call (not reentrant).
 */
#ifndef DECIDE_SCAN_H
#define DECIDE_SCAN_H

#include <stddef.h>

#include "plan.h"

typedef struct {
    size_t close;   /* offset of the top-level object's closing brace */
    int is_message; /* kind == "message" */
    int has_plan;   /* a top-level "plan" key is present */
    msg_view v;
} scan_out;

/* 1: a valid record (v == 1, kind, non-empty id), fields in *o; 0: take the slow path. */
int scan_record(const char *p, size_t n, scan_out *o);

#endif
