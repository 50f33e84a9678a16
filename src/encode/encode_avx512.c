/*
 * encode/encode_avx512.c — AVX-512 versions of the spike-list encoder's inner loops (see
 * encode_fold.h): eight rate draws per instruction, and the lists compacted with compress.
 *
 * wyrand's 64×64 → 128-bit product has no vector instruction; it is built from the four
 * 32×32 → 64-bit partial products (vpmuludq), exactly, so every draw and every comparison is
 * the scalar generator's. Compress is used on registers only: its memory form is microcoded
 * and slow on Zen 4, a masked store of the compressed register is not.
 */
#include "encode/encode_fold.h"
#include "kernels/cpu.h"
#include "synapse/synop.h"

int soma_encode_kernel = 0;

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,popcnt")))

bool soma_encode_have_avx512(void) { return soma_encode_kernel == 0 && soma_cpu_avx512(); }

AVX512 int64_t soma_rate_active_avx512(int32_t *fk, uint64_t *fm, const float *x, int64_t M) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512 scale = _mm512_set1_ps(16777216.0f), one = _mm512_set1_ps(1.0f);
    int64_t n = 0;
    for (int64_t j = 0; j < M; j += 16) {
        const __mmask16 valid = M - j >= 16 ? 0xffff : (__mmask16)((1u << (M - j)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(valid, x + j);
        const __mmask16 k = _mm512_mask_cmp_ps_mask(valid, v, _mm512_setzero_ps(), _CMP_GT_OQ);
        if (!k) continue;
        const int c = __builtin_popcount(k);
        const __m512i ki = _mm512_maskz_compress_epi32(k, _mm512_add_epi32(iota, _mm512_set1_epi32((int)j)));
        _mm512_mask_storeu_epi32(fk + n, (__mmask16)((1u << c) - 1), ki);
        /* the bounds of soma_rate_bound: ⌈p·2²⁴⌉, 2²⁴ for p >= 1, times 2⁴⁰, minus 1 */
        const __m512 p = _mm512_maskz_compress_ps(k, v);
        __m512 ce = _mm512_roundscale_ps(_mm512_mul_ps(p, scale), _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
        ce = _mm512_mask_mov_ps(ce, _mm512_cmp_ps_mask(p, one, _CMP_GE_OQ), scale);
        const __m512i u = _mm512_cvttps_epu32(ce);
        const __m512i ones = _mm512_set1_epi64(1);
        const __m512i lo = _mm512_sub_epi64(_mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(u)), 40), ones);
        const __m512i hi = _mm512_sub_epi64(_mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(u, 1)), 40), ones);
        const unsigned cm = (1u << c) - 1;
        _mm512_mask_storeu_epi64(fm + n, (__mmask8)cm, lo);
        if (c > 8) _mm512_mask_storeu_epi64(fm + n + 8, (__mmask8)(cm >> 8), hi);
        n += c;
    }
    return n;
}

/* Eight lanes of wyrand: h = hi ^ lo of s·(s ^ RATE_XOR), with only bits 32..63 of lo exact
 * (the low 32 do not reach the compare, whose bound's low 40 bits are all ones). With
 * s = a1·2³² + a0, b = s ^ RATE_XOR = b1·2³² + b0: t = a1·b0 + ⌊a0·b0 / 2³²⌋ and
 * w = a0·b1 + (t mod 2³²) cannot overflow, hi = a1·b1 + ⌊t / 2³²⌋ + ⌊w / 2³²⌋ and
 * lo = (w mod 2³²)·2³² + (a0·b0 mod 2³²). */
