/*
 * rec/model.c — the recommender model object: configuration, creation from a catalogue, the
 * user/movie catalogue (descriptions, caller ids, growth at run time), accessors and names.
 * The maths of each kind is in snn.c and fm.c, training in train.c, serving in serve.c.
 */
#include "rec/rec_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const kind_names[] = {"snn", "fm", "bias", "pop"};
static const char *const task_names[] = {"rating", "topn"};

const char *soma_rec_kind_name(soma_rec_kind k) { return (unsigned)k < SOMA_REC_KIND_COUNT ? kind_names[k] : "?"; }
int soma_rec_kind_parse(const char *s) {
    for (int i = 0; s && i < SOMA_REC_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) return i;
    return -1;
}
const char *soma_rec_task_name(soma_rec_task t) { return (unsigned)t < SOMA_REC_TASK_COUNT ? task_names[t] : "?"; }
int soma_rec_task_parse(const char *s) {
    for (int i = 0; s && i < SOMA_REC_TASK_COUNT; i++)
        if (strcmp(s, task_names[i]) == 0) return i;
    return -1;
}

soma_rec_config soma_rec_default_config(void) {
    soma_rec_config c;
    memset(&c, 0, sizeof c);
    c.kind = SOMA_REC_SNN;
    c.task = SOMA_REC_RATING;
    c.T = 8;
    c.width = 32;
    c.depth = 1;
    c.integrate = soma_integrate_default_params();
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    c.integrate.rank = 1;
    c.integrate.lambda_init = 1.0f;
    c.integrate.v_scale = 0.02f;
    c.integrate.shunt_k = 1.0f;
    c.integrate.shunt_scale = 0.1f;
    c.neuron = soma_neuron_default_params();
    c.readout = SOMA_READOUT_RATE;
    c.first_order = true;
    c.dropout = 0.5f;
    c.init_std = 0.02f;
    c.fields = SOMA_REC_FIELDS_SIDE;
    c.implicit_pow = 0.5f;
    c.rated_cap = 0;
    c.fm_k = 8;
    c.spare_users = 64;
    c.spare_movies = 64;
    return c;
}

static const rec_kind_ops *ops_of(soma_rec_kind k) {
    switch (k) {
    case SOMA_REC_SNN: return &rec_snn_ops;
    case SOMA_REC_FM:
    case SOMA_REC_BIAS: return &rec_fm_ops;
    case SOMA_REC_POP: return &rec_pop_ops;
    default: return NULL;
    }
}

/* ---- id maps ------------------------------------------------------------------------------------ */

static uint64_t id_hash(int64_t id) { return soma_hash3(0x1d5eedULL, (uint64_t)id, 0); }

static void idmap_free(rec_idmap *mp) {
    soma_free(mp->keys);
    soma_free(mp->vals);
    memset(mp, 0, sizeof *mp);
}

static int32_t idmap_get(const rec_idmap *mp, int64_t id) {
    if (!mp->cap) return -1;
    for (uint64_t i = id_hash(id) & (uint64_t)(mp->cap - 1);; i = (i + 1) & (uint64_t)(mp->cap - 1)) {
        if (mp->vals[i] < 0) return -1;
        if (mp->keys[i] == id) return mp->vals[i];
    }
}

static void idmap_put_raw(rec_idmap *mp, int64_t id, int32_t v) {
    uint64_t i = id_hash(id) & (uint64_t)(mp->cap - 1);
    while (mp->vals[i] >= 0) i = (i + 1) & (uint64_t)(mp->cap - 1);
    mp->keys[i] = id, mp->vals[i] = v;
}

/* Inserts id -> v for n = the entries already in the map (grows when half full). */
static int idmap_put(rec_idmap *mp, int64_t n, int64_t id, int32_t v) {
    if (2 * (n + 1) > mp->cap) {
        rec_idmap g;
        g.cap = mp->cap ? 2 * mp->cap : 64;
        while (2 * (n + 1) > g.cap) g.cap *= 2;
        g.keys = soma_malloc((size_t)g.cap * sizeof *g.keys);
        g.vals = soma_malloc((size_t)g.cap * sizeof *g.vals);
        if (!g.keys || !g.vals) {
            soma_free(g.keys), soma_free(g.vals);
            return SOMA_E_NOMEM;
        }
        for (int64_t i = 0; i < g.cap; i++) g.vals[i] = -1;
        for (int64_t i = 0; i < mp->cap; i++)
            if (mp->vals[i] >= 0) idmap_put_raw(&g, mp->keys[i], mp->vals[i]);
        idmap_free(mp);
        *mp = g;
    }
    idmap_put_raw(mp, id, v);
    return SOMA_OK;
}

