/*
 * web/handlers/recs.c — today's recommendations for the logged-in user from the SNN: the
 * user's rated movies are excluded; each item carries a reason when one can be given: a
 * favourite genre it has, else the liked movie (4–5 stars) sharing most of its genres.
 * A user with no ratings gets the cold-start list from favourite genres and side features.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers.h"

#define MAX_K 50

static int popcount32(uint32_t x) {
    int n = 0;
    for (; x; x &= x - 1) n++;
    return n;
}

static json_t *reason_json(web_ctx *c, uint32_t fav, uint32_t genres, const int64_t *liked,
                           const uint32_t *liked_genres, int n_liked) {
    char text[400];
    json_t *o = json_object();
    uint32_t common = fav & genres;
    if (common) {
        int g = 0;
        while (!(common >> g & 1u)) g++;
        snprintf(text, sizeof text, web_i18n(c->lang, "reason.genre"),
                 web_i18n_genre(c->lang, c->app->genres[g]));
        json_object_set_new(o, "kind", web_json_string("genre"));
        json_object_set_new(o, "genre", web_json_string(c->app->genres[g]));
        json_object_set_new(o, "text", web_json_string(text));
        return o;
    }
    int best = -1;
    double best_j = 0;
    for (int i = 0; i < n_liked; i++) {
        uint32_t a = liked_genres[i], u = a | genres;
        double jac = u ? (double)popcount32(a & genres) / popcount32(u) : 0;
        if (jac > best_j) { best_j = jac; best = i; }
    }
    web_movie m;
    if (best >= 0 && best_j >= 0.5 && web_db_movie_get(c->db, liked[best], &m) == WEB_DB_OK) {
        snprintf(text, sizeof text, web_i18n(c->lang, "reason.similar"), m.title);
        json_object_set_new(o, "kind", web_json_string("similar"));
        json_object_set_new(o, "movie", json_integer(m.id));
        json_object_set_new(o, "text", web_json_string(text));
        return o;
    }
    json_object_set_new(o, "kind", web_json_string("model"));
    json_object_set_new(o, "text", web_json_string(web_i18n(c->lang, "reason.popular")));
    return o;
}

void web_h_recommendations(web_ctx *c) {
    long k;
    if (!web_query_int(c, "n", 1, MAX_K, 10, &k)) { web_fail(c, 400, "bad_request"); return; }
    if (!c->app->reco) { web_fail(c, 503, "internal"); return; }
    double t0 = web_now();
    int64_t *rated = NULL;
    int *stars = NULL, n_rated = 0;
    if (web_db_user_ratings(c->db, c->user.id, &rated, &stars, &n_rated)) {
        web_fail(c, 500, "internal");
        return;
    }
    web_reco_item items[MAX_K];
    int n = 0;
    json_t *arr = NULL;
    int64_t *liked = malloc((size_t)(n_rated + 1) * sizeof *liked);
    uint32_t *liked_g = malloc((size_t)(n_rated + 1) * sizeof *liked_g);
    if (!liked || !liked_g) { web_fail(c, 503, "internal"); goto out; }
    if (web_reco_recommend(c->app->reco, &c->user, rated, n_rated, (int)k, items, &n)) {
        web_fail(c, 500, "internal");
        goto out;
    }
    int n_liked = 0;
    for (int i = 0; i < n_rated; i++)
        if (stars[i] >= 4) {
            liked[n_liked] = rated[i];
            liked_g[n_liked++] = web_reco_movie_genres(c->app->reco, rated[i]);
        }
    uint32_t fav = c->user.fav_genres ? c->user.fav_genres
                   : c->user.ml_id ? web_reco_user_fav(c->app->reco, c->user.id) : 0;
    arr = json_array();
    for (int i = 0; i < n; i++) {
        web_movie m;
        if (web_db_movie_get(c->db, items[i].movie, &m) != WEB_DB_OK) continue;
        json_t *o = web_movie_json(c, &m);
        json_object_set_new(o, "score", json_real(items[i].score));
        json_object_set_new(o, "reason", reason_json(c, fav, m.genres, liked, liked_g, n_liked));
        json_array_append_new(arr, o);
    }
    json_t *j = json_object();
    json_object_set_new(j, "items", arr);
    json_object_set_new(j, "cold_start", json_boolean(n_rated == 0));
    json_object_set_new(j, "n_rated", json_integer(n_rated));
    json_object_set_new(j, "model", web_json_string(web_reco_desc(c->app->reco)));
    json_object_set_new(j, "ms", json_real((web_now() - t0) * 1000.0));
    web_resp_json(c->resp, 200, j);
out:
    free(rated);
    free(stars);
    free(liked);
    free(liked_g);
}
