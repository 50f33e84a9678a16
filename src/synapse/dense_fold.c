/*
 * synapse/dense_fold.c — the dense synapse's event-driven forward, folded over time (see
 * dense_fold.h): each active input of a sample is visited once, in ascending order, and its
 * weight row added into the sums of all the steps it spiked at.
 *
 * Inputs that spike at most steps are folded the other way round (complemented): their rows
 * are summed once into a base row that every step starts from, and subtracted at the steps
 * they were silent. A rate-coded MNIST pixel of intensity 1 spikes at every step; about half
 * of all input spikes come from such pixels, and complementing cuts the layer's row additions
 * to about a quarter. Per step and output the order is fixed — the base row (its inputs in
 * ascending order, from +0), then every input in ascending order with its sign — so the sums
 * differ from a per-row gather by float rounding only, and the two kernels give the same bits:
 * a portable one that keeps the sums in the Y rows (L1), and, where the CPU has AVX-512, one
 * that keeps a tile of TILE_T steps × 64 outputs in registers and adds a row into the steps of
 * the tile it applies to with masked adds.
 */
#include "synapse/dense_fold.h"
#include "synapse/gather.h"
#include "kernels/cpu.h"
#include "kernels/vec16.h"

#include <string.h>

int soma_dense_fold_kernel = 0;

/* Which way an input with spike mask m folds, out of T steps: complemented (base row, then
 * subtracted at its T − |m| silent steps) when that costs fewer row additions than |m|. */
ALWAYS_INLINE bool complemented(const soma_spikes *sx, uint64_t m, int64_t T) {
    return sx->complement && 2 * __builtin_popcountll(m) > T + 1;
}

/* Y_t[0:16·W] += s·e[0:16·W] for every step t in m (Y_t = y + t·ts, s = −1 when neg), and
 * when tb is set the 16-wide tail block too: tb[16·t : +16] += s·et[0:16]. The row stays in
 * registers; negating it is exact, so y + (−e) rounds as y − e. */
#define FOLD(W)                                                                              \
    ALWAYS_INLINE void fold##W(float *restrict y, int64_t ts, const float *restrict e,       \
                               uint64_t m, float *restrict tb, const float *restrict et,     \
                               bool neg) {                                                   \
        v16 v[W], vt = {0};                                                                  \
        for (int w = 0; w < (W); w++) v[w] = neg ? -ld16(e + 16 * w) : ld16(e + 16 * w);     \
        if (tb) vt = neg ? -ld16(et) : ld16(et);                                             \
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
                            const float *et, bool neg) {
    int64_t w = 0;
    for (; nv - w > 8; w += 8) fold8(y + 16 * w, ts, e + 16 * w, m, NULL, NULL, neg);
    y += 16 * w, e += 16 * w;
    switch (nv - w) {
    case 8: fold8(y, ts, e, m, tb, et, neg); break;
    case 7: fold7(y, ts, e, m, tb, et, neg); break;
    case 6: fold6(y, ts, e, m, tb, et, neg); break;
    case 5: fold5(y, ts, e, m, tb, et, neg); break;
    case 4: fold4(y, ts, e, m, tb, et, neg); break;
    case 3: fold3(y, ts, e, m, tb, et, neg); break;
    case 2: fold2(y, ts, e, m, tb, et, neg); break;
    case 1: fold1(y, ts, e, m, tb, et, neg); break;
    default: if (tb) fold1(tb, 16, et, m, NULL, NULL, neg); break;
    }
}

/* The sample's active inputs, ascending, as (k, mask) pairs: from the producer's folds, or
 * from its spike lists through mask and seen (each mask zeroed before f when consume). Calls
 * f(k, m) for each. */
#define FOR_ACTIVE(sx, b, M, mask, seen, consume, f)                                          \
    do {                                                                                      \
        if ((sx)->fk) {                                                                       \
            for (int64_t j_ = (sx)->foff[b]; j_ < (sx)->foff[(b) + 1]; j_++) f((sx)->fk[j_], (sx)->fm[j_]); \
        } else {                                                                              \
            for (int64_t wd_ = 0; wd_ < ((M) + 31) / 32; wd_++)                               \
                for (uint32_t sw_ = (seen)[wd_]; sw_; sw_ &= sw_ - 1) {                       \
                    const int64_t k_ = 32 * wd_ + __builtin_ctz(sw_);                         \
                    const uint64_t m_ = (mask)[k_];                                           \
                    if (consume) (mask)[k_] = 0;                                              \
                    f(k_, m_);                                                                \
                }                                                                             \
        }                                                                                     \
    } while (0)

