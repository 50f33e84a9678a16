/*
 * kernels/expf.h — Soma's own single-precision exp, for the shunting gates σ(k·z).
 *
 * The gates must be exactly what the exported C (src/export/) computes, and the exported code
 * must not depend on which libm it is linked with, so Soma does not call expf for them: it
 * evaluates this function, written once here, in plain float operations that vectorise
 * (soma_expf_n) and that the exporter emits verbatim (soma_expf_source).
 *
 *   x clamped to [−87, 88];  k = round(x·log2 e) (by adding and subtracting 1.5·2²³);
 *   r = x − k·ln2 (ln2 split in a high part exact in float and a low part: r is accurate);
 *   e^r by its Taylor series to r⁷ (|r| ≤ ln2/2: truncation < 5e-9, relative);
 *   e^x = e^r · 2^k, 2^k built in the exponent bits (k ∈ [−126, 127]: always a normal float).
 *
 * Relative error under 2 ulp of float on the whole range (tested against libm); below −87 it
 * returns e^−87 ≈ 1.6e-38 instead of smaller numbers, above 88 e^88 instead of larger ones —
 * for a gate 1/(1 + e^−kz) that is 1 − 1.6e-38 and 6e-39 instead of 1 and 0. NaN stays NaN.
 * No FMA contraction (ISO C mode), so every lane of the vector loop, the scalar function and
 * the exported copy give the same bits.
 */
#ifndef SOMA_KERNELS_EXPF_H
#define SOMA_KERNELS_EXPF_H

#include <stdint.h>
#include <string.h>

static inline float soma_expf1(float x) {
    const float magic = 12582912.0f; /* 1.5·2²³: adding it rounds to an integer */
    uint32_t t_bits, magic_bits, s_bits;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    const float t = x * 1.44269502f + magic;
    const float k = t - magic;
    const float r = (x - k * 0.693145752f) - k * 1.42860677e-06f;
    float p = 1.98412701e-04f;          /* 1/5040 */
    p = p * r + 1.38888892e-03f;        /* 1/720 */
    p = p * r + 8.33333377e-03f;        /* 1/120 */
    p = p * r + 4.16666679e-02f;        /* 1/24 */
    p = p * r + 1.66666672e-01f;        /* 1/6 */
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    memcpy(&t_bits, &t, sizeof t_bits);
    memcpy(&magic_bits, &magic, sizeof magic_bits);
    s_bits = (t_bits - magic_bits + 127u) << 23; /* 2^k; unsigned, so NaN input is no UB */
    float s;
    memcpy(&s, &s_bits, sizeof s);
    return p * s;
}

/* y[0:n] = soma_expf1(x[0:n]); y may be x. */
void soma_expf_n(float *y, const float *x, int64_t n);

/* soma_expf1 as C99 source for generated code: "static float NAME(float x) { … }". */
extern const char soma_expf_source_fmt[];

#endif
