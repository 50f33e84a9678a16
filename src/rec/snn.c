/*
 * rec/snn.c — the ranking SNN: sparse features → spiking layers over T steps → readout → score.
 *
 *   layer 1   i = A(x) through the sparse operator (synapse/sparse.c) and the configured
 *             integration mode (src/integrate/, not re-implemented here: linear, bilinear or
 *             shunting); direct input, so the current is computed once and fed every step
 *   layer l   the same integration mode over a dense operator on layer l − 1's spikes
 *   dynamics  soma_neuron_forward/backward (LIF etc.), fused over T
 *   readout   RATE      z_n = (1/T)·Σ_t s_t,n,  score = b + Σ_n a_n·z_n
 *             MEMBRANE  a non-spiking leaky neuron with i_t = b + Σ_n a_n·s_t,n,
 *                       score = (1/T)·Σ_t h_t
 *   score    += w0 + Σ_k w_k·x_k   when first_order is on (FM's linear part)
 *
 * Backward: the readout's gradient goes into the last layer's spikes, BPTT (surrogate) gives
 * ∂L/∂i_t, and for layer 1 the step gradients are summed over t (the current is the same at
 * every step) before one pass of the integrator's backward over the batch's rows.
 *
 * Parameters (flat): [layer 1 integrator | layers 2.. | a (width) | b | w0 | w (K)].
 * Initialisation (not PyTorch's fan-in rule: only ~15 of the K inputs are ever active): W and
 * a ~ N(0, init_std²), V ~ N(0, v_scale²) (shunting: shunt_scale), λ = lambda_init, and each
 * neuron's bias ~ U(1.1, 2.1)·θ·(1 − α): a constant current i reaches the threshold only if
 * i/(1 − α) > θ, so this spreads the neurons from firing every few steps to every step (LIF
 * α = 0.5: i ∈ [0.55, 1.05]); with smaller biases most neurons start silent and stay so.
 */
#include "rec/rec_internal.h"

#include <math.h>
#include <string.h>

static float charge_gain(const soma_neuron_params *p) {
    /* steady-state membrane per unit of constant current: 1/(1 − a) (IF: treat as T) */
    float a, c, d;
    soma_neuron_coeffs(p, 0.0f, &a, &c, &d);
    return a < 1.0f ? c / (1.0f - a) : 4.0f;
}

static int snn_layout(soma_rec_model *m, soma_error *err) {
    const soma_rec_config *c = &m->cfg;
    m->np = c->neuron;
    m->np.spiking = true;
    m->np_out = c->neuron;
    m->np_out.spiking = false;
    m->np_out.smooth_forward = false;
    int64_t po = 0, Eo = 0, go = 0;
    for (int l = 0; l < c->depth; l++) {
        rec_snn_layer *ly = &m->layer[l];
        ly->in = l == 0 ? m->L.K : c->width;
        ly->n = c->width;
        ly->op = l == 0 ? soma_sparse_create(m->L.K, m->L.cap) : soma_dense_create(c->width);
        if (!ly->op) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a synaptic operator");
        m->nl = l + 1;
        int rc = soma_integrator_init(&ly->it, ly->op, c->width, &c->integrate, err);
        if (rc) return rc;
        ly->po = po, ly->Eo = Eo, ly->go = go;
        po += ly->it.n_params;
        Eo += soma_integrator_E_size(&ly->it);
        go += ly->it.n_gws;
    }
    m->o_ra = po, po += c->width;
    m->o_rb = po, po += 1;
    m->o_w0 = m->o_w = -1;
    if (c->first_order) {
        m->o_w0 = po, po += 1;
        m->o_w = po, po += m->L.K;
    }
    m->o_v = -1;
    m->n_params = po, m->n_E = Eo, m->n_gws = go;
    return SOMA_OK;
}

static int snn_feature_rows(const soma_rec_model *m, int64_t k, int64_t *off, int64_t *len) {
    const soma_integrator *it = &m->layer[0].it;
    const int64_t N = it->N, NK = N * it->K, po = m->layer[0].po;
    int n = 0;
    if (it->oW >= 0) off[n] = po + it->oW + k * N, len[n++] = N;
    if (it->oW2 >= 0) off[n] = po + it->oW2 + k * N, len[n++] = N;
    if (it->oV >= 0) {
        int nv = it->p.mode == SOMA_INTEGRATE_SHUNTING ? 1 : it->R;
        for (int f = 0; f < nv && n < 6; f++) off[n] = po + it->oV + f * NK + k * N, len[n++] = N;
    }
    if (it->oV2 >= 0) off[n] = po + it->oV2 + k * N, len[n++] = N;
    if (m->o_w >= 0) off[n] = m->o_w + k, len[n++] = 1;
    return n;
}

