/*
 * synapse/dense_fold.c — the dense synapse's event-driven forward, folded over time (see
 * dense_fold.h): each active input of a sample is visited once, in ascending order, and its
 * weight row added into the sums of all the steps it spiked at.
 *
 * Bit for bit the per-row gather: every (t, b) sum starts at +0 and receives its rows in
 * ascending input order, one float addition each; only where the partial sums live changes.
 * Two kernels: a portable one that keeps the sums in the Y rows (L1), and, where the CPU has
 * AVX-512, one that keeps a tile of TILE_T steps × 64 outputs in registers and adds a row into
 * the steps of the tile it spiked at with masked adds (the steps it did not spike at keep their
 * sum untouched: no +0 is ever added, so even −0 and NaN weights give the same bits).
 */
#include "synapse/dense_fold.h"
#include "kernels/vec16.h"

#include <string.h>

int soma_dense_fold_kernel = 0;

/* Y_t[0:16·W] += e[0:16·W] for every step t in m (Y_t = y + t·ts), and when tb is set the
 * 16-wide tail block too: tb[16·t : +16] += et[0:16]. The row stays in registers. */
#define FOLD(W)                                                                              \
    ALWAYS_INLINE void fold##W(float *restrict y, int64_t ts, const float *restrict e,       \
                               uint64_t m, float *restrict tb, const float *restrict et) {   \
        v16 v[W], vt = {0};                                                                  \
        for (int w = 0; w < (W); w++) v[w] = ld16(e + 16 * w);                               \
        if (tb) vt = ld16(et);                                                               \
        for (; m; m &= m - 1) {                                                              \
            const int64_t t = __builtin_ctzll(m);                                            \
            float *yt = y + t * ts;                                                          \
            for (int w = 0; w < (W); w++) st16(yt + 16 * w, ld16(yt + 16 * w) + v[w]);       \
            if (tb) st16(tb + 16 * t, ld16(tb + 16 * t) + vt);                               \
        }                                                                                    \
    }
FOLD(8)
FOLD(7)
FOLD(6)
FOLD(5)
FOLD(4)
FOLD(3)
FOLD(2)
FOLD(1)

/* One input's row e (nv full 16-wide blocks, then the tail block et if tb) into the steps of
 * m, at most 8 blocks per pass over m so that the row's blocks stay in registers. */
ALWAYS_INLINE void fold_row(float *y, int64_t ts, const float *e, int64_t nv, uint64_t m, float *tb,
                            const float *et) {
    int64_t w = 0;
    for (; nv - w > 8; w += 8) fold8(y + 16 * w, ts, e + 16 * w, m, NULL, NULL);
    y += 16 * w, e += 16 * w;
    switch (nv - w) {
    case 8: fold8(y, ts, e, m, tb, et); break;
    case 7: fold7(y, ts, e, m, tb, et); break;
    case 6: fold6(y, ts, e, m, tb, et); break;
    case 5: fold5(y, ts, e, m, tb, et); break;
    case 4: fold4(y, ts, e, m, tb, et); break;
    case 3: fold3(y, ts, e, m, tb, et); break;
    case 2: fold2(y, ts, e, m, tb, et); break;
    case 1: fold1(y, ts, e, m, tb, et); break;
    default: if (tb) fold1(tb, 16, et, m, NULL, NULL); break;
    }
}

/* The portable kernel: each (t, b) sum accumulates in the Y row itself (L1), the weight row
 * in registers. Bound by L1 stores: every spike is a read-modify-write of its Y row. */
