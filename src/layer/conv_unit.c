/*
 * layer/conv_unit.c — the conv unit: input image → input current, i.e. a Conv2d synaptic
 * operator under an integration mode (linear, bilinear or shunting: src/integrate/, no
 * conv-specific code), followed by fused stages that act on the current before any neuron
 * sees it: max/avg pooling (the reference conv net pools the current: conv → pool → LIF) and
 * batch norm (BN, tdBN). Spiking layers (conv.c, residual.c) put neurons behind units.
 *
 * Blocks, all slices of the owner's: params [integrator | per BN stage γ, β], gws
 * [integrator | per BN stage dγ, dβ, Σmean, Σvar, count], state [per BN stage running mean,
 * var]. Tape per row [spike lists of a binary input (if the unit may get one) | Y of the
 * integrator | per stage: x̂ (BN) or argmax bytes (max pool)], tape fixed [event-path flag |
 * per BN stage: mean, invstd]. Scratch per row [A | B | integrator scratch], A and B
 * ping-pong between stages, then the conv workspace (fixed).
 *
 * Binary input at most half of sparse_max_density dense (the measured break-even of the conv's
 * event path is lower than the dense layer's) goes through the conv's event-driven path: the
 * lists are built once in forward and reused by the weight gradient. The first layer under
 * rate coding gets the encoder's lists when the net chose the event path (its own threshold).
 *
 * A linear conv whose current is max pooled first gets its input gradient from the pooled
 * gradient directly: the gradient at the conv output is nonzero only at each window's maximum,
 * so the pool's backward hands position-major lists to the sparse kernel
 * (soma_conv2d_backward_input_sparse) instead of the transposed-conv GEMM. On the event path
 * a 3×3 conv also takes its bias and that 2×2 pooling inside the event kernel
 * (soma_conv3_pool2_forward/_backward, bit for bit the separate stages): the unpooled current
 * and its dense gradient are never formed. Under a stacked mode (bilinear, shunting) the same
 * event path combines and pools on the conv's position-major output and keeps Y at the
 * windows' maxima only (conv_stack.c): backward forms the blocks' gradients there and takes
 * the sparse input gradient over the stacked channels.
 *
 * Not here: neurons, and anything that differs between train and eval other than BN's
 * statistics.
 */
