/* libFuzzer target: RFC 9477 CFBL-Address checks (src/global/cfbl.c). Input: a line with
 * a signature's d=, a line with its h=, then a header block. Checks that an aligned result
 * names one valid mailbox and that the record field can be built. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cfbl.h"
#include "domain.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *in = xstrndup((const char *)data, size);
    char *nl1 = strchr(in, '\n');
    char *nl2 = nl1 ? strchr(nl1 + 1, '\n') : NULL;
    if (!nl2) {
        free(in);
        return 0;
    }
    *nl1 = *nl2 = 0;
    auth_dkim_sig sig = {AUTH_PASS, in, (char *)"s", (char *)"", nl1 + 1};
    auth_dkim d = {.sigs = &sig, .nsigs = 1, .chosen = 0};
    const char *block = nl2 + 1;
    size_t n = size - (size_t)(block - in);
    cfbl_result r;
    if (cfbl_check(block, n, &d, &r)) {
        if (r.aligned && (!r.address || !bs_mailbox_valid(r.address, strlen(r.address))))
            abort();
        json_t *rec = json_object();
        cfbl_json(&r, rec);
        json_decref(rec);
        cfbl_clear(&r);
    }
    free(in);
    return 0;
}
