/*
 * neuron/dynamics.c — the fused charge/fire/reset loop over T steps, and its BPTT.
 *
 * The time loop is outside, the neuron loop inside (contiguous, vectorisable); the membrane
 * state lives in an R-sized buffer. Reset mode, surrogate and readout are switched on once per
 * step call; each case calls a static inline body with constant arguments, so the compiler
 * emits one specialised loop per combination. The integration of input current is not here
 * (see src/integrate/).
 */
#include "neuron/surrogate.h"
#include "soma/neuron.h"
#include "synapse/synop.h" /* SOMA_HOT */

soma_neuron_params soma_neuron_default_params(void) {
    soma_neuron_params p = {0};
    p.kind = SOMA_NEURON_LIF;
    p.alpha = 0.5f;
    p.tau = 2.0f;
    p.theta = 1.0f;
    p.v_reset = 0.0f;
    p.reset = SOMA_RESET_HARD;
    p.detach_reset = false;
    p.surrogate = SOMA_SURROGATE_SIGMOID;
    p.slope = 4.0f;
    p.spiking = true;
    return p;
}

void soma_neuron_coeffs(const soma_neuron_params *p, float k_plif, float *a, float *c, float *d) {
    switch (p->kind) {
    case SOMA_NEURON_LIF: *a = p->alpha, *c = 1.0f, *d = 0.0f; break;
    case SOMA_NEURON_LIF_TAU: *a = 1.0f - 1.0f / p->tau, *c = 1.0f / p->tau, *d = p->v_reset / p->tau; break;
    case SOMA_NEURON_IF: *a = 1.0f, *c = 1.0f, *d = 0.0f; break;
    case SOMA_NEURON_PLIF: *a = 1.0f - k_plif, *c = k_plif, *d = k_plif * p->v_reset; break;
    default: *a = *c = 1.0f, *d = 0.0f; break;
    }
}

/* Per-call constants, resolved once. */
typedef struct dyn {
    float a, c, d, theta, vr, slope, k;
    soma_reset reset;
    soma_surrogate sk;
    bool spiking, smooth, detach, plif;
} dyn;

static dyn dyn_of(const soma_neuron_params *p, float k_plif) {
    dyn q;
    soma_neuron_coeffs(p, k_plif, &q.a, &q.c, &q.d);
    q.theta = p->theta, q.vr = p->v_reset, q.k = k_plif;
    q.slope = p->slope > 0 ? p->slope : soma_surrogate_default_slope(p->surrogate);
    q.reset = p->spiking ? p->reset : SOMA_RESET_NONE;
    q.sk = p->surrogate, q.spiking = p->spiking, q.smooth = p->smooth_forward && p->spiking;
    q.detach = p->detach_reset, q.plif = p->kind == SOMA_NEURON_PLIF;
    return q;
}

static inline float reset_of(soma_reset reset, float h, float s, float theta, float vr) {
    return reset == SOMA_RESET_HARD ? h * (1.0f - s) + vr * s : reset == SOMA_RESET_SOFT ? h - theta * s : h;
}

/* ---- forward ---------------------------------------------------------------------------- */

static inline void fwd_body(float *restrict out, float *restrict mem, const float *restrict cur,
                            float *restrict u, int64_t R, dyn q, soma_reset reset, bool spiking) {
    for (int64_t i = 0; i < R; i++) {
        float h = q.a * u[i] + q.c * cur[i] + q.d;
        mem[i] = h;
        if (!spiking) { /* readout: output the membrane, never reset */
            out[i] = h;
            u[i] = h;
        } else {
            float s = h >= q.theta ? 1.0f : 0.0f;
            out[i] = s;
            u[i] = reset_of(reset, h, s, q.theta, q.vr);
        }
    }
}

static void fwd_smooth(float *out, float *mem, const float *cur, float *u, int64_t R, dyn q) {
    for (int64_t i = 0; i < R; i++) {
        float h = q.a * u[i] + q.c * cur[i] + q.d;
        float s = soma_surrogate_primitive(q.sk, q.slope, h - q.theta);
        mem[i] = h, out[i] = s;
        u[i] = reset_of(q.reset, h, s, q.theta, q.vr);
    }
}

SOMA_HOT static void fwd_step(float *out, float *mem, const float *cur, float *u, int64_t R, dyn q) {
    if (!q.spiking) fwd_body(out, mem, cur, u, R, q, SOMA_RESET_NONE, false);
    else if (q.smooth) fwd_smooth(out, mem, cur, u, R, q);
    else if (q.reset == SOMA_RESET_HARD) fwd_body(out, mem, cur, u, R, q, SOMA_RESET_HARD, true);
    else if (q.reset == SOMA_RESET_SOFT) fwd_body(out, mem, cur, u, R, q, SOMA_RESET_SOFT, true);
    else fwd_body(out, mem, cur, u, R, q, SOMA_RESET_NONE, true);
}

void soma_neuron_step_forward(float *out_t, float *mem_t, const float *cur_t, float *u, int64_t R,
                              const soma_neuron_params *p, float k_plif) {
    fwd_step(out_t, mem_t, cur_t, u, R, dyn_of(p, k_plif));
}