/* Zeroes the rows of the spare id slots, so users and movies added later start neutral. */
static void zero_spares(soma_rec_model *m) {
    const rec_layout *L = &m->L;
    int64_t off[8], len[8];
    for (int f = 0; f < 2; f++) {
        const int fld = f ? SOMA_REC_F_MOVIE : SOMA_REC_F_USER;
        const int64_t first = f ? m->n_movies : m->n_users;
        for (int64_t s = first; s < L->size[fld]; s++) {
            int n = m->ops->feature_rows(m, L->off[fld] + s, off, len);
            for (int i = 0; i < n; i++) memset(m->params + off[i], 0, (size_t)len[i] * sizeof(float));
        }
    }
}

static void snn_init_params(soma_rec_model *m, soma_rng *rng) {
    const soma_rec_config *c = &m->cfg;
    const float gain = charge_gain(&m->np), theta = m->np.theta;
    for (int l = 0; l < m->nl; l++) {
        const rec_snn_layer *ly = &m->layer[l];
        const soma_integrator *it = &ly->it;
        float *p = m->params + ly->po;
        soma_integrator_init_params(it, p, rng); /* λ, a, and the layout; W, V redrawn for layer 1 */
        const int64_t NK = it->N * it->K;
        if (l == 0) {
            for (int64_t i = 0; i < NK; i++) {
                if (it->oW >= 0) p[it->oW + i] = c->init_std * soma_rng_normal(rng);
                if (it->oW2 >= 0) p[it->oW2 + i] = c->init_std * soma_rng_normal(rng);
            }
            if (it->oV >= 0) {
                bool sh = it->p.mode == SOMA_INTEGRATE_SHUNTING;
                float sd = sh ? it->p.shunt_scale : it->p.v_scale;
                int64_t nv = sh ? NK : it->R * NK;
                for (int64_t i = 0; i < nv; i++) p[it->oV + i] = sd * soma_rng_normal(rng);
                if (it->oV2 >= 0)
                    for (int64_t i = 0; i < NK; i++) p[it->oV2 + i] = sd * soma_rng_normal(rng);
            }
        }
        for (int64_t n = 0; n < it->N; n++) p[it->ob + n] = theta * (1.1f + soma_rng_uniform(rng)) / gain;
    }
    for (int n = 0; n < c->width; n++) m->params[m->o_ra + n] = c->init_std * soma_rng_normal(rng);
    m->params[m->o_rb] = 0.0f;
    if (m->o_w0 >= 0) m->params[m->o_w0] = 0.0f;
    zero_spares(m);
}

static void snn_prepare(soma_rec_model *m) {
    for (int l = 0; l < m->nl; l++)
        soma_integrator_prepare(&m->layer[l].it, m->E + m->layer[l].Eo, m->params + m->layer[l].po);
}

void rec_ws_free(rec_ws *ws) {
    if (!ws) return;
    if (ws->op0) ws->op0->ops->free(ws->op0);
    for (int l = 0; l < REC_MAX_LAYERS; l++) {
        soma_free(ws->Y[l]);
        soma_free(ws->out[l]);
        soma_free(ws->mem[l]);
    }
    soma_free(ws->cur);
    soma_free(ws->dcur);
    soma_free(ws->dout);
    soma_free(ws->dx);
    soma_free(ws->u);
    soma_free(ws->scratch);
    soma_free(ws->gws);
    soma_free(ws->z);
    soma_free(ws->rcur);
    soma_free(ws->rmem);
    soma_free(ws->rout);
    soma_free(ws->rd);
    soma_free(ws->fo);
    soma_free(ws->mask);
    soma_free(ws->p);
    soma_free(ws->q);
    soma_free(ws);
}

static float *fl(int64_t n) { return soma_malloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }

