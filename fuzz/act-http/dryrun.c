/* Fuzz target: one record through the act-http engine in dry-run mode (no network):
 * plan parsing, URL classification, unsubscribe headers, the http object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../src/act-http/engine.h"
#include "record.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static act_engine *eng;
    static FILE *sink;
    static bs_config *cfg; /* kept for the life of the engine */
    if (!eng) {
        sink = fopen("/dev/null", "w");
        act_config ac;
        cfg = cfg_empty();
        if (act_config_load(cfg, &ac) < 0)
            abort();
        ac.dry_run = 1;
        eng = engine_new(&ac, sink);
    }
    json_t *rec = rec_parse_line((const char *)data, size, "fuzz", 1, NULL);
    engine_submit(eng, rec);
    if (engine_pending(eng) != 0)
        abort(); /* a dry run never holds a record */
    return 0;
}
