/*
 * soma/rec.h — movie recommendation: MovieLens data, sparse feature encoding, a ranking SNN of
 * bilinear neurons (and its baselines), training, evaluation, checkpoints and fast serving.
 *
 * A tour (error handling left out; every function returning int returns a soma_status):
 *
 *   soma_rec_data d;                                         // the catalogue + all ratings
 *   soma_rec_load(&d, "../shared/data/ml-100k", &err);       // ML-100k or ML-1M, by content
 *   soma_rec_ratings tr, te;
 *   soma_rec_split_official(&d, "../shared/data/ml-100k", 1, &tr, &te, &err);   // u1.base/test
 *
 *   soma_rec_config cfg = soma_rec_default_config();         // bilinear LIF SNN, rating task
 *   soma_rec_model *m;
 *   soma_rec_model_create(&m, &cfg, &d, &tr, seed, &err);    // feature layout from d (+ tr)
 *   soma_rec_train_options o = soma_rec_default_train_options(SOMA_REC_RATING);
 *   soma_rec_train(m, &tr, NULL, &o, &res, &err);            // NULL: hold out o.val_fraction
 *   soma_rec_eval_rating(m, &te, &met, &err);                // RMSE, MAE
 *   soma_rec_model_save(m, "rec.soma", &err);
 *
 *   soma_rec_scorer *s;                                      // per serving thread
 *   soma_rec_scorer_create(&s, m, &err);
 *   soma_rec_user_desc u;  soma_rec_model_user(m, slot, &u); // or fill one for a new user
 *   soma_rec_recommend(s, &u, rated, n_rated, 10, hits, &n_hits, &err);
 *
 * ---- Data ---------------------------------------------------------------------------------
 * MovieLens-100k (u.data, u.item, u.user, u.genre, u.occupation; tab- and '|'-separated) and
 * MovieLens-1M (ratings.dat, users.dat, movies.dat; "::"-separated) are read from a directory
 * (never shipped with Soma: MovieLens may not be redistributed). Titles are Latin-1 in the
 * files and UTF-8 in memory. Users and movies are stored densely in file order; ratings refer
 * to them by that index ("slot"); the files' ids are kept (soma_rec_data_user_index maps back).
 * Malformed lines fail with SOMA_E_FORMAT and a message "<file>:<line>: <what>".
 *
 * ---- Features -----------------------------------------------------------------------------
 * A (user, movie) pair is one sparse vector: a list of (feature id, value). Feature ids are
 * grouped in fields laid out in this order (sizes fixed when the model is created):
 *
 *   field          size                 value          from
 *   USER           n_users + spare      1              the user's slot (absent for new users)
 *   GENDER         2 (M, F)             1              user
 *   AGE            7 groups             1              user: <18, 18–24, 25–34, 35–44, 45–49,
 *                                                      50–55, 56+ (ML-1M's groups)
 *   OCCUPATION     n_occupations        1              user
 *   REGION         11                   1              first digit of a US zip code; 10 = other
 *   FAV_GENRES     n_genres             1/|F|          user's favourite genres F (for known
 *                                                      users: the ≤ 3 genres they rated ≥ 4 most
 *                                                      often in the training ratings)
 *   MOVIE          n_movies + spare     1              the movie's slot (absent for new movies)
 *   DECADE         14                   1              release year: 0..12 = 1900s … 2020s (and
 *                                                      later), 13 = before 1900
 *   GENRES         n_genres             1/|G|          the movie's genres G
 *
 * and, when switched on (config.fields includes SOMA_REC_F_RATED; off by default), between
 * FAV_GENRES and MOVIE:
 *   RATED          n_movies + spare     |N|^−p         implicit feedback (SVD++ / libFM style):
 *                                                      N = the movies the user rated in the
 *                                                      training ratings given at creation (at
 *                                                      most config.rated_cap, the latest kept),
 *                                                      p = config.implicit_pow (½: 1/√|N|).
 *                                                      The pair's own movie is left out of N
 *                                                      (so a training row looks like an unrated
 *                                                      candidate at test time); a positive's
 *                                                      sampled negatives, and the candidates
 *                                                      ranked with a held-out movie, get the
 *                                                      same N \ {positive} (else the set's size
 *                                                      would mark the positive). New users and
 *                                                      users added later have N = ∅.
 *
 * User fields come first, so the user's part of every product is a prefix that serving
 * computes once. A field can be switched off (config.fields). Unknown attributes (gender 0,
 * age 0, occupation −1, empty zip) contribute nothing. A new movie (year + genres, no slot) or
 * a new user (side features and favourite genres, no ratings) is scored at once from its
 * attribute features; spare slots let either acquire its own id feature later (initialised to
 * zero, so it changes nothing until trained by soma_rec_update).
 *
 * ---- Models ---------------------------------------------------------------------------------
 *   SNN    features → `depth` spiking layers of `width` neurons over T steps with direct
 *          input (layer 1's current is computed once from the sparse vector through the sparse
 *          synaptic operator and the integration mode: linear, bilinear or shunting) →
 *          readout (spike rate, or the mean membrane of a non-spiking leaky readout neuron)
 *          → score = a·z + b (+ Σ w_k x_k, the first-order term, if config.first_order).
 *   FM     factorisation machine: w0 + Σ w_k x_k + Σ_{j<k} <v_j, v_k> x_j x_k (rank fm_k).
 *   BIAS   μ + b_user + b_movie (the global / user / item bias baseline).
 *   POP    most popular: the movie's number of training ratings (top-N only; no training).
 * Scores are ratings for the rating task (clip them with soma_rec_model_clip) and unbounded
 * preferences for top-N.
 *
 * ---- Ownership, errors, threads -----------------------------------------------------------
 * Whoever creates frees (soma_rec_data_free, soma_rec_ratings_free, soma_rec_model_free,
 * soma_rec_scorer_free; all NULL-safe). Functions returning int return SOMA_OK or a negative
 * soma_status and fill err (may be NULL) with a message; on failure outputs are left empty and
 * nothing is half-built. Nothing prints. A model may be read by many scorers in parallel (one
 * scorer per thread); functions that change a model (train, update, add_movie, add_user) need
 * exclusive access, and scorers created before such a call see the change at their next call.
 */
