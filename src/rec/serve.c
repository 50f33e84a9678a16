/*
 * rec/serve.c — scoring one user against the whole catalogue, and top-K recommendation.
 *
 * The user's features come first in every row, so their part of layer 1's products is a
 * prefix sum computed once per call: Y_u = Σ_{user slots} x·E (and x²·E for the blocks that
 * see x², bilinear's (V²)·x²). Each movie then adds its own few slots to a copy of Y_u
 * (soma_sparse_gather_add, the operator's own loop, so the sums are bitwise those of the
 * training forward pass), and blocks of movies go through the integration mode's combine, the
 * neuron dynamics and the readout exactly as in training (rec_snn_from_current). The FM does
 * the same with its factor sums p, q. A min-heap keeps the best k; excluded movies are skipped
 * through a bit set. Nothing is allocated per call unless the catalogue has grown.
 *
 * With the RATED field the user's prefix holds the whole rated set N; a movie of N is encoded
 * with N \ {movie} (so the pair looks like an unrated candidate), so its row is computed from
 * scratch instead; soma_rec_recommend skips those it excludes (the usual case: the user's own
 * ratings), so top-k costs the same as without the field plus the user's prefix once.
 */
#include "rec/rec_internal.h"

#include <string.h>

#define BLOCK 64 /* movies per block: the block's (T, BLOCK, N) state stays in L2 */

struct soma_rec_scorer {
    const soma_rec_model *m;
    rec_ws *ws;
    float *Yu, *Y;            /* (S) user part; (BLOCK, S) movie rows */
    float *fo;                /* (BLOCK) first-order sums */
    float *pu, *qu;           /* FM: (k) user part */
    int32_t *uid, *rid;       /* (max_user_nnz) the user's slots; (cap) one full row */
    float *ux, *rx;
    float *scores;            /* (cap) */
    uint64_t *excl;           /* (cap/64) */
    int32_t cap;
};

void soma_rec_scorer_free(soma_rec_scorer *s) {
    if (!s) return;
    if (s->ws) s->m->ops->ws_free(s->ws);
    soma_free(s->Yu);
    soma_free(s->Y);
    soma_free(s->fo);
    soma_free(s->pu);
    soma_free(s->qu);
    soma_free(s->scores);
    soma_free(s->excl);
    soma_free(s->uid), soma_free(s->ux), soma_free(s->rid), soma_free(s->rx);
    soma_free(s);
}

static int64_t S0(const soma_rec_model *m) { return (int64_t)m->layer[0].it.nblk * m->layer[0].it.N; }

int soma_rec_scorer_create(soma_rec_scorer **out, const soma_rec_model *m, soma_error *err) {
    if (!out || !m) return soma_fail(err, SOMA_E_ARG, "soma_rec_scorer_create: NULL argument");
    *out = NULL;
    soma_rec_scorer *s = soma_calloc(1, sizeof *s);
    if (!s) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    s->m = m;
    const int64_t S = m->cfg.kind == SOMA_REC_SNN ? S0(m) : 1, k = m->cfg.fm_k > 0 ? m->cfg.fm_k : 1;
    bool ok = m->ops->ws_create(&s->ws, m, BLOCK) == SOMA_OK;
    s->Yu = soma_malloc((size_t)S * sizeof(float));
    s->Y = soma_malloc((size_t)(BLOCK * S) * sizeof(float));
    s->fo = soma_malloc(BLOCK * sizeof(float));
    s->pu = soma_malloc((size_t)k * sizeof(float));
    s->qu = soma_malloc((size_t)k * sizeof(float));
    const size_t nu = (size_t)(m->L.max_user_nnz > 0 ? m->L.max_user_nnz : 1), nr = (size_t)m->L.cap;
    s->uid = soma_malloc(nu * sizeof *s->uid), s->ux = soma_malloc(nu * sizeof *s->ux);
    s->rid = soma_malloc(nr * sizeof *s->rid), s->rx = soma_malloc(nr * sizeof *s->rx);
    if (!ok || !s->Yu || !s->Y || !s->fo || !s->pu || !s->qu || !s->uid || !s->ux || !s->rid || !s->rx) {
        soma_rec_scorer_free(s);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a scorer");
    }
    *out = s;
    return SOMA_OK;
}

