/* auth_spf.h — SPF evaluation (private to the auth module, auth.c), on libspf2.
 *
 * One spf_checker per thread (an SPF_server_t with its own DNS cache layer).
 */
#ifndef BS_GLOBAL_AUTH_SPF_H
#define BS_GLOBAL_AUTH_SPF_H

#include "auth.h"

typedef struct spf_checker spf_checker;

/* NULL on failure with *err (caller frees) saying why. */
spf_checker *spfc_new(char **err);
void spfc_free(spf_checker *c);

/* RFC 7208 check_host() for MAIL FROM (an empty sender means postmaster@helo) into *out
 * (overwritten). Any argument may be NULL when unknown. */
void spfc_check(spf_checker *c, const char *client_ip, const char *helo, const char *mail_from,
                auth_spf *out);

#endif