#include "layer/conv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int soma_cunit_init(soma_cunit *u, const soma_conv_desc *d, int64_t cin, int64_t h, int64_t w,
                    const soma_integrate_params *ip, float theta, bool events, soma_error *err) {
    memset(u, 0, sizeof *u);
    if (d->cout < 1 || d->k < 1 || d->stride < 1 || d->pad < 0 || d->cout > INT32_MAX)
        return soma_fail(err, SOMA_E_ARG, "conv %lldC%d: bad sizes", (long long)d->cout, d->k);
    if (h + 2 * d->pad < d->k || w + 2 * d->pad < d->k)
        return soma_fail(err, SOMA_E_ARG, "conv %lldC%d (padding %d) does not fit a %lldx%lld image",
                         (long long)d->cout, d->k, d->pad, (long long)h, (long long)w);
    if (d->nstage < 0 || d->nstage > SOMA_MAX_STAGES)
        return soma_fail(err, SOMA_E_ARG, "conv: at most %d fused stages", SOMA_MAX_STAGES);
    u->in_dim = cin * h * w;
    u->op = soma_conv2d_create(cin, h, w, d->k, d->stride, d->pad);
    if (!u->op) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a conv2d synapse");
    int rc = soma_integrator_init(&u->it, &u->op->base, d->cout, ip, err);
    if (rc != SOMA_OK) {
        soma_cunit_free(u);
        return rc;
    }
    u->P0 = u->it.P;
    u->maxp = u->P0;
    int64_t C = d->cout, H = u->op->ho, W = u->op->wo;
    int64_t np = u->it.n_params, ng = u->it.n_gws, ns = 0;
    /* tape: [spike lists: off (rows + 1 int64) | idx (rows·in_dim int32)] when the input may be
     * binary, then the integrator's Y, then the stages' regions; fixed part after them */
    u->events = events;
    u->shift = events ? 2 : 0;                 /* off's (rows + 1)-th entry */
    int64_t trow = events ? 2 + u->in_dim : 0;
    u->t_Y = trow;
    trow += soma_integrator_tape_per_row(&u->it);
    int64_t tfix = u->shift;
    u->t_flag = tfix, tfix += 2;               /* 1 when this call took the event path */
    u->nstage = d->nstage;
    for (int i = 0; i < d->nstage; i++) {
        soma_cstage *s = &u->st[i];
        s->d = d->stage[i];
        s->c = C, s->h = H, s->w = W, s->ho = H, s->wo = W;
        s->t_row = trow;
        switch (s->d.kind) {
        case SOMA_STAGE_MAXPOOL:
        case SOMA_STAGE_AVGPOOL:
            rc = soma_pool_geom_init(&s->pool, s->d.kind == SOMA_STAGE_MAXPOOL ? SOMA_POOL_MAX : SOMA_POOL_AVG,
                                     C, H, W, s->d.k, s->d.k, s->d.k, s->d.k, err);
            if (rc != SOMA_OK) {
                soma_cunit_free(u);
                return rc;
            }
            s->ho = s->pool.ho, s->wo = s->pool.wo;
            if (s->d.kind == SOMA_STAGE_MAXPOOL) trow += (C * s->ho * s->wo + 3) / 4;
            break;
        case SOMA_STAGE_BN:
        case SOMA_STAGE_TDBN:
            s->scale = s->d.kind == SOMA_STAGE_TDBN ? s->d.alpha * theta : 1.0f;
            s->o_par = np, np += 2 * C;
            s->g_par = ng, ng += 2 * C;
            s->g_stat = ng, ng += 2 * C + 1;
            s->o_state = ns, ns += 2 * C;
            s->t_fix = tfix, tfix += 2 * C;
            trow += C * H * W;
            break;
        }
        s->pin = C * H * W, s->pout = C * s->ho * s->wo;
        H = s->ho, W = s->wo;
        if (s->pout > u->maxp) u->maxp = s->pout;
    }
    u->c = C, u->h = H, u->w = W, u->Q = C * H * W;
    u->n_params = np, u->n_gws = ng, u->n_state = ns;
    u->tape_per_row = trow, u->tape_fixed = tfix;
    u->scratch_per_row = 2 * u->maxp + soma_integrator_scratch_per_row(&u->it, u->in_dim);
    u->scratch_fixed = soma_conv2d_work_floats(u->op, (int64_t)u->it.nblk * u->it.N) + 16;
    /* Max pooling right after a linear conv leaves one nonzero gradient per window and channel:
     * the input gradient then gathers just those (a quarter of the GEMM's work under 2×2). */
    u->sparse_dx = ip->mode == SOMA_INTEGRATE_LINEAR && u->nstage > 0 &&
                   u->st[0].d.kind == SOMA_STAGE_MAXPOOL && soma_conv2d_sparse_ok(u->op);
    if (u->sparse_dx) u->scratch_fixed += soma_conv2d_sparse_floats(u->op, u->it.N);
    /* A 3×3 conv with spike input whose current is max pooled 2×2 pools its position-major
     * sums directly: only the pooled quarter is transposed, backward needs no dense gradient. */
    const soma_stage_desc *s0 = u->nstage > 0 ? &u->st[0].d : NULL;
    u->pool_fused = u->sparse_dx && s0->kind == SOMA_STAGE_MAXPOOL && s0->k == 2 && soma_conv3_pool2_ok(u->op);
    /* The same for the stacked modes: their gradients G are zero wherever the pool's is, so G
     * is formed at the windows' maxima only and the input gradient is sparse too. Its tape (Y
     * at the maxima) fits in Y's region. */
    u->stack_fused = s0 && s0->kind == SOMA_STAGE_MAXPOOL && s0->k == 2 && soma_cunit_stack_ok(u->op, &u->it);
    if (u->stack_fused) u->scratch_fixed += soma_cunit_stack_floats(u->op, &u->it);
    SOMA_ASSERT(!u->stack_fused || soma_cunit_stack_tape_floats(u->op, &u->it) <= soma_integrator_tape_per_row(&u->it));
    return SOMA_OK;
}

void soma_cunit_free(soma_cunit *u) {
    if (u->op) u->op->base.ops->free(&u->op->base);
    u->op = NULL;
}