SOMA_HOT static void folded_portable(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                                    int64_t c0, int64_t nc, int64_t rows) {
    const int64_t B = sx->B, T = rows / B, nv = nc / 16, nf = 16 * nv, ts = B * S;
    const bool tail = nf < nc;
    uint64_t *mask = sx->mask;
    uint32_t *seen = (uint32_t *)sx->touched;
    const int64_t nw = (M + 31) / 32;
    float tb[64 * 16]; /* the tail blocks of the sample's T rows */
    for (int64_t b = 0; b < B; b++) {
        float *y = Y + b * S + c0;
        for (int64_t t = 0; t < T; t++)
            for (int64_t c = 0; c < nf; c += 16) st16(y + t * ts + c, (v16){0});
        if (tail) memset(tb, 0, (size_t)(16 * T) * sizeof *tb);
        if (sx->fk) { /* the producer's folds */
            for (int64_t j = sx->foff[b]; j < sx->foff[b + 1]; j++) {
                const float *e = E + (int64_t)sx->fk[j] * S + c0;
                fold_row(y, ts, e, nv, sx->fm[j], tail ? tb : NULL, e + nc - 16);
            }
        } else {
            soma_sample_masks(sx, T, b, M, mask, seen);
            for (int64_t wd = 0; wd < nw; wd++) {
                for (uint32_t sw = seen[wd]; sw; sw &= sw - 1) {
                    const int64_t k = 32 * wd + __builtin_ctz(sw);
                    const float *e = E + k * S + c0;
                    fold_row(y, ts, e, nv, mask[k], tail ? tb : NULL, e + nc - 16);
                    mask[k] = 0;
                }
            }
        }
        if (tail) /* only the tail block's lanes past the full blocks are new */
            for (int64_t t = 0; t < T; t++)
                memcpy(y + t * ts + nf, tb + 16 * t + 16 - (nc - nf), (size_t)(nc - nf) * sizeof *y);
    }
}

/* ---- AVX-512 register tiles ------------------------------------------------------------ */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_TILES 1
#define TILE_T 5 /* steps per tile: 5·4 sums + 4 row blocks fit the 32 zmm registers */
#define AVX512 __attribute__((target("avx512f")))

/* y_t[0:16·W] = Σ_j E[k_j, 0:16·W] over the list entries j whose bit t is set (t < nt), the
 * last block masked to lastm lanes (nothing is read or written past the row's outputs). The
 * list entries are k << 6 | bits. Even steps take vaddps, odd ones vfmadd with 1.0 (e·1 + s
 * rounds once, exactly as e + s): Zen 4 runs them on different pipes. */
#define TILE(W)                                                                              \
    AVX512 static void tile##W(float *y, int64_t ts, int nt, const float *E, int64_t S,        \
                               const int32_t *lst, int64_t n, __mmask16 lastm) {              \
        const __m512 one = _mm512_set1_ps(1.0f);                                             \
        __m512 acc[TILE_T][W];                                                               \
        _Pragma("GCC unroll 8") for (int t = 0; t < TILE_T; t++)                             \
            _Pragma("GCC unroll 8") for (int w = 0; w < (W); w++) acc[t][w] = _mm512_setzero_ps(); \
        for (int64_t j = 0; j < n; j++) {                                                    \
            const uint32_t v = (uint32_t)lst[j];                                             \
            const float *e = E + (int64_t)(v >> 6) * S;                                      \
            __m512 ev[W];                                                                    \
            _Pragma("GCC unroll 8") for (int w = 0; w < (W) - 1; w++) ev[w] = _mm512_loadu_ps(e + 16 * w); \
            ev[(W) - 1] = _mm512_maskz_loadu_ps(lastm, e + 16 * ((W) - 1));                  \
            _Pragma("GCC unroll 8") for (int t = 0; t < TILE_T; t++) {                       \
                const __mmask16 km = (__mmask16)(0u - ((v >> t) & 1u));                      \
                _Pragma("GCC unroll 8") for (int w = 0; w < (W); w++)                        \
                    acc[t][w] = (t & 1) ? _mm512_mask3_fmadd_ps(ev[w], one, acc[t][w], km)   \
                                        : _mm512_mask_add_ps(acc[t][w], km, acc[t][w], ev[w]); \
            }                                                                                \
        }                                                                                    \
        _Pragma("GCC unroll 8") for (int t = 0; t < TILE_T; t++) {                           \
            if (t >= nt) break;                                                              \
            _Pragma("GCC unroll 8") for (int w = 0; w < (W) - 1; w++) _mm512_storeu_ps(y + t * ts + 16 * w, acc[t][w]); \
            _mm512_mask_storeu_ps(y + t * ts + 16 * ((W) - 1), lastm, acc[t][(W) - 1]);      \
        }                                                                                    \
    }
