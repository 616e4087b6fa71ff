/* The pseudo-random numbers behind the simulated link and the impairments:
 * xoshiro256** seeded by splitmix64 (Blackman & Vigna). Seeded runs must
 * repeat bit for bit (sim golden files, seeded tests): any change to what
 * these return changes every recorded run. */
#ifndef FINACK_UTIL_PRNG_H
#define FINACK_UTIL_PRNG_H

#include <stdbool.h>
#include <stdint.h>

/* Fills s from the next four words of the splitmix64 stream at *seed and
 * advances it, so successive calls on one seed give separate streams. */
void prng_seed(uint64_t s[4], uint64_t *seed);
uint64_t prng_next(uint64_t s[4]);
/* Uniform in [0, bound) without modulo bias; bound > 0. */
uint64_t prng_below(uint64_t s[4], uint64_t bound);
/* True with probability p. p <= 0 draws nothing, so a fault that is off
 * leaves the stream of the others as it was. */
bool prng_chance(uint64_t s[4], double p);

#endif
