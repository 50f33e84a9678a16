/*
 * layer/residual.c — the residual basic block of spiking ResNets (the block of MPBN's
 * ResNet-20 and of tdBN's ResNet-19), as one layer:
 *
 *   a   = N_a(BN(conv3×3(x, stride)))                   first neuron, spikes (T, B, C·H'·W')
 *   out = N_b(BN(conv3×3(a)) + shortcut(x))             shortcut = x, or BN(conv1×1(x, stride))
 *                                                        when the stride or channels change
 *
 * The shortcut adds to the second neuron's input current (PyTorch: out += identity;
 * out = sn2(out)). With tdBN the two summed branches are normalised to α·V_th with α = 1/√2
 * (Zheng et al. 2021). Each conv is a conv unit (conv_unit.c), so any integration mode
 * applies; each neuron may carry MPBN (mpbn.c).
 *
 * Blocks in order: unit a | neuron a | unit b | unit s | neuron b (params, gws and state).
 * Tape: unit a | mem a | spikes a | neuron a fixed | unit b | unit s | mem b | neuron b fixed.
 */
#include "layer/conv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_TENSORS 48

typedef struct res_layer {
    soma_layer base; /* must be first */
    soma_cunit ua, ub, us;
    bool has_short;
    soma_sneuron na, nb;
    /* offsets of each part in the params, gws and state slices */
    int64_t p_na, p_ub, p_us, p_nb, g_na, g_ub, g_us, g_nb, s_na, s_ub, s_us, s_nb;
    int ntens;
    const char *tn[MAX_TENSORS];
    int64_t toff[MAX_TENSORS], tnum[MAX_TENSORS];
    char names[MAX_TENSORS][32];
} res_layer;

/* Tape regions of one chunk (rows = T·B). */
typedef struct res_tape {
    float *ua, *mem_a, *spk_a, *na, *ub, *us, *mem_b, *nb;
} res_tape;

static res_tape tape_of(const res_layer *r, float *tape, int64_t rows) {
    res_tape t;
    const int64_t Qa = r->ua.Q, Q = r->ub.Q;
    t.ua = tape;
    t.mem_a = t.ua + rows * r->ua.tape_per_row + r->ua.tape_fixed;
    t.spk_a = t.mem_a + rows * Qa;
    t.na = t.spk_a + rows * Qa;
    t.ub = t.na + r->na.tape_fixed;
    t.us = t.ub + rows * r->ub.tape_per_row + r->ub.tape_fixed;
    t.mem_b = t.us + (r->has_short ? rows * r->us.tape_per_row + r->us.tape_fixed : 0);
    t.nb = t.mem_b + rows * Q;
    return t;
}

static soma_cunit_io io_of(const soma_lctx *c, int64_t po, int64_t go, int64_t so, float *tape,
                           float *scratch, int64_t rows) {
    soma_cunit_io io;
    memset(&io, 0, sizeof io); /* no spike lists, no event path inside a block */
    io.params = c->params + po;
    io.E = c->E; /* offset by the caller */
    io.state = c->state ? c->state + so : NULL;
    io.gws = c->gws ? c->gws + go : NULL;
    io.tape = tape, io.scratch = scratch, io.rows_alloc = rows, io.train = c->train;
    io.in_binary = c->in_binary;
    return io;
}

static int64_t E_of(const soma_cunit *u) { return soma_integrator_E_size(&u->it); }

static void rs_init_params(const soma_layer *l, float *params, soma_rng *rng) {
    const res_layer *r = (const res_layer *)l;
    soma_cunit_init_params(&r->ua, params, rng);
    soma_sneuron_init_params(&r->na, params + r->p_na);
    soma_cunit_init_params(&r->ub, params + r->p_ub, rng);
    if (r->has_short) soma_cunit_init_params(&r->us, params + r->p_us, rng);
    soma_sneuron_init_params(&r->nb, params + r->p_nb);
}

static void rs_init_state(const soma_layer *l, float *state) {
    const res_layer *r = (const res_layer *)l;
    soma_cunit_init_state(&r->ua, state);
    soma_sneuron_init_state(&r->na, state + r->s_na);
    soma_cunit_init_state(&r->ub, state + r->s_ub);
    if (r->has_short) soma_cunit_init_state(&r->us, state + r->s_us);
    soma_sneuron_init_state(&r->nb, state + r->s_nb);
}

static void rs_prepare(const soma_layer *l, float *E, const float *params) {
    const res_layer *r = (const res_layer *)l;
    soma_integrator_prepare(&r->ua.it, E, params);
    soma_integrator_prepare(&r->ub.it, E + E_of(&r->ua), params + r->p_ub);
    if (r->has_short) soma_integrator_prepare(&r->us.it, E + E_of(&r->ua) + E_of(&r->ub), params + r->p_us);
}

