/*
 * rec/io.c — saving and loading recommenders as soma checkpoint containers (soma/checkpoint.h).
 *
 * Keys (text): "soma.format" = "soma-rec-2", every configuration field ("rec.T" = "8", ...),
 * the feature layout ("rec.user_slots", "rec.movie_slots", "rec.n_genres", "rec.n_occ"), the
 * rating range, and the genre names, occupation names and users' zip codes, each list joined
 * by '\n'. Tensors (float32):
 *   "params"  (n_params)       the flat parameter vector
 *   "users"   (n_users, 7)     id_lo, id_hi, gender (0 none, 1 M, 2 F), age, occupation,
 *                              favourite genres lo 16 bits, hi 16 bits
 *   "movies"  (n_movies, 6)    id_lo, id_hi, year, genres lo 16, hi 16, training count
 *   "rated_n" (n_users)        RATED field only ("rec.max_rated" > 0): each user's |N|
 *   "rated"   (Σ |N|)          the users' rated sets, movie slots, user after user
 * Version 1 ("soma-rec-1", before the RATED field) had no rec.implicit_pow, rec.rated_cap,
 * rec.max_rated and no rated tensors; it loads with those at their defaults (RATED off).
 * Caller ids are split as id = id_hi·65536 + id_lo (both exact in float32 for |id| < 2^39).
 * Loading rebuilds the same model and checks every key, range and tensor size.
 */
#include "rec/rec_internal.h"
#include "soma/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_KEY "soma.format"
#define FORMAT_VAL "soma-rec-2"
#define FORMAT_V1 "soma-rec-1" /* before the RATED field: read, never written */
#define UCOLS 7
#define MCOLS 6

typedef struct field {
    const char *key;
    enum { F_INT, F_FLOAT, F_BOOL, F_ENUM, F_U32 } type;
    size_t off;
    int max_enum;
} field;

#define CF(k, t, mbr, mx) {k, t, offsetof(soma_rec_config, mbr), mx}
static const field fields[] = {
    CF("rec.kind", F_ENUM, kind, SOMA_REC_KIND_COUNT),
    CF("rec.task", F_ENUM, task, SOMA_REC_TASK_COUNT),
    CF("rec.fields", F_U32, fields, 0),
    CF("rec.T", F_INT, T, 0),
    CF("rec.width", F_INT, width, 0),
    CF("rec.depth", F_INT, depth, 0),
    CF("rec.readout", F_ENUM, readout, SOMA_READOUT_COUNT),
    CF("rec.first_order", F_BOOL, first_order, 0),
    CF("rec.dropout", F_FLOAT, dropout, 0),
    CF("rec.init_std", F_FLOAT, init_std, 0),
    CF("rec.fm_k", F_INT, fm_k, 0),
    CF("rec.spare_users", F_INT, spare_users, 0),
    CF("rec.spare_movies", F_INT, spare_movies, 0),
    CF("rec.integrate.mode", F_ENUM, integrate.mode, SOMA_INTEGRATE_COUNT),
    CF("rec.integrate.ablation", F_ENUM, integrate.ablation, SOMA_ABLATION_COUNT),
    CF("rec.integrate.rank", F_INT, integrate.rank, 0),
    CF("rec.integrate.lambda_init", F_FLOAT, integrate.lambda_init, 0),
    CF("rec.integrate.lambda_per_neuron", F_BOOL, integrate.lambda_per_neuron, 0),
    CF("rec.integrate.v_scale", F_FLOAT, integrate.v_scale, 0),
    CF("rec.integrate.shunt_k", F_FLOAT, integrate.shunt_k, 0),
    CF("rec.integrate.shunt_scale", F_FLOAT, integrate.shunt_scale, 0),
    CF("rec.integrate.mix_init", F_FLOAT, integrate.mix_init, 0),
    CF("rec.neuron.kind", F_ENUM, neuron.kind, SOMA_NEURON_KIND_COUNT),
    CF("rec.neuron.alpha", F_FLOAT, neuron.alpha, 0),
    CF("rec.neuron.tau", F_FLOAT, neuron.tau, 0),
    CF("rec.neuron.theta", F_FLOAT, neuron.theta, 0),
    CF("rec.neuron.v_reset", F_FLOAT, neuron.v_reset, 0),
    CF("rec.neuron.reset", F_ENUM, neuron.reset, SOMA_RESET_COUNT),
    CF("rec.neuron.detach_reset", F_BOOL, neuron.detach_reset, 0),
    CF("rec.neuron.surrogate", F_ENUM, neuron.surrogate, SOMA_SURROGATE_COUNT),
    CF("rec.neuron.slope", F_FLOAT, neuron.slope, 0),
    /* version 2 */
    CF("rec.implicit_pow", F_FLOAT, implicit_pow, 0),
    CF("rec.rated_cap", F_INT, rated_cap, 0),
};
#define NFIELDS (sizeof fields / sizeof fields[0])
#define NFIELDS_V1 (NFIELDS - 2)