/* Sizes the per-catalogue buffers (only allocation: when the catalogue has grown). */
static int fit(soma_rec_scorer *s, soma_error *err) {
    const int32_t n = s->m->n_movies;
    if (n <= s->cap) return SOMA_OK;
    const int32_t cap = n + n / 4 + 64;
    float *sc = soma_malloc((size_t)cap * sizeof *sc);
    uint64_t *ex = soma_calloc(((size_t)cap + 63) / 64, sizeof *ex);
    if (!sc || !ex) {
        soma_free(sc), soma_free(ex);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory sizing a scorer for %d movies", n);
    }
    soma_free(s->scores), soma_free(s->excl);
    s->scores = sc, s->excl = ex, s->cap = cap;
    return SOMA_OK;
}

/* The full row of (u, movie slot mv) into s->rid/rx, as the batch encodes it: the user's rated
 * set without mv. Used for the movies of the user's rated set, whose rows are not the shared
 * user prefix + their own features. */
static int full_row(soma_rec_scorer *s, const soma_rec_user_desc *u, int32_t mv) {
    const soma_rec_model *m = s->m;
    const int mn = m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1;
    int n = rec_encode_user(m, u, mv, s->rid, s->rx);
    for (int j = 0; j < m->mv_n[mv]; j++) s->rid[n + j] = m->mv_id[(int64_t)mv * mn + j], s->rx[n + j] = m->mv_x[(int64_t)mv * mn + j];
    return n + m->mv_n[mv];
}

/* Whether movie mv is in the (ascending) rated set, advancing the cursor *ri; a rated movie
 * that is also excluded (bit set in skip) gets no score at all (soma_rec_recommend never
 * returns it), so a heavy rater does not pay a full row per rated movie. */
static inline int rated_state(const int32_t *rated, int32_t n_rated, int32_t *ri, int32_t mv, const uint64_t *skip) {
    while (*ri < n_rated && rated[*ri] < mv) (*ri)++;
    if (*ri >= n_rated || rated[*ri] != mv) return 0;
    return skip && (skip[mv >> 6] >> (mv & 63) & 1u) ? 2 : 1;
}

