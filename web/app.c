/*
 * web/app.c — configuration (defaults < environment < flags), the application's start (open
 * and migrate the database, import MovieLens on first start, train or load the model, read
 * the pages) and its orderly end, and the log. The HTTP side is in server.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "db.h"
#include "reco.h"
#include "web.h"

/* ---- log ---------------------------------------------------------------------------------- */

static bool log_quiet;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

void web_log_set_quiet(bool quiet) {
    log_quiet = quiet;
}

void web_log(const char *fmt, ...) {
    if (log_quiet) return;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&log_mu);
    fprintf(stderr, "%s soma-movies: ", ts);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    pthread_mutex_unlock(&log_mu);
    va_end(ap);
}

double web_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int64_t web_time(void) {
    return (int64_t)time(NULL);
}

/* ---- configuration ---------------------------------------------------------------------- */

web_config web_config_default(void) {
    web_config c;
    memset(&c, 0, sizeof c);
    c.port = 8080;
    snprintf(c.bind, sizeof c.bind, "127.0.0.1");
    snprintf(c.db, sizeof c.db, "var/soma-movies.db");
    snprintf(c.data, sizeof c.data, "../shared/data/ml-100k");
    snprintf(c.model, sizeof c.model, "var/soma-movies.soma");
    snprintf(c.static_dir, sizeof c.static_dir, "web/static");
    snprintf(c.media_dir, sizeof c.media_dir, "var/media");
    snprintf(c.access_log, sizeof c.access_log, "-");
    c.threads = 0;
    c.epochs = 10;
    c.demo = true;
    return c;
}

static const char usage[] =
    "usage: soma-movies [options]\n"
    "  --port N          listen port (default 8080; 0 picks a free one) [SOMA_MOVIES_PORT]\n"
    "  --bind ADDR       listen address (default 127.0.0.1)\n"
    "  --db FILE         SQLite database (default var/soma-movies.db) [SOMA_MOVIES_DB]\n"
    "  --data DIR        MovieLens-100k or -1M directory, read on first start\n"
    "                    (default ../shared/data/ml-100k) [SOMA_MOVIES_DATA]\n"
    "  --model FILE      SNN model checkpoint; trained and saved on first start\n"
    "                    (default var/soma-movies.soma) [SOMA_MOVIES_MODEL]\n"
    "  --static DIR      pages (default web/static)\n"
    "  --media DIR       uploaded covers (default var/media)\n"
    "  --threads N       HTTP worker threads (default: cores)\n"
    "  --epochs N        training epochs on first start (default 10)\n"
    "  --implicit        first start: add implicit feedback (each user's rated movies) to the features\n"
    "  --access-log F    access log file, '-' for stderr (default), 'none' for none\n"
    "  --no-demo         do not offer MovieLens users as demo accounts\n"
    "  --secure-cookies  mark cookies Secure (when served behind TLS)\n"
    "  --quiet           no log lines except errors of the access log\n";

static int set_str(char *dst, size_t cap, const char *v, const char *flag) {
    if (!v || !v[0] || strlen(v) >= cap) {
        fprintf(stderr, "soma-movies: %s needs a value (at most %zu bytes)\n", flag, cap - 1);
        return 2;
    }
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

static int set_int(int *dst, const char *v, long lo, long hi, const char *flag) {
    char *end;
    errno = 0;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || errno || *end || end == v || x < lo || x > hi) {
        fprintf(stderr, "soma-movies: %s expects an integer in %ld..%ld\n", flag, lo, hi);
        return 2;
    }
    *dst = (int)x;
    return 0;
}

int web_config_parse(web_config *c, int argc, char **argv) {
    const char *e;
    if ((e = getenv("SOMA_MOVIES_PORT")) && set_int(&c->port, e, 0, 65535, "SOMA_MOVIES_PORT")) return 2;
    if ((e = getenv("SOMA_MOVIES_DB")) && set_str(c->db, sizeof c->db, e, "SOMA_MOVIES_DB")) return 2;
    if ((e = getenv("SOMA_MOVIES_DATA")) && set_str(c->data, sizeof c->data, e, "SOMA_MOVIES_DATA")) return 2;
    if ((e = getenv("SOMA_MOVIES_MODEL")) && set_str(c->model, sizeof c->model, e, "SOMA_MOVIES_MODEL")) return 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = -1;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(usage, stdout); return 1; }
        else if (!strcmp(a, "--port")) rc = set_int(&c->port, v, 0, 65535, a);
        else if (!strcmp(a, "--threads")) rc = set_int(&c->threads, v, 0, 256, a);
        else if (!strcmp(a, "--epochs")) rc = set_int(&c->epochs, v, 1, 1000, a);
        else if (!strcmp(a, "--implicit")) { c->implicit = true; continue; }
        else if (!strcmp(a, "--bind")) rc = set_str(c->bind, sizeof c->bind, v, a);
        else if (!strcmp(a, "--db")) rc = set_str(c->db, sizeof c->db, v, a);
        else if (!strcmp(a, "--data")) rc = set_str(c->data, sizeof c->data, v, a);
        else if (!strcmp(a, "--model")) rc = set_str(c->model, sizeof c->model, v, a);
        else if (!strcmp(a, "--static")) rc = set_str(c->static_dir, sizeof c->static_dir, v, a);
        else if (!strcmp(a, "--media")) rc = set_str(c->media_dir, sizeof c->media_dir, v, a);
        else if (!strcmp(a, "--access-log")) rc = set_str(c->access_log, sizeof c->access_log, v, a);
        else if (!strcmp(a, "--no-demo")) { c->demo = false; continue; }
        else if (!strcmp(a, "--secure-cookies")) { c->secure_cookies = true; continue; }
        else if (!strcmp(a, "--quiet")) { c->quiet = true; continue; }
        else {
            fprintf(stderr, "soma-movies: unknown option %s (see --help)\n", a);
            return 2;
        }
        if (rc) return rc;
        i++;
    }
    if (!strcmp(c->access_log, "none")) c->access_log[0] = 0;
    return 0;
}