void soma_cunit_init_params(const soma_cunit *u, float *params, soma_rng *rng) {
    soma_integrator_init_params(&u->it, params, rng);
    for (int i = 0; i < u->nstage; i++) {
        const soma_cstage *s = &u->st[i];
        if (s->d.kind != SOMA_STAGE_BN && s->d.kind != SOMA_STAGE_TDBN) continue;
        for (int64_t c = 0; c < s->c; c++) params[s->o_par + c] = 1.0f, params[s->o_par + s->c + c] = 0.0f;
    }
}

void soma_cunit_init_state(const soma_cunit *u, float *state) {
    for (int i = 0; i < u->nstage; i++) {
        const soma_cstage *s = &u->st[i];
        if (s->d.kind != SOMA_STAGE_BN && s->d.kind != SOMA_STAGE_TDBN) continue;
        for (int64_t c = 0; c < s->c; c++) state[s->o_state + c] = 0.0f, state[s->o_state + s->c + c] = 1.0f;
    }
}

int soma_cunit_tensors(const soma_cunit *u, const char *prefix, const char **names, int64_t *offs,
                       int64_t *numels, int n, char (*namebuf)[32]) {
    const char *nm[8];
    int64_t of[8], nu[8];
    int k = soma_integrator_tensors(&u->it, nm, of, nu);
    for (int i = 0; i < k; i++, n++) {
        snprintf(namebuf[n], 32, "%s%s", prefix, nm[i]);
        names[n] = namebuf[n], offs[n] = of[i], numels[n] = nu[i];
    }
    for (int i = 0; i < u->nstage; i++) {
        const soma_cstage *s = &u->st[i];
        if (s->d.kind != SOMA_STAGE_BN && s->d.kind != SOMA_STAGE_TDBN) continue;
        static const char *const part[4] = {"gamma", "beta", "running_mean", "running_var"};
        for (int j = 0; j < 4; j++, n++) {
            snprintf(namebuf[n], 32, "%sbn%d.%s", prefix, i, part[j]);
            names[n] = namebuf[n], numels[n] = s->c;
            offs[n] = j < 2 ? s->o_par + j * s->c : -1 - (s->o_state + (j - 2) * s->c);
        }
    }
    return n;
}

/* Scratch regions of one call over `rows` rows. */
typedef struct unit_scratch {
    float *A, *B, *isc, *work;
} unit_scratch;

static unit_scratch scratch_of(const soma_cunit *u, float *scratch, int64_t rows) {
    unit_scratch s;
    s.A = scratch;
    s.B = s.A + rows * u->maxp;
    s.isc = s.B + rows * u->maxp;
    s.work = s.isc + rows * soma_integrator_scratch_per_row(&u->it, u->in_dim);
    return s;
}

/* The integrator over a per-call copy of the operator with the workspace bound (the shared
 * operator is used by several chunks at once). */
typedef struct bound_unit {
    soma_conv2d op;
    soma_integrator it;
} bound_unit;

static void bind(bound_unit *b, const soma_cunit *u, const soma_cunit_io *io, float *work) {
    soma_conv2d_bind(&b->op, u->op, work);
    b->it = u->it;
    b->it.op = &b->op.base;
    b->it.x_binary = io->in_binary;
}

/* The per-row region at row offset t (regions are rows_alloc rows long). */
static float *region(const soma_cunit *u, const soma_cunit_io *io, int64_t t) {
    return io->tape + t * io->rows_alloc + u->shift;
}

/* The input's spike lists in the tape: off (rows + 1) int64 at the tape's start, idx after. */
static soma_spikes lists_of(const soma_cunit_io *io, int64_t B) {
    soma_spikes sx = {.idx = (const int32_t *)(io->tape + 2 * io->rows_alloc + 2), .off = (const int64_t *)io->tape, .B = B};
    return sx;
}

