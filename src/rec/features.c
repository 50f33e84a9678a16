/*
 * rec/features.c — the feature layout of the recommender and the encoding of users and movies
 * into sparse rows (feature id, value). The layout table is documented in soma/rec.h; the
 * user's fields come first so that serving can compute the user's part once.
 *
 * Encoding never fails: an attribute the layout cannot represent (unknown gender, a genre bit
 * past n_genres, an id slot beyond the id capacity) simply adds no feature.
 */
#include "rec/rec_internal.h"

#include <math.h>
#include <string.h>

static const char *const field_names[SOMA_REC_FIELD_COUNT] = {
    "user", "gender", "age", "occupation", "region", "fav-genres", "movie", "decade", "genres", "rated"};

/* The layout order of the fields: the user's first (RATED among them), then the movie's. */
static const int layout_order[SOMA_REC_FIELD_COUNT] = {
    SOMA_REC_F_USER, SOMA_REC_F_GENDER, SOMA_REC_F_AGE, SOMA_REC_F_OCCUPATION, SOMA_REC_F_REGION,
    SOMA_REC_F_FAV_GENRES, SOMA_REC_F_RATED, SOMA_REC_F_MOVIE, SOMA_REC_F_DECADE, SOMA_REC_F_GENRES};

const char *soma_rec_field_name(soma_rec_field f) {
    return (unsigned)f < SOMA_REC_FIELD_COUNT ? field_names[f] : "?";
}

int64_t soma_rec_fields_parse(const char *s) {
    if (!s) return -1;
    static const struct { const char *name; uint32_t mask; } groups[] = {
        {"all", SOMA_REC_FIELDS_ALL}, {"side", SOMA_REC_FIELDS_SIDE}, {"ids", SOMA_REC_FIELDS_IDS}};
    int64_t mask = 0;
    const char *p = s;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        int64_t found = -1;
        for (int f = 0; f < SOMA_REC_FIELD_COUNT; f++)
            if (strlen(field_names[f]) == n && strncmp(field_names[f], p, n) == 0) found = 1LL << f;
        for (size_t gi = 0; gi < sizeof groups / sizeof *groups; gi++)
            if (strlen(groups[gi].name) == n && strncmp(groups[gi].name, p, n) == 0) found = groups[gi].mask;
        if (found < 0) return -1;
        mask |= found;
        p += n + (e != NULL);
        if (e && !*p) return -1;
    }
    return mask ? mask : -1;
}

int rec_age_group(int32_t age) {
    if (age <= 0) return -1;
    return age < 18 ? 0 : age < 25 ? 1 : age < 35 ? 2 : age < 45 ? 3 : age < 50 ? 4 : age < 56 ? 5 : 6;
}

int rec_region(const char *zip) {
    if (!zip || !zip[0]) return -1;
    return zip[0] >= '0' && zip[0] <= '9' ? zip[0] - '0' : 10;
}

int rec_decade(int32_t year) {
    if (year <= 0) return -1;
    if (year < 1900) return 13;
    int d = (year - 1900) / 10;
    return d > 12 ? 12 : d;
}

void rec_layout_init(rec_layout *L, uint32_t fields, int32_t user_slots, int32_t movie_slots,
                     int n_genres, int n_occ, int32_t max_rated) {
    memset(L, 0, sizeof *L);
    L->fields = fields;
    L->user_slots = user_slots, L->movie_slots = movie_slots;
    L->n_genres = n_genres, L->n_occ = n_occ;
    const int64_t sizes[SOMA_REC_FIELD_COUNT] = {user_slots, 2, SOMA_REC_AGE_GROUPS, n_occ, SOMA_REC_REGIONS,
                                                 n_genres, movie_slots, SOMA_REC_DECADES, n_genres, movie_slots};
    int64_t o = 0;
    for (int i = 0; i < SOMA_REC_FIELD_COUNT; i++) {
        const int f = layout_order[i];
        L->off[f] = o;
        L->size[f] = (fields >> f) & 1u ? sizes[f] : 0;
        o += L->size[f];
    }
    L->max_rated = L->size[SOMA_REC_F_RATED] > 0 && max_rated > 0 ? max_rated : 0;
    L->K = o;
    bool on[SOMA_REC_FIELD_COUNT];
    for (int f = 0; f < SOMA_REC_FIELD_COUNT; f++) on[f] = L->size[f] > 0;
    L->max_user_nnz = on[SOMA_REC_F_USER] + on[SOMA_REC_F_GENDER] + on[SOMA_REC_F_AGE] +
                      on[SOMA_REC_F_OCCUPATION] + on[SOMA_REC_F_REGION] +
                      (on[SOMA_REC_F_FAV_GENRES] ? n_genres : 0) + L->max_rated;
    L->max_movie_nnz = on[SOMA_REC_F_MOVIE] + on[SOMA_REC_F_DECADE] + (on[SOMA_REC_F_GENRES] ? n_genres : 0);
    L->cap = L->max_user_nnz + L->max_movie_nnz;
    if (L->cap < 1) L->cap = 1;
}

static int put(const rec_layout *L, int f, int64_t v, float val, int32_t *id, float *x, int n) {
    if (v < 0 || v >= L->size[f]) return n;
    id[n] = (int32_t)(L->off[f] + v);
    x[n] = val;
    return n + 1;
}

/* Genres of mask g below n_genres, each with value 1/|G|. */
static int put_set(const rec_layout *L, int f, uint32_t g, int32_t *id, float *x, int n) {
    if (!L->size[f]) return n;
    if (L->n_genres < 32) g &= (1u << L->n_genres) - 1u;
    int c = __builtin_popcount(g);
    if (!c) return n;
    const float v = 1.0f / (float)c;
    for (int k = 0; k < L->n_genres; k++)
        if (g >> k & 1u) n = put(L, f, k, v, id, x, n);
    return n;
}