#ifndef SOMA_REC_H
#define SOMA_REC_H

#include "core.h"
#include "net.h"
#include "neuron.h"
#include "train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- data -------------------------------------------------------------------------------- */

#define SOMA_REC_MAX_GENRES 32   /* genre sets are uint32_t bit masks */
#define SOMA_REC_AGE_GROUPS 7
#define SOMA_REC_REGIONS 11
#define SOMA_REC_DECADES 14

typedef struct soma_rec_user {
    int32_t id;          /* the file's user id */
    int32_t age;         /* years (ML-100k) or ML-1M's age code (1, 18, 25, ...); 0 unknown */
    char gender;         /* 'M', 'F', 0 unknown */
    int32_t occupation;  /* index into soma_rec_data.occupations, -1 unknown */
    char zip[16];        /* as in the file (ASCII), "" unknown */
} soma_rec_user;

typedef struct soma_rec_movie {
    int32_t id;          /* the file's movie id */
    char *title;         /* UTF-8, NUL-terminated, owned by the soma_rec_data */
    int32_t year;        /* release year, 0 unknown */
    uint32_t genres;     /* bit g: genre g of soma_rec_data.genres */
} soma_rec_movie;

typedef struct soma_rec_rating {
    int32_t user, movie; /* slots (indices into users / movies) */
    float rating;
    int64_t time;        /* seconds since 1970 */
} soma_rec_rating;

typedef struct soma_rec_ratings {
    int64_t n;
    soma_rec_rating *r;  /* (n), owned (soma_malloc) */
} soma_rec_ratings;

typedef struct soma_rec_data {
    char name[16];             /* "ml-100k", "ml-1m" */
    int32_t n_users, n_movies;
    soma_rec_user *users;      /* (n_users) */
    soma_rec_movie *movies;    /* (n_movies) */
    soma_rec_ratings ratings;  /* every rating (u.data / ratings.dat), file order */
    int32_t n_genres, n_occupations;
    char **genres;             /* (n_genres) names, UTF-8 */
    char **occupations;        /* (n_occupations) names */
    float rating_min, rating_max;
    int32_t *user_index;       /* private: file id -> slot (-1), ids 0..max_user_id */
    int32_t *movie_index;
    int32_t max_user_id, max_movie_id;
} soma_rec_data;

/* Loads a MovieLens directory: ML-100k if it holds u.data, ML-1M if it holds ratings.dat.
 * On error *d is left zeroed. Free with soma_rec_data_free. */
int soma_rec_load(soma_rec_data *d, const char *dir, soma_error *err);
int soma_rec_load_ml100k(soma_rec_data *d, const char *dir, soma_error *err);
int soma_rec_load_ml1m(soma_rec_data *d, const char *dir, soma_error *err);
void soma_rec_data_free(soma_rec_data *d);
void soma_rec_ratings_free(soma_rec_ratings *r);