static void rs_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const res_layer *r = (const res_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, Qa = r->ua.Q, Q = r->ub.Q;
    const int64_t maxq = Qa > Q ? Qa : Q;
    res_tape t = tape_of(r, c->tape, rows);
    /* scratch: cur_a (rows, Qa) | cur_b (rows, Q) | cur_s (rows, Q) | u (B, maxq) | units */
    float *cur_a = c->scratch, *cur_b = cur_a + rows * Qa, *cur_s = cur_b + rows * Q;
    float *u = cur_s + rows * Q, *usc = u + c->B * maxq;
    const float *state = c->state;
    soma_cunit_io io = io_of(c, 0, 0, 0, t.ua, usc, rows);
    soma_cunit_forward(&r->ua, &io, cur_a, x, rows, NULL);
    soma_sneuron_forward(&r->na, t.spk_a, t.mem_a, cur_a, false, u, t.na, c->params + r->p_na,
                         state ? state + r->s_na : NULL, c->train, c->T, c->B);
    io = io_of(c, r->p_ub, 0, r->s_ub, t.ub, usc, rows);
    io.E = c->E + E_of(&r->ua);
    io.in_binary = l->spiking_out; /* a's spikes are binary iff this block's are */
    soma_cunit_forward(&r->ub, &io, cur_b, t.spk_a, rows, NULL);
    if (r->has_short) {
        io = io_of(c, r->p_us, 0, r->s_us, t.us, usc, rows);
        io.E = c->E + E_of(&r->ua) + E_of(&r->ub);
        soma_cunit_forward(&r->us, &io, cur_s, x, rows, NULL);
        for (int64_t i = 0; i < rows * Q; i++) cur_b[i] += cur_s[i];
    } else {
        for (int64_t i = 0; i < rows * Q; i++) cur_b[i] += x[i];
    }
    soma_sneuron_forward(&r->nb, y, t.mem_b, cur_b, false, u, t.nb, c->params + r->p_nb,
                         state ? state + r->s_nb : NULL, c->train, c->T, c->B);
    if (c->spikes) {
        double n = 0;
        for (int64_t i = 0; i < rows * Q; i++) n += y[i];
        *c->spikes += n;
    }
}

static void rs_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const res_layer *r = (const res_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B, Qa = r->ua.Q, Q = r->ub.Q, M = l->in_dim;
    const int64_t maxq = Qa > Q ? Qa : Q;
    res_tape t = tape_of(r, c->tape, rows);
    /* scratch: g_b, g_s (rows, Q) | d_a, g_a (rows, Qa) | eps, tmp (B, maxq) | dx_s (rows, M) | units */
    float *g_b = c->scratch, *g_s = g_b + rows * Q, *d_a = g_s + rows * Q, *g_a = d_a + rows * Qa;
    float *eps = g_a + rows * Qa, *tmp = eps + c->B * maxq, *dx_s = tmp + c->B * maxq;
    float *usc = dx_s + rows * M;
    soma_sneuron_backward(&r->nb, g_b, dy, t.mem_b, y, false, eps, tmp, t.nb, c->params + r->p_nb,
                          c->gws + r->g_nb, c->T, c->B);
    memcpy(g_s, g_b, (size_t)(rows * Q) * sizeof *g_s); /* the shortcut's share; unit b clobbers g_b */
    soma_cunit_io io = io_of(c, r->p_ub, r->g_ub, r->s_ub, t.ub, usc, rows);
    io.E = c->E + E_of(&r->ua);
    io.in_binary = l->spiking_out;
    soma_cunit_backward(&r->ub, &io, d_a, g_b, t.spk_a, rows);
    soma_sneuron_backward(&r->na, g_a, d_a, t.mem_a, t.spk_a, false, eps, tmp, t.na,
                          c->params + r->p_na, c->gws + r->g_na, c->T, c->B);
    io = io_of(c, 0, 0, 0, t.ua, usc, rows);
    soma_cunit_backward(&r->ua, &io, dx, g_a, x, rows);
    if (r->has_short) {
        io = io_of(c, r->p_us, r->g_us, r->s_us, t.us, usc, rows);
        io.E = c->E + E_of(&r->ua) + E_of(&r->ub);
        soma_cunit_backward(&r->us, &io, dx ? dx_s : NULL, g_s, x, rows);
        if (dx)
            for (int64_t i = 0; i < rows * M; i++) dx[i] += dx_s[i];
    } else if (dx) {
        for (int64_t i = 0; i < rows * M; i++) dx[i] += g_s[i];
    }
}

