/*
 * tests/web/test_web_api.c — every endpoint of the web service through the router (no
 * sockets): the good paths and the bad input — malformed JSON, missing fields, oversized and
 * non-image uploads, SQL and HTML injection, unauthenticated and cross-site requests — each a
 * clear 4xx that stores nothing (row counts and the media directory are compared before and
 * after). Then a few requests over a real socket on an ephemeral port (keep-alive, 413, 404).
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <dirent.h>
#include <math.h>
#include <netinet/in.h>
#include <png.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "db.h"
#include "reco.h"
#include "server.h"
#include "web_test.h"

static web_app app;

static int64_t count(const char *table) {
    return web_db_count(web_db_thread(), table);
}

static int media_files(void) {
    DIR *d = opendir(app.cfg.media_dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static int post_json(tw_client *c, const char *url, const char *body, tw_result *r) {
    return tw_call(&app, c, "POST", url, NULL, body, 0, r);
}

static int get(tw_client *c, const char *url, tw_result *r) {
    return tw_call(&app, c, "GET", url, NULL, NULL, 0, r);
}

/* A registered, logged-in client. */
static void login_new(tw_client *c, const char *name) {
    memset(c, 0, sizeof *c);
    tw_refresh_csrf(&app, c);
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"correct horse\"}", name);
    tw_result r;
    CHECK(post_json(c, "/api/register", body, &r) == 201);
    json_t *t = r.json ? json_object_get(r.json, "csrf") : NULL;
    if (t) snprintf(c->csrf, sizeof c->csrf, "%s", json_string_value(t));
    tw_result_free(&r);
}

TEST(test_health_and_pages) {
    tw_result r;
    CHECK(get(NULL, "/healthz", &r) == 200);
    CHECK(r.json && !strcmp(json_string_value(json_object_get(r.json, "status")), "ok"));
    CHECK(r.json && json_integer_value(json_object_get(r.json, "movies")) == TW_MOVIES);
    tw_result_free(&r);
    CHECK(get(NULL, "/", &r) == 200 && strstr(r.ctype, "text/html"));
    tw_result_free(&r);
    CHECK(get(NULL, "/static/app.js", &r) == 200);
    tw_result_free(&r);
    CHECK(get(NULL, "/static/nope.js", &r) == 404);
    tw_result_free(&r);
    CHECK(get(NULL, "/static/../web.h", &r) == 400);     /* traversal refused by req.c */
    tw_result_free(&r);
    CHECK(get(NULL, "/static/%2e%2e/web.h", &r) == 400); /* encoded traversal too */
    tw_result_free(&r);
    CHECK(get(NULL, "/nope", &r) == 404 && !strcmp(tw_err_code(&r), "not_found"));
    tw_result_free(&r);
    CHECK(tw_call(&app, NULL, "DELETE", "/healthz", NULL, NULL, 0, &r) == 405);
    tw_result_free(&r);
    CHECK(tw_call(&app, NULL, "PATCH", "/healthz", NULL, NULL, 0, &r) == 405);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/i18n?lang=zh", &r) == 200);
    CHECK(r.json && strstr(json_string_value(json_object_get(json_object_get(r.json, "strings"), "nav.login")), "登录"));
    tw_result_free(&r);
    CHECK(get(NULL, "/api/genres", &r) == 200 && json_array_size(json_object_get(r.json, "genres")) == 19);
    tw_result_free(&r);
}

