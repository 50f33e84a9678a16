/*
 * web/reco.c — the SNN recommender behind the web service (see reco.h).
 *
 * Concurrency: a writer-preferring pthread rwlock. Scoring (recommend, score) holds it shared,
 * with the calling thread's own soma_rec_scorer (created on first use, kept in a registry so
 * close can free them). add_movie / add_user / update hold it exclusively; the engine promises
 * that scorers see such changes at their next call.
 *
 * Online learning: a new rating runs soma_rec_update (a few SGD steps on the user's own id
 * feature) at once, under the write lock, so the user's next request already ranks with it;
 * the time it takes is logged and returned (see README "Recommendations after a rating").
 * The rated movie also leaves the user's list, since rated movies are excluded.
 */
#define _GNU_SOURCE /* pthread_rwlockattr_setkind_np */
#include "reco.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Online update: SGD steps, learning rate and L2 for one new rating. */
#define UPDATE_STEPS 4
#define UPDATE_LR 0.1f
#define UPDATE_REG 1e-4f

typedef struct scorer_node {
    soma_rec_scorer *s;
    struct scorer_node *next;
} scorer_node;

struct web_reco {
    soma_rec_model *m;
    pthread_rwlock_t lock;
    pthread_mutex_t reg_mu;
    scorer_node *scorers;
    unsigned generation;     /* distinguishes this model's scorers from a closed one's */
    char path[512];
    char desc[256];
};

static _Thread_local soma_rec_scorer *tl_scorer;
static _Thread_local unsigned tl_generation;
static unsigned next_generation = 1;
static pthread_mutex_t gen_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- life cycle ---------------------------------------------------------------------------- */

static void add_site_user(void *ctx, const web_user *u, int n_ratings) {
    (void)n_ratings;
    soma_rec_model *m = ctx;
    if (soma_rec_model_user_slot(m, u->id) >= 0) return;
    soma_rec_user_desc d = {.slot = -1, .gender = u->gender, .age = u->age,
                            .occupation = u->occupation, .fav_genres = u->fav_genres};
    snprintf(d.zip, sizeof d.zip, "%s", u->zip);
    soma_error err;
    int32_t slot;
    if (soma_rec_model_add_user(m, &d, u->id, &slot, &err))
        web_log("reco: cannot add user %lld: %s", (long long)u->id, err.msg);
}

static void add_site_movie(void *ctx, const web_movie *mv) {
    soma_rec_model *m = ctx;
    if (soma_rec_model_movie_slot(m, mv->id) >= 0) return;
    soma_rec_movie_desc d = {.slot = -1, .year = mv->year, .genres = mv->genres};
    soma_error err;
    int32_t slot;
    if (soma_rec_model_add_movie(m, &d, mv->id, &slot, &err))
        web_log("reco: cannot add movie %lld: %s", (long long)mv->id, err.msg);
}

typedef struct replay_ctx {
    web_reco *r;
    web_db *db;
    int n;
} replay_ctx;

static void replay_rating(void *ctx, int64_t user, int64_t movie, int stars) {
    replay_ctx *c = ctx;
    web_user u;
    if (web_db_user_get(c->db, user, &u) != WEB_DB_OK) return;
    double s;
    if (web_reco_rate(c->r, &u, movie, stars, &s) == 0) c->n++;
}

static int train_new(soma_rec_model **out, const web_config *cfg, const soma_rec_data *d) {
    soma_rec_config rc = soma_rec_default_config();
    rc.task = SOMA_REC_TOPN;
    rc.spare_users = 4096;   /* site users get their own id feature up to this many */
    rc.spare_movies = 1024;
    if (cfg->implicit) rc.fields = SOMA_REC_FIELDS_ALL; /* + the users' rated sets */
    soma_error err;
    soma_rec_model *m = NULL;
    if (soma_rec_model_create(&m, &rc, d, &d->ratings, 1, &err)) {
        web_log("reco: cannot create the model: %s", err.msg);
        return -1;
    }
    soma_rec_train_options o = soma_rec_default_train_options(rc.task);
    o.epochs = cfg->epochs;
    o.seed = 1;
    soma_rec_train_result res;
    web_log("reco: training %s on %lld ratings for up to %d epochs (first start; later starts "
            "load %s)", soma_rec_model_desc(m), (long long)d->ratings.n, o.epochs, cfg->model);
    if (soma_rec_train(m, &d->ratings, NULL, &o, &res, &err)) {
        web_log("reco: training failed: %s", err.msg);
        soma_rec_model_free(m);
        return -1;
    }
    web_log("reco: trained %d epochs in %.1f s (best epoch %d, validation %.4f)", res.epochs_run,
            res.seconds, res.best_epoch, res.best_val);
    *out = m;
    return 0;
}

