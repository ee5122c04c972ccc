/* Fuzz target: DKIM verification with a key (auth_check, dkimv_check): the input as a
 * stored message, verified against the key of d=sender.test s=s1 that signed the seeds
 * (gen-corpus, relaxed/relaxed), so that mutated signatures, headers and bodies reach the
 * key lookup, the key's decoding, the RSA check and the body hash, all on the verifier's
 * per-message memory for libopendkim (auth_dkim.c, arena_alloc). Each input is verified
 * twice: the same verdict both times, whatever the message before left behind. */
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

/* The public key of the seeds' signer (fuzz/global/seeds-dkimverify). */
static const char key_record[] =
    "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsAzVby1pQRfrEh"
    "rRX4D+KmBwp4UW1u/ij7S5LIAGvCupnwYKiJ8ONYNdB0ycGrDRPvWVge1rg8nsNZHgMj67z0YUS4"
    "XvOKOiqAAjoB6i4UeswknGR8lQXYqOk3ikYH35AzkZoUOqljeZgIAP9BuYmBorniSJ8Ok+HMLVOx"
    "wCyuqCf/5uWMlvcPwVgin4ohuv7Fvc/NNfhHdef50d464xa3Tt/893v7abqXmNmeb1TSAQZk6Qze"
    "Bc9eZZj0QJVyECFbFF45TfffX8c2YVFJEX/NSV5qo4+thq8PaliesNuVWeT9DlJOGcDvCheXPZzB"
    "Zngx2WpT/ZEqskLhu4jHLLYQIDAQAB";

static void setup(void)
{
    char *line = xasprintf("s1._domainkey.sender.test %s", key_record);
    ctx = fuzz_auth_ctx(line, "");
    free(line);
}

/* The verdict as one string: every signature's result, domain, selector and reason. */
static char *verdict(const char *p, size_t n)
{
    auth_results r;
    auth_check(ctx, p, n, NULL, &r);
    const auth_dkim *d = &r.dkim;
    if ((d->nsigs == 0) != (d->chosen < 0) || (d->chosen >= 0 && (size_t)d->chosen >= d->nsigs))
        abort();
    if (d->cover.pass != (d->chosen >= 0 && d->sigs[d->chosen].result == AUTH_PASS))
        abort();
    bs_buf b;
    buf_init(&b);
    buf_printf(&b, "%s %s|", auth_result_name(d->message.result),
               d->message.reason ? d->message.reason : "");
    for (size_t i = 0; i < d->nsigs; i++)
        buf_printf(&b, "%s %s %s %s|", auth_result_name(d->sigs[i].result), d->sigs[i].domain,
                   d->sigs[i].selector, d->sigs[i].reason);
    json_t *rec = json_object();
    auth_json(&r, rec);
    char *s = json_dumps(rec, JSON_COMPACT);
    if (!s)
        abort();
    buf_puts(&b, s);
    free(s);
    json_decref(rec);
    auth_results_clear(&r);
    return buf_steal(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ctx) {
        bs_set_progname("fuzz-global-dkimverify");
        setup();
    }
    char *first = verdict((const char *)data, size);
    char *again = verdict((const char *)data, size);
    if (strcmp(first, again) != 0)
        abort();
    free(first);
    free(again);
    return 0;
}
