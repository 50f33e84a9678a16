/*
 * encode/encode.c — spike encoders: analogue values in [0, 1] to input trains over T steps.
 *
 * Rate coding draws each (sample, step, feature) from a generator seeded by the sample's id
 * and the step, so a sample's spikes do not depend on the batch it lands in or the thread
 * that encodes it. Zero-valued features (most MNIST pixels) never spike and draw nothing.
 */
#include "encode/encode.h"
#include "synapse/synop.h" /* SOMA_HOT */

#include <math.h>
#include <string.h>

static inline uint64_t wyrand(uint64_t *s) {
    *s += 0xa0761d6478bd642fULL;
    __uint128_t m = (__uint128_t)*s * (*s ^ 0xe7037ed1a0b428dbULL);
    return (uint64_t)(m >> 64) ^ (uint64_t)m;
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

SOMA_HOT int64_t soma_encode_spikes(soma_encoder e, int32_t *restrict idx, int64_t *restrict off,
                                    const float *restrict x, const int64_t *uid, int T, int64_t B,
                                    int64_t M, uint64_t seed, int32_t *restrict nz,
                                    int64_t *restrict nz_off) {
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

void soma_spikes_densify(float *out, const int32_t *idx, const int64_t *off, int64_t rows, int64_t M) {
    memset(out, 0, (size_t)(rows * M) * sizeof *out);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = off[r]; j < off[r + 1]; j++) out[r * M + idx[j]] = 1.0f;
}
