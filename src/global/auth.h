/* auth.h — message authentication for ingest: DKIM (libopendkim) and SPF (libspf2).
 *
 * One auth_ctx per thread (libopendkim and libspf2 handles are not shared across threads).
 * auth_check adds to `rec` the objects "dkim" and "spf" described in
 * bouncy-sink-records(5). Keys come from DNS, or from [Verify] DKIM_Key_File
 * (OpenDKIM's file query method: lines "selector._domainkey.domain TXT-record-text").
 * [Verify] SPF = off records {"result":"off"} without evaluating.
 */
#ifndef BS_GLOBAL_AUTH_H
#define BS_GLOBAL_AUTH_H

#include <jansson.h>
#include <stddef.h>

#include "config.h"
#include "auth_signed.h"

typedef struct auth_ctx auth_ctx;

/* NULL on a configuration error, with *err (caller frees) in the FILE:LINE: form. */
auth_ctx *auth_new(bs_config *cfg, char **err);
void auth_free(auth_ctx *a);

/* msg/len: the whole message as stored (header, empty line, body), CRLF or LF line ends.
 * client_ip, helo, mail_from may be NULL when unknown (SPF is then "none" with a reason).
 * *cover (overwritten; sig_cover_clear it after use) says what the signature that decided
 * a DKIM pass covers (auth_signed.h). */
void auth_check(auth_ctx *a, const char *msg, size_t len, const char *client_ip, const char *helo,
                const char *mail_from, json_t *rec, sig_cover *cover);

#endif
