/*
 * web/web.h — the movie web service ("soma-movies"): the types every layer shares.
 *
 * Three layers, each testable alone (STYLE.md §11):
 *   req.c      raw request (method, url, a few headers, body) -> web_req: a pure function with
 *              hard size limits; query, cookies, JSON-free form fields and multipart parts are
 *              (ptr, len) views into one scratch copy owned by the request;
 *   router.c   web_req -> web_resp (status, content type, body), through handlers in handlers/, which
 *              call db.c (SQLite), auth.c (libsodium), image.c, cover.c and reco.c (the SNN);
 *   server.c   libmicrohttpd glue only: collects a request (with a byte cap), calls the
 *              router, queues the response, writes the access log.
 * Nothing here prints to stdout; problems go to the log (web_log), never to a client.
 */
#ifndef SOMA_WEB_H
#define SOMA_WEB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

/* ---- limits (every input is bounded; a request over a limit is a 4xx) -------------------- */
#define WEB_MAX_URL 2048          /* path + query bytes */
#define WEB_MAX_BODY (64 * 1024)  /* JSON / form bodies */
#define WEB_MAX_UPLOAD_BODY (3 * 1024 * 1024) /* multipart bodies (the cover + fields) */
#define WEB_MAX_COVER_BYTES (2 * 1024 * 1024) /* one cover file */
#define WEB_MAX_COVER_SIDE 4096   /* pixels per side */
#define WEB_MAX_COVER_PIXELS (12 * 1000 * 1000)
#define WEB_MAX_QUERY 16          /* query parameters */
#define WEB_MAX_COOKIES 16
#define WEB_MAX_PARTS 16          /* multipart parts */
#define WEB_MAX_HEADER 1024       /* bytes of one header value we keep */
#define WEB_MAX_TITLE 200         /* bytes (UTF-8) */
#define WEB_MAX_DESCRIPTION 4000
#define WEB_MAX_REVIEW 1000
#define WEB_MAX_QUERY_TEXT 100    /* search text */

/* A view of bytes owned by someone else (not NUL-terminated unless said). */
typedef struct web_str {
    const char *p;
    size_t n;
} web_str;

typedef struct web_kv {
    web_str key, val;
} web_kv;

typedef struct web_part {
    web_str name, filename, ctype, data;
} web_part;

typedef enum web_method {
    WEB_GET = 0, WEB_HEAD, WEB_POST, WEB_PUT, WEB_DELETE, WEB_OTHER
} web_method;

/* What the server glue hands to web_req_parse: NUL-terminated strings (NULL = absent) and the
 * body bytes. */
typedef struct web_raw {
    const char *method, *url;     /* url: path and optional "?query", not decoded */
    const char *host, *origin, *sec_fetch_site, *content_type, *cookie, *csrf_header;
    const char *accept_language;
    const char *client;           /* client address, for logs and rate limits */
    const char *body;
    size_t body_len;
} web_raw;

/* A parsed, validated request. Views point into `scratch` (owned) or into the raw body. */
typedef struct web_req {
    web_method method;
    web_str path;                       /* decoded, starts with '/', no "..", no NUL */
    web_kv query[WEB_MAX_QUERY];
    int n_query;
    web_kv cookies[WEB_MAX_COOKIES];
    int n_cookies;
    web_part parts[WEB_MAX_PARTS];      /* multipart/form-data */
    int n_parts;
    bool is_json, is_multipart;
    web_str body;
    char host[256], origin[256], sec_fetch_site[32], csrf_header[128], client[64];
    char lang[8];                       /* from Accept-Language: "en" or "zh" */
    char *scratch;                      /* owned copy of the url and cookie header */
} web_req;

/* Parses raw into r. Returns 0, or an HTTP status (400, 413, 414, 415) with a short reason in
 * why (static text, safe to show). On failure r holds nothing to free. */
int web_req_parse(web_req *r, const web_raw *raw, const char **why);
void web_req_free(web_req *r);

/* Lookups; NULL if absent. The value is decoded (query, multipart name) as stored. */
const web_str *web_req_query(const web_req *r, const char *key);
const web_str *web_req_cookie(const web_req *r, const char *key);
const web_part *web_req_part(const web_req *r, const char *name);
/* Percent-decoding ('+' as space if plus) of s into out (cap bytes); returns the length or
 * -1 on a bad escape, an embedded NUL or overflow. Pure. */
