/*
 * integrate/integrate.c — layout, initialisation, weight stacking and the operator calls that
 * every integration mode shares; linear integration in full. The mode-specific combine and
 * gradient formulas are in bilinear.c and shunting.c.
 *
 * Each block of E is a transform of one parameter tensor (copy, square, ReLU₊, −ReLU₋), so
 * stacking (prepare) and mapping ∂E back onto the parameters (finish) are the same generic
 * loops for every mode: ∂p += f′(p)·∂E_block.
 */
#include "integrate/integrate.h"

#include <math.h>
#include <string.h>

enum { F_COPY, F_SQUARE, F_POS, F_NEG };
#define MAX_BLK 40

/* The block table is derived from (mode, ablation, R); see soma/net.h for the formulas. */
static int block_table(const soma_integrator *it, int64_t *src, int *fn) {
    const int64_t NK = it->N * it->K;
    int n = 0, R = it->R;
#define ADD(o, f) (src[n] = (o), fn[n] = (f), n++)
    switch (it->p.mode) {
    case SOMA_INTEGRATE_LINEAR: ADD(it->oW, F_COPY); break;
    case SOMA_INTEGRATE_BILINEAR:
        if (it->p.ablation == SOMA_ABLATION_AB1) {
            ADD(it->oW, F_COPY);
            ADD(it->oW2, F_COPY);
            break;
        }
        if (it->p.ablation != SOMA_ABLATION_AB2) ADD(it->oW, F_COPY);
        for (int f = 0; f < R; f++) ADD(it->oV + f * NK, F_COPY);
        for (int f = 0; f < R; f++) ADD(it->oV + f * NK, F_SQUARE);
        break;
    case SOMA_INTEGRATE_SHUNTING:
        switch (it->p.ablation) {
        case SOMA_ABLATION_AB1: ADD(it->oW, F_POS); ADD(it->oV, F_COPY); break;
        case SOMA_ABLATION_AB2: ADD(it->oW, F_POS); ADD(it->oW, F_NEG); ADD(it->oV, F_COPY); break;
        case SOMA_ABLATION_AB3: ADD(it->oW, F_COPY); ADD(it->oV, F_COPY); break;
        default: ADD(it->oW, F_POS); ADD(it->oW, F_NEG); ADD(it->oV, F_COPY); ADD(it->oV2, F_COPY); break;
        }
        break;
    default: break;
    }
#undef ADD
    return n;
}

int soma_integrator_init(soma_integrator *it, const soma_synop *op, int64_t N,
                         const soma_integrate_params *p, soma_error *err) {
    memset(it, 0, sizeof *it);
    it->p = *p;
    it->op = op;
    it->N = N, it->K = op->fan_in, it->inner = op->inner, it->P = N * op->inner;
    it->R = p->mode == SOMA_INTEGRATE_BILINEAR ? p->rank : 1;
    if (it->R < 1 || 1 + 2 * it->R > MAX_BLK)
        return soma_fail(err, SOMA_E_ARG, "bilinear rank %d out of range (1..%d)", p->rank, (MAX_BLK - 1) / 2);
    if ((unsigned)p->mode >= SOMA_INTEGRATE_COUNT || (unsigned)p->ablation >= SOMA_ABLATION_COUNT)
        return soma_fail(err, SOMA_E_ARG, "unknown integration mode or ablation");
    const int64_t NK = N * it->K;
    int64_t o = 0;
    it->oW = it->oW2 = it->oV = it->oV2 = it->olam = it->oa = -1;
    bool bil = p->mode == SOMA_INTEGRATE_BILINEAR, sh = p->mode == SOMA_INTEGRATE_SHUNTING;
    soma_ablation ab = p->ablation;
    if (!(bil && ab == SOMA_ABLATION_AB2)) it->oW = o, o += NK;
    if (bil && ab == SOMA_ABLATION_AB1) it->oW2 = o, o += NK, it->oa = o, o += 1;
    if (bil && ab != SOMA_ABLATION_AB1) {
        it->oV = o, o += it->R * NK;
        it->nlam = p->lambda_per_neuron ? N : 1;
        it->olam = o, o += it->nlam;
    }
    if (sh) {
        it->oV = o, o += NK;
        if (ab == SOMA_ABLATION_NONE) it->oV2 = o, o += NK;
    }
    it->ob = o, o += N;
    it->n_params = o;
    int64_t src[MAX_BLK];
    int fn[MAX_BLK];
    it->nblk = block_table(it, src, fn);
    it->nblk_x = (bil && ab != SOMA_ABLATION_AB1) ? it->nblk - it->R : it->nblk;
    const int64_t S = it->nblk * N;
    it->ystride = S * it->inner;
    it->gE = 0;
    it->glam = it->K * S;
    it->ga = it->glam + it->nlam;
    it->gb = it->ga + 1;
    it->n_gws = it->gb + N;
    return SOMA_OK;
}