TEST(test_register_bad_input) {
    tw_client c = {0};
    tw_refresh_csrf(&app, &c);
    CHECK(strlen(c.csrf) == 64 && !strcmp(c.csrf, c.csrf_cookie));
    int64_t users = count("users");
    tw_result r;
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",", &r) == 400 && !strcmp(tw_err_code(&r), "bad_json"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "[1,2]", &r) == 400);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\"}", &r) == 400 && !strcmp(tw_err_code(&r), "missing"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",\"password\":12345678}", &r) == 400);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",\"password\":\"short\"}", &r) == 400 && !strcmp(tw_err_code(&r), "password"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"x'); DROP TABLE users;--\",\"password\":\"12345678\"}", &r) == 400 && !strcmp(tw_err_code(&r), "username"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"<script>\",\"password\":\"12345678\"}", &r) == 400);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"movielens-1\",\"password\":\"12345678\"}", &r) == 400);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\",\"genres\":[\"Nope\"]}", &r) == 400 && !strcmp(tw_err_code(&r), "genres"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",\"username\":\"eve\",\"password\":\"12345678\"}", &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "POST", "/api/register", "text/plain", "{\"username\":\"bob\",\"password\":\"12345678\"}", 0, &r) == 400);
    tw_result_free(&r);
    /* CSRF: no token, a wrong token, a token without the cookie */
    tw_client bad = c;
    bad.csrf[0] = 0;
    CHECK(post_json(&bad, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\"}", &r) == 403 && !strcmp(tw_err_code(&r), "csrf"));
    tw_result_free(&r);
    bad = c;
    bad.csrf[0] = bad.csrf[0] == 'a' ? 'b' : 'a';
    CHECK(post_json(&bad, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\"}", &r) == 403);
    tw_result_free(&r);
    bad = c;
    bad.csrf_cookie[0] = 0;
    CHECK(post_json(&bad, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\"}", &r) == 403);
    tw_result_free(&r);
    /* cross-site */
    bad = c;
    bad.origin = "http://evil.example";
    CHECK(post_json(&bad, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\"}", &r) == 403 && !strcmp(tw_err_code(&r), "cross_site"));
    tw_result_free(&r);
    bad = c;
    bad.fetch_site = "cross-site";
    CHECK(post_json(&bad, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\"}", &r) == 403);
    tw_result_free(&r);
    /* oversized body */
    size_t big = WEB_MAX_BODY + 10;
    char *b = malloc(big);
    memset(b, ' ', big);
    b[0] = '{';
    b[big - 1] = '}';
    CHECK(tw_call(&app, &c, "POST", "/api/register", NULL, b, big, &r) == 413);
    tw_result_free(&r);
    free(b);
    /* localised error */
    tw_client zh = c;
    zh.lang = "zh-CN,zh;q=0.9";
    CHECK(post_json(&zh, "/api/register", "{\"username\":\"bob\",\"password\":\"short\"}", &r) == 400);
    CHECK(r.json && strstr(json_string_value(json_object_get(json_object_get(r.json, "error"), "message")), "密码"));
    tw_result_free(&r);
    CHECK(count("users") == users);
    /* and a good one, then the same name again (case-insensitively) */
    CHECK(post_json(&c, "/api/register", "{\"username\":\"bob\",\"password\":\"12345678\",\"genres\":[\"Comedy\"],\"lang\":\"zh\"}", &r) == 201);
    CHECK(r.json && !strcmp(json_string_value(json_object_get(json_object_get(r.json, "user"), "lang")), "zh"));
    tw_result_free(&r);
    CHECK(c.session[0] != 0);
    tw_client c2 = {0};
    tw_refresh_csrf(&app, &c2);
    CHECK(post_json(&c2, "/api/register", "{\"username\":\"BOB\",\"password\":\"12345678\"}", &r) == 409);
    tw_result_free(&r);
    CHECK(count("users") == users + 1);
}

