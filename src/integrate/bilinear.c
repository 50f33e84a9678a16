/*
 * integrate/bilinear.c — bilinear integration: the combine step and its gradient.
 *
 *   i = W·x + b + λ·Σ_f [(V_f·x)² − (V_f²)·x²]       (blocks Y = [W·x | p_1..p_R | q_1..q_R])
 *
 * For one neuron with R = 1 the bracket is Σ_{j≠k} v_j v_k x_j x_k: every pairwise interaction
 * of distinct inputs through a rank-1 matrix with its diagonal removed (the factorisation-
 * machine identity), at O(M) cost. Ablations: ab1 i = a·W₁x + (1 − a)·W₂x + b; ab2 drops W·x
 * (λ is kept as the term's learnable scale); ab3 freezes λ (integrate.c zeroes its gradient).
 */
#include "integrate/integrate.h"

#include <string.h>

SOMA_HOT void soma_bilinear_combine(const soma_integrator *it, float *cur, const float *Y,
                           const float *params, int64_t rows) {
    const int64_t P = it->P, in = it->inner;
    const float *b = params + it->ob;
    if (it->p.ablation == SOMA_ABLATION_AB1) {
        const float a = params[it->oa];
        for (int64_t r = 0; r < rows; r++) {
            const float *y0 = Y + blk_off(it, r, 0), *y1 = Y + blk_off(it, r, 1);
            float *c = cur + r * P;
            for (int64_t ch = 0, i = 0; ch < P / in; ch++)
                for (int64_t s = 0; s < in; s++, i++) c[i] = a * y0[i] + (1.0f - a) * y1[i] + b[ch];
        }
        return;
    }
    const int w = it->p.ablation == SOMA_ABLATION_AB2 ? 0 : 1, R = it->R;
    const float *lam = params + it->olam;
    const bool per = it->nlam > 1;
    for (int64_t r = 0; r < rows; r++) {
        float *restrict c = cur + r * P;
        for (int64_t i = 0; i < P; i++) c[i] = 0.0f;
        for (int f = 0; f < R; f++) {
            const float *restrict p = Y + blk_off(it, r, w + f), *restrict q = Y + blk_off(it, r, w + R + f);
            for (int64_t i = 0; i < P; i++) c[i] += p[i] * p[i] - q[i];
        }
        const float *restrict y0 = w ? Y + blk_off(it, r, 0) : NULL;
        if (in == 1 && y0) { /* dense operators: one position per channel, vectorised */
            for (int64_t i = 0; i < P; i++) c[i] = y0[i] + b[i] + (per ? lam[i] : lam[0]) * c[i];
            continue;
        }
        for (int64_t ch = 0, i = 0; ch < P / in; ch++) {
            const float l = per ? lam[ch] : lam[0], bc = b[ch];
            if (y0)
                for (int64_t s = 0; s < in; s++, i++) c[i] = y0[i] + bc + l * c[i];
            else
                for (int64_t s = 0; s < in; s++, i++) c[i] = bc + l * c[i];
        }
    }
}

/* The dense-operator, one-λ case of soma_bilinear_grad. Each row's ∂λ term is a sum over the
 * row's P outputs in ascending order, one float chain per (row, f), added to ∂λ row after row
 * (f within a row): kept. A single chain is bound by the add latency (about a twentieth of a
 * bilinear layer's training time), so RG rows' chains advance side by side, each in its own
 * order, from terms computed vectorised beforehand. */
