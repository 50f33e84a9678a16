/*
 * rec/train.c — training the recommender: the rating loss (MSE) and the implicit top-N losses
 * (BPR, BCE with sampled negatives), mini-batches through the kind's forward/backward, L2 on
 * the rows of the active features, the core's optimisers and schedules, validation after every
 * epoch with early stopping (the best epoch's parameters are kept), and the online update.
 *
 * Objective per batch of B samples (rows = B; BPR 2B; BCE B·(1 + negatives)):
 *   MSE  L = (1/B)·Σ (s − r)²
 *   BPR  L = (1/B)·Σ softplus(−(s_pos − s_neg))
 *   BCE  L = (1/rows)·Σ softplus(−y·s)  (y = ±1)
 *   + (reg/B)·Σ_rows Σ_active k ½‖θ_k‖²   (θ_k: every parameter row tied to feature k)
 * Randomness (order, negatives, the validation split) comes from o->seed only.
 */
#include "rec/rec_internal.h"

#include <math.h>
#include <string.h>

static const char *const loss_names[] = {"mse", "bpr", "bce"};
const char *soma_rec_loss_name(soma_rec_loss l) { return (unsigned)l < SOMA_REC_LOSS_COUNT ? loss_names[l] : "?"; }
int soma_rec_loss_parse(const char *s) {
    for (int i = 0; s && i < SOMA_REC_LOSS_COUNT; i++)
        if (strcmp(s, loss_names[i]) == 0) return i;
    return -1;
}

soma_rec_train_options soma_rec_default_train_options(soma_rec_task task) {
    soma_rec_train_options o;
    memset(&o, 0, sizeof o);
    o.loss = task == SOMA_REC_TOPN ? SOMA_REC_LOSS_BPR : SOMA_REC_LOSS_MSE;
    o.epochs = 40;
    o.batch = 256;
    o.patience = 6;
    o.val_fraction = 0.05;
    o.optim = soma_optim_default_params();
    o.optim.lr = 1e-3f;
    o.schedule = (soma_schedule){SOMA_SCHED_CONST, 1e-3f, 0.0f, 0.1f, 10};
    o.reg = 0.3f;
    o.reg_linear = 0.1f;
    o.ema = 0.999f;
    o.negatives = 4;
    o.eval_negatives = 99;
    o.seed = 1;
    return o;
}

/* ---- rated sets and negatives --------------------------------------------------------------- */

int rec_rated_build(rec_rated *rt, int32_t n_users, int32_t n_movies, const soma_rec_ratings *a,
                    const soma_rec_ratings *b, soma_error *err) {
    memset(rt, 0, sizeof *rt);
    rt->n_users = n_users, rt->n_movies = n_movies;
    rt->words = ((int64_t)n_movies + 63) / 64;
    rt->bits = soma_calloc((size_t)n_users * (size_t)(rt->words > 0 ? rt->words : 1), sizeof *rt->bits);
    if (!rt->bits) return soma_fail(err, SOMA_E_NOMEM, "out of memory for the rated sets");
    const soma_rec_ratings *parts[2] = {a, b};
    for (int p = 0; p < 2; p++)
        for (int64_t i = 0; parts[p] && i < parts[p]->n; i++) {
            const soma_rec_rating *r = &parts[p]->r[i];
            if (r->user >= 0 && r->user < n_users && r->movie >= 0 && r->movie < n_movies)
                rt->bits[r->user * rt->words + (r->movie >> 6)] |= 1ull << (r->movie & 63);
        }
    return SOMA_OK;
}

void rec_rated_free(rec_rated *rt) {
    soma_free(rt->bits);
    memset(rt, 0, sizeof *rt);
}

