/*
 * layer/spiking.c — the dense spiking layer: a dense synapse, an integration mode and the
 * neuron dynamics, in multi-step form.
 *
 * Forward for a chunk: the T·B input rows go through the synapse at once (one GEMM, or the
 * event-driven gather when the input is binary and sparse enough), the integration mode
 * combines the products into the current, and one fused pass runs the dynamics over T.
 * Backward mirrors it: fused BPTT gives ∂L/∂i for all steps, then one set of operator calls
 * gives ∂E and ∂x.
 */
#include "integrate/integrate.h"
#include "layer/dense_input.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct spiking_layer {
    soma_layer base; /* must be first */
    soma_synop *op;
    soma_integrator it;
    soma_neuron_params np;
    int64_t o_plif;  /* PLIF w inside the layer slice, -1 if not PLIF */
    int64_t g_plif;  /* its slot in the gradient workspace */
} spiking_layer;

static float plif_k(const spiking_layer *s, const float *params) {
    return s->o_plif >= 0 ? 1.0f / (1.0f + expf(-params[s->o_plif])) : 0.0f;
}

static soma_dense_tape tape_of(const spiking_layer *s, float *tape, int64_t rows) {
    return soma_dense_tape_of(tape, rows, s->it.P, soma_integrator_tape_per_row(&s->it));
}

static void sp_init_params(const soma_layer *l, float *params, soma_rng *rng) {
    const spiking_layer *s = (const spiking_layer *)l;
    soma_integrator_init_params(&s->it, params, rng);
    if (s->o_plif >= 0) params[s->o_plif] = -logf(s->np.tau - 1.0f); /* σ(w₀) = 1/τ₀ */
}

static void sp_prepare(const soma_layer *l, float *E, const float *params) {
    const spiking_layer *s = (const spiking_layer *)l;
    soma_integrator_prepare(&s->it, E, params);
}

/* The input's spike lists: the producer's (encoder) or the ones built in the tape. The
 * per-sample gradient scratch (mask, touched) sits at the end of the scratch block. */
static soma_spikes spikes_of(const spiking_layer *s, const soma_lctx *c, soma_dense_tape tv, int64_t rows) {
    soma_spikes sx = {.idx = tv.idx, .off = tv.off, .B = c->B, .complement = c->train};
    if (c->sx_in) sx.idx = c->sx_in->idx, sx.off = c->sx_in->off, sx.fk = c->sx_in->fk, sx.fm = c->sx_in->fm,
                  sx.foff = c->sx_in->foff;
    /* the uint64 masks need 8-byte alignment: an odd rows·scratch_per_row (e.g. a last chunk
     * of 3 samples into 3 outputs) rounds up into scratch_fixed's 16 spare floats */
    float *tail = c->scratch + ((rows * s->base.scratch_per_row + 1) & ~(int64_t)1);
    sx.mask = (uint64_t *)tail;
    sx.touched = (int32_t *)(tail + 2 * s->base.in_dim);
    return sx;
}

static void sp_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const spiking_layer *s = (const spiking_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, P = s->it.P, M = l->in_dim;
    soma_dense_tape tv = tape_of(s, c->tape, rows);
    soma_spikes sx = spikes_of(s, c, tv, rows);
    const soma_spikes *psx = soma_dense_input_path(c, &tv, &sx, x, rows, M, s->it.nblk * s->it.N);
    float *cur = c->scratch, *u = cur + rows * P, *isc = u + c->B * P;
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_forward(&it, cur, tv.Y, x, psx, c->E, c->params, isc, rows);
    soma_neuron_forward(y, tv.mem, cur, u, c->T, c->B * P, &s->np, plif_k(s, c->params));
    if (c->spikes && s->np.spiking) *c->spikes += soma_spike_sum(y, rows * P, l->spiking_out);
}

static void sp_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const spiking_layer *s = (const spiking_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, P = s->it.P;
    soma_dense_tape tv = tape_of(s, c->tape, rows);
    soma_spikes sx = spikes_of(s, c, tv, rows);
    if (*tv.flag != 0.0f) memset(sx.mask, 0, (size_t)l->in_dim * sizeof *sx.mask);
    float *g = c->scratch, *eps = g + rows * P, *isc = eps + c->B * P;
    float k = plif_k(s, c->params);
    double dk = soma_neuron_backward(g, dy, tv.mem, y, eps, c->T, c->B * P, &s->np, k);
    if (s->o_plif >= 0) c->gws[s->g_plif] += (float)dk;
    soma_integrator it = s->it;
    it.x_binary = c->in_binary;
    soma_integrator_backward(&it, dx, c->gws, g, tv.Y, x, *tv.flag != 0.0f ? &sx : NULL, c->E,
                             c->params, isc, rows);
}

