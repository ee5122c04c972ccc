/* Fuzz target: URL helpers of act-http (base URL, allowlist, List-Unsubscribe parsing).
 * Input: the bytes as a URL, and as a List-Unsubscribe / List-Unsubscribe-Post value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/act-http/urls.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    char *base, *host;
    char *fb, *fh, *cb, *ch;
    if (url_base_fast(s, &fb, &fh) == 0) { /* the fast path must agree with libcurl */
        if (url_base_curl(s, &cb, &ch) != 0 || strcmp(fb, cb) != 0 || strcmp(fh, ch) != 0)
            abort();
        free(fb);
        free(fh);
        free(cb);
        free(ch);
    }
    if (url_base(s, &base, &host) == 0) {
        static const char *const allow[] = {"a.test", "127.0.0.1:80", "[::1]"};
        (void)url_allowlisted(host, base, allow, 3);
        if (strncmp(base, "http", 4) != 0)
            abort();
        free(base);
        free(host);
    }
    for (int insecure = 0; insecure < 2; insecure++) {
        char *u = unsub_uri(s, insecure);
        if (u && strncmp(u, insecure ? "http" : "https://", insecure ? 4 : 8) != 0 &&
            strncasecmp(u, "https://", 8) != 0 && strncasecmp(u, "http://", 7) != 0)
            abort();
        free(u);
    }
    (void)unsub_one_click(s);
    free(s);
    return 0;
}
