/*
 * web/router.c — maps a parsed request to a handler and runs the checks every route shares:
 *
 *   1. the route table (method + path pattern with at most one integer ":id" segment);
 *   2. the session: the HttpOnly cookie's token is hashed and looked up (expired = none);
 *   3. for every state-changing method (POST, PUT, DELETE): cross-site refusal (an Origin
 *      that is not this host, or Sec-Fetch-Site: cross-site -> 403) and the CSRF token in the
 *      X-CSRF-Token header: the session's token when logged in, else the double-submit cookie
 *      soma_csrf (set by GET /api/me) — a missing or wrong token is 403;
 *   4. authentication for routes that need a user (401).
 * Also the response helpers and the JSON shapes shared by several handlers.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "handlers/handlers.h"

/* ---- responses ------------------------------------------------------------------------------ */

void web_resp_init(web_resp *r) {
    memset(r, 0, sizeof *r);
    r->status = 200;
    r->ctype = "text/plain";
}

void web_resp_free(web_resp *r) {
    if (!r->body_static) free(r->body);
    r->body = NULL;
}

void web_resp_set(web_resp *r, int status, const char *ctype, char *body, size_t len) {
    web_resp_free(r);
    r->status = status;
    r->ctype = ctype;
    r->body = body;
    r->len = len;
    r->body_static = false;
}

void web_resp_static(web_resp *r, int status, const char *ctype, const char *body, size_t len) {
    web_resp_free(r);
    r->status = status;
    r->ctype = ctype;
    r->body = (char *)body;
    r->len = len;
    r->body_static = true;
}

void web_resp_cookie(web_resp *r, const char *fmt, ...) {
    if (r->n_set_cookie == WEB_MAX_SET_COOKIE) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->set_cookie[r->n_set_cookie++], sizeof r->set_cookie[0], fmt, ap);
    va_end(ap);
}

/* ---- shared helpers ------------------------------------------------------------------------ */

void web_fail(web_ctx *c, int status, const char *code) {
    char key[64];
    snprintf(key, sizeof key, "err.%s", code);
    web_resp_error(c->resp, status, code, web_i18n(c->lang, key));
}

json_t *web_genres_json(web_ctx *c, uint32_t genres) {
    json_t *a = json_array();
    for (int g = 0; g < c->app->n_genres; g++) {
        if (!(genres >> g & 1u)) continue;
        json_t *o = json_object();
        json_object_set_new(o, "name", web_json_string(c->app->genres[g]));
        json_object_set_new(o, "label", web_json_string(web_i18n_genre(c->lang, c->app->genres[g])));
        json_array_append_new(a, o);
    }
    return a;
}

json_t *web_movie_json(web_ctx *c, const web_movie *m) {
    json_t *o = json_object();
    char cover[128];
    if (m->cover[0]) snprintf(cover, sizeof cover, "/media/%s", m->cover);
    else snprintf(cover, sizeof cover, "/api/movies/%lld/cover.svg", (long long)m->id);
    json_object_set_new(o, "id", json_integer(m->id));
    json_object_set_new(o, "title", web_json_string(m->title));
    json_object_set_new(o, "year", json_integer(m->year));
    json_object_set_new(o, "release_date", web_json_string(m->release_date));
    json_object_set_new(o, "genres", web_genres_json(c, m->genres));
    json_object_set_new(o, "avg_rating", json_real((double)(int)(m->avg * 100 + 0.5) / 100.0));
    json_object_set_new(o, "n_ratings", json_integer(m->n_ratings));
    json_object_set_new(o, "cover", web_json_string(cover));
    json_object_set_new(o, "movielens", json_boolean(m->ml));
    return o;
}

static int genre_index(web_ctx *c, const char *s, size_t n) {
    for (int g = 0; g < c->app->n_genres; g++)
        if (strlen(c->app->genres[g]) == n && strncasecmp(c->app->genres[g], s, n) == 0) return g;
    return -1;
}

