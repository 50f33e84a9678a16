/*
 * tests/web/web_test.h — helpers for the web service's tests: a tiny synthetic MovieLens-100k
 * directory in the exact file format (so the tests need no downloaded data and run quickly
 * under the sanitizers), an application started on it in a temporary directory, and a client
 * that calls the router directly with a cookie jar and the CSRF token, as a browser would.
 */
#ifndef SOMA_WEB_TEST_H
#define SOMA_WEB_TEST_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "web.h"

static const char *const tw_genres[] = {
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western"};

#define TW_USERS 30
#define TW_MOVIES 40

static inline void tw_write(const char *dir, const char *name, const char *text) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) { perror(p); exit(2); }
    fputs(text, f);
    fclose(f);
}

/* Writes a synthetic ML-100k directory: 30 users, 40 movies (movie 1 "Star Wars (1977)", 2
 * "Star Trek (1979)", 3 "Toy Story (1995)", 4 "A Star Is Born (1976)", ...), ~500 ratings
 * with a genre structure the model can learn (users like genre u % 3 + 1 movies). */
static inline void tw_make_ml100k(const char *dir) {
    mkdir(dir, 0755);
    char buf[1 << 16];
    size_t n = 0;
    for (int g = 0; g < 19; g++) n += (size_t)snprintf(buf + n, sizeof buf - n, "%s|%d\n", tw_genres[g], g);
    n += (size_t)snprintf(buf + n, sizeof buf - n, "\n");
    tw_write(dir, "u.genre", buf);
    tw_write(dir, "u.occupation", "administrator\nartist\ndoctor\nengineer\nother\nstudent\n");
    static const char *const occ[] = {"administrator", "artist", "doctor", "engineer", "other", "student"};
    n = 0;
    for (int u = 1; u <= TW_USERS; u++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%d|%d|%c|%s|%05d\n", u, 18 + u, u % 2 ? 'M' : 'F',
                              occ[u % 6], 10000 + 3571 * u % 89999);
    tw_write(dir, "u.user", buf);
    static const char *const titles[] = {"Star Wars", "Star Trek", "Toy Story", "A Star Is Born",
                                         "Fargo", "Heat", "Casablanca", "Alien"};
    n = 0;
    for (int m = 1; m <= TW_MOVIES; m++) {
        char title[64];
        if (m <= 8) snprintf(title, sizeof title, "%s", titles[m - 1]);
        else snprintf(title, sizeof title, "Movie %d", m);
        int year = 1950 + m;
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%d|%s (%d)|01-Jan-%d||http://example.invalid/", m,
                              title, year, year);
        for (int g = 0; g < 19; g++) {
            int on = g == (m % 3) + 1 || (m % 5 == 0 && g == 8);
            n += (size_t)snprintf(buf + n, sizeof buf - n, "|%d", on);
        }
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\n");
    }
    tw_write(dir, "u.item", buf);
    n = 0;
    for (int u = 1; u <= TW_USERS; u++)
        for (int m = 1; m <= TW_MOVIES; m++) {
            if ((u * 7 + m * 3) % 5 > 1) continue; /* ~40 % of pairs */
            int stars = (m % 3) == (u % 3) ? 5 : 2;
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%d\t%d\t%d\t%d\n", u, m, stars, 880000000 + u * 1000 + m);
        }
    tw_write(dir, "u.data", buf);
}

/* A fresh temp dir with data; app started on it (training 1 epoch; with implicit feedback
 * when tw_implicit is set). */
static char tw_dir[256];
static bool tw_implicit;

static inline int tw_app_start(web_app *app) {
    snprintf(tw_dir, sizeof tw_dir, "/tmp/soma-web-test-XXXXXX");
    if (!mkdtemp(tw_dir)) return -1;
    char data[300];
    snprintf(data, sizeof data, "%s/ml", tw_dir);
    tw_make_ml100k(data);
    web_config cfg = web_config_default();
    snprintf(cfg.data, sizeof cfg.data, "%s", data);
    snprintf(cfg.db, sizeof cfg.db, "%s/db.sqlite", tw_dir);
    snprintf(cfg.model, sizeof cfg.model, "%s/model.soma", tw_dir);
    snprintf(cfg.media_dir, sizeof cfg.media_dir, "%s/media", tw_dir);
    cfg.access_log[0] = 0;
    cfg.epochs = 1;
    cfg.implicit = tw_implicit;
    cfg.pwhash_fast = 1;
    cfg.quiet = getenv("SOMA_WEB_TEST_VERBOSE") == NULL;
    return web_app_init(app, &cfg);
}