AVX512 static inline __m512i wymix8(__m512i s) {
    const __m512i b = _mm512_xor_si512(s, _mm512_set1_epi64((long long)RATE_XOR));
    const __m512i a1 = _mm512_srli_epi64(s, 32), b1 = _mm512_srli_epi64(b, 32);
    const __m512i p00 = _mm512_mul_epu32(s, b), p01 = _mm512_mul_epu32(s, b1);
    const __m512i p10 = _mm512_mul_epu32(a1, b), p11 = _mm512_mul_epu32(a1, b1);
    const __m512i t = _mm512_add_epi64(p10, _mm512_srli_epi64(p00, 32));
    const __m512i w = _mm512_add_epi64(p01, _mm512_and_si512(t, _mm512_set1_epi64(0xffffffffLL)));
    const __m512i hi = _mm512_add_epi64(_mm512_add_epi64(p11, _mm512_srli_epi64(t, 32)), _mm512_srli_epi64(w, 32));
    return _mm512_xor_si512(hi, _mm512_slli_epi64(w, 32));
}

/* Inputs of intensity 1 (bound 2⁶⁴ − 1: every draw passes) spike at every step without
 * drawing (on MNIST about 4 % of an image's active inputs). The others are drawn 8 at a time,
 * gathered in blocks of 64 with the stream position i + 1 of their entry, so every draw is
 * still the scalar generator's. */
AVX512 void soma_rate_masks_avx512(uint64_t *fm, int64_t n, const uint64_t *st, int T) {
    const uint64_t full = soma_all_steps(T);
    uint64_t bnd[64], pos[64], out[8];
    int64_t at[64];
    for (int64_t i0 = 0; i0 < n; i0 += 64) {
        int c = 0;
        for (int64_t i = i0; i < n && i < i0 + 64; i++) {
            if (fm[i] == ~0ULL) {
                fm[i] = full;
                continue;
            }
            at[c] = i, bnd[c] = fm[i], pos[c] = (uint64_t)(i + 1) * RATE_INC, c++;
        }
        for (int j = 0; j < c; j += 8) {
            const __mmask8 valid = c - j >= 8 ? 0xff : (__mmask8)((1u << (c - j)) - 1);
            const __m512i bound = _mm512_maskz_loadu_epi64(valid, bnd + j), base = _mm512_maskz_loadu_epi64(valid, pos + j);
            __m512i m = _mm512_setzero_si512(), bit = _mm512_set1_epi64(1);
            for (int t = 0; t < T; t++) {
                const __m512i h = wymix8(_mm512_add_epi64(base, _mm512_set1_epi64((long long)st[t])));
                m = _mm512_mask_or_epi64(m, _mm512_cmple_epu64_mask(h, bound), m, bit);
                bit = _mm512_add_epi64(bit, bit);
            }
            _mm512_storeu_si512(out, m);
            for (int l = 0; l < 8 && j + l < c; l++) fm[at[j + l]] = out[l];
        }
    }
}

AVX512 int64_t soma_fold_row_avx512(int32_t *idx, const int32_t *fk, const uint64_t *fm, int64_t n, int t) {
    const __m512i bit = _mm512_set1_epi64((long long)(1ULL << t));
    int64_t c = 0;
    for (int64_t j = 0; j < n; j += 16) {
        const unsigned valid = n - j >= 16 ? 0xffffu : (1u << (n - j)) - 1;
        const __mmask16 k = (__mmask16)(_mm512_mask_test_epi64_mask((__mmask8)valid, _mm512_maskz_loadu_epi64((__mmask8)valid, fm + j), bit) |
                                        (unsigned)_mm512_mask_test_epi64_mask((__mmask8)(valid >> 8), _mm512_maskz_loadu_epi64((__mmask8)(valid >> 8), fm + j + 8), bit) << 8);
        const __m512i ki = _mm512_maskz_compress_epi32(k, _mm512_maskz_loadu_epi32((__mmask16)valid, fk + j));
        _mm512_mask_storeu_epi32(idx + c, (__mmask16)((1u << __builtin_popcount(k)) - 1), ki);
        c += __builtin_popcount(k);
    }
    return c;
}

#else
bool soma_encode_have_avx512(void) { return false; }
int64_t soma_rate_active_avx512(int32_t *fk, uint64_t *fm, const float *x, int64_t M) { return 0; }
void soma_rate_masks_avx512(uint64_t *fm, int64_t n, const uint64_t *st, int T) {}
int64_t soma_fold_row_avx512(int32_t *idx, const int32_t *fk, const uint64_t *fm, int64_t n, int t) { return 0; }
#endif
