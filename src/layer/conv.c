/*
 * layer/conv.c — the convolutional spiking layer: a conv unit (Conv2d synapse + integration
 * mode + fused pooling / BN of the current, conv_unit.c) and the neuron dynamics
 * (optionally MPBN, mpbn.c), in multi-step form, written the way layer/spiking.c writes the
 * dense layer.
 *
 * Forward for a chunk: the T·B input images go through the unit (one GEMM per image, or the
 * event-driven conv for sparse binary input), then one fused pass runs the dynamics over T. When the input is the same at every step (direct
 * encoding into the first layer, lctx.in_static), the unit runs on the B images once and the
 * neurons receive that current at every step; backward then sums ∂L/∂i over T before the
 * unit's backward, which is exact because the unit is a function of the input alone.
 */
#include "layer/conv.h"

#include <stdio.h>
#include <string.h>

#define MAX_TENSORS 32 /* integrator ≤ 7, 4 per BN stage (≤ 4 stages), MPBN 4, PLIF 1 */

typedef struct conv_layer {
    soma_layer base; /* must be first */
    soma_cunit u;
    soma_sneuron n;
    int T;
    bool static_in;       /* planned for a static input (buffers of B rows for the unit) */
    int64_t o_n, g_n, s_n; /* the neuron's slices after the unit's (params, gws, state) */
    int ntens;
    const char *tn[MAX_TENSORS];
    int64_t toff[MAX_TENSORS], tnum[MAX_TENSORS];
    char names[MAX_TENSORS][32];
} conv_layer;

/* The layer's view of one call: the unit's row count and the buffer regions. */
typedef struct conv_call {
    bool st;           /* static input: unit over B rows, current broadcast over T */
    int64_t rows, ru;  /* T·B, and the rows the unit sees */
    float *mem, *ntape;
    soma_cunit_io io;
} conv_call;

static conv_call call_of(const conv_layer *s, const soma_lctx *c) {
    conv_call k;
    SOMA_ASSERT(c->in_static || !s->static_in); /* planned static, run dynamic: too small */
    k.st = s->static_in && c->in_static;
    k.rows = (int64_t)c->T * c->B;
    k.ru = k.st ? c->B : k.rows;
    k.mem = c->tape + k.ru * s->u.tape_per_row + s->u.tape_fixed; /* (T, B, Q) */
    k.ntape = k.mem + k.rows * s->u.Q;
    memset(&k.io, 0, sizeof k.io);
    k.io.params = c->params, k.io.E = c->E, k.io.state = c->state;
    k.io.gws = c->gws, k.io.tape = c->tape, k.io.rows_alloc = k.ru, k.io.train = c->train;
    k.io.in_binary = c->in_binary;
    k.io.sparse_max_density = c->sparse_max_density;
    k.io.sx_in = k.st ? NULL : c->sx_in; /* the encoder's spike lists (first layer, rate coding) */
    return k;
}

static void cv_init_params(const soma_layer *l, float *params, soma_rng *rng) {
    const conv_layer *s = (const conv_layer *)l;
    soma_cunit_init_params(&s->u, params, rng);
    soma_sneuron_init_params(&s->n, params + s->o_n);
}

static void cv_init_state(const soma_layer *l, float *state) {
    const conv_layer *s = (const conv_layer *)l;
    soma_cunit_init_state(&s->u, state);
    soma_sneuron_init_state(&s->n, state + s->s_n);
}

static void cv_prepare(const soma_layer *l, float *E, const float *params) {
    soma_integrator_prepare(&((const conv_layer *)l)->u.it, E, params);
}

static void cv_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const conv_layer *s = (const conv_layer *)l;
    conv_call k = call_of(s, c);
    const int64_t Q = s->u.Q;
    float *cur = c->scratch, *u = cur + k.ru * Q; /* cur (ru, Q), u (B, Q) */
    k.io.scratch = u + c->B * Q;
    bool ev = false;
    int64_t nnz = soma_cunit_forward(&s->u, &k.io, cur, x, k.ru, &ev);
    if (c->in_active && nnz >= 0) *c->in_active += (double)nnz;
    if (c->event_driven && ev) *c->event_driven = 1;
    soma_sneuron_forward(&s->n, y, k.mem, cur, k.st, u, k.ntape, c->params + s->o_n,
                         c->state ? c->state + s->s_n : NULL, c->train, c->T, c->B);
    if (c->spikes) { /* spikes are 0/1: an integer count vectorises (a float sum would not) */
        int64_t n = 0;
        for (int64_t i = 0; i < k.rows * Q; i++) n += y[i] != 0.0f;
        *c->spikes += (double)n;
    }
}