int64_t soma_cunit_forward(const soma_cunit *u, const soma_cunit_io *io, float *cur, const float *x,
                           int64_t rows, bool *events_used) {
    unit_scratch s = scratch_of(u, io->scratch, rows);
    bound_unit bu;
    bind(&bu, u, io, s.work);
    float *Y = region(u, io, u->t_Y);                  /* (rows_alloc, nblk·P0) */
    float *tfix = io->tape + u->tape_per_row * io->rows_alloc;
    float *src = u->nstage ? s.A : cur;
    /* Binary input sparse enough: the event-driven conv (lists built here, kept for backward). */
    int64_t nnz = -1;
    soma_spikes sx = lists_of(io, rows);
    const soma_spikes *psx = NULL;
    if (io->sx_in) {
        psx = io->sx_in, nnz = io->sx_in->off[rows] - io->sx_in->off[0];
        if (u->events) tfix[u->t_flag] = 1.0f;
    } else if (u->events) {
        tfix[u->t_flag] = 0.0f;
        if (io->in_binary && io->sparse_max_density > 0) {
            nnz = soma_spikes_build((int32_t *)sx.idx, (int64_t *)sx.off, x, rows, u->in_dim);
            /* half the dense layers' threshold: each conv spike costs K² short vector adds
             * against a GEMM that runs near peak; measured break-even ≈ 17 % (32C3, 14×14) */
            if ((double)nnz <= 0.5 * io->sparse_max_density * (double)rows * (double)u->in_dim)
                psx = &sx, tfix[u->t_flag] = 1.0f;
        }
    }
    if (events_used) *events_used = psx != NULL;
    int i0 = 0;
    if (psx && u->stack_fused) {
        const soma_cstage *st = &u->st[0];
        float *dst = u->nstage == 1 ? cur : s.B;
        float *ws = s.work + soma_conv2d_work_floats(u->op, (int64_t)u->it.nblk * u->it.N) + 16;
        soma_cunit_stack_forward(u->op, &u->it, ws, dst, (uint8_t *)region(u, io, st->t_row), Y, psx, io->E,
                                 io->params, rows);
        src = dst, i0 = 1;
    } else if (psx && u->pool_fused) {
        const soma_cstage *st = &u->st[0];
        float *dst = u->nstage == 1 ? cur : s.B;
        soma_conv3_pool2_forward(&bu.op, dst, (uint8_t *)region(u, io, st->t_row), psx, io->E,
                                 io->params + u->it.ob, u->it.N, rows);
        src = dst, i0 = 1;
    } else {
        soma_integrator_forward(&bu.it, src, Y, x, psx, io->E, io->params, s.isc, rows);
    }
    for (int i = i0; i < u->nstage; i++) {
        const soma_cstage *st = &u->st[i];
        float *dst = i == u->nstage - 1 ? cur : src == s.A ? s.B : s.A;
        float *trow = region(u, io, st->t_row);
        switch (st->d.kind) {
        case SOMA_STAGE_MAXPOOL: soma_pool_forward(&st->pool, dst, (uint8_t *)trow, src, rows); break;
        case SOMA_STAGE_AVGPOOL: soma_pool_forward(&st->pool, dst, NULL, src, rows); break;
        default: {
            const float *gamma = io->params + st->o_par, *beta = gamma + st->c;
            float *mean = tfix + st->t_fix, *invstd = mean + st->c;
            const float *mu = mean, *var = invstd;
            if (io->train) soma_bn_stats(mean, invstd, src, rows, st->c, st->h * st->w); /* invstd holds σ² */
            else mu = io->state + st->o_state, var = mu + st->c;
            soma_bn_apply(dst, trow, invstd, src, mu, var, gamma, beta, st->scale, rows, st->c, st->h * st->w);
            if (!io->train) memcpy(mean, mu, (size_t)st->c * sizeof *mean);
            break;
        }
        }
        src = dst;
    }
    return nnz;
}

