/*
 * layer/conv.h — convolutional spiking layers and their parts: pooling and batch-norm
 * kernels, the membrane-potential BN neuron (MPBN), the "conv unit" that turns an input image
 * into an input current (conv + integration mode + fused stages), and the layers built from
 * them (conv spiking layer, standalone pooling, voting, residual block).
 *
 * Shapes: an image row is (C, H, W) channel-major; buffers are time-major rows (T, B, C·H·W),
 * a row being one (t, b) sample-step, as everywhere in Soma.
 *
 * Batch statistics (BN, tdBN, MPBN) are taken over the chunk a layer sees (cfg.chunk
 * samples: "ghost batch norm"), so chunks stay independent and results stay identical for
 * any thread count; set --chunk to the batch size for whole-batch statistics. Running
 * statistics for inference live in the net's state block (layer.h) and are updated once per
 * training batch from the chunks' statistics, summed in chunk order.
 */
#ifndef SOMA_LAYER_CONV_H
#define SOMA_LAYER_CONV_H

#include "integrate/integrate.h"
#include "layer/layer.h"
#include "synapse/conv2d.h"

/* ---- pooling kernels (pool.c) ------------------------------------------------------------ */

typedef enum { SOMA_POOL_MAX = 0, SOMA_POOL_AVG } soma_pool_kind;

typedef struct soma_pool_geom {
    soma_pool_kind kind;
    int64_t c, h, w;   /* input image */
    int64_t kh, kw;    /* window */
    int64_t sh, sw;    /* stride */
    int64_t ho, wo;    /* output image: (h − kh) / sh + 1 (floor, no padding, as PyTorch) */
} soma_pool_geom;

/* Fills g; SOMA_E_ARG if the window does not fit or (max) holds more than 256 pixels. */
int soma_pool_geom_init(soma_pool_geom *g, soma_pool_kind kind, int64_t c, int64_t h, int64_t w,
                        int64_t kh, int64_t kw, int64_t sh, int64_t sw, soma_error *err);
/* y (rows, C·Ho·Wo) from x (rows, C·H·W). arg (rows, C·Ho·Wo): the window index of each
 * maximum (first one on ties, as PyTorch); unused (may be NULL) for average pooling. */
void soma_pool_forward(const soma_pool_geom *g, float *y, uint8_t *arg, const float *x,
                       int64_t rows);
/* dx (rows, C·H·W) = ∂L/∂x, overwritten. */
void soma_pool_backward(const soma_pool_geom *g, float *dx, const uint8_t *arg, const float *dy,
                        int64_t rows);

/* Max pooling's backward for one row as position-major lists: input pixel q receives, for each
 * channel c whose window maximum it is, (c, dy) at ch[q·S + j], v[q·S + j], j < n[q], channels
 * ascending (the layout soma_conv2d_backward_input_sparse reads). n (H·W) is overwritten. */
void soma_pool_backward_lists(const soma_pool_geom *g, int32_t *n, int32_t *ch, float *v, int64_t S,
                              const uint8_t *arg, const float *dy);

/* ---- batch normalisation kernels (batchnorm.c) ------------------------------------------ */

#define SOMA_BN_EPS 1e-5f
#define SOMA_BN_MOMENTUM 0.1f /* running = (1 − m)·running + m·batch, as PyTorch */

/* Per-channel statistics of x (rows, C, HW) over rows·HW: mean (C), biased var (C). */
void soma_bn_stats(float *mean, float *var, const float *x, int64_t rows, int64_t C, int64_t HW);
/* y = γ·s·x̂ + β, x̂ = (x − mean)·invstd, invstd = 1/√(var + ε) (C, written).
 * xhat (rows, C·HW) may be NULL (inference). y may alias x. */
void soma_bn_apply(float *y, float *xhat, float *invstd, const float *x, const float *mean,
                   const float *var, const float *gamma, const float *beta, float s,
                   int64_t rows, int64_t C, int64_t HW);
/* Backward of the training-mode transform (statistics of this batch):
 *   dx = invstd·(d − mean(d) − x̂·mean(d·x̂)),  d = γ·s·dy;   dγ += s·Σ dy·x̂,  dβ += Σ dy.
 * dx may alias dy. */
