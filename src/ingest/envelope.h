/* envelope.h — the SMTP envelope as recorded in a spooled message's trace fields.
 *
 * Our listener and PowerMTA both prepend
 *   Return-Path: <sender>
 *   Received: from <helo> (<client ip>) by <host> id <id> for <rcpt>; <date>
 *             (envelope-from <sender>)
 * The Received parser also understands the common MTA variants of the comment after the
 * HELO name ("(rdns [192.0.2.1])", "([IPv6:2001:db8::1])") and a "for" clause without
 * angle brackets. Every field is NULL when unknown.
 */
#ifndef BS_INGEST_ENVELOPE_H
#define BS_INGEST_ENVELOPE_H

#include <jansson.h>

typedef struct {
    char *mail_from;     /* Return-Path, else the Received envelope-from comment; "" = <> */
    char *rcpt;          /* Received "for" */
    char *client_ip;     /* the address in the comment after the HELO name */
    char *helo;          /* Received "from" */
    char *received;      /* Received date as ISO-8601 UTC, e.g. 2018-06-04T17:56:34Z */
    char *envelope_from; /* Received "(envelope-from <x>)" */
} ing_envelope;

void envelope_clear(ing_envelope *env); /* frees the fields and sets them to NULL */

/* Fills from a Received field value (unfolded or not). */
void envelope_parse_received(const char *value, ing_envelope *env);

/* The address of a Return-Path value: "<a@b>" -> "a@b", "<>" -> "", NULL when the
 * value holds no path at all. */
char *envelope_parse_path(const char *value);

/* Sets rec.envelope to the known fields (always an object). */
void envelope_to_json(const ing_envelope *env, json_t *rec);

#endif
