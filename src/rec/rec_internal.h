/*
 * rec/rec_internal.h — the recommender's private state, shared by the files of src/rec/.
 *
 *   features.c  the field layout and the encoding of users and movies into sparse rows
 *   model.c     the model object: create/free, catalogue, accessors, the kind vtable
 *   snn.c       the ranking SNN: sparse operator + integration mode + LIF over T + readout
 *   fm.c        the factorisation machine and the bias model
 *   train.c     losses, negative sampling, the epoch loop, early stopping, online updates
 *   eval.c      RMSE/MAE and leave-one-out HR/NDCG, batch scoring
 *   serve.c     per-user catalogue scoring with the user's part precomputed, top-K heap
 *   io.c        checkpoints
 *   split.c     train/test splits
 */
#ifndef SOMA_REC_INTERNAL_H
#define SOMA_REC_INTERNAL_H

#include "integrate/integrate.h"
#include "soma/rec.h"
#include "synapse/sparse.h"

#define REC_MAX_LAYERS 4
#define REC_FAV_TOP 3          /* favourite genres kept per known user */

/* ---- features ------------------------------------------------------------------------- */

typedef struct rec_layout {
    uint32_t fields;
    int64_t off[SOMA_REC_FIELD_COUNT], size[SOMA_REC_FIELD_COUNT];
    int64_t K;                  /* features in all */
    int32_t user_slots, movie_slots; /* id features: users/movies known at creation + spares */
    int n_genres, n_occ;
    int32_t max_rated;          /* RATED: the longest rated set (0: field off) */
    int max_user_nnz, max_movie_nnz, cap; /* cap = max_user_nnz + max_movie_nnz */
} rec_layout;

void rec_layout_init(rec_layout *L, uint32_t fields, int32_t user_slots, int32_t movie_slots,
                     int n_genres, int n_occ, int32_t max_rated);
/* Writes the user's (movie's) active features to id/x (room for L->max_user_nnz /
 * max_movie_nnz); returns how many. The user's rated set leaves out movie slot `skip` (the
 * pair's movie; -1: nothing). */
int rec_encode_user(const soma_rec_model *m, const soma_rec_user_desc *u, int32_t skip, int32_t *id, float *x);
int rec_encode_movie(const rec_layout *L, const soma_rec_movie_desc *m, int32_t *id, float *x);
int rec_age_group(int32_t age);      /* -1 unknown */
int rec_region(const char *zip);     /* -1 unknown */
int rec_decade(int32_t year);        /* -1 unknown */

/* Encoded (user, movie) rows: the user's features first, then the movie's. */
typedef struct rec_batch {
    int64_t rows, max_rows;
    int cap;
    int32_t *id;   /* (max_rows, cap) */
    float *x;      /* (max_rows, cap) values; padding slots are 0 */
    int32_t *nnz;  /* (max_rows) */
} rec_batch;

int rec_batch_init(rec_batch *b, int64_t max_rows, int cap);
void rec_batch_free(rec_batch *b);
/* Encodes (u, mv) into row r (r < max_rows); the user's rated set leaves out mv. */
void rec_batch_set(rec_batch *b, const soma_rec_model *m, int64_t r, const soma_rec_user_desc *u,
                   const soma_rec_movie_desc *mv);
/* The same with the rated set leaving out movie slot `skip` instead: a positive's sampled
 * negatives (and a held-out movie's ranked candidates) get the positive's set, so that the
 * user part of every row of one ranking is the same and the set cannot tell them apart. */
void rec_batch_set_skip(rec_batch *b, const soma_rec_model *m, int64_t r, const soma_rec_user_desc *u,
                        const soma_rec_movie_desc *mv, int32_t skip);

/* ---- the model ------------------------------------------------------------------------ */

typedef struct rec_ws rec_ws;

/* What differs between model kinds (dispatched a few times per batch). */
typedef struct rec_kind_ops {
    const char *name;
    int (*layout)(soma_rec_model *m, soma_error *err);        /* parameter offsets, n_params */
    void (*init_params)(soma_rec_model *m, soma_rng *rng);
    void (*prepare)(soma_rec_model *m);                      /* derived weights after a change */
    int (*ws_create)(rec_ws **out, const soma_rec_model *m, int64_t max_rows);
    void (*ws_free)(rec_ws *ws);
    /* scores (rows) of b; keeps what backward needs in ws */
    void (*forward)(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, float *scores);
    /* grads (n_params) = ∂(Σ_r dscores_r·score_r)/∂params, overwritten */
    void (*backward)(const soma_rec_model *m, rec_ws *ws, const rec_batch *b,
                     const float *dscores, float *grads);
    /* parameter segments tied to feature k (for row-wise L2 and online updates): returns the
     * count, OUT off/len (at most 8) */
    int (*feature_rows)(const soma_rec_model *m, int64_t k, int64_t *off, int64_t *len);
} rec_kind_ops;

extern const rec_kind_ops rec_snn_ops, rec_fm_ops, rec_pop_ops;

/* Caller id -> slot: open addressing, at most half full. */
typedef struct rec_idmap {
    int64_t *keys;
    int32_t *vals;  /* -1 = empty */
    int64_t cap;    /* a power of two */
} rec_idmap;

typedef struct rec_snn_layer {
    soma_synop *op;        /* layer 0: sparse (each workspace binds its own copy); later: dense */
    soma_integrator it;
    int64_t in, n;         /* input width, neurons */
    int64_t po, Eo, go;    /* offsets of its parameters, prepared weights, gradient workspace */
} rec_snn_layer;