static int check_config(const soma_rec_config *c, soma_error *err) {
    if ((unsigned)c->kind >= SOMA_REC_KIND_COUNT) return soma_fail(err, SOMA_E_ARG, "unknown model kind %d", (int)c->kind);
    if ((unsigned)c->task >= SOMA_REC_TASK_COUNT) return soma_fail(err, SOMA_E_ARG, "unknown task %d", (int)c->task);
    if (c->fields == 0 || c->fields > SOMA_REC_FIELDS_ALL) return soma_fail(err, SOMA_E_ARG, "feature field mask 0x%x selects no known field", c->fields);
    if (c->kind == SOMA_REC_SNN) {
        if (c->T < 1 || c->T > 64) return soma_fail(err, SOMA_E_ARG, "T = %d: expected 1..64", c->T);
        if (c->width < 1 || c->width > 4096) return soma_fail(err, SOMA_E_ARG, "width %d: expected 1..4096", c->width);
        if (c->depth < 1 || c->depth > REC_MAX_LAYERS) return soma_fail(err, SOMA_E_ARG, "depth %d: expected 1..%d", c->depth, REC_MAX_LAYERS);
        if (c->neuron.kind == SOMA_NEURON_PLIF) return soma_fail(err, SOMA_E_ARG, "the recommender does not support PLIF neurons (use lif, lif-tau or if)");
        if ((unsigned)c->neuron.kind >= SOMA_NEURON_KIND_COUNT || (unsigned)c->neuron.reset >= SOMA_RESET_COUNT ||
            (unsigned)c->neuron.surrogate >= SOMA_SURROGATE_COUNT)
            return soma_fail(err, SOMA_E_ARG, "unknown neuron kind, reset or surrogate");
        if (c->neuron.kind == SOMA_NEURON_LIF_TAU && !(c->neuron.tau > 1.0f)) return soma_fail(err, SOMA_E_ARG, "lif-tau needs tau > 1");
        if ((unsigned)c->readout >= SOMA_READOUT_COUNT) return soma_fail(err, SOMA_E_ARG, "unknown readout");
        if (!(c->dropout >= 0 && c->dropout < 1)) return soma_fail(err, SOMA_E_ARG, "dropout %g: expected [0, 1)", (double)c->dropout);
        if (!(c->init_std >= 0 && c->init_std < 100)) return soma_fail(err, SOMA_E_ARG, "init_std %g out of range", (double)c->init_std);
    }
    if (!(c->implicit_pow >= 0 && c->implicit_pow <= 4)) return soma_fail(err, SOMA_E_ARG, "implicit_pow %g: expected 0..4", (double)c->implicit_pow);
    if (c->rated_cap < 0) return soma_fail(err, SOMA_E_ARG, "rated_cap %d: expected >= 0 (0 = no cap)", (int)c->rated_cap);
    if (c->kind == SOMA_REC_FM && (c->fm_k < 0 || c->fm_k > 1024)) return soma_fail(err, SOMA_E_ARG, "fm_k %d: expected 0..1024", c->fm_k);
    if (c->spare_users < 0 || c->spare_users > 10000000 || c->spare_movies < 0 || c->spare_movies > 10000000)
        return soma_fail(err, SOMA_E_ARG, "spare slots out of range (0..10000000)");
    return SOMA_OK;
}