TEST(test_login_logout_ratelimit) {
    tw_client c = {0};
    tw_refresh_csrf(&app, &c);
    tw_result r;
    CHECK(post_json(&c, "/api/register", "{\"username\":\"carol\",\"password\":\"s3cret-pass\"}", &r) == 201);
    tw_result_free(&r);
    /* the session cookie is HttpOnly and SameSite */
    tw_client d = {0};
    tw_refresh_csrf(&app, &d);
    CHECK(post_json(&d, "/api/login", "{\"username\":\"carol\",\"password\":\"s3cret-pass\"}", &r) == 200);
    tw_result_free(&r);
    {
        tw_client e = {0};
        tw_refresh_csrf(&app, &e);
        web_raw raw = {.method = "POST", .url = "/api/login", .host = "h", .content_type = "application/json",
                       .body = "{\"username\":\"carol\",\"password\":\"s3cret-pass\"}", .client = "127.0.0.1"};
        char ck[120];
        snprintf(ck, sizeof ck, "soma_csrf=%s", e.csrf_cookie);
        raw.cookie = ck;
        raw.csrf_header = e.csrf;
        raw.body_len = strlen(raw.body);
        web_req req;
        const char *why;
        CHECK(web_req_parse(&req, &raw, &why) == 0);
        web_resp resp;
        web_resp_init(&resp);
        web_route(&app, &req, &resp);
        CHECK(resp.status == 200 && resp.n_set_cookie == 1);
        CHECK(strstr(resp.set_cookie[0], "HttpOnly") && strstr(resp.set_cookie[0], "SameSite=Lax"));
        web_resp_free(&resp);
        web_req_free(&req);
    }
    CHECK(get(&d, "/api/me", &r) == 200 && json_is_object(json_object_get(r.json, "user")));
    tw_result_free(&r);
    /* logout needs the CSRF token, then the session is gone */
    tw_client nocsrf = d;
    nocsrf.csrf[0] = 0;
    CHECK(post_json(&nocsrf, "/api/logout", "{}", &r) == 403);
    tw_result_free(&r);
    char old_session[80];
    snprintf(old_session, sizeof old_session, "%s", d.session);
    tw_refresh_csrf(&app, &d);
    CHECK(post_json(&d, "/api/logout", "{}", &r) == 200);
    tw_result_free(&r);
    snprintf(d.session, sizeof d.session, "%s", old_session); /* replaying the old cookie */
    CHECK(get(&d, "/api/me", &r) == 200 && json_is_null(json_object_get(r.json, "user")));
    tw_result_free(&r);
    CHECK(get(&d, "/api/recommendations", &r) == 401);
    tw_result_free(&r);
    /* wrong passwords: 401 ten times, then 429 even with the right one */
    tw_client x = {0};
    tw_refresh_csrf(&app, &x);
    int n401 = 0;
    for (int i = 0; i < 10; i++) {
        if (post_json(&x, "/api/login", "{\"username\":\"carol\",\"password\":\"wrong-pass\"}", &r) == 401) n401++;
        tw_result_free(&r);
    }
    CHECK(n401 == 10);
    CHECK(post_json(&x, "/api/login", "{\"username\":\"carol\",\"password\":\"s3cret-pass\"}", &r) == 429);
    tw_result_free(&r);
    CHECK(post_json(&x, "/api/login", "{\"username\":\"nobody\",\"password\":\"whatever1\"}", &r) == 429); /* per address */
    tw_result_free(&r);
    CHECK(post_json(&x, "/api/login", "{\"username\":\"carol\"}", &r) == 400);
    tw_result_free(&r);
}

TEST(test_prefs_and_cold_start) {
    tw_client c;
    login_new(&c, "dave");
    tw_result r;
    tw_client anon = {0};
    CHECK(get(&anon, "/api/preferences", &r) == 401);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "PUT", "/api/preferences", NULL, "{\"genres\":[\"Drama\",\"Nope\"]}", 0, &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "PUT", "/api/preferences", NULL, "{\"lang\":\"fr\"}", 0, &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "PUT", "/api/preferences", NULL, "{\"genres\":\"Drama\"}", 0, &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "PUT", "/api/preferences", NULL, "{}", 0, &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "PUT", "/api/preferences", NULL, "{\"genres\":[\"Action\",\"adventure\"],\"lang\":\"en\"}", 0, &r) == 200);
    tw_result_free(&r);
    CHECK(get(&c, "/api/preferences", &r) == 200 && json_array_size(json_object_get(r.json, "genres")) == 2);
    tw_result_free(&r);
    /* cold start: no ratings, recommendations from preferences at once, with genre reasons */
    CHECK(get(&c, "/api/recommendations?n=5", &r) == 200);
    CHECK(r.json && json_is_true(json_object_get(r.json, "cold_start")));
    json_t *items = json_object_get(r.json, "items");
    CHECK(json_array_size(items) == 5);
    int genre_reasons = 0;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) {
        json_t *reason = json_object_get(it, "reason");
        if (reason && !strcmp(json_string_value(json_object_get(reason, "kind")), "genre")) genre_reasons++;
    }
    CHECK(genre_reasons >= 1);
    tw_result_free(&r);
    CHECK(get(&c, "/api/recommendations?n=0", &r) == 400);
    tw_result_free(&r);
    CHECK(get(&c, "/api/recommendations?n=abc", &r) == 400);
    tw_result_free(&r);
    CHECK(get(&c, "/api/recommendations?n=1000", &r) == 400);
    tw_result_free(&r);
}

TEST(test_search) {
    tw_result r;
    CHECK(get(NULL, "/api/movies/search", &r) == 400);
    tw_result_free(&r);
    char url[400];
    snprintf(url, sizeof url, "/api/movies/search?q=%0101d", 0);
    CHECK(get(NULL, url, &r) == 400); /* 101 bytes */
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=star", &r) == 200);
    json_t *m = json_object_get(r.json, "movies");
    CHECK(json_array_size(m) == 3); /* Star Wars, Star Trek, A Star Is Born */
    /* prefix matches first */
    CHECK(!strncmp(json_string_value(json_object_get(json_array_get(m, 0), "title")), "Star", 4));
    CHECK(!strncmp(json_string_value(json_object_get(json_array_get(m, 2), "title")), "A Star", 6));
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=STAR+WARS", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 1);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=ar%20w", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 1);
    tw_result_free(&r);
    /* injection attempts match literally */
    CHECK(get(NULL, "/api/movies/search?q=%25%27%20OR%201%3D1%20--", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 0);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=%25", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 0);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=_", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 0);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=%zz", &r) == 400);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=a%00b", &r) == 400);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=%ff", &r) == 400); /* not UTF-8 */
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=movie&limit=2", &r) == 200 && json_array_size(json_object_get(r.json, "movies")) == 2);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/search?q=movie&limit=-1", &r) == 400);
    tw_result_free(&r);
}

