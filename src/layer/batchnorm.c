/*
 * layer/batchnorm.c — batch-normalisation kernels over (rows, C, HW) per channel, used by the
 * conv unit's BN and tdBN stages and by the MPBN neuron (mpbn.c).
 *
 *   x̂ = (x − μ)/√(σ² + ε),  y = γ·s·x̂ + β
 *
 * with μ, σ² the batch statistics over rows·HW in training (biased σ², as PyTorch normalises)
 * and the running statistics in inference. s = 1 for plain BN; tdBN (Zheng et al. 2021,
 * "Going deeper with directly-trained larger SNNs") normalises to α·V_th, i.e. s = α·θ.
 * Statistics are accumulated in double. Where the statistics come from (chunk, step) and how
 * the running ones are kept is the caller's business.
 */
#include "layer/conv.h"

#include <math.h>

void soma_bn_stats(float *mean, float *var, const float *x, int64_t rows, int64_t C, int64_t HW) {
    const double n = (double)(rows * HW);
    for (int64_t c = 0; c < C; c++) {
        double s = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *restrict xp = x + (r * C + c) * HW;
            for (int64_t i = 0; i < HW; i++) s += xp[i];
        }
        const double m = s / n;
        double v = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *restrict xp = x + (r * C + c) * HW;
            for (int64_t i = 0; i < HW; i++) v += ((double)xp[i] - m) * ((double)xp[i] - m);
        }
        mean[c] = (float)m;
        var[c] = (float)(v / n);
    }
}

void soma_bn_apply(float *y, float *xhat, float *invstd, const float *x, const float *mean,
                   const float *var, const float *gamma, const float *beta, float s,
                   int64_t rows, int64_t C, int64_t HW) {
    for (int64_t c = 0; c < C; c++) invstd[c] = 1.0f / sqrtf(var[c] + SOMA_BN_EPS);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < C; c++) {
            const float m = mean[c], is = invstd[c], g = gamma[c] * s, b = beta[c];
            const float *xp = x + (r * C + c) * HW;
            float *yp = y + (r * C + c) * HW;
            float *hp = xhat ? xhat + (r * C + c) * HW : NULL;
            for (int64_t i = 0; i < HW; i++) {
                float h = (xp[i] - m) * is;
                if (hp) hp[i] = h;
                yp[i] = g * h + b;
            }
        }
}

void soma_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                      const float *invstd, const float *gamma, float s, int64_t rows, int64_t C,
                      int64_t HW) {
    const double n = (double)(rows * HW);
    for (int64_t c = 0; c < C; c++) {
        /* pass 1: Σ dy and Σ dy·x̂ over the channel */
        double sd = 0, sdx = 0;
        for (int64_t r = 0; r < rows; r++) {
            const float *restrict gp = dy + (r * C + c) * HW, *restrict hp = xhat + (r * C + c) * HW;
            for (int64_t i = 0; i < HW; i++) sd += gp[i], sdx += (double)gp[i] * hp[i];
        }
        dgamma[c] += (float)(s * sdx);
        dbeta[c] += (float)sd;
        /* pass 2: dx = invstd·γs·(dy − mean(dy) − x̂·mean(dy·x̂)) */
        const float k = invstd[c] * gamma[c] * s, m1 = (float)(sd / n), m2 = (float)(sdx / n);
        for (int64_t r = 0; r < rows; r++) {
            const float *gp = dy + (r * C + c) * HW, *hp = xhat + (r * C + c) * HW;
            float *dp = dx + (r * C + c) * HW;
            for (int64_t i = 0; i < HW; i++) dp[i] = k * (gp[i] - m1 - hp[i] * m2);
        }
    }
}