/* File id -> slot, -1 if unknown. */
int32_t soma_rec_data_user_index(const soma_rec_data *d, int64_t id);
int32_t soma_rec_data_movie_index(const soma_rec_data *d, int64_t id);
/* Genre name -> index (case-insensitive), -1 if unknown. */
int soma_rec_data_genre(const soma_rec_data *d, const char *name);

/* Parsing cores over memory (pure; for tests and fuzzing). name is used in messages. */
int soma_rec_parse_ratings(soma_rec_ratings *out, const soma_rec_data *d, const char *text,
                           size_t len, const char *sep, const char *name, soma_error *err);

/* ---- splits ------------------------------------------------------------------------------- */

/* The official ML-100k fold k = 1..5 (uK.base / uK.test in dir). */
int soma_rec_split_official(const soma_rec_data *d, const char *dir, int fold,
                            soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err);
/* A random split of r: a fraction `test_fraction` of the ratings go to test (seeded). */
int soma_rec_split_random(const soma_rec_ratings *r, double test_fraction, uint64_t seed,
                          soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err);
/* Leave-one-out: each user's latest rating (largest time; ties: the later line) is the test
 * rating, the rest train. Users with a single rating stay in train. */
int soma_rec_split_loo(const soma_rec_ratings *r, int32_t n_users, soma_rec_ratings *train,
                       soma_rec_ratings *test, soma_error *err);
/* Five random folds of r (seeded): fold k (0..4) is test, the others train. */
int soma_rec_split_kfold(const soma_rec_ratings *r, int folds, int k, uint64_t seed,
                         soma_rec_ratings *train, soma_rec_ratings *test, soma_error *err);

/* ---- feature descriptions -------------------------------------------------------------- */

typedef enum soma_rec_field {
    SOMA_REC_F_USER = 0, SOMA_REC_F_GENDER, SOMA_REC_F_AGE, SOMA_REC_F_OCCUPATION,
    SOMA_REC_F_REGION, SOMA_REC_F_FAV_GENRES, SOMA_REC_F_MOVIE, SOMA_REC_F_DECADE,
    SOMA_REC_F_GENRES,
    SOMA_REC_F_RATED,   /* implicit feedback (a user field; numbered last so that masks saved
                           before it existed keep their meaning, laid out after FAV_GENRES) */
    SOMA_REC_FIELD_COUNT
} soma_rec_field;
#define SOMA_REC_FIELDS_ALL ((1u << SOMA_REC_FIELD_COUNT) - 1u)
#define SOMA_REC_FIELDS_IDS ((1u << SOMA_REC_F_USER) | (1u << SOMA_REC_F_MOVIE))
/* ids + side features: every field but RATED (the default) */
#define SOMA_REC_FIELDS_SIDE (SOMA_REC_FIELDS_ALL & ~(1u << SOMA_REC_F_RATED))
const char *soma_rec_field_name(soma_rec_field f); /* "user", "gender", ..., "rated" */
/* Parses a comma list of field names and the groups "all", "side" and "ids" (e.g.
 * "side,rated") into a mask; -1 on an unknown name. */
int64_t soma_rec_fields_parse(const char *s);

/* What the model needs to know about a user. A new user has slot −1. */
typedef struct soma_rec_user_desc {
    int32_t slot;         /* the model's user slot, or -1 */
    char gender;          /* 'M', 'F' or 0 */
    int32_t age;          /* years or ML-1M age code; 0 unknown */
    int32_t occupation;   /* index into the model's occupation list, -1 unknown */
    char zip[16];         /* "" unknown */
    uint32_t fav_genres;  /* bit g = genre g; 0 none */
} soma_rec_user_desc;

/* What the model needs to know about a movie. A new movie has slot −1. */
typedef struct soma_rec_movie_desc {
    int32_t slot;         /* the model's movie slot, or -1 */
    int32_t year;         /* 0 unknown */
    uint32_t genres;
} soma_rec_movie_desc;

/* ---- models ---------------------------------------------------------------------------- */

typedef enum soma_rec_kind {
    SOMA_REC_SNN = 0,
    SOMA_REC_FM,
    SOMA_REC_BIAS,
    SOMA_REC_POP,
    SOMA_REC_KIND_COUNT
} soma_rec_kind;
const char *soma_rec_kind_name(soma_rec_kind k); /* "snn" "fm" "bias" "pop" */
int soma_rec_kind_parse(const char *s);

