/* Fuzz target: the persona file parser (src/global/persona.c), then every rule of what it
 * accepted evaluated at its stage on facts drawn from the input, and its text filled:
 * a match is a rule of that stage, a filled text is one line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "persona.h"
#include "util.h"

static long fuzz_rate(void *ctx, persona_fact f, long window)
{
    const persona_facts *pf = ctx;
    return (pf->v[(size_t)f % PF_NSCALAR] + window) % 7;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    persona p;
    char *err = NULL;
    if (persona_parse((const char *)data, size, "fuzz", "fuzz.persona", &p, &err) < 0) {
        if (!err || strncmp(err, "fuzz.persona", 12) != 0)
            abort();
        free(err);
        return 0;
    }
    if (p.nrules == 0)
        abort();
    persona_facts f = {.rate = fuzz_rate};
    f.rate_ctx = &f;
    for (size_t i = 0; i < PF_NSCALAR; i++)
        f.v[i] = size > i ? data[i] % 9 : 0;
    persona_vars v = {"192.0.2.1", "helo\r\n", "a@b.test", "x@gmail.sink.test",
                      "b.test",    "b.test",   "ptr.test", "sink.test"};
    for (int st = 0; st < PST_COUNT; st++) {
        const persona_rule *r = persona_match(&p, (persona_stage)st, &f);
        if (r && r->stage != (persona_stage)st)
            abort();
    }
    for (size_t i = 0; i < p.nrules; i++) {
        bs_buf b;
        buf_init(&b);
        persona_fill(&p.rules[i], &v, &b);
        if (b.len && (memchr(b.data, '\n', b.len) || memchr(b.data, '\r', b.len)))
            abort();
        if (p.rules[i].code < 400 || p.rules[i].code > 599)
            abort();
        buf_free(&b);
    }
    persona_free(&p);
    return 0;
}
