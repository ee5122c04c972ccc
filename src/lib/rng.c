/* rng.c — xoshiro256** (Blackman & Vigna) with splitmix64 seeding. */
#include "rng.h"

uint64_t bs_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void bs_rng_seed(bs_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = bs_splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t bs_rng_next(bs_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double bs_rng_uniform(bs_rng *r)
{
    return (double)(bs_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t bs_rng_below(bs_rng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)bs_rng_next(r) * n) >> 64);
}

uint64_t bs_rng_below_mod(bs_rng *r, uint64_t n)
{
    return n ? bs_rng_next(r) % n : 0;
}

uint64_t bs_splitmix64_below(uint64_t *x, uint64_t n)
{
    return n ? bs_splitmix64(x) % n : 0;
}

double bs_splitmix64_uniform(uint64_t *x)
{
    return (double)(bs_splitmix64(x) >> 11) * 0x1.0p-53;
}

void bs_rng_hex(bs_rng *r, char *out, size_t nbytes, int upper)
{
    const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    uint64_t v = 0;
    for (size_t i = 0; i < nbytes; i++) {
        if (i % 8 == 0)
            v = bs_rng_next(r);
        unsigned b = (unsigned)(v & 0xff);
        v >>= 8;
        out[2 * i] = hex[b >> 4];
        out[2 * i + 1] = hex[b & 15];
    }
    out[2 * nbytes] = 0;
}
