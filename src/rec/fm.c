/*
 * rec/fm.c — the non-spiking baselines: the factorisation machine (Rendle 2010), the bias
 * model (the FM with no factors over the user and movie id fields: μ + b_user + b_movie) and
 * most-popular.
 *
 *   FM   s = w0 + Σ_k w_k x_k + ½·Σ_f [(Σ_k v_kf x_k)² − Σ_k v_kf² x_k²]
 *        ∂s/∂w_k = x_k,  ∂s/∂v_kf = x_k·p_f − v_kf·x_k²   (p_f = Σ_k v_kf x_k)
 *   POP  s = the movie's number of training ratings (its parameters are those counts, so a
 *        checkpoint holds them; it is never trained).
 *
 * Sums over a row's slots run in slot order, user slots first, so serving can start from the
 * user's partial sums and get bitwise the same score.
 * Parameters (flat): [w0 | w (K) | v (K, k)]; init w = 0, v ~ N(0, init_std²) as libFM.
 */
#include "rec/rec_internal.h"

#include <string.h>

static int fm_layout(soma_rec_model *m, soma_error *err) {
    (void)err;
    m->o_w0 = 0;
    m->o_w = 1;
    m->o_v = 1 + m->L.K;
    m->n_params = 1 + m->L.K * (1 + m->cfg.fm_k);
    m->n_E = m->n_gws = 0;
    m->o_ra = m->o_rb = -1;
    return SOMA_OK;
}

static int fm_feature_rows(const soma_rec_model *m, int64_t k, int64_t *off, int64_t *len) {
    int n = 0;
    off[n] = m->o_w + k, len[n++] = 1;
    if (m->cfg.fm_k > 0) off[n] = m->o_v + k * m->cfg.fm_k, len[n++] = m->cfg.fm_k;
    return n;
}

static void fm_init_params(soma_rec_model *m, soma_rng *rng) {
    const int64_t nv = m->L.K * m->cfg.fm_k;
    for (int64_t i = 0; i < nv; i++) m->params[m->o_v + i] = m->cfg.init_std * soma_rng_normal(rng);
    /* spare id slots start at zero (neutral) */
    int64_t off[8], len[8];
    for (int f = 0; f < 2; f++) {
        const int fld = f ? SOMA_REC_F_MOVIE : SOMA_REC_F_USER;
        const int64_t first = f ? m->n_movies : m->n_users;
        for (int64_t s = first; s < m->L.size[fld]; s++) {
            int n = fm_feature_rows(m, m->L.off[fld] + s, off, len);
            for (int i = 0; i < n; i++) memset(m->params + off[i], 0, (size_t)len[i] * sizeof(float));
        }
    }
}

static int fm_ws_create(rec_ws **out, const soma_rec_model *m, int64_t R) {
    rec_ws *ws = soma_calloc(1, sizeof *ws);
    const int64_t k = m->cfg.fm_k > 0 ? m->cfg.fm_k : 1;
    if (ws) {
        ws->max_rows = R;
        ws->p = soma_malloc((size_t)(R * k) * sizeof(float));
        ws->q = soma_malloc((size_t)(R * k) * sizeof(float));
        ws->fo = soma_malloc((size_t)R * sizeof(float));
    }
    if (!ws || !ws->p || !ws->q || !ws->fo) {
        rec_ws_free(ws);
        *out = NULL;
        return SOMA_E_NOMEM;
    }
    *out = ws;
    return SOMA_OK;
}

float rec_fm_finish(const soma_rec_model *m, float fo, const float *p, const float *q) {
    float acc = 0.0f;
    for (int f = 0; f < m->cfg.fm_k; f++) acc += p[f] * p[f] - q[f];
    return m->params[m->o_w0] + fo + 0.5f * acc;
}

/* p_f += Σ_j v[id_j, f]·x_j and q_f += Σ_j v[id_j, f]²·x_j² over n slots, in slot order. */
static void fm_gather(float *restrict p, float *restrict q, const float *restrict v, int k,
                      const int32_t *id, const float *x, int64_t n) {
    for (int64_t j = 0; j < n; j++) {
        const float *restrict vr = v + (int64_t)id[j] * k;
        const float xj = x[j], x2 = x[j] * x[j];
        for (int f = 0; f < k; f++) {
            p[f] += vr[f] * xj;
            q[f] += vr[f] * vr[f] * x2;
        }
    }
}