static int setf(soma_ckpt *ck, const char *k, double v) {
    char b[64];
    snprintf(b, sizeof b, "%.9g", v);
    return soma_ckpt_set(ck, k, b);
}

/* n strings (names[i], or users[i].zip when users is given) joined by '\n' into a new
 * soma_malloc'ed string; NULL on allocation failure. */
static char *join(char *const *names, int64_t n, const soma_rec_user_desc *users) {
    size_t len = 1;
    for (int64_t i = 0; i < n; i++) len += strlen(users ? users[i].zip : names[i]) + 1;
    char *s = soma_malloc(len), *p = s;
    if (!s) return NULL;
    for (int64_t i = 0; i < n; i++) {
        const char *t = users ? users[i].zip : names[i];
        size_t l = strlen(t);
        memcpy(p, t, l);
        p += l;
        if (i + 1 < n) *p++ = '\n';
    }
    *p = '\0';
    return s;
}

static void split_id(int64_t id, float *lo, float *hi) {
    int64_t h = id >= 0 ? id / 65536 : -((-id + 65535) / 65536);
    *hi = (float)h;
    *lo = (float)(id - h * 65536);
}

int soma_rec_model_save(const soma_rec_model *m, const char *path, soma_error *err) {
    if (!m || !path) return soma_fail(err, SOMA_E_ARG, "soma_rec_model_save: NULL argument");
    soma_ckpt *ck = soma_ckpt_create();
    if (!ck) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    float *U = soma_malloc((size_t)(m->n_users > 0 ? m->n_users : 1) * UCOLS * sizeof(float));
    float *M = soma_malloc((size_t)(m->n_movies > 0 ? m->n_movies : 1) * MCOLS * sizeof(float));
    char *g = join(m->genres, m->L.n_genres, NULL), *o = join(m->occ, m->L.n_occ, NULL);
    char *z = join(NULL, m->n_users, m->users);
    int rc = !U || !M || !g || !o || !z ? SOMA_E_NOMEM : SOMA_OK;
    rc = rc ? rc : soma_ckpt_set(ck, FORMAT_KEY, FORMAT_VAL);
    rc = rc ? rc : soma_ckpt_set(ck, "soma.version", SOMA_VERSION_STRING);
    const char *c = (const char *)&m->cfg;
    for (size_t i = 0; i < NFIELDS && !rc; i++) {
        const field *f = &fields[i];
        double v = f->type == F_FLOAT ? *(const float *)(c + f->off)
                   : f->type == F_BOOL ? *(const bool *)(c + f->off)
                   : f->type == F_U32  ? (double)*(const uint32_t *)(c + f->off)
                                       : (double)*(const int *)(c + f->off);
        rc = setf(ck, f->key, v);
    }
    rc = rc ? rc : setf(ck, "rec.user_slots", m->L.user_slots);
    rc = rc ? rc : setf(ck, "rec.movie_slots", m->L.movie_slots);
    rc = rc ? rc : setf(ck, "rec.n_genres", m->L.n_genres);
    rc = rc ? rc : setf(ck, "rec.n_occ", m->L.n_occ);
    rc = rc ? rc : setf(ck, "rec.n_users", m->n_users);
    rc = rc ? rc : setf(ck, "rec.n_movies", m->n_movies);
    rc = rc ? rc : setf(ck, "rec.rating_min", m->rmin);
    rc = rc ? rc : setf(ck, "rec.rating_max", m->rmax);
    rc = rc ? rc : setf(ck, "rec.seed", (double)m->seed);
    rc = rc ? rc : setf(ck, "rec.max_rated", m->L.max_rated);
    rc = rc ? rc : soma_ckpt_set(ck, "rec.genres", g);
    rc = rc ? rc : soma_ckpt_set(ck, "rec.occupations", o);
    rc = rc ? rc : soma_ckpt_set(ck, "rec.zips", z);
    if (!rc) {
        for (int32_t i = 0; i < m->n_users; i++) {
            const soma_rec_user_desc *u = &m->users[i];
            float *r = U + (int64_t)i * UCOLS;
            split_id(m->user_ids[i], &r[0], &r[1]);
            r[2] = u->gender == 'M' ? 1.0f : u->gender == 'F' ? 2.0f : 0.0f;
            r[3] = (float)u->age, r[4] = (float)u->occupation;
            r[5] = (float)(u->fav_genres & 0xFFFFu), r[6] = (float)(u->fav_genres >> 16);
        }
        for (int32_t i = 0; i < m->n_movies; i++) {
            const soma_rec_movie_desc *mv = &m->movies[i];
            float *r = M + (int64_t)i * MCOLS;
            split_id(m->movie_ids[i], &r[0], &r[1]);
            r[2] = (float)mv->year;
            r[3] = (float)(mv->genres & 0xFFFFu), r[4] = (float)(mv->genres >> 16);
            r[5] = m->pop[i];
        }
        int64_t dp = m->n_params, du[2] = {m->n_users, UCOLS}, dm[2] = {m->n_movies, MCOLS};
        rc = soma_ckpt_add(ck, "params", m->params, 1, &dp);
        if (!rc && m->n_users > 0) rc = soma_ckpt_add(ck, "users", U, 2, du);
        if (!rc && m->n_movies > 0) rc = soma_ckpt_add(ck, "movies", M, 2, dm);
        if (!rc && m->L.max_rated > 0 && m->n_users > 0) {
            /* the rated sets: counts, then the slots (exact in float32 below 2^24) */
            int64_t nr = m->rated_off[m->n_users], dn = m->n_users;
            float *RN = soma_malloc((size_t)m->n_users * sizeof(float)), *RV = soma_malloc((size_t)(nr > 0 ? nr : 1) * sizeof(float));
            if (!RN || !RV) rc = SOMA_E_NOMEM;
            for (int32_t i = 0; !rc && i < m->n_users; i++) RN[i] = (float)(m->rated_off[i + 1] - m->rated_off[i]);
            for (int64_t i = 0; !rc && i < nr; i++) RV[i] = (float)m->rated_mv[i];
            rc = rc ? rc : soma_ckpt_add(ck, "rated_n", RN, 1, &dn);
            if (!rc && nr > 0) rc = soma_ckpt_add(ck, "rated", RV, 1, &nr);
            soma_free(RN), soma_free(RV);
        }
    }
    soma_free(U), soma_free(M), soma_free(g), soma_free(o), soma_free(z);
    return soma_ckpt_write_free(ck, rc, path, err);
}