int32_t rec_sample_negative(const rec_rated *rt, int32_t u, soma_rng *rng) {
    for (int tries = 0; tries < 64; tries++) {
        int32_t mv = (int32_t)soma_rng_below(rng, (uint32_t)rt->n_movies);
        if (!rec_rated_has(rt, u, mv)) return mv;
    }
    /* a heavy rater: walk from a random start to the next unrated movie */
    int32_t start = (int32_t)soma_rng_below(rng, (uint32_t)rt->n_movies);
    for (int32_t i = 0; i < rt->n_movies; i++) {
        int32_t mv = (start + i) % rt->n_movies;
        if (!rec_rated_has(rt, u, mv)) return mv;
    }
    return start;
}

int rec_check_ratings(const soma_rec_model *m, const soma_rec_ratings *r, const char *what, soma_error *err) {
    if (!r || r->n <= 0) return soma_fail(err, SOMA_E_ARG, "%s: no ratings", what);
    for (int64_t i = 0; i < r->n; i++) {
        const soma_rec_rating *x = &r->r[i];
        if (x->user < 0 || x->user >= m->n_users || x->movie < 0 || x->movie >= m->n_movies)
            return soma_fail(err, SOMA_E_ARG, "%s: rating %lld refers to user slot %d / movie slot %d, outside the model's catalogue (%d users, %d movies)",
                             what, (long long)i, x->user, x->movie, m->n_users, m->n_movies);
    }
    return SOMA_OK;
}

/* ---- the epoch loop --------------------------------------------------------------------------- */

static inline float softplus(float x) { return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x)); }
static inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static void add_rows(const soma_rec_model *m, int32_t k, float *grads, float scale, float scale_w) {
    int64_t off[8], len[8];
    int n = m->ops->feature_rows(m, k, off, len);
    for (int i = 0; i < n; i++) {
        float *restrict g = grads + off[i];
        const float *restrict p = m->params + off[i];
        const float s = off[i] == m->o_w + k ? scale_w : scale;
        for (int64_t c = 0; c < len[i]; c++) g[c] += s * p[c];
    }
}

/* grads += (reg/B)·θ on every parameter row of every active feature of the batch, per use
 * (the first-order weight w_k with reg_linear instead). The rated field's features recur in
 * many rows of a batch (every row of a user carries the user's whole set), so their uses are
 * counted first (in uses, K zeros on entry and on return) and each row is visited once with
 * the count; the other fields, a few per row, are added use by use. */
static void add_row_l2(const soma_rec_model *m, const rec_batch *b, float *grads, float scale, float scale_w,
                       int32_t *uses, int32_t *touched) {
    const int64_t r0 = m->L.off[SOMA_REC_F_RATED], r1 = r0 + m->L.size[SOMA_REC_F_RATED];
    int64_t nt = 0;
    for (int64_t r = 0; r < b->rows; r++)
        for (int j = 0; j < b->nnz[r]; j++) {
            const int32_t k = b->id[r * b->cap + j];
            if (k >= r0 && k < r1) {
                if (!uses[k - r0]++) touched[nt++] = k;
            } else {
                add_rows(m, k, grads, scale, scale_w);
            }
        }
    for (int64_t t = 0; t < nt; t++) {
        const int32_t k = touched[t];
        const float c = (float)uses[k - r0];
        uses[k - r0] = 0;
        add_rows(m, k, grads, c * scale, c * scale_w);
    }
}

typedef struct trainer {
    soma_rec_model *m;
    const soma_rec_train_options *o;
    rec_ws *ws;
    rec_batch bt;
    float *scores, *ds, *target, *grads, *best, *avg;
    int32_t *order, *uses, *touched;
    soma_optim *opt;
    rec_rated rated;
} trainer;

static void trainer_free(trainer *t) {
    if (t->ws) t->m->ops->ws_free(t->ws);
    rec_batch_free(&t->bt);
    soma_free(t->scores);
    soma_free(t->ds);
    soma_free(t->target);
    soma_free(t->grads);
    soma_free(t->best);
    soma_free(t->avg);
    soma_free(t->order);
    soma_free(t->uses);
    soma_free(t->touched);
    soma_optim_free(t->opt);
    rec_rated_free(&t->rated);
}

