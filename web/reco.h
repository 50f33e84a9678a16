/*
 * web/reco.h — the web service's thin interface to the recommender engine (soma/rec.h): the
 * model's life cycle (load, or train on first start and save), a reader/writer lock around it
 * (many scoring threads, one writer for add/update), one scorer per serving thread, and the
 * mapping between database ids and model slots (the model's ids are the database's ids).
 */
#ifndef SOMA_WEB_RECO_H
#define SOMA_WEB_RECO_H

#include <stdint.h>

#include "db.h"
#include "web.h"

typedef struct web_reco_item {
    int64_t movie;   /* database id */
    float score;
} web_reco_item;

/* Loads the model from cfg->model, or (no file) creates it from d and trains it on every
 * rating of d for cfg->epochs, then saves it. d may be NULL when the file exists. Then adds
 * every site user and movie the model lacks and replays site ratings newer than the model
 * (from the database). 0 or -1 (logged). */
int web_reco_open(web_reco **out, const web_config *cfg, const soma_rec_data *d, web_db *db);
/* Saves (if save) and frees; waits for no one: call when no request runs. */
void web_reco_close(web_reco *r, int save);
int web_reco_save(web_reco *r);
const char *web_reco_desc(web_reco *r);

/* Favourite genres the model derived for a MovieLens user (0 if unknown). */
uint32_t web_reco_user_fav(web_reco *r, int64_t user_id);
/* Genres of a movie as the model knows them (0 if unknown). */
uint32_t web_reco_movie_genres(web_reco *r, int64_t movie_id);

/* Top k movies for u, excluding `rated` (n_rated database ids). OUT items (k), *n. */
int web_reco_recommend(web_reco *r, const web_user *u, const int64_t *rated, int n_rated, int k,
                       web_reco_item *items, int *n);
/* Predicted score of one movie for u (for the details page); NAN if unknown. */
float web_reco_score(web_reco *r, const web_user *u, int64_t movie);
/* Makes a new movie scorable at once from its year and genres. */
int web_reco_add_movie(web_reco *r, int64_t id, int year, uint32_t genres);
/* Online update after a rating (gives the user a slot first if needed). OUT: *seconds spent. */
int web_reco_rate(web_reco *r, const web_user *u, int64_t movie, int stars, double *seconds);
/* Whether the model scores ratings (1..5) or preferences (top-N). */
int web_reco_is_rating(web_reco *r);

#endif