void soma_cunit_backward(const soma_cunit *u, const soma_cunit_io *io, float *dx, float *g,
                         const float *x, int64_t rows) {
    unit_scratch s = scratch_of(u, io->scratch, rows);
    bound_unit bu;
    bind(&bu, u, io, s.work);
    const float *Y = region(u, io, u->t_Y);
    const float *tfix = io->tape + u->tape_per_row * io->rows_alloc;
    soma_spikes sx = lists_of(io, rows);
    const soma_spikes *psx = io->sx_in ? io->sx_in : u->events && tfix[u->t_flag] != 0.0f ? &sx : NULL;
    const bool fused = psx && u->pool_fused; /* the first stage is in the conv kernel */
    const bool stack = psx && u->stack_fused; /* likewise, conv_stack.c */
    float *gc = g; /* ∂L/∂(output of stage i) */
    const float *gpool = NULL; /* ∂L/∂(output of the first stage), for the sparse input gradient */
    for (int i = u->nstage - 1; i >= (fused || stack ? 1 : 0); i--) {
        if (i == 0) gpool = gc;
        const soma_cstage *st = &u->st[i];
        float *dst = gc == s.A ? s.B : s.A;
        const float *trow = region(u, io, st->t_row);
        switch (st->d.kind) {
        case SOMA_STAGE_MAXPOOL: soma_pool_backward(&st->pool, dst, (const uint8_t *)trow, gc, rows); break;
        case SOMA_STAGE_AVGPOOL: soma_pool_backward(&st->pool, dst, NULL, gc, rows); break;
        default: {
            const int64_t C = st->c;
            const float *mean = tfix + st->t_fix, *invstd = mean + C;
            soma_bn_backward(dst, io->gws + st->g_par, io->gws + st->g_par + C, gc, trow, invstd,
                             io->params + st->o_par, st->scale, rows, C, st->h * st->w);
            /* this chunk's statistics, for the running ones (unbiased variance, as PyTorch) */
            const double n = (double)(rows * st->h * st->w);
            float *acc = io->gws + st->g_stat;
            for (int64_t c = 0; c < C; c++) {
                double var = 1.0 / ((double)invstd[c] * invstd[c]) - SOMA_BN_EPS;
                acc[c] += mean[c];
                acc[C + c] += (float)(n > 1 ? var * n / (n - 1) : var);
            }
            acc[2 * C] += 1.0f;
            break;
        }
        }
        gc = dst;
    }
    const bool sparse = dx && u->sparse_dx;
    if (stack) {
        float *ws = s.work + soma_conv2d_work_floats(u->op, (int64_t)u->it.nblk * u->it.N) + 16;
        soma_cunit_stack_backward(u->op, &u->it, ws, dx, io->gws, gc, (const uint8_t *)region(u, io, u->st[0].t_row),
                                  Y, psx, io->E, io->params, rows);
        return;
    }
    if (fused) {
        gpool = gc;
        soma_conv3_pool2_backward(&bu.op, io->gws + u->it.gE, io->gws + u->it.gb, gpool,
                                  (const uint8_t *)region(u, io, u->st[0].t_row), psx, u->it.N, rows);
    } else {
        soma_integrator_backward(&bu.it, sparse ? NULL : dx, io->gws, gc, Y, x, psx, io->E, io->params, s.isc, rows);
    }
    if (!sparse) return;
    /* the gradient at the conv output is nonzero only at each window's maximum */
    const soma_cstage *st = &u->st[0];
    const uint8_t *arg = (const uint8_t *)region(u, io, st->t_row);
    float *ws = s.work + soma_conv2d_work_floats(u->op, (int64_t)u->it.nblk * u->it.N) + 16;
    soma_conv2d_gsparse gs = soma_conv2d_sparse_begin(u->op, ws, io->E, u->it.N);
    for (int64_t r = 0; r < rows; r++) {
        soma_pool_backward_lists(&st->pool, gs.n, gs.ch, gs.v, gs.S, arg + r * st->pout, gpool + r * st->pout);
        soma_conv2d_backward_input_sparse(u->op, dx + r * u->in_dim, &gs);
    }
}

void soma_cunit_update_state(const soma_cunit *u, float *state, const float *gws) {
    for (int i = 0; i < u->nstage; i++) {
        const soma_cstage *s = &u->st[i];
        if (s->d.kind != SOMA_STAGE_BN && s->d.kind != SOMA_STAGE_TDBN) continue;
        const float *acc = gws + s->g_stat, cnt = acc[2 * s->c];
        if (!(cnt > 0)) continue;
        float *rm = state + s->o_state, *rv = rm + s->c;
        for (int64_t c = 0; c < s->c; c++) {
            rm[c] += SOMA_BN_MOMENTUM * (acc[c] / cnt - rm[c]);
            rv[c] += SOMA_BN_MOMENTUM * (acc[s->c + c] / cnt - rv[c]);
        }
    }
}

void soma_cunit_finish(const soma_cunit *u, float *dparams, const float *gws, const float *params) {
    soma_integrator_finish(&u->it, dparams, gws, params);
    for (int i = 0; i < u->nstage; i++) {
        const soma_cstage *s = &u->st[i];
        if (s->d.kind != SOMA_STAGE_BN && s->d.kind != SOMA_STAGE_TDBN) continue;
        for (int64_t c = 0; c < 2 * s->c; c++) dparams[s->o_par + c] = gws[s->g_par + c];
    }
}