TEST(test_rating) {
    tw_client c;
    login_new(&c, "erin");
    tw_result r;
    int64_t ratings = count("ratings");
    tw_client anon = {0};
    tw_refresh_csrf(&app, &anon);
    CHECK(post_json(&anon, "/api/movies/3/rating", "{\"stars\":5}", &r) == 401);
    tw_result_free(&r);
    tw_client nocsrf = c;
    nocsrf.csrf[0] = 0;
    CHECK(post_json(&nocsrf, "/api/movies/3/rating", "{\"stars\":5}", &r) == 403);
    tw_result_free(&r);
    tw_client cross = c;
    cross.origin = "https://127.0.0.1.evil.example";
    CHECK(post_json(&cross, "/api/movies/3/rating", "{\"stars\":5}", &r) == 403);
    tw_result_free(&r);
    const char *bad[] = {"{\"stars\":0}", "{\"stars\":6}", "{\"stars\":\"5\"}", "{\"stars\":3.5}", "{}",
                         "{\"stars\":5,\"review\":7}", "nope", "{\"stars\":-1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(post_json(&c, "/api/movies/3/rating", bad[i], &r) == 400);
        tw_result_free(&r);
    }
    char longrev[1200 + 40];
    snprintf(longrev, sizeof longrev, "{\"stars\":4,\"review\":\"%01100d\"}", 0);
    CHECK(post_json(&c, "/api/movies/3/rating", longrev, &r) == 400 && !strcmp(tw_err_code(&r), "review"));
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/movies/99999/rating", "{\"stars\":4}", &r) == 404);
    tw_result_free(&r);
    CHECK(count("ratings") == ratings);

    /* recommendations before, a rating, recommendations after (within the same second) */
    CHECK(get(&c, "/api/recommendations?n=10", &r) == 200);
    json_t *before = json_incref(json_object_get(r.json, "items"));
    tw_result_free(&r);
    int64_t top = json_integer_value(json_object_get(json_array_get(before, 0), "id"));
    char url[64];
    snprintf(url, sizeof url, "/api/movies/%lld/rating", (long long)top);
    CHECK(post_json(&c, url, "{\"stars\":5,\"review\":\"<script>alert(1)</script> & 'quotes'\"}", &r) == 200);
    CHECK(r.json && json_is_true(json_object_get(r.json, "model_updated")));
    CHECK(r.json && json_real_value(json_object_get(r.json, "update_ms")) >= 0);
    tw_result_free(&r);
    CHECK(count("ratings") == ratings + 1);
    snprintf(url, sizeof url, "/api/movies/%lld/reviews", (long long)top);
    CHECK(get(NULL, url, &r) == 200);
    CHECK(strstr(r.body, "<\\/script>") != NULL); /* stored verbatim; '/' escaped in JSON */
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "reviews"), 0), "review")),
                  "<script>alert(1)</script> & 'quotes'"));
    tw_result_free(&r);
    snprintf(url, sizeof url, "/api/movies/%lld/rating", (long long)top);
    CHECK(get(&c, "/api/recommendations?n=10", &r) == 200);
    json_t *after = json_object_get(r.json, "items");
    CHECK(!json_is_true(json_object_get(r.json, "cold_start")));
    bool still_there = false;
    size_t i;
    json_t *it;
    json_array_foreach(after, i, it) {
        if (json_integer_value(json_object_get(it, "id")) == top) still_there = true;
    }
    CHECK(json_array_size(after) == 10 && !still_there); /* the rated movie left the list */
    tw_result_free(&r);
    json_decref(before);
    /* the same rating again replaces it: still one row */
    CHECK(post_json(&c, url, "{\"stars\":4}", &r) == 200);
    tw_result_free(&r);
    CHECK(count("ratings") == ratings + 1);
    /* details page: own rating, the review in the list, average */
    snprintf(url, sizeof url, "/api/movies/%lld", (long long)top);
    CHECK(get(&c, url, &r) == 200);
    CHECK(json_integer_value(json_object_get(json_object_get(r.json, "my_rating"), "stars")) == 4);
    CHECK(json_real_value(json_object_get(r.json, "avg_rating")) > 0);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/movies/5/rating", "{\"stars\":3,\"review\":\"fine\"}", &r) == 200);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/5/reviews", &r) == 200 && json_array_size(json_object_get(r.json, "reviews")) == 1);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(json_object_get(r.json, "reviews"), 0), "review")), "fine"));
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/5/reviews?limit=0", &r) == 400);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/424242", &r) == 404);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/abc", &r) == 404);
    tw_result_free(&r);
}

