/*
 * synapse/dense_bits.c — the dense synapse on dense binary input by 4-input subset tables
 * (see dense_bits.h). AVX-512 only; elsewhere the GEMM runs.
 *
 * Work per call and 64-output column tile: input blocks of 16 (four groups of 4, one compare
 * mask of the row's 16 inputs); a block's tables (4 × 16 sums × 64 outputs, 16 KB) stay in
 * L1 while every row of the call adds its four table rows into its Y row. Against the GEMM's
 * 16 multiply-adds per 16 inputs and output block, a row makes 4 additions. The weight
 * gradient swaps the roles: tables of 4-row subset sums of the output gradient, and each
 * input's gradient row adds one table row per 4 rows it spiked in.
 */
#include "synapse/dense_bits.h"
#include "kernels/cpu.h"
#include "soma/core.h"


int soma_dense_bits_kernel = 0;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f")))
#define INLINE_AVX512 __attribute__((target("avx512f"), always_inline)) static inline
#define GB 4 /* groups of 4 inputs per block: one 16-lane compare mask per row */

AVX512 static bool all_binary(const float *x, int64_t n) {
    const __m512 zero = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_loadu_ps(x + i);
        if ((__mmask16)(_mm512_cmp_ps_mask(v, zero, _CMP_EQ_OQ) | _mm512_cmp_ps_mask(v, one, _CMP_EQ_OQ)) != 0xffff)
            return false;
    }
    for (; i < n; i++)
        if (x[i] != 0.0f && x[i] != 1.0f) return false;
    return true;
}

bool soma_dense_bits_enabled(int64_t rows, int64_t M, int64_t nc) {
    return soma_dense_bits_kernel == 0 && M >= 64 && rows >= 16 && nc >= 64 && soma_cpu_avx512();
}

bool soma_dense_bits_apply(const float *x, int64_t rows, int64_t M, int64_t nc) {
    return soma_dense_bits_enabled(rows, M, nc) && all_binary(x, rows * M);
}

/* The 16 inputs k0.. of row x as a bit mask (bits past M clear). */
INLINE_AVX512 __mmask16 row_bits(const float *x, __mmask16 xm) {
    return _mm512_mask_cmp_ps_mask(xm, _mm512_maskz_loadu_ps(xm, x), _mm512_setzero_ps(), _CMP_NEQ_UQ);
}

INLINE_AVX512 __m512 ld(const float *p, int w, int W, __mmask16 lastm) {
    return w < W - 1 ? _mm512_loadu_ps(p + 16 * w) : _mm512_maskz_loadu_ps(lastm, p + 16 * w);
}

INLINE_AVX512 void st(float *p, __m512 v, int w, int W, __mmask16 lastm) {
    if (w < W - 1) _mm512_storeu_ps(p + 16 * w, v);
    else _mm512_mask_storeu_ps(p + 16 * w, lastm, v);
}

