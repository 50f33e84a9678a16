/*
 * core/rng.c — counter-based hashing and a small sequential generator.
 *
 * soma_hash3 is splitmix64's finaliser applied to a combination of its inputs: cheap,
 * well-mixed, and a pure function, so encoders and dropout can draw the random number of
 * (sample, step, feature) directly instead of advancing a shared state.
 */
#include "soma/core.h"

#include <math.h>

static inline uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t soma_hash3(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t h = mix64(seed + 0x9e3779b97f4a7c15ULL);
    h = mix64(h ^ (a + 0x632be59bd9b4e019ULL));
    return mix64(h ^ (b + 0x85157af5d9b4e013ULL));
}

void soma_rng_seed(soma_rng *rng, uint64_t seed) { rng->state = seed; }

uint64_t soma_rng_u64(soma_rng *rng) {
    rng->state += 0x9e3779b97f4a7c15ULL;
    return mix64(rng->state);
}

float soma_rng_uniform(soma_rng *rng) { return soma_u01(soma_rng_u64(rng)); }

float soma_rng_normal(soma_rng *rng) {
    /* Box-Muller; u1 in (0, 1] so log is finite. */
    double u1 = ((double)(soma_rng_u64(rng) >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    double u2 = (double)(soma_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

uint32_t soma_rng_below(soma_rng *rng, uint32_t n) {
    return (uint32_t)(((soma_rng_u64(rng) >> 32) * (uint64_t)n) >> 32);
}

void soma_rng_shuffle(soma_rng *rng, int32_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        /* i < 2^31 here, so a double from 53 random bits scaled by i+1 is unbiased enough. */
        int64_t j = (int64_t)((double)(soma_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0) * (double)(i + 1));
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