TILE(4)
TILE(3)
TILE(2)
TILE(1)

/* Needs T <= 32 (a sample's packed list keeps k in the mask's upper half) and M < 2^25 (a tile
 * list entry is k << 6 | bits in an int32). */
AVX512 static void folded_tiles(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                                int64_t c0, int64_t nc, int64_t rows) {
    const int64_t B = sx->B, T = rows / B, ts = B * S;
    uint64_t *mask = sx->mask;
    uint32_t *seen = (uint32_t *)sx->touched;
    int32_t *lst = sx->touched; /* the tile's list, once seen is consumed */
    const int64_t nw = (M + 31) / 32;
    for (int64_t b = 0; b < B; b++) {
        int64_t na = 0;
        if (!sx->fk) {
            soma_sample_masks(sx, T, b, M, mask, seen);
            /* The sample's active inputs, ascending, packed k << 32 | mask into mask[0:na) (in
             * place: entry na is written only after every input up to k >= na has been read). */
            for (int64_t wd = 0; wd < nw; wd++)
                for (uint32_t sw = seen[wd]; sw; sw &= sw - 1) {
                    const int64_t k = 32 * wd + __builtin_ctz(sw);
                    const uint64_t m = mask[k];
                    mask[k] = 0;
                    mask[na++] = (uint64_t)k << 32 | m;
                }
        }
        /* or the producer's folds, the same inputs and masks */
        const int32_t *fk = sx->fk ? sx->fk + sx->foff[b] : NULL;
        const uint64_t *fm = sx->fk ? sx->fm + sx->foff[b] : NULL;
        if (sx->fk) na = sx->foff[b + 1] - sx->foff[b];
        for (int64_t t0 = 0; t0 < T; t0 += TILE_T) {
            int64_t n = 0; /* the inputs that spiked in this tile (branch-free compaction) */
            if (fk)
                for (int64_t i = 0; i < na; i++) {
                    const uint32_t bits = (uint32_t)(fm[i] >> t0) & ((1u << TILE_T) - 1);
                    lst[n] = (int32_t)((uint32_t)fk[i] << 6 | bits);
                    n += bits != 0;
                }
            else
                for (int64_t i = 0; i < na; i++) {
                    const uint32_t bits = (uint32_t)(mask[i] >> t0) & ((1u << TILE_T) - 1);
                    lst[n] = (int32_t)((uint32_t)(mask[i] >> 32) << 6 | bits);
                    n += bits != 0;
                }
            const int nt = T - t0 < TILE_T ? (int)(T - t0) : TILE_T;
            float *y = Y + (t0 * B + b) * S + c0;
            for (int64_t c = 0; c < nc; c += 64) {
                const int64_t left = nc - c, W = left >= 64 ? 4 : (left + 15) / 16;
                const int64_t lanes = left - 16 * (W - 1) >= 16 ? 16 : left - 16 * (W - 1);
                const __mmask16 lastm = (__mmask16)((1u << lanes) - 1);
                const float *e = E + c0 + c;
                switch (W) {
                case 4: tile4(y + c, ts, nt, e, S, lst, n, lastm); break;
                case 3: tile3(y + c, ts, nt, e, S, lst, n, lastm); break;
                case 2: tile2(y + c, ts, nt, e, S, lst, n, lastm); break;
                default: tile1(y + c, ts, nt, e, S, lst, n, lastm); break;
                }
            }
        }
        if (!fk) memset(mask, 0, (size_t)na * sizeof *mask);
    }
}

/* libgcc fills the CPU model in a constructor: a plain read, safe from any thread. */
static bool have_tiles(void) { return __builtin_cpu_supports("avx512f"); }
#endif

void soma_dense_forward_folded(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                               int64_t c0, int64_t nc, int64_t rows) {
#ifdef HAVE_TILES
    if (soma_dense_fold_kernel == 0 && rows / sx->B <= 32 && M < (1 << 25) && have_tiles()) {
        folded_tiles(Y, sx, E, S, M, c0, nc, rows);
        return;
    }
#endif
    folded_portable(Y, sx, E, S, M, c0, nc, rows);
}
