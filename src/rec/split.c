/*
 * rec/split.c — train/test splits of a ratings list: random, k-fold and leave-one-out (the
 * official ML-100k folds are files, read in data/movielens.c). Splits keep the ratings'
 * original order inside each part, so results do not depend on how a split was drawn beyond
 * which ratings went where.
 */
#include "rec/rec_internal.h"

#include <string.h>

static int alloc_pair(soma_rec_ratings *a, int64_t na, soma_rec_ratings *b, int64_t nb, soma_error *err) {
    a->r = soma_malloc((size_t)(na > 0 ? na : 1) * sizeof *a->r);
    b->r = soma_malloc((size_t)(nb > 0 ? nb : 1) * sizeof *b->r);
    a->n = b->n = 0;
    if (!a->r || !b->r) {
        soma_rec_ratings_free(a);
        soma_rec_ratings_free(b);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory splitting %lld ratings", (long long)(na + nb));
    }
    return SOMA_OK;
}

/* Puts rating i into test when in_test[i], else train. */
static int split_by(const soma_rec_ratings *r, const uint8_t *in_test, soma_rec_ratings *train,
                    soma_rec_ratings *test, soma_error *err) {
    int64_t nt = 0;
    for (int64_t i = 0; i < r->n; i++) nt += in_test[i];
    int rc = alloc_pair(train, r->n - nt, test, nt, err);
    if (rc) return rc;
    for (int64_t i = 0; i < r->n; i++) {
        soma_rec_ratings *o = in_test[i] ? test : train;
        o->r[o->n++] = r->r[i];
    }
    return SOMA_OK;
}

static int check(const soma_rec_ratings *r, soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err) {
    if (!r || !train || !test) return soma_fail(err, SOMA_E_ARG, "split: NULL argument");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (r->n <= 0) return soma_fail(err, SOMA_E_ARG, "split: no ratings");
    return SOMA_OK;
}

int soma_rec_split_random(const soma_rec_ratings *r, double frac, uint64_t seed,
                          soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err) {
    int rc = check(r, train, test, err);
    if (rc) return rc;
    if (!(frac >= 0 && frac <= 1)) return soma_fail(err, SOMA_E_ARG, "split: test fraction %g is not in [0, 1]", frac);
    int32_t *perm = soma_malloc((size_t)r->n * sizeof *perm);
    uint8_t *mark = soma_calloc((size_t)r->n, 1);
    if (!perm || !mark || r->n > INT32_MAX) {
        soma_free(perm);
        soma_free(mark);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory splitting");
    }
    for (int64_t i = 0; i < r->n; i++) perm[i] = (int32_t)i;
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    soma_rng_shuffle(&rng, perm, r->n);
    const int64_t nt = (int64_t)(frac * (double)r->n + 0.5);
    for (int64_t i = 0; i < nt; i++) mark[perm[i]] = 1;
    rc = split_by(r, mark, train, test, err);
    soma_free(perm);
    soma_free(mark);
    return rc;
}

int soma_rec_split_kfold(const soma_rec_ratings *r, int folds, int k, uint64_t seed,
                         soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err) {
    int rc = check(r, train, test, err);
    if (rc) return rc;
    if (folds < 2 || k < 0 || k >= folds) return soma_fail(err, SOMA_E_ARG, "k-fold: fold %d of %d", k, folds);
    int32_t *perm = soma_malloc((size_t)r->n * sizeof *perm);
    uint8_t *mark = soma_calloc((size_t)r->n, 1);
    if (!perm || !mark || r->n > INT32_MAX) {
        soma_free(perm);
        soma_free(mark);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory splitting");
    }
    for (int64_t i = 0; i < r->n; i++) perm[i] = (int32_t)i;
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    soma_rng_shuffle(&rng, perm, r->n);
    for (int64_t i = 0; i < r->n; i++) mark[perm[i]] = i % folds == k;
    rc = split_by(r, mark, train, test, err);
    soma_free(perm);
    soma_free(mark);
    return rc;
}

int soma_rec_split_loo(const soma_rec_ratings *r, int32_t n_users, soma_rec_ratings *train,
                       soma_rec_ratings *test, soma_error *err) {
    int rc = check(r, train, test, err);
    if (rc) return rc;
    if (n_users <= 0) return soma_fail(err, SOMA_E_ARG, "leave-one-out: no users");
    int64_t *last = soma_malloc((size_t)n_users * sizeof *last);
    int32_t *count = soma_calloc((size_t)n_users, sizeof *count);
    uint8_t *mark = soma_calloc((size_t)r->n, 1);
    if (!last || !count || !mark) {
        soma_free(last), soma_free(count), soma_free(mark);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory splitting");
    }
    for (int32_t u = 0; u < n_users; u++) last[u] = -1;
    for (int64_t i = 0; i < r->n; i++) {
        const int32_t u = r->r[i].user;
        if (u < 0 || u >= n_users) {
            soma_free(last), soma_free(count), soma_free(mark);
            return soma_fail(err, SOMA_E_ARG, "leave-one-out: rating %lld has user slot %d outside 0..%d", (long long)i, u, n_users - 1);
        }
        count[u]++;
        if (last[u] < 0 || r->r[i].time >= r->r[last[u]].time) last[u] = i;
    }
    for (int32_t u = 0; u < n_users; u++)
        if (count[u] >= 2) mark[last[u]] = 1;
    rc = split_by(r, mark, train, test, err);
    soma_free(last), soma_free(count), soma_free(mark);
    return rc;
}
