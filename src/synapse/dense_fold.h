/*
 * synapse/dense_fold.h — the dense synapse's event kernels folded over time (dense_fold.c), and
 * the per-sample spike masks they share with the weight gradient (dense.c).
 *
 * Binary input comes as (T, B) time-major spike lists. Folding one sample's lists over time
 * gives, for every input k, a bit mask of the steps at which it spiked; the sample's active
 * inputs are then visited once each, in ascending order, so a weight row is loaded once for
 * all of its spike times instead of once per spike.
 */
#ifndef SOMA_DENSE_FOLD_H
#define SOMA_DENSE_FOLD_H

#include "synapse/synop.h"

/* Sample b's masks: mask[k] |= 1 << t for every spike of input k at step t (mask zero on
 * entry), then seen (⌈M/32⌉ words): one bit per input whose mask is set. Setting seen's bits
 * while the lists stream would chain every spike through a store-to-load forward on the same
 * few words; one scan of the masks afterwards is cheaper. */
static inline __attribute__((always_inline)) void soma_sample_masks(const soma_spikes *sx, int64_t T, int64_t b,
                                                                   int64_t M, uint64_t *restrict mask,
                                                                   uint32_t *restrict seen) {
    for (int64_t t = 0; t < T; t++) {
        const int64_t r = t * sx->B + b;
        for (int64_t j = sx->off[r]; j < sx->off[r + 1]; j++) mask[sx->idx[j]] |= 1ULL << t;
    }
    int64_t k = 0;
    for (; k + 32 <= M; k += 32) {
        uint32_t w = 0;
        for (int i = 0; i < 32; i++) w |= (uint32_t)(mask[k + i] != 0) << i;
        seen[k >> 5] = w;
    }
    if (k < M) {
        uint32_t w = 0;
        for (int i = 0; k + i < M; i++) w |= (uint32_t)(mask[k + i] != 0) << i;
        seen[k >> 5] = w;
    }
}

/* Whether the folded forward applies: (T, B) rows with 2 <= T <= 64, the mask scratch present
 * (mask: M uint64, zero; touched: M int32, holds seen), and at least 16 outputs. */
static inline bool soma_dense_foldable(const soma_spikes *sx, int64_t rows, int64_t nc) {
    if (!sx->mask || !sx->touched || sx->B <= 0 || nc < 16) return false;
    const int64_t T = rows / sx->B;
    return T >= 2 && T <= 64 && T * sx->B == rows;
}

/* Y[:, c0:c0+nc] = Σ over each row's spikes of E[k, c0:c0+nc], bit for bit the per-row
 * gather's sums (every row's rows added in ascending input order, from +0). */
void soma_dense_forward_folded(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                               int64_t c0, int64_t nc, int64_t rows);

/* Which folded kernel runs: 0 picks by the CPU (AVX-512 register tiles where present),
 * 1 forces the portable one. For tests, which check that both give the same bits. */
extern int soma_dense_fold_kernel;

#endif
