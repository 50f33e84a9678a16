/*
 * layer/mpbn.c — the neuron part of the conv layers: the plain fused dynamics
 * (neuron/dynamics.c), optionally with membrane-potential batch normalisation (MPBN, Guo et
 * al., ICCV 2023), and with a current that may be the same at every step (direct encoding).
 *
 * MPBN normalises what the threshold sees, per channel, with the statistics of the step:
 *
 *   h_t = a·u_{t−1} + c·i_t + d                 (the charge of soma/neuron.h)
 *   z_t = γ·(h_t − μ_t)/√(σ_t² + ε) + β         (μ_t, σ_t² over the chunk's B·H·W at step t)
 *   s_t = Θ(z_t − θ),   u_t = reset(h_t, s_t)    (the recurrence keeps the un-normalised h)
 *
 * Keeping h in the recurrence is what makes MPBN foldable into a per-channel threshold at
 * inference (z ≥ θ ⇔ h ≥ (θ − β)σ/γ + μ for γ > 0), as the paper states. BPTT adds the BN
 * backward of each step to the usual chain: ∂L/∂z_t = δ_t·σ′ + [attached] ε_t·∂u/∂s·σ′ and
 * ∂L/∂h_t = ε_t·∂u/∂h + BN_backward(∂L/∂z_t). Running statistics: one update per step and
 * training batch (PyTorch's BatchNorm called T times), from the chunk-summed statistics.
 */
#include "layer/conv.h"
#include "neuron/surrogate.h"

#include <math.h>
#include <string.h>

int soma_sneuron_init(soma_sneuron *n, const soma_neuron_params *np, bool mpbn, int T, int64_t c,
                      int64_t hw, soma_error *err) {
    memset(n, 0, sizeof *n);
    if (np->kind == SOMA_NEURON_PLIF && !(np->tau > 1.0f))
        return soma_fail(err, SOMA_E_ARG, "PLIF needs an initial tau > 1 (got %g)", (double)np->tau);
    if (mpbn && !np->spiking)
        return soma_fail(err, SOMA_E_ARG, "MPBN needs a spiking neuron (not a membrane readout)");
    n->np = *np, n->mpbn = mpbn, n->T = T, n->c = c, n->hw = hw;
    n->o_plif = n->o_bn = -1;
    int64_t o = 0, g = 0;
    if (mpbn) {
        n->o_bn = o, o += 2 * c;
        n->g_bn = g, g += 2 * c;
        n->g_stat = g, g += (int64_t)T * 2 * c + 1;
        n->o_state = 0, n->n_state = 2 * c;
        n->tape_fixed = (int64_t)T * 2 * c;
    }
    if (np->kind == SOMA_NEURON_PLIF) n->o_plif = o++, n->g_plif = g++;
    n->n_params = o, n->n_gws = g;
    return SOMA_OK;
}

void soma_sneuron_init_params(const soma_sneuron *n, float *params) {
    if (n->o_bn >= 0)
        for (int64_t i = 0; i < n->c; i++) params[n->o_bn + i] = 1.0f, params[n->o_bn + n->c + i] = 0.0f;
    if (n->o_plif >= 0) params[n->o_plif] = -logf(n->np.tau - 1.0f); /* σ(w₀) = 1/τ₀ */
}

void soma_sneuron_init_state(const soma_sneuron *n, float *state) {
    for (int64_t i = 0; i < n->n_state / 2; i++) state[i] = 0.0f, state[n->c + i] = 1.0f;
}

static float plif_k(const soma_sneuron *n, const float *params) {
    return n->o_plif >= 0 ? 1.0f / (1.0f + expf(-params[n->o_plif])) : 0.0f;
}

static inline float reset_of(soma_reset reset, float h, float s, float theta, float vr) {
    return reset == SOMA_RESET_HARD ? h * (1.0f - s) + vr * s : reset == SOMA_RESET_SOFT ? h - theta * s : h;
}

/* ---- MPBN forward ---------------------------------------------------------------------- */