int rec_model_alloc(soma_rec_model **out, const soma_rec_config *cfg, int32_t n_users,
                    int32_t n_movies, int n_genres, int n_occ, int32_t max_rated, soma_error *err) {
    *out = NULL;
    int rc = check_config(cfg, err);
    if (rc) return rc;
    if (n_genres < 0 || n_genres > SOMA_REC_MAX_GENRES || n_occ < 0 || n_occ > 1000 || n_users < 0 || n_movies < 0 ||
        max_rated < 0 || max_rated > n_movies + cfg->spare_movies)
        return soma_fail(err, SOMA_E_ARG, "catalogue sizes out of range");
    soma_rec_model *m = soma_calloc(1, sizeof *m);
    if (!m) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a recommender");
    m->cfg = *cfg;
    if (cfg->kind == SOMA_REC_BIAS || cfg->kind == SOMA_REC_POP) m->cfg.fields = SOMA_REC_FIELDS_IDS;
    if (cfg->kind == SOMA_REC_BIAS) m->cfg.fm_k = 0;
    m->ops = ops_of(cfg->kind);
    rec_layout_init(&m->L, m->cfg.fields, n_users + cfg->spare_users, n_movies + cfg->spare_movies, n_genres, n_occ, max_rated);
    m->users_cap = n_users + cfg->spare_users + 16;
    m->movies_cap = n_movies + cfg->spare_movies + 16;
    const int mn = m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1;
    m->users = soma_calloc((size_t)m->users_cap, sizeof *m->users);
    m->user_ids = soma_calloc((size_t)m->users_cap, sizeof *m->user_ids);
    m->movies = soma_calloc((size_t)m->movies_cap, sizeof *m->movies);
    m->movie_ids = soma_calloc((size_t)m->movies_cap, sizeof *m->movie_ids);
    m->pop = soma_calloc((size_t)m->movies_cap, sizeof *m->pop);
    m->mv_id = soma_calloc((size_t)m->movies_cap * (size_t)mn, sizeof *m->mv_id);
    m->mv_x = soma_calloc((size_t)m->movies_cap * (size_t)mn, sizeof *m->mv_x);
    m->mv_n = soma_calloc((size_t)m->movies_cap, sizeof *m->mv_n);
    m->genres = soma_calloc((size_t)n_genres + 1, sizeof *m->genres);
    m->occ = soma_calloc((size_t)n_occ + 1, sizeof *m->occ);
    const bool rated = m->L.size[SOMA_REC_F_RATED] > 0;
    if (rated) m->rated_off = soma_calloc((size_t)m->users_cap + 1, sizeof *m->rated_off);
    if (!m->users || !m->user_ids || !m->movies || !m->movie_ids || !m->pop || !m->mv_id || !m->mv_x ||
        !m->mv_n || !m->genres || !m->occ || (rated && !m->rated_off)) {
        soma_rec_model_free(m);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a recommender");
    }
    m->rmin = 1.0f, m->rmax = 5.0f;
    *out = m;
    return SOMA_OK;
}

int rec_model_finish_layout(soma_rec_model *m, soma_error *err) {
    int rc = m->ops->layout(m, err);
    if (rc) return rc;
    m->params = soma_calloc((size_t)(m->n_params > 0 ? m->n_params : 1), sizeof *m->params);
    if (m->n_E > 0) m->E = soma_calloc((size_t)m->n_E, sizeof *m->E);
    if (!m->params || (m->n_E > 0 && !m->E))
        return soma_fail(err, SOMA_E_NOMEM, "out of memory for %lld parameters", (long long)m->n_params);
    const soma_rec_config *c = &m->cfg;
    if (c->kind == SOMA_REC_SNN) {
        char extra[32] = "";
        if (c->integrate.mode == SOMA_INTEGRATE_BILINEAR) snprintf(extra, sizeof extra, "(R=%d)", c->integrate.rank);
        snprintf(m->desc, sizeof m->desc, "snn: %lld features%s -> %d%s %s%s %s, T=%d, %s readout%s",
                 (long long)m->L.K, m->L.size[SOMA_REC_F_RATED] ? " (incl. rated)" : "", c->width, c->depth > 1 ? "" : "", soma_integrate_mode_name(c->integrate.mode), extra,
                 soma_neuron_kind_name(c->neuron.kind), c->T, soma_readout_name(c->readout),
                 c->first_order ? ", first-order term" : "");
        if (c->depth > 1) {
            size_t l = strlen(m->desc);
            snprintf(m->desc + l, sizeof m->desc - l, ", %d layers", c->depth);
        }
    } else if (c->kind == SOMA_REC_FM) {
        snprintf(m->desc, sizeof m->desc, "fm: %lld features%s, k=%d", (long long)m->L.K,
                 m->L.size[SOMA_REC_F_RATED] ? " (incl. rated)" : "", c->fm_k);
    } else if (c->kind == SOMA_REC_BIAS) {
        snprintf(m->desc, sizeof m->desc, "bias: global + %d users + %d movies", m->L.user_slots, m->L.movie_slots);
    } else {
        snprintf(m->desc, sizeof m->desc, "pop: most popular of %d movies", m->L.movie_slots);
    }
    return SOMA_OK;
}