/* The first min(n, 16) lanes. */
INLINE_AVX512 __mmask16 lanes16(int64_t n) { return n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

/* tab[(g·16 + p)·W + w] = Σ_{j ∈ p} A[4g + j, 16w ..] over the 16 rows of A (row stride S),
 * each built from the sum without p's lowest bit; rows from n on add nothing (their bits are
 * never set). A is E's rows of 16 inputs (forward) or G's rows of 16 steps (weight gradient). */
INLINE_AVX512 void build_tables(__m512 *tab, const float *A, int64_t S, int64_t n, int W, __mmask16 lastm) {
    for (int g = 0; g < GB; g++) {
        __m512 *t = tab + g * 16 * W;
        for (int w = 0; w < W; w++) t[w] = _mm512_setzero_ps();
        for (int p = 1; p < 16; p++) {
            const int64_t j = 4 * g + __builtin_ctz((unsigned)p);
            const __m512 *q = t + (p & (p - 1)) * W;
            for (int w = 0; w < W; w++)
                t[p * W + w] = j < n ? _mm512_add_ps(q[w], ld(A + j * S, w, W, lastm)) : q[w];
        }
    }
}

INLINE_AVX512 void forward_tile(float *Y, const float *x, const float *E, int64_t S, int64_t M, int64_t rows,
                                int W, __mmask16 lastm, __m512 *tab) {
    for (int64_t k0 = 0; k0 < M; k0 += 16) {
        build_tables(tab, E + k0 * S, S, M - k0, W, lastm);
        const __mmask16 xm = lanes16(M - k0);
        for (int64_t r = 0; r < rows; r++) {
            const unsigned m = row_bits(x + r * M + k0, xm);
            float *y = Y + r * S;
            __m512 acc[4];
            for (int w = 0; w < W; w++) acc[w] = k0 ? ld(y, w, W, lastm) : _mm512_setzero_ps();
            for (int g = 0; g < GB; g++) {
                const __m512 *t = tab + (g * 16 + ((m >> (4 * g)) & 15)) * W;
                for (int w = 0; w < W; w++) acc[w] = _mm512_add_ps(acc[w], t[w]);
            }
            for (int w = 0; w < W; w++) st(y, acc[w], w, W, lastm);
        }
    }
}

/* One block of 16 rows r0.. (nr of them), one column tile: tab[(g·16 + p)·W + w] sums the G
 * rows r0 + 4g + j, j in p, and input k's gradient row takes, per group, the table row of
 * its spikes in those rows (tm[k]: bit i for row r0 + i). The forward's scheme with rows and
 * inputs swapped; inputs silent in all 16 rows are skipped. */
INLINE_AVX512 void weight_tile(float *dE, const float *G, int64_t S, int64_t M, int64_t r0, int64_t nr,
                               const uint16_t *tm, int W, __mmask16 lastm, __m512 *tab) {
    build_tables(tab, G + r0 * S, S, nr, W, lastm);
    for (int64_t k = 0; k < M; k++) {
        const unsigned m = tm[k];
        if (!m) continue;
        float *d = dE + k * S;
        __m512 acc[4];
        for (int w = 0; w < W; w++) acc[w] = ld(d, w, W, lastm);
        for (int g = 0; g < GB; g++) {
            const __m512 *t = tab + (g * 16 + ((m >> (4 * g)) & 15)) * W;
            for (int w = 0; w < W; w++) acc[w] = _mm512_add_ps(acc[w], t[w]);
        }
        for (int w = 0; w < W; w++) st(d, acc[w], w, W, lastm);
    }
}

/* tm[k] = the spikes of input k in rows r0..r0+nr−1 (bit i for row r0 + i): each row's 16
 * inputs as a compare mask in one 32-bit lane, then one test per input picks its bit from
 * every lane. */
AVX512 static void row_block_masks(uint16_t *tm, const float *x, int64_t M, int64_t r0, int64_t nr) {
    uint32_t lane[16];
    for (int64_t k0 = 0; k0 < M; k0 += 16) {
        const __mmask16 xm = lanes16(M - k0);
        for (int64_t i = 0; i < 16; i++) lane[i] = i < nr ? row_bits(x + (r0 + i) * M + k0, xm) : 0;
        const __m512i v = _mm512_loadu_si512(lane);
        for (int i = 0; i < 16 && k0 + i < M; i++)
            tm[k0 + i] = (uint16_t)_mm512_test_epi32_mask(v, _mm512_set1_epi32(1 << i));
    }
}

/* Column tiles of 64 outputs (4 vectors), the last one narrower and masked. */
#define FOR_TILES(call)                                                                       \
    for (int64_t c = 0; c < nc; c += 64) {                                                    \
        const int64_t left = nc - c, W = left >= 64 ? 4 : (left + 15) / 16;                  \
        const int64_t lanes = left - 16 * (W - 1);                                            \
        const __mmask16 lastm = (__mmask16)(lanes >= 16 ? 0xffff : (1u << lanes) - 1);       \
        const int64_t o = c0 + c;                                                             \
        switch (W) {                                                                          \
        case 4: call(4); break;                                                               \
        case 3: call(3); break;                                                               \
        case 2: call(2); break;                                                               \
        default: call(1); break;                                                              \
        }                                                                                     \
    }

AVX512 void soma_dense_forward_bits(float *Y, const float *x, const float *E, int64_t S, int64_t M,
                                    int64_t c0, int64_t nc, int64_t rows) {
    __m512 tab[GB * 16 * 4];
#define FWD(w) forward_tile(Y + o, x, E + o, S, M, rows, w, lastm, tab)
    FOR_TILES(FWD)
#undef FWD
}

AVX512 bool soma_dense_backward_weight_bits(float *dE, const float *G, const float *x, int64_t S, int64_t M,
                                            int64_t c0, int64_t nc, int64_t rows) {
    uint16_t *tm = soma_malloc((size_t)M * sizeof *tm);
    if (!tm) return false;
    __m512 tab[GB * 16 * 4];
    for (int64_t r0 = 0; r0 < rows; r0 += 16) {
        const int64_t nr = rows - r0 < 16 ? rows - r0 : 16;
        row_block_masks(tm, x, M, r0, nr);
#define BWD(w) weight_tile(dE + o, G + o, S, M, r0, nr, tm, w, lastm, tab)
        FOR_TILES(BWD)
#undef BWD
    }
    soma_free(tm);
    return true;
}

#else

bool soma_dense_bits_enabled(int64_t rows, int64_t M, int64_t nc) {
    (void)rows, (void)M, (void)nc;
    return false;
}
bool soma_dense_bits_apply(const float *x, int64_t rows, int64_t M, int64_t nc) {
    (void)x, (void)rows, (void)M, (void)nc;
    return false;
}
void soma_dense_forward_bits(float *Y, const float *x, const float *E, int64_t S, int64_t M,
                             int64_t c0, int64_t nc, int64_t rows) {
    (void)Y, (void)x, (void)E, (void)S, (void)M, (void)c0, (void)nc, (void)rows;
}
bool soma_dense_backward_weight_bits(float *dE, const float *G, const float *x, int64_t S, int64_t M,
                                     int64_t c0, int64_t nc, int64_t rows) {
    (void)dE, (void)G, (void)x, (void)S, (void)M, (void)c0, (void)nc, (void)rows;
    return false;
}

#endif
