/* fuzz/global/authctx.h — included by the fuzz targets that verify DKIM (dkimverify,
 * dkimadopt): an auth context read from a configuration written to a fresh temporary
 * directory, with SPF off and DKIM keys from a key file holding KEY_LINE (NULL: an empty
 * key file), plus the ini text EXTRA before the [Verify] section. The files are removed
 * once read; any failure aborts (a fuzz target has no way to report it). */
#ifndef BS_FUZZ_AUTHCTX_H
#define BS_FUZZ_AUTHCTX_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "auth.h"
#include "config.h"
#include "util.h"

static auth_ctx *fuzz_auth_ctx(const char *key_line, const char *extra)
{
    char dir[] = "/tmp/bs-fuzz-auth-XXXXXX";
    if (!mkdtemp(dir))
        abort();
    char *keys = xasprintf("%s/keys.txt", dir), *ini = xasprintf("%s/sink.ini", dir);
    FILE *fp = fopen(keys, "w");
    if (!fp)
        abort();
    if (key_line)
        fprintf(fp, "%s\n", key_line);
    fclose(fp);
    fp = fopen(ini, "w");
    if (!fp)
        abort();
    fprintf(fp, "%s[Verify]\nDKIM_Key_File = %s\nSPF = off\n", extra, keys);
    fclose(fp);
    char *err = NULL;
    bs_config *cfg = cfg_load(ini, &err);
    auth_ctx *a = cfg ? auth_new(cfg, &err) : NULL;
    if (!a)
        abort();
    cfg_free(cfg);
    unlink(ini);
    unlink(keys);
    rmdir(dir);
    free(ini);
    free(keys);
    return a;
}

#endif