static void mpbn_forward(const soma_sneuron *n, float *out, float *mem, const float *cur,
                         bool cur_static, float *u, float *tape, const float *params,
                         const float *state, bool train, int T, int64_t B) {
    const int64_t C = n->c, HW = n->hw, R = B * C * HW;
    const soma_neuron_params *p = &n->np;
    float a, cc, d;
    soma_neuron_coeffs(p, plif_k(n, params), &a, &cc, &d);
    const float slope = p->slope > 0 ? p->slope : soma_surrogate_default_slope(p->surrogate);
    const float *gamma = params + n->o_bn, *beta = gamma + C;
    memset(u, 0, (size_t)R * sizeof *u);
    for (int t = 0; t < T; t++) {
        const float *ct = cur_static ? cur : cur + (int64_t)t * R;
        float *h = mem + (int64_t)t * R, *s = out + (int64_t)t * R;
        for (int64_t i = 0; i < R; i++) h[i] = a * u[i] + cc * ct[i] + d;
        float *mean = tape + (int64_t)t * 2 * C, *invstd = mean + C;
        if (train) {
            soma_bn_stats(mean, invstd, h, B, C, HW); /* invstd holds σ² for a moment */
        } else {
            memcpy(mean, state, (size_t)C * sizeof *mean);
            memcpy(invstd, state + C, (size_t)C * sizeof *invstd);
        }
        for (int64_t ch = 0; ch < C; ch++) invstd[ch] = 1.0f / sqrtf(invstd[ch] + SOMA_BN_EPS);
        for (int64_t b = 0; b < B; b++)
            for (int64_t ch = 0; ch < C; ch++) {
                const int64_t o = (b * C + ch) * HW;
                const float g = gamma[ch] * invstd[ch], m = mean[ch], bb = beta[ch];
                for (int64_t i = o; i < o + HW; i++) {
                    const float z = g * (h[i] - m) + bb;
                    const float sp = p->smooth_forward ? soma_surrogate_primitive(p->surrogate, slope, z - p->theta)
                                                       : (z >= p->theta ? 1.0f : 0.0f);
                    s[i] = sp;
                    u[i] = reset_of(p->reset, h[i], sp, p->theta, p->v_reset);
                }
            }
    }
}

/* ---- MPBN backward ---------------------------------------------------------------------- */

static double mpbn_backward(const soma_sneuron *n, float *dcur, const float *dout, const float *mem,
                            const float *out, bool cur_static, float *eps, float *dz,
                            const float *tape, const float *params, float *gws, int T, int64_t B) {
    const int64_t C = n->c, HW = n->hw, R = B * C * HW;
    const soma_neuron_params *p = &n->np;
    const float k = plif_k(n, params);
    float a, cc, d;
    soma_neuron_coeffs(p, k, &a, &cc, &d);
    const float slope = p->slope > 0 ? p->slope : soma_surrogate_default_slope(p->surrogate);
    const float *gamma = params + n->o_bn, *beta = gamma + C;
    float *dgamma = gws + n->g_bn, *dbeta = dgamma + C;
    const double cnt = (double)(B * HW);
    double dk = 0;
    memset(eps, 0, (size_t)R * sizeof *eps);
    if (cur_static) memset(dcur, 0, (size_t)R * sizeof *dcur);
    for (int t = T - 1; t >= 0; t--) {
        const float *h = mem + (int64_t)t * R, *s = out + (int64_t)t * R, *dy = dout + (int64_t)t * R;
        const float *mean = tape + (int64_t)t * 2 * C, *invstd = mean + C;
        /* pass 1: ∂L/∂z, and the direct path ε·∂u/∂h into dh (held in eps's place below) */
        for (int64_t b = 0; b < B; b++)
            for (int64_t ch = 0; ch < C; ch++) {
                const int64_t o = (b * C + ch) * HW;
                const float g = gamma[ch] * invstd[ch], m = mean[ch], bb = beta[ch];
                for (int64_t i = o; i < o + HW; i++) {
                    const float z = g * (h[i] - m) + bb;
                    const float sg = soma_surrogate_grad(p->surrogate, slope, z - p->theta);
                    const float du_ds = p->reset == SOMA_RESET_HARD ? p->v_reset - h[i]
                                        : p->reset == SOMA_RESET_SOFT ? -p->theta : 0.0f;
                    const float du_dh = p->reset == SOMA_RESET_HARD ? 1.0f - s[i] : 1.0f;
                    dz[i] = dy[i] * sg + (p->detach_reset ? 0.0f : eps[i] * du_ds * sg);
                    eps[i] *= du_dh; /* now the direct part of ∂L/∂h_t */
                }
            }
        /* pass 2: BN backward of this step, per channel over (B, HW) */
        for (int64_t ch = 0; ch < C; ch++) {
            double sd = 0, sdx = 0;
            for (int64_t b = 0; b < B; b++) {
                const int64_t o = (b * C + ch) * HW;
                for (int64_t i = o; i < o + HW; i++) {
                    const float xh = (h[i] - mean[ch]) * invstd[ch];
                    sd += dz[i], sdx += (double)dz[i] * xh;
                }
            }
            dgamma[ch] += (float)sdx;
            dbeta[ch] += (float)sd;
            const float kk = invstd[ch] * gamma[ch], m1 = (float)(sd / cnt), m2 = (float)(sdx / cnt);
            for (int64_t b = 0; b < B; b++) {
                const int64_t o = (b * C + ch) * HW;
                for (int64_t i = o; i < o + HW; i++) {
                    const float xh = (h[i] - mean[ch]) * invstd[ch];
                    eps[i] += kk * (dz[i] - m1 - xh * m2); /* eps = ∂L/∂h_t */
                }
            }
        }
        /* PLIF: ∂h/∂k = (h − u_{t−1})/k */
        if (n->o_plif >= 0)
            for (int64_t i = 0; i < R; i++) {
                float up = t ? reset_of(p->reset, h[i - R], s[i - R], p->theta, p->v_reset) : 0.0f;
                dk += (double)eps[i] * (double)(h[i] - up) / k;
            }
        float *dc = cur_static ? dcur : dcur + (int64_t)t * R;
        for (int64_t i = 0; i < R; i++) {
            if (cur_static) dc[i] += cc * eps[i];
            else dc[i] = cc * eps[i];
            eps[i] *= a; /* ε_{t−1} */
        }
        /* the statistics of this step, for the running ones */
        float *st = gws + n->g_stat + (int64_t)t * 2 * C;
        for (int64_t ch = 0; ch < C; ch++) {
            const double var = 1.0 / ((double)invstd[ch] * invstd[ch]) - SOMA_BN_EPS;
            st[ch] += mean[ch];
            st[C + ch] += (float)(cnt > 1 ? var * cnt / (cnt - 1) : var);
        }
    }
    gws[n->g_stat + (int64_t)T * 2 * C] += 1.0f;
    return dk;
}

