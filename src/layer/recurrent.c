/*
 * layer/recurrent.c — the recurrent spiking layer (RSNN):
 *
 *     i_t = A(x_t) + W_rec·s_{t−1} + b,   s_{−1} = 0
 *
 * A(x) is any integration mode over a dense synapse, computed for all T steps at once; only
 * the recurrent product has to step through time. Backward runs BPTT step by step: the
 * current gradient at t flows into the spikes at t − 1 through W_recᵀ before that step's
 * neuron backward runs.
 */
#include "integrate/integrate.h"
#include "layer/layer.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct recurrent_layer {
    soma_layer base; /* must be first */
    soma_synop *op;
    soma_integrator it;
    soma_neuron_params np;
    int64_t o_rec, g_rec; /* W_rec (N, N) input-major: row j holds spike j's weights */
} recurrent_layer;

static void rc_init_params(const soma_layer *l, float *params, soma_rng *rng) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    soma_integrator_init_params(&s->it, params, rng);
    const int64_t N = s->it.N;
    const float bound = 1.0f / sqrtf((float)N);
    for (int64_t i = 0; i < N * N; i++) params[s->o_rec + i] = bound * (2.0f * soma_rng_uniform(rng) - 1.0f);
}

static void rc_prepare(const soma_layer *l, float *E, const float *params) {
    soma_integrator_prepare(&((const recurrent_layer *)l)->it, E, params);
}

/* Tape: [mem (rows·N) | Y (rows·nblk·N)] */
static void rc_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, N = s->it.N, BN = c->B * N;
    float *mem = c->tape, *Y = mem + rows * N;
    float *cur = c->scratch, *u = cur + rows * N, *isc = u + BN;
    const float *Wr = c->params + s->o_rec;
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_forward(&it, cur, Y, x, NULL, c->E, c->params, isc, rows);
    memset(u, 0, (size_t)BN * sizeof *u);
    for (int t = 0; t < c->T; t++) {
        float *ct = cur + t * BN;
        if (t > 0) /* cur_t += s_{t−1}·W_rec */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->B, (int)N, (int)N, 1.0f,
                        y + (t - 1) * BN, (int)N, Wr, (int)N, 1.0f, ct, (int)N);
        soma_neuron_step_forward(y + t * BN, mem + t * BN, ct, u, BN, &s->np, 0.0f);
    }
    if (c->spikes) {
        double n = 0;
        for (int64_t i = 0; i < rows * N; i++) n += y[i];
        *c->spikes += n;
    }
}

static void rc_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, N = s->it.N, BN = c->B * N;
    float *mem = c->tape, *Y = mem + rows * N;
    float *g = c->scratch, *ds = g + rows * N, *eps = ds + rows * N, *isc = eps + BN;
    const float *Wr = c->params + s->o_rec;
    float *dWr = c->gws + s->g_rec;
    memcpy(ds, dy, (size_t)(rows * N) * sizeof *ds);
    memset(eps, 0, (size_t)BN * sizeof *eps);
    for (int t = c->T - 1; t >= 0; t--) {
        float *gt = g + t * BN;
        soma_neuron_step_backward(gt, ds + t * BN, mem + t * BN, y + t * BN,
                                  t ? mem + (t - 1) * BN : NULL, t ? y + (t - 1) * BN : NULL, eps,
                                  BN, &s->np, 0.0f);
        if (t > 0) {
            /* ∂s_{t−1} += g_t·W_recᵀ;  ∂W_rec += s_{t−1}ᵀ·g_t */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c->B, (int)N, (int)N, 1.0f,
                        gt, (int)N, Wr, (int)N, 1.0f, ds + (t - 1) * BN, (int)N);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)N, (int)c->B, 1.0f,
                        y + (t - 1) * BN, (int)N, gt, (int)N, 1.0f, dWr, (int)N);
        }
    }
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_backward(&it, dx, c->gws, g, Y, x, NULL, c->E, c->params, isc, rows);
}

static void rc_finish(const soma_layer *l, float *dparams, const float *gws, const float *params) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    soma_integrator_finish(&s->it, dparams, gws, params);
    memcpy(dparams + s->o_rec, gws + s->g_rec, (size_t)(s->it.N * s->it.N) * sizeof *dparams);
}

static int rc_tensors(const soma_layer *l, const char **names, int64_t *offs, int64_t *numels) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    int n = soma_integrator_tensors(&s->it, names, offs, numels);
    names[n] = "W_rec", offs[n] = s->o_rec, numels[n] = s->it.N * s->it.N;
    return n + 1;
}

static void rc_free(soma_layer *l) {
    recurrent_layer *s = (recurrent_layer *)l;
    if (!s) return;
    if (s->op) s->op->ops->free(s->op);
    soma_free(s);
}

static const soma_layer_ops recurrent_ops = {
    .name = "recurrent",
    .init_params = rc_init_params,
    .prepare = rc_prepare,
    .forward = rc_forward,
    .backward = rc_backward,
    .finish = rc_finish,
    .tensors = rc_tensors,
    .free = rc_free,
};

int soma_recurrent_create(soma_layer **out, int64_t in_dim, int64_t n,
                          const soma_integrate_params *ip, const soma_neuron_params *np,
                          soma_error *err) {
    *out = NULL;
    if (in_dim <= 0 || n <= 0 || in_dim > INT32_MAX || n > 65536)
        return soma_fail(err, SOMA_E_ARG, "recurrent layer %lld->%lld: sizes out of range",
                         (long long)in_dim, (long long)n);
    if (np->kind == SOMA_NEURON_PLIF)
        return soma_fail(err, SOMA_E_ARG, "the recurrent layer does not support PLIF neurons");
    if (!np->spiking)
        return soma_fail(err, SOMA_E_ARG, "a recurrent layer cannot be the membrane readout");
    recurrent_layer *s = soma_calloc(1, sizeof *s);
    if (!s) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a recurrent layer");
    s->op = soma_dense_create(in_dim);
    int rc = s->op ? soma_integrator_init(&s->it, s->op, n, ip, err)
                   : soma_fail(err, SOMA_E_NOMEM, "out of memory creating a dense synapse");
    if (rc != SOMA_OK) {
        rc_free(&s->base);
        return rc;
    }
    s->np = *np;
    soma_layer *l = &s->base;
    l->ops = &recurrent_ops;
    l->in_dim = in_dim, l->out_dim = n;
    l->spiking_out = !np->smooth_forward;
    s->o_rec = s->it.n_params;
    l->n_params = s->it.n_params + n * n;
    s->g_rec = s->it.n_gws;
    l->gws_size = s->it.n_gws + n * n;
    l->E_size = soma_integrator_E_size(&s->it);
    l->tape_per_row = n + soma_integrator_tape_per_row(&s->it);
    l->scratch_per_row = 3 * n + soma_integrator_scratch_per_row(&s->it, in_dim);
    snprintf(l->desc, sizeof l->desc, "recurrent %lld->%lld %s %s", (long long)in_dim, (long long)n,
             soma_integrate_mode_name(ip->mode), soma_neuron_kind_name(np->kind));
    *out = l;
    return SOMA_OK;
}
