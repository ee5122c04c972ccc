/* libFuzzer target: the grammar of sender-chosen outcomes (src/global/override.c), as a
 * local part and as a header value. Checks what listen and decide rely on: a reply is a 4xx
 * or 5xx code with an enhanced code of its class, an action is a plannable stream, the
 * directive text is bounded and NUL-terminated. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "override.h"
#include "route.h"

static void check(int rc, const bs_override *o)
{
    if (rc <= 0 && rc != 0 && o->kind != OV_NONE && rc != -1)
        abort();
    if (memchr(o->text, 0, sizeof o->text) == NULL)
        abort();
    switch (o->kind) {
    case OV_REPLY:
        if (o->code < 400 || o->code > 599)
            abort();
        if (o->enhanced[0] && o->enhanced[0] - '0' != o->code / 100)
            abort();
        break;
    case OV_ACTION:
        if (o->route < RT_ACCEPT || o->route >= RT_PLAN_COUNT)
            abort();
        break;
    case OV_DEFER:
        if (o->until < 0)
            abort();
        break;
    case OV_NONE:
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bs_override o;
    const char *why;
    int rc = override_from_local((const char *)data, size, &o, &why);
    if (rc == 1)
        check(rc, &o);
    else if (rc == 0 && o.kind != OV_NONE)
        abort();
    if (override_parse((const char *)data, size, &o, &why) == 0)
        check(0, &o);
    rc = override_from_address((const char *)data, size, &o, &why);
    if (rc == 1)
        check(rc, &o);
    return 0;
}