int soma_integrator_tensors(const soma_integrator *it, const char **names, int64_t *offs,
                            int64_t *numels) {
    int n = 0;
    const int64_t NK = it->N * it->K;
    bool sh = it->p.mode == SOMA_INTEGRATE_SHUNTING;
#define T(nm, o, c) if ((o) >= 0) names[n] = (nm), offs[n] = (o), numels[n] = (c), n++
    T("W", it->oW, NK);
    T("W2", it->oW2, NK);
    T("a", it->oa, 1);
    T(sh ? "Vp" : "V", it->oV, sh ? NK : it->R * NK);
    T("Vn", it->oV2, NK);
    T("lambda", it->olam, it->nlam);
    T("b", it->ob, it->N);
#undef T
    return n;
}

void soma_integrator_init_params(const soma_integrator *it, float *params, soma_rng *rng) {
    const int64_t NK = it->N * it->K;
    const float bound = 1.0f / sqrtf((float)it->K);
    for (int64_t i = 0; i < NK; i++) {
        if (it->oW >= 0) params[it->oW + i] = bound * (2.0f * soma_rng_uniform(rng) - 1.0f);
        if (it->oW2 >= 0) params[it->oW2 + i] = bound * (2.0f * soma_rng_uniform(rng) - 1.0f);
    }
    if (it->oV >= 0) {
        bool sh = it->p.mode == SOMA_INTEGRATE_SHUNTING;
        float sd = sh ? it->p.shunt_scale : it->p.v_scale * bound;
        int64_t nv = sh ? NK : it->R * NK;
        for (int64_t i = 0; i < nv; i++) params[it->oV + i] = sd * soma_rng_normal(rng);
        if (it->oV2 >= 0)
            for (int64_t i = 0; i < NK; i++) params[it->oV2 + i] = sd * soma_rng_normal(rng);
    }
    for (int64_t i = 0; i < it->nlam; i++) params[it->olam + i] = it->p.lambda_init;
    if (it->oa >= 0) params[it->oa] = it->p.mix_init;
    for (int64_t i = 0; i < it->N; i++) params[it->ob + i] = bound * (2.0f * soma_rng_uniform(rng) - 1.0f);
}

int64_t soma_integrator_E_size(const soma_integrator *it) { return it->K * it->nblk * it->N; }

int64_t soma_integrator_tape_per_row(const soma_integrator *it) {
    return it->p.mode == SOMA_INTEGRATE_LINEAR ? 0 : (int64_t)it->nblk * it->P;
}

/* Scratch layout: [G (nblk·P) | x² (in_dim) | the x²-part of dx (in_dim)]. Linear integration
 * needs none of it; only modes with x²-blocks (bilinear) need the last two. */
int64_t soma_integrator_scratch_per_row(const soma_integrator *it, int64_t in_dim) {
    if (it->p.mode == SOMA_INTEGRATE_LINEAR) return 0;
    return (int64_t)it->nblk * it->P + (it->nblk_x < it->nblk ? 2 * in_dim : 0);
}

/* Block b of E as contiguous segments: segment j is E[e0 + j·estep : +len], made from
 * params[p0 + j·pstep : +len]. */
typedef struct segs {
    int64_t n, len, e0, estep, p0, pstep;
} segs;

static segs segs_of(const soma_integrator *it, int64_t S, int b, int64_t src) {
    if (it->op->in_major) return (segs){it->K, it->N, (int64_t)b * it->N, S, src, it->N};
    return (segs){1, it->N * it->K, (int64_t)b * it->N * it->K, 0, src, 0};
}

