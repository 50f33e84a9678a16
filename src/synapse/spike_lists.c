/*
 * synapse/spike_lists.c — binary rows to lists of their nonzero inputs (soma_spikes_build, see
 * synop.h), for a layer whose input is another layer's spikes.
 *
 * The portable loop writes every index and advances past the nonzeros only: branch-free, but
 * each store's address waits for the previous compare, about two cycles per input. With
 * AVX-512, 16 inputs at a time: one compare into a mask, the indices compressed in a register
 * (compress to memory is microcoded and slow on Zen 4) and stored under a mask.
 */
#include "synapse/synop.h"
#include "kernels/cpu.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_LISTS 1

__attribute__((target("avx512f,popcnt"))) static int64_t row_list_avx512(int32_t *idx, const float *x, int64_t M) {
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    int64_t n = 0;
    for (int64_t k = 0; k < M; k += 16) {
        const __mmask16 valid = M - k >= 16 ? 0xffff : (__mmask16)((1u << (M - k)) - 1);
        /* != 0 as in C: NaN counts, −0 does not */
        const __mmask16 nz = _mm512_mask_cmp_ps_mask(valid, _mm512_maskz_loadu_ps(valid, x + k), _mm512_setzero_ps(), _CMP_NEQ_UQ);
        const __m512i ki = _mm512_maskz_compress_epi32(nz, _mm512_add_epi32(iota, _mm512_set1_epi32((int)k)));
        const int c = __builtin_popcount(nz);
        _mm512_mask_storeu_epi32(idx + n, (__mmask16)((1u << c) - 1), ki);
        n += c;
    }
    return n;
}
#endif

static int64_t row_list(int32_t *restrict idx, const float *restrict x, int64_t M) {
    int64_t n = 0;
    for (int64_t k = 0; k < M; k++) { /* branch-free: write every index, advance past nonzeros */
        idx[n] = (int32_t)k;
        n += x[k] != 0.0f;
    }
    return n;
}

int soma_spikes_build_kernel = 0;

int64_t soma_spikes_build(int32_t *restrict idx, int64_t *restrict off, const float *restrict x,
                          int64_t rows, int64_t M) {
    int64_t n = 0;
#ifdef HAVE_AVX512_LISTS
    if (soma_spikes_build_kernel == 0 && M < INT32_MAX - 16 && soma_cpu_avx512()) {
        for (int64_t r = 0; r < rows; r++) {
            off[r] = n;
            n += row_list_avx512(idx + n, x + r * M, M);
        }
        off[rows] = n;
        return n;
    }
#endif
    for (int64_t r = 0; r < rows; r++) {
        off[r] = n;
        n += row_list(idx + n, x + r * M, M);
    }
    off[rows] = n;
    return n;
}