/* Fills the batch for samples order[first .. first + B) and returns the number of rows. */
static int64_t fill_batch(trainer *t, const soma_rec_ratings *tr, int64_t first, int64_t B, soma_rng *rng) {
    soma_rec_model *m = t->m;
    const soma_rec_loss loss = t->o->loss;
    const int negs = loss == SOMA_REC_LOSS_BPR ? 1 : loss == SOMA_REC_LOSS_BCE ? t->o->negatives : 0;
    for (int64_t i = 0; i < B; i++) {
        const soma_rec_rating *r = &tr->r[t->order[first + i]];
        rec_batch_set(&t->bt, m, i, &m->users[r->user], &m->movies[r->movie]);
        t->target[i] = loss == SOMA_REC_LOSS_MSE ? r->rating : 1.0f;
        for (int k = 0; k < negs; k++) {
            const int64_t row = B + i * negs + k;
            int32_t mv = rec_sample_negative(&t->rated, r->user, rng);
            /* the positive's rated set (without its movie), or the set would tell them apart */
            rec_batch_set_skip(&t->bt, m, row, &m->users[r->user], &m->movies[mv], r->movie);
            t->target[row] = 0.0f;
        }
    }
    t->bt.rows = B * (1 + negs);
    return t->bt.rows;
}

/* Loss of the batch (mean) and ds = ∂L/∂scores. */
static double batch_loss(const trainer *t, int64_t B) {
    const int64_t rows = t->bt.rows;
    const float *s = t->scores, *y = t->target;
    float *ds = t->ds;
    double L = 0;
    switch (t->o->loss) {
    case SOMA_REC_LOSS_MSE:
        for (int64_t i = 0; i < B; i++) {
            float e = s[i] - y[i];
            L += (double)e * e;
            ds[i] = 2.0f * e / (float)B;
        }
        return L / (double)B;
    case SOMA_REC_LOSS_BPR:
        for (int64_t i = 0; i < B; i++) {
            float x = s[i] - s[B + i];
            L += softplus(-x);
            float g = -sigmoid(-x) / (float)B;
            ds[i] = g, ds[B + i] = -g;
        }
        return L / (double)B;
    default:
        for (int64_t i = 0; i < rows; i++) {
            bool pos = y[i] > 0.5f;
            L += softplus(pos ? -s[i] : s[i]);
            ds[i] = (sigmoid(s[i]) - (pos ? 1.0f : 0.0f)) / (float)rows;
        }
        return L / (double)rows;
    }
}

static void swap_params(soma_rec_model *m, float *other) {
    for (int64_t i = 0; i < m->n_params; i++) {
        float t = m->params[i];
        m->params[i] = other[i], other[i] = t;
    }
    rec_model_prepare(m);
}

static int validate(const soma_rec_model *m, const soma_rec_ratings *all, const soma_rec_ratings *va,
                    const soma_rec_train_options *o, double *val, soma_error *err) {
    soma_rec_metrics met;
    int rc;
    if (o->loss == SOMA_REC_LOSS_MSE) {
        rc = soma_rec_eval_rating(m, va, &met, err);
        *val = met.rmse;
    } else {
        rc = soma_rec_eval_topn(m, all, va, o->eval_negatives, 10, o->seed ^ 0x7a11da7eULL, &met, err);
        *val = met.hr + 1e-3 * met.ndcg; /* HR@10, NDCG@10 breaking ties */
    }
    return rc;
}

