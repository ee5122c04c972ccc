/* rng.h — xoshiro256** pseudo-random generator, seeded through splitmix64.
 * Fast and seedable, for reproducible runs (a tool's Seed) and per-item streams;
 * not for secrets (use bs_random_bytes for those). */
#ifndef BS_RNG_H
#define BS_RNG_H

#include <stddef.h>
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

/* Uniform in [0, n) from one draw, by multiply-shift (Lemire; the bias is below
 * n / 2^64); 0 when n is 0. decide's draws use it. */
uint64_t bs_rng_below(bs_rng *r, uint64_t n);
/* [0, n) from one draw as draw % n; 0 when n is 0. Kept beside bs_rng_below because
 * listen's seeded replies were drawn this way and a change would alter them. */
uint64_t bs_rng_below_mod(bs_rng *r, uint64_t n);
/* nbytes random bytes from r as 2 * nbytes hex digits (upper case if upper) and a NUL; the
 * same draws whatever the case, eight bytes to a draw. */
void bs_rng_hex(bs_rng *r, char *out, size_t nbytes, int upper);

/* A bare splitmix64 stream (state *x), for a cheap generator per item: the next value
 * % n (0 when n is 0), and a uniform in [0, 1) from its top 53 bits. gen-corpus's
 * seeded corpus is drawn from these. */
uint64_t bs_splitmix64_below(uint64_t *x, uint64_t n);
double bs_splitmix64_uniform(uint64_t *x);

#endif
