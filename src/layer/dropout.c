/*
 * layer/dropout.c — dropout with one mask per sample, shared by all T steps (a neuron that is
 * dropped stays dropped for the whole sequence, as in SNN recipes). The mask is a pure
 * function of (batch seed, sample id, feature), so it needs no storage and does not depend
 * on the thread count. Evaluation passes the input through.
 */
#include "layer/layer.h"

#include <stdio.h>
#include <string.h>

typedef struct dropout_layer {
    soma_layer base; /* must be first */
    float p;
} dropout_layer;

static inline float keep_scale(const dropout_layer *d, uint64_t seed, int64_t uid, int64_t j) {
    float u = soma_u01(soma_hash3(seed ^ 0xd40b011ULL, (uint64_t)uid, (uint64_t)j));
    return u < d->p ? 0.0f : 1.0f / (1.0f - d->p);
}

static void dr_apply(const soma_layer *l, const soma_lctx *c, float *out, const float *in) {
    const dropout_layer *d = (const dropout_layer *)l;
    const int64_t D = l->in_dim;
    if (!c->train || d->p <= 0.0f) {
        if (out != in) memcpy(out, in, (size_t)(c->T * c->B * D) * sizeof *out);
        return;
    }
    float *mask = c->scratch; /* (B, D) */
    for (int64_t b = 0; b < c->B; b++)
        for (int64_t j = 0; j < D; j++) mask[b * D + j] = keep_scale(d, c->seed, c->uid[b], j);
    for (int t = 0; t < c->T; t++)
        for (int64_t b = 0; b < c->B; b++) {
            const int64_t o = ((int64_t)t * c->B + b) * D;
            for (int64_t j = 0; j < D; j++) out[o + j] = in[o + j] * mask[b * D + j];
        }
}

static void dr_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    dr_apply(l, c, y, x);
}

static void dr_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    if (dx) dr_apply(l, c, dx, dy); /* the same mask scales the gradient */
}

static void dr_free(soma_layer *l) { soma_free(l); }

static const soma_layer_ops dropout_ops = {
    .name = "dropout",
    .forward = dr_forward,
    .backward = dr_backward,
    .free = dr_free,
};

int soma_dropout_create(soma_layer **out, int64_t dim, float p, soma_error *err) {
    *out = NULL;
    if (!(p >= 0.0f && p < 1.0f))
        return soma_fail(err, SOMA_E_ARG, "dropout probability %g must be in [0, 1)", (double)p);
    dropout_layer *d = soma_calloc(1, sizeof *d);
    if (!d) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating dropout");
    d->p = p;
    d->base.ops = &dropout_ops;
    d->base.in_dim = d->base.out_dim = dim;
    d->base.scratch_fixed = 0;
    d->base.scratch_per_row = dim; /* mask (B, D) fits in rows·D */
    snprintf(d->base.desc, sizeof d->base.desc, "dropout p=%g", (double)p);
    *out = &d->base;
    return SOMA_OK;
}