void rec_model_prepare(soma_rec_model *m) {
    if (m->ops->prepare) m->ops->prepare(m);
}

void rec_model_encode_movie(soma_rec_model *m, int32_t s) {
    const int mn = m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1;
    m->mv_n[s] = rec_encode_movie(&m->L, &m->movies[s], m->mv_id + (int64_t)s * mn, m->mv_x + (int64_t)s * mn);
}

/* The ≤ 3 genres a user rated ≥ 4 most often (ties: lower genre index). */
static uint32_t fav_genres(const int32_t *counts, int n_genres) {
    uint32_t mask = 0;
    for (int pick = 0; pick < REC_FAV_TOP; pick++) {
        int best = -1;
        for (int g = 0; g < n_genres; g++)
            if (!(mask >> g & 1u) && counts[g] > 0 && (best < 0 || counts[g] > counts[best])) best = g;
        if (best < 0) break;
        mask |= 1u << best;
    }
    return mask;
}

typedef struct rated_item { int32_t user, movie; int64_t time; } rated_item;

static int cmp_rated(const void *a, const void *b) {
    const rated_item *x = a, *y = b;
    if (x->user != y->user) return x->user < y->user ? -1 : 1;
    if (x->time != y->time) return x->time > y->time ? -1 : 1; /* latest first */
    return x->movie < y->movie ? -1 : x->movie > y->movie;
}
static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* The RATED sets from the training ratings: per user the distinct movies rated (the latest
 * `cap` if cap > 0), ascending; OUT CSR offsets (n_users + 1), slots, the longest set. */
static int build_rated(const soma_rec_data *d, const soma_rec_ratings *tr, int32_t cap, int64_t **off_out,
                       int32_t **mv_out, int32_t *max_out, soma_error *err) {
    *off_out = NULL, *mv_out = NULL, *max_out = 0;
    rated_item *it = soma_malloc((size_t)tr->n * sizeof *it);
    int64_t *off = soma_calloc((size_t)d->n_users + 1, sizeof *off);
    int32_t *mv = soma_malloc((size_t)tr->n * sizeof *mv);
    if (!it || !off || !mv) {
        soma_free(it), soma_free(off), soma_free(mv);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory for the rated sets");
    }
    for (int64_t i = 0; i < tr->n; i++) {
        const soma_rec_rating *r = &tr->r[i];
        if (r->user < 0 || r->user >= d->n_users || r->movie < 0 || r->movie >= d->n_movies) {
            soma_free(it), soma_free(off), soma_free(mv);
            return soma_fail(err, SOMA_E_ARG, "training rating %lld refers to user slot %d / movie slot %d outside the catalogue",
                             (long long)i, r->user, r->movie);
        }
        it[i] = (rated_item){r->user, r->movie, r->time};
    }
    qsort(it, (size_t)tr->n, sizeof *it, cmp_rated);
    int64_t n = 0;
    int32_t longest = 0;
    for (int64_t i = 0, j; i < tr->n; i = j) {
        const int32_t u = it[i].user;
        const int64_t first = n;
        for (j = i; j < tr->n && it[j].user == u; j++) {
            bool dup = false; /* a movie rated twice counts once (its latest rating) */
            for (int64_t q = first; q < n && !dup; q++) dup = mv[q] == it[j].movie;
            if (!dup && (cap <= 0 || n - first < cap)) mv[n++] = it[j].movie;
        }
        qsort(mv + first, (size_t)(n - first), sizeof *mv, cmp_i32);
        off[u + 1] = n - first;
        if (n - first > longest) longest = (int32_t)(n - first);
    }
    for (int32_t u = 0; u < d->n_users; u++) off[u + 1] += off[u];
    soma_free(it);
    *off_out = off, *mv_out = mv, *max_out = longest;
    return SOMA_OK;
}