int web_reco_open(web_reco **out, const web_config *cfg, const soma_rec_data *d, web_db *db) {
    *out = NULL;
    web_reco *r = calloc(1, sizeof *r);
    if (!r) return -1;
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&r->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    pthread_mutex_init(&r->reg_mu, NULL);
    pthread_mutex_lock(&gen_mu);
    r->generation = next_generation++;
    pthread_mutex_unlock(&gen_mu);
    snprintf(r->path, sizeof r->path, "%s", cfg->model);

    struct stat st;
    soma_error err;
    bool trained = false;
    if (stat(cfg->model, &st) == 0) {
        double t0 = web_now();
        if (soma_rec_model_load(&r->m, cfg->model, &err)) {
            web_log("reco: cannot load %s: %s (remove it to train a new model)", cfg->model,
                    err.msg);
            goto fail;
        }
        web_log("reco: loaded %s in %.2f s", cfg->model, web_now() - t0);
    } else {
        if (!d) {
            web_log("reco: no model at %s and no MovieLens data to train one", cfg->model);
            goto fail;
        }
        if (train_new(&r->m, cfg, d)) goto fail;
        trained = true;
    }
    snprintf(r->desc, sizeof r->desc, "%s", soma_rec_model_desc(r->m));

    /* Site users and movies created after the model was saved. */
    if (web_db_site_users(db, add_site_user, r->m) || web_db_site_movies(db, add_site_movie, r->m))
        goto fail;
    if (trained) {
        if (web_reco_save(r)) goto fail;
        char now[32];
        snprintf(now, sizeof now, "%lld", (long long)web_time());
        web_db_meta_set(db, "model_saved_at", now);
    } else {
        char saved[32];
        long long since = 0;
        if (web_db_meta_get(db, "model_saved_at", saved, sizeof saved) == WEB_DB_OK)
            since = strtoll(saved, NULL, 10) - 1;
        replay_ctx c = {r, db, 0};
        if (web_db_site_ratings_since(db, since, replay_rating, &c)) goto fail;
        if (c.n) web_log("reco: replayed %d ratings made after the model was saved", c.n);
    }
    *out = r;
    return 0;
fail:
    web_reco_close(r, 0);
    return -1;
}

int web_reco_save(web_reco *r) {
    soma_error err;
    pthread_rwlock_rdlock(&r->lock);
    int rc = soma_rec_model_save(r->m, r->path, &err);
    pthread_rwlock_unlock(&r->lock);
    if (rc) {
        web_log("reco: cannot save %s: %s", r->path, err.msg);
        return -1;
    }
    return 0;
}

void web_reco_close(web_reco *r, int save) {
    if (!r) return;
    if (save && r->m) web_reco_save(r);
    pthread_mutex_lock(&r->reg_mu);
    for (scorer_node *n = r->scorers, *next; n; n = next) {
        next = n->next;
        soma_rec_scorer_free(n->s);
        free(n);
    }
    pthread_mutex_unlock(&r->reg_mu);
    tl_scorer = NULL;
    soma_rec_model_free(r->m);
    pthread_rwlock_destroy(&r->lock);
    pthread_mutex_destroy(&r->reg_mu);
    free(r);
}

const char *web_reco_desc(web_reco *r) {
    return r->desc;
}

int web_reco_is_rating(web_reco *r) {
    return soma_rec_model_config(r->m)->task == SOMA_REC_RATING;
}

/* ---- scoring ------------------------------------------------------------------------------- */

static soma_rec_scorer *thread_scorer(web_reco *r) {
    if (tl_scorer && tl_generation == r->generation) return tl_scorer;
    soma_error err;
    soma_rec_scorer *s;
    if (soma_rec_scorer_create(&s, r->m, &err)) {
        web_log("reco: cannot create a scorer: %s", err.msg);
        return NULL;
    }
    scorer_node *n = malloc(sizeof *n);
    if (!n) {
        soma_rec_scorer_free(s);
        return NULL;
    }
    pthread_mutex_lock(&r->reg_mu);
    n->s = s;
    n->next = r->scorers;
    r->scorers = n;
    pthread_mutex_unlock(&r->reg_mu);
    tl_scorer = s;
    tl_generation = r->generation;
    return s;
}

/* The model's description of a user: its own slot if it has one, the side features and the
 * favourite genres from the database (preferences can change at any time). */
static soma_rec_user_desc user_desc(const soma_rec_model *m, const web_user *u) {
    soma_rec_user_desc d = {.slot = soma_rec_model_user_slot(m, u->id), .gender = u->gender,
                            .age = u->age, .occupation = u->occupation,
                            .fav_genres = u->fav_genres};
    if (d.occupation >= soma_rec_model_n_occupations(m)) d.occupation = -1;
    soma_rec_user_desc stored;
    if (d.slot >= 0 && d.fav_genres == 0 && soma_rec_model_user(m, d.slot, &stored) == 0)
        d.fav_genres = stored.fav_genres; /* MovieLens users: as the model derived them */
    snprintf(d.zip, sizeof d.zip, "%s", u->zip);
    return d;
}

uint32_t web_reco_user_fav(web_reco *r, int64_t user_id) {
    pthread_rwlock_rdlock(&r->lock);
    soma_rec_user_desc d;
    int32_t s = soma_rec_model_user_slot(r->m, user_id);
    uint32_t fav = s >= 0 && soma_rec_model_user(r->m, s, &d) == 0 ? d.fav_genres : 0;
    pthread_rwlock_unlock(&r->lock);
    return fav;
}

