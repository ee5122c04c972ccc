/* outcomes.h — the outcome codes that one stage writes into a record and another counts
 * (the mail-specific floor: shared vocabulary, not prose).
 *
 * Every outcome a stage records carries a code next to any human text; the text is for
 * the log line, the code is what report counts. The names below are the record values
 * documented in bouncy-sink-records(5):
 *   plan.skip_code      decide's gate, next to plan.skip (the log text);
 *   http.*[].error_code act-http's failed fetch, next to its error text (also in
 *                       http.unsubscribe when no request was made).
 *   error_code          ingest's unreadable message, next to error;
 *   smtp.<kind>.status  act-smtp's outcome (a code from the start; its names are here
 *                       so that report's known counters can be checked against them).
 *
 * Records written before the codes existed lack them: bs_skip_from_text and
 * bs_http_error_from_text derive the code from the text by the rule report used before
 * (only for such records; a present code always wins).
 */
#ifndef BS_OUTCOMES_H
#define BS_OUTCOMES_H

/* Why decide's gate stopped a message (plan.skip_code). */
typedef enum {
    BS_SKIP_NONE = 0,     /* not stopped: no plan.skip */
    BS_SKIP_INPUT_ERROR,  /* "input_error": ingest recorded an error */
    BS_SKIP_DKIM_FAIL,    /* "dkim_fail": DKIM did not pass */
    BS_SKIP_SPF_FAIL,     /* "spf_fail": SPF required for the stream and did not pass */
    BS_SKIP_NO_ONE_CLICK, /* "no_one_click": unsub stream without RFC 8058 headers */
    BS_SKIP_OTHER,        /* a name this build does not know (a newer writer) */
} bs_skip;

/* Why act-http's fetch of a URL failed (error_code beside error). */
typedef enum {
    BS_HTTP_OK = 0,             /* no error */
    BS_HTTP_POLICY_REFUSED,     /* "policy_refused": address outside [Http] policy */
    BS_HTTP_CONNECTION_REFUSED, /* "connection_refused": the server refused the connection */
    BS_HTTP_TIMEOUT,            /* "timeout" */
    BS_HTTP_TOO_LARGE,          /* "too_large": body over [Http] Max_Body_Bytes */
    BS_HTTP_TOO_MANY_REDIRECTS, /* "too_many_redirects" */
    BS_HTTP_TRANSPORT,          /* "transport": any other transport error */
    BS_HTTP_NOT_ATTEMPTED,      /* "not_attempted": no usable URL (unsubscribe) */
    BS_HTTP_OTHER,              /* a name this build does not know (a newer writer) */
} bs_http_error;

/* Why ingest could not read a message completely (error_code beside error; with several
 * problems, the first one found). */
typedef enum {
    BS_READ_OK = 0,
    BS_READ_EMPTY,            /* "empty" */
    BS_READ_TOO_LARGE,        /* "too_large": over [Ingest] Max_Message_Size */
    BS_READ_HEADER_TOO_LARGE, /* "header_too_large": over [Ingest] Max_Header_Size */
    BS_READ_BINARY_HEADER,    /* "binary_header": a NUL byte in the header section */
    BS_READ_NO_HEADER,        /* "no_header": the first line is not a header field */
    BS_READ_BROKEN_HEADER,    /* "broken_header": a later header line is not a field */
    BS_READ_TRUNCATED,        /* "truncated": ends inside the header, a part or a multipart */
    BS_READ_BROKEN_MIME,      /* "broken_mime" */
    BS_READ_OVER_LIMIT,       /* "over_limit": a limit on the structure ([Ingest] Max_MIME_*,
                                 Max_Header_Fields, Max_Decoded_Size) */
    BS_READ_NCODES
} bs_read_error;

const char *bs_read_error_name(bs_read_error code); /* "" for BS_READ_OK */

/* What act-smtp did with an oob, fbl or ooto action (smtp.<kind>.status); report counts
 * <kind>_<status>. */
typedef enum {
    BS_SMTP_SENT,
    BS_SMTP_DRY_RUN,    /* built, not sent (--dry-run) */
    BS_SMTP_SMTP_ERROR, /* the server refused it, or delivery failed */
    BS_SMTP_NO_MX,      /* the Return-Path domain has no usable MX */
    BS_SMTP_MISSING_RETURN_PATH,
    BS_SMTP_INVALID_RETURN_PATH, /* not exactly one mailbox */
    BS_SMTP_MISSING_TO,
    BS_SMTP_RETURN_PATH_NOT_SPARKPOST, /* its MX is not on [RP_MX_domain_allowlist] */
    BS_SMTP_AUTO_SUBMITTED,            /* ooto: the original is itself automatic */
    BS_SMTP_SYSTEM_SENDER,             /* ooto: MAILER-DAEMON, owner-*, *-request */
    BS_SMTP_NOT_REQUESTED,             /* oob: RFC 3461 NOTIFY asked for no failure DSN */
    BS_SMTP_NSTATUS
} bs_smtp_status;

const char *bs_smtp_status_name(bs_smtp_status status);

/* The record value of a code ("" for BS_SKIP_NONE / BS_HTTP_OK, NULL for *_OTHER). */
const char *bs_skip_name(bs_skip code);
const char *bs_http_error_name(bs_http_error code);

/* The code of a record value: NULL gives *_NONE / *_OK, an unknown name *_OTHER. */
bs_skip bs_skip_parse(const char *name);
bs_http_error bs_http_error_parse(const char *name);

/* The code of an old record (no code field), from its text, by report's old rule:
 * plan.skip starting "!DKIM" or "!SPF"; an error text mentioning "refused" (any case). */
bs_skip bs_skip_from_text(const char *skip);
bs_http_error bs_http_error_from_text(const char *error);

/* An HTTP error that report counts as http_refused. */
int bs_http_error_is_refusal(bs_http_error code);

#endif