/* ---- uploads --------------------------------------------------------------------------- */

static unsigned char *make_png(int w, int h, size_t *n) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    img.width = (png_uint_32)w;
    img.height = (png_uint_32)h;
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc((size_t)w * h * 3);
    for (int i = 0; i < w * h * 3; i++) px[i] = (unsigned char)(i * 7);
    png_alloc_size_t size = 0;
    png_image_write_to_memory(&img, NULL, &size, 0, px, 0, NULL);
    unsigned char *out = malloc(size);
    CHECK(png_image_write_to_memory(&img, out, &size, 0, px, 0, NULL));
    free(px);
    *n = size;
    return out;
}

/* Builds a multipart body: fields (name, value) pairs, and an optional file part "cover". */
static char *multipart(const char *const *fields, int nf, const void *file, size_t file_n,
                       size_t *len) {
    size_t cap = 4096 + file_n;
    char *b = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < nf; i++)
        n += (size_t)snprintf(b + n, cap - n, "--XyZb\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n",
                              fields[2 * i], fields[2 * i + 1]);
    if (file) {
        n += (size_t)snprintf(b + n, cap - n, "--XyZb\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"c.png\"\r\n"
                                              "Content-Type: image/png\r\n\r\n");
        memcpy(b + n, file, file_n);
        n += file_n;
        n += (size_t)snprintf(b + n, cap - n, "\r\n");
    }
    n += (size_t)snprintf(b + n, cap - n, "--XyZb--\r\n");
    *len = n;
    return b;
}

#define MP "multipart/form-data; boundary=XyZb"

static int upload(tw_client *c, const char *const *fields, int nf, const void *file, size_t fn, tw_result *r) {
    size_t len;
    char *b = multipart(fields, nf, file, fn, &len);
    int s = tw_call(&app, c, "POST", "/api/movies", MP, b, len, r);
    free(b);
    return s;
}

