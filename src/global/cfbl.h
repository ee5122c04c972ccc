/* cfbl.h — RFC 9477 Complaint Feedback Loop: may a message's CFBL-Address receive the
 * complaint about it?
 *
 * Only when exactly one CFBL-Address field holds one mailbox (addr-spec, optionally
 * "; report=arf"), and a valid DKIM signature covers that field (its h= lists it for that
 * instance, auth_signed.h) and CFBL-Feedback-ID when there is one, aligned as RFC 9477
 * section 3.1 requires:
 *   - CFBL-Address domain = From domain: a covering signature with d= that domain;
 *   - CFBL-Address domain under the From domain: a covering signature whose d= is the From
 *     domain or a parent of it;
 *   - otherwise (a third party): a covering signature whose d= is the CFBL-Address domain
 *     or a parent of it, and another whose d= is the From domain or a parent of it.
 * Anything else leaves the complaint to the existing Return-Path mapping.
 */
#ifndef BS_CFBL_H
#define BS_CFBL_H

#include <jansson.h>
#include <stddef.h>

#include "auth.h"

#define CFBL_ADDRESS_FIELD "CFBL-Address"
#define CFBL_FEEDBACK_ID_FIELD "CFBL-Feedback-ID"

typedef struct {
    char *address;     /* the CFBL-Address mailbox (NULL when the field is unusable) */
    char *feedback_id; /* CFBL-Feedback-ID value, NULL when absent */
    int aligned;       /* 1: complaints may go to address */
    const char *why;   /* when not aligned: a static text */
} cfbl_result;

/* The header block [block, block+n) and the message's DKIM outcome: 0 when there is no
 * CFBL-Address field (*out cleared), else 1 with *out filled. */
int cfbl_check(const char *block, size_t n, const auth_dkim *dkim, cfbl_result *out);
/* rec.cfbl = {"address", "feedback_id", "aligned", "reason"} (each when known). */
void cfbl_json(const cfbl_result *r, json_t *rec);
void cfbl_clear(cfbl_result *r);

#endif
