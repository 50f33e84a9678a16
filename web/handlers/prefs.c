/*
 * web/handlers/prefs.c — the user's preferences (favourite genres, language), the genre list
 * and the page strings of a language.
 */
#include <string.h>

#include "handlers.h"

static void prefs_reply(web_ctx *c, uint32_t fav, const char *lang) {
    json_t *j = json_object();
    json_object_set_new(j, "genres", web_genres_json(c, fav));
    json_object_set_new(j, "lang", web_json_string(lang));
    web_resp_json(c->resp, 200, j);
}

void web_h_prefs_get(web_ctx *c) {
    uint32_t fav = c->user.fav_genres;
    if (!fav && c->user.ml_id && c->app->reco) fav = web_reco_user_fav(c->app->reco, c->user.id);
    prefs_reply(c, fav, c->user.lang);
}

void web_h_prefs_put(web_ctx *c) {
    const char *why;
    json_t *b = web_json_body(c->req, &why);
    if (!b) { web_fail(c, 400, "bad_json"); return; }
    const char *lang = c->user.lang;
    int rl = web_json_str(b, "lang", 2, 8, &lang);
    json_t *g = json_object_get(b, "genres");
    int64_t fav = c->user.fav_genres;
    if (rl == -2 || (rl == 0 && strcmp(lang, "en") && strcmp(lang, "zh"))) {
        web_fail(c, 400, "lang");
    } else if (g && (fav = web_genres_parse_json(c, g)) < 0) {
        web_fail(c, 400, "genres");
    } else if (!g && rl == -1) {
        web_fail(c, 400, "missing");
    } else if (web_db_user_set_prefs(c->db, c->user.id, (uint32_t)fav, lang)) {
        web_fail(c, 500, "internal");
    } else {
        snprintf(c->lang, sizeof c->lang, "%s", lang);
        prefs_reply(c, (uint32_t)fav, lang);
    }
    json_decref(b);
}

void web_h_genres(web_ctx *c) {
    json_t *j = json_object();
    json_object_set_new(j, "genres", web_genres_json(c, (uint32_t)((1ull << c->app->n_genres) - 1)));
    web_resp_json(c->resp, 200, j);
}

void web_h_i18n(web_ctx *c) {
    json_t *j = json_object();
    json_object_set_new(j, "lang", web_json_string(c->lang));
    json_object_set_new(j, "strings", web_i18n_table(c->lang));
    web_resp_json(c->resp, 200, j);
    c->resp->cache = "public, max-age=300";
}