static void rs_finish(const soma_layer *l, float *dparams, const float *gws, const float *params) {
    const res_layer *r = (const res_layer *)l;
    soma_cunit_finish(&r->ua, dparams, gws, params);
    soma_sneuron_finish(&r->na, dparams + r->p_na, gws + r->g_na, params + r->p_na);
    soma_cunit_finish(&r->ub, dparams + r->p_ub, gws + r->g_ub, params + r->p_ub);
    if (r->has_short) soma_cunit_finish(&r->us, dparams + r->p_us, gws + r->g_us, params + r->p_us);
    soma_sneuron_finish(&r->nb, dparams + r->p_nb, gws + r->g_nb, params + r->p_nb);
}

static void rs_update_state(const soma_layer *l, float *state, const float *gws) {
    const res_layer *r = (const res_layer *)l;
    soma_cunit_update_state(&r->ua, state, gws);
    soma_sneuron_update_state(&r->na, state + r->s_na, gws + r->g_na);
    soma_cunit_update_state(&r->ub, state + r->s_ub, gws + r->g_ub);
    if (r->has_short) soma_cunit_update_state(&r->us, state + r->s_us, gws + r->g_us);
    soma_sneuron_update_state(&r->nb, state + r->s_nb, gws + r->g_nb);
}

static int rs_tensors(const soma_layer *l, const char **names, int64_t *offs, int64_t *numels) {
    const res_layer *r = (const res_layer *)l;
    for (int i = 0; i < r->ntens; i++) names[i] = r->tn[i], offs[i] = r->toff[i], numels[i] = r->tnum[i];
    return r->ntens;
}

static void rs_free(soma_layer *l) {
    res_layer *r = (res_layer *)l;
    if (!r) return;
    soma_cunit_free(&r->ua);
    soma_cunit_free(&r->ub);
    soma_cunit_free(&r->us);
    soma_free(r);
}

static const soma_layer_ops res_ops = {
    .name = "residual",
    .init_params = rs_init_params,
    .prepare = rs_prepare,
    .forward = rs_forward,
    .backward = rs_backward,
    .finish = rs_finish,
    .tensors = rs_tensors,
    .free = rs_free,
    .init_state = rs_init_state,
    .update_state = rs_update_state,
};

/* Appends a unit's tensors, shifting offsets by its slice bases (state ones stay flagged). */
static void add_unit(res_layer *r, const soma_cunit *u, const char *prefix, int64_t po, int64_t so) {
    int n0 = r->ntens;
    r->ntens = soma_cunit_tensors(u, prefix, r->tn, r->toff, r->tnum, n0, r->names);
    for (int i = n0; i < r->ntens; i++) r->toff[i] = r->toff[i] >= 0 ? r->toff[i] + po : r->toff[i] - so;
}

static void add_neuron(res_layer *r, const soma_sneuron *n, const char *prefix, int64_t po, int64_t so) {
    static const char *const part[4] = {"mpbn.gamma", "mpbn.beta", "mpbn.running_mean", "mpbn.running_var"};
    for (int j = 0; n->mpbn && j < 4; j++) {
        int i = r->ntens++;
        snprintf(r->names[i], 32, "%s%s", prefix, part[j]);
        r->tn[i] = r->names[i], r->tnum[i] = n->c;
        r->toff[i] = j < 2 ? po + n->o_bn + j * n->c : -1 - (so + n->o_state + (j - 2) * n->c);
    }
    if (n->o_plif >= 0) {
        int i = r->ntens++;
        snprintf(r->names[i], 32, "%splif_w", prefix);
        r->tn[i] = r->names[i], r->toff[i] = po + n->o_plif, r->tnum[i] = 1;
    }
}