int soma_rec_train(soma_rec_model *m, const soma_rec_ratings *train, const soma_rec_ratings *val,
                   const soma_rec_train_options *o, soma_rec_train_result *res, soma_error *err) {
    if (!m || !train || !o || !res) return soma_fail(err, SOMA_E_ARG, "soma_rec_train: NULL argument");
    memset(res, 0, sizeof *res);
    if (o->epochs < 1 || o->batch < 1 || o->batch > 65536) return soma_fail(err, SOMA_E_ARG, "epochs must be >= 1 and batch in 1..65536");
    if ((unsigned)o->loss >= SOMA_REC_LOSS_COUNT) return soma_fail(err, SOMA_E_ARG, "unknown loss");
    if (o->loss == SOMA_REC_LOSS_BCE && (o->negatives < 1 || o->negatives > 100)) return soma_fail(err, SOMA_E_ARG, "negatives must be in 1..100");
    if (o->loss != SOMA_REC_LOSS_MSE && (o->eval_negatives < 1 || o->eval_negatives > 100000)) return soma_fail(err, SOMA_E_ARG, "eval_negatives must be >= 1");
    if (!(o->ema >= 0 && o->ema < 1)) return soma_fail(err, SOMA_E_ARG, "ema must be in [0, 1)");
    if (!(o->val_fraction >= 0 && o->val_fraction < 1)) return soma_fail(err, SOMA_E_ARG, "val_fraction must be in [0, 1)");
    if (!(o->reg >= 0) || !(o->reg_linear >= 0)) return soma_fail(err, SOMA_E_ARG, "reg and reg_linear must be >= 0");
    int rc = rec_check_ratings(m, train, "training set", err);
    if (rc) return rc;
    if (val && (rc = rec_check_ratings(m, val, "validation set", err))) return rc;
    if (m->cfg.kind == SOMA_REC_POP) return SOMA_OK; /* counted at creation */

    trainer t;
    memset(&t, 0, sizeof t);
    t.m = m, t.o = o;
    soma_rec_ratings own_tr = {0}, own_va = {0};
    const soma_rec_ratings *tr = train, *va = val;
    if (!va && o->val_fraction > 0) {
        rc = o->loss == SOMA_REC_LOSS_MSE
                 ? soma_rec_split_random(train, o->val_fraction, o->seed ^ 0x5eedULL, &own_tr, &own_va, err)
                 : soma_rec_split_loo(train, m->n_users, &own_tr, &own_va, err);
        if (rc) return rc;
        tr = &own_tr, va = own_va.n > 0 ? &own_va : NULL;
    }
    const int64_t B = o->batch;
    const int negs = o->loss == SOMA_REC_LOSS_BPR ? 1 : o->loss == SOMA_REC_LOSS_BCE ? o->negatives : 0;
    const int64_t rows = B * (1 + negs), nb = (tr->n + B - 1) / B;
    if ((rc = rec_rated_build(&t.rated, m->n_users, m->n_movies, train, val, err))) goto done;
    if (m->ops->ws_create(&t.ws, m, rows) || rec_batch_init(&t.bt, rows, m->L.cap)) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory for a batch of %lld rows", (long long)rows);
        goto done;
    }
    t.scores = soma_malloc((size_t)rows * sizeof(float));
    t.ds = soma_malloc((size_t)rows * sizeof(float));
    t.target = soma_malloc((size_t)rows * sizeof(float));
    t.grads = soma_malloc((size_t)m->n_params * sizeof(float));
    t.best = soma_malloc((size_t)m->n_params * sizeof(float));
    t.order = soma_malloc((size_t)tr->n * sizeof(int32_t));
    const int64_t nrated = m->L.size[SOMA_REC_F_RATED] > 0 ? m->L.size[SOMA_REC_F_RATED] : 1;
    t.uses = soma_calloc((size_t)nrated, sizeof(int32_t));
    t.touched = soma_malloc((size_t)nrated * sizeof(int32_t));
    t.opt = soma_optim_create(&o->optim, m->n_params);
    if (!t.scores || !t.ds || !t.target || !t.grads || !t.best || !t.order || !t.uses || !t.touched || !t.opt || tr->n > INT32_MAX) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory for training");
        goto done;
    }
    memcpy(t.best, m->params, (size_t)m->n_params * sizeof(float));
    if (o->ema > 0) {
        if (!(t.avg = soma_malloc((size_t)m->n_params * sizeof(float)))) {
            rc = soma_fail(err, SOMA_E_NOMEM, "out of memory for training");
            goto done;
        }
        memcpy(t.avg, m->params, (size_t)m->n_params * sizeof(float));
    }
    double best = 0;
    bool have_best = false;
    int since = 0;
    const bool lower_better = o->loss == SOMA_REC_LOSS_MSE;
    const int64_t total = (int64_t)o->epochs * nb;
    double t_train = 0;
    int64_t samples = 0;
    for (int e = 0; e < o->epochs; e++) {
        soma_rng rng;
        soma_rng_seed(&rng, soma_hash3(o->seed, 0x0de7ULL, (uint64_t)e));
        for (int64_t i = 0; i < tr->n; i++) t.order[i] = (int32_t)i;
        soma_rng_shuffle(&rng, t.order, tr->n);
        const double t0 = soma_now();
        double loss_sum = 0;
        for (int64_t bi = 0; bi < nb; bi++) {
            const int64_t first = bi * B, Bn = first + B <= tr->n ? B : tr->n - first;
            fill_batch(&t, tr, first, Bn, &rng);
            t.ws->train = true;
            t.ws->drop_seed = soma_hash3(o->seed, 0xd20fULL, (uint64_t)e * (uint64_t)nb + (uint64_t)bi);
            m->ops->forward(m, t.ws, &t.bt, t.scores);
            double L = batch_loss(&t, Bn);
            if (!isfinite(L)) {
                rc = soma_fail(err, SOMA_E_ARG, "training diverged (loss %g in epoch %d); lower the learning rate", L, e + 1);
                memcpy(m->params, t.best, (size_t)m->n_params * sizeof(float)); /* the best so far */
                rec_model_prepare(m);
                goto done;
            }
            loss_sum += L;
            m->ops->backward(m, t.ws, &t.bt, t.ds, t.grads);
            if (o->reg > 0 || o->reg_linear > 0) add_row_l2(m, &t.bt, t.grads, o->reg / (float)Bn, o->reg_linear / (float)Bn, t.uses, t.touched);
            const int64_t step = (int64_t)e * nb + bi;
            soma_schedule sc = o->schedule;
            sc.lr = o->optim.lr;
            const float lr = soma_schedule_lr(&sc, e, step, total);
            soma_optim_step(t.opt, m->params, t.grads, lr);
            if (t.avg) {
                /* avg ← β·avg + (1 − β)·θ, with β warmed up so early steps do not dominate */
                const float beta = fminf(o->ema, (float)(1.0 + (double)step) / (float)(10.0 + (double)step));
                for (int64_t i = 0; i < m->n_params; i++) t.avg[i] = beta * t.avg[i] + (1.0f - beta) * m->params[i];
            }
            rec_model_prepare(m);
            samples += Bn;
            if (o->progress) {
                const double el = soma_now() - t0;
                soma_progress p = {e, o->epochs, bi + 1, nb, loss_sum / (double)(bi + 1), 0.0,
                                   el > 0 ? (double)(first + Bn) / el : 0.0,
                                   el > 0 ? el / (double)(bi + 1) * (double)(nb - bi - 1) : 0.0, lr};
                o->progress(&p, o->user);
            }
        }
        t_train += soma_now() - t0;
        res->epochs_run = e + 1;
        res->train_loss = loss_sum / (double)nb;
        if (!va) {
            res->best_epoch = e + 1;
            if (o->on_epoch) o->on_epoch(e, res->train_loss, NAN, o->user);
            continue;
        }
        double v;
        if (t.avg) swap_params(m, t.avg); /* validate the average */
        rc = validate(m, train, va, o, &v, err);
        if (!rc && (!have_best || (lower_better ? v < best : v > best))) {
            best = v, have_best = true, since = 0;
            res->best_epoch = e + 1, res->best_val = v;
            memcpy(t.best, m->params, (size_t)m->n_params * sizeof(float));
        } else if (!rc && ++since >= o->patience && o->patience > 0) {
            if (t.avg) swap_params(m, t.avg);
            if (o->on_epoch) o->on_epoch(e, res->train_loss, v, o->user);
            break;
        }
        if (t.avg) swap_params(m, t.avg);
        if (rc) goto done;
        if (o->on_epoch) o->on_epoch(e, res->train_loss, v, o->user);
    }
    if (!va && t.avg) {
        memcpy(m->params, t.avg, (size_t)m->n_params * sizeof(float));
        rec_model_prepare(m);
    }
    if (va && have_best) {
        memcpy(m->params, t.best, (size_t)m->n_params * sizeof(float));
        rec_model_prepare(m);
    }
    res->seconds = t_train;
    res->samples_per_s = t_train > 0 ? (double)samples / t_train : 0;