static void cv_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const conv_layer *s = (const conv_layer *)l;
    conv_call k = call_of(s, c);
    const int64_t Q = s->u.Q, BQ = c->B * Q;
    float *g = c->scratch, *eps = g + k.ru * Q, *tmp = eps + BQ; /* g (ru, Q), eps/tmp (B, Q) */
    k.io.scratch = tmp + BQ;
    soma_sneuron_backward(&s->n, g, dy, k.mem, y, k.st, eps, tmp, k.ntape, c->params + s->o_n,
                          c->gws + s->g_n, c->T, c->B);
    soma_cunit_backward(&s->u, &k.io, dx, g, x, k.ru);
    if (dx && k.st) /* the steps t ≥ 1 carry no gradient of their own: it is all in t = 0 */
        memset(dx + k.ru * l->in_dim, 0, (size_t)((k.rows - k.ru) * l->in_dim) * sizeof *dx);
}

static void cv_finish(const soma_layer *l, float *dparams, const float *gws, const float *params) {
    const conv_layer *s = (const conv_layer *)l;
    soma_cunit_finish(&s->u, dparams, gws, params);
    soma_sneuron_finish(&s->n, dparams + s->o_n, gws + s->g_n, params + s->o_n);
}

static void cv_update_state(const soma_layer *l, float *state, const float *gws) {
    const conv_layer *s = (const conv_layer *)l;
    soma_cunit_update_state(&s->u, state, gws);
    soma_sneuron_update_state(&s->n, state + s->s_n, gws + s->g_n);
}

static int cv_tensors(const soma_layer *l, const char **names, int64_t *offs, int64_t *numels) {
    const conv_layer *s = (const conv_layer *)l;
    for (int i = 0; i < s->ntens; i++) names[i] = s->tn[i], offs[i] = s->toff[i], numels[i] = s->tnum[i];
    return s->ntens;
}

static void cv_free(soma_layer *l) {
    conv_layer *s = (conv_layer *)l;
    if (!s) return;
    soma_cunit_free(&s->u);
    soma_free(s);
}

static const soma_layer_ops conv_ops = {
    .name = "conv",
    .init_params = cv_init_params,
    .prepare = cv_prepare,
    .forward = cv_forward,
    .backward = cv_backward,
    .finish = cv_finish,
    .tensors = cv_tensors,
    .free = cv_free,
    .init_state = cv_init_state,
    .update_state = cv_update_state,
};

/* Appends the neuron's tensors (MPBN γ, β, running statistics; PLIF w) at the given bases. */
static void neuron_tensors(conv_layer *s, const soma_sneuron *n, const char *prefix, int64_t o, int64_t so) {
    static const char *const part[4] = {"mpbn.gamma", "mpbn.beta", "mpbn.running_mean", "mpbn.running_var"};
    for (int j = 0; n->mpbn && j < 4; j++) {
        int i = s->ntens++;
        snprintf(s->names[i], 32, "%s%s", prefix, part[j]);
        s->tn[i] = s->names[i], s->tnum[i] = n->c;
        s->toff[i] = j < 2 ? o + n->o_bn + j * n->c : -1 - (so + n->o_state + (j - 2) * n->c);
    }
    if (n->o_plif >= 0) {
        int i = s->ntens++;
        snprintf(s->names[i], 32, "%splif_w", prefix);
        s->tn[i] = s->names[i], s->toff[i] = o + n->o_plif, s->tnum[i] = 1;
    }
}