static void fm_forward(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, float *scores) {
    const int k = m->cfg.fm_k;
    for (int64_t r = 0; r < b->rows; r++) {
        const int32_t *id = b->id + r * b->cap;
        const float *x = b->x + r * b->cap;
        float *p = ws->p + r * k, *q = ws->q + r * k;
        for (int f = 0; f < k; f++) p[f] = q[f] = 0.0f;
        fm_gather(p, q, m->params + m->o_v, k, id, x, b->nnz[r]);
        ws->fo[r] = rec_first_order(m->params + m->o_w, id, x, b->nnz[r], 0.0f);
        scores[r] = rec_fm_finish(m, ws->fo[r], p, q);
    }
}

static void fm_backward(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, const float *ds,
                        float *grads) {
    const int k = m->cfg.fm_k;
    memset(grads, 0, (size_t)m->n_params * sizeof *grads);
    double dw0 = 0;
    const float *v = m->params + m->o_v;
    float *dw = grads + m->o_w, *dv = grads + m->o_v;
    for (int64_t r = 0; r < b->rows; r++) {
        const int32_t *id = b->id + r * b->cap;
        const float *x = b->x + r * b->cap, *p = ws->p + r * k, g = ds[r];
        dw0 += g;
        for (int j = 0; j < b->nnz[r]; j++) {
            const int64_t f0 = (int64_t)id[j] * k;
            dw[id[j]] += g * x[j];
            const float xj = x[j], x2 = xj * xj;
            for (int f = 0; f < k; f++) dv[f0 + f] += g * (xj * p[f] - v[f0 + f] * x2);
        }
    }
    grads[m->o_w0] = (float)dw0;
}

const rec_kind_ops rec_fm_ops = {
    .name = "fm",
    .layout = fm_layout,
    .init_params = fm_init_params,
    .prepare = NULL,
    .ws_create = fm_ws_create,
    .ws_free = rec_ws_free,
    .forward = fm_forward,
    .backward = fm_backward,
    .feature_rows = fm_feature_rows,
};

/* ---- most popular ------------------------------------------------------------------------- */

static int pop_layout(soma_rec_model *m, soma_error *err) {
    (void)err;
    m->n_params = m->L.movie_slots > 0 ? m->L.movie_slots : 1;
    m->o_w0 = m->o_w = m->o_v = m->o_ra = m->o_rb = -1;
    return SOMA_OK;
}

static void pop_init_params(soma_rec_model *m, soma_rng *rng) { (void)m, (void)rng; }

static int pop_ws_create(rec_ws **out, const soma_rec_model *m, int64_t R) {
    (void)m;
    *out = soma_calloc(1, sizeof **out);
    if (!*out) return SOMA_E_NOMEM;
    (*out)->max_rows = R;
    return SOMA_OK;
}

static void pop_forward(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, float *scores) {
    (void)ws;
    const int64_t o = m->L.off[SOMA_REC_F_MOVIE], n = m->L.size[SOMA_REC_F_MOVIE];
    for (int64_t r = 0; r < b->rows; r++) {
        scores[r] = 0.0f;
        for (int j = 0; j < b->nnz[r]; j++) {
            int64_t k = b->id[r * b->cap + j] - o;
            if (k >= 0 && k < n) scores[r] = m->params[k];
        }
    }
}

static void pop_backward(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, const float *ds,
                         float *grads) {
    (void)ws, (void)b, (void)ds;
    memset(grads, 0, (size_t)m->n_params * sizeof *grads);
}

static int pop_feature_rows(const soma_rec_model *m, int64_t k, int64_t *off, int64_t *len) {
    (void)m, (void)k, (void)off, (void)len;
    return 0;
}

const rec_kind_ops rec_pop_ops = {
    .name = "pop",
    .layout = pop_layout,
    .init_params = pop_init_params,
    .prepare = NULL,
    .ws_create = pop_ws_create,
    .ws_free = rec_ws_free,
    .forward = pop_forward,
    .backward = pop_backward,
    .feature_rows = pop_feature_rows,
};