static void score_snn(soma_rec_scorer *s, const soma_rec_user_desc *u, const int32_t *uid, const float *ux, int nu,
                      const int32_t *rated, int32_t n_rated, const uint64_t *skip, float *scores) {
    const soma_rec_model *m = s->m;
    const soma_integrator *it = &m->layer[0].it;
    const int64_t S = S0(m), nx = (int64_t)it->nblk_x * it->N;
    const float *E = m->E + m->layer[0].Eo;
    const bool fo_on = m->o_w >= 0;
    const float *w = fo_on ? m->params + m->o_w : NULL;
    const int mn = m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1;
    /* the user's part: the operator's sum over the user's slots (blocks [nx, S) see x²) */
    memset(s->Yu, 0, (size_t)S * sizeof(float));
    soma_sparse_gather_add(s->Yu, E, S, uid, ux, nu, nx, false);
    if (nx < S) soma_sparse_gather_add(s->Yu + nx, E + nx, S, uid, ux, nu, S - nx, true);
    const float fo_u = fo_on ? rec_first_order(w, uid, ux, nu, 0.0f) : 0.0f;
    int32_t ri = 0; /* next entry of the (ascending) rated set */
    for (int32_t first = 0; first < m->n_movies; first += BLOCK) {
        const int32_t rows = first + BLOCK <= m->n_movies ? BLOCK : m->n_movies - first;
        for (int32_t i = 0; i < rows; i++) {
            const int32_t mv = first + i;
            float *y = s->Y + (int64_t)i * S;
            const int st = rated_state(rated, n_rated, &ri, mv, skip);
            if (st == 2) { /* excluded: any row will do, its score is never used */
                memcpy(y, s->Yu, (size_t)S * sizeof(float));
                if (fo_on) s->fo[i] = fo_u;
                continue;
            }
            if (st == 1) { /* a rated movie: its own row from scratch */
                const int n = full_row(s, u, mv);
                memset(y, 0, (size_t)S * sizeof(float));
                soma_sparse_gather_add(y, E, S, s->rid, s->rx, n, nx, false);
                if (nx < S) soma_sparse_gather_add(y + nx, E + nx, S, s->rid, s->rx, n, S - nx, true);
                if (fo_on) s->fo[i] = rec_first_order(w, s->rid, s->rx, n, 0.0f);
                continue;
            }
            const int32_t *id = m->mv_id + (int64_t)mv * mn;
            const float *x = m->mv_x + (int64_t)mv * mn;
            const int n = m->mv_n[mv];
            memcpy(y, s->Yu, (size_t)S * sizeof(float));
            soma_sparse_gather_add(y, E, S, id, x, n, nx, false);
            if (nx < S) soma_sparse_gather_add(y + nx, E + nx, S, id, x, n, S - nx, true);
            if (fo_on) s->fo[i] = rec_first_order(w, id, x, n, fo_u);
        }
        rec_snn_combine(m, s->ws->cur, s->Y, rows);
        rec_snn_from_current(m, s->ws, s->ws->cur, rows, fo_on ? s->fo : NULL, scores + first);
    }
}

static void score_fm(soma_rec_scorer *s, const soma_rec_user_desc *u, const int32_t *uid, const float *ux, int nu,
                     const int32_t *rated, int32_t n_rated, const uint64_t *skip, float *scores) {
    const soma_rec_model *m = s->m;
    const int k = m->cfg.fm_k, mn = m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1;
    const float *v = m->params + m->o_v, *w = m->params + m->o_w;
    float p[1024], q[1024];
    for (int f = 0; f < k; f++) s->pu[f] = s->qu[f] = 0.0f;
    for (int j = 0; j < nu; j++) {
        const float *vr = v + (int64_t)uid[j] * k;
        const float xj = ux[j], x2 = ux[j] * ux[j];
        for (int f = 0; f < k; f++) s->pu[f] += vr[f] * xj, s->qu[f] += vr[f] * vr[f] * x2;
    }
    const float fo_u = rec_first_order(w, uid, ux, nu, 0.0f);
    int32_t ri = 0;
    for (int32_t mv = 0; mv < m->n_movies; mv++) {
        const int32_t *id = m->mv_id + (int64_t)mv * mn;
        const float *x = m->mv_x + (int64_t)mv * mn;
        int n = m->mv_n[mv];
        float fo0 = fo_u;
        const int st = rated_state(rated, n_rated, &ri, mv, skip);
        if (st == 2) { /* excluded: never returned */
            scores[mv] = 0.0f;
            continue;
        }
        if (st == 1) { /* a rated movie: its own row from scratch */
            n = full_row(s, u, mv), id = s->rid, x = s->rx, fo0 = 0.0f;
            for (int f = 0; f < k; f++) p[f] = q[f] = 0.0f;
        } else {
            memcpy(p, s->pu, (size_t)k * sizeof(float));
            memcpy(q, s->qu, (size_t)k * sizeof(float));
        }
        for (int j = 0; j < n; j++) {
            const float *vr = v + (int64_t)id[j] * k;
            const float xj = x[j], x2 = x[j] * x[j];
            for (int f = 0; f < k; f++) p[f] += vr[f] * xj, q[f] += vr[f] * vr[f] * x2;
        }
        scores[mv] = rec_fm_finish(m, rec_first_order(w, id, x, n, fo0), p, q);
    }
}

