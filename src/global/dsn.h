/* dsn.h — the ESMTP parameters a sender gives for one recipient: RFC 3461 DSN (NOTIFY,
 * RET, ENVID, ORCPT) and RFC 6531 SMTPUTF8, once for listen (which reads them on MAIL and
 * RCPT) and ingest (which reads listen's trace field back into the record).
 *
 * listen writes them above its Received field, next to the route trace (route.h), as
 *     X-Bouncy-Sink-DSN: RET=HDRS ENVID=abc+2B1 NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b SMTPUTF8
 * the same KEY=xtext words the client sent, re-encoded (always ASCII); only a field above
 * the topmost Received field counts, as for the route (a sender's copy comes below).
 *
 * Values are bounded as RFC 3461 says (ENVID 100, ORCPT 500 characters as sent); decoded,
 * ENVID is printable ASCII, ORCPT printable ASCII (rfc822) or UTF-8 (utf-8 type, or raw
 * UTF-8 under SMTPUTF8). A parameter given twice is an error (RFC 3461 section 4).
 */
#ifndef BS_DSN_H
#define BS_DSN_H

#include <jansson.h>
#include <stddef.h>

#include "util.h"

#define DSN_TRACE_FIELD "X-Bouncy-Sink-DSN"
#define DSN_ENVID_MAX 100
#define DSN_ORCPT_MAX 500
/* RET=FULL returns a body up to this size; a larger message gets its headers returned
 * (RFC 3461 section 4.3 lets an MTA return less than asked). */
#define DSN_RETURN_MAX (128 * 1024)

enum { DSN_NOTIFY_SUCCESS = 1, DSN_NOTIFY_FAILURE = 2, DSN_NOTIFY_DELAY = 4, DSN_NOTIFY_NEVER = 8 };
typedef enum { DSN_RET_UNSET, DSN_RET_FULL, DSN_RET_HDRS } dsn_ret;

typedef struct {
    unsigned notify; /* DSN_NOTIFY_* bits; 0: not given */
    dsn_ret ret;
    int smtputf8;
    char *envid;      /* decoded; NULL: not given */
    char *orcpt_type; /* addr-type, lower case ("rfc822", "utf-8"); NULL: not given */
    char *orcpt;      /* decoded address */
} dsn_params;

/* Where a parameter was given: MAIL takes RET, ENVID, SMTPUTF8; RCPT takes NOTIFY, ORCPT;
 * the trace field takes all. */
typedef enum { DSN_AT_MAIL, DSN_AT_RCPT, DSN_AT_TRACE } dsn_where;

/* One "KEY[=VALUE]" word [tok, tok+n). 1: taken into *p; 0: not one of these parameters
 * (the caller's: SIZE, BODY, or unknown); -1: bad value or given twice, *why says which
 * (a static text). */
int dsn_param(dsn_params *p, const char *tok, size_t n, dsn_where where, const char **why);

/* A blank-separated list of such words (the trace field value): 0 ok, -1 with *why. Words
 * that are not DSN parameters are errors here. */
int dsn_params_parse(dsn_params *p, const char *s, size_t n, const char **why);

/* True when any parameter was given. */
int dsn_params_any(const dsn_params *p);

/* The words of the MAIL parameters m and the RCPT parameters r (either may be NULL), as
 * the trace field value (no field name, no line end). */
void dsn_params_format(const dsn_params *m, const dsn_params *r, bs_buf *out);

/* The trace field in a header block (above the topmost Received field only): 1 found and
 * parsed into *p, 0 none, -1 present but malformed (*why). */
int dsn_from_trace(const char *block, size_t n, dsn_params *p, const char **why);

/* rec.dsn = {"notify": ["SUCCESS", ...], "ret": "HDRS", "envid": S, "orcpt": "rfc822;ADDR"}
 * with the fields given, and rec.smtputf8 = true under SMTPUTF8; nothing when none. */
void dsn_params_json(const dsn_params *p, json_t *rec);

/* RFC 3461 section 4 xtext: decode [s, s+n) (NULL when malformed; caller frees), encode
 * (appends; bytes outside 33..126, '+' and '=' become +XX). */
char *dsn_xtext_decode(const char *s, size_t n, size_t *outlen);
void dsn_xtext_encode(const char *s, bs_buf *out);

void dsn_params_clear(dsn_params *p);

#endif