static int get_int(const soma_ckpt *ck, const char *path, const char *key, int64_t lo, int64_t hi, int64_t *out,
                   soma_error *err) {
    double v = 0;
    int rc = soma_ckpt_get_number(ck, key, &v, path, err);
    if (rc) return rc;
    if (v != floor(v) || v < (double)lo || v > (double)hi)
        return soma_fail(err, SOMA_E_FORMAT, "%s: key \"%s\" = %g is not an integer in %lld..%lld", path, key, v, (long long)lo, (long long)hi);
    *out = (int64_t)v;
    return SOMA_OK;
}

/* Splits a '\n'-joined list into exactly n copies (soma_malloc'ed) in names[0..n). */
static int split_names(char **names, int n, const char *s, const char *path, const char *key, soma_error *err) {
    for (int i = 0; i < n; i++) {
        const char *e = strchr(s, '\n');
        size_t l = e ? (size_t)(e - s) : strlen(s);
        if ((!e && i + 1 < n) || (e && i + 1 == n))
            return soma_fail(err, SOMA_E_FORMAT, "%s: key \"%s\" does not hold %d names", path, key, n);
        if (!(names[i] = soma_malloc(l + 1))) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
        memcpy(names[i], s, l);
        names[i][l] = '\0';
        s = e ? e + 1 : s + l;
    }
    return SOMA_OK;
}

