/* auth.c — message authentication for ingest: glue between the configuration,
 * the DKIM verifier (dkim.c) and the SPF checker (spf.c). See auth.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth_dkim.h"
#include "auth_spf.h"
#include "util.h"

struct auth_ctx {
    dkim_verifier *dkim;
    spf_checker *spf; /* NULL when [Verify] SPF = off */
};

auth_ctx *auth_new(bs_config *cfg, char **err)
{
    const char *key_file = NULL;
    int spf_on = 1;
    *err = NULL;
    if (cfg_string(cfg, "Verify", "DKIM_Key_File", NULL, &key_file) < 0 ||
        cfg_bool(cfg, "Verify", "SPF", 1, &spf_on) < 0) {
        *err = xstrdup(cfg_error(cfg));
        return NULL;
    }
    if (key_file && *key_file == '\0')
        key_file = NULL;
    if (key_file && access(key_file, R_OK) != 0) {
        cfg_fail(cfg, "Verify", "DKIM_Key_File", "cannot read %s: %s", key_file, strerror(errno));
        *err = xstrdup(cfg_error(cfg));
        return NULL;
    }
    auth_ctx *a = xcalloc(1, sizeof *a);
    char *why = NULL;
    a->dkim = dkimv_new(key_file, &why);
    if (!a->dkim) {
        *err = xasprintf("%s: DKIM set-up failed: %s", cfg_path(cfg), why ? why : "?");
        free(why);
        auth_free(a);
        return NULL;
    }
    if (spf_on) {
        a->spf = spfc_new(&why);
        if (!a->spf) {
            *err = xasprintf("%s: SPF set-up failed: %s", cfg_path(cfg), why ? why : "?");
            free(why);
            auth_free(a);
            return NULL;
        }
    }
    return a;
}

void auth_free(auth_ctx *a)
{
    if (!a)
        return;
    if (a->dkim)
        dkimv_free(a->dkim);
    if (a->spf)
        spfc_free(a->spf);
    free(a);
}

void auth_check(auth_ctx *a, const char *msg, size_t len, const char *client_ip, const char *helo,
                const char *mail_from, json_t *rec, sig_cover *cover)
{
    json_object_set_new(rec, "dkim", dkimv_check(a->dkim, msg, len, cover));
    if (a->spf)
        json_object_set_new(rec, "spf", spfc_check(a->spf, client_ip, helo, mail_from));
    else
        json_object_set_new(rec, "spf", json_pack("{s:s}", "result", "off"));
}