void soma_bn_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *xhat,
                      const float *invstd, const float *gamma, float s, int64_t rows, int64_t C,
                      int64_t HW);

/* ---- the conv unit: x → current (conv_unit.c) ------------------------------------------- */

typedef enum {
    SOMA_STAGE_MAXPOOL = 0, /* pool the current (before the neuron) */
    SOMA_STAGE_AVGPOOL,
    SOMA_STAGE_BN,          /* batch norm of the current over (T·B, H, W) per channel */
    SOMA_STAGE_TDBN,        /* threshold-dependent BN: x̂ scaled by α·θ (Zheng et al. 2021) */
} soma_stage_kind;

#define SOMA_MAX_STAGES 4

typedef struct soma_stage_desc {
    soma_stage_kind kind;
    int k;       /* pooling window (= stride) */
    float alpha; /* tdBN α (1, or 1/√2 inside residual blocks) */
} soma_stage_desc;

/* What a conv token (and the stage tokens fused into it) describes. */
typedef struct soma_conv_desc {
    int64_t cout;
    int k, stride, pad;
    int nstage;
    soma_stage_desc stage[SOMA_MAX_STAGES];
    bool mpbn;   /* membrane-potential BN in the neuron (Guo et al. 2023) */
} soma_conv_desc;

/* One fused stage with its shapes and its slices of the layer's blocks. */
typedef struct soma_cstage {
    soma_stage_desc d;
    int64_t c, h, w, ho, wo;  /* input / output image */
    int64_t pin, pout;        /* floats per row in / out */
    soma_pool_geom pool;
    float scale;              /* BN: s in y = γ·s·x̂ + β (1 for BN, α·θ for tdBN) */
    int64_t o_par, g_par, o_state, g_stat; /* γ, β (C each) in params / gws; running mean,
                                              var in state; Σmean, Σvar, count in gws */
    int64_t t_row, t_fix;     /* tape: per-row floats offset (x̂ or argmax), fixed offset */
} soma_cstage;

typedef struct soma_cunit {
    soma_conv2d *op;
    soma_integrator it;
    int nstage;
    soma_cstage st[SOMA_MAX_STAGES];
    int64_t in_dim, P0, Q;    /* input floats, conv output floats, final current floats per row */
    int64_t c, h, w;          /* final current image */
    int64_t n_params, n_gws, n_state;
    int64_t tape_per_row, tape_fixed;  /* integrator Y and the stages' tapes */
    int64_t scratch_per_row, scratch_fixed;
    int64_t maxp;             /* largest per-row buffer among conv output and stages */
    bool events;              /* the tape has room for the input's spike lists */
    int64_t shift, t_Y, t_flag; /* tape layout: row regions start after `shift` floats; Y's
                                   region; the event-path flag in the fixed part */
    bool sparse_dx;           /* the input gradient from the max pool's sparse gradient
                                 (soma_conv2d_backward_input_sparse); its workspace follows
                                 the conv's in the fixed scratch */
    bool pool_fused;          /* on the event path, conv + bias + the first stage's 2×2 max
                                 pooling in one kernel (soma_conv3_pool2_forward/_backward) */
    bool stack_fused;         /* on the event path under a stacked mode (bilinear, shunting),
                                 conv + integration + the first stage's 2×2 max pooling
                                 together (conv_stack.c); its workspace follows the conv's */
} soma_cunit;

/* Sets up a unit for images (cin, h, w). Parameters come first in the owner's slice
 * (offsets 0..n_params), then gws and state likewise from 0; the owner adds its base.
 * events: plan tape room for spike lists, so binary input can take the event-driven conv
 * (the tape must then start 8-byte aligned). */
int soma_cunit_init(soma_cunit *u, const soma_conv_desc *d, int64_t cin, int64_t h, int64_t w,
                    const soma_integrate_params *ip, float theta, bool events, soma_error *err);
