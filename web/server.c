/*
 * web/server.c — libmicrohttpd glue only (STYLE.md §11): per-request state is allocated on
 * the first call (*req_cls == NULL), the body is collected up to a hard cap (413 as soon as a
 * Content-Length says it is too large), then the request is parsed (req.c), routed
 * (router.c), and the response queued with the security headers every response carries.
 * The access log line is written when MHD reports the request completed, where the state is
 * freed. Nothing here knows a route or touches the database.
 */
#include "server.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

struct web_server {
    struct MHD_Daemon *d;
    web_app *app;
};

typedef struct conn_state {
    char *body;
    size_t len, cap, limit;
    bool too_large, started, url_too_long;
    double t0;
    char url[WEB_MAX_URL + 1];  /* the raw request URI (path and query, not decoded) */
    int status;
    size_t bytes;
    char method[8];
    char path[160];
} conn_state;

static const char *header(struct MHD_Connection *c, const char *name) {
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

static void client_addr(struct MHD_Connection *c, char *out, size_t cap) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "-");
    if (!ci || !ci->client_addr) return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out, (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out, (socklen_t)cap);
}

static void add_security_headers(struct MHD_Response *r, const char *ctype) {
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    if (ctype && !strncmp(ctype, "text/html", 9))
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                "script-src 'self'; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'");
    else if (ctype && !strncmp(ctype, "image/svg", 9))
        MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, conn_state *st, web_resp *wr) {
    const char *inm = header(conn, "If-None-Match");
    int status = wr->status;
    bool not_modified = wr->etag[0] && inm && !strcmp(inm, wr->etag) && status == 200;
    struct MHD_Response *r;
    if (not_modified) {
        status = 304;
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else if (wr->body_static) {
        r = MHD_create_response_from_buffer(wr->len, wr->body, MHD_RESPMEM_PERSISTENT);
    } else {
        /* MHD takes the malloc'd body and frees it */
        r = MHD_create_response_from_buffer(wr->len, wr->body ? wr->body : (void *)"",
                                            wr->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
        if (r) wr->body = NULL;
    }
    if (!r) return MHD_NO;
    if (!not_modified) MHD_add_response_header(r, "Content-Type", wr->ctype);
    MHD_add_response_header(r, "Cache-Control", wr->cache ? wr->cache : "no-store");
    if (wr->etag[0]) MHD_add_response_header(r, "ETag", wr->etag);
    if (wr->location[0]) MHD_add_response_header(r, "Location", wr->location);
    for (int i = 0; i < wr->n_set_cookie; i++) MHD_add_response_header(r, "Set-Cookie", wr->set_cookie[i]);
    add_security_headers(r, wr->ctype);
    st->status = status;
    st->bytes = not_modified ? 0 : wr->len;
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result send_error(struct MHD_Connection *conn, conn_state *st, int status,
                                  const char *code, const char *msg) {
    web_resp wr;
    web_resp_init(&wr);
    web_resp_error(&wr, status, code, msg);
    enum MHD_Result ok = send_resp(conn, st, &wr);
    web_resp_free(&wr);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    (void)url; /* decoded by MHD; req.c decodes the raw URI from on_uri instead */
    web_server *srv = cls;
    conn_state *st = *req_cls;
    if (!st) return MHD_NO; /* the URI callback failed to allocate */
    if (!st->started) {
        st->started = true;
        snprintf(st->method, sizeof st->method, "%s", method);
        const char *ct = header(conn, "Content-Type");
        st->limit = ct && !strncasecmp(ct, "multipart/form-data", 19) ? WEB_MAX_UPLOAD_BODY : WEB_MAX_BODY;
        const char *cl = header(conn, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > st->limit)
            return send_error(conn, st, 413, "too_large", "The request is too large.");
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!st->too_large) {
            if (st->len + *upload_data_size > st->limit) {
                st->too_large = true;
                free(st->body);
                st->body = NULL;
            } else {
                if (st->len + *upload_data_size > st->cap) {
                    size_t cap = st->cap ? st->cap : 4096;
                    while (cap < st->len + *upload_data_size) cap *= 2;
                    char *b = realloc(st->body, cap);
                    if (!b) return MHD_NO;
                    st->body = b;
                    st->cap = cap;
                }
                memcpy(st->body + st->len, upload_data, *upload_data_size);
                st->len += *upload_data_size;
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large) return send_error(conn, st, 413, "too_large", "The request is too large.");

    char client[64];
    client_addr(conn, client, sizeof client);
    web_raw raw = {
        .method = method, .url = st->url,
        .host = header(conn, "Host"), .origin = header(conn, "Origin"),
        .sec_fetch_site = header(conn, "Sec-Fetch-Site"),
        .content_type = header(conn, "Content-Type"), .cookie = header(conn, "Cookie"),
        .csrf_header = header(conn, "X-CSRF-Token"),
        .accept_language = header(conn, "Accept-Language"), .client = client,
        .body = st->body, .body_len = st->len,
    };
    if (st->url_too_long) return send_error(conn, st, 414, "too_large", "The URL is too long.");
    web_req req;
    const char *why;
    int rc = web_req_parse(&req, &raw, &why);
    if (rc) return send_error(conn, st, rc, "bad_request", why);
    web_resp wr;
    web_resp_init(&wr);
    web_route(srv->app, &req, &wr);
    enum MHD_Result ok = send_resp(conn, st, &wr);
    web_resp_free(&wr);
    web_req_free(&req);
    return ok;
}

/* Called by MHD with the raw request URI before the request handler: its return value is the
 * first *req_cls. The handler is given only the decoded path, but req.c wants the raw URI. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
    (void)cls;
    (void)conn;
    conn_state *st = calloc(1, sizeof *st);
    if (!st) return NULL;
    st->t0 = web_now();
    size_t n = strlen(uri);
    if (n > WEB_MAX_URL) {
        st->url_too_long = true;
        n = 0;
    }
    memcpy(st->url, uri, n);
    st->url[n] = 0;
    /* the path for the access log: no query (it may hold search text) */
    size_t p = strcspn(st->url, "?");
    snprintf(st->path, sizeof st->path, "%.*s", (int)(p < sizeof st->path ? p : sizeof st->path - 1), st->url);
    return st;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    web_server *srv = cls;
    conn_state *st = *req_cls;
    if (!st) return;
    web_app *app = srv->app;
    if (app->cfg.access_log[0]) {
        char client[64];
        client_addr(conn, client, sizeof client);
        char ts[32];
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
        /* the path is logged without its query (which may hold search text) */
        FILE *f = app->log_file ? app->log_file : stderr;
        pthread_mutex_lock(&app->log_mu);
        fprintf(f, "%s %s \"%s %s\" %d %zu %.3fms%s\n", ts, client, st->method, st->path,
                st->status, st->bytes, (web_now() - st->t0) * 1e3,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted");
        pthread_mutex_unlock(&app->log_mu);
    }
    free(st->body);
    free(st);
    *req_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && msg[n - 1] == '\n') msg[--n] = 0;
    web_log("mhd: %s", msg);
}

web_server *web_server_start(web_app *app, int *port) {
    web_server *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->app = app;
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, app->cfg.bind, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons((uint16_t)app->cfg.port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, app->cfg.bind, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons((uint16_t)app->cfg.port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        web_log("--bind %s is not an IPv4 or IPv6 address", app->cfg.bind);
        free(s);
        return NULL;
    }
    int threads = app->cfg.threads > 0 ? app->cfg.threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    s->d = MHD_start_daemon(flags, (uint16_t)app->cfg.port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                            MHD_OPTION_SOCK_ADDR, sa,
                            MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)512,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_URI_LOG_CALLBACK, on_uri, s,
                            MHD_OPTION_END);
    if (!s->d) {
        web_log("cannot listen on %s:%d (in use?)", app->cfg.bind, app->cfg.port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    *port = di ? di->port : app->cfg.port;
    return s;
}

void web_server_stop(web_server *s) {
    if (!s) return;
    MHD_quiesce_daemon(s->d);
    MHD_stop_daemon(s->d);
    free(s);
}