static int snn_ws_create(rec_ws **out, const soma_rec_model *m, int64_t R) {
    *out = NULL;
    rec_ws *ws = soma_calloc(1, sizeof *ws);
    if (!ws) return SOMA_E_NOMEM;
    ws->max_rows = R;
    const int64_t T = m->cfg.T, N = m->cfg.width;
    ws->op0 = soma_sparse_create(m->L.K, m->L.cap);
    bool ok = ws->op0 != NULL;
    if (ok) {
        ws->it0 = m->layer[0].it;
        ws->it0.op = ws->op0;
    }
    int64_t scr = 0;
    for (int l = 0; l < m->nl && ok; l++) {
        const soma_integrator *it = &m->layer[l].it;
        const int64_t rows = l == 0 ? R : T * R, in = l == 0 ? m->L.cap : N;
        ws->Y[l] = fl(rows * soma_integrator_tape_per_row(it));
        ws->out[l] = fl(T * R * N);
        ws->mem[l] = fl(T * R * N);
        ok = ws->Y[l] && ws->out[l] && ws->mem[l];
        int64_t s = rows * soma_integrator_scratch_per_row(it, in);
        scr = s > scr ? s : scr;
    }
    ws->cur = fl(T * R * N);
    ws->dcur = fl(T * R * N);
    ws->dout = fl(T * R * N);
    ws->dx = fl(T * R * N);
    ws->u = fl(R * N);
    ws->scratch = fl(scr);
    ws->gws = fl(m->n_gws);
    ws->z = fl(R * N);
    ws->rcur = fl(T * R);
    ws->rmem = fl(T * R);
    ws->rout = fl(T * R);
    ws->rd = fl(2 * T * R);
    ws->fo = fl(R);
    ws->mask = fl(R * N);
    if (!ok || !ws->mask || !ws->cur || !ws->dcur || !ws->dout || !ws->dx || !ws->u || !ws->scratch || !ws->gws || !ws->z ||
        !ws->rcur || !ws->rmem || !ws->rout || !ws->rd || !ws->fo) {
        rec_ws_free(ws);
        return SOMA_E_NOMEM;
    }
    *out = ws;
    return SOMA_OK;
}

/* cur (rows, N) from the integration tape Y (rows, S) of layer 1: the same combine the
 * integrator's forward runs (linear: Y + b). */
void rec_snn_combine(const soma_rec_model *m, float *cur, const float *Y, int64_t rows) {
    const soma_integrator *it = &m->layer[0].it;
    const float *p = m->params + m->layer[0].po;
    switch (it->p.mode) {
    case SOMA_INTEGRATE_BILINEAR: soma_bilinear_combine(it, cur, Y, p, rows); break;
    case SOMA_INTEGRATE_SHUNTING: soma_shunting_combine(it, cur, Y, p, rows); break;
    default: {
        const int64_t N = it->N;
        const float *b = p + it->ob;
        for (int64_t r = 0; r < rows; r++) {
            float *restrict c = cur + r * N;
            const float *restrict y = Y + r * N;
            for (int64_t n = 0; n < N; n++) c[n] = y[n];
            for (int64_t n = 0; n < N; n++) c[n] += b[n];
        }
    }
    }
}

/* score[r] = Σ_n a_n·z[r, n], summed in n order for each row (8 rows at a time for ILP; the
 * order within a row, hence the result, is that of the plain loop). */
static inline void dot_rows(float *restrict out, const float *restrict z, const float *restrict a, int64_t R, int64_t N) {
    int64_t r = 0;
    for (; r + 8 <= R; r += 8) {
        float acc[8] = {0};
        for (int64_t n = 0; n < N; n++)
            for (int j = 0; j < 8; j++) acc[j] += a[n] * z[(r + j) * N + n];
        for (int j = 0; j < 8; j++) out[r + j] = acc[j];
    }
    for (; r < R; r++) {
        float acc = 0.0f;
        for (int64_t n = 0; n < N; n++) acc += a[n] * z[r * N + n];
        out[r] = acc;
    }
}

/* From layer 1's current cur0 (rows, N) to the scores. cur0 may be ws->cur; it is read at
 * every step (direct input: the same current each step), never copied T times. */
