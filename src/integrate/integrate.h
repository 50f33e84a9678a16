/*
 * integrate/integrate.h — integration modes as combinators over any synaptic operator.
 *
 * An integrator owns no buffers. Per batch, prepare() stacks the mode's weight sets into one
 * tensor E of S = nblk·N channels (e.g. bilinear [W | V_1..V_R | V_1²..V_R²]) so that one
 * operator call computes every product. forward() runs the operator and combines the blocks
 * Y into the current; backward() forms the blocks' output gradients G, runs the operator's
 * two backward products, and accumulates ∂L/∂E plus the scalar extras (λ, a, bias) into a
 * gradient workspace. finish() maps the summed workspace onto the parameter gradients
 * (e.g. ∂V = ∂E_V + 2V ⊙ ∂E_{V²}); it runs once per batch, after the chunks are summed.
 *
 * Blocks [0, nblk_x) see the input x; blocks [nblk_x, nblk) see x ⊙ x (bilinear's (V²)·x²).
 * For binary x, x ⊙ x = x and all blocks take one operator call.
 */
#ifndef SOMA_INTEGRATE_H
#define SOMA_INTEGRATE_H

#include "soma/net.h"
#include "synapse/synop.h"

typedef struct soma_integrator {
    soma_integrate_params p;
    const soma_synop *op;
    int64_t N, K, inner, P; /* channels, fan-in, positions per channel, P = N·inner */
    int nblk, nblk_x;       /* blocks stacked in E; blocks that take x (the rest take x²) */
    int R;                  /* bilinear rank (1 otherwise) */
    /* parameter offsets inside the layer's slice; -1 when absent */
    int64_t oW, oW2, oV, oV2, ob, olam, oa, n_params;
    int64_t nlam;
    /* gradient workspace: dE (K·S) then dλ (nlam), da (1), db (N) */
    int64_t gE, glam, ga, gb, n_gws;
    bool x_binary; /* the input is 0/1 (x² = x: one operator call), even on the dense path */
    int64_t ystride; /* floats from one row of Y (and of G) to the next: nblk·P, or more in a
                        position-major view over padded rows (soma_integrator_pointwise) */
} soma_integrator;

/* Sets the layout for an operator with N output channels. SOMA_E_ARG on a bad rank etc. */
int soma_integrator_init(soma_integrator *it, const soma_synop *op, int64_t N,
                         const soma_integrate_params *p, soma_error *err);
/* Names and sizes of the parameter tensors, for checkpoints and tests (up to 6). */
int soma_integrator_tensors(const soma_integrator *it, const char **names, int64_t *offs,
                            int64_t *numels);
void soma_integrator_init_params(const soma_integrator *it, float *params, soma_rng *rng);
int64_t soma_integrator_E_size(const soma_integrator *it);     /* floats of E */
int64_t soma_integrator_tape_per_row(const soma_integrator *it); /* floats of Y per row */
/* Scratch floats per row for forward/backward (x², G, dx parts); in_dim is the input row. */
int64_t soma_integrator_scratch_per_row(const soma_integrator *it, int64_t in_dim);

void soma_integrator_prepare(const soma_integrator *it, float *E, const float *params);

/* cur (rows, P); Y (rows, S·inner) tape (unused for linear; shunting keeps its gates σ(k·z)
 * there in place of z); scratch as sized above. */
void soma_integrator_forward(const soma_integrator *it, float *cur, float *Y, const float *x,
                             const soma_spikes *sx, const float *E, const float *params,
                             float *scratch, int64_t rows);
/* g (rows, P) = ∂L/∂cur. dx (rows, in_dim) may be NULL; otherwise it is overwritten. */
void soma_integrator_backward(const soma_integrator *it, float *dx, float *gws, const float *g,
                              const float *Y, const float *x, const soma_spikes *sx,
                              const float *E, const float *params, float *scratch,
                              int64_t rows);
/* The part of backward before the operator: ∂b, the scalar extras (λ, a) and, for the
 * nonlinear modes, the blocks' output gradients G (rows, S·inner) (linear: G untouched, the
 * blocks' gradient is g itself). */
void soma_integrator_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                          const float *Y, const float *params, int64_t rows);
/* The same integrator over position-major rows: one row per output position, inner = 1, so
 * that a row of Y holds the S = nblk·N stacked channels of one position (block b at b·N) and
 * a row of cur or g the N channels. Per-channel parameters (bias, per-neuron λ) still index
 * by channel; sums run in another order than over channel-major rows (float rounding). */
soma_integrator soma_integrator_pointwise(const soma_integrator *it, int64_t ystride);
/* cur (rows, P) from the operator's output Y: the mode's combine step (bilinear, shunting;
 * shunting overwrites Y's gate blocks with the gates, as forward does). Not for linear. */
void soma_integrator_combine(const soma_integrator *it, float *cur, float *Y, const float *params,
                             int64_t rows);
void soma_integrator_finish(const soma_integrator *it, float *dparams, const float *gws,
                            const float *params);

/* Mode-specific parts (bilinear.c, shunting.c). */
void soma_bilinear_combine(const soma_integrator *it, float *cur, const float *Y,
                           const float *params, int64_t rows);
void soma_bilinear_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                        const float *Y, const float *params, int64_t rows);
/* Shunting: combine leaves Y as it is; forward (the integrator's) overwrites Y's gate blocks
 * z with the gates σ(k·z), bit for bit the same current; grad reads those gates. */
void soma_shunting_combine(const soma_integrator *it, float *cur, const float *Y,
                           const float *params, int64_t rows);
void soma_shunting_forward(const soma_integrator *it, float *cur, float *Y,
                           const float *params, int64_t rows);
void soma_shunting_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                        const float *Y, const float *params, int64_t rows);

/* Block b of row r in a (rows, S·inner) buffer (rows ystride apart). */
static inline int64_t blk_off(const soma_integrator *it, int64_t r, int b) {
    return r * it->ystride + (int64_t)b * it->P;
}

#endif