typedef enum soma_rec_task { SOMA_REC_RATING = 0, SOMA_REC_TOPN, SOMA_REC_TASK_COUNT } soma_rec_task;
const char *soma_rec_task_name(soma_rec_task t); /* "rating" "topn" */
int soma_rec_task_parse(const char *s);

typedef struct soma_rec_config {
    soma_rec_kind kind;
    soma_rec_task task;
    uint32_t fields;                 /* mask of (1 << soma_rec_field); BIAS uses user + movie */
    /* SNN */
    int T;                           /* time steps (direct input: the same current each step) */
    int width, depth;                /* neurons per spiking layer, number of spiking layers */
    soma_integrate_params integrate; /* of layer 1 (later layers: the same mode, dense); for
                                        the recommender v_scale is the std of V at init (not
                                        × 1/√M: only ~15 of the inputs are ever active) */
    soma_neuron_params neuron;
    soma_readout readout;            /* RATE: z = spike rates; MEMBRANE: leaky readout neuron */
    bool first_order;                /* add w0 + Σ w_k x_k to the SNN's score */
    float dropout;                   /* training only: drop each last-layer neuron from the
                                        readout with this probability (one mask per sample
                                        for all T steps, inverted scaling) */
    float init_std;                  /* std of W (per active feature) and readout init */
    /* implicit feedback (the RATED field) */
    float implicit_pow;              /* value of each of the user's rated movies: |N|^−pow */
    int32_t rated_cap;               /* keep at most this many (the latest); 0 = all */
    /* FM */
    int fm_k;                        /* factors */
    /* serving */
    int32_t spare_users, spare_movies; /* id slots for users / movies added after training */
} soma_rec_config;

/* SNN, rating task, fields SOMA_REC_FIELDS_SIDE (RATED off; implicit_pow ½, rated_cap 0 for
 * when it is switched on), T = 8, width 32, depth 1, bilinear rank 1 (λ₀ = 1, V ~ N(0,
 * 0.02²)), W ~ N(0, 0.02²), LIF α = 0.5, θ = 1, hard reset, sigmoid surrogate, rate readout,
 * readout dropout 0.5, first-order term on; FM k = 8 (its V ~ N(0, init_std²)); 64 spare
 * users and movies. */
soma_rec_config soma_rec_default_config(void);

typedef struct soma_rec_model soma_rec_model;

/* Builds a model for the catalogue d: field sizes from d; user and movie attributes (and the
 * favourite genres and, with the RATED field, the users' rated sets, from `train` if not
 * NULL: pass training ratings only) are copied into the model, so it needs neither d nor train
 * afterwards. POP counts `train`. Parameters are initialised from seed. */
int soma_rec_model_create(soma_rec_model **out, const soma_rec_config *cfg,
                          const soma_rec_data *d, const soma_rec_ratings *train, uint64_t seed,
                          soma_error *err);
void soma_rec_model_free(soma_rec_model *m);

const soma_rec_config *soma_rec_model_config(const soma_rec_model *m);
int64_t soma_rec_model_n_params(const soma_rec_model *m);
int64_t soma_rec_model_n_features(const soma_rec_model *m);
/* A one-line description ("snn 2648 features -> 64 bilinear(R=1) lif, T=8, rate readout"). */
const char *soma_rec_model_desc(const soma_rec_model *m);
int32_t soma_rec_model_n_users(const soma_rec_model *m);   /* slots in use */
int32_t soma_rec_model_n_movies(const soma_rec_model *m);
/* The stored description of user / movie slot s (SOMA_E_ARG if out of range). */
int soma_rec_model_user(const soma_rec_model *m, int32_t s, soma_rec_user_desc *out);
int soma_rec_model_movie(const soma_rec_model *m, int32_t s, soma_rec_movie_desc *out);
/* The file id stored for a slot (as given at create/add), and the reverse (-1 if none). */
int64_t soma_rec_model_user_id(const soma_rec_model *m, int32_t slot);
int64_t soma_rec_model_movie_id(const soma_rec_model *m, int32_t slot);
int32_t soma_rec_model_user_slot(const soma_rec_model *m, int64_t id);
int32_t soma_rec_model_movie_slot(const soma_rec_model *m, int64_t id);
/* Genre and occupation names the model was built with (NULL if out of range). */
int soma_rec_model_n_genres(const soma_rec_model *m);
const char *soma_rec_model_genre(const soma_rec_model *m, int g);
int soma_rec_model_n_occupations(const soma_rec_model *m);
const char *soma_rec_model_occupation(const soma_rec_model *m, int o);
/* Clips a rating-task score to the rating range of the training data. */
float soma_rec_model_clip(const soma_rec_model *m, float score);

