/*
 * web/handlers/movies.c — the catalogue: title search, a movie's details (with the viewer's
 * own rating, the model's prediction and the latest reviews), adding a movie with a cover
 * (multipart/form-data), generated SVG covers and uploaded cover files.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cover.h"
#include "../image.h"
#include "handlers.h"

typedef struct list_ctx {
    web_ctx *c;
    json_t *arr;
} list_ctx;

static void movie_row(void *ctx, const web_movie *m) {
    list_ctx *l = ctx;
    json_array_append_new(l->arr, web_movie_json(l->c, m));
}

void web_h_search(web_ctx *c) {
    const web_str *q = web_req_query(c->req, "q");
    long limit;
    if (!web_query_int(c, "limit", 1, 50, 20, &limit)) { web_fail(c, 400, "bad_request"); return; }
    if (!q || q->n == 0 || q->n > WEB_MAX_QUERY_TEXT) { web_fail(c, 400, "query"); return; }
    char text[WEB_MAX_QUERY_TEXT + 1];
    memcpy(text, q->p, q->n);
    text[q->n] = 0;
    list_ctx l = {c, json_array()};
    if (web_db_movie_search(c->db, text, (int)limit, movie_row, &l)) {
        json_decref(l.arr);
        web_fail(c, 500, "internal");
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "query", web_json_string(text));
    json_object_set_new(j, "movies", l.arr);
    web_resp_json(c->resp, 200, j);
}

static void review_row(void *ctx, const char *username, int stars, const char *review,
                       int64_t created) {
    list_ctx *l = ctx;
    json_t *o = json_object();
    json_object_set_new(o, "username", web_json_string(username));
    json_object_set_new(o, "stars", json_integer(stars));
    json_object_set_new(o, "review", web_json_string(review));
    json_object_set_new(o, "created", json_integer(created));
    json_array_append_new(l->arr, o);
}

void web_h_movie(web_ctx *c) {
    web_movie m;
    int rc = web_db_movie_get(c->db, c->id, &m);
    if (rc == WEB_DB_NOTFOUND) { web_fail(c, 404, "not_found"); return; }
    if (rc) { web_fail(c, 500, "internal"); return; }
    json_t *o = web_movie_json(c, &m);
    char *desc = malloc(WEB_MAX_DESCRIPTION + 1);
    if (desc && web_db_movie_description(c->db, m.id, desc, WEB_MAX_DESCRIPTION + 1) == WEB_DB_OK)
        json_object_set_new(o, "description", web_json_string(desc));
    free(desc);
    list_ctx l = {c, json_array()};
    if (web_db_reviews(c->db, m.id, 0, 50, review_row, &l)) {
        json_decref(l.arr);
        json_decref(o);
        web_fail(c, 500, "internal");
        return;
    }
    json_object_set_new(o, "reviews", l.arr);
    if (c->logged_in) {
        int stars;
        char review[WEB_MAX_REVIEW + 1];
        if (web_db_rating_get(c->db, c->user.id, m.id, &stars, review, sizeof review) == WEB_DB_OK) {
            json_t *mine = json_object();
            json_object_set_new(mine, "stars", json_integer(stars));
            json_object_set_new(mine, "review", web_json_string(review));
            json_object_set_new(o, "my_rating", mine);
        }
        if (c->app->reco) {
            float s = web_reco_score(c->app->reco, &c->user, m.id);
            if (!isnan(s) && web_reco_is_rating(c->app->reco))
                json_object_set_new(o, "predicted", json_real(round(s * 10.0) / 10.0));
        }
    }
    web_resp_json(c->resp, 200, o);
}

void web_h_reviews(web_ctx *c) {
    long offset, limit;
    if (!web_query_int(c, "offset", 0, 1000000, 0, &offset) ||
        !web_query_int(c, "limit", 1, 100, 20, &limit)) {
        web_fail(c, 400, "bad_request");
        return;
    }
    web_movie m;
    int rc = web_db_movie_get(c->db, c->id, &m);
    if (rc == WEB_DB_NOTFOUND) { web_fail(c, 404, "not_found"); return; }
    if (rc) { web_fail(c, 500, "internal"); return; }
    list_ctx l = {c, json_array()};
    if (web_db_reviews(c->db, m.id, (int)offset, (int)limit, review_row, &l)) {
        json_decref(l.arr);
        web_fail(c, 500, "internal");
        return;
    }
    json_t *j = json_object();
    json_object_set_new(j, "reviews", l.arr);
    web_resp_json(c->resp, 200, j);
}

/* A text part as a NUL-terminated copy (cap bytes) after checking its length and UTF-8.
 * 0 ok, -1 missing, -2 invalid. */
static int part_text(const web_req *r, const char *name, size_t min, size_t max, char *out) {
    const web_part *p = web_req_part(r, name);
    out[0] = 0;
    if (!p) return min ? -1 : 0;
    if (p->filename.n) return -2;
    size_t n = p->data.n;
    if (n < min || n > max || !web_utf8_valid(p->data.p, n) || memchr(p->data.p, 0, n)) return -2;
    memcpy(out, p->data.p, n);
    out[n] = 0;
    return 0;
}

