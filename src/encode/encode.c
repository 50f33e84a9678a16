/*
 * encode/encode.c — spike encoders: analogue values in [0, 1] to input trains over T steps.
 *
 * Rate coding draws each (sample, step, feature) from a generator seeded by the sample's id
 * and the step, so a sample's spikes do not depend on the batch it lands in or the thread
 * that encodes it. Zero-valued features (most MNIST pixels) never spike and draw nothing.
 */
#include "encode/encode.h"
#include "encode/encode_fold.h"
#include "synapse/synop.h" /* SOMA_HOT */

#include <math.h>
#include <string.h>

static inline uint64_t wyrand(uint64_t *s) {
    *s += RATE_INC;
    return soma_wymix(*s);
}

SOMA_HOT void soma_encode(soma_encoder e, float *out, const float *x, const int64_t *uid, int T,
                 int64_t B, int64_t M, uint64_t seed) {
    const int64_t BM = B * M;
    switch (e) {
    case SOMA_ENCODE_RATE:
        for (int t = 0; t < T; t++)
            for (int64_t b = 0; b < B; b++) {
                uint64_t st = soma_hash3(seed, (uint64_t)uid[b], (uint64_t)t);
                const float *xb = x + b * M;
                float *o = out + t * BM + b * M;
                for (int64_t j = 0; j < M; j++) {
                    float p = xb[j];
                    o[j] = p > 0.0f && soma_u01(wyrand(&st)) < p ? 1.0f : 0.0f;
                }
            }
        break;
    case SOMA_ENCODE_LATENCY:
        memset(out, 0, (size_t)(T * BM) * sizeof *out);
        for (int64_t i = 0; i < BM; i++) {
            float p = x[i];
            if (p <= 0.0f) continue;
            if (p > 1.0f) p = 1.0f;
            int t = (int)lrintf((1.0f - p) * (float)(T - 1));
            out[(int64_t)t * BM + i] = 1.0f;
        }
        break;
    default:
        for (int t = 0; t < T; t++) memcpy(out + t * BM, x, (size_t)BM * sizeof *out);
        break;
    }
}

/* Lists only, for T > 64 (no room for a step mask): nz (B·M) and nz_off (B + 1) are scratch. */
static int64_t encode_lists(soma_encoder e, int32_t *restrict idx, int64_t *restrict off, const float *restrict x,
                            const int64_t *uid, int T, int64_t B, int64_t M, uint64_t seed,
                            int32_t *restrict nz, int64_t *restrict nz_off) {
    /* Pass 1: each sample's nonzero features, once for all T steps (most pixels are 0). */
    int64_t m = 0;
    for (int64_t b = 0; b < B; b++) {
        nz_off[b] = m;
        const float *xb = x + b * M;
        for (int64_t j = 0; j < M; j++) {
            nz[m] = (int32_t)j;
            m += xb[j] > 0.0f;
        }
    }
    nz_off[B] = m;
    /* Pass 2: rows in (t, b) order; a rate draw for every nonzero feature, in feature order,
     * from the generator of (sample, step), as soma_encode does. */
    int64_t n = 0;
    for (int t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++) {
            const float *xb = x + b * M;
            off[(int64_t)t * B + b] = n;
            if (e == SOMA_ENCODE_RATE) {
                uint64_t st = soma_hash3(seed, (uint64_t)uid[b], (uint64_t)t);
                for (int64_t i = nz_off[b]; i < nz_off[b + 1]; i++) {
                    idx[n] = nz[i];
                    n += soma_u01(wyrand(&st)) < xb[nz[i]];
                }
            } else {
                for (int64_t i = nz_off[b]; i < nz_off[b + 1]; i++) {
                    float p = xb[nz[i]] > 1.0f ? 1.0f : xb[nz[i]];
                    idx[n] = nz[i];
                    n += (int)lrintf((1.0f - p) * (float)(T - 1)) == t;
                }
            }
        }
    off[(int64_t)T * B] = n;
    return n;
}

