/* Fuzz target: the [Timing] distribution parser (src/global/timing.c), then draws from
 * every distribution it accepts: a draw is finite, >= 0 and never above the cap; the
 * formatted text parses back to the same distribution. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"
#include "timing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0;
    char text[257];
    memcpy(text, data, size);
    text[size] = 0;
    timing_dist d;
    char why[160];
    if (timing_parse(text, &d, why, sizeof why) < 0) {
        if (!why[0])
            abort();
        return 0;
    }
    bs_rng r;
    bs_rng_seed(&r, size);
    for (int i = 0; i < 64; i++) {
        double x = timing_draw(&d, &r);
        if (!isfinite(x) || x < 0 || (d.cap > 0 && x > d.cap))
            abort();
    }
    char again[160];
    timing_format(&d, again, sizeof again);
    timing_dist e;
    if (timing_parse(again, &e, why, sizeof why) < 0 || e.kind != d.kind)
        abort();
    return 0;
}
