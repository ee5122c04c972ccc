/* mkreport.h — building ARF complaints (RFC 5965) and DSN bounces (RFC 3464, RFC 6522).
 *
 * Both reports are multipart/report messages with CRLF line endings, a random boundary,
 * lines of at most 998 octets in the parts we generate, and the original header block
 * embedded byte for byte as text/rfc822-headers (bare LF line ends become CRLF, nothing
 * else is touched: no refolding, no re-serialising).
 *
 * The in-band reply table (data/reference/inband-replies.dat, read by src/global/replies.c)
 * supplies realistic 5xx replies for the DSN's Diagnostic-Code; Status is taken from the
 * reply's enhanced code, so the two always agree.
 */
#ifndef ACT_SMTP_MKREPORT_H
#define ACT_SMTP_MKREPORT_H

#include <stddef.h>

#define ACT_SMTP_VERSION "1.0"

/* The original message, as far as the record tells. */
typedef struct {
    const char *mail_from;    /* envelope sender (Return-Path), required */
    const char *rcpt;         /* original recipient, required */
    const char *client_ip;    /* may be NULL */
    const char *from_header;  /* decoded From: value, may be NULL */
    double arrival;           /* epoch seconds */
    const char *header_block; /* may be NULL */
    size_t header_len;
    /* RFC 3461: the sender's ENVID and ORCPT ("addr-type;address"), each may be NULL; the
     * body for RET=FULL (NULL: the DSN returns the header block only). */
    const char *envid;
    const char *orcpt;
    const char *body;
    size_t body_len;
} mk_orig;

typedef struct {
    const char *hostname;    /* reporting host (Reporting-MTA, Message-ID) */
    const char *report_from; /* ARF From: address */
} mk_opts;

/* Splits "550 5.1.1 text": code into *code, enhanced code copied into enh (>= 16).
 * 0 ok, -1 when the line does not have that shape. */
int mk_reply_parse(const char *line, int *code, char *enh, size_t enhsz);

/* addr-spec of an address field value ("Name <a@b>" -> "a@b"); caller frees; NULL if none. */
char *mk_addr_part(const char *field);
/* The envelope sender of a record, about to become a recipient (OOB, OOTO) and the domain
 * whose MX is looked up. Absent, empty or "<>" (the null sender): MK_RP_NONE. Exactly one
 * mailbox (bs_mailbox_valid), bare or in angle brackets, blanks around allowed: MK_RP_OK
 * and *addr (caller frees). Anything else (a@b@c, "a@b"@c, a list, a source route, a
 * display name): MK_RP_INVALID. *addr is NULL unless MK_RP_OK. */
typedef enum { MK_RP_OK, MK_RP_NONE, MK_RP_INVALID } mk_rp_kind;
mk_rp_kind mk_return_path(const char *field, char **addr);
/* An untrusted value for an error text: printable ASCII kept, anything else '?', cut to
 * at most max octets with "..." (caller frees). */
char *mk_printable(const char *s, size_t max);
/* Domain of an address (after the last '@'), lower-cased; caller frees; NULL if none. */
char *mk_addr_domain(const char *addr);

/* Reports, NUL-terminated, *len set; caller frees. */
char *mk_arf(const mk_opts *opt, const mk_orig *o, const char *to, double now, size_t *len);
/* reply: a filled 5xx line "550 5.1.1 text" (a reply of the in-band table, replies.h). */
char *mk_dsn(const mk_opts *opt, const mk_orig *o, const char *reply, double now, size_t *len);
/* The RFC 3461 success DSN (NOTIFY=SUCCESS): Action: delivered, Status: 2.0.0. */
char *mk_dsn_delivered(const mk_opts *opt, const mk_orig *o, double now, size_t *len);

/* ---- out-of-office auto-replies (RFC 3834) ---- */

/* The unfolded value of the first header field `name` (case-insensitive) in a header
 * block, leading and trailing blanks removed; caller frees; NULL when absent. */
char *mk_header_get(const char *block, size_t len, const char *name);

/* Why an original must not get an auto-reply (RFC 3834 section 2), as a text for
 * "!OOTO not sent, <why>" and a status word; 0 when a reply is allowed. mail_from is the
 * envelope sender as in the record (NULL or "" for the null sender). */
int mk_ooto_refusal(const char *mail_from, const char *header_block, size_t header_len,
                    const char **status, char **why);

/* The original's fields an auto-reply refers to; any may be NULL. */
typedef struct {
    const char *subject;    /* decoded (UTF-8) */
    const char *message_id; /* "<id@host>" */
    const char *references; /* the original References field value */
} mk_ooto_ref;

/* Subject "Out of Office: <subject>", RFC 2047 encoded when not ASCII (caller frees the
 * whole header field, "Subject: ...\r\n", folded). */
char *mk_ooto_subject_field(const char *subject);

/* The auto-reply: From the original recipient, To the envelope sender,
 * Auto-Submitted: auto-replied, In-Reply-To/References, a text/plain body saying the
 * recipient is away until `back` (epoch seconds). */
char *mk_ooto(const mk_opts *opt, const mk_orig *o, const mk_ooto_ref *ref, double now, double back,
              size_t *len);

#endif