SOMA_HOT void rec_snn_from_current(const soma_rec_model *m, rec_ws *ws, const float *cur0, int64_t R,
                                   const float *fo, float *scores) {
    const int T = m->cfg.T;
    const int64_t N = m->cfg.width, RN = R * N;
    for (int64_t i = 0; i < RN; i++) ws->u[i] = 0.0f;
    for (int t = 0; t < T; t++)
        soma_neuron_step_forward(ws->out[0] + t * RN, ws->mem[0] + t * RN, cur0, ws->u, RN, &m->np, 0.0f);
    for (int l = 1; l < m->nl; l++) {
        const rec_snn_layer *ly = &m->layer[l];
        soma_integrator_forward(&ly->it, ws->cur, ws->Y[l], ws->out[l - 1], NULL, m->E + ly->Eo,
                                m->params + ly->po, ws->scratch, (int64_t)T * R);
        soma_neuron_forward(ws->out[l], ws->mem[l], ws->cur, ws->u, T, RN, &m->np, 0.0f);
    }
    const float *s = ws->out[m->nl - 1], *a = m->params + m->o_ra, b = m->params[m->o_rb];
    const float w0 = m->o_w0 >= 0 ? m->params[m->o_w0] : 0.0f;
    const bool drop = ws->train && m->cfg.dropout > 0;
    if (drop) {
        /* inverted dropout of the last layer's neurons, one mask per sample for all steps */
        const float p = m->cfg.dropout, keep = 1.0f / (1.0f - p);
        for (int64_t i = 0; i < RN; i++) ws->mask[i] = soma_u01(soma_hash3(ws->drop_seed, (uint64_t)i, 0)) >= p ? keep : 0.0f;
    }
    if (m->cfg.readout == SOMA_READOUT_RATE) {
        /* z = (1/T)·Σ_t s_t (⊙ mask), score = b + a·z */
        const float inv = 1.0f / (float)T;
        float *restrict z = ws->z;
        for (int64_t i = 0; i < RN; i++) z[i] = s[i];
        for (int t = 1; t < T; t++)
            for (int64_t i = 0; i < RN; i++) z[i] += s[t * RN + i];
        for (int64_t i = 0; i < RN; i++) z[i] *= inv;
        if (drop)
            for (int64_t i = 0; i < RN; i++) z[i] *= ws->mask[i];
        dot_rows(scores, z, a, R, N);
        for (int64_t r = 0; r < R; r++) scores[r] = b + scores[r] + (fo ? w0 + fo[r] : 0.0f);
    } else {
        for (int t = 0; t < T; t++) {
            const float *st = s + t * RN;
            if (drop) { /* the masked spikes go through ws->dx, free until backward */
                for (int64_t i = 0; i < RN; i++) ws->dx[i] = st[i] * ws->mask[i];
                st = ws->dx;
            }
            dot_rows(ws->rcur + t * R, st, a, R, N);
            for (int64_t r = 0; r < R; r++) ws->rcur[t * R + r] = b + ws->rcur[t * R + r];
        }
        soma_neuron_forward(ws->rout, ws->rmem, ws->rcur, ws->u, T, R, &m->np_out, 0.0f);
        for (int64_t r = 0; r < R; r++) {
            float acc = 0.0f;
            for (int t = 0; t < T; t++) acc += ws->rout[t * R + r];
            scores[r] = acc / (float)T + (fo ? w0 + fo[r] : 0.0f);
        }
    }
}

static void snn_forward(const soma_rec_model *m, rec_ws *ws, const rec_batch *bt, float *scores) {
    const int64_t R = bt->rows;
    soma_sparse_rows in = {bt->id, bt->nnz};
    soma_sparse_bind(ws->op0, &in);
    soma_integrator_forward(&ws->it0, ws->cur, ws->Y[0], bt->x, NULL, m->E + m->layer[0].Eo,
                            m->params + m->layer[0].po, ws->scratch, R);
    if (m->o_w >= 0)
        for (int64_t r = 0; r < R; r++)
            ws->fo[r] = rec_first_order(m->params + m->o_w, bt->id + r * bt->cap, bt->x + r * bt->cap, bt->nnz[r], 0.0f);
    rec_snn_from_current(m, ws, ws->cur, R, m->o_w >= 0 ? ws->fo : NULL, scores);
}