TEST(test_upload) {
    tw_client c;
    login_new(&c, "frank");
    tw_result r;
    int64_t movies = count("movies");
    int files = media_files();
    const char *good[] = {"title", "Soma: The Movie <b>&amp;</b>", "release_date", "2024-02-29",
                          "genres", "Sci-Fi,Drama", "description", "Spiking neurons <i>everywhere</i>."};
    size_t png_n;
    unsigned char *png = make_png(60, 90, &png_n);
    /* not multipart */
    CHECK(post_json(&c, "/api/movies", "{\"title\":\"x\"}", &r) == 415);
    tw_result_free(&r);
    /* unauthenticated */
    tw_client anon = {0};
    tw_refresh_csrf(&app, &anon);
    CHECK(upload(&anon, good, 4, png, png_n, &r) == 401);
    tw_result_free(&r);
    /* missing / bad fields */
    CHECK(upload(&c, good + 2, 3, png, png_n, &r) == 400 && !strcmp(tw_err_code(&r), "title"));
    tw_result_free(&r);
    const char *bad_date[] = {"title", "X", "release_date", "2023-02-29", "genres", "Drama"};
    CHECK(upload(&c, bad_date, 3, NULL, 0, &r) == 400 && !strcmp(tw_err_code(&r), "date"));
    tw_result_free(&r);
    const char *bad_genre[] = {"title", "X", "release_date", "2023-02-28", "genres", "Drama,Polka"};
    CHECK(upload(&c, bad_genre, 3, NULL, 0, &r) == 400 && !strcmp(tw_err_code(&r), "genres"));
    tw_result_free(&r);
    const char *no_genre[] = {"title", "X", "release_date", "2023-02-28", "genres", ""};
    CHECK(upload(&c, no_genre, 3, NULL, 0, &r) == 400);
    tw_result_free(&r);
    const char *extra[] = {"title", "X", "release_date", "2023-02-28", "genres", "Drama", "admin", "1"};
    CHECK(upload(&c, extra, 4, NULL, 0, &r) == 400);
    tw_result_free(&r);
    /* not an image, a broken PNG, a truncated JPEG, an oversized file, a huge body */
    CHECK(upload(&c, good, 4, "GIF89a not really", 17, &r) == 415 && !strcmp(tw_err_code(&r), "image_type"));
    tw_result_free(&r);
    unsigned char broken[64];
    memcpy(broken, png, 8);
    memset(broken + 8, 0x41, sizeof broken - 8);
    CHECK(upload(&c, good, 4, broken, sizeof broken, &r) == 400 && !strcmp(tw_err_code(&r), "image_decode"));
    tw_result_free(&r);
    CHECK(upload(&c, good, 4, png, png_n / 2, &r) == 400);
    tw_result_free(&r);
    const unsigned char jpeg_head[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 'J', 'F', 'I', 'F', 0};
    CHECK(upload(&c, good, 4, jpeg_head, sizeof jpeg_head, &r) == 400);
    tw_result_free(&r);
    size_t bign = WEB_MAX_COVER_BYTES + 100;
    unsigned char *big = calloc(1, bign);
    memcpy(big, png, png_n);
    CHECK(upload(&c, good, 4, big, bign, &r) == 413);
    tw_result_free(&r);
    free(big);
    size_t hugen = WEB_MAX_UPLOAD_BODY + 100;
    char *huge = calloc(1, hugen);
    CHECK(tw_call(&app, &c, "POST", "/api/movies", MP, huge, hugen, &r) == 413);
    tw_result_free(&r);
    free(huge);
    CHECK(tw_call(&app, &c, "POST", "/api/movies", MP, "garbage", 7, &r) == 400);
    tw_result_free(&r);
    CHECK(tw_call(&app, &c, "POST", "/api/movies", "multipart/form-data", "--x\r\n", 5, &r) == 400);
    tw_result_free(&r);
    /* a 5000x1 image is over the side limit */
    size_t wide_n;
    unsigned char *wide = make_png(5000, 1, &wide_n);
    CHECK(upload(&c, good, 4, wide, wide_n, &r) == 413 && !strcmp(tw_err_code(&r), "image_size"));
    tw_result_free(&r);
    free(wide);
    tw_client nocsrf = c;
    nocsrf.csrf[0] = 0;
    CHECK(upload(&nocsrf, good, 4, png, png_n, &r) == 403);
    tw_result_free(&r);
    CHECK(count("movies") == movies);
    CHECK(media_files() == files);

    /* the good upload */
    CHECK(upload(&c, good, 4, png, png_n, &r) == 201);
    int64_t id = json_integer_value(json_object_get(r.json, "id"));
    const char *cover = json_string_value(json_object_get(r.json, "cover"));
    CHECK(cover && !strncmp(cover, "/media/", 7) && strlen(cover) == 7 + 68);
    char cover_url[128];
    snprintf(cover_url, sizeof cover_url, "%s", cover ? cover : "");
    tw_result_free(&r);
    CHECK(count("movies") == movies + 1);
    CHECK(media_files() == files + 1);
    CHECK(get(NULL, cover_url, &r) == 200 && r.len == png_n && !memcmp(r.body, png, png_n));
    CHECK(!strcmp(r.ctype, "image/png"));
    tw_result_free(&r);
    CHECK(get(NULL, "/media/..%2fdb.sqlite", &r) >= 400);
    tw_result_free(&r);
    CHECK(get(NULL, "/media/0000000000000000000000000000000000000000000000000000000000000000.png", &r) == 404);
    tw_result_free(&r);
    /* the details page; the same image again is stored once */
    char url[64];
    snprintf(url, sizeof url, "/api/movies/%lld", (long long)id);
    CHECK(get(&c, url, &r) == 200);
    CHECK(!strcmp(json_string_value(json_object_get(r.json, "title")), "Soma: The Movie <b>&amp;</b>"));
    CHECK(!strcmp(json_string_value(json_object_get(r.json, "release_date")), "2024-02-29"));
    tw_result_free(&r);
    const char *second[] = {"title", "Second", "release_date", "2020-01-01", "genres", "Comedy"};
    CHECK(upload(&c, second, 3, png, png_n, &r) == 201);
    int64_t id2 = json_integer_value(json_object_get(r.json, "id"));
    tw_result_free(&r);
    CHECK(media_files() == files + 1);
    /* scorable at once: a Sci-Fi fan is recommended the new Sci-Fi movie or at least it has a
     * finite score for them */
    web_user u;
    CHECK(web_db_user_by_name(web_db_thread(), "frank", &u, NULL, 0) == WEB_DB_OK);
    CHECK(!isnan(web_reco_score(app.reco, &u, id)));
    CHECK(!isnan(web_reco_score(app.reco, &u, id2)));
    /* generated SVG covers escape the title */
    snprintf(url, sizeof url, "/api/movies/%lld/cover.svg", (long long)id2);
    CHECK(get(NULL, url, &r) == 200 && !strcmp(r.ctype, "image/svg+xml") && strstr(r.body, "Second"));
    tw_result_free(&r);
    snprintf(url, sizeof url, "/api/movies/%lld/cover.svg", (long long)id);
    CHECK(get(NULL, url, &r) == 200 && strstr(r.body, "&lt;b&gt;&amp;amp;&lt;/b&gt;") && !strstr(r.body, "<b>"));
    tw_result_free(&r);
    CHECK(get(NULL, "/api/movies/1/cover.svg", &r) == 200 && strstr(r.body, "Star Wars"));
    tw_result_free(&r);
    free(png);
}