static void score_all(soma_rec_scorer *s, const soma_rec_user_desc *u, const uint64_t *skip, float *scores) {
    const soma_rec_model *m = s->m;
    const int nu = rec_encode_user(m, u, -1, s->uid, s->ux);
    const int32_t *rated;
    const int32_t n_rated = soma_rec_model_user_rated(m, u->slot, &rated);
    switch (m->cfg.kind) {
    case SOMA_REC_SNN: score_snn(s, u, s->uid, s->ux, nu, rated, n_rated, skip, scores); break;
    case SOMA_REC_FM:
    case SOMA_REC_BIAS: score_fm(s, u, s->uid, s->ux, nu, rated, n_rated, skip, scores); break;
    default:
        for (int32_t mv = 0; mv < m->n_movies; mv++) scores[mv] = mv < m->L.movie_slots ? m->params[mv] : 0.0f;
    }
}

int soma_rec_score_all(soma_rec_scorer *s, const soma_rec_user_desc *u, float *scores,
                       soma_error *err) {
    if (!s || !u || !scores) return soma_fail(err, SOMA_E_ARG, "soma_rec_score_all: NULL argument");
    score_all(s, u, NULL, scores);
    return SOMA_OK;
}

/* Heap order: the root is the worst kept hit (lowest score; among equal scores the highest
 * slot), so ties resolve towards lower slots, deterministically. */
static inline bool worse(soma_rec_hit a, soma_rec_hit b) {
    return a.score < b.score || (a.score == b.score && a.movie > b.movie);
}

static void sift_down(soma_rec_hit *h, int n, int i) {
    for (;;) {
        int l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(h[l], h[w])) w = l;
        if (r < n && worse(h[r], h[w])) w = r;
        if (w == i) return;
        soma_rec_hit t = h[i];
        h[i] = h[w], h[w] = t, i = w;
    }
}

static void sift_up(soma_rec_hit *h, int i) {
    while (i > 0) {
        int p = (i - 1) / 2;
        if (!worse(h[i], h[p])) return;
        soma_rec_hit t = h[i];
        h[i] = h[p], h[p] = t, i = p;
    }
}

int soma_rec_recommend(soma_rec_scorer *s, const soma_rec_user_desc *u, const int32_t *exclude,
                       int64_t n_exclude, int k, soma_rec_hit *hits, int *n_hits,
                       soma_error *err) {
    if (!s || !u || !hits || !n_hits || (n_exclude > 0 && !exclude)) return soma_fail(err, SOMA_E_ARG, "soma_rec_recommend: NULL argument");
    *n_hits = 0;
    if (k < 1) return soma_fail(err, SOMA_E_ARG, "k must be >= 1");
    int rc = fit(s, err);
    if (rc) return rc;
    const int32_t n = s->m->n_movies;
    for (int64_t i = 0; i < n_exclude; i++)
        if (exclude[i] >= 0 && exclude[i] < n) s->excl[exclude[i] >> 6] |= 1ull << (exclude[i] & 63);
    score_all(s, u, s->excl, s->scores);
    int h = 0;
    for (int32_t mv = 0; mv < n; mv++) {
        if (s->excl[mv >> 6] >> (mv & 63) & 1u) continue;
        soma_rec_hit c = {mv, s->scores[mv]};
        if (!(c.score == c.score)) continue; /* NaN never ranks */
        if (h < k) {
            hits[h] = c;
            sift_up(hits, h++);
        } else if (worse(hits[0], c)) {
            hits[0] = c;
            sift_down(hits, h, 0);
        }
    }
    for (int64_t i = 0; i < n_exclude; i++)
        if (exclude[i] >= 0 && exclude[i] < n) s->excl[exclude[i] >> 6] = 0;
    /* heap sort: best first */
    for (int end = h - 1; end > 0; end--) {
        soma_rec_hit t = hits[0];
        hits[0] = hits[end], hits[end] = t;
        sift_down(hits, end, 0);
    }
    *n_hits = h;
    return SOMA_OK;
}
