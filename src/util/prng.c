#include "util/prng.h"

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

void prng_seed(uint64_t s[4], uint64_t *seed)
{
    /* splitmix64 never yields four zero words, which xoshiro cannot leave */
    for (int i = 0; i < 4; i++) s[i] = splitmix64(seed);
}

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t prng_next(uint64_t s[4])
{
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

uint64_t prng_below(uint64_t s[4], uint64_t bound)
{
    uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound: reject the top partial range */
    for (;;) {
        uint64_t x = prng_next(s);
        if (x >= threshold) return x % bound;
    }
}

bool prng_chance(uint64_t s[4], double p)
{
    if (p <= 0) return false;
    double u = (double)(prng_next(s) >> 11) * 0x1.0p-53; /* [0, 1) */
    return u < p;
}
