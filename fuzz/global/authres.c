/* Fuzz target: the Authentication-Results parser (src/global/auth_ar.c) on a field value
 * and on a whole header block (the trust rule: only our field above the topmost Received
 * field), then what listen writes (auth_ar_header) must parse back to its own values. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "auth_ar.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    json_t *ar = auth_ar_parse(p, size);
    if (ar) {
        json_t *results = json_object_get(ar, "results");
        if (!json_is_string(json_object_get(ar, "authserv_id")) || !json_is_array(results) ||
            json_array_size(results) > 32)
            abort();
        json_decref(ar);
    }
    ar = auth_ar_from_trace(p, size, "sink.test");
    if (ar && strcasecmp(json_string_value(json_object_get(ar, "authserv_id")), "sink.test") != 0)
        abort();
    json_decref(ar);

    /* the input as a d= domain and a From domain: written, then read back the same */
    char *dom = xstrndup(p, size < 200 ? size : 200);
    auth_dkim_sig sig = {AUTH_PASS, dom, "s1", "", NULL};
    auth_results r = {.dkim = {.sigs = &sig, .nsigs = 1, .chosen = 0}};
    r.spf = (auth_spf){AUTH_FAIL, dom, ""};
    r.dmarc = (auth_dmarc){.result = AUTH_FAIL, .from_domain = dom};
    bs_buf b;
    buf_init(&b);
    auth_ar_header(&r, "sink.test", dom, "pass", dom, &b);
    buf_puts(&b, "Received: x\r\n\r\n");
    ar = auth_ar_from_trace(b.data, b.len, "sink.test");
    json_t *res = ar ? json_object_get(ar, "results") : NULL;
    if (!res || json_array_size(res) != 4)
        abort();
    /* printable ASCII strings survive as they were */
    int plain = *dom != 0;
    for (const char *q = dom; *q; q++)
        if ((unsigned char)*q < 0x20 || (unsigned char)*q >= 0x7f)
            plain = 0;
    if (plain) {
        const char *d = json_string_value(json_object_get(json_array_get(res, 2), "header.d"));
        if (!d || strcmp(d, dom) != 0)
            abort();
    }
    json_decref(ar);
    buf_free(&b);
    free(dom);
    return 0;
}