done:
    trainer_free(&t);
    soma_rec_ratings_free(&own_tr);
    soma_rec_ratings_free(&own_va);
    return rc;
}

/* ---- online update ------------------------------------------------------------------------------ */

int soma_rec_update(soma_rec_model *m, const soma_rec_user_desc *u, const soma_rec_movie_desc *mv,
                    float rating, int steps, float lr, float reg, soma_error *err) {
    if (!m || !u || !mv) return soma_fail(err, SOMA_E_ARG, "soma_rec_update: NULL argument");
    if (m->cfg.kind == SOMA_REC_POP) {
        if (mv->slot >= 0 && mv->slot < m->n_movies) m->pop[mv->slot] += 1.0f;
        if (mv->slot >= 0 && mv->slot < m->L.movie_slots) m->params[mv->slot] += 1.0f;
        return SOMA_OK;
    }
    if (!(m->cfg.fields >> SOMA_REC_F_USER & 1u) || u->slot < 0 || u->slot >= m->L.user_slots)
        return soma_fail(err, SOMA_E_ARG, "user slot %d has no id feature (add the user with soma_rec_model_add_user first; %d id slots)",
                         u->slot, m->L.user_slots);
    if (steps < 1 || steps > 1000 || !(lr > 0) || !(reg >= 0) || !isfinite(rating))
        return soma_fail(err, SOMA_E_ARG, "update: steps 1..1000, lr > 0, reg >= 0 and a finite rating are required");
    if (!m->upd_ws) {
        if (m->ops->ws_create(&m->upd_ws, m, 1)) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
        m->upd_grads = soma_malloc((size_t)m->n_params * sizeof(float));
        if (!m->upd_grads) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    }
    rec_batch bt;
    if (rec_batch_init(&bt, 1, m->L.cap)) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    rec_batch_set(&bt, m, 0, u, mv);
    bt.rows = 1;
    const int64_t k = m->L.off[SOMA_REC_F_USER] + u->slot;
    int64_t off[8], len[8];
    const int nr = m->ops->feature_rows(m, k, off, len);
    for (int s = 0; s < steps; s++) {
        float score, ds;
        m->ops->forward(m, m->upd_ws, &bt, &score);
        if (m->cfg.task == SOMA_REC_RATING) ds = 2.0f * (score - rating);
        else ds = sigmoid(score) - (rating >= 0.5f ? 1.0f : 0.0f);
        m->ops->backward(m, m->upd_ws, &bt, &ds, m->upd_grads);
        for (int i = 0; i < nr; i++)
            for (int64_t c = 0; c < len[i]; c++) {
                float *p = m->params + off[i] + c;
                *p -= lr * (m->upd_grads[off[i] + c] + reg * *p);
            }
        rec_model_prepare(m);
    }
    rec_batch_free(&bt);
    return SOMA_OK;
}
