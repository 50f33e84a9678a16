/*
 * layer/recurrent.c — the recurrent spiking layer (RSNN):
 *
 *     i_t = A(x_t) + W_rec·s_{t−1} + b,   s_{−1} = 0
 *
 * A(x) is any integration mode over a dense synapse, computed for all T steps at once (event-
 * driven for binary input, as in the feed-forward layer); only the recurrent product has to
 * step through time. Its input s_{t−1} is this layer's own spikes, so it has an event path
 * too: each step gathers the W_rec rows of the neurons that fired (the dense synapse's
 * kernels, with W_rec as the weights), when few enough did. Backward runs BPTT step by step —
 * the current gradient at t flows into the spikes at t − 1 through W_recᵀ (dense: that
 * gradient is dense) — and then forms ∂W_rec = Σ_t s_{t−1}ᵀ·g_t in one pass: one GEMM, or one
 * row update per neuron and sample from the spike lists.
 */
#include "integrate/integrate.h"
#include "layer/dense_input.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct recurrent_layer {
    soma_layer base; /* must be first */
    soma_synop *op;  /* the input's synapse */
    soma_synop *rop; /* W_rec's: a dense synapse over the layer's own N spikes */
    soma_integrator it;
    soma_neuron_params np;
    int64_t o_rec, g_rec; /* W_rec (N, N) input-major: row j holds spike j's weights */
} recurrent_layer;

/* Tape: layer/dense_input.h's, with mem (rows·N). */
static soma_dense_tape tape_of(const recurrent_layer *s, float *tape, int64_t rows) {
    return soma_dense_tape_of(tape, rows, s->it.N, soma_integrator_tape_per_row(&s->it));
}

/* Scratch, in floats: four blocks of rows·N (forward: cur, u, gathered W_rec rows, the step's
 * spike lists; backward: g, ds, eps, the spike lists of s_0…s_{T−2}), their row offsets
 * (2·rows + 4), the integrator's scratch, then the two per-sample gradient masks
 * (mask + touched) of the input and of W_rec. */
typedef struct scratch_view {
    float *a, *b, *c;
    int32_t *ridx;
    int64_t *roff;
    float *isc;
    soma_spikes in_sx, rec_sx;
} scratch_view;

static scratch_view scratch_of(const recurrent_layer *s, const soma_lctx *c, const soma_dense_tape *tv, int64_t rows) {
    const int64_t N = s->it.N, M = s->base.in_dim;
    scratch_view v;
    v.a = c->scratch, v.b = v.a + rows * N, v.c = v.b + rows * N;
    v.ridx = (int32_t *)(v.c + rows * N);
    v.roff = (int64_t *)(v.c + 2 * rows * N);
    v.isc = v.c + 2 * rows * N + 2 * rows + 4;
    float *tail = c->scratch + ((rows * s->base.scratch_per_row + 5) & ~(int64_t)1); /* uint64-aligned */
    v.in_sx = (soma_spikes){.idx = tv->idx, .off = tv->off, .B = c->B, .mask = (uint64_t *)tail,
                            .touched = (int32_t *)(tail + 2 * M), .complement = c->train};
    if (c->sx_in) v.in_sx.idx = c->sx_in->idx, v.in_sx.off = c->sx_in->off, v.in_sx.fk = c->sx_in->fk,
                  v.in_sx.fm = c->sx_in->fm, v.in_sx.foff = c->sx_in->foff;
    tail += (3 * M + 9) & ~(int64_t)1;
    v.rec_sx = (soma_spikes){.idx = v.ridx, .off = v.roff, .B = c->B, .mask = (uint64_t *)tail,
                             .touched = (int32_t *)(tail + 2 * N)};
    return v;
}

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

