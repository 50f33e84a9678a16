/*
 * layer/vote.c — the voting layer: each output is the mean of a group of g consecutive
 * inputs (PLIF-Net reads its 100 output neurons as 10 groups of 10: AvgPool1d(10, 10)).
 * It has no parameters and does not spike; the rate readout then averages it over T.
 */
#include "layer/conv.h"

#include <stdio.h>

typedef struct vote_layer {
    soma_layer base; /* must be first */
    int64_t g;
} vote_layer;

static void vt_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const int64_t g = ((const vote_layer *)l)->g, n = (int64_t)c->T * c->B * l->out_dim;
    const float inv = 1.0f / (float)g;
    for (int64_t i = 0; i < n; i++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < g; j++) acc += x[i * g + j];
        y[i] = acc * inv;
    }
}

static void vt_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    if (!dx) return;
    const int64_t g = ((const vote_layer *)l)->g, n = (int64_t)c->T * c->B * l->out_dim;
    const float inv = 1.0f / (float)g;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < g; j++) dx[i * g + j] = dy[i] * inv;
}

static void vt_free(soma_layer *l) { soma_free(l); }

static const soma_layer_ops vote_ops = {
    .name = "vote",
    .forward = vt_forward,
    .backward = vt_backward,
    .free = vt_free,
};

int soma_vote_layer_create(soma_layer **out, int64_t in_dim, int64_t g, soma_error *err) {
    *out = NULL;
    if (g < 1 || in_dim % g)
        return soma_fail(err, SOMA_E_ARG, "voting groups of %lld do not divide the %lld inputs",
                         (long long)g, (long long)in_dim);
    vote_layer *v = soma_calloc(1, sizeof *v);
    if (!v) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a voting layer");
    v->g = g;
    v->base.ops = &vote_ops;
    v->base.in_dim = in_dim;
    v->base.out_dim = in_dim / g;
    snprintf(v->base.desc, sizeof v->base.desc, "vote %lld->%lld (mean of groups of %lld)",
             (long long)in_dim, (long long)(in_dim / g), (long long)g);
    *out = &v->base;
    return SOMA_OK;
}
