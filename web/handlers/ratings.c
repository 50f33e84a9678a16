/*
 * web/handlers/ratings.c — rating a movie (1–5 stars, an optional review). The rating is
 * committed first; then the model is updated online for that user (reco.c), and the time the
 * update took is returned as update_ms, so the pages and the tests can show it.
 */
#include <string.h>

#include "handlers.h"

void web_h_rate(web_ctx *c) {
    const char *why;
    json_t *b = web_json_body(c->req, &why);
    if (!b) { web_fail(c, 400, "bad_json"); return; }
    long long stars;
    const char *review = NULL;
    int rs = web_json_int(b, "stars", 1, 5, &stars);
    if (rs) { web_fail(c, 400, rs == -1 ? "missing" : "stars"); goto out; }
    int rr = web_json_str(b, "review", 0, WEB_MAX_REVIEW, &review);
    if (rr == -2) { web_fail(c, 400, "review"); goto out; }
    web_movie m;
    int rc = web_db_movie_get(c->db, c->id, &m);
    if (rc == WEB_DB_NOTFOUND) { web_fail(c, 404, "not_found"); goto out; }
    if (rc) { web_fail(c, 500, "internal"); goto out; }
    if (web_db_rating_put(c->db, c->user.id, m.id, (int)stars, review, web_time())) {
        web_fail(c, 500, "internal");
        goto out;
    }
    double secs = 0;
    int updated = c->app->reco && web_reco_rate(c->app->reco, &c->user, m.id, (int)stars, &secs) == 0;
    if (web_db_movie_get(c->db, m.id, &m) != WEB_DB_OK) { web_fail(c, 500, "internal"); goto out; }
    json_t *j = json_object();
    json_object_set_new(j, "movie", web_movie_json(c, &m));
    json_object_set_new(j, "stars", json_integer(stars));
    json_object_set_new(j, "model_updated", json_boolean(updated));
    json_object_set_new(j, "update_ms", json_real(secs * 1000.0));
    web_resp_json(c->resp, 200, j);
out:
    json_decref(b);
}
