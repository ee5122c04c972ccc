/* esmtp.h — the parameters of MAIL and RCPT (RFC 5321 section 4.1.2 esmtp-param words).
 *
 * MAIL takes SIZE (RFC 1870), BODY=7BIT|8BITMIME (RFC 6152), RET and ENVID (RFC 3461) and
 * SMTPUTF8 (RFC 6531); RCPT takes NOTIFY and ORCPT (RFC 3461). The DSN and SMTPUTF8 words
 * are read by src/global/dsn.c, which also writes them into the spool file. Words are
 * separated by blanks; an unknown keyword is refused (555), a bad value is a syntax error
 * (501), a SIZE over the limit is 552.
 */
#ifndef LISTEN_ESMTP_H
#define LISTEN_ESMTP_H

#include "dsn.h"
#include "util.h"

typedef enum { ESMTP_OK, ESMTP_SYNTAX, ESMTP_TOO_BIG, ESMTP_UNKNOWN } esmtp_result;

/* The parameter words of MAIL (rcpt 0) or RCPT (rcpt 1) in rest. ESMTP_SYNTAX: *why says
 * what was expected; ESMTP_UNKNOWN: *word is the word (caller frees); both NULL else. */
esmtp_result esmtp_params(const char *rest, int rcpt, long max_size, dsn_params *p, char **word,
                          const char **why);

/* The EHLO lines of the extensions this file implements ("250-DSN\r\n" ...). */
void esmtp_ehlo_lines(bs_buf *out);

#endif