/* One line: "conv 1x28x28 32C3 p1 + maxpool2 -> 32x14x14 linear lif". */
static void describe(char *buf, size_t n, const soma_conv_desc *d, int64_t cin, int64_t h, int64_t w,
                     const soma_cunit *u, const soma_integrate_params *ip, const soma_neuron_params *np) {
    int o = snprintf(buf, n, "conv %lldx%lldx%lld %lldC%d", (long long)cin, (long long)h, (long long)w,
                     (long long)d->cout, d->k);
    if (d->stride != 1) o += snprintf(buf + o, n - (size_t)o, " s%d", d->stride);
    o += snprintf(buf + o, n - (size_t)o, " p%d", d->pad);
    for (int i = 0; i < d->nstage && o < (int)n; i++) {
        const soma_stage_desc *s = &d->stage[i];
        if (s->kind == SOMA_STAGE_MAXPOOL || s->kind == SOMA_STAGE_AVGPOOL)
            o += snprintf(buf + o, n - (size_t)o, " +%spool%d", s->kind == SOMA_STAGE_MAXPOOL ? "max" : "avg", s->k);
        else
            o += snprintf(buf + o, n - (size_t)o, " +%s", s->kind == SOMA_STAGE_BN ? "BN" : "tdBN");
    }
    if (o < (int)n)
        snprintf(buf + o, n - (size_t)o, " -> %lldx%lldx%lld %s %s%s", (long long)u->c, (long long)u->h,
                 (long long)u->w, soma_integrate_mode_name(ip->mode),
                 np->spiking ? soma_neuron_kind_name(np->kind) : "readout", d->mpbn ? "+MPBN" : "");
}

int soma_conv_layer_create(soma_layer **out, const soma_conv_desc *d, int64_t cin, int64_t h,
                           int64_t w, const soma_integrate_params *ip,
                           const soma_neuron_params *np, int T, soma_error *err) {
    *out = NULL;
    conv_layer *s = soma_calloc(1, sizeof *s);
    if (!s) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a conv layer");
    int rc = soma_cunit_init(&s->u, d, cin, h, w, ip, np->theta, true, err); /* tape is 16-float aligned */
    if (rc == SOMA_OK) rc = soma_sneuron_init(&s->n, np, d->mpbn, T, s->u.c, s->u.h * s->u.w, err);
    if (rc != SOMA_OK) {
        cv_free(&s->base);
        return rc;
    }
    s->T = T;
    soma_layer *l = &s->base;
    l->ops = &conv_ops;
    l->in_dim = s->u.in_dim;
    l->out_dim = s->u.Q;
    l->out_chw[0] = s->u.c, l->out_chw[1] = s->u.h, l->out_chw[2] = s->u.w;
    l->spiking_out = np->spiking && !np->smooth_forward;
    l->takes_spikes = true; /* the event-driven conv reads the encoder's spike lists */
    s->o_n = s->u.n_params, s->g_n = s->u.n_gws, s->s_n = s->u.n_state;
    l->n_params = s->u.n_params + s->n.n_params;
    l->gws_size = s->u.n_gws + s->n.n_gws;
    l->n_state = s->u.n_state + s->n.n_state;
    l->E_size = soma_integrator_E_size(&s->u.it);
    const int64_t Q = s->u.Q;
    /* tape: unit (ru rows) | mem (T·B rows of Q) | neuron fixed;  scratch: cur/g (ru rows of Q)
     * + u/eps/tmp (B rows of Q each) + unit scratch (ru rows) */
    l->tape_per_row = Q + s->u.tape_per_row;
    l->tape_fixed = s->u.tape_fixed + s->n.tape_fixed;
    l->scratch_per_row = 3 * Q + s->u.scratch_per_row;
    l->scratch_fixed = s->u.scratch_fixed;
    s->ntens = soma_cunit_tensors(&s->u, "", s->tn, s->toff, s->tnum, 0, s->names);
    neuron_tensors(s, &s->n, "", s->o_n, s->s_n);
    describe(l->desc, sizeof l->desc, d, cin, h, w, &s->u, ip, np);
    *out = l;
    return SOMA_OK;
}

void soma_conv_layer_set_static(soma_layer *l, int T) {
    conv_layer *s = (conv_layer *)l;
    if (l->ops != &conv_ops || s->static_in) return;
    s->static_in = true;
    /* per-row sizes are multiplied by T·B; the unit needs its share for B rows only */
    l->tape_per_row = s->u.Q + (s->u.tape_per_row + T - 1) / T;
    l->scratch_per_row = (3 * s->u.Q + s->u.scratch_per_row + T - 1) / T;
}