int64_t web_genres_parse_json(web_ctx *c, const json_t *arr) {
    if (!json_is_array(arr) || json_array_size(arr) > (size_t)c->app->n_genres) return -1;
    uint32_t mask = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) return -1;
        int g = genre_index(c, json_string_value(v), json_string_length(v));
        if (g < 0) return -1;
        mask |= 1u << g;
    }
    return mask;
}

int64_t web_genres_parse_csv(web_ctx *c, const char *s, size_t n) {
    uint32_t mask = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && s[j] != ',') j++;
        size_t a = i, b = j;
        while (a < b && s[a] == ' ') a++;
        while (b > a && s[b - 1] == ' ') b--;
        if (b > a) {
            int g = genre_index(c, s + a, b - a);
            if (g < 0) return -1;
            mask |= 1u << g;
        }
        i = j + 1;
    }
    return mask;
}

bool web_query_int(web_ctx *c, const char *key, long lo, long hi, long def, long *out) {
    const web_str *v = web_req_query(c->req, key);
    *out = def;
    if (!v) return true;
    if (v->n == 0 || v->n > 10) return false;
    long x = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (v->p[i] < '0' || v->p[i] > '9') return false;
        x = x * 10 + (v->p[i] - '0');
    }
    if (x < lo || x > hi) return false;
    *out = x;
    return true;
}

int web_session_start(web_ctx *c, int64_t user_id, char *csrf) {
    char token[WEB_TOKEN_HEX + 1];
    unsigned char h[32];
    web_auth_token(token);
    web_auth_token(csrf);
    web_auth_token_hash(h, token, WEB_TOKEN_HEX);
    if (web_db_session_create(c->db, h, user_id, csrf, web_time() + WEB_SESSION_SECONDS))
        return -1;
    web_resp_cookie(c->resp, "soma_session=%s; Path=/; Max-Age=%d; HttpOnly; SameSite=Lax%s",
                    token, WEB_SESSION_SECONDS, c->app->cfg.secure_cookies ? "; Secure" : "");
    return 0;
}

/* ---- the route table ------------------------------------------------------------------------- */

enum { R_AUTH = 1 };

typedef struct route {
    web_method method;
    const char *pattern;     /* ":id" is an integer segment */
    web_handler fn;
    int flags;
} route;

static const route routes[] = {
    {WEB_GET, "/healthz", web_h_healthz, 0},
    {WEB_GET, "/", web_h_page, 0},
    {WEB_GET, "/index.html", web_h_page, 0},
    {WEB_GET, "/static/*", web_h_static, 0},
    {WEB_GET, "/media/*", web_h_media, 0},
    {WEB_GET, "/api/me", web_h_me, 0},
    {WEB_GET, "/api/i18n", web_h_i18n, 0},
    {WEB_GET, "/api/genres", web_h_genres, 0},
    {WEB_POST, "/api/register", web_h_register, 0},
    {WEB_POST, "/api/login", web_h_login, 0},
    {WEB_POST, "/api/logout", web_h_logout, 0},
    {WEB_GET, "/api/demo-users", web_h_demo_users, 0},
    {WEB_POST, "/api/demo-login", web_h_demo_login, 0},
    {WEB_GET, "/api/preferences", web_h_prefs_get, R_AUTH},
    {WEB_PUT, "/api/preferences", web_h_prefs_put, R_AUTH},
    {WEB_GET, "/api/recommendations", web_h_recommendations, R_AUTH},
    {WEB_GET, "/api/movies/search", web_h_search, 0},
    {WEB_POST, "/api/movies", web_h_movie_create, R_AUTH},
    {WEB_GET, "/api/movies/:id", web_h_movie, 0},
    {WEB_GET, "/api/movies/:id/cover.svg", web_h_cover, 0},
    {WEB_GET, "/api/movies/:id/reviews", web_h_reviews, 0},
    {WEB_POST, "/api/movies/:id/rating", web_h_rate, R_AUTH},
};

/* Matches path against pattern; 1 = match (id filled), 0 = no. "*" matches one last segment
 * of safe characters. */