static void rc_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, N = s->it.N, M = l->in_dim, BN = c->B * N;
    soma_dense_tape tv = tape_of(s, c->tape, rows);
    scratch_view sv = scratch_of(s, c, &tv, rows);
    const soma_spikes *psx = soma_dense_input_path(c, &tv, &sv.in_sx, x, rows, M, s->it.nblk * s->it.N);
    float *cur = sv.a, *u = sv.b, *gath = sv.c;
    const float *Wr = c->params + s->o_rec;
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_forward(&it, cur, tv.Y, x, psx, c->E, c->params, sv.isc, rows);
    memset(u, 0, (size_t)BN * sizeof *u);
    const bool events = l->spiking_out && c->sparse_max_density > 0;
    for (int t = 0; t < c->T; t++) {
        float *ct = cur + t * BN;
        const float *prev = y + (t - 1) * BN;
        if (t > 0) { /* cur_t += s_{t−1}·W_rec */
            int64_t n = events ? soma_spikes_build(sv.ridx, sv.roff, prev, c->B, N) : -1;
            if (events && (double)n <= c->sparse_max_density * (double)BN) {
                soma_spikes sx = sv.rec_sx;
                s->rop->ops->forward(s->rop, gath, NULL, &sx, Wr, N, 0, N, c->B);
                for (int64_t i = 0; i < BN; i++) ct[i] += gath[i];
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->B, (int)N, (int)N, 1.0f,
                            prev, (int)N, Wr, (int)N, 1.0f, ct, (int)N);
            }
        }
        soma_neuron_step_forward(y + t * BN, tv.mem + t * BN, ct, u, BN, &s->np, 0.0f);
    }
    if (c->spikes) *c->spikes += soma_spike_sum(y, rows * N, l->spiking_out);
}

static void rc_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const recurrent_layer *s = (const recurrent_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, N = s->it.N, BN = c->B * N;
    soma_dense_tape tv = tape_of(s, c->tape, rows);
    scratch_view sv = scratch_of(s, c, &tv, rows);
    if (*tv.flag != 0.0f) memset(sv.in_sx.mask, 0, (size_t)l->in_dim * sizeof *sv.in_sx.mask);
    float *g = sv.a, *ds = sv.b, *eps = sv.c;
    const float *Wr = c->params + s->o_rec;
    float *dWr = c->gws + s->g_rec;
    memcpy(ds, dy, (size_t)(rows * N) * sizeof *ds);
    memset(eps, 0, (size_t)BN * sizeof *eps);
    for (int t = c->T - 1; t >= 0; t--) {
        float *gt = g + t * BN;
        soma_neuron_step_backward(gt, ds + t * BN, tv.mem + t * BN, y + t * BN,
                                  t ? tv.mem + (t - 1) * BN : NULL, t ? y + (t - 1) * BN : NULL, eps,
                                  BN, &s->np, 0.0f);
        if (t > 0) /* ∂s_{t−1} += g_t·W_recᵀ */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)c->B, (int)N, (int)N, 1.0f,
                        gt, (int)N, Wr, (int)N, 1.0f, ds + (t - 1) * BN, (int)N);
    }
    /* ∂W_rec += Σ_{t≥1} s_{t−1}ᵀ·g_t: the spikes of steps 0…T−2 against the gradients of 1…T−1 */
    const int64_t r1 = rows - c->B;
    if (r1 > 0) {
        int64_t n = l->spiking_out && c->sparse_max_density > 0 && c->T - 1 <= 64
                        ? soma_spikes_build(sv.ridx, sv.roff, y, r1, N) : -1;
        if (n >= 0 && (double)n <= c->sparse_max_density * (double)(r1 * N)) {
            memset(sv.rec_sx.mask, 0, (size_t)N * sizeof *sv.rec_sx.mask);
            s->rop->ops->backward_weight(s->rop, dWr, g + BN, NULL, &sv.rec_sx, N, 0, N, r1);
        } else {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)N, (int)N, (int)r1, 1.0f, y, (int)N,
                        g + BN, (int)N, 1.0f, dWr, (int)N);
        }
    }
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_backward(&it, dx, c->gws, g, tv.Y, x, *tv.flag != 0.0f ? &sv.in_sx : NULL, c->E,
                             c->params, sv.isc, rows);
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
    if (s->rop) s->rop->ops->free(s->rop);
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
    s->rop = soma_dense_create(n);
    int rc = s->op && s->rop ? soma_integrator_init(&s->it, s->op, n, ip, err)
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
    l->tape_per_row = 2 + n + soma_integrator_tape_per_row(&s->it);
    l->tape_fixed = SOMA_DENSE_TAPE_HDR + 2;
    l->list_per_row = in_dim;
    l->takes_spikes = true;
    l->scratch_per_row = 4 * n + 2 + soma_integrator_scratch_per_row(&s->it, in_dim);
    /* the offsets' +1 and padding; input mask + touched (3·in_dim), W_rec's (3·n), padding */
    l->scratch_fixed = 8 + 3 * in_dim + 9 + 3 * n + 16;
    snprintf(l->desc, sizeof l->desc, "recurrent %lld->%lld %s %s", (long long)in_dim, (long long)n,
             soma_integrate_mode_name(ip->mode), soma_neuron_kind_name(np->kind));
    *out = l;
    return SOMA_OK;
}