int soma_rec_model_create(soma_rec_model **out, const soma_rec_config *cfg,
                          const soma_rec_data *d, const soma_rec_ratings *train, uint64_t seed,
                          soma_error *err) {
    if (!out || !cfg || !d) return soma_fail(err, SOMA_E_ARG, "soma_rec_model_create: NULL argument");
    *out = NULL;
    if (d->n_users <= 0 || d->n_movies <= 0) return soma_fail(err, SOMA_E_ARG, "the catalogue has no users or no movies");
    soma_rec_model *m;
    int64_t *roff = NULL;
    int32_t *rmv = NULL, max_rated = 0;
    const bool rated = (cfg->fields >> SOMA_REC_F_RATED & 1u) && cfg->kind != SOMA_REC_BIAS && cfg->kind != SOMA_REC_POP;
    if (rated && train && train->n > 0) {
        int rc0 = build_rated(d, train, cfg->rated_cap, &roff, &rmv, &max_rated, err);
        if (rc0) return rc0;
    }
    int rc = rec_model_alloc(&m, cfg, d->n_users, d->n_movies, d->n_genres, d->n_occupations, max_rated, err);
    if (rc) {
        soma_free(roff), soma_free(rmv);
        return rc;
    }
    if (m->rated_off) {
        if (roff) memcpy(m->rated_off, roff, ((size_t)d->n_users + 1) * sizeof *roff);
        m->rated_mv = rmv, rmv = NULL;
    }
    soma_free(roff), soma_free(rmv);
    m->seed = seed;
    int32_t *counts = NULL;
    for (int g = 0; g < d->n_genres && !rc; g++)
        if (!(m->genres[g] = soma_malloc(strlen(d->genres[g]) + 1))) rc = SOMA_E_NOMEM;
        else strcpy(m->genres[g], d->genres[g]);
    for (int o = 0; o < d->n_occupations && !rc; o++)
        if (!(m->occ[o] = soma_malloc(strlen(d->occupations[o]) + 1))) rc = SOMA_E_NOMEM;
        else strcpy(m->occ[o], d->occupations[o]);
    if (rc) {
        rc = soma_fail(err, rc, "out of memory");
        goto fail;
    }
    /* users and movies */
    m->n_users = d->n_users, m->n_movies = d->n_movies;
    for (int32_t i = 0; i < d->n_users; i++) {
        const soma_rec_user *u = &d->users[i];
        soma_rec_user_desc *o = &m->users[i];
        o->slot = i, o->gender = u->gender, o->age = u->age, o->occupation = u->occupation;
        memcpy(o->zip, u->zip, sizeof o->zip);
        o->zip[sizeof o->zip - 1] = '\0';
        m->user_ids[i] = u->id;
        if (idmap_put(&m->user_map, i, u->id, i)) rc = SOMA_E_NOMEM;
    }
    for (int32_t i = 0; i < d->n_movies; i++) {
        m->movies[i] = (soma_rec_movie_desc){i, d->movies[i].year, d->movies[i].genres};
        m->movie_ids[i] = d->movies[i].id;
        if (idmap_put(&m->movie_map, i, d->movies[i].id, i)) rc = SOMA_E_NOMEM;
    }
    if (rc) {
        rc = soma_fail(err, rc, "out of memory");
        goto fail;
    }
    m->rmin = d->rating_min, m->rmax = d->rating_max;
    if (!(m->rmin <= m->rmax)) m->rmin = 1.0f, m->rmax = 5.0f;
    double mean = 0.5 * (m->rmin + m->rmax);
    if (train && train->n > 0) {
        /* favourite genres, popularity and the mean rating, from the training ratings only */
        counts = soma_calloc((size_t)d->n_users * (size_t)(d->n_genres > 0 ? d->n_genres : 1), sizeof *counts);
        if (!counts) {
            rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
            goto fail;
        }
        double sum = 0;
        for (int64_t i = 0; i < train->n; i++) {
            const soma_rec_rating *r = &train->r[i];
            if (r->user < 0 || r->user >= d->n_users || r->movie < 0 || r->movie >= d->n_movies) {
                rc = soma_fail(err, SOMA_E_ARG, "training rating %lld refers to user slot %d / movie slot %d outside the catalogue",
                               (long long)i, r->user, r->movie);
                goto fail;
            }
            sum += r->rating;
            m->pop[r->movie] += 1.0f;
            if (r->rating >= 4.0f)
                for (int g = 0; g < d->n_genres; g++)
                    if (d->movies[r->movie].genres >> g & 1u) counts[(int64_t)r->user * d->n_genres + g]++;
        }
        mean = sum / (double)train->n;
        for (int32_t i = 0; i < d->n_users; i++) m->users[i].fav_genres = fav_genres(counts + (int64_t)i * d->n_genres, d->n_genres);
    }
    if ((rc = rec_model_finish_layout(m, err))) goto fail;
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    m->ops->init_params(m, &rng);
    /* start the rating task at the mean rating */
    if (m->cfg.task == SOMA_REC_RATING) {
        if (m->o_w0 >= 0) m->params[m->o_w0] = (float)mean;
        else if (m->cfg.kind == SOMA_REC_SNN) m->params[m->o_rb] = (float)mean;
    }
    if (m->cfg.kind == SOMA_REC_POP)
        for (int32_t i = 0; i < d->n_movies && i < m->L.movie_slots; i++) m->params[i] = m->pop[i];
    rec_model_prepare(m);
    for (int32_t s = 0; s < m->n_movies; s++) rec_model_encode_movie(m, s);
    soma_free(counts);
    *out = m;
    return SOMA_OK;
fail:
    soma_free(counts);
    soma_rec_model_free(m);
    return rc;
}

