/*
 * encode/encode_fold.h — the pieces of the spike-list encoder (encode.c) that have an AVX-512
 * version (encode_avx512.c): the rate generator, a sample's active features, its spike-time
 * masks, and the (t, b) lists written from the masks.
 *
 * Rate coding draws the uniform of (sample b, step t, i-th nonzero feature) from wyrand seeded
 * with st = soma_hash3(seed, uid[b], t): wyrand adds RATE_INC to its state before each draw,
 * so draw i reads state st + (i + 1)·RATE_INC. That closed form lets any number of draws run
 * side by side (vector lanes) and still give exactly the sequential generator's numbers.
 */
#ifndef SOMA_ENCODE_FOLD_H
#define SOMA_ENCODE_FOLD_H

#include <stdbool.h>
#include <stdint.h>

#define RATE_INC 0xa0761d6478bd642fULL
#define RATE_XOR 0xe7037ed1a0b428dbULL

/* wyrand's output for state s (already advanced). */
static inline uint64_t soma_wymix(uint64_t s) {
    __uint128_t m = (__uint128_t)s * (s ^ RATE_XOR);
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
}

/* The rate test as one unsigned compare: soma_u01(h) < p, i.e. (h >> 40)·2⁻²⁴ < p, holds
 * exactly when h >> 40 < ⌈p·2²⁴⌉ (an integer below a real is below its ceiling; p·2²⁴ is
 * exact in float), i.e. when h <= ⌈p·2²⁴⌉·2⁴⁰ − 1, capped at 2²⁴ for p >= 1 (always true:
 * the bound wraps to 2⁶⁴ − 1). p > 0. */
static inline uint64_t soma_rate_bound(float p) {
    const float c = __builtin_ceilf(p * 16777216.0f);
    const uint64_t thr = p >= 1.0f ? (1ULL << 24) : (uint64_t)c;
    return (thr << 40) - 1;
}

/* Whether the AVX-512 kernels run: 0 picks by the CPU, 1 forces the portable code (tests). */
extern int soma_encode_kernel;
bool soma_encode_have_avx512(void);

/* fk[0:n) = the indices j of x[0:M) with x[j] > 0, ascending; fm[0:n) = their rate bounds.
 * Returns n. */
int64_t soma_rate_active_avx512(int32_t *fk, uint64_t *fm, const float *x, int64_t M);
/* fm[i] (a bound on entry) = the mask of the steps t < T (T <= 64) at which draw i of stream
 * st[t] passes it (draw i reads state st[t] + (i + 1)·RATE_INC). */
void soma_rate_masks_avx512(uint64_t *fm, int64_t n, const uint64_t *st, int T);
/* idx[0:c) = the fk[j] (j < n) whose fm[j] has bit t set, in order; returns c. */
int64_t soma_fold_row_avx512(int32_t *idx, const int32_t *fk, const uint64_t *fm, int64_t n, int t);

#endif
