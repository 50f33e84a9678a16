/*
 * web/handlers/pages.c — the pages (one HTML document, a style sheet and a script, read into
 * memory at start: web/static/ needs no build step) and the health check.
 */
#include <stdio.h>
#include <string.h>

#include "handlers.h"

static const web_static_file *find_file(web_app *app, const char *name, size_t n) {
    for (int i = 0; i < app->n_files; i++)
        if (strlen(app->files[i].name) == n && !memcmp(app->files[i].name, name, n))
            return &app->files[i];
    return NULL;
}

static void send_file(web_ctx *c, const web_static_file *f) {
    web_resp_static(c->resp, 200, f->ctype, f->data, f->len);
    snprintf(c->resp->etag, sizeof c->resp->etag, "\"%s\"", f->etag);
    c->resp->cache = "no-cache"; /* revalidate with the ETag: a new build shows at once */
}

void web_h_page(web_ctx *c) {
    const web_static_file *f = find_file(c->app, "index.html", 10);
    if (!f) { web_fail(c, 404, "not_found"); return; }
    send_file(c, f);
}

void web_h_static(web_ctx *c) {
    const char *name = c->req->path.p + 8; /* after "/static/" */
    const web_static_file *f = find_file(c->app, name, c->req->path.n - 8);
    if (!f) { web_fail(c, 404, "not_found"); return; }
    send_file(c, f);
}

void web_h_healthz(web_ctx *c) {
    json_t *j = json_object();
    json_object_set_new(j, "status", web_json_string("ok"));
    json_object_set_new(j, "movies", json_integer(web_db_count(c->db, "movies")));
    json_object_set_new(j, "users", json_integer(web_db_count(c->db, "users")));
    json_object_set_new(j, "ratings", json_integer(web_db_count(c->db, "ratings")));
    json_object_set_new(j, "model", web_json_string(c->app->reco ? web_reco_desc(c->app->reco) : ""));
    json_object_set_new(j, "uptime_s", json_real(web_now() - c->app->started));
    web_resp_json(c->resp, 200, j);
}
