/*
 * integrate/shunting.c — shunting-inhibition integration: the combine step and its gradient.
 *
 *   i = W₊·x ⊙ σ(k·V_p·x) + W₋·x ⊙ σ(k·V_n·x) + b      (blocks Y = [a₊ | a₋ | z_p | z_n])
 *
 * W₊ = ReLU(W), W₋ = −ReLU(−W) come from one parameter W split by sign (integrate.c stacks
 * them), so an excitatory synapse is gated by σ(k·V_p·x) and an inhibitory one by σ(k·V_n·x).
 * Ablations: ab1 W₊x·σ(kV_p x) (blocks [a₊ | z_p]); ab2 W₊x·σ(kV_p x) + W₋x ([a₊ | a₋ | z_p]);
 * ab3 Wx·σ(kVx) ([Wx | z]).
 */
#include "integrate/integrate.h"

#include <math.h>

static inline float sigm(float z) { return 1.0f / (1.0f + expf(-z)); }

/* Which block is the gated current, which its gate, and the ungated one (-1 if none). */
typedef struct shunt_map {
    int gated[2], gate[2], n_gated, plain;
} shunt_map;

static shunt_map map_of(const soma_integrator *it) {
    switch (it->p.ablation) {
    case SOMA_ABLATION_AB1: return (shunt_map){{0, -1}, {1, -1}, 1, -1};
    case SOMA_ABLATION_AB2: return (shunt_map){{0, -1}, {2, -1}, 1, 1};
    case SOMA_ABLATION_AB3: return (shunt_map){{0, -1}, {1, -1}, 1, -1};
    default: return (shunt_map){{0, 1}, {2, 3}, 2, -1};
    }
}

void soma_shunting_combine(const soma_integrator *it, float *cur, const float *Y,
                           const float *params, int64_t rows) {
    const int64_t P = it->P, in = it->inner;
    const float *b = params + it->ob, k = it->p.shunt_k;
    shunt_map m = map_of(it);
    for (int64_t r = 0; r < rows; r++) {
        float *restrict c = cur + r * P;
        if (in == 1)
            for (int64_t i = 0; i < P; i++) c[i] = b[i];
        else
            for (int64_t ch = 0, i = 0; ch < P / in; ch++)
                for (int64_t s = 0; s < in; s++, i++) c[i] = b[ch];
        for (int j = 0; j < m.n_gated; j++) {
            const float *restrict a = Y + blk_off(it, r, m.gated[j]), *restrict z = Y + blk_off(it, r, m.gate[j]);
            for (int64_t i = 0; i < P; i++) c[i] += a[i] * sigm(k * z[i]);
        }
        if (m.plain >= 0) {
            const float *restrict a = Y + blk_off(it, r, m.plain);
            for (int64_t i = 0; i < P; i++) c[i] += a[i];
        }
    }
}

/* G_gated = g⊙σ(kz), G_gate = k·g⊙a⊙σ(kz)(1 − σ(kz)), G_plain = g. */
void soma_shunting_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                        const float *Y, const float *params, int64_t rows) {
    const int64_t P = it->P;
    const float k = it->p.shunt_k;
    shunt_map m = map_of(it);
    (void)gws, (void)params;
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict gr = g + r * P;
        for (int j = 0; j < m.n_gated; j++) {
            const float *restrict a = Y + blk_off(it, r, m.gated[j]), *restrict z = Y + blk_off(it, r, m.gate[j]);
            float *restrict ga = G + blk_off(it, r, m.gated[j]), *restrict gz = G + blk_off(it, r, m.gate[j]);
            for (int64_t i = 0; i < P; i++) {
                float s = sigm(k * z[i]);
                ga[i] = gr[i] * s;
                gz[i] = k * gr[i] * a[i] * s * (1.0f - s);
            }
        }
        if (m.plain >= 0) {
            float *restrict gp = G + blk_off(it, r, m.plain);
            for (int64_t i = 0; i < P; i++) gp[i] = gr[i];
        }
    }
}
