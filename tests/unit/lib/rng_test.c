/* Unit tests for src/lib/rng.c: the reference outputs, and the "random below n" draws that
 * decide (multiply-shift), listen (modulo) and gen-corpus (splitmix64 modulo) take from it,
 * pinned so that their seeded outputs cannot drift. */
#include <math.h>

#include "rng.h"
#include "tap.h"
#include "util.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

static void pinned(const char *desc, const uint64_t *got, const uint64_t *want, int n)
{
    int same = 1;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            printf("#   draw %d: got %llu, expected %llu\n", i, (unsigned long long)got[i],
                   (unsigned long long)want[i]);
            same = 0;
        }
    ok(same, desc);
}

int main(void)
{
    uint64_t x = 0;
    ok(bs_splitmix64(&x) == 0xe220a8397b1dcdafULL,
       "splitmix64 reference: seed 0 gives e220a839...");
    bs_rng r = {{1, 2, 3, 4}};
    ok(bs_rng_next(&r) == 11520, "xoshiro256** reference: state {1,2,3,4} gives 11520");

    /* The same draws as the reductions written out, from a copy of the state. */
    bs_rng a, b;
    bs_rng_seed(&a, 99);
    b = a;
    int mul = 1, mod = 1;
    for (uint64_t n = 1; n < 5000; n += 7) {
        uint64_t v = bs_rng_next(&b);
        mul &= bs_rng_below(&a, n) == (uint64_t)(((unsigned __int128)v * n) >> 64);
        v = bs_rng_next(&b);
        mod &= bs_rng_below_mod(&a, n) == v % n;
    }
    ok(mul, "bs_rng_below is the multiply-shift of one draw");
    ok(mod, "bs_rng_below_mod is one draw modulo n");
    uint64_t s1 = 5, s2 = 5;
    int smod = 1, suni = 1;
    for (uint64_t n = 1; n < 5000; n += 7) {
        smod &= bs_splitmix64_below(&s1, n) == bs_splitmix64(&s2) % n;
        suni &=
            bs_splitmix64_uniform(&s1) == (double)(bs_splitmix64(&s2) >> 11) / 9007199254740992.0;
    }
    ok(smod, "bs_splitmix64_below is one splitmix64 value modulo n");
    ok(suni, "bs_splitmix64_uniform is its top 53 bits over 2^53");

    /* n == 0 draws nothing useful but is defined; n == 1 always 0. */
    bs_rng_seed(&a, 1);
    x = 1;
    is_int(bs_rng_below(&a, 0), 0, "bs_rng_below(0) is 0");
    is_int(bs_rng_below_mod(&a, 0), 0, "bs_rng_below_mod(0) is 0");
    is_int(bs_splitmix64_below(&x, 0), 0, "bs_splitmix64_below(0) is 0");
    is_int(bs_rng_below(&a, 1) + bs_rng_below_mod(&a, 1) + bs_splitmix64_below(&x, 1), 0,
           "below(1) is 0");
    is_int(bs_random_below(0), 0, "bs_random_below(0) is 0");

    /* Pinned sequences (seed 42, n 1000): the seeded outputs of decide, listen, gen-corpus. */
    uint64_t got[5];
    bs_rng_seed(&a, 42);
    for (int i = 0; i < 5; i++)
        got[i] = bs_rng_below(&a, 1000);
    pinned("bs_rng_below seed 42", got, (const uint64_t[]){83, 378, 680, 924, 991}, 5);
    bs_rng_seed(&a, 42);
    for (int i = 0; i < 5; i++)
        got[i] = bs_rng_below_mod(&a, 1000);
    pinned("bs_rng_below_mod seed 42", got, (const uint64_t[]){742, 102, 9, 193, 476}, 5);
    x = 42;
    for (int i = 0; i < 5; i++)
        got[i] = bs_splitmix64_below(&x, 1000);
    pinned("bs_splitmix64_below seed 42", got, (const uint64_t[]){413, 291, 858, 764, 250}, 5);

    /* Hex: the same draws in either case (listen's lower-case ids, the reply table's upper-case
     * HEXDUMP), eight bytes to a draw, low byte first. */
    char lower[2 * 9 + 1], upper[2 * 9 + 1];
    bs_rng_seed(&a, 7);
    bs_rng_hex(&a, lower, 9, 0);
    uint64_t after_lower = bs_rng_next(&a);
    bs_rng_seed(&a, 7);
    bs_rng_hex(&a, upper, 9, 1);
    is_int((long long)strlen(lower), 18, "bs_rng_hex: 2 digits a byte");
    is_int((long long)strspn(lower, "0123456789abcdef"), 18, "lower case digits only");
    is_int((long long)strspn(upper, "0123456789ABCDEF"), 18, "upper case digits only");
    is_int(strcasecmp(lower, upper), 0, "the same bytes whatever the case");
    is_int(bs_rng_next(&a) == after_lower, 1, "nine bytes cost two draws");
    bs_rng_seed(&a, 7);
    uint64_t first = bs_rng_next(&a);
    char want[3];
    snprintf(want, sizeof want, "%02x", (unsigned)(first & 0xff));
    is_int(strncmp(lower, want, 2), 0, "the first byte is the low byte of the first draw");

    /* Every value in range and each seen; the uniforms in [0, 1) around 0.5. */
    int seen[7] = {0}, range = 1;
    unsigned k[7] = {0};
    bs_rng_seed(&a, 3);
    double lo = 1, hi = 0, sum = 0;
    for (int i = 0; i < 70000; i++) {
        uint64_t v1 = bs_rng_below(&a, 7), v2 = bs_rng_below_mod(&a, 7);
        uint64_t v3 = bs_splitmix64_below(&x, 7), v4 = bs_random_below(7);
        range &= v1 < 7 && v2 < 7 && v3 < 7 && v4 < 7;
        if (range) {
            seen[v1] = seen[v2] = seen[v3] = seen[v4] = 1;
            k[v3]++;
        }
        double u = bs_splitmix64_uniform(&x);
        lo = u < lo ? u : lo;
        hi = u > hi ? u : hi;
        sum += u;
    }
    ok(range, "every draw below n");
    int all = 1, flat = 1;
    for (int i = 0; i < 7; i++) {
        all &= seen[i];
        flat &= k[i] > 9000 && k[i] < 11000;
    }
    ok(all && flat, "every value drawn, roughly flat");
    ok(lo >= 0 && hi < 1 && fabs(sum / 70000 - 0.5) < 0.01,
       "splitmix64 uniform in [0,1), mean 0.5");
    return done_testing();
}
