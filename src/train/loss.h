/* train/loss.h — readout losses on the output layer's T steps (see soma/net.h). */
#ifndef SOMA_LOSS_H
#define SOMA_LOSS_H

#include "soma/net.h"

/* out (T, B, C): output spikes or membrane. Writes logits (B, C) (the readout, scaled for
 * CE), dout (T, B, C) = ∂(Σ_b loss_b · grad_scale)/∂out (dout may be NULL), and counts
 * correct predictions. y may be NULL (no loss: returns 0). Returns Σ_b loss_b.
 * tiebreak (B, C) may be NULL: the output neurons' mean membrane potential, which decides between
 * classes with equal spike counts (the returned logits include it, the loss does not). */
double soma_loss_eval(soma_loss kind, float scale, float *logits, float *dout, int64_t *correct,
                      const float *out, const int32_t *y, int T, int64_t B, int64_t C,
                      float grad_scale, const float *tiebreak);

#endif
