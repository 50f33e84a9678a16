/*
 * soma/neuron.h — spiking neuron dynamics: charge, fire, reset, and the surrogate gradient.
 *
 * The dynamics are separate from how input current is integrated (soma/layer.h): a neuron
 * sees a current i_t per step and nothing else. Every charge form is written as
 *
 *     h_t = a·u_{t−1} + c·i_t + d          (pre-reset membrane; u_0 = 0)
 *
 *   LIF (decay form)  a = α,        c = 1,    d = 0          u_t = α·u_{t−1} + i_t
 *   LIF (τ form)      a = 1 − 1/τ,  c = 1/τ,  d = V_r/τ      H_t = V + (X − (V − V_r))/τ
 *   IF                a = 1,        c = 1,    d = 0
 *   PLIF              a = 1 − k,    c = k,    d = k·V_r      k = 1/τ = σ(w), w learnable
 *
 * Fire: s_t = Θ(h_t − θ) with Θ(0) = 1. Reset: hard u = h(1 − s) + V_r·s, soft u = h − θ·s,
 * none u = h. A non-spiking neuron (readout) outputs h_t and never resets.
 *
 * Backward (NEURONS.md §1): with δ_t = ∂L/∂s_t, ε_t = ∂L/∂u_t, σ′ the surrogate at h_t − θ,
 *     ∂L/∂h_t = δ_t·σ′ + ε_t·∂u/∂h + [reset attached] ε_t·∂u/∂s·σ′,
 *     ε_{t−1} = a·∂L/∂h_t,   ∂L/∂i_t = c·∂L/∂h_t.
 */
#ifndef SOMA_NEURON_H
#define SOMA_NEURON_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum soma_neuron_kind {
    SOMA_NEURON_LIF = 0, /* decay form */
    SOMA_NEURON_LIF_TAU, /* τ form */
    SOMA_NEURON_IF,
    SOMA_NEURON_PLIF,    /* τ form with learnable τ */
    SOMA_NEURON_KIND_COUNT
} soma_neuron_kind;

typedef enum soma_reset {
    SOMA_RESET_HARD = 0,
    SOMA_RESET_SOFT,
    SOMA_RESET_NONE,
    SOMA_RESET_COUNT
} soma_reset;

typedef enum soma_surrogate {
    SOMA_SURROGATE_SIGMOID = 0, /* α·σ(αx)(1 − σ(αx)),      default α = 4 */
    SOMA_SURROGATE_ATAN,        /* (α/2)/(1 + (παx/2)²),     default α = 2 */
    SOMA_SURROGATE_FAST_SIGMOID,/* 1/(k|x| + 1)²,            default k = 25 */
    SOMA_SURROGATE_TRIANGLE,    /* max(0, γ − |x|)/γ²,       default γ = 1 */
    SOMA_SURROGATE_RECT,        /* 1/a for |x| < a/2,        default a = 1 */
    SOMA_SURROGATE_EXP,         /* (β/2)·exp(−β|x|),         default β = 1 */
    SOMA_SURROGATE_COUNT
} soma_surrogate;

typedef struct soma_neuron_params {
    soma_neuron_kind kind;
    float alpha;          /* decay factor of the LIF decay form */
    float tau;            /* τ of the τ form; initial τ of PLIF (> 1) */
    float theta;          /* threshold */
    float v_reset;        /* hard-reset potential */
    soma_reset reset;
    bool detach_reset;    /* drop the reset's path from the gradient */
    soma_surrogate surrogate;
    float slope;          /* the surrogate's α / k / γ / a / β; <= 0 means its default */
    bool spiking;         /* false: a readout that outputs its membrane h_t */
    bool smooth_forward;  /* test-only: fire with the surrogate's primitive instead of Θ */
} soma_neuron_params;

/* LIF decay form, α = 0.5, θ = 1, hard reset to 0 (attached), sigmoid surrogate α = 4. */
soma_neuron_params soma_neuron_default_params(void);

/* Names for parsing and printing: "lif", "lif-tau", "if", "plif"; "hard", "soft", "none";
 * "sigmoid", "atan", "fast-sigmoid", "triangle", "rect", "exp". Parsers return -1 if unknown. */
const char *soma_neuron_kind_name(soma_neuron_kind k);
const char *soma_reset_name(soma_reset r);
const char *soma_surrogate_name(soma_surrogate s);
int soma_neuron_kind_parse(const char *s);
int soma_reset_parse(const char *s);
int soma_surrogate_parse(const char *s);
/* The default slope of a surrogate (4, 2, 25, 1, 1, 1). */
float soma_surrogate_default_slope(soma_surrogate s);

/* σ′(x) and its primitive S(x) (S′ = σ′, S(0) = ½; S rises from 0 to 1 except fast-sigmoid's,
 * ½ + x/(1 + k|x|), which stays within ½ ± 1/k). */
float soma_surrogate_grad(soma_surrogate s, float slope, float x);
float soma_surrogate_primitive(soma_surrogate s, float slope, float x);

/* Coefficients (a, c, d) of the charge equation above. k_plif = σ(w) is used for PLIF. */
void soma_neuron_coeffs(const soma_neuron_params *p, float k_plif, float *a, float *c, float *d);

/* Fused forward over T steps for R independent neurons (R = B·N, rows of one time step).
 *   out  (T, R)  spikes s_t (spiking) or membrane h_t (readout)
 *   mem  (T, R)  pre-reset membrane h_t, kept for backward (may alias nothing else)
 *   cur  (T, R)  input current i_t
 *   u    (R)     scratch: the membrane state carried across steps
 * k_plif is σ(w) for PLIF and ignored otherwise. */
void soma_neuron_forward(float *out, float *mem, const float *cur, float *u, int T, int64_t R,
                         const soma_neuron_params *p, float k_plif);

/* Fused BPTT over T steps.
 *   dcur (T, R)  OUT: ∂L/∂i_t (overwritten)
 *   dout (T, R)  ∂L/∂out_t
 *   mem, out     as written by forward
 *   eps  (R)     scratch
 * Returns ∂L/∂k for PLIF (the caller multiplies by σ′(w) = k(1 − k)), 0 otherwise. */
double soma_neuron_backward(float *dcur, const float *dout, const float *mem, const float *out,
                            float *eps, int T, int64_t R, const soma_neuron_params *p,
                            float k_plif);

/* One step of the same dynamics, for layers whose current at t depends on the output at t − 1
 * (the recurrent layer). u (R) carries the state: zero it before t = 0. */
void soma_neuron_step_forward(float *out_t, float *mem_t, const float *cur_t, float *u, int64_t R,
                              const soma_neuron_params *p, float k_plif);
/* One step of BPTT, from t = T − 1 down to 0. eps (R) holds ε_t on entry (zero it before the
 * first call) and ε_{t−1} on return. mem_prev/out_prev are step t − 1's (NULL at t = 0).
 * Returns this step's ∂L/∂k for PLIF. */
double soma_neuron_step_backward(float *dcur_t, const float *dout_t, const float *mem_t,
                                 const float *out_t, const float *mem_prev, const float *out_prev,
                                 float *eps, int64_t R, const soma_neuron_params *p, float k_plif);

#ifdef __cplusplus
}
#endif
#endif