/* ---- public ------------------------------------------------------------------------------- */

void soma_sneuron_forward(const soma_sneuron *n, float *out, float *mem, const float *cur,
                          bool cur_static, float *u, float *tape, const float *params,
                          const float *state, bool train, int T, int64_t B) {
    if (n->mpbn) {
        mpbn_forward(n, out, mem, cur, cur_static, u, tape, params, state, train, T, B);
        return;
    }
    const int64_t R = B * n->c * n->hw;
    const float k = plif_k(n, params);
    if (!cur_static) {
        soma_neuron_forward(out, mem, cur, u, T, R, &n->np, k);
        return;
    }
    memset(u, 0, (size_t)R * sizeof *u);
    for (int t = 0; t < T; t++)
        soma_neuron_step_forward(out + (int64_t)t * R, mem + (int64_t)t * R, cur, u, R, &n->np, k);
}

void soma_sneuron_backward(const soma_sneuron *n, float *dcur, const float *dout, const float *mem,
                           const float *out, bool cur_static, float *eps, float *tmp,
                           const float *tape, const float *params, float *gws, int T, int64_t B) {
    const int64_t R = B * n->c * n->hw;
    const float k = plif_k(n, params);
    double dk = 0;
    if (n->mpbn) {
        dk = mpbn_backward(n, dcur, dout, mem, out, cur_static, eps, tmp, tape, params, gws, T, B);
    } else if (!cur_static) {
        dk = soma_neuron_backward(dcur, dout, mem, out, eps, T, R, &n->np, k);
    } else {
        /* Σ_t ∂L/∂i_t: the same current fed every step */
        memset(eps, 0, (size_t)R * sizeof *eps);
        memset(dcur, 0, (size_t)R * sizeof *dcur);
        for (int t = T - 1; t >= 0; t--) {
            const int64_t o = (int64_t)t * R;
            dk += soma_neuron_step_backward(tmp, dout + o, mem + o, out + o, t ? mem + o - R : NULL,
                                            t ? out + o - R : NULL, eps, R, &n->np, k);
            for (int64_t i = 0; i < R; i++) dcur[i] += tmp[i];
        }
    }
    if (n->o_plif >= 0) gws[n->g_plif] += (float)dk;
}

void soma_sneuron_finish(const soma_sneuron *n, float *dparams, const float *gws,
                         const float *params) {
    if (n->o_bn >= 0)
        for (int64_t i = 0; i < 2 * n->c; i++) dparams[n->o_bn + i] = gws[n->g_bn + i];
    if (n->o_plif >= 0) {
        const float k = plif_k(n, params);
        dparams[n->o_plif] = gws[n->g_plif] * k * (1.0f - k); /* dk/dw = σ′(w) */
    }
}

void soma_sneuron_update_state(const soma_sneuron *n, float *state, const float *gws) {
    if (!n->mpbn) return;
    const int64_t C = n->c;
    const float cnt = gws[n->g_stat + (int64_t)n->T * 2 * C];
    if (!(cnt > 0)) return;
    for (int t = 0; t < n->T; t++) {
        const float *st = gws + n->g_stat + (int64_t)t * 2 * C;
        for (int64_t ch = 0; ch < C; ch++) {
            state[ch] += SOMA_BN_MOMENTUM * (st[ch] / cnt - state[ch]);
            state[C + ch] += SOMA_BN_MOMENTUM * (st[C + ch] / cnt - state[C + ch]);
        }
    }
}
