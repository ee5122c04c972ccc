/* message.h — the message reader: one stored message (header, empty line, body) to the
 * fields of a "message" record (bouncy-sink-records(5)):
 *   size, envelope, headers, header_block, urls, html.
 * The top-level header fields are split by us (the header block must stay byte for
 * byte anyway) and their values decoded with GMime's unfolding and RFC 2047 decoders;
 * the MIME structure is parsed with GMime 3 from the Content-* fields and the body;
 * HTML with libxml2 (html.h). DKIM and SPF are not done here (src/global/auth.h): the
 * caller runs them when msgr_read says the message is readable.
 *
 * One msg_reader per thread (it owns a GMime parser options object with its own warning
 * callback, and an HTML parser context). g_mime_init() and html_global_init() must
 * have been called once before (msgr_global_init does both).
 */
#ifndef BS_INGEST_MESSAGE_H
#define BS_INGEST_MESSAGE_H

#include <jansson.h>
#include <stddef.h>

#include "auth_signed.h"
#include "envelope.h"
#include "mimescan.h"

typedef struct msg_reader msg_reader;

void msgr_global_init(void);
/* lim: the limits on each message (NULL: the defaults of mimescan.h). */
msg_reader *msgr_new(const msg_limits *lim);
void msgr_free(msg_reader *r);
/* The code of the last msgr_read's first problem ("" when it had none): the record's
 * error_code (outcomes.h). */
const char *msgr_error_code(const msg_reader *r);

/* Adds the fields above to rec and fills env (caller envelope_clear's it).
 * *error (caller frees) is set to the problems found, joined with "; ", or NULL.
 * Returns 0 when the message could be parsed (possibly with errors: the fields hold
 * what could be read), -1 when it is unreadable (empty, no header section, binary
 * header, header over the limit: then only size is set) or over one of the limits
 * (MIME parts, depth, header fields, decoded HTML size: then the header fields are set,
 * not the URLs). */
int msgr_read(msg_reader *r, const char *msg, size_t len, json_t *rec, ing_envelope *env,
              char **error);

/* After DKIM (auth_check, auth_json) on the message msgr_read just read: when c (the
 * results' dkim.cover) says a signature passed, keeps in rec only what it signs, so that
 * unsigned content steers no action:
 *   - a message with more than one From, To, Subject, Date or Message-ID field fails:
 *     dkim.result becomes "fail", dkim.reason "duplicate From header field";
 *   - each recorded header (but x_bouncy_sink) comes from the bottom-most instance the
 *     signature's h= covers; a field no instance of which is covered is left out of
 *     headers and named in dkim.unsigned_headers;
 *   - when the body goes on beyond the signature's l=, urls and html come from the lines
 *     the signature covers only, and dkim.unsigned_body is true. */
void msgr_apply_signed(msg_reader *r, const char *msg, size_t len, const sig_cover *c, json_t *rec);

/* Length of the header section (up to, not including, the empty line that ends it);
 * *body is set to the offset of the body (len when there is none) and *terminated to
 * whether an empty line was found. Scans at most max bytes: returns -1 when no end was
 * found within them and the message is longer. */
long msg_header_length(const char *msg, size_t len, size_t max, size_t *body, int *terminated);

#endif