/* E_block = f(p). Branch-free selects, so that the loops vectorise (W's signs are random). */
SOMA_HOT static void prepare_block(int f, float *E, const float *params, segs sg) {
    for (int64_t j = 0; j < sg.n; j++) {
        float *restrict e = E + sg.e0 + j * sg.estep;
        const float *restrict p = params + sg.p0 + j * sg.pstep;
        const int64_t n = sg.len;
        switch (f) {
        case F_COPY: for (int64_t i = 0; i < n; i++) e[i] = p[i]; break;
        case F_SQUARE: for (int64_t i = 0; i < n; i++) e[i] = p[i] * p[i]; break;
        case F_POS: for (int64_t i = 0; i < n; i++) e[i] = p[i] > 0 ? p[i] : 0.0f; break;
        case F_NEG: for (int64_t i = 0; i < n; i++) e[i] = p[i] < 0 ? p[i] : 0.0f; break;
        }
    }
}

/* ∂p += f′(p)·∂E_block. */
SOMA_HOT static void finish_block(int f, float *dparams, const float *dE, const float *params, segs sg) {
    for (int64_t j = 0; j < sg.n; j++) {
        float *restrict d = dparams + sg.p0 + j * sg.pstep;
        const float *restrict e = dE + sg.e0 + j * sg.estep, *restrict p = params + sg.p0 + j * sg.pstep;
        const int64_t n = sg.len;
        switch (f) {
        case F_COPY: for (int64_t i = 0; i < n; i++) d[i] += e[i]; break;
        case F_SQUARE: for (int64_t i = 0; i < n; i++) d[i] += 2.0f * p[i] * e[i]; break;
        case F_POS: for (int64_t i = 0; i < n; i++) d[i] += p[i] > 0 ? e[i] : 0.0f; break;
        case F_NEG: for (int64_t i = 0; i < n; i++) d[i] += p[i] < 0 ? e[i] : 0.0f; break;
        }
    }
}

void soma_integrator_prepare(const soma_integrator *it, float *E, const float *params) {
    int64_t src[MAX_BLK];
    int fn[MAX_BLK];
    int nb = block_table(it, src, fn);
    const int64_t S = (int64_t)nb * it->N;
    for (int b = 0; b < nb; b++) prepare_block(fn[b], E, params, segs_of(it, S, b, src[b]));
}

void soma_integrator_finish(const soma_integrator *it, float *dparams, const float *gws,
                            const float *params) {
    int64_t src[MAX_BLK];
    int fn[MAX_BLK];
    int nb = block_table(it, src, fn);
    const int64_t S = (int64_t)nb * it->N;
    const float *dE = gws + it->gE;
    memset(dparams, 0, (size_t)it->n_params * sizeof *dparams);
    for (int b = 0; b < nb; b++) finish_block(fn[b], dparams, dE, params, segs_of(it, S, b, src[b]));
    /* Ablation ab3 keeps λ fixed: it stays a parameter (so checkpoints hold it) with zero grad. */
    bool lam_fixed = it->p.mode == SOMA_INTEGRATE_BILINEAR && it->p.ablation == SOMA_ABLATION_AB3;
    for (int64_t i = 0; i < it->nlam; i++) dparams[it->olam + i] = lam_fixed ? 0.0f : gws[it->glam + i];
    if (it->oa >= 0) dparams[it->oa] = gws[it->ga];
    for (int64_t i = 0; i < it->N; i++) dparams[it->ob + i] = gws[it->gb + i];
}

SOMA_HOT static void add_bias(const soma_integrator *it, float *cur, const float *b, int64_t rows) {
    const int64_t N = it->N, in = it->inner;
    if (in == 1) { /* dense operators: vectorised across channels (the same additions) */
        for (int64_t r = 0; r < rows; r++) {
            float *restrict y = cur + r * N;
            for (int64_t c = 0; c < N; c++) y[c] += b[c];
        }
        return;
    }
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < N; c++) {
            float *restrict y = cur + r * it->P + c * in;
            for (int64_t s = 0; s < in; s++) y[s] += b[c];
        }
}

void soma_integrator_forward(const soma_integrator *it, float *cur, float *Y, const float *x,
                             const soma_spikes *sx, const float *E, const float *params,
                             float *scratch, int64_t rows) {
    const soma_synop *op = it->op;
    const int64_t N = it->N, S = it->nblk * N;
    if (it->p.mode == SOMA_INTEGRATE_LINEAR) {
        op->ops->forward(op, cur, x, sx, E, N, 0, N, rows);
        add_bias(it, cur, params + it->ob, rows);
        return;
    }
    if (sx || it->x_binary || it->nblk_x == it->nblk) {
        op->ops->forward(op, Y, x, sx, E, S, 0, S, rows); /* binary x: x² = x */
    } else {
        op->ops->forward(op, Y, x, NULL, E, S, 0, it->nblk_x * N, rows);
        const int64_t n = rows * op->in_dim;
        float *x2 = scratch + rows * it->nblk * it->P;
        for (int64_t i = 0; i < n; i++) x2[i] = x[i] * x[i];
        op->ops->forward(op, Y, x2, NULL, E, S, it->nblk_x * N, (it->nblk - it->nblk_x) * N, rows);
    }
    soma_integrator_combine(it, cur, Y, params, rows);
}

