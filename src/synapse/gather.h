/*
 * synapse/gather.h — y = Σ_j E[idx[j], 0:nc], the register-blocked row gather shared by the
 * dense synapse's per-row event forward (dense.c) and the folded forward's base row
 * (dense_fold.c). Every output is summed from +0 in list order, whatever the block it is in.
 */
#ifndef SOMA_GATHER_H
#define SOMA_GATHER_H

#include "kernels/vec16.h"

#include <stdint.h>

/* y[0:16·W] = Σ_j E[idx[j], 0:16·W] with the sums in registers while the spike list streams. */
#define SOMA_GATHER(W)                                                                       \
    ALWAYS_INLINE void soma_gather##W(float *restrict y, const float *restrict E, int64_t S, \
                                      const int32_t *restrict idx, int64_t n) {              \
        v16 acc[W];                                                                          \
        for (int w = 0; w < (W); w++) acc[w] = (v16){0};                                     \
        for (int64_t j = 0; j < n; j++) {                                                    \
            const float *e = E + (int64_t)idx[j] * S;                                        \
            for (int w = 0; w < (W); w++) acc[w] += ld16(e + 16 * w);                        \
        }                                                                                    \
        for (int w = 0; w < (W); w++) st16(y + 16 * w, acc[w]);                              \
    }
SOMA_GATHER(8)
SOMA_GATHER(4)
SOMA_GATHER(1)

/* The last nc % 16 outputs: one 16-wide block that ends at nc (overlapping the previous one),
 * of which only the new tail is stored; a scalar loop only when the row is under 16 wide. */
ALWAYS_INLINE void soma_gather_row(float *restrict y, const float *restrict E, int64_t S,
                                   const int32_t *restrict idx, int64_t n, int64_t nc) {
    int64_t c = 0; /* 8 blocks: 8 independent addition chains hide the add latency */
    for (; c + 128 <= nc; c += 128) soma_gather8(y + c, E + c, S, idx, n);
    for (; c + 64 <= nc; c += 64) soma_gather4(y + c, E + c, S, idx, n);
    for (; c + 16 <= nc; c += 16) soma_gather1(y + c, E + c, S, idx, n);
    if (c == nc) return;
    if (nc >= 16) {
        float tmp[16];
        soma_gather1(tmp, E + nc - 16, S, idx, n);
        memcpy(y + c, tmp + 16 - (nc - c), (size_t)(nc - c) * sizeof *y);
        return;
    }
    for (; c < nc; c++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < n; j++) acc += E[(int64_t)idx[j] * S + c];
        y[c] = acc;
    }
}

#endif
