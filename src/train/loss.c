/*
 * train/loss.c — readouts and losses.
 *
 * The readout of the output layer is its mean over T (spike rate, or mean membrane for a
 * non-spiking readout). Cross-entropy uses softmax(scale · readout); MSE compares the rate
 * with the one-hot target (SpikingJelly's MNIST recipe); with a single output, MSE regresses
 * the rate onto the label (0 or 1) and the prediction is rate > ½. Since the readout is a mean, the
 * gradient reaching every step is (1/T)·∂L/∂readout.
 */
#include "train/loss.h"

#include <math.h>

double soma_loss_eval(soma_loss kind, float scale, float *logits, float *dout, int64_t *correct,
                      const float *out, const int32_t *y, int T, int64_t B, int64_t C,
                      float grad_scale, const float *tiebreak) {
    double total = 0;
    const float invT = 1.0f / (float)T;
    for (int64_t b = 0; b < B; b++) {
        float *z = logits + b * C;
        for (int64_t c = 0; c < C; c++) z[c] = 0;
        for (int t = 0; t < T; t++) {
            const float *o = out + ((int64_t)t * B + b) * C;
            for (int64_t c = 0; c < C; c++) z[c] += o[c];
        }
        const float unit = invT * (kind == SOMA_LOSS_CE ? scale : 1.0f); /* one spike's worth */
        for (int64_t c = 0; c < C; c++) z[c] *= unit;
        /* The loss sees the pure readout. The prediction (and the logits handed back) break ties
         * between equal spike counts by the mean membrane, clamped to ±10 and scaled to at most a
         * tenth of one spike, so no other order changes. src/export repeats this exactly. */
        float zt[1024];
        const bool tb = tiebreak && C > 1 && C <= 1024;
        for (int64_t c = 0; tb && c < C; c++) {
            float a = tiebreak[b * C + c];
            a = a > 10.0f ? 10.0f : a < -10.0f ? -10.0f : a;
            zt[c] = z[c] + a * (unit / 100.0f);
        }
        const float *zp = tb ? zt : z;
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++)
            if (zp[c] > zp[best]) best = c;
        if (C == 1) best = z[0] > 0.5f; /* a single output is a binary rate readout */
        if (correct && y && best == y[b]) (*correct)++;
        if (!y) {
            for (int64_t c = 0; tb && c < C; c++) z[c] = zt[c];
            continue;
        }
        float dz[1024];
        float *d = C <= 1024 ? dz : NULL;
        if (kind == SOMA_LOSS_CE) {
            float mx = z[0];
            for (int64_t c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
            double se = 0;
            for (int64_t c = 0; c < C; c++) se += exp((double)(z[c] - mx));
            total += log(se) - (double)(z[y[b]] - mx);
            if (d)
                for (int64_t c = 0; c < C; c++)
                    d[c] = (float)(exp((double)(z[c] - mx)) / se) - (c == y[b]) ;
            if (d)
                for (int64_t c = 0; c < C; c++) d[c] *= scale;
        } else {
            double l = 0;
            for (int64_t c = 0; c < C; c++) {
                /* one output: the label itself (0 or 1) is the target rate */
                float e = z[c] - (C == 1 ? (float)y[b] : (float)(c == y[b]));
                l += (double)e * e;
                if (d) d[c] = 2.0f * e / (float)C;
            }
            total += l / (double)C;
        }
        if (dout && d)
            for (int t = 0; t < T; t++) {
                float *g = dout + ((int64_t)t * B + b) * C;
                for (int64_t c = 0; c < C; c++) g[c] = d[c] * invT * grad_scale;
            }
        for (int64_t c = 0; tb && c < C; c++) z[c] = zt[c];
    }
    return total;
}