/* Adds a movie to the catalogue (e.g. one entered on a web site): it is scorable at once
 * from its year and genres. It takes a spare id slot if one is left (then desc->slot is
 * ignored and OUT: *slot is the new slot; its id feature starts at zero). id is the caller's
 * movie id (for soma_rec_model_movie_slot). SOMA_E_SHAPE when no catalogue slot is left. */
int soma_rec_model_add_movie(soma_rec_model *m, const soma_rec_movie_desc *desc, int64_t id,
                             int32_t *slot, soma_error *err);
/* Adds a user the same way (side features + favourite genres; no ratings needed). */
int soma_rec_model_add_user(soma_rec_model *m, const soma_rec_user_desc *desc, int64_t id,
                            int32_t *slot, soma_error *err);

/* Writes the encoded features of a pair: OUT ids (cap) and values (cap), returns the count
 * (≤ soma_rec_model_max_nnz), user features first. For inspection and tests. */
int soma_rec_encode(const soma_rec_model *m, const soma_rec_user_desc *u,
                    const soma_rec_movie_desc *mv, int32_t *ids, float *vals, int cap);
int soma_rec_model_max_nnz(const soma_rec_model *m);
/* The user's rated set N of the RATED field (movie slots, ascending): returns |N| and points
 * *movies at them (valid until the model changes); 0 for an unknown slot or without RATED. */
int32_t soma_rec_model_user_rated(const soma_rec_model *m, int32_t slot, const int32_t **movies);

/* ---- training ----------------------------------------------------------------------------- */

typedef enum soma_rec_loss {
    SOMA_REC_LOSS_MSE = 0, /* rating regression */
    SOMA_REC_LOSS_BPR,     /* −log σ(s_pos − s_neg), one sampled negative per positive */
    SOMA_REC_LOSS_BCE,     /* logistic loss, `negatives` sampled negatives per positive */
    SOMA_REC_LOSS_COUNT
} soma_rec_loss;
const char *soma_rec_loss_name(soma_rec_loss l); /* "mse" "bpr" "bce" */
int soma_rec_loss_parse(const char *s);

typedef struct soma_rec_train_options {
    soma_rec_loss loss;
    int epochs, batch;
    int patience;            /* early stopping: epochs without a better validation score */
    double val_fraction;     /* held out of train when no validation set is given */
    soma_optim_params optim; /* the core's optimisers (soma/train.h) */
    soma_schedule schedule;
    float reg;               /* L2 on the parameter rows of the active features, per use */
    float reg_linear;        /* the same for their first-order weights w_k (biases of ids) */
    float ema;               /* validate and keep an exponential moving average of the
                                parameters with this decay per step (0 = off) */
    int negatives;           /* BCE: sampled negatives per positive */
    int eval_negatives;      /* top-N validation: sampled negatives per held-out positive */
    uint64_t seed;           /* shuffling, sampling, validation split */
    soma_progress_fn progress; /* may be NULL; called per batch (loss = running mean) */
    /* may be NULL; called after each epoch with its mean training loss and the validation
     * metric (RMSE, or HR@10 for top-N; NAN without validation) */
    void (*on_epoch)(int epoch, double train_loss, double val, void *user);
    void *user;
} soma_rec_train_options;

/* Adam lr 1e-3, batch 256, at most 40 epochs, patience 6, 5 % validation, reg 0.3,
 * reg_linear 0.1, parameter EMA 0.999; MSE for RATING, BPR for TOPN. */
soma_rec_train_options soma_rec_default_train_options(soma_rec_task task);

typedef struct soma_rec_train_result {
    int epochs_run, best_epoch;      /* 1-based */
    double best_val;                 /* RMSE (rating) or HR@10 (top-N) */
    double train_loss;               /* of the last epoch */
    double seconds, samples_per_s;   /* training only (not validation) */
} soma_rec_train_result;