void soma_rec_model_free(soma_rec_model *m) {
    if (!m) return;
    if (m->ops && m->ops->ws_free) m->ops->ws_free(m->upd_ws);
    soma_free(m->upd_grads);
    for (int l = 0; l < m->nl; l++)
        if (m->layer[l].op) m->layer[l].op->ops->free(m->layer[l].op);
    for (int g = 0; m->genres && g < m->L.n_genres; g++) soma_free(m->genres[g]);
    for (int o = 0; m->occ && o < m->L.n_occ; o++) soma_free(m->occ[o]);
    soma_free(m->genres);
    soma_free(m->occ);
    soma_free(m->params);
    soma_free(m->E);
    soma_free(m->users);
    soma_free(m->user_ids);
    soma_free(m->movies);
    soma_free(m->movie_ids);
    soma_free(m->pop);
    soma_free(m->mv_id);
    soma_free(m->mv_x);
    soma_free(m->mv_n);
    soma_free(m->rated_off);
    soma_free(m->rated_mv);
    idmap_free(&m->user_map);
    idmap_free(&m->movie_map);
    soma_free(m);
}

/* ---- accessors ------------------------------------------------------------------------------ */

const soma_rec_config *soma_rec_model_config(const soma_rec_model *m) { return &m->cfg; }
int64_t soma_rec_model_n_params(const soma_rec_model *m) { return m->n_params; }
int64_t soma_rec_model_n_features(const soma_rec_model *m) { return m->L.K; }
const char *soma_rec_model_desc(const soma_rec_model *m) { return m->desc; }
int32_t soma_rec_model_n_users(const soma_rec_model *m) { return m->n_users; }
int32_t soma_rec_model_n_movies(const soma_rec_model *m) { return m->n_movies; }
int soma_rec_model_n_genres(const soma_rec_model *m) { return m->L.n_genres; }
const char *soma_rec_model_genre(const soma_rec_model *m, int g) { return g >= 0 && g < m->L.n_genres ? m->genres[g] : NULL; }
int soma_rec_model_n_occupations(const soma_rec_model *m) { return m->L.n_occ; }
const char *soma_rec_model_occupation(const soma_rec_model *m, int o) { return o >= 0 && o < m->L.n_occ ? m->occ[o] : NULL; }

float soma_rec_model_clip(const soma_rec_model *m, float s) {
    if (!(s == s)) return 0.5f * (m->rmin + m->rmax);
    return s < m->rmin ? m->rmin : s > m->rmax ? m->rmax : s;
}

int soma_rec_model_user(const soma_rec_model *m, int32_t s, soma_rec_user_desc *out) {
    if (s < 0 || s >= m->n_users) return SOMA_E_ARG;
    *out = m->users[s];
    return SOMA_OK;
}
int soma_rec_model_movie(const soma_rec_model *m, int32_t s, soma_rec_movie_desc *out) {
    if (s < 0 || s >= m->n_movies) return SOMA_E_ARG;
    *out = m->movies[s];
    return SOMA_OK;
}
int64_t soma_rec_model_user_id(const soma_rec_model *m, int32_t s) { return s >= 0 && s < m->n_users ? m->user_ids[s] : -1; }
int64_t soma_rec_model_movie_id(const soma_rec_model *m, int32_t s) { return s >= 0 && s < m->n_movies ? m->movie_ids[s] : -1; }
int32_t soma_rec_model_user_slot(const soma_rec_model *m, int64_t id) { return idmap_get(&m->user_map, id); }
int32_t soma_rec_model_movie_slot(const soma_rec_model *m, int64_t id) { return idmap_get(&m->movie_map, id); }

