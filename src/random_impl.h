/*
 * random_impl.h: the library's one seeded generator (splitmix64), so that initial weights, shuffles and
 * validation splits depend only on their seed, on every backend. Internal.
 */
#ifndef NNCL_RANDOM_IMPL_H
#define NNCL_RANDOM_IMPL_H

#include <stdint.h>

static inline uint64_t nncl_random_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1): the top 53 bits as a double. */
static inline double nncl_random_unit(uint64_t *state) {
    return (double)(nncl_random_next(state) >> 11) / 9007199254740992.0;
}

#endif /* NNCL_RANDOM_IMPL_H */