static void sp_finish(const soma_layer *l, float *dparams, const float *gws, const float *params) {
    const spiking_layer *s = (const spiking_layer *)l;
    soma_integrator_finish(&s->it, dparams, gws, params);
    if (s->o_plif >= 0) {
        float k = plif_k(s, params);
        dparams[s->o_plif] = gws[s->g_plif] * k * (1.0f - k); /* dk/dw = σ′(w) */
    }
}

static int sp_tensors(const soma_layer *l, const char **names, int64_t *offs, int64_t *numels) {
    const spiking_layer *s = (const spiking_layer *)l;
    int n = soma_integrator_tensors(&s->it, names, offs, numels);
    if (s->o_plif >= 0) names[n] = "plif_w", offs[n] = s->o_plif, numels[n] = 1, n++;
    return n;
}

static void sp_mean_membrane(const soma_layer *l, const soma_lctx *c, float *out) {
    const spiking_layer *s = (const spiking_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, BP = c->B * s->it.P;
    const float *mem = tape_of(s, c->tape, rows).mem; /* (T, B, P) */
    for (int64_t i = 0; i < BP; i++) out[i] = 0.0f;
    for (int t = 0; t < c->T; t++)
        for (int64_t i = 0; i < BP; i++) out[i] += mem[t * BP + i];
    for (int64_t i = 0; i < BP; i++) out[i] /= (float)c->T;
}

static void sp_free(soma_layer *l) {
    spiking_layer *s = (spiking_layer *)l;
    if (!s) return;
    if (s->op) s->op->ops->free(s->op);
    soma_free(s);
}

static const soma_layer_ops spiking_ops = {
    .name = "dense",
    .init_params = sp_init_params,
    .prepare = sp_prepare,
    .forward = sp_forward,
    .backward = sp_backward,
    .finish = sp_finish,
    .tensors = sp_tensors,
    .free = sp_free,
    .mean_membrane = sp_mean_membrane,
};

int soma_spiking_dense_create(soma_layer **out, int64_t in_dim, int64_t n,
                              const soma_integrate_params *ip, const soma_neuron_params *np,
                              soma_error *err) {
    *out = NULL;
    if (in_dim <= 0 || n <= 0 || in_dim > INT32_MAX || n > INT32_MAX)
        return soma_fail(err, SOMA_E_ARG, "dense layer %lld->%lld: sizes must be positive",
                         (long long)in_dim, (long long)n);
    if (np->kind == SOMA_NEURON_PLIF && !(np->tau > 1.0f))
        return soma_fail(err, SOMA_E_ARG, "PLIF needs an initial tau > 1 (got %g)", (double)np->tau);
    spiking_layer *s = soma_calloc(1, sizeof *s);
    if (!s) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a dense layer");
    s->op = soma_dense_create(in_dim);
    int rc = s->op ? soma_integrator_init(&s->it, s->op, n, ip, err)
                   : soma_fail(err, SOMA_E_NOMEM, "out of memory creating a dense synapse");
    if (rc != SOMA_OK) {
        sp_free(&s->base);
        return rc;
    }
    s->np = *np;
    soma_layer *l = &s->base;
    l->ops = &spiking_ops;
    l->in_dim = in_dim, l->out_dim = n;
    l->spiking_out = np->spiking && !np->smooth_forward; /* smooth "spikes" are not binary */
    s->o_plif = np->kind == SOMA_NEURON_PLIF ? s->it.n_params : -1;
    l->n_params = s->it.n_params + (s->o_plif >= 0);
    s->g_plif = s->it.n_gws;
    l->gws_size = s->it.n_gws + 1;
    l->E_size = soma_integrator_E_size(&s->it);
    l->tape_per_row = 2 + s->it.P + soma_integrator_tape_per_row(&s->it);
    l->list_per_row = in_dim;
    l->tape_fixed = SOMA_DENSE_TAPE_HDR + 2;
    l->scratch_per_row = 2 * s->it.P + soma_integrator_scratch_per_row(&s->it, in_dim);
    l->scratch_fixed = 3 * in_dim + 16; /* mask (in_dim uint64) + touched (in_dim int32) */
    l->takes_spikes = true;
    l->folds_suffice = n >= 16; /* every product then has >= 16 outputs: folded (dense_fold.h) */
    const char *mode = soma_integrate_mode_name(ip->mode);
    char extra[48] = "";
    if (ip->mode == SOMA_INTEGRATE_BILINEAR) snprintf(extra, sizeof extra, "(R=%d)", ip->rank);
    snprintf(l->desc, sizeof l->desc, "dense %lld->%lld %s%s%s%s %s%s", (long long)in_dim,
             (long long)n, mode, extra, ip->ablation ? "/" : "",
             ip->ablation ? soma_ablation_name(ip->ablation) : "", np->spiking ? soma_neuron_kind_name(np->kind) : "readout",
             np->spiking ? "" : "(membrane)");
    *out = l;
    return SOMA_OK;
}
