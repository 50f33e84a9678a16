/*
 * web/handlers/auth.c — accounts: register, log in, log out, who am I (with the CSRF token the
 * pages send back), and the MovieLens users as demo accounts (entered without a password; they
 * have none, so they cannot be logged into any other way). Log-in failures are rate limited per
 * client address and per user name (10 per 5 minutes, then 429).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "handlers.h"

static json_t *user_json(web_ctx *c, const web_user *u) {
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "username", web_json_string(u->username));
    json_object_set_new(o, "lang", web_json_string(u->lang));
    json_object_set_new(o, "genres", web_genres_json(c, u->fav_genres));
    json_object_set_new(o, "demo", json_boolean(u->ml_id != 0));
    return o;
}

static bool username_ok(const char *s) {
    size_t n = strlen(s);
    if (n < 3 || n > 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-') return false;
    return strncmp(s, "movielens-", 10) != 0;
}

static void logged_in_reply(web_ctx *c, int status, int64_t uid, const char *csrf) {
    web_user u;
    if (web_db_user_get(c->db, uid, &u) != WEB_DB_OK) {
        web_fail(c, 500, "internal");
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "user", user_json(c, &u));
    json_object_set_new(j, "csrf", web_json_string(csrf));
    web_resp_json(c->resp, status, j);
}

void web_h_register(web_ctx *c) {
    const char *why;
    json_t *b = web_json_body(c->req, &why);
    if (!b) { web_fail(c, 400, "bad_json"); return; }
    const char *name, *pw, *lang = NULL;
    int r1 = web_json_str(b, "username", 1, 64, &name);
    int r2 = web_json_str(b, "password", 0, 1024, &pw);
    int r3 = web_json_str(b, "lang", 2, 8, &lang);
    json_t *genres = json_object_get(b, "genres");
    if (r1 || r2 || r3 == -2) { web_fail(c, 400, "missing"); goto out; }
    if (!username_ok(name)) { web_fail(c, 400, "username"); goto out; }
    size_t pn = strlen(pw);
    if (pn < 8 || pn > 128) { web_fail(c, 400, "password"); goto out; }
    if (lang && strcmp(lang, "en") && strcmp(lang, "zh")) { web_fail(c, 400, "lang"); goto out; }
    int64_t fav = 0;
    if (genres && !json_is_null(genres) && (fav = web_genres_parse_json(c, genres)) < 0) {
        web_fail(c, 400, "genres");
        goto out;
    }
    char hash[WEB_PWHASH_MAX];
    if (web_auth_hash(hash, pw, c->app->cfg.pwhash_fast)) { web_fail(c, 503, "internal"); goto out; }
    int64_t uid;
    int rc = web_db_user_create(c->db, name, hash, lang ? lang : c->lang, (uint32_t)fav, &uid);
    if (rc == WEB_DB_EXISTS) { web_fail(c, 409, "taken"); goto out; }
    if (rc) { web_fail(c, 500, "internal"); goto out; }
    char csrf[WEB_TOKEN_HEX + 1];
    if (web_session_start(c, uid, csrf)) { web_fail(c, 500, "internal"); goto out; }
    logged_in_reply(c, 201, uid, csrf);
out:
    json_decref(b);
}

void web_h_login(web_ctx *c) {
    const char *why;
    json_t *b = web_json_body(c->req, &why);
    if (!b) { web_fail(c, 400, "bad_json"); return; }
    const char *name, *pw;
    if (web_json_str(b, "username", 1, 64, &name) || web_json_str(b, "password", 1, 1024, &pw)) {
        web_fail(c, 400, "missing");
        goto out;
    }
    char kip[96], kuser[96];
    snprintf(kip, sizeof kip, "ip:%s", c->req->client);
    snprintf(kuser, sizeof kuser, "user:");
    for (size_t i = 0; name[i] && i < 64; i++) {
        size_t l = strlen(kuser);
        kuser[l] = (char)tolower((unsigned char)name[i]);
        kuser[l + 1] = 0;
    }
    int64_t now = web_time();
    web_ratelimit *rl = c->app->login_limit;
    if (web_ratelimit_blocked(rl, kip, now) || web_ratelimit_blocked(rl, kuser, now)) {
        web_fail(c, 429, "rate_limited");
        goto out;
    }
    web_user u;
    char hash[WEB_PWHASH_MAX];
    int rc = web_db_user_by_name(c->db, name, &u, hash, sizeof hash);
    if (rc == WEB_DB_ERR) { web_fail(c, 500, "internal"); goto out; }
    if (rc == WEB_DB_NOTFOUND || !web_auth_verify(hash, pw)) {
        web_ratelimit_fail(rl, kip, now);
        web_ratelimit_fail(rl, kuser, now);
        web_fail(c, 401, "login");
        goto out;
    }
    web_ratelimit_reset(rl, kuser);
    char csrf[WEB_TOKEN_HEX + 1];
    if (web_session_start(c, u.id, csrf)) { web_fail(c, 500, "internal"); goto out; }
    logged_in_reply(c, 200, u.id, csrf);
out:
    json_decref(b);
}

void web_h_logout(web_ctx *c) {
    const web_str *tok = web_req_cookie(c->req, "soma_session");
    unsigned char h[32];
    if (tok && web_auth_token_hash(h, tok->p, tok->n) && web_db_session_delete(c->db, h)) {
        web_fail(c, 500, "internal");
        return;
    }
    web_resp_cookie(c->resp, "soma_session=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax");
    json_t *j = json_object();
    json_object_set_new(j, "ok", json_true());
    web_resp_json(c->resp, 200, j);
}

void web_h_me(web_ctx *c) {
    json_t *j = json_object();
    json_object_set_new(j, "user", c->logged_in ? user_json(c, &c->user) : json_null());
    json_object_set_new(j, "lang", web_json_string(c->lang));
    json_object_set_new(j, "demo", json_boolean(c->app->cfg.demo));
    if (c->logged_in) {
        json_object_set_new(j, "csrf", web_json_string(c->session_csrf));
    } else {
        /* Double-submit token for the forms used before log-in. */
        const web_str *ck = web_req_cookie(c->req, "soma_csrf");
        char tok[WEB_TOKEN_HEX + 1];
        if (ck && ck->n == WEB_TOKEN_HEX) {
            memcpy(tok, ck->p, WEB_TOKEN_HEX);
            tok[WEB_TOKEN_HEX] = 0;
            for (int i = 0; i < WEB_TOKEN_HEX; i++)
                if (!isxdigit((unsigned char)tok[i])) { web_auth_token(tok); break; }
        } else {
            web_auth_token(tok);
        }
        web_resp_cookie(c->resp, "soma_csrf=%s; Path=/; SameSite=Strict%s", tok,
                        c->app->cfg.secure_cookies ? "; Secure" : "");
        json_object_set_new(j, "csrf", web_json_string(tok));
    }
    web_resp_json(c->resp, 200, j);
}