/* "YYYY-MM-DD" with a real calendar date in 1870..2100; OUT year. */
static bool date_ok(const char *s, int *year) {
    int y, m, d;
    char extra;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return false;
    if (sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) != 3) return false;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1870 || y > 2100 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1]) return false;
    if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return false;
    *year = y;
    return true;
}

void web_h_movie_create(web_ctx *c) {
    const web_req *r = c->req;
    if (!r->is_multipart) { web_fail(c, 415, "bad_request"); return; }
    char title[WEB_MAX_TITLE + 1], date[16], genres_s[512];
    char *desc = malloc(WEB_MAX_DESCRIPTION + 1);
    if (!desc) { web_fail(c, 503, "internal"); return; }
    int year = 0;
    int64_t genres;
    if (part_text(r, "title", 1, WEB_MAX_TITLE, title)) { web_fail(c, 400, "title"); goto out; }
    /* titles are single-line text */
    for (const char *p = title; *p; p++)
        if ((unsigned char)*p < 0x20) { web_fail(c, 400, "title"); goto out; }
    if (part_text(r, "release_date", 10, 10, date) || !date_ok(date, &year)) {
        web_fail(c, 400, "date");
        goto out;
    }
    if (part_text(r, "genres", 1, sizeof genres_s - 1, genres_s) ||
        (genres = web_genres_parse_csv(c, genres_s, strlen(genres_s))) <= 0) {
        web_fail(c, 400, "genres");
        goto out;
    }
    if (part_text(r, "description", 0, WEB_MAX_DESCRIPTION, desc)) { web_fail(c, 400, "description"); goto out; }
    for (int i = 0; i < r->n_parts; i++) {
        const web_str *n = &r->parts[i].name;
        if (!web_str_eq(*n, "title") && !web_str_eq(*n, "release_date") && !web_str_eq(*n, "genres") &&
            !web_str_eq(*n, "description") && !web_str_eq(*n, "cover")) {
            web_fail(c, 400, "bad_request");
            goto out;
        }
    }
    char cover[80] = "";
    const web_part *img = web_req_part(r, "cover");
    if (img && img->data.n) {
        web_image_info info;
        int rc = web_image_store(c->app->cfg.media_dir, img->data.p, img->data.n, cover,
                                 sizeof cover, &info);
        if (rc == WEB_IMAGE_E_TYPE) { web_fail(c, 415, "image_type"); goto out; }
        if (rc == WEB_IMAGE_E_SIZE) { web_fail(c, 413, "image_size"); goto out; }
        if (rc == WEB_IMAGE_E_DECODE) { web_fail(c, 400, "image_decode"); goto out; }
        if (rc) { web_fail(c, 500, "internal"); goto out; }
    }
    int64_t id;
    if (web_db_movie_create(c->db, title, year, date, (uint32_t)genres, desc, cover, c->user.id, &id)) {
        web_fail(c, 500, "internal");
        goto out;
    }
    if (c->app->reco) web_reco_add_movie(c->app->reco, id, year, (uint32_t)genres);
    web_movie m;
    if (web_db_movie_get(c->db, id, &m) != WEB_DB_OK) { web_fail(c, 500, "internal"); goto out; }
    json_t *o = web_movie_json(c, &m);
    json_object_set_new(o, "description", web_json_string(desc));
    snprintf(c->resp->location, sizeof c->resp->location, "/api/movies/%lld", (long long)id);
    web_resp_json(c->resp, 201, o);
out:
    free(desc);
}

void web_h_cover(web_ctx *c) {
    web_movie m;
    int rc = web_db_movie_get(c->db, c->id, &m);
    if (rc == WEB_DB_NOTFOUND) { web_fail(c, 404, "not_found"); return; }
    if (rc) { web_fail(c, 500, "internal"); return; }
    size_t n;
    char *svg = web_cover_svg(m.title, m.year, m.genres, (const char (*)[32])c->app->genres,
                              c->app->n_genres, &n);
    if (!svg) { web_fail(c, 503, "internal"); return; }
    web_resp_set(c->resp, 200, "image/svg+xml", svg, n);
    c->resp->cache = "public, max-age=3600";
}

void web_h_media(web_ctx *c) {
    const char *name = c->req->path.p + 7; /* after "/media/" */
    size_t n = c->req->path.n - 7;
    if (!web_image_name_ok(name, n)) { web_fail(c, 404, "not_found"); return; }
    char path[1024];
    snprintf(path, sizeof path, "%s/%.*s", c->app->cfg.media_dir, (int)n, name);
    FILE *f = fopen(path, "rb");
    if (!f) { web_fail(c, 404, "not_found"); return; }
    char *buf = malloc(WEB_MAX_COVER_BYTES + 1);
    size_t len = buf ? fread(buf, 1, WEB_MAX_COVER_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || len == 0 || len > WEB_MAX_COVER_BYTES) {
        free(buf);
        web_fail(c, 500, "internal");
        return;
    }
    char nm[80];
    snprintf(nm, sizeof nm, "%.*s", (int)n, name);
    web_resp_set(c->resp, 200, web_image_ctype(nm), buf, len);
    c->resp->cache = "public, max-age=31536000, immutable"; /* content-addressed */
}