int32_t soma_rec_model_user_rated(const soma_rec_model *m, int32_t slot, const int32_t **movies) {
    *movies = NULL;
    if (!m->rated_off || !m->rated_mv || slot < 0 || slot >= m->n_users) return 0;
    const int32_t n = (int32_t)(m->rated_off[slot + 1] - m->rated_off[slot]);
    if (n > 0) *movies = m->rated_mv + m->rated_off[slot];
    return n;
}

/* The RATED group of the user's stored set, without `skip` (a movie slot, or -1): each
 * movie with value |N \ {skip}|^−pow. */
static int put_rated(const soma_rec_model *m, const soma_rec_user_desc *u, int32_t skip, int32_t *id, float *x, int n) {
    const rec_layout *L = &m->L;
    if (!L->max_rated) return n;
    const int32_t *mv;
    int32_t c = soma_rec_model_user_rated(m, u->slot, &mv);
    if (c > L->max_rated) c = L->max_rated; /* cannot happen: the layout was sized to the sets */
    int32_t k = c;
    for (int32_t i = 0; i < c; i++) k -= mv[i] == skip;
    if (k <= 0) return n;
    const float v = m->cfg.implicit_pow == 0.5f ? 1.0f / sqrtf((float)k) : powf((float)k, -m->cfg.implicit_pow);
    for (int32_t i = 0; i < c; i++)
        if (mv[i] != skip) n = put(L, SOMA_REC_F_RATED, mv[i], v, id, x, n);
    return n;
}

int rec_encode_user(const soma_rec_model *m, const soma_rec_user_desc *u, int32_t skip, int32_t *id, float *x) {
    const rec_layout *L = &m->L;
    int n = 0;
    n = put(L, SOMA_REC_F_USER, u->slot, 1.0f, id, x, n);
    n = put(L, SOMA_REC_F_GENDER, u->gender == 'M' ? 0 : u->gender == 'F' ? 1 : -1, 1.0f, id, x, n);
    n = put(L, SOMA_REC_F_AGE, rec_age_group(u->age), 1.0f, id, x, n);
    n = put(L, SOMA_REC_F_OCCUPATION, u->occupation, 1.0f, id, x, n);
    char zip[sizeof u->zip + 1];
    memcpy(zip, u->zip, sizeof u->zip);
    zip[sizeof u->zip] = '\0';
    n = put(L, SOMA_REC_F_REGION, rec_region(zip), 1.0f, id, x, n);
    n = put_set(L, SOMA_REC_F_FAV_GENRES, u->fav_genres, id, x, n);
    return put_rated(m, u, skip, id, x, n);
}

int rec_encode_movie(const rec_layout *L, const soma_rec_movie_desc *m, int32_t *id, float *x) {
    int n = 0;
    n = put(L, SOMA_REC_F_MOVIE, m->slot, 1.0f, id, x, n);
    n = put(L, SOMA_REC_F_DECADE, rec_decade(m->year), 1.0f, id, x, n);
    n = put_set(L, SOMA_REC_F_GENRES, m->genres, id, x, n);
    return n;
}

int rec_batch_init(rec_batch *b, int64_t max_rows, int cap) {
    memset(b, 0, sizeof *b);
    b->max_rows = max_rows, b->cap = cap;
    b->id = soma_calloc((size_t)(max_rows * cap), sizeof *b->id);
    b->x = soma_calloc((size_t)(max_rows * cap), sizeof *b->x);
    b->nnz = soma_calloc((size_t)max_rows, sizeof *b->nnz);
    if (!b->id || !b->x || !b->nnz) {
        rec_batch_free(b);
        return SOMA_E_NOMEM;
    }
    return SOMA_OK;
}

void rec_batch_free(rec_batch *b) {
    soma_free(b->id);
    soma_free(b->x);
    soma_free(b->nnz);
    memset(b, 0, sizeof *b);
}

void rec_batch_set(rec_batch *b, const soma_rec_model *m, int64_t r, const soma_rec_user_desc *u,
                   const soma_rec_movie_desc *mv) {
    rec_batch_set_skip(b, m, r, u, mv, mv->slot);
}

void rec_batch_set_skip(rec_batch *b, const soma_rec_model *m, int64_t r, const soma_rec_user_desc *u,
                        const soma_rec_movie_desc *mv, int32_t skip) {
    int32_t *id = b->id + r * b->cap;
    float *x = b->x + r * b->cap;
    int n = rec_encode_user(m, u, skip, id, x);
    n += rec_encode_movie(&m->L, mv, id + n, x + n);
    for (int j = n; j < b->cap; j++) id[j] = 0, x[j] = 0.0f;
    b->nnz[r] = n;
}

int soma_rec_encode(const soma_rec_model *m, const soma_rec_user_desc *u,
                    const soma_rec_movie_desc *mv, int32_t *ids, float *vals, int cap) {
    int32_t *id = soma_malloc((size_t)m->L.cap * sizeof *id);
    float *x = soma_malloc((size_t)m->L.cap * sizeof *x);
    if (!id || !x) {
        soma_free(id), soma_free(x);
        return SOMA_E_NOMEM;
    }
    int n = rec_encode_user(m, u, mv->slot, id, x);
    n += rec_encode_movie(&m->L, mv, id + n, x + n);
    int k = n < cap ? n : cap;
    memcpy(ids, id, (size_t)(k > 0 ? k : 0) * sizeof *ids);
    memcpy(vals, x, (size_t)(k > 0 ? k : 0) * sizeof *vals);
    soma_free(id), soma_free(x);
    return n;
}

int soma_rec_model_max_nnz(const soma_rec_model *m) { return m->L.cap; }