static void snn_backward(const soma_rec_model *m, rec_ws *ws, const rec_batch *bt,
                         const float *ds, float *grads) {
    const int T = m->cfg.T;
    const int64_t R = bt->rows, N = m->cfg.width, RN = R * N;
    memset(grads, 0, (size_t)m->n_params * sizeof *grads);
    memset(ws->gws, 0, (size_t)m->n_gws * sizeof *ws->gws);
    const float *s = ws->out[m->nl - 1], *a = m->params + m->o_ra;
    float *da = grads + m->o_ra, *dout = ws->dout;
    const bool drop = ws->train && m->cfg.dropout > 0;
    double db = 0;
    /* readout (z already holds the mask) */
    if (m->cfg.readout == SOMA_READOUT_RATE) {
        const float inv = 1.0f / (float)T;
        for (int64_t r = 0; r < R; r++) {
            const float *z = ws->z + r * N, *mk = ws->mask + r * N;
            for (int64_t n = 0; n < N; n++) da[n] += ds[r] * z[n];
            db += ds[r];
            for (int t = 0; t < T; t++)
                for (int64_t n = 0; n < N; n++) dout[t * RN + r * N + n] = ds[r] * a[n] * inv * (drop ? mk[n] : 1.0f);
        }
    } else {
        float *dh = ws->rd, *di = ws->rd + (int64_t)T * R;
        for (int t = 0; t < T; t++)
            for (int64_t r = 0; r < R; r++) dh[t * R + r] = ds[r] / (float)T;
        soma_neuron_backward(di, dh, ws->rmem, ws->rout, ws->u, T, R, &m->np_out, 0.0f);
        for (int t = 0; t < T; t++)
            for (int64_t r = 0; r < R; r++) {
                const float g = di[t * R + r];
                const float *st = s + t * RN + r * N, *mk = ws->mask + r * N;
                db += g;
                for (int64_t n = 0; n < N; n++) {
                    const float k = drop ? mk[n] : 1.0f;
                    da[n] += g * st[n] * k;
                    dout[t * RN + r * N + n] = g * a[n] * k;
                }
            }
    }
    grads[m->o_rb] = (float)db;
    /* layers, top down: BPTT, then the integrator's backward */
    for (int l = m->nl - 1; l >= 0; l--) {
        const rec_snn_layer *ly = &m->layer[l];
        soma_neuron_backward(ws->dcur, dout, ws->mem[l], ws->out[l], ws->u, T, RN, &m->np, 0.0f);
        if (l > 0) {
            soma_integrator_backward(&ly->it, ws->dx, ws->gws + ly->go, ws->dcur, ws->Y[l], ws->out[l - 1], NULL,
                                     m->E + ly->Eo, m->params + ly->po, ws->scratch, (int64_t)T * R);
            float *t = ws->dx;
            ws->dx = dout, dout = t; /* ∂L/∂(layer l − 1's spikes) */
        } else {
            /* the current is the same at every step: ∂L/∂i = Σ_t ∂L/∂i_t */
            for (int t = 1; t < T; t++)
                for (int64_t i = 0; i < RN; i++) ws->dcur[i] += ws->dcur[t * RN + i];
            soma_sparse_rows in = {bt->id, bt->nnz};
            soma_sparse_bind(ws->op0, &in);
            soma_integrator_backward(&ws->it0, NULL, ws->gws + ly->go, ws->dcur, ws->Y[0], bt->x, NULL,
                                     m->E + ly->Eo, m->params + ly->po, ws->scratch, R);
        }
    }
    ws->dout = dout;
    for (int l = 0; l < m->nl; l++)
        soma_integrator_finish(&m->layer[l].it, grads + m->layer[l].po, ws->gws + m->layer[l].go, m->params + m->layer[l].po);
    if (m->o_w >= 0) {
        double dw0 = 0;
        float *dw = grads + m->o_w;
        for (int64_t r = 0; r < R; r++) {
            dw0 += ds[r];
            for (int j = 0; j < bt->nnz[r]; j++) dw[bt->id[r * bt->cap + j]] += ds[r] * bt->x[r * bt->cap + j];
        }
        grads[m->o_w0] = (float)dw0;
    }
}

static void snn_ws_free(rec_ws *ws) { rec_ws_free(ws); }

const rec_kind_ops rec_snn_ops = {
    .name = "snn",
    .layout = snn_layout,
    .init_params = snn_init_params,
    .prepare = snn_prepare,
    .ws_create = snn_ws_create,
    .ws_free = snn_ws_free,
    .forward = snn_forward,
    .backward = snn_backward,
    .feature_rows = snn_feature_rows,
};