static int match(const char *pattern, web_str path, int64_t *id) {
    const char *p = pattern;
    size_t i = 0;
    while (*p) {
        if (p[0] == ':' && p[1] == 'i' && p[2] == 'd') {
            int64_t v = 0;
            size_t start = i;
            while (i < path.n && path.p[i] >= '0' && path.p[i] <= '9' && i - start < 12)
                v = v * 10 + (path.p[i++] - '0');
            if (i == start || (i < path.n && path.p[i] != '/')) return 0;
            *id = v;
            p += 3;
        } else if (*p == '*') {
            size_t start = i;
            for (; i < path.n; i++) {
                char ch = path.p[i];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '.' || ch == '-' || ch == '_'))
                    return 0;
            }
            if (i == start || path.p[start] == '.') return 0;
            p++;
        } else {
            if (i >= path.n || path.p[i] != *p) return 0;
            i++;
            p++;
        }
    }
    return i == path.n;
}

/* Origin "scheme://host[:port]" must name the Host header's host:port. */
static bool same_origin(const web_req *r) {
    if (!r->origin[0]) return true;
    const char *o = strstr(r->origin, "://");
    if (!o || !r->host[0]) return false;
    return strcasecmp(o + 3, r->host) == 0;
}

static void load_session(web_ctx *c) {
    const web_str *tok = web_req_cookie(c->req, "soma_session");
    unsigned char h[32];
    if (!tok || !web_auth_token_hash(h, tok->p, tok->n)) return;
    int64_t uid;
    if (web_db_session_get(c->db, h, web_time(), &uid, c->session_csrf, sizeof c->session_csrf) !=
        WEB_DB_OK)
        return;
    if (web_db_user_get(c->db, uid, &c->user) != WEB_DB_OK) return;
    c->logged_in = true;
}

static bool csrf_ok(web_ctx *c) {
    const char *h = c->req->csrf_header;
    size_t hn = strlen(h);
    if (c->logged_in) return web_auth_equal(h, hn, c->session_csrf, strlen(c->session_csrf));
    const web_str *ck = web_req_cookie(c->req, "soma_csrf");
    return ck && ck->n == WEB_TOKEN_HEX && web_auth_equal(h, hn, ck->p, ck->n);
}

void web_route(web_app *app, const web_req *req, web_resp *resp) {
    web_ctx c;
    memset(&c, 0, sizeof c);
    c.app = app;
    c.req = req;
    c.resp = resp;
    const web_str *ql = web_req_query(req, "lang");
    snprintf(c.lang, sizeof c.lang, "%s", ql && ql->n >= 2 && !strncmp(ql->p, "zh", 2) ? "zh" : req->lang);

    web_method m = req->method == WEB_HEAD ? WEB_GET : req->method;
    const route *hit = NULL;
    bool path_known = false;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        int64_t id = 0;
        if (!match(routes[i].pattern, req->path, &id)) continue;
        path_known = true;
        if (routes[i].method == m) {
            hit = &routes[i];
            c.id = id;
            break;
        }
    }
    if (!hit) {
        web_fail(&c, path_known ? 405 : 404, path_known ? "method" : "not_found");
        return;
    }
    /* Static files need no database. */
    if (hit->fn == web_h_static || hit->fn == web_h_page) {
        hit->fn(&c);
        return;
    }
    c.db = web_db_thread();
    if (!c.db) {
        web_fail(&c, 503, "internal");
        return;
    }
    load_session(&c);
    if (c.logged_in && !ql) snprintf(c.lang, sizeof c.lang, "%s", c.user.lang);
    if (m == WEB_POST || m == WEB_PUT || m == WEB_DELETE) {
        if (!same_origin(req) || !strcmp(req->sec_fetch_site, "cross-site")) {
            web_fail(&c, 403, "cross_site");
            return;
        }
        if (!csrf_ok(&c)) {
            web_fail(&c, 403, "csrf");
            return;
        }
    }
    if ((hit->flags & R_AUTH) && !c.logged_in) {
        web_fail(&c, 401, "auth");
        return;
    }
    hit->fn(&c);
}
