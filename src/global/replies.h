/* replies.h — the in-band reply table (random_bounce:<code> <enhanced> <text>), read by
 * listen (in-band replies) and act-smtp (the Diagnostic-Code of a DSN): one loader, one
 * rule for a bad line, one set of placeholder values.
 *
 * Every line is validated when the table is loaded: a bad line is an error naming
 * FILE:LINE. Blank lines and lines starting with '#' are ignored. The text may hold the
 * placeholders <RCPT_USER> <RCPT_DOMAIN> <SENDER_IPADDRESS> <ORIG> <HEXDUMP>
 * <OTHER_IPADDRESS> <OTHER_USER> <RCPT_SERVER>; any other <UPPER_CASE> word is an error.
 */
#ifndef BS_REPLIES_H
#define BS_REPLIES_H

#include <stddef.h>

#include "rng.h"
#include "util.h"

typedef struct {
    int code;          /* 400-599 */
    char enhanced[16]; /* e.g. "5.1.1" */
    char *text;        /* with placeholders */
} inband_reply;

typedef struct {
    inband_reply *v;
    size_t n;
} reply_table;

/* Parses a whole table held in memory. 0 ok; -1 with *err = "NAME:LINE: why" (caller
 * frees). The table is empty-initialised first; an empty table is an error. */
int replies_parse(const char *data, size_t len, const char *name, reply_table *out, char **err);
int replies_load(const char *path, reply_table *out, char **err);
void replies_free(reply_table *t);
/* Keeps only the replies of class cls (4 or 5) whose enhanced code has the same class
 * (a DSN's Status must agree with its Diagnostic-Code); returns how many are left. */
size_t replies_retain_class(reply_table *t, int cls);

/* Index of a random reply: code 0 = any; else the replies with that code (and enhanced
 * code when not NULL); when none match, with that code; then with that class (4 or 5);
 * then any. */
size_t replies_pick(const reply_table *t, bs_rng *r, int code, const char *enhanced);

/* Parses a local part naming a reply ("452", "550-5.1.1", "550_5.1.1"): 1 and the code
 * (and enhanced into enh, "" if none), or 0 when it is not a code. */
int replies_code_of(const char *local, int *code, char *enh, size_t enhsize);

/* The values of the placeholders of one message; NULL takes the default: RCPT_USER
 * "user", RCPT_DOMAIN "example.test", SENDER_IPADDRESS "192.0.2.1", ORIG "". */
typedef struct {
    const char *rcpt_user, *rcpt_domain, *client_ip, *orig;
} reply_vars;

/* The reply text with placeholders filled (random plausible values drawn from r: HEXDUMP
 * 12-16 upper-case hex digits, OTHER_IPADDRESS in the documentation networks of RFC 5737,
 * OTHER_USER a role or person name, RCPT_SERVER a mail host under RCPT_DOMAIN). A CR or
 * LF in a value becomes a blank: the result is one line. */
void replies_fill(const inband_reply *rep, const reply_vars *vars, bs_rng *r, bs_buf *out);

/* Appends the SMTP reply lines ("550-5.1.1 ...\r\n" ... "550 5.1.1 ...\r\n") for code,
 * enhanced and text, splitting lines longer than 510 octets at blanks. */
void replies_format(int code, const char *enhanced, const char *text, size_t textlen, bs_buf *out);

#endif
