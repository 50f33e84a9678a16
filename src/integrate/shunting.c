/*
 * integrate/shunting.c — shunting-inhibition integration: the combine step and its gradient.
 *
 *   i = W₊·x ⊙ σ(k·V_p·x) + W₋·x ⊙ σ(k·V_n·x) + b      (blocks Y = [a₊ | a₋ | z_p | z_n])
 *
 * W₊ = ReLU(W), W₋ = −ReLU(−W) come from one parameter W split by sign (integrate.c stacks
 * them), so an excitatory synapse is gated by σ(k·V_p·x) and an inhibitory one by σ(k·V_n·x).
 * Ablations: ab1 W₊x·σ(kV_p x) (blocks [a₊ | z_p]); ab2 W₊x·σ(kV_p x) + W₋x ([a₊ | a₋ | z_p]);
 * ab3 Wx·σ(kVx) ([Wx | z]).
 *
 * The integrator's forward (soma_shunting_forward) overwrites each gate block z of its tape Y
 * with the gate σ(k·z): the gradient needs only the gates, so backward computes no exp.
 */
#include "integrate/integrate.h"
#include "kernels/expf.h"

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

/* s[0:n] = σ(k·z[0:n]) = 1/(1 + e^(−k·z)); s may be z. Exactly the float operations of
 * export/model.c's xsigm(k·z) and the exported C's <name>_sigm, which reproduce it bit for
 * bit: e^ is Soma's own soma_expf1 (kernels/expf.h), vectorised, not libm's. */
static inline void gates(float *s, const float *z, float k, int64_t n) {
    for (int64_t i = 0; i < n; i++) s[i] = -(k * z[i]);
    soma_expf_n(s, s, n);
    for (int64_t i = 0; i < n; i++) s[i] = 1.0f / (1.0f + s[i]);
}

/* c[0:P] = b (per channel). */
static inline void bias_row(float *restrict c, const float *restrict b, int64_t P, int64_t in) {
    if (in == 1)
        for (int64_t i = 0; i < P; i++) c[i] = b[i];
    else
        for (int64_t ch = 0, i = 0; ch < P / in; ch++)
            for (int64_t s = 0; s < in; s++, i++) c[i] = b[ch];
}

static inline void mul_add(float *restrict c, const float *restrict a, const float *restrict s, int64_t n) {
    for (int64_t i = 0; i < n; i++) c[i] += a[i] * s[i];
}

/* Y is left as it is (the recommender's scorer combines one Y more than once): the gates go
 * through a small buffer. The sums run in the same order as soma_shunting_forward's. */
SOMA_HOT void soma_shunting_combine(const soma_integrator *it, float *cur, const float *Y,
                                    const float *params, int64_t rows) {
    enum { CH = 256 };
    const int64_t P = it->P;
    const float *b = params + it->ob, k = it->p.shunt_k;
    shunt_map m = map_of(it);
    float s[CH];
    for (int64_t r = 0; r < rows; r++) {
        float *restrict c = cur + r * P;
        bias_row(c, b, P, it->inner);
        for (int j = 0; j < m.n_gated; j++) {
            const float *a = Y + blk_off(it, r, m.gated[j]), *z = Y + blk_off(it, r, m.gate[j]);
            for (int64_t i0 = 0; i0 < P; i0 += CH) {
                const int64_t n = P - i0 < CH ? P - i0 : CH;
                gates(s, z + i0, k, n);
                mul_add(c + i0, a + i0, s, n);
            }
        }
        if (m.plain >= 0) {
            const float *restrict a = Y + blk_off(it, r, m.plain);
            for (int64_t i = 0; i < P; i++) c[i] += a[i];
        }
    }
}

SOMA_HOT void soma_shunting_forward(const soma_integrator *it, float *cur, float *Y,
                                    const float *params, int64_t rows) {
    const int64_t P = it->P;
    const float *b = params + it->ob, k = it->p.shunt_k;
    shunt_map m = map_of(it);
    for (int64_t r = 0; r < rows; r++) {
        float *restrict c = cur + r * P;
        bias_row(c, b, P, it->inner);
        if (m.n_gated == 2 && m.gate[1] == m.gate[0] + 1) { /* [z_p | z_n] side by side: one call */
            float *s = Y + blk_off(it, r, m.gate[0]);
            gates(s, s, k, 2 * P);
        } else {
            for (int j = 0; j < m.n_gated; j++) {
                float *s = Y + blk_off(it, r, m.gate[j]);
                gates(s, s, k, P);
            }
        }
        for (int j = 0; j < m.n_gated; j++) mul_add(c, Y + blk_off(it, r, m.gated[j]), Y + blk_off(it, r, m.gate[j]), P);
        if (m.plain >= 0) {
            const float *restrict a = Y + blk_off(it, r, m.plain);
            for (int64_t i = 0; i < P; i++) c[i] += a[i];
        }
    }
}

/* G_gated = g⊙s, G_gate = k·g⊙a⊙s(1 − s), G_plain = g, with the gates s = σ(kz) that
 * soma_shunting_forward left in Y. */
SOMA_HOT void soma_shunting_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                                 const float *Y, const float *params, int64_t rows) {
    const int64_t P = it->P;
    const float k = it->p.shunt_k;
    shunt_map m = map_of(it);
    (void)gws, (void)params;
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict gr = g + r * P;
        for (int j = 0; j < m.n_gated; j++) {
            const float *restrict a = Y + blk_off(it, r, m.gated[j]), *restrict s = Y + blk_off(it, r, m.gate[j]);
            float *restrict ga = G + blk_off(it, r, m.gated[j]), *restrict gz = G + blk_off(it, r, m.gate[j]);
            for (int64_t i = 0; i < P; i++) {
                ga[i] = gr[i] * s[i];
                gz[i] = k * gr[i] * a[i] * s[i] * (1.0f - s[i]);
            }
        }
        if (m.plain >= 0) {
            float *restrict gp = G + blk_off(it, r, m.plain);
            for (int64_t i = 0; i < P; i++) gp[i] = gr[i];
        }
    }
}
