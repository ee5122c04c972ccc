/* spf.h — SPF evaluation for ingest (private to auth.c), on libspf2.
 *
 * One spf_checker per thread (an SPF_server_t with its own DNS cache layer).
 */
#ifndef BS_GLOBAL_AUTH_SPF_H
#define BS_GLOBAL_AUTH_SPF_H

#include <jansson.h>

typedef struct spf_checker spf_checker;

/* NULL on failure with *err (caller frees) saying why. */
spf_checker *spfc_new(char **err);
void spfc_free(spf_checker *c);

/* RFC 7208 check_host() for MAIL FROM (an empty sender means postmaster@helo).
 * Any argument may be NULL when unknown. Returns a new object
 * {"result","domain","reason"}; result is one of pass fail softfail neutral none
 * temperror permerror. */
json_t *spfc_check(spf_checker *c, const char *client_ip, const char *helo, const char *mail_from);

#endif
