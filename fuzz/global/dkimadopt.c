/* Fuzz target: ingest's reuse of listen's DKIM verdicts (auth_check_reusing,
 * dkimv_adopt): the input as a stored message, then the same with listen's field
 * (dkim=pass for d=sender.test s=s1) above it, so that every input's DKIM-Signature fields
 * reach the header-only parse. Keys come from an empty key file (no DNS): a verification
 * gives none or permerror, and a taken verdict must be all pass, the first chosen. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "authctx.h"
#include "util.h"

static auth_ctx *ctx;

static void setup(void)
{
    ctx = fuzz_auth_ctx(NULL, "[Listen]\nHostname = sink.test\n");
}

static void check(const char *p, size_t n)
{
    auth_results r;
    json_t *ar = NULL;
    int reused = -1;
    auth_check_reusing(ctx, p, n, NULL, &r, &ar, &reused);
    if (reused == 1) {
        if (r.dkim.nsigs == 0 || r.dkim.chosen != 0 || !r.dkim.cover.pass || !ar)
            abort();
        for (size_t i = 0; i < r.dkim.nsigs; i++)
            if (r.dkim.sigs[i].result != AUTH_PASS)
                abort();
    } else if (reused != 0) {
        abort();
    }
    json_t *rec = json_object();
    auth_json(&r, rec);
    char *s = json_dumps(rec, JSON_COMPACT);
    if (!s)
        abort();
    free(s);
    json_decref(rec);
    json_decref(ar);
    auth_results_clear(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        bs_set_progname("fuzz-global-dkimadopt");
        setup();
    }
    check((const char *)data, size);
    static const char field[] = "Authentication-Results: sink.test;\r\n"
                                "\tdkim=pass header.d=sender.test header.s=s1\r\n";
    char *m = xmalloc(sizeof field - 1 + size + 1);
    memcpy(m, field, sizeof field - 1);
    memcpy(m + sizeof field - 1, data, size);
    check(m, sizeof field - 1 + size);
    free(m);
    return 0;
}