long web_url_decode(char *out, size_t cap, const char *s, size_t n, bool plus);
/* Parses a multipart/form-data body (boundary from the content type) into parts. Returns 0 or
 * -1 on malformed input. Pure; views point into body. */
int web_multipart_parse(web_part *parts, int cap, int *n_parts, const char *content_type,
                        const char *body, size_t len);
bool web_utf8_valid(const char *s, size_t n);
bool web_str_eq(web_str s, const char *lit);

/* ---- responses ------------------------------------------------------------------------------ */
#define WEB_MAX_SET_COOKIE 3
typedef struct web_resp {
    int status;
    const char *ctype;           /* static string */
    char *body;                  /* malloc'd (freed by web_resp_free) unless body_static */
    size_t len;
    bool body_static;
    char set_cookie[WEB_MAX_SET_COOKIE][256];
    int n_set_cookie;
    const char *cache;           /* Cache-Control value, static; NULL: no-store */
    char location[256];          /* for redirects; "" none */
    char etag[72];               /* "" none */
} web_resp;

void web_resp_init(web_resp *r);
void web_resp_free(web_resp *r);
/* Takes ownership of body (malloc'd). */
void web_resp_set(web_resp *r, int status, const char *ctype, char *body, size_t len);
void web_resp_static(web_resp *r, int status, const char *ctype, const char *body, size_t len);
/* {"error":{"code":code,"message":msg}} with status; msg is localised by the caller. */
void web_resp_error(web_resp *r, int status, const char *code, const char *msg);
void web_resp_cookie(web_resp *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- configuration and the application ----------------------------------------------------- */
typedef struct web_config {
    int port;                 /* 0: ephemeral */
    char bind[64];            /* listen address, default 127.0.0.1 */
    char db[512];             /* SQLite file */
    char data[512];           /* MovieLens directory */
    char model[512];          /* SNN checkpoint */
    char static_dir[512];     /* HTML/CSS/JS */
    char media_dir[512];      /* uploaded covers */
    char access_log[512];     /* "-" stderr (default), "" none, or a file */
    int threads;              /* MHD thread pool size; 0: cores */
    int epochs;               /* training epochs at first start */
    bool implicit;            /* first start: train with implicit feedback (the rated field) */
    int pwhash_fast;          /* 1: minimum Argon2id cost (tests only) */
    bool demo;                /* MovieLens users can be entered as demo accounts */
    bool quiet;               /* no info log lines */
    bool secure_cookies;      /* add Secure to cookies (behind TLS) */
} web_config;

typedef struct web_static_file {
    const char *name;         /* "index.html" */
    const char *ctype;
    char *data;
    size_t len;
    char etag[40];
} web_static_file;

typedef struct web_ratelimit web_ratelimit;
typedef struct web_reco web_reco;

typedef struct web_app {
    web_config cfg;
    web_reco *reco;
    web_static_file files[8];
    int n_files;
    web_ratelimit *login_limit;
    char genres[32][32];      /* genre names in bit order (from the catalogue) */
    int n_genres;
    pthread_mutex_t log_mu;
    void *log_file;           /* FILE *, the access log */
    double started;
} web_app;

/* Fills defaults, then environment (SOMA_MOVIES_PORT, _DB, _DATA, _MODEL), then flags.
 * Returns 0, 1 after printing help, or 2 after printing an error (to stderr). */
web_config web_config_default(void);
int web_config_parse(web_config *c, int argc, char **argv);

/* Opens the database (migrating it), imports MovieLens and trains/loads the model if needed,
 * loads the static files. Returns 0 or -1 (logged). */
int web_app_init(web_app *app, const web_config *cfg);
/* Saves the model, closes every database connection. Nothing is lost: every write is
 * committed when its response is sent; the model's online updates are saved here. */
void web_app_shutdown(web_app *app);

/* The router: fills resp for req (never fails; errors become 4xx/5xx responses). */
void web_route(web_app *app, const web_req *req, web_resp *resp);

/* Logging: info lines (unless quiet) and errors to stderr, with a timestamp. */
void web_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void web_log_set_quiet(bool quiet);
double web_now(void);   /* monotonic seconds */
int64_t web_time(void); /* wall clock, seconds since 1970 */

#endif