static inline void tw_rm_rf(const char *dir) {
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
}

/* ---- a client calling the router ----------------------------------------------------------- */

typedef struct tw_client {
    char session[80];
    char csrf_cookie[80];
    char csrf[80];        /* what the page would send in X-CSRF-Token */
    const char *origin;   /* Origin header (NULL: none) */
    const char *fetch_site;
    const char *lang;     /* Accept-Language */
} tw_client;

typedef struct tw_result {
    int status;
    json_t *json;         /* parsed body when JSON, else NULL */
    char *body;           /* copy of the body, NUL-terminated */
    size_t len;
    char ctype[64];
} tw_result;

static inline void tw_result_free(tw_result *r) {
    json_decref(r->json);
    free(r->body);
    memset(r, 0, sizeof *r);
}

static inline void tw_take_cookies(tw_client *c, const web_resp *resp) {
    for (int i = 0; i < resp->n_set_cookie; i++) {
        const char *s = resp->set_cookie[i];
        char *dst = NULL;
        size_t skip = 0;
        if (!strncmp(s, "soma_session=", 13)) { dst = c->session; skip = 13; }
        if (!strncmp(s, "soma_csrf=", 10)) { dst = c->csrf_cookie; skip = 10; }
        if (!dst) continue;
        size_t n = strcspn(s + skip, ";");
        if (n >= 80) n = 79;
        memcpy(dst, s + skip, n);
        dst[n] = 0;
    }
}

/* One request through req.c and the router. ctype NULL = application/json when body given. */
static inline int tw_call(web_app *app, tw_client *c, const char *method, const char *url,
                   const char *ctype, const char *body, size_t len, tw_result *out) {
    char cookie[256] = "";
    if (c && c->session[0]) snprintf(cookie + strlen(cookie), sizeof cookie - strlen(cookie), "soma_session=%s; ", c->session);
    if (c && c->csrf_cookie[0]) snprintf(cookie + strlen(cookie), sizeof cookie - strlen(cookie), "soma_csrf=%s", c->csrf_cookie);
    web_raw raw = {
        .method = method, .url = url, .host = "127.0.0.1:8080",
        .origin = c ? c->origin : NULL, .sec_fetch_site = c ? c->fetch_site : NULL,
        .content_type = body ? (ctype ? ctype : "application/json") : NULL,
        .cookie = cookie[0] ? cookie : NULL,
        .csrf_header = c && c->csrf[0] ? c->csrf : NULL,
        .accept_language = c ? c->lang : NULL, .client = "127.0.0.1",
        .body = body, .body_len = body ? (len ? len : strlen(body)) : 0,
    };
    memset(out, 0, sizeof *out);
    web_req req;
    const char *why;
    int rc = web_req_parse(&req, &raw, &why);
    if (rc) {
        out->status = rc;
        return rc;
    }
    web_resp resp;
    web_resp_init(&resp);
    web_route(app, &req, &resp);
    web_req_free(&req);
    out->status = resp.status;
    out->body = malloc(resp.len + 1);
    memcpy(out->body, resp.body ? resp.body : "", resp.len);
    out->body[resp.len] = 0;
    out->len = resp.len;
    snprintf(out->ctype, sizeof out->ctype, "%s", resp.ctype);
    if (!strncmp(resp.ctype, "application/json", 16)) out->json = json_loadb(out->body, out->len, 0, NULL);
    if (c) tw_take_cookies(c, &resp);
    web_resp_free(&resp);
    return out->status;
}

/* GET /api/me and keep its CSRF token (as the page does at start). */
static inline void tw_refresh_csrf(web_app *app, tw_client *c) {
    tw_result r;
    tw_call(app, c, "GET", "/api/me", NULL, NULL, 0, &r);
    json_t *t = r.json ? json_object_get(r.json, "csrf") : NULL;
    if (t) snprintf(c->csrf, sizeof c->csrf, "%s", json_string_value(t));
    tw_result_free(&r);
}

static inline const char *tw_err_code(const tw_result *r) {
    json_t *e = r->json ? json_object_get(r->json, "error") : NULL;
    json_t *c = e ? json_object_get(e, "code") : NULL;
    return c ? json_string_value(c) : "";
}

#endif