/* ---- growing the catalogue ------------------------------------------------------------------ */

static int grow(void **p, size_t old_n, size_t new_n, size_t size) {
    void *q = soma_calloc(new_n, size);
    if (!q) return SOMA_E_NOMEM;
    memcpy(q, *p, old_n * size);
    soma_free(*p);
    *p = q;
    return SOMA_OK;
}

int soma_rec_model_add_movie(soma_rec_model *m, const soma_rec_movie_desc *desc, int64_t id,
                             int32_t *slot, soma_error *err) {
    if (!m || !desc) return soma_fail(err, SOMA_E_ARG, "soma_rec_model_add_movie: NULL argument");
    if (m->n_movies >= INT32_MAX / 2) return soma_fail(err, SOMA_E_SHAPE, "the catalogue is full");
    if (idmap_get(&m->movie_map, id) >= 0) return soma_fail(err, SOMA_E_ARG, "movie id %lld is already in the catalogue", (long long)id);
    if (m->n_movies == m->movies_cap) {
        size_t o = (size_t)m->movies_cap, n = 2 * o;
        const size_t mn = (size_t)(m->L.max_movie_nnz > 0 ? m->L.max_movie_nnz : 1);
        if (grow((void **)&m->movies, o, n, sizeof *m->movies) || grow((void **)&m->movie_ids, o, n, sizeof *m->movie_ids) ||
            grow((void **)&m->pop, o, n, sizeof *m->pop) || grow((void **)&m->mv_id, o * mn, n * mn, sizeof *m->mv_id) ||
            grow((void **)&m->mv_x, o * mn, n * mn, sizeof *m->mv_x) || grow((void **)&m->mv_n, o, n, sizeof *m->mv_n))
            return soma_fail(err, SOMA_E_NOMEM, "out of memory growing the catalogue");
        m->movies_cap = (int32_t)n;
    }
    if (idmap_put(&m->movie_map, m->n_movies, id, m->n_movies)) return soma_fail(err, SOMA_E_NOMEM, "out of memory growing the catalogue");
    int32_t s = m->n_movies++;
    m->movies[s] = *desc;
    m->movies[s].slot = s;
    m->movie_ids[s] = id;
    m->pop[s] = 0;
    rec_model_encode_movie(m, s);
    if (slot) *slot = s;
    return SOMA_OK;
}

int soma_rec_model_add_user(soma_rec_model *m, const soma_rec_user_desc *desc, int64_t id,
                            int32_t *slot, soma_error *err) {
    if (!m || !desc) return soma_fail(err, SOMA_E_ARG, "soma_rec_model_add_user: NULL argument");
    if (m->n_users >= INT32_MAX / 2) return soma_fail(err, SOMA_E_SHAPE, "too many users");
    if (idmap_get(&m->user_map, id) >= 0) return soma_fail(err, SOMA_E_ARG, "user id %lld is already known", (long long)id);
    if (m->n_users == m->users_cap) {
        size_t o = (size_t)m->users_cap, n = 2 * o;
        if (grow((void **)&m->users, o, n, sizeof *m->users) || grow((void **)&m->user_ids, o, n, sizeof *m->user_ids) ||
            (m->rated_off && grow((void **)&m->rated_off, o + 1, n + 1, sizeof *m->rated_off)))
            return soma_fail(err, SOMA_E_NOMEM, "out of memory growing the user table");
        m->users_cap = (int32_t)n;
    }
    if (idmap_put(&m->user_map, m->n_users, id, m->n_users)) return soma_fail(err, SOMA_E_NOMEM, "out of memory growing the user table");
    int32_t s = m->n_users++;
    if (m->rated_off) m->rated_off[s + 1] = m->rated_off[s]; /* no rated set yet */
    m->users[s] = *desc;
    m->users[s].slot = s;
    m->users[s].zip[sizeof desc->zip - 1] = '\0';
    m->user_ids[s] = id;
    if (slot) *slot = s;
    return SOMA_OK;
}