void soma_neuron_forward(float *out, float *mem, const float *cur, float *u, int T, int64_t R,
                         const soma_neuron_params *p, float k_plif) {
    dyn q = dyn_of(p, k_plif);
    for (int64_t i = 0; i < R; i++) u[i] = 0.0f;
    for (int t = 0; t < T; t++) {
        int64_t o = (int64_t)t * R;
        fwd_step(out + o, mem + o, cur + o, u, R, q);
    }
}

/* ---- backward --------------------------------------------------------------------------- */

/* ∂L/∂h_t = δ_t·σ′ + ε_t·∂u/∂h + [attached] ε_t·∂u/∂s·σ′;  ε_{t−1} = a·∂L/∂h_t;  ∂L/∂i_t = c·∂L/∂h_t.
 * PLIF also needs ∂L/∂k = Σ ∂L/∂h_t·(h_t − u_{t−1})/k, with u_{t−1} recomputed from the stored
 * h_{t−1}, s_{t−1}; that sum is done in a separate loop so this one stays branch-free. */
static inline void bwd_body(float *restrict dcur, const float *restrict dout, const float *restrict mem,
                            const float *restrict out, float *restrict eps, int64_t R, dyn q,
                            soma_reset reset, soma_surrogate sk, bool spiking, bool detach) {
    for (int64_t i = 0; i < R; i++) {
        float h = mem[i], dh;
        if (!spiking) {
            dh = dout[i] + eps[i];
        } else {
            float s = out[i];
            float sg = surrogate_grad_inline(sk, q.slope, h - q.theta);
            float du_dh = reset == SOMA_RESET_HARD ? 1.0f - s : 1.0f;
            float du_ds = reset == SOMA_RESET_HARD ? q.vr - h : reset == SOMA_RESET_SOFT ? -q.theta : 0.0f;
            dh = dout[i] * sg + eps[i] * du_dh;
            if (!detach) dh += eps[i] * du_ds * sg;
        }
        /* dcur temporarily holds ∂L/∂h (needed by the PLIF sum); scaled by c below. */
        dcur[i] = dh;
        eps[i] = q.a * dh;
    }
}

SOMA_HOT static double bwd_step(float *dcur, const float *dout, const float *mem, const float *out,
                       const float *mem_prev, const float *out_prev, float *eps, int64_t R, dyn q) {
#define BW(RS, SK, SP, DT) bwd_body(dcur, dout, mem, out, eps, R, q, RS, SK, SP, DT)
    if (!q.spiking) BW(SOMA_RESET_NONE, q.sk, false, true);
    else if (q.reset == SOMA_RESET_HARD && q.sk == SOMA_SURROGATE_SIGMOID && !q.detach) BW(SOMA_RESET_HARD, SOMA_SURROGATE_SIGMOID, true, false);
    else if (q.reset == SOMA_RESET_HARD && q.sk == SOMA_SURROGATE_ATAN && !q.detach) BW(SOMA_RESET_HARD, SOMA_SURROGATE_ATAN, true, false);
    else if (q.reset == SOMA_RESET_HARD && q.sk == SOMA_SURROGATE_SIGMOID) BW(SOMA_RESET_HARD, SOMA_SURROGATE_SIGMOID, true, true);
    else if (q.reset == SOMA_RESET_HARD && q.sk == SOMA_SURROGATE_ATAN) BW(SOMA_RESET_HARD, SOMA_SURROGATE_ATAN, true, true);
    else if (q.reset == SOMA_RESET_SOFT && q.sk == SOMA_SURROGATE_SIGMOID) BW(SOMA_RESET_SOFT, SOMA_SURROGATE_SIGMOID, true, q.detach);
    else BW(q.reset, q.sk, true, q.detach);
#undef BW
    double dk = 0.0;
    if (q.plif) {
        for (int64_t i = 0; i < R; i++) {
            float up = mem_prev ? reset_of(q.reset, mem_prev[i], out_prev[i], q.theta, q.vr) : 0.0f;
            dk += (double)dcur[i] * (double)(mem[i] - up);
        }
        dk /= q.k;
    }
    for (int64_t i = 0; i < R; i++) dcur[i] *= q.c;
    return dk;
}

double soma_neuron_step_backward(float *dcur_t, const float *dout_t, const float *mem_t,
                                 const float *out_t, const float *mem_prev, const float *out_prev,
                                 float *eps, int64_t R, const soma_neuron_params *p, float k_plif) {
    return bwd_step(dcur_t, dout_t, mem_t, out_t, mem_prev, out_prev, eps, R, dyn_of(p, k_plif));
}

double soma_neuron_backward(float *dcur, const float *dout, const float *mem, const float *out,
                            float *eps, int T, int64_t R, const soma_neuron_params *p,
                            float k_plif) {
    dyn q = dyn_of(p, k_plif);
    double dk = 0.0;
    for (int64_t i = 0; i < R; i++) eps[i] = 0.0f;
    for (int t = T - 1; t >= 0; t--) {
        int64_t o = (int64_t)t * R;
        dk += bwd_step(dcur + o, dout + o, mem + o, out + o, t ? mem + o - R : NULL,
                       t ? out + o - R : NULL, eps, R, q);
    }
    return dk;
}