typedef struct demo_ctx {
    web_ctx *c;
    json_t *arr;
} demo_ctx;

static void demo_row(void *ctx, const web_user *u, int n_ratings) {
    demo_ctx *d = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(u->id));
    json_object_set_new(o, "username", web_json_string(u->username));
    json_object_set_new(o, "age", json_integer(u->age));
    char g[2] = {u->gender, 0};
    json_object_set_new(o, "gender", web_json_string(g));
    json_object_set_new(o, "occupation", json_integer(u->occupation));
    json_object_set_new(o, "n_ratings", json_integer(n_ratings));
    json_object_set_new(o, "genres", web_genres_json(d->c, u->fav_genres));
    json_array_append_new(d->arr, o);
}

void web_h_demo_users(web_ctx *c) {
    if (!c->app->cfg.demo) { web_fail(c, 404, "demo_off"); return; }
    long offset, limit;
    if (!web_query_int(c, "offset", 0, 1000000, 0, &offset) ||
        !web_query_int(c, "limit", 1, 100, 20, &limit)) {
        web_fail(c, 400, "bad_request");
        return;
    }
    demo_ctx d = {c, json_array()};
    if (web_db_demo_users(c->db, (int)offset, (int)limit, demo_row, &d)) {
        json_decref(d.arr);
        web_fail(c, 500, "internal");
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "users", d.arr);
    web_resp_json(c->resp, 200, j);
}

void web_h_demo_login(web_ctx *c) {
    if (!c->app->cfg.demo) { web_fail(c, 404, "demo_off"); return; }
    const char *why;
    json_t *b = web_json_body(c->req, &why);
    if (!b) { web_fail(c, 400, "bad_json"); return; }
    long long id;
    web_user u;
    if (web_json_int(b, "user", 1, 1LL << 40, &id)) { web_fail(c, 400, "missing"); goto out; }
    int rc = web_db_user_get(c->db, id, &u);
    if (rc == WEB_DB_ERR) { web_fail(c, 500, "internal"); goto out; }
    if (rc == WEB_DB_NOTFOUND || u.ml_id == 0) { web_fail(c, 404, "not_found"); goto out; }
    char csrf[WEB_TOKEN_HEX + 1];
    if (web_session_start(c, u.id, csrf)) { web_fail(c, 500, "internal"); goto out; }
    logged_in_reply(c, 200, u.id, csrf);
out:
    json_decref(b);
}