/* Sample xb's folded spikes into fk/fm (capacity M); returns how many inputs spiked. */
static int64_t fold_sample(soma_encoder e, int32_t *restrict fk, uint64_t *restrict fm, const float *restrict xb,
                           int64_t M, int T, uint64_t seed, uint64_t uid, bool simd) {
    int64_t n = 0;
    if (simd) {
        n = soma_rate_active_avx512(fk, fm, xb, M);
    } else {
        for (int64_t j = 0; j < M; j++) {
            fk[n] = (int32_t)j;
            n += xb[j] > 0.0f;
        }
    }
    if (e == SOMA_ENCODE_RATE) {
        uint64_t st[64];
        for (int t = 0; t < T; t++) st[t] = soma_hash3(seed, uid, (uint64_t)t);
        if (simd) {
            soma_rate_masks_avx512(fm, n, st, T);
        } else {
            memset(fm, 0, (size_t)n * sizeof *fm);
            for (int t = 0; t < T; t++) {
                uint64_t s = st[t];
                for (int64_t i = 0; i < n; i++) fm[i] |= (uint64_t)(soma_u01(wyrand(&s)) < xb[fk[i]]) << t;
            }
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            float p = xb[fk[i]] > 1.0f ? 1.0f : xb[fk[i]];
            fm[i] = 1ULL << (int)lrintf((1.0f - p) * (float)(T - 1));
        }
    }
    int64_t k = 0; /* keep the inputs that spiked at all */
    for (int64_t i = 0; i < n; i++) {
        fk[k] = fk[i], fm[k] = fm[i];
        k += fm[i] != 0;
    }
    return k;
}

SOMA_HOT int64_t soma_encode_folds(soma_encoder e, const float *x, const int64_t *uid, int T, int64_t B, int64_t M,
                          uint64_t seed, int32_t *fk, uint64_t *fm, int64_t *foff) {
    /* Each sample's spike-time masks: its draws in any order, since draw i of stream (b, t) is
     * a function of i. */
    const bool simd = soma_encode_have_avx512();
    int64_t m = 0, n = 0;
    for (int64_t b = 0; b < B; b++) {
        foff[b] = m;
        m += fold_sample(e, fk + m, fm + m, x + b * M, M, T, seed, (uint64_t)uid[b], simd);
    }
    foff[B] = m;
    for (int64_t j = 0; j < m; j++) n += __builtin_popcountll(fm[j]);
    return n;
}

SOMA_HOT int64_t soma_folds_lists(int32_t *restrict idx, int64_t *restrict off, const int32_t *restrict fk,
                                  const uint64_t *restrict fm, const int64_t *restrict foff, int T, int64_t B) {
    const bool simd = soma_encode_have_avx512();
    int64_t n = 0;
    for (int t = 0; t < T; t++)
        for (int64_t b = 0; b < B; b++) {
            off[(int64_t)t * B + b] = n;
            const int32_t *k = fk + foff[b];
            const uint64_t *mk = fm + foff[b];
            const int64_t nb = foff[b + 1] - foff[b];
            if (simd) {
                n += soma_fold_row_avx512(idx + n, k, mk, nb, t);
            } else {
                for (int64_t i = 0; i < nb; i++) {
                    idx[n] = k[i];
                    n += (mk[i] >> t) & 1;
                }
            }
        }
    off[(int64_t)T * B] = n;
    return n;
}

SOMA_HOT void soma_folds_densify(float *restrict out, const int32_t *restrict fk, const uint64_t *restrict fm,
                                 const int64_t *restrict foff, int T, int64_t B, int64_t M, uint64_t *restrict dm) {
    for (int64_t b = 0; b < B; b++) {
        /* the sample's masks spread over its M inputs, then every row written whole, in order */
        for (int64_t j = foff[b]; j < foff[b + 1]; j++) dm[fk[j]] = fm[j];
        for (int t = 0; t < T; t++) {
            float *restrict o = out + ((int64_t)t * B + b) * M;
            for (int64_t k = 0; k < M; k++) o[k] = (dm[k] >> t) & 1 ? 1.0f : 0.0f;
        }
        for (int64_t j = foff[b]; j < foff[b + 1]; j++) dm[fk[j]] = 0;
    }
}

int64_t soma_encode_spikes(soma_encoder e, int32_t *idx, int64_t *off, const float *x, const int64_t *uid, int T,
                           int64_t B, int64_t M, uint64_t seed, int32_t *fk, uint64_t *fm, int64_t *foff) {
    if (T > 64) return encode_lists(e, idx, off, x, uid, T, B, M, seed, fk, foff);
    soma_encode_folds(e, x, uid, T, B, M, seed, fk, fm, foff);
    return soma_folds_lists(idx, off, fk, fm, foff, T, B);
}

void soma_spikes_densify(float *out, const int32_t *idx, const int64_t *off, int64_t rows, int64_t M) {
    memset(out, 0, (size_t)(rows * M) * sizeof *out);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = off[r]; j < off[r + 1]; j++) out[r * M + idx[j]] = 1.0f;
}
