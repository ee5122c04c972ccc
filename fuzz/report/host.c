/* Fuzz target: the Host header and configured names (web_host_parse, web_name_parse) and
 * CORS_Origin values (web_origin_valid). Input: one header value, any bytes. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/web.h"
#include "util.h"

/* What a parsed host may hold: lower-case name or IP literal characters, nothing else. */
static void check_host(const char *h, size_t n)
{
    size_t len = strlen(h);
    if (len == 0 || len >= n)
        abort();
    for (const char *p = h; *p; p++)
        if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || strchr(".-_:", *p)))
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = xstrndup((const char *)data, size);
    char out[256], small[8];
    if (web_host_parse(s, out, sizeof out) == 0)
        check_host(out, sizeof out);
    if (web_host_parse(s, small, sizeof small) == 0)
        check_host(small, sizeof small);
    if (web_name_parse(s, out, sizeof out) == 0)
        check_host(out, sizeof out);
    if (web_origin_valid(s) && (strchr(s, '\r') || strchr(s, '\n') || strchr(s, ' ')))
        abort(); /* an origin sent as a header value: never a line break or space */
    free(s);
    return 0;
}