TEST(test_demo_accounts) {
    tw_result r;
    CHECK(get(NULL, "/api/demo-users?limit=5", &r) == 200 && json_array_size(json_object_get(r.json, "users")) == 5);
    tw_result_free(&r);
    CHECK(get(NULL, "/api/demo-users?limit=500", &r) == 400);
    tw_result_free(&r);
    tw_client c = {0};
    tw_refresh_csrf(&app, &c);
    CHECK(post_json(&c, "/api/demo-login", "{\"user\":\"7\"}", &r) == 400);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/demo-login", "{\"user\":999}", &r) == 404);
    tw_result_free(&r);
    CHECK(post_json(&c, "/api/demo-login", "{\"user\":7}", &r) == 200);
    json_t *t = json_object_get(r.json, "csrf");
    snprintf(c.csrf, sizeof c.csrf, "%s", t ? json_string_value(t) : "");
    tw_result_free(&r);
    CHECK(get(&c, "/api/recommendations?n=5", &r) == 200 && !json_is_true(json_object_get(r.json, "cold_start")));
    CHECK(json_array_size(json_object_get(r.json, "items")) == 5);
    tw_result_free(&r);
    /* a demo account has no password: logging in with an empty or any password fails */
    tw_client d = {0};
    tw_refresh_csrf(&app, &d);
    CHECK(post_json(&d, "/api/login", "{\"username\":\"movielens-7\",\"password\":\"\"}", &r) == 400);
    tw_result_free(&r);
}

/* ---- over a real socket ------------------------------------------------------------------- */

static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Sends req and reads one response (headers + Content-Length body); returns the status. */
static int http_once(int fd, const char *req, char *out, size_t cap) {
    if (write(fd, req, strlen(req)) != (ssize_t)strlen(req)) return -1;
    size_t n = 0;
    for (;;) {
        ssize_t k = read(fd, out + n, cap - 1 - n);
        if (k <= 0) break;
        n += (size_t)k;
        out[n] = 0;
        char *h = strstr(out, "\r\n\r\n");
        if (!h) continue;
        char *cl = strcasestr(out, "Content-Length:");
        size_t want = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if ((size_t)(out + n - (h + 4)) >= want) break;
    }
    int status = 0;
    if (sscanf(out, "HTTP/1.1 %d", &status) != 1) return -1;
    return status;
}

