/* rng.h — xoshiro256** pseudo-random generator, seeded through splitmix64.
 * Fast and seedable, for reproducible runs (a tool's Seed) and per-item streams;
 * not for secrets (use bs_random_bytes for those). */
#ifndef BS_RNG_H
#define BS_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} bs_rng;

/* One step of splitmix64: advances *x and returns a well-mixed 64-bit value. */
uint64_t bs_splitmix64(uint64_t *x);
void bs_rng_seed(bs_rng *r, uint64_t seed);
uint64_t bs_rng_next(bs_rng *r);
/* Uniform in [0, 1), 53 bits. */
double bs_rng_uniform(bs_rng *r);

#endif
