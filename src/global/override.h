/* override.h — sender-chosen outcomes: one grammar, read by listen (the recipient's local
 * part, at RCPT) and decide (the local part of a replayed message, and a DKIM-signed header
 * field).
 *
 *   tag       = "+bs-" directive          ; the last "+bs-" of the local part, any case
 *   field     = "X-Bouncy-Sink-Outcome:" directive   ; counts only when DKIM-signed
 *   directive = reply / defer / action
 *   reply     = ("4" / "5") 2DIGIT ["-" enhanced]    ; 550, 550-5.1.1, 452-4.2.2
 *   defer     = "defer-until-" time                  ; 4xx until then, then as usual
 *   time      = 8DIGIT "t" 6DIGIT "z"                ; 20261206t190000z, UTC
 *             / 1*12DIGIT                            ; epoch seconds
 *   action    = "accept" / "oob" / "fbl" / "ooto" / "unsub" / "open-click" / "openclick"
 *
 * A reply is answered in-band (the table's text for that code and enhanced code when it
 * has one, else the code as given); an action is the stream the message is planned for,
 * as if sent to that subdomain (the same DKIM gate, so an override never makes the sink
 * fetch or mail anything an unsigned message could not). In a header field only actions
 * count: the field is read after the message was accepted.
 */
#ifndef BS_OVERRIDE_H
#define BS_OVERRIDE_H

#include <stddef.h>

#define OVERRIDE_FIELD "X-Bouncy-Sink-Outcome"
#define OVERRIDE_TAG "+bs-"

typedef enum { OV_NONE, OV_REPLY, OV_DEFER, OV_ACTION } ov_kind;

typedef struct {
    ov_kind kind;
    int code;          /* OV_REPLY */
    char enhanced[16]; /* OV_REPLY: "" when not given */
    double until;      /* OV_DEFER: epoch seconds */
    int route;         /* OV_ACTION: enum bs_route of the stream */
    char text[48];     /* the directive, lower case, for records and the log */
} bs_override;

/* A directive [s, s+n): 0 ok, -1 not one (*why). */
int override_parse(const char *s, size_t n, bs_override *o, const char **why);

/* The tag of a local part [local, local+n): 1 found (*o set), 0 none, -1 a tag whose
 * directive is not one (*why). */
int override_from_local(const char *local, size_t n, bs_override *o, const char **why);

/* The local part of an address (up to its last '@'): as override_from_local. */
int override_from_address(const char *addr, size_t n, bs_override *o, const char **why);

#endif