void soma_cunit_free(soma_cunit *u);
void soma_cunit_init_params(const soma_cunit *u, float *params, soma_rng *rng);
void soma_cunit_init_state(const soma_cunit *u, float *state);
/* Appends the unit's tensor names ("W", "b", "bn0.gamma", ...; state ones flagged by a negative
 * offset −1 − off) with a prefix; returns the new count. */
int soma_cunit_tensors(const soma_cunit *u, const char *prefix, const char **names, int64_t *offs,
                       int64_t *numels, int n, char (*namebuf)[32]);

/* Buffers one unit call uses (all owned by the caller's blocks). */
typedef struct soma_cunit_io {
    const float *params, *E, *state; /* the unit's slices */
    float *gws;                      /* backward only */
    float *tape;                     /* tape_per_row·rows_alloc + tape_fixed */
    float *scratch;                  /* scratch_per_row·rows + scratch_fixed */
    int64_t rows_alloc;              /* rows the tape was planned for (T·B) */
    bool train;
    bool in_binary;                  /* x is 0/1: every integration block takes one GEMM */
    float sparse_max_density;        /* binary x at most this dense takes the event path */
    const soma_spikes *sx_in;        /* x as spike lists from the producer (the encoder): the
                                        event path without building lists; x may be NULL */
} soma_cunit_io;

/* cur (rows, Q) = stages(integrate(conv(x))). Returns the number of nonzero inputs when it
 * counted them (binary input on a unit with events), else −1; *events_used (may be NULL)
 * says whether the event-driven path ran. */
int64_t soma_cunit_forward(const soma_cunit *u, const soma_cunit_io *io, float *cur, const float *x,
                           int64_t rows, bool *events_used);
/* g (rows, Q) = ∂L/∂cur (clobbered). dx (rows, in_dim) overwritten, or NULL. */
void soma_cunit_backward(const soma_cunit *u, const soma_cunit_io *io, float *dx, float *g,
                         const float *x, int64_t rows);
/* Folds the chunk-summed batch statistics into the running ones (once per batch). */
void soma_cunit_update_state(const soma_cunit *u, float *state, const float *gws);
/* Maps the summed workspace onto the parameter gradients (overwrites them). */
void soma_cunit_finish(const soma_cunit *u, float *dparams, const float *gws, const float *params);

/* ---- stacked modes + 2×2 max pooling on the event path (conv_stack.c) -------------------- */

/* Whether op (3×3, stride 1, output at least 2×2) under it (a stacked mode) can take it. */
bool soma_cunit_stack_ok(const soma_conv2d *op, const soma_integrator *it);
/* Floats of the fixed workspace one call needs, and of the tape per row (Yq). */
int64_t soma_cunit_stack_floats(const soma_conv2d *op, const soma_integrator *it);
int64_t soma_cunit_stack_tape_floats(const soma_conv2d *op, const soma_integrator *it);
/* cur (rows, N·HWq) = maxpool2(integrate(conv(sx))) for spike input sx, HWq = (H_out/2)·(W_out/2);
 * arg (rows, N·HWq) the window indices (as soma_pool_forward); Yq (rows, HWq·S) tape: the
 * blocks' Y at each window's maximum, position-major. */
void soma_cunit_stack_forward(const soma_conv2d *op, const soma_integrator *it, float *ws, float *cur,
                              uint8_t *arg, float *Yq, const soma_spikes *sx, const float *E,
                              const float *params, int64_t rows);
/* Its backward from gp (rows, N·HWq) = ∂L/∂cur: accumulates ∂b, the scalar extras and ∂E into
 * gws (the integrator's layout); dx (rows, C_in·H·W) overwritten, or NULL. */
void soma_cunit_stack_backward(const soma_conv2d *op, const soma_integrator *it, float *ws, float *dx,
                               float *gws, const float *gp, const uint8_t *arg, const float *Yq,
                               const soma_spikes *sx, const float *E, const float *params, int64_t rows);

/* ---- the spiking neuron part, optionally with MPBN (mpbn.c) ------------------------------ */