uint32_t web_reco_movie_genres(web_reco *r, int64_t movie_id) {
    pthread_rwlock_rdlock(&r->lock);
    soma_rec_movie_desc d;
    int32_t s = soma_rec_model_movie_slot(r->m, movie_id);
    uint32_t g = s >= 0 && soma_rec_model_movie(r->m, s, &d) == 0 ? d.genres : 0;
    pthread_rwlock_unlock(&r->lock);
    return g;
}

int web_reco_recommend(web_reco *r, const web_user *u, const int64_t *rated, int n_rated, int k,
                       web_reco_item *items, int *n) {
    *n = 0;
    int32_t *ex = malloc((size_t)(n_rated > 0 ? n_rated : 1) * sizeof *ex);
    soma_rec_hit *hits = malloc((size_t)k * sizeof *hits);
    if (!ex || !hits) {
        free(ex);
        free(hits);
        return -1;
    }
    pthread_rwlock_rdlock(&r->lock);
    int rc = -1;
    soma_rec_scorer *s = thread_scorer(r);
    if (s) {
        int n_ex = 0;
        for (int i = 0; i < n_rated; i++) {
            int32_t slot = soma_rec_model_movie_slot(r->m, rated[i]);
            if (slot >= 0) ex[n_ex++] = slot;
        }
        soma_rec_user_desc d = user_desc(r->m, u);
        soma_error err;
        int nh = 0;
        if (soma_rec_recommend(s, &d, ex, n_ex, k, hits, &nh, &err)) {
            web_log("reco: recommend failed: %s", err.msg);
        } else {
            for (int i = 0; i < nh; i++) {
                int64_t id = soma_rec_model_movie_id(r->m, hits[i].movie);
                if (id < 0) continue;
                items[*n] = (web_reco_item){id, hits[i].score};
                (*n)++;
            }
            rc = 0;
        }
    }
    pthread_rwlock_unlock(&r->lock);
    free(ex);
    free(hits);
    return rc;
}

float web_reco_score(web_reco *r, const web_user *u, int64_t movie) {
    float score = NAN;
    pthread_rwlock_rdlock(&r->lock);
    soma_rec_movie_desc mv;
    int32_t slot = soma_rec_model_movie_slot(r->m, movie);
    if (slot >= 0 && soma_rec_model_movie(r->m, slot, &mv) == 0) {
        soma_rec_user_desc d = user_desc(r->m, u);
        soma_error err;
        float s;
        if (soma_rec_score_pairs(r->m, &d, &mv, 1, &s, &err) == 0) {
            score = soma_rec_model_config(r->m)->task == SOMA_REC_RATING ? soma_rec_model_clip(r->m, s) : s;
        } else {
            web_log("reco: score failed: %s", err.msg);
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return score;
}

/* ---- changes --------------------------------------------------------------------------------- */

int web_reco_add_movie(web_reco *r, int64_t id, int year, uint32_t genres) {
    soma_rec_movie_desc d = {.slot = -1, .year = year, .genres = genres};
    soma_error err;
    int32_t slot;
    pthread_rwlock_wrlock(&r->lock);
    int rc = soma_rec_model_movie_slot(r->m, id) >= 0 ? 0
             : soma_rec_model_add_movie(r->m, &d, id, &slot, &err);
    pthread_rwlock_unlock(&r->lock);
    if (rc) web_log("reco: cannot add movie %lld: %s", (long long)id, err.msg);
    return rc ? -1 : 0;
}

int web_reco_rate(web_reco *r, const web_user *u, int64_t movie, int stars, double *seconds) {
    double t0 = web_now();
    soma_error err;
    int rc = 0;
    pthread_rwlock_wrlock(&r->lock);
    soma_rec_model *m = r->m;
    int32_t mslot = soma_rec_model_movie_slot(m, movie);
    soma_rec_movie_desc mv;
    if (mslot < 0 || soma_rec_model_movie(m, mslot, &mv)) {
        rc = -1;
        snprintf(err.msg, sizeof err.msg, "movie %lld is not in the model", (long long)movie);
        goto out;
    }
    soma_rec_user_desc d = user_desc(m, u);
    if (d.slot < 0) {
        int32_t slot;
        if ((rc = soma_rec_model_add_user(m, &d, u->id, &slot, &err))) goto out;
        d.slot = slot;
    }
    /* Rating task: the stars themselves. Top-N: a like (4-5 stars) is 1, a dislike (1-2) is 0,
     * 3 stars teaches nothing. */
    float target;
    if (soma_rec_model_config(m)->task == SOMA_REC_RATING) target = (float)stars;
    else if (stars >= 4) target = 1.0f;
    else if (stars <= 2) target = 0.0f;
    else goto out;
    rc = soma_rec_update(m, &d, &mv, target, UPDATE_STEPS, UPDATE_LR, UPDATE_REG, &err);
out:
    pthread_rwlock_unlock(&r->lock);
    *seconds = web_now() - t0;
    if (rc) {
        web_log("reco: update for user %lld, movie %lld failed: %s", (long long)u->id,
                (long long)movie, err.msg);
        return -1;
    }
    return 0;
}