int soma_residual_layer_create(soma_layer **out, const soma_res_desc *d, int64_t cin, int64_t h,
                               int64_t w, const soma_integrate_params *ip,
                               const soma_neuron_params *np, int T, soma_error *err) {
    *out = NULL;
    if (d->bn != SOMA_STAGE_BN && d->bn != SOMA_STAGE_TDBN)
        return soma_fail(err, SOMA_E_ARG, "residual block: BN kind must be BN or tdBN");
    res_layer *r = soma_calloc(1, sizeof *r);
    if (!r) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a residual block");
    const float branch_alpha = d->bn == SOMA_STAGE_TDBN ? 1.0f / sqrtf(2.0f) : 1.0f;
    soma_conv_desc da = {d->cout, 3, d->stride, 1, 1, {{d->bn, 0, 1.0f}}, false};
    soma_conv_desc db = {d->cout, 3, 1, 1, 1, {{d->bn, 0, branch_alpha}}, false};
    soma_conv_desc ds = {d->cout, 1, d->stride, 0, 1, {{d->bn, 0, branch_alpha}}, false};
    r->has_short = d->stride != 1 || d->cout != cin;
    /* no spike lists: the units' tapes sit at unaligned offsets inside the block's tape */
    int rc = soma_cunit_init(&r->ua, &da, cin, h, w, ip, np->theta, false, err);
    if (rc == SOMA_OK) rc = soma_sneuron_init(&r->na, np, d->mpbn, T, r->ua.c, r->ua.h * r->ua.w, err);
    if (rc == SOMA_OK) rc = soma_cunit_init(&r->ub, &db, r->ua.c, r->ua.h, r->ua.w, ip, np->theta, false, err);
    if (rc == SOMA_OK && r->has_short) rc = soma_cunit_init(&r->us, &ds, cin, h, w, ip, np->theta, false, err);
    if (rc == SOMA_OK && r->has_short && (r->us.h != r->ub.h || r->us.w != r->ub.w))
        rc = soma_fail(err, SOMA_E_SHAPE, "residual block: shortcut %lldx%lld does not match %lldx%lld",
                       (long long)r->us.h, (long long)r->us.w, (long long)r->ub.h, (long long)r->ub.w);
    if (rc == SOMA_OK) rc = soma_sneuron_init(&r->nb, np, d->mpbn, T, r->ub.c, r->ub.h * r->ub.w, err);
    if (rc != SOMA_OK) {
        rs_free(&r->base);
        return rc;
    }
    const soma_cunit *us = r->has_short ? &r->us : NULL;
    int64_t p = r->ua.n_params, g = r->ua.n_gws, s = r->ua.n_state;
    r->p_na = p, r->g_na = g, r->s_na = s;
    p += r->na.n_params, g += r->na.n_gws, s += r->na.n_state;
    r->p_ub = p, r->g_ub = g, r->s_ub = s;
    p += r->ub.n_params, g += r->ub.n_gws, s += r->ub.n_state;
    r->p_us = p, r->g_us = g, r->s_us = s;
    if (us) p += us->n_params, g += us->n_gws, s += us->n_state;
    r->p_nb = p, r->g_nb = g, r->s_nb = s;
    p += r->nb.n_params, g += r->nb.n_gws, s += r->nb.n_state;
    soma_layer *l = &r->base;
    l->ops = &res_ops;
    l->in_dim = cin * h * w;
    l->out_dim = r->ub.Q;
    l->out_chw[0] = r->ub.c, l->out_chw[1] = r->ub.h, l->out_chw[2] = r->ub.w;
    l->spiking_out = np->spiking && !np->smooth_forward;
    l->n_params = p, l->gws_size = g, l->n_state = s;
    l->E_size = E_of(&r->ua) + E_of(&r->ub) + (us ? E_of(us) : 0);
    const int64_t Qa = r->ua.Q, Q = r->ub.Q, maxq = Qa > Q ? Qa : Q;
    int64_t uspr = r->ua.scratch_per_row > r->ub.scratch_per_row ? r->ua.scratch_per_row : r->ub.scratch_per_row;
    int64_t usfx = r->ua.scratch_fixed > r->ub.scratch_fixed ? r->ua.scratch_fixed : r->ub.scratch_fixed;
    if (us && us->scratch_per_row > uspr) uspr = us->scratch_per_row;
    if (us && us->scratch_fixed > usfx) usfx = us->scratch_fixed;
    l->tape_per_row = r->ua.tape_per_row + 2 * Qa + r->ub.tape_per_row + (us ? us->tape_per_row : 0) + Q;
    l->tape_fixed = r->ua.tape_fixed + r->na.tape_fixed + r->ub.tape_fixed + (us ? us->tape_fixed : 0) + r->nb.tape_fixed;
    /* forward: Qa + 2Q + maxq; backward: 2Q + 2Qa + 2·maxq + M (per row, B ≤ rows) */
    l->scratch_per_row = 2 * Q + 2 * Qa + 2 * maxq + l->in_dim + uspr;
    l->scratch_fixed = usfx;
    add_unit(r, &r->ua, "a.", 0, 0);
    add_neuron(r, &r->na, "a.", r->p_na, r->s_na);
    add_unit(r, &r->ub, "b.", r->p_ub, r->s_ub);
    if (us) add_unit(r, us, "s.", r->p_us, r->s_us);
    add_neuron(r, &r->nb, "b.", r->p_nb, r->s_nb);
    snprintf(l->desc, sizeof l->desc, "residual %lldx%lldx%lld -> %lldx%lldx%lld (3x3 s%d, 3x3%s) %s %s %s%s",
             (long long)cin, (long long)h, (long long)w, (long long)r->ub.c, (long long)r->ub.h,
             (long long)r->ub.w, d->stride, us ? ", 1x1 shortcut" : "", d->bn == SOMA_STAGE_TDBN ? "tdBN" : "BN",
             soma_integrate_mode_name(ip->mode), soma_neuron_kind_name(np->kind), d->mpbn ? "+MPBN" : "");
    *out = l;
    return SOMA_OK;
}
