/*
 * rec/eval.c — scoring pairs in batches and the two evaluation protocols:
 *   rating   RMSE and MAE of the scores clipped to the rating range;
 *   top-N    leave-one-out: each held-out (user, movie) is ranked against n_neg movies the
 *            user has not rated (drawn from a stream of (seed, user) only, so every model
 *            sees the same candidates); HR@k = P(rank < k), NDCG@k = E[1/log2(rank + 2)].
 *            Ties count half: rank = #(better) + ⌊#(equal)/2⌋, so a model whose scores tie
 *            (e.g. most-popular) is neither flattered nor punished.
 */
#include "rec/rec_internal.h"

#include <math.h>
#include <string.h>

#define EVAL_ROWS 1024

/* Scores n ≤ ws->max_rows pairs with a caller's workspace and batch. */
static void score_block(const soma_rec_model *m, rec_ws *ws, rec_batch *bt, const soma_rec_user_desc *u,
                        const soma_rec_movie_desc *mv, int64_t n, float *scores) {
    for (int64_t i = 0; i < n; i++) rec_batch_set(bt, m, i, &u[i], &mv[i]);
    bt->rows = n;
    m->ops->forward(m, ws, bt, scores);
}

int soma_rec_score_pairs(const soma_rec_model *m, const soma_rec_user_desc *u,
                         const soma_rec_movie_desc *mv, int64_t n, float *scores,
                         soma_error *err) {
    if (!m || (n > 0 && (!u || !mv || !scores))) return soma_fail(err, SOMA_E_ARG, "soma_rec_score_pairs: NULL argument");
    if (n <= 0) return SOMA_OK;
    const int64_t R = n < EVAL_ROWS ? n : EVAL_ROWS;
    rec_ws *ws = NULL;
    rec_batch bt;
    if (m->ops->ws_create(&ws, m, R)) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    if (rec_batch_init(&bt, R, m->L.cap)) {
        m->ops->ws_free(ws);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    }
    for (int64_t first = 0; first < n; first += R) {
        const int64_t rows = first + R <= n ? R : n - first;
        score_block(m, ws, &bt, u + first, mv + first, rows, scores + first);
    }
    rec_batch_free(&bt);
    m->ops->ws_free(ws);
    return SOMA_OK;
}

int soma_rec_eval_rating(const soma_rec_model *m, const soma_rec_ratings *test,
                         soma_rec_metrics *out, soma_error *err) {
    if (!m || !test || !out) return soma_fail(err, SOMA_E_ARG, "soma_rec_eval_rating: NULL argument");
    memset(out, 0, sizeof *out);
    int rc = rec_check_ratings(m, test, "test set", err);
    if (rc) return rc;
    const double t0 = soma_now();
    const int64_t R = test->n < EVAL_ROWS ? test->n : EVAL_ROWS;
    soma_rec_user_desc *u = soma_malloc((size_t)R * sizeof *u);
    soma_rec_movie_desc *mv = soma_malloc((size_t)R * sizeof *mv);
    float *s = soma_malloc((size_t)R * sizeof *s);
    rec_ws *ws = NULL;
    rec_batch bt = {0};
    double se = 0, ae = 0;
    if (!u || !mv || !s || m->ops->ws_create(&ws, m, R) || rec_batch_init(&bt, R, m->L.cap))
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
    for (int64_t first = 0; !rc && first < test->n; first += R) {
        const int64_t rows = first + R <= test->n ? R : test->n - first;
        for (int64_t i = 0; i < rows; i++) {
            u[i] = m->users[test->r[first + i].user];
            mv[i] = m->movies[test->r[first + i].movie];
        }
        score_block(m, ws, &bt, u, mv, rows, s);
        for (int64_t i = 0; i < rows; i++) {
            double e = (double)soma_rec_model_clip(m, s[i]) - test->r[first + i].rating;
            se += e * e, ae += fabs(e);
        }
    }
    soma_free(u), soma_free(mv), soma_free(s);
    if (ws) m->ops->ws_free(ws);
    rec_batch_free(&bt);
    if (rc) return rc;
    out->n = test->n;
    out->rmse = sqrt(se / (double)test->n);
    out->mae = ae / (double)test->n;
    out->seconds = soma_now() - t0;
    return SOMA_OK;
}

int soma_rec_eval_topn(const soma_rec_model *m, const soma_rec_ratings *all,
                       const soma_rec_ratings *test, int n_neg, int k, uint64_t seed,
                       soma_rec_metrics *out, soma_error *err) {
    if (!m || !all || !test || !out) return soma_fail(err, SOMA_E_ARG, "soma_rec_eval_topn: NULL argument");
    memset(out, 0, sizeof *out);
    if (n_neg < 1 || k < 1) return soma_fail(err, SOMA_E_ARG, "top-N: n_neg and k must be >= 1");
    int rc = rec_check_ratings(m, test, "test set", err);
    if (rc) return rc;
    if ((rc = rec_check_ratings(m, all, "rated set", err))) return rc;
    const double t0 = soma_now();
    rec_rated rt;
    if ((rc = rec_rated_build(&rt, m->n_users, m->n_movies, all, test, err))) return rc;
    const int64_t n = 1 + n_neg;
    soma_rec_user_desc *u = soma_malloc((size_t)n * sizeof *u);
    soma_rec_movie_desc *mv = soma_malloc((size_t)n * sizeof *mv);
    float *s = soma_malloc((size_t)n * sizeof *s);
    rec_ws *ws = NULL;
    rec_batch bt = {0};
    double hr = 0, ndcg = 0;
    if (!u || !mv || !s || m->ops->ws_create(&ws, m, n) || rec_batch_init(&bt, n, m->L.cap))
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
    for (int64_t i = 0; !rc && i < test->n; i++) {
        const soma_rec_rating *r = &test->r[i];
        soma_rng rng;
        soma_rng_seed(&rng, soma_hash3(seed, (uint64_t)r->user, (uint64_t)r->movie));
        for (int64_t j = 0; j < n; j++) {
            u[j] = m->users[r->user];
            mv[j] = m->movies[j == 0 ? r->movie : rec_sample_negative(&rt, r->user, &rng)];
        }
        /* every candidate with the user's rated set without the held-out movie (a test movie is
         * never in it; a validation movie is, and must not mark the positive) */
        for (int64_t j = 0; j < n; j++) rec_batch_set_skip(&bt, m, j, &u[j], &mv[j], r->movie);
        bt.rows = n;
        m->ops->forward(m, ws, &bt, s);
        int64_t gt = 0, eq = 0;
        for (int64_t j = 1; j < n; j++) gt += s[j] > s[0], eq += s[j] == s[0];
        const int64_t rank = gt + eq / 2;
        if (rank < k) {
            hr += 1;
            ndcg += 1.0 / log2((double)rank + 2.0);
        }
    }
    soma_free(u), soma_free(mv), soma_free(s);
    if (ws) m->ops->ws_free(ws);
    rec_batch_free(&bt);
    rec_rated_free(&rt);
    if (rc) return rc;
    out->k = k;
    out->n = test->n;
    out->hr = hr / (double)test->n;
    out->ndcg = ndcg / (double)test->n;
    out->seconds = soma_now() - t0;
    return SOMA_OK;
}