/* The portable kernel: each (t, b) sum accumulates in the Y row itself (L1), the weight row
 * in registers. Bound by L1 stores: every spike is a read-modify-write of its Y row. */
SOMA_HOT static void folded_portable(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                                    int64_t c0, int64_t nc, int64_t rows) {
    const int64_t B = sx->B, T = rows / B, nv = nc / 16, nf = 16 * nv, ts = B * S;
    const uint64_t full = soma_all_steps(T);
    const bool tail = nf < nc;
    uint64_t *mask = sx->mask;
    uint32_t *seen = (uint32_t *)sx->touched;
    float tb[64 * 16]; /* the tail blocks of the sample's T rows */
    for (int64_t b = 0; b < B; b++) {
        float *y = Y + b * S + c0, *yl = y + (T - 1) * ts;
        if (!sx->fk) soma_sample_masks(sx, T, b, M, mask, seen);
        /* the base row, in the last step's row: the complemented inputs' rows added in
         * ascending order from +0, lane by lane as the tiles' gather adds them */
        memset(yl, 0, (size_t)nc * sizeof *y);
#define BASE(k, m)                                                                            \
        if (complemented(sx, m, T)) {                                                            \
            const float *e_ = E + (int64_t)(k) * S + c0;                                      \
            for (int64_t i = 0; i < nf; i += 16) st16(yl + i, ld16(yl + i) + ld16(e_ + i));  \
            for (int64_t i = nf; i < nc; i++) yl[i] += e_[i];                                \
        }
        FOR_ACTIVE(sx, b, M, mask, seen, false, BASE);
#undef BASE
        for (int64_t t = 0; t < T - 1; t++) memcpy(y + t * ts, yl, (size_t)nc * sizeof *y);
        if (tail)
            for (int64_t t = 0; t < T; t++) memcpy(tb + 16 * t, yl + nc - 16, 16 * sizeof *tb);
#define FOLD_INPUT(k, m)                                                                      \
        {                                                                                    \
            const float *e_ = E + (int64_t)(k) * S + c0;                                      \
            const bool c_ = complemented(sx, m, T);                                              \
            const uint64_t mm_ = c_ ? ~(m) & full : (m);                                     \
            if (mm_) fold_row(y, ts, e_, nv, mm_, tail ? tb : NULL, e_ + nc - 16, c_);        \
        }
        FOR_ACTIVE(sx, b, M, mask, seen, true, FOLD_INPUT);
#undef FOLD_INPUT
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

/* y_t[0:16·W] = base + Σ_j ±E[k_j, 0:16·W] over the list entries j whose bit t is set (t < nt),
 * the last block masked to lastm lanes (nothing is read or written past the row's outputs).
 * The list entries are sign << 31 | k << 6 | bits; the sign flips the row's sign bits. Even
 * steps take vaddps, odd ones vfmadd with 1.0 (e·1 + s rounds once, exactly as e + s): Zen 4
 * runs them on different pipes. base (NULL: +0) may be one of the tile's own rows: it is read
 * before any is written. The _u variants are for lists without complemented entries (every
 * sample in evaluation, where nothing is complemented): no sign flips. */
#define TILE(W, SG, SFX)                                                                     \
    AVX512 static void tile##W##SFX(float *y, int64_t ts, int nt, const float *E, int64_t S,   \
                               const int32_t *lst, int64_t n, __mmask16 lastm,               \
                               const float *base) {                                          \
        const __m512 one = _mm512_set1_ps(1.0f);                                             \
        __m512 acc[TILE_T][W];                                                               \
        _Pragma("GCC unroll 8") for (int w = 0; w < (W); w++) {                              \
            const __m512 b0 = !base ? _mm512_setzero_ps()                                    \
                              : w < (W) - 1 ? _mm512_loadu_ps(base + 16 * w)                 \
                                            : _mm512_maskz_loadu_ps(lastm, base + 16 * w);   \
            _Pragma("GCC unroll 8") for (int t = 0; t < TILE_T; t++) acc[t][w] = b0;         \
        }                                                                                    \
        for (int64_t j = 0; j < n; j++) {                                                    \
            const uint32_t v = (uint32_t)lst[j];                                             \
            const float *e = E + (int64_t)((v & 0x7fffffffu) >> 6) * S;                      \
            const __m512i sg = _mm512_set1_epi32((int)(v & 0x80000000u));                    \
            __m512 ev[W];                                                                    \
            _Pragma("GCC unroll 8") for (int w = 0; w < (W) - 1; w++) ev[w] = _mm512_loadu_ps(e + 16 * w); \
            ev[(W) - 1] = _mm512_maskz_loadu_ps(lastm, e + 16 * ((W) - 1));                  \
            if (SG) _Pragma("GCC unroll 8") for (int w = 0; w < (W); w++)                    \
                ev[w] = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(ev[w]), sg)); \
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
TILE(4, 1, _s)
TILE(3, 1, _s)
TILE(2, 1, _s)
TILE(1, 1, _s)
TILE(4, 0, _u)
TILE(3, 0, _u)
TILE(2, 0, _u)
TILE(1, 0, _u)

/* Needs T <= 32 (a packed entry keeps k in the upper half) and M < 2^25 (a tile list entry is
 * sign << 31 | k << 6 | bits in an int32). */
AVX512 static void folded_tiles(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                                int64_t c0, int64_t nc, int64_t rows) {
    const int64_t B = sx->B, T = rows / B, ts = B * S;
    const uint64_t full = soma_all_steps(T);
    uint64_t *P = sx->mask; /* the sample's packed entries; left zeroed */
    uint32_t *seen = (uint32_t *)sx->touched;
    int32_t *lst = sx->touched; /* the base's inputs, then each tile's list, once seen is consumed */
    for (int64_t b = 0; b < B; b++) {
        /* The sample's active inputs, ascending, packed sign << 63 | k << 32 | mask', mask' the
         * steps the row is added (or, complemented, subtracted) at. From the spike lists this is
         * in place: entry na is written only after every input up to k >= na has been read. */
        int64_t na = 0, nb = 0;
        if (!sx->fk) soma_sample_masks(sx, T, b, M, P, seen);
#define PACK(k, m)                                                                            \
        {                                                                                    \
            const uint64_t pm_ = (m);                                                         \
            const bool pc_ = complemented(sx, pm_, T);                                             \
            P[na++] = (uint64_t)pc_ << 63 | (uint64_t)(k) << 32 | (pc_ ? ~pm_ & full : pm_);     \
        }
        FOR_ACTIVE(sx, b, M, P, seen, true, PACK);
#undef PACK
        for (int64_t i = 0; i < na; i++) { /* the base row's inputs (branch-free compaction) */
            lst[nb] = (int32_t)((P[i] >> 32) & 0x7fffffff);
            nb += (int64_t)(P[i] >> 63);
        }
        float *yl = Y + ((T - 1) * B + b) * S + c0; /* the base row lives in the last step's row */
        if (nb) soma_gather_row(yl, E + c0, S, lst, nb, nc);
        for (int64_t t0 = 0; t0 < T; t0 += TILE_T) {
            int64_t n = 0; /* the entries that apply in this tile (branch-free compaction) */
            for (int64_t i = 0; i < na; i++) {
                const uint64_t p = P[i];
                const uint32_t bits = (uint32_t)(p >> t0) & ((1u << TILE_T) - 1);
                lst[n] = (int32_t)(((uint32_t)(p >> 32) & 0x7fffffffu) << 6 | (uint32_t)(p >> 63) << 31 | bits);
                n += bits != 0;
            }
            const int nt = T - t0 < TILE_T ? (int)(T - t0) : TILE_T;
            float *y = Y + (t0 * B + b) * S + c0;
            for (int64_t c = 0; c < nc; c += 64) {
                const int64_t left = nc - c, W = left >= 64 ? 4 : (left + 15) / 16;
                const int64_t lanes = left - 16 * (W - 1) >= 16 ? 16 : left - 16 * (W - 1);
                const __mmask16 lastm = (__mmask16)((1u << lanes) - 1);
                const float *e = E + c0 + c, *bs = nb ? yl + c : NULL;
                switch (W + 4 * (nb > 0)) { /* complemented entries only with a base */
                case 4: tile4_u(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 3: tile3_u(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 2: tile2_u(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 1: tile1_u(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 8: tile4_s(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 7: tile3_s(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                case 6: tile2_s(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                default: tile1_s(y + c, ts, nt, e, S, lst, n, lastm, bs); break;
                }
            }
        }
        memset(P, 0, (size_t)na * sizeof *P);
    }
}

#endif

void soma_dense_forward_folded(float *Y, const soma_spikes *sx, const float *E, int64_t S, int64_t M,
                               int64_t c0, int64_t nc, int64_t rows) {
#ifdef HAVE_TILES
    if (soma_dense_fold_kernel == 0 && rows / sx->B <= 32 && M < (1 << 25) && soma_cpu_avx512()) {
        folded_tiles(Y, sx, E, S, M, c0, nc, rows);
        return;
    }
#endif
    folded_portable(Y, sx, E, S, M, c0, nc, rows);
}