/* ---- start and end ------------------------------------------------------------------- */

/* mkdir -p for the parent directory of path (dir_of = true) or path itself. */
static int make_dirs(const char *path, bool dir_of) {
    char p[600];
    snprintf(p, sizeof p, "%s", path);
    if (dir_of) {
        char *s = strrchr(p, '/');
        if (!s) return 0;
        *s = 0;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) && errno != EEXIST) return -1;
        *s = '/';
    }
    if (p[0] && mkdir(p, 0755) && errno != EEXIST) return -1;
    return 0;
}

static int load_static(web_app *app) {
    static const struct { const char *name, *ctype; } files[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[700];
        snprintf(path, sizeof path, "%s/%s", app->cfg.static_dir, files[i].name);
        FILE *f = fopen(path, "rb");
        if (!f) {
            web_log("cannot read %s (run from the repository root or pass --static)", path);
            return -1;
        }
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        web_static_file *s = &app->files[app->n_files];
        s->data = n > 0 && n < (8 << 20) ? malloc((size_t)n) : NULL;
        if (!s->data || fread(s->data, 1, (size_t)n, f) != (size_t)n) {
            fclose(f);
            free(s->data);
            web_log("cannot read %s", path);
            return -1;
        }
        fclose(f);
        s->name = files[i].name;
        s->ctype = files[i].ctype;
        s->len = (size_t)n;
        uint32_t h = 2166136261u; /* FNV-1a of the content: the ETag */
        for (long k = 0; k < n; k++) h = (h ^ (unsigned char)s->data[k]) * 16777619u;
        snprintf(s->etag, sizeof s->etag, "%08x-%lx", h, n);
        app->n_files++;
    }
    return 0;
}

int web_app_init(web_app *app, const web_config *cfg) {
    memset(app, 0, sizeof *app);
    app->cfg = *cfg;
    app->started = web_now();
    web_log_set_quiet(cfg->quiet);
    pthread_mutex_init(&app->log_mu, NULL);
    soma_rec_data d;
    memset(&d, 0, sizeof d);
    bool have_data = false;
    if (web_auth_init()) { web_log("libsodium failed to initialise"); return -1; }
    if (make_dirs(cfg->db, true) || make_dirs(cfg->model, true) || make_dirs(cfg->media_dir, false)) {
        web_log("cannot create the directories of %s, %s, %s", cfg->db, cfg->model, cfg->media_dir);
        return -1;
    }
    if (load_static(app)) goto fail;
    app->login_limit = web_ratelimit_create(10, 300);
    if (!app->login_limit) goto fail;
    web_db_set_path(cfg->db);
    web_db *db = web_db_thread();
    if (!db) goto fail;

    struct stat st;
    bool need_import = web_db_count(db, "movies") == 0;
    bool need_model = stat(cfg->model, &st) != 0;
    if (need_import || need_model) {
        soma_error err;
        double t0 = web_now();
        if (soma_rec_load(&d, cfg->data, &err)) {
            web_log("cannot load MovieLens from %s: %s (pass --data DIR)", cfg->data, err.msg);
            goto fail;
        }
        have_data = true;
        web_log("read %s from %s: %d users, %d movies, %lld ratings (%.2f s)", d.name, cfg->data,
                d.n_users, d.n_movies, (long long)d.ratings.n, web_now() - t0);
    }
    if (need_import) {
        double t0 = web_now();
        if (web_db_import(db, &d, NULL)) goto fail;
        web_log("imported into %s in %.2f s", cfg->db, web_now() - t0);
    }
    if (web_db_genres(db, app->genres, 32, &app->n_genres)) goto fail;
    if (web_reco_open(&app->reco, cfg, have_data ? &d : NULL, db)) goto fail;
    if (have_data) soma_rec_data_free(&d);
    if (cfg->access_log[0] && strcmp(cfg->access_log, "-")) {
        app->log_file = fopen(cfg->access_log, "a");
        if (!app->log_file) { web_log("cannot open %s", cfg->access_log); goto fail; }
        setvbuf(app->log_file, NULL, _IOLBF, 0); /* whole lines, at once (tail -f) */
    }
    web_log("ready: %lld movies, %lld users, %lld ratings; model %s",
            (long long)web_db_count(db, "movies"), (long long)web_db_count(db, "users"),
            (long long)web_db_count(db, "ratings"), web_reco_desc(app->reco));
    return 0;
fail:
    if (have_data) soma_rec_data_free(&d);
    web_app_shutdown(app);
    return -1;
}

void web_app_shutdown(web_app *app) {
    if (app->reco) {
        web_db *db = web_db_thread();
        if (web_reco_save(app->reco) == 0 && db) {
            char now[32];
            snprintf(now, sizeof now, "%lld", (long long)web_time());
            web_db_meta_set(db, "model_saved_at", now);
        }
        web_reco_close(app->reco, 0);
        app->reco = NULL;
    }
    web_db_close_all();
    web_ratelimit_free(app->login_limit);
    app->login_limit = NULL;
    for (int i = 0; i < app->n_files; i++) free(app->files[i].data);
    app->n_files = 0;
    if (app->log_file) fclose(app->log_file);
    app->log_file = NULL;
    pthread_mutex_destroy(&app->log_mu);
}
