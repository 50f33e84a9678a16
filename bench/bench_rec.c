/*
 * bench/bench_rec.c — speed of the recommender on one core:
 *   1. training: samples/s and the time to train on MovieLens-100k u1.base (the same recipe as
 *      the rating table: early stopping on a 5 % validation split) for each model;
 *   2. serving: top-10 for one user over a 4,000-movie catalogue (ML-100k's 1,682 movies plus
 *      synthetic ones with a year and genres, added through soma_rec_model_add_movie, as a web
 *      site would), excluding the user's rated movies: median and p99 latency over every user.
 * Before timing, serving is validated against the batch forward pass (the scores must be
 * bitwise equal for one-layer models) and the top-10 against a full sort.
 *
 *   build/rel/bench/bench_rec DATA_DIR [--quick] [--markdown] [--only-rated]
 * (--only-rated: just the row with implicit feedback)
 */
#include "soma.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct row {
    const char *name;
    soma_rec_config cfg;
    soma_rec_train_options opt;
} row;

static int fail(const char *what, const soma_error *e) {
    fprintf(stderr, "bench_rec: %s: %s\n", what, e->msg);
    return 1;
}

/* Validates serving against the batch path for user slot u; returns 0 if equal. */
static int validate(const soma_rec_model *m, soma_rec_scorer *s, int32_t u, bool exact) {
    const int32_t n = soma_rec_model_n_movies(m);
    float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
    soma_rec_user_desc *ud = malloc(sizeof *ud * (size_t)n);
    soma_rec_movie_desc *md = malloc(sizeof *md * (size_t)n);
    soma_error err = {0};
    for (int32_t i = 0; i < n; i++) soma_rec_model_user(m, u, &ud[i]), soma_rec_model_movie(m, i, &md[i]);
    int bad = soma_rec_score_all(s, &ud[0], a, &err) || soma_rec_score_pairs(m, ud, md, n, b, &err);
    double worst = 0;
    for (int32_t i = 0; i < n && !bad; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    if (!bad && (exact ? worst != 0 : worst > 1e-4)) {
        fprintf(stderr, "bench_rec: serving differs from the batch path by %g\n", worst);
        bad = 1;
    }
    /* top-10 = the 10 best of a full sort (ties by lower slot) */
    soma_rec_hit h[10];
    int nh = 0;
    if (!bad && !soma_rec_recommend(s, &ud[0], NULL, 0, 10, h, &nh, &err)) {
        for (int k = 0; k < nh; k++) {
            int better = 0;
            for (int32_t i = 0; i < n; i++) better += a[i] > h[k].score || (a[i] == h[k].score && i < h[k].movie);
            if (better != k) bad = 1;
        }
    }
    free(a), free(b), free(ud), free(md);
    return bad;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("SOMA_DATA");
    bool quick = false, md = false;
    for (int i = 2; i < argc; i++) quick |= strcmp(argv[i], "--quick") == 0, md |= strcmp(argv[i], "--markdown") == 0;
    if (!dir) {
        fprintf(stderr, "usage: bench_rec DATA_DIR [--quick] [--markdown] [--only-rated]\n");
        return 2;
    }
    soma_set_threads(1);
    soma_error err = {0};
    soma_rec_data d;
    soma_rec_ratings tr, te;
    if (soma_rec_load(&d, dir, &err)) return fail("load", &err);
    if (soma_rec_split_official(&d, dir, 1, &tr, &te, &err)) return fail("split", &err);

    enum { NROWS = 5 };
    row rows[NROWS];
    const char *names[NROWS] = {"SNN bilinear (32 LIF, T=8)", "SNN linear (LIF baseline)", "FM k=8", "bias",
                                "SNN bilinear + rated (32 LIF, T=8)"};
    for (int i = 0; i < NROWS; i++) {
        rows[i].name = names[i];
        rows[i].cfg = soma_rec_default_config();
        rows[i].opt = soma_rec_default_train_options(SOMA_REC_RATING);
        rows[i].cfg.spare_movies = 4000; /* the added movies get their own (zero) id rows */
        rows[i].opt.epochs = 100;        /* the rating table's recipe (experiments/rec_table.sh) */
    }
    rows[1].cfg.integrate.mode = SOMA_INTEGRATE_LINEAR;
    rows[2].cfg.kind = SOMA_REC_FM;
    rows[3].cfg.kind = SOMA_REC_BIAS;
    /* implicit feedback (--fields side,rated): the user's rated set is part of the user's
     * prefix, computed once per call; the table's recipe for this row */
    rows[4].cfg.fields = SOMA_REC_FIELDS_ALL, rows[4].opt.reg = 0.1f;
    bool only_rated = false;
    for (int i = 2; i < argc; i++) only_rated |= strcmp(argv[i], "--only-rated") == 0;
    if (quick)
        for (int i = 0; i < NROWS; i++) rows[i].opt.epochs = 2;
    if (md) {
        printf("| model | parameters | epochs (best) | train s | train samples/s | u1 RMSE | top-10 of 4,000: median µs | p99 µs | p99 µs, best of 3 per user |\n");
        printf("|---|---|---|---|---|---|---|---|---|\n");
    }
    int status = 0;
    for (int i = only_rated ? NROWS - 1 : 0; i < NROWS; i++) {
        soma_rec_model *m = NULL;
        soma_rec_scorer *s = NULL;
        soma_rec_train_result res;
        soma_rec_metrics met;
        if (soma_rec_model_create(&m, &rows[i].cfg, &d, &tr, 1, &err) || soma_rec_train(m, &tr, NULL, &rows[i].opt, &res, &err) ||
            soma_rec_eval_rating(m, &te, &met, &err))
            return fail(rows[i].name, &err);
        /* grow the catalogue to 4,000 movies */
        soma_rng rng;
        soma_rng_seed(&rng, 7);
        while (soma_rec_model_n_movies(m) < 4000) {
            soma_rec_movie_desc mv = {-1, 1930 + (int32_t)soma_rng_below(&rng, 70), 0};
            for (int g = 0; g < 3; g++) mv.genres |= 1u << soma_rng_below(&rng, (uint32_t)d.n_genres);
            if (soma_rec_model_add_movie(m, &mv, 100000 + soma_rec_model_n_movies(m), NULL, &err)) return fail("add", &err);
        }
        if (soma_rec_scorer_create(&s, m, &err)) return fail("scorer", &err);
        if (validate(m, s, 0, true) || validate(m, s, 17, true)) {
            fprintf(stderr, "bench_rec: %s: validation failed\n", rows[i].name);
            status = 1;
        }
        /* every user, excluding the movies they rated in u1.base; two passes, the first warms up */
        int32_t *ex = malloc(sizeof(int32_t) * (size_t)tr.n);
        int64_t *start = calloc((size_t)d.n_users + 1, sizeof(int64_t));
        for (int64_t k = 0; k < tr.n; k++) start[tr.r[k].user + 1]++;
        for (int32_t u = 0; u < d.n_users; u++) start[u + 1] += start[u];
        int64_t *fill = malloc(sizeof(int64_t) * (size_t)d.n_users);
        memcpy(fill, start, sizeof(int64_t) * (size_t)d.n_users);
        for (int64_t k = 0; k < tr.n; k++) ex[fill[tr.r[k].user]++] = tr.r[k].movie;
        const int passes = quick ? 1 : 3;
        double *lat = malloc(sizeof(double) * (size_t)d.n_users * (size_t)passes);
        double *best = malloc(sizeof(double) * (size_t)d.n_users); /* per user: fastest pass (preemption-free) */
        for (int32_t u = 0; u < d.n_users; u++) best[u] = 1e9;
        int64_t nl = 0;
        soma_rec_hit hits[10];
        int nh;
        for (int p = 0; p <= passes; p++)
            for (int32_t u = 0; u < d.n_users; u++) {
                soma_rec_user_desc ud;
                soma_rec_model_user(m, u, &ud);
                double t0 = soma_now();
                soma_rec_recommend(s, &ud, ex + start[u], start[u + 1] - start[u], 10, hits, &nh, &err);
                double t = soma_now() - t0;
                if (p > 0) lat[nl++] = t, best[u] = fmin(best[u], t);
            }
        qsort(lat, (size_t)nl, sizeof *lat, cmp_double);
        qsort(best, (size_t)d.n_users, sizeof *best, cmp_double);
        double med = lat[nl / 2], p99 = lat[(int64_t)(0.99 * (double)(nl - 1))];
        double p99b = best[(int64_t)(0.99 * (double)(d.n_users - 1))];
        if (md)
            printf("| %s | %lld | %d (%d) | %.1f | %.0f | %.4f | %.0f | %.0f | %.0f |\n", rows[i].name, (long long)soma_rec_model_n_params(m),
                   res.epochs_run, res.best_epoch, res.seconds, res.samples_per_s, met.rmse, 1e6 * med, 1e6 * p99, 1e6 * p99b);
        else
            printf("%-28s params %8lld  epochs %2d (best %2d)  train %6.1f s  %8.0f samples/s  RMSE %.4f  top-10/4000: median %6.0f us  p99 %6.0f us\n",
                   rows[i].name, (long long)soma_rec_model_n_params(m), res.epochs_run, res.best_epoch, res.seconds, res.samples_per_s,
                   met.rmse, 1e6 * med, 1e6 * p99);
        fflush(stdout);
        free(ex), free(start), free(fill), free(lat), free(best);
        soma_rec_scorer_free(s);
        soma_rec_model_free(m);
    }
    soma_rec_ratings_free(&tr);
    soma_rec_ratings_free(&te);
    soma_rec_data_free(&d);
    return status;
}