/* Trains on `train`, validating after each epoch on `val` (or, when val is NULL, on a held-out
 * fraction of train: a random val_fraction for MSE, each user's latest rating for top-N), and
 * keeps the parameters of the best epoch (their moving average when ema > 0). Without any
 * validation it trains all epochs and keeps the last (averaged) parameters. Runs on the
 * calling thread only. POP needs no training. Errors: SOMA_E_ARG for bad options or ratings
 * outside the catalogue, SOMA_E_NOMEM, and SOMA_E_ARG "training diverged" on a NaN loss (the
 * model then holds the best parameters so far, or its initial ones). */
int soma_rec_train(soma_rec_model *m, const soma_rec_ratings *train, const soma_rec_ratings *val,
                   const soma_rec_train_options *o, soma_rec_train_result *res, soma_error *err);

/* Online update: `steps` plain SGD steps (learning rate lr, L2 reg) on one (user, movie,
 * rating) — rating = 1 for a like in the top-N task — changing only the parameters of the
 * user's id feature (so a new user must first get a slot with soma_rec_model_add_user).
 * SOMA_E_ARG if the user has no slot. */
int soma_rec_update(soma_rec_model *m, const soma_rec_user_desc *u, const soma_rec_movie_desc *mv,
                    float rating, int steps, float lr, float reg, soma_error *err);

/* ---- evaluation ------------------------------------------------------------------------- */

typedef struct soma_rec_metrics {
    double rmse, mae;        /* rating (scores clipped to the rating range) */
    double hr, ndcg;         /* top-N: hit rate and NDCG at k */
    int k;
    int64_t n;               /* ratings or users evaluated */
    double seconds;
} soma_rec_metrics;

int soma_rec_eval_rating(const soma_rec_model *m, const soma_rec_ratings *test,
                         soma_rec_metrics *out, soma_error *err);
/* Leave-one-out ranking: each test rating's movie against n_neg movies the user has not rated
 * in `all` (sampled with seed, the same for every model), HR@k and NDCG@k. */
int soma_rec_eval_topn(const soma_rec_model *m, const soma_rec_ratings *all,
                       const soma_rec_ratings *test, int n_neg, int k, uint64_t seed,
                       soma_rec_metrics *out, soma_error *err);

/* Scores n pairs (a batch through the training forward pass). OUT: scores (n). Allocates a
 * workspace per call, so it is safe from several threads at once (the model is only read);
 * for a whole catalogue use a scorer. */
int soma_rec_score_pairs(const soma_rec_model *m, const soma_rec_user_desc *u,
                         const soma_rec_movie_desc *mv, int64_t n, float *scores,
                         soma_error *err);

/* ---- serving ---------------------------------------------------------------------------- */

typedef struct soma_rec_scorer soma_rec_scorer;

/* Scratch for scoring one user against the catalogue; one per thread. It keeps a pointer to m
 * (which must outlive it) and sizes itself to the catalogue at each call (adding movies grows
 * it: the only allocation, and only then). */
int soma_rec_scorer_create(soma_rec_scorer **out, const soma_rec_model *m, soma_error *err);
void soma_rec_scorer_free(soma_rec_scorer *s);

/* Scores every catalogue movie for u (OUT: scores (soma_rec_model_n_movies)). The user's part
 * of every neuron's current is computed once; each movie then costs its own few features. */
int soma_rec_score_all(soma_rec_scorer *s, const soma_rec_user_desc *u, float *scores,
                       soma_error *err);

typedef struct soma_rec_hit {
    int32_t movie;  /* slot */
    float score;
} soma_rec_hit;

/* Top-k movies for u, best first, excluding the `n_exclude` slots in `exclude` (e.g. the
 * movies the user has rated). OUT: hits (k), *n_hits (≤ k). */
int soma_rec_recommend(soma_rec_scorer *s, const soma_rec_user_desc *u, const int32_t *exclude,
                       int64_t n_exclude, int k, soma_rec_hit *hits, int *n_hits,
                       soma_error *err);

/* ---- checkpoints ------------------------------------------------------------------------ */

/* Saves config, feature layout, the user/movie catalogue (descriptions and ids), the users'
 * rated sets (RATED field), genre and occupation names and the parameters in the soma
 * checkpoint container (format key "soma.format" = "soma-rec-2"). Atomic, like every
 * checkpoint write. */
int soma_rec_model_save(const soma_rec_model *m, const char *path, soma_error *err);
/* Loads a model saved by soma_rec_model_save (validated: format, every size, every tensor).
 * Reads "soma-rec-2" and the older "soma-rec-1" (no RATED field); other versions fail with
 * SOMA_E_VERSION. */
int soma_rec_model_load(soma_rec_model **out, const char *path, soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
