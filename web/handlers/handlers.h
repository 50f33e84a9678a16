/*
 * web/handlers/handlers.h — what every handler gets (web_ctx: the app, the parsed request, the
 * response to fill, the thread's database connection, the logged-in user) and the helpers
 * they share (router.c). A handler validates all of its input before it changes anything, so
 * a 4xx never leaves a trace in the database or on disk.
 */
#ifndef SOMA_WEB_HANDLERS_H
#define SOMA_WEB_HANDLERS_H

#include "../auth.h"
#include "../db.h"
#include "../i18n.h"
#include "../json.h"
#include "../reco.h"
#include "../web.h"

typedef struct web_ctx {
    web_app *app;
    const web_req *req;
    web_resp *resp;
    web_db *db;
    bool logged_in;
    web_user user;
    char session_csrf[WEB_TOKEN_HEX + 1];
    char lang[8];        /* the user's language, else the request's */
    int64_t id;          /* the :id path parameter, if the route has one */
} web_ctx;

typedef void (*web_handler)(web_ctx *c);

/* An error response with the localised message of "err.<code>". */
void web_fail(web_ctx *c, int status, const char *code);
/* Movie JSON for lists and details (genres as English names plus localised labels). */
json_t *web_movie_json(web_ctx *c, const web_movie *m);
json_t *web_genres_json(web_ctx *c, uint32_t genres);
/* Parses a list of genre names (JSON array) into a bit mask; -1 on an unknown name or more
 * than the catalogue's genres. */
int64_t web_genres_parse_json(web_ctx *c, const json_t *arr);
/* Same for a comma-separated list ("Comedy,Drama"). */
int64_t web_genres_parse_csv(web_ctx *c, const char *s, size_t n);
/* Starts a session for user id: sets the HttpOnly cookie; OUT csrf (65 bytes). 0 or -1. */
int web_session_start(web_ctx *c, int64_t user_id, char *csrf);
/* Integer query parameter in [lo, hi], def if absent; false if present and invalid. */
bool web_query_int(web_ctx *c, const char *key, long lo, long hi, long def, long *out);

/* auth.c */
void web_h_register(web_ctx *c);
void web_h_login(web_ctx *c);
void web_h_logout(web_ctx *c);
void web_h_me(web_ctx *c);
void web_h_demo_users(web_ctx *c);
void web_h_demo_login(web_ctx *c);
/* movies.c */
void web_h_search(web_ctx *c);
void web_h_movie(web_ctx *c);
void web_h_movie_create(web_ctx *c);
void web_h_cover(web_ctx *c);
void web_h_media(web_ctx *c);
void web_h_reviews(web_ctx *c);
/* ratings.c */
void web_h_rate(web_ctx *c);
/* recs.c */
void web_h_recommendations(web_ctx *c);
/* prefs.c */
void web_h_prefs_get(web_ctx *c);
void web_h_prefs_put(web_ctx *c);
void web_h_genres(web_ctx *c);
void web_h_i18n(web_ctx *c);
/* pages.c */
void web_h_page(web_ctx *c);
void web_h_static(web_ctx *c);
void web_h_healthz(web_ctx *c);

#endif