static int64_t join_id(const float *r) { return (int64_t)r[1] * 65536 + (int64_t)r[0]; }

int soma_rec_model_load(soma_rec_model **out, const char *path, soma_error *err) {
    if (!out || !path) return soma_fail(err, SOMA_E_ARG, "soma_rec_model_load: NULL argument");
    *out = NULL;
    soma_ckpt *ck = NULL;
    int rc = soma_ckpt_read(&ck, path, err);
    if (rc) return rc;
    soma_rec_model *m = NULL;
    const char *fmt = soma_ckpt_get(ck, FORMAT_KEY);
    const bool v1 = fmt && strcmp(fmt, FORMAT_V1) == 0;
    if (!fmt || (!v1 && strcmp(fmt, FORMAT_VAL) != 0)) {
        rc = fmt && strncmp(fmt, "soma-rec-", 9) == 0
                 ? soma_fail(err, SOMA_E_VERSION, "%s: recommender format \"%s\" is not supported (this build reads \"%s\" and \"%s\")", path, fmt,
                             FORMAT_VAL, FORMAT_V1)
                 : soma_fail(err, SOMA_E_FORMAT, "%s: not a Soma recommender checkpoint (\"%s\" is \"%s\", expected \"%s\")", path,
                             FORMAT_KEY, fmt ? fmt : "(missing)", FORMAT_VAL);
        goto done;
    }
    soma_rec_config cfg = soma_rec_default_config();
    char *c = (char *)&cfg;
    for (size_t i = 0; i < (v1 ? NFIELDS_V1 : NFIELDS); i++) {
        const field *f = &fields[i];
        double v;
        if ((rc = soma_ckpt_get_number(ck, f->key, &v, path, err))) goto done;
        if ((f->type == F_ENUM && (v < 0 || v >= f->max_enum || v != floor(v))) ||
            (f->type != F_FLOAT && (v != floor(v) || fabs(v) > 4294967295.0))) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: key \"%s\" = %g is out of range", path, f->key, v);
            goto done;
        }
        if (f->type == F_FLOAT) *(float *)(c + f->off) = (float)v;
        else if (f->type == F_BOOL) *(bool *)(c + f->off) = v != 0;
        else if (f->type == F_U32) *(uint32_t *)(c + f->off) = (uint32_t)v;
        else *(int *)(c + f->off) = (int)v;
    }
    int64_t us = 0, ms = 0, ng = 0, no = 0, nu = 0, nm = 0;
    if ((rc = get_int(ck, path, "rec.user_slots", cfg.spare_users, INT32_MAX / 2, &us, err)) ||
        (rc = get_int(ck, path, "rec.movie_slots", cfg.spare_movies, INT32_MAX / 2, &ms, err)) ||
        (rc = get_int(ck, path, "rec.n_genres", 0, SOMA_REC_MAX_GENRES, &ng, err)) ||
        (rc = get_int(ck, path, "rec.n_occ", 0, 1000, &no, err)) ||
        (rc = get_int(ck, path, "rec.n_users", 0, INT32_MAX / 2, &nu, err)) ||
        (rc = get_int(ck, path, "rec.n_movies", 0, INT32_MAX / 2, &nm, err)))
        goto done;
    int64_t mr = 0;
    if (!v1 && (rc = get_int(ck, path, "rec.max_rated", 0, ms, &mr, err))) goto done;
    if (v1 && (cfg.fields >> SOMA_REC_F_RATED & 1u)) {
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: a %s checkpoint cannot use the rated field", path, FORMAT_V1);
        goto done;
    }
    if ((rc = rec_model_alloc(&m, &cfg, (int32_t)(us - cfg.spare_users), (int32_t)(ms - cfg.spare_movies), (int)ng, (int)no,
                              (int32_t)mr, err))) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: bad configuration: %s", path, why);
        goto done;
    }
    double v, seed;
    if ((rc = soma_ckpt_get_number(ck, "rec.rating_min", &v, path, err))) goto done;
    m->rmin = (float)v;
    if ((rc = soma_ckpt_get_number(ck, "rec.rating_max", &v, path, err))) goto done;
    m->rmax = (float)v;
    if ((rc = soma_ckpt_get_number(ck, "rec.seed", &seed, path, err))) goto done;
    m->seed = (uint64_t)seed;
    const char *gs = soma_ckpt_get(ck, "rec.genres"), *os = soma_ckpt_get(ck, "rec.occupations"), *zs = soma_ckpt_get(ck, "rec.zips");
    if (!gs || !os || !zs) {
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: missing genre, occupation or zip list", path);
        goto done;
    }
    if ((rc = split_names(m->genres, (int)ng, gs, path, "rec.genres", err)) ||
        (rc = split_names(m->occ, (int)no, os, path, "rec.occupations", err)))
        goto done;
    if ((rc = rec_model_finish_layout(m, err))) goto done;
    int64_t np, nU = 0, nM = 0;
    const float *P = soma_ckpt_find(ck, "params", &np);
    const float *U = nu > 0 ? soma_ckpt_find(ck, "users", &nU) : NULL;
    const float *M = nm > 0 ? soma_ckpt_find(ck, "movies", &nM) : NULL;
    if (!P || np != m->n_params || (nu > 0 && (!U || nU != nu * UCOLS)) || (nm > 0 && (!M || nM != nm * MCOLS))) {
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: tensor sizes do not match the configuration (params %lld, expected %lld)", path,
                       (long long)(P ? np : -1), (long long)m->n_params);
        goto done;
    }
    memcpy(m->params, P, (size_t)np * sizeof(float));
    const char *z = zs;
    for (int64_t i = 0; i < nu; i++) {
        const float *r = U + i * UCOLS;
        soma_rec_user_desc d;
        memset(&d, 0, sizeof d);
        d.gender = r[2] == 1.0f ? 'M' : r[2] == 2.0f ? 'F' : 0;
        d.age = (int32_t)r[3], d.occupation = (int32_t)r[4];
        d.fav_genres = (uint32_t)r[5] | (uint32_t)r[6] << 16;
        const char *e = strchr(z, '\n');
        size_t l = e ? (size_t)(e - z) : strlen(z);
        if (l >= sizeof d.zip || (!e && i + 1 < nu)) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: bad zip list", path);
            goto done;
        }
        memcpy(d.zip, z, l);
        z = e ? e + 1 : z + l;
        if ((rc = soma_rec_model_add_user(m, &d, join_id(r), NULL, err))) goto done;
    }
    for (int64_t i = 0; i < nm; i++) {
        const float *r = M + i * MCOLS;
        soma_rec_movie_desc d = {0, (int32_t)r[2], (uint32_t)r[3] | (uint32_t)r[4] << 16};
        if ((rc = soma_rec_model_add_movie(m, &d, join_id(r), NULL, err))) goto done;
        m->pop[i] = r[5];
    }
    if (m->L.max_rated > 0 && nu > 0) {
        /* the rated sets: counts ≤ max_rated summing to the slots' tensor, slots ascending */
        int64_t nn = 0, nv = 0, tot = 0;
        const float *RN = soma_ckpt_find(ck, "rated_n", &nn), *RV = soma_ckpt_find(ck, "rated", &nv);
        bool ok = RN && nn == nu;
        for (int64_t i = 0; ok && i < nu; i++) {
            ok = RN[i] >= 0 && RN[i] <= (float)m->L.max_rated && RN[i] == floorf(RN[i]);
            tot += ok ? (int64_t)RN[i] : 0;
        }
        ok = ok && (tot == 0 || (RV && nv == tot)) && (tot > 0 || !RV);
        if (ok && !(m->rated_mv = soma_malloc((size_t)(tot > 0 ? tot : 1) * sizeof *m->rated_mv))) {
            rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
            goto done;
        }
        for (int64_t i = 0, k = 0; ok && i < nu; i++) {
            m->rated_off[i + 1] = m->rated_off[i] + (int64_t)RN[i];
            for (; ok && k < m->rated_off[i + 1]; k++) {
                ok = RV[k] >= 0 && RV[k] < (float)nm && RV[k] == floorf(RV[k]) && (k == m->rated_off[i] || RV[k] > RV[k - 1]);
                if (ok) m->rated_mv[k] = (int32_t)RV[k];
            }
        }
        if (!ok) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: the rated sets (\"rated_n\", \"rated\") do not match the catalogue", path);
            goto done;
        }
    }
    rec_model_prepare(m);
    *out = m;
    m = NULL;
done:
    soma_rec_model_free(m);
    soma_ckpt_free(ck);
    return rc;
}