TEST(test_socket) {
    int port = 0;
    app.cfg.port = 0;
    app.cfg.threads = 2;
    web_server *s = web_server_start(&app, &port);
    CHECK(s != NULL && port > 0);
    if (!s) return;
    static char buf[1 << 16];
    int fd = tcp_connect(port);
    CHECK(fd >= 0);
    /* two requests on one keep-alive connection */
    CHECK(http_once(fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof buf) == 200);
    CHECK(strstr(buf, "\"status\":\"ok\"") && strcasestr(buf, "X-Content-Type-Options: nosniff"));
    CHECK(http_once(fd, "GET /api/movies/search?q=star%20w HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof buf) == 200);
    CHECK(strstr(buf, "Star Wars") != NULL);
    CHECK(http_once(fd, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof buf) == 200);
    CHECK(strcasestr(buf, "Content-Security-Policy:") != NULL);
    close(fd);
    /* a body announced as too large is refused before it is read */
    fd = tcp_connect(port);
    CHECK(http_once(fd, "POST /api/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        "Content-Length: 100000000\r\n\r\n", buf, sizeof buf) == 413);
    close(fd);
    fd = tcp_connect(port);
    CHECK(http_once(fd, "GET /api/recommendations HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", buf, sizeof buf) == 401);
    close(fd);
    fd = tcp_connect(port);
    CHECK(http_once(fd, "POST /api/movies/1/rating HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\n"
                        "Content-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"stars\":5}", buf, sizeof buf) == 403);
    close(fd);
    web_server_stop(s);
}

int main(void) {
    if (tw_app_start(&app)) {
        fprintf(stderr, "test_web_api: cannot start the application\n");
        return 1;
    }
    RUN(test_health_and_pages);
    RUN(test_register_bad_input);
    RUN(test_login_logout_ratelimit);
    RUN(test_prefs_and_cold_start);
    RUN(test_search);
    RUN(test_rating);
    RUN(test_upload);
    RUN(test_demo_accounts);
    RUN(test_socket);
    web_app_shutdown(&app);
    /* restart on the same files: the model and the database are reused, nothing lost */
    web_app again;
    web_config cfg = app.cfg;
    CHECK(web_app_init(&again, &cfg) == 0);
    CHECK(web_db_count(web_db_thread(), "movies") == TW_MOVIES + 2);
    web_app_shutdown(&again);
    tw_rm_rf(tw_dir);
    /* a model with implicit feedback (--implicit): recommendations and online updates work,
     * and its checkpoint (with the users' rated sets) is reloaded on restart */
    tw_implicit = true;
    CHECK(tw_app_start(&app) == 0);
    CHECK(strstr(app.cfg.model, tw_dir) != NULL && app.cfg.implicit);
    RUN(test_demo_accounts);
    RUN(test_rating);
    {
        tw_result r;
        CHECK(get(NULL, "/healthz", &r) == 200 && r.body && strstr(r.body, "rated"));
        tw_result_free(&r);
    }
    web_app_shutdown(&app);
    cfg = app.cfg;
    CHECK(web_app_init(&again, &cfg) == 0);
    web_app_shutdown(&again);
    tw_rm_rf(tw_dir);
    /* the MovieLens-1M format ("::"-separated users.dat, movies.dat, ratings.dat) */
    char dir1m[300];
    snprintf(dir1m, sizeof dir1m, "/tmp/soma-web-test-1m-XXXXXX");
    CHECK(mkdtemp(dir1m) != NULL);
    char users[2048] = "", movies[2048] = "", ratings[16384] = "";
    for (int u = 1; u <= 12; u++)
        snprintf(users + strlen(users), sizeof users - strlen(users), "%d::%c::%d::%d::%05d\n", u,
                 u % 2 ? 'F' : 'M', u % 2 ? 25 : 35, u % 21, 48000 + u);
    for (int m = 1; m <= 15; m++)
        snprintf(movies + strlen(movies), sizeof movies - strlen(movies), "%d::%s %d (19%02d)::%s\n", m,
                 m == 1 ? "Toy Story:" : "Film", m, 80 + m, m % 2 ? "Animation|Children's|Comedy" : "Drama|Sci-Fi");
    for (int u = 1; u <= 12; u++)
        for (int m = 1; m <= 15; m++)
            if ((u + m) % 3 == 0)
                snprintf(ratings + strlen(ratings), sizeof ratings - strlen(ratings), "%d::%d::%d::%d\n", u, m,
                         1 + (u * m) % 5, 978300000 + u * 100 + m);
    tw_write(dir1m, "users.dat", users);
    tw_write(dir1m, "movies.dat", movies);
    tw_write(dir1m, "ratings.dat", ratings);
    web_config c1 = cfg;
    snprintf(c1.data, sizeof c1.data, "%s", dir1m);
    snprintf(c1.db, sizeof c1.db, "%s/db.sqlite", dir1m);
    snprintf(c1.model, sizeof c1.model, "%s/model.soma", dir1m);
    snprintf(c1.media_dir, sizeof c1.media_dir, "%s/media", dir1m);
    web_app a1m;
    CHECK(web_app_init(&a1m, &c1) == 0);
    CHECK(web_db_count(web_db_thread(), "movies") == 15 && web_db_count(web_db_thread(), "users") == 12);
    tw_result r;
    CHECK(tw_call(&a1m, NULL, "GET", "/api/movies/search?q=toy", NULL, NULL, 0, &r) == 200 &&
          json_array_size(json_object_get(r.json, "movies")) == 1);
    tw_result_free(&r);
    web_app_shutdown(&a1m);
    tw_rm_rf(dir1m);
    return test_report("test_web_api");
}
