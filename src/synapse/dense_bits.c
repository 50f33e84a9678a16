/*
 * synapse/dense_bits.c — the dense synapse on dense binary input by 4-input subset tables
 * (see dense_bits.h). AVX-512 only; elsewhere the GEMM runs.
 *
 * Work per call and 64-output column tile: input blocks of 16 (four groups of 4, one compare
 * mask of the row's 16 inputs); a block's tables (4 × 16 sums × 64 outputs, 16 KB) stay in
 * L1 while every row of the call adds its four table rows into its Y row. Against the GEMM's
 * 16 multiply-adds per 16 inputs and output block, a row makes 4 additions. The weight
 * gradient lists the rows of a block once (per group, by bits) for all column tiles.
 */
#include "synapse/dense_bits.h"
#include "kernels/cpu.h"
#include "soma/core.h"

#include <string.h>

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

/* tab[(g·16 + p)·W + w] = Σ_{j ∈ p} E[k0 + 4g + j, c + 16w ..], built from the sum without
 * p's lowest bit; inputs past M add nothing (their bits are never set). */
INLINE_AVX512 void build_tables(__m512 *tab, const float *E, int64_t S, int64_t M, int64_t k0, int W,
                                __mmask16 lastm) {
    for (int g = 0; g < GB; g++) {
        __m512 *t = tab + g * 16 * W;
        for (int w = 0; w < W; w++) t[w] = _mm512_setzero_ps();
        for (int p = 1; p < 16; p++) {
            const int64_t k = k0 + 4 * g + __builtin_ctz((unsigned)p);
            const __m512 *q = t + (p & (p - 1)) * W;
            for (int w = 0; w < W; w++)
                t[p * W + w] = k < M ? _mm512_add_ps(q[w], ld(E + k * S, w, W, lastm)) : q[w];
        }
    }
}

INLINE_AVX512 void forward_tile(float *Y, const float *x, const float *E, int64_t S, int64_t M, int64_t rows,
                                int W, __mmask16 lastm, __m512 *tab) {
    for (int64_t k0 = 0; k0 < M; k0 += 16) {
        build_tables(tab, E, S, M, k0, W, lastm);
        const __mmask16 xm = M - k0 >= 16 ? 0xffff : (__mmask16)((1u << (M - k0)) - 1);
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

/* One block of 16 inputs k0.., one column tile: bucket p of group g is the sum of the G rows
 * whose group-g bits are p, over the rows listed for (g, p) in ascending order, in two
 * interleaved chains (rows j even, odd) so that additions do not wait on each other; input
 * k0 + 4g + j then adds the 8 buckets with bit j. Only loads in the row loop: the buckets live
 * in registers until they are complete. */
INLINE_AVX512 void weight_tile(float *dE, const float *G, int64_t S, int64_t M, int64_t k0, const int32_t *lst,
                               const int32_t *off, int W, __mmask16 lastm) {
    for (int g = 0; g < GB; g++) {
        __m512 bk[16][4];
        for (int p = 1; p < 16; p++) {
            __m512 a[4], b[4];
            for (int w = 0; w < W; w++) a[w] = b[w] = _mm512_setzero_ps();
            const int32_t *l = lst + off[g * 17 + p], *e = lst + off[g * 17 + p + 1];
            for (; e - l >= 2; l += 2) {
                const float *g0 = G + (int64_t)l[0] * S, *g1 = G + (int64_t)l[1] * S;
                for (int w = 0; w < W; w++) a[w] = _mm512_add_ps(a[w], ld(g0, w, W, lastm));
                for (int w = 0; w < W; w++) b[w] = _mm512_add_ps(b[w], ld(g1, w, W, lastm));
            }
            if (l < e)
                for (int w = 0; w < W; w++) a[w] = _mm512_add_ps(a[w], ld(G + (int64_t)l[0] * S, w, W, lastm));
            for (int w = 0; w < W; w++) bk[p][w] = _mm512_add_ps(a[w], b[w]);
        }
        for (int j = 0; j < 4 && k0 + 4 * g + j < M; j++) {
            float *d = dE + (k0 + 4 * g + j) * S;
            for (int w = 0; w < W; w++) {
                __m512 sum = _mm512_setzero_ps();
                for (int p = 1; p < 16; p++)
                    if (p & (1 << j)) sum = _mm512_add_ps(sum, bk[p][w]);
                st(d, _mm512_add_ps(ld(d, w, W, lastm), sum), w, W, lastm);
            }
        }
    }
}

/* The rows of x, sorted per group of the block k0.. by their 4 bits: group g's rows with bits
 * p are lst[off[g·17 + p] .. off[g·17 + p + 1]), ascending (rows with no bit set are left out). */
AVX512 static void block_lists(int32_t *lst, int32_t *off, uint16_t *bits, const float *x, int64_t M, int64_t k0,
                               int64_t rows) {
    const __mmask16 xm = M - k0 >= 16 ? 0xffff : (__mmask16)((1u << (M - k0)) - 1);
    int32_t cnt[GB * 17] = {0};
    for (int64_t r = 0; r < rows; r++) {
        const unsigned m = row_bits(x + r * M + k0, xm);
        bits[r] = (uint16_t)m;
        for (int g = 0; g < GB; g++) cnt[g * 17 + ((m >> (4 * g)) & 15)]++;
    }
    int32_t o = 0;
    for (int g = 0; g < GB; g++) {
        cnt[g * 17] = 0; /* bits 0: not listed */
        for (int p = 0; p < 16; p++) off[g * 17 + p] = o, o += cnt[g * 17 + p];
        off[g * 17 + 16] = o;
    }
    int32_t pos[GB * 17];
    memcpy(pos, off, sizeof pos);
    for (int64_t r = 0; r < rows; r++)
        for (int g = 0; g < GB; g++) {
            const unsigned p = (bits[r] >> (4 * g)) & 15;
            if (p) lst[pos[g * 17 + p]++] = (int32_t)r;
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
    int32_t *lst = soma_malloc((size_t)rows * (GB * sizeof(int32_t) + sizeof(uint16_t)));
    if (!lst) return false;
    uint16_t *bits = (uint16_t *)(lst + GB * rows);
    int32_t off[GB * 17];
    for (int64_t k0 = 0; k0 < M; k0 += 16) {
        block_lists(lst, off, bits, x, M, k0, rows);
#define BWD(w) weight_tile(dE + o, G + o, S, M, k0, lst, off, w, lastm)
        FOR_TILES(BWD)
#undef BWD
    }
    soma_free(lst);
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