typedef struct soma_sneuron {
    soma_neuron_params np;
    bool mpbn;
    int T;                  /* MPBN keeps per-step statistics: T is fixed at build time */
    int64_t c, hw;          /* neurons per row = c·hw; MPBN normalises per channel */
    int64_t o_plif, o_bn;   /* params: PLIF w, MPBN γ β (C each); −1 if absent */
    int64_t g_plif, g_bn, g_stat; /* gws: dk, dγ dβ, per-step Σmean Σvar (T·2C) + count */
    int64_t o_state;        /* running mean, var (C each) */
    int64_t n_params, n_gws, n_state;
    int64_t tape_fixed;     /* MPBN: per-step mean, invstd (T·2C) */
} soma_sneuron;

int soma_sneuron_init(soma_sneuron *n, const soma_neuron_params *np, bool mpbn, int T, int64_t c,
                      int64_t hw, soma_error *err);
void soma_sneuron_init_params(const soma_sneuron *n, float *params);
void soma_sneuron_init_state(const soma_sneuron *n, float *state);
/* Spikes out (T, B, c·hw) and pre-reset membrane mem (T, B, c·hw) from the current cur
 * (T, B, c·hw), or (B, c·hw) broadcast over T when cur_static. u (B·c·hw) scratch. tape:
 * tape_fixed floats. */
void soma_sneuron_forward(const soma_sneuron *n, float *out, float *mem, const float *cur,
                          bool cur_static, float *u, float *tape, const float *params,
                          const float *state, bool train, int T, int64_t B);
/* dcur (T, B, c·hw) = ∂L/∂cur, or (B, c·hw) summed over T when cur_static (then tmp, B·c·hw,
 * is scratch). eps (B·c·hw) scratch. Accumulates dk, dγ, dβ and the statistics into gws. */
void soma_sneuron_backward(const soma_sneuron *n, float *dcur, const float *dout, const float *mem,
                           const float *out, bool cur_static, float *eps, float *tmp,
                           const float *tape, const float *params, float *gws, int T, int64_t B);
void soma_sneuron_finish(const soma_sneuron *n, float *dparams, const float *gws,
                         const float *params);
void soma_sneuron_update_state(const soma_sneuron *n, float *state, const float *gws);

/* ---- layers ------------------------------------------------------------------------------ */

/* Conv spiking layer: conv unit + neuron. static_in: the input is the same at every step
 * (direct encoding into the first layer): the current is computed once per sample. */
int soma_conv_layer_create(soma_layer **out, const soma_conv_desc *d, int64_t cin, int64_t h,
                           int64_t w, const soma_integrate_params *ip,
                           const soma_neuron_params *np, int T, soma_error *err);
/* Marks a conv layer as fed the same input at every step (the first layer under direct
 * encoding, lctx.in_static) and shrinks its unit's buffers to B rows: the unit then runs
 * once per sample. A no-op for other layers. Call before the net plans its buffers. */
void soma_conv_layer_set_static(soma_layer *l, int T);
/* Standalone pooling of a layer's output (e.g. max pooling spikes). in_binary: max pooling
 * of spikes gives spikes. */
int soma_pool_layer_create(soma_layer **out, soma_pool_kind kind, int64_t c, int64_t h, int64_t w,
                           int64_t kh, int64_t kw, bool in_binary, soma_error *err);
/* Voting: the mean of each group of g consecutive inputs (PLIF-Net's AvgPool1d(10, 10)). */
int soma_vote_layer_create(soma_layer **out, int64_t in_dim, int64_t g, soma_error *err);

/* Residual basic block (ResNet): s1 = N(BN(conv3×3(x, stride))), out = N(BN(conv3×3(s1)) +
 * shortcut(x)); shortcut = x, or BN(conv1×1(x, stride)) when the shape changes. */
typedef struct soma_res_desc {
    int64_t cout;
    int stride;
    soma_stage_kind bn;  /* SOMA_STAGE_BN or SOMA_STAGE_TDBN (α = 1/√2 on both branches) */
    bool mpbn;           /* MPBN in both neurons */
} soma_res_desc;
int soma_residual_layer_create(soma_layer **out, const soma_res_desc *d, int64_t cin, int64_t h,
                               int64_t w, const soma_integrate_params *ip,
                               const soma_neuron_params *np, int T, soma_error *err);

#endif