soma_integrator soma_integrator_pointwise(const soma_integrator *it, int64_t ystride) {
    soma_integrator v = *it;
    v.inner = 1, v.P = it->N, v.ystride = ystride;
    return v;
}

void soma_integrator_combine(const soma_integrator *it, float *cur, float *Y, const float *params,
                             int64_t rows) {
    if (it->p.mode == SOMA_INTEGRATE_BILINEAR) soma_bilinear_combine(it, cur, Y, params, rows);
    else if (it->p.mode == SOMA_INTEGRATE_SHUNTING) soma_shunting_forward(it, cur, Y, params, rows);
}

void soma_integrator_grad(const soma_integrator *it, float *G, float *gws, const float *g,
                          const float *Y, const float *params, int64_t rows) {
    const int64_t N = it->N, in = it->inner;
    /* ∂b = Σ_rows,positions g */
    float *restrict db = gws + it->gb;
    if (in == 1) { /* dense operators: the same sums, vectorised across channels */
        for (int64_t r = 0; r < rows; r++) {
            const float *restrict gr = g + r * it->P;
            for (int64_t c = 0; c < N; c++) db[c] += 0.0f + gr[c];
        }
    } else { /* conv: sums over positions in 16 lanes (one chain of dependent adds was a
              * twentieth of a conv net's training time), added up in a fixed order */
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < N; c++) {
                const float *restrict gr = g + r * it->P + c * in;
                float lane[16] = {0};
                int64_t s = 0;
                for (; s + 16 <= in; s += 16)
                    for (int k = 0; k < 16; k++) lane[k] += gr[s + k];
                for (; s < in; s++) lane[s & 15] += gr[s];
                float acc = 0;
                for (int k = 0; k < 16; k++) acc += lane[k];
                db[c] += acc;
            }
    }
    if (it->p.mode == SOMA_INTEGRATE_BILINEAR) soma_bilinear_grad(it, G, gws, g, Y, params, rows);
    else if (it->p.mode == SOMA_INTEGRATE_SHUNTING) soma_shunting_grad(it, G, gws, g, Y, params, rows);
}

void soma_integrator_backward(const soma_integrator *it, float *dx, float *gws, const float *g,
                              const float *Y, const float *x, const soma_spikes *sx,
                              const float *E, const float *params, float *scratch,
                              int64_t rows) {
    const soma_synop *op = it->op;
    const int64_t N = it->N, S = it->nblk * N, M = op->in_dim;
    soma_integrator_grad(it, scratch, gws, g, Y, params, rows); /* ∂b; G (nonlinear modes) */
    if (it->p.mode == SOMA_INTEGRATE_LINEAR) {
        op->ops->backward_weight(op, gws + it->gE, g, x, sx, N, 0, N, rows);
        if (dx) op->ops->backward_input(op, dx, g, E, N, 0, N, rows, 0.0f);
        return;
    }
    float *G = scratch, *x2 = G + rows * it->nblk * it->P, *dx2 = x2 + rows * M;
    const int64_t nx = (int64_t)it->nblk_x * N;
    if (sx || it->x_binary || it->nblk_x == it->nblk) {
        op->ops->backward_weight(op, gws + it->gE, G, x, sx, S, 0, S, rows);
    } else {
        op->ops->backward_weight(op, gws + it->gE, G, x, NULL, S, 0, nx, rows);
        for (int64_t i = 0; i < rows * M; i++) x2[i] = x[i] * x[i];
        op->ops->backward_weight(op, gws + it->gE, G, x2, NULL, S, nx, S - nx, rows);
    }
    if (dx) {
        /* dx = A_{x-blocks}ᵀ(G) + 2x ⊙ A_{x²-blocks}ᵀ(G) */
        op->ops->backward_input(op, dx, G, E, S, 0, nx, rows, 0.0f);
        if (nx < S) {
            op->ops->backward_input(op, dx2, G, E, S, nx, S - nx, rows, 0.0f);
            for (int64_t i = 0; i < rows * M; i++) dx[i] += 2.0f * x[i] * dx2[i];
        }
    }
}
