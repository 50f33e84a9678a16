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

void soma_bilinear_combine(const soma_integrator *it, float *cur, const float *Y,
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

/* G = [g | 2λ·g⊙p_f | −λ·g];  ∂λ += Σ g·Σ_f (p_f² − q_f);  ab1: G = [a·g | (1 − a)·g],
 * ∂a += Σ g·(W₁x − W₂x). */
void soma_bilinear_grad(const soma_integrator *it, float *G, float *gws, const float *g,
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