enum { RG = 8, PC = 256, RMAX = 20 };
SOMA_HOT static void grad_dense(const soma_integrator *it, float *G, float *dlam, const float *g,
                                const float *Y, float l, int w, int64_t rows) {
    const int64_t P = it->P;
    const int R = it->R;
    float term[RG][PC], dl[RG][RMAX];
    for (int64_t r0 = 0; r0 < rows; r0 += RG) {
        const int nr = rows - r0 < RG ? (int)(rows - r0) : RG;
        for (int j = nr; j < RG; j++) memset(term[j], 0, sizeof term[j]); /* summed, unused */
        for (int j = 0; j < nr; j++)
            if (w) {
                const float *restrict gr = g + (r0 + j) * P;
                float *restrict g0 = G + blk_off(it, r0 + j, 0);
                for (int64_t i = 0; i < P; i++) g0[i] = gr[i];
            }
        for (int f = 0; f < R; f++) {
            float acc[RG] = {0};
            for (int64_t i0 = 0; i0 < P; i0 += PC) {
                const int64_t n = P - i0 < PC ? P - i0 : PC;
                for (int j = 0; j < nr; j++) {
                    const int64_t r = r0 + j;
                    const float *restrict gr = g + r * P + i0;
                    const float *restrict p = Y + blk_off(it, r, w + f) + i0, *restrict q = Y + blk_off(it, r, w + R + f) + i0;
                    float *restrict gp = G + blk_off(it, r, w + f) + i0, *restrict gq = G + blk_off(it, r, w + R + f) + i0;
                    float *restrict tj = term[j];
                    for (int64_t i = 0; i < n; i++) {
                        gp[i] = 2.0f * l * gr[i] * p[i];
                        gq[i] = -l * gr[i];
                        tj[i] = gr[i] * (p[i] * p[i] - q[i]);
                    }
                }
                for (int64_t i = 0; i < n; i++)
                    for (int j = 0; j < RG; j++) acc[j] += term[j][i];
            }
            for (int j = 0; j < nr; j++) dl[j][f] = acc[j];
        }
        for (int j = 0; j < nr; j++)
            for (int f = 0; f < R; f++) dlam[0] += dl[j][f];
    }
}

/* G = [g | 2λ·g⊙p_f | −λ·g];  ∂λ += Σ g·Σ_f (p_f² − q_f);  ab1: G = [a·g | (1 − a)·g],
 * ∂a += Σ g·(W₁x − W₂x). */
SOMA_HOT void soma_bilinear_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                        const float *Y, const float *params, int64_t rows) {
    const int64_t P = it->P, in = it->inner;
    if (it->p.ablation == SOMA_ABLATION_AB1) {
        const float a = params[it->oa];
        double da = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *gr = g + r * P, *y0 = Y + blk_off(it, r, 0), *y1 = Y + blk_off(it, r, 1);
            float *g0 = G + blk_off(it, r, 0), *g1 = G + blk_off(it, r, 1);
            for (int64_t i = 0; i < P; i++) {
                g0[i] = a * gr[i];
                g1[i] = (1.0f - a) * gr[i];
                da += (double)gr[i] * (y0[i] - y1[i]);
            }
        }
        gws[it->ga] += (float)da;
        return;
    }
    const int w = it->p.ablation == SOMA_ABLATION_AB2 ? 0 : 1, R = it->R;
    const float *lam = params + it->olam;
    const bool per = it->nlam > 1;
    float *dlam = gws + it->glam;
    if (in == 1 && !per) { /* dense operators, one λ */
        grad_dense(it, G, dlam, g, Y, lam[0], w, rows);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict gr = g + r * P;
        if (w) {
            float *restrict g0 = G + blk_off(it, r, 0);
            for (int64_t i = 0; i < P; i++) g0[i] = gr[i];
        }
        for (int f = 0; f < R; f++) {
            const float *restrict p = Y + blk_off(it, r, w + f), *restrict q = Y + blk_off(it, r, w + R + f);
            float *restrict gp = G + blk_off(it, r, w + f), *restrict gq = G + blk_off(it, r, w + R + f);
            double dl = 0;
            if (in == 1 && !per) { /* dense operators, one λ: vectorised */
                const float l = lam[0];
                float dlc = 0.0f;
                for (int64_t i = 0; i < P; i++) {
                    gp[i] = 2.0f * l * gr[i] * p[i];
                    gq[i] = -l * gr[i];
                    dlc += gr[i] * (p[i] * p[i] - q[i]);
                }
                dlam[0] += dlc;
                continue;
            }
            for (int64_t ch = 0, i = 0; ch < P / in; ch++) {
                const float l = per ? lam[ch] : lam[0];
                float dlc = 0.0f;
                for (int64_t s = 0; s < in; s++, i++) {
                    gp[i] = 2.0f * l * gr[i] * p[i];
                    gq[i] = -l * gr[i];
                    dlc += gr[i] * (p[i] * p[i] - q[i]);
                }
                if (per) dlam[ch] += dlc;
                else dl += dlc;
            }
            if (!per) dlam[0] += (float)dl;
        }
    }
}