struct soma_rec_model {
    soma_rec_config cfg;
    char desc[192];
    uint64_t seed;
    rec_layout L;
    const rec_kind_ops *ops;
    int64_t n_params;
    float *params;         /* (n_params) */
    /* SNN */
    int nl;
    rec_snn_layer layer[REC_MAX_LAYERS];
    soma_neuron_params np, np_out; /* hidden layers; the membrane readout neuron */
    int64_t o_ra, o_rb;    /* readout weights (width) and bias */
    int64_t n_E, n_gws;
    float *E;              /* (n_E) every layer's stacked weights */
    /* first-order part (SNN with first_order, FM, bias): w0 and w (K); -1 if absent */
    int64_t o_w0, o_w;
    /* FM factors (K, fm_k) */
    int64_t o_v;
    /* catalogue: descriptions and caller ids of every user and movie (slot = index) */
    int32_t n_users, users_cap, n_movies, movies_cap;
    soma_rec_user_desc *users;
    soma_rec_movie_desc *movies;
    int64_t *user_ids, *movie_ids;
    rec_idmap user_map, movie_map;
    float *pop;            /* (movies_cap) training ratings per movie */
    int64_t *rated_off;    /* RATED: (users_cap + 1) offsets into rated_mv; NULL when off */
    int32_t *rated_mv;     /* the users' rated sets (movie slots, ascending per user) */
    int32_t *mv_id;        /* (movies_cap, max_movie_nnz) each movie's encoded features */
    float *mv_x;
    int32_t *mv_n;
    char **genres, **occ;
    float rmin, rmax;
    /* online updates */
    rec_ws *upd_ws;
    float *upd_grads;
};

/* Re-encodes catalogue movie s (after add or load). */
void rec_model_encode_movie(soma_rec_model *m, int32_t s);
/* Allocates an empty model shell with catalogue capacity (used by create and load). */
int rec_model_alloc(soma_rec_model **out, const soma_rec_config *cfg, int32_t n_users,
                    int32_t n_movies, int n_genres, int n_occ, int32_t max_rated, soma_error *err);
/* Sets the kind's layout, allocates params/E and builds the description. */
int rec_model_finish_layout(soma_rec_model *m, soma_error *err);
void rec_model_prepare(soma_rec_model *m);

/* Workspaces of the SNN and the FM (their own sparse operator, tapes, gradient buffers). */
struct rec_ws {
    int64_t max_rows;
    /* SNN */
    soma_synop *op0;            /* this workspace's sparse operator */
    soma_integrator it0;        /* layer 0's integrator, pointing at op0 */
    float *Y[REC_MAX_LAYERS];   /* integration tape: layer 0 (rows, S0), later (T·rows, S) */
    float *out[REC_MAX_LAYERS]; /* (T, rows, N) spikes */
    float *mem[REC_MAX_LAYERS]; /* (T, rows, N) pre-reset membrane */
    float *cur, *dcur, *dout, *dx, *u, *scratch, *gws;
    float *z;                   /* (rows, N) readout input: rates */
    float *rcur, *rmem, *rout, *rd; /* (T, rows) membrane readout neuron */
    float *fo;                  /* (rows) first-order sums */
    float *mask;                /* (rows, N) readout dropout mask ÷ (1 − p), training only */
    bool train;                 /* set by the trainer for its forward passes */
    uint64_t drop_seed;         /* the batch's dropout stream */
    /* FM */
    float *p, *q;               /* (rows, k) */
};

void rec_ws_free(rec_ws *ws);

/* Which movies each user has rated: one bit per (user, movie), for negative sampling. */
typedef struct rec_rated {
    int32_t n_users, n_movies;
    int64_t words;      /* uint64 words per user */
    uint64_t *bits;     /* (n_users, words) */
} rec_rated;
int rec_rated_build(rec_rated *rt, int32_t n_users, int32_t n_movies, const soma_rec_ratings *a,
                    const soma_rec_ratings *b, soma_error *err);
void rec_rated_free(rec_rated *rt);
static inline bool rec_rated_has(const rec_rated *rt, int32_t u, int32_t mv) {
    return rt->bits[u * rt->words + (mv >> 6)] >> (mv & 63) & 1u;
}
/* A uniformly drawn movie the user has not rated (any movie if the user rated them all). */
int32_t rec_sample_negative(const rec_rated *rt, int32_t u, soma_rng *rng);
/* Checks that every rating's slots lie inside the model's catalogue. */
int rec_check_ratings(const soma_rec_model *m, const soma_rec_ratings *r, const char *what,
                      soma_error *err);

/* The first-order sum over a row's slots in slot order (so serving can continue it). */
static inline float rec_first_order(const float *w, const int32_t *id, const float *x, int64_t n,
                                    float acc) {
    for (int64_t j = 0; j < n; j++) acc += w[id[j]] * x[j];
    return acc;
}

/* SNN pieces shared by training and serving (snn.c). */
void rec_snn_combine(const soma_rec_model *m, float *cur, const float *Y, int64_t rows);
void rec_snn_from_current(const soma_rec_model *m, rec_ws *ws, const float *cur0, int64_t rows,
                          const float *fo, float *scores);
/* FM's final combine shared by training and serving (fm.c). */
float rec_fm_finish(const soma_rec_model *m, float fo, const float *p, const float *q);

#endif
