/*
 * web/req.c — request parsing and validation as pure functions over (ptr, len): the method,
 * the path (decoded, normalised and checked), the query string, cookies, the content type and
 * multipart/form-data bodies. No sockets, no allocation beyond one scratch copy per request,
 * so every function here is unit-tested and fuzzable (tests/web/test_web_req.c).
 *
 * It does not parse JSON (json.c does, with jansson) and knows nothing about routes.
 */
#include "web.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool web_str_eq(web_str s, const char *lit) {
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

bool web_utf8_valid(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t k;
        unsigned cp;
        if (c < 0x80) { i++; continue; }
        if (c >= 0xC2 && c <= 0xDF) { k = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) { k = 2; cp = c & 0x0F; }
        else if (c >= 0xF0 && c <= 0xF4) { k = 3; cp = c & 0x07; }
        else return false;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (p[i + j] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k + 1;
    }
    return true;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

long web_url_decode(char *out, size_t cap, const char *s, size_t n, bool plus) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval((unsigned char)s[i + 1]), l = hexval((unsigned char)s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c == 0 || o + 1 > cap) return -1;
        out[o++] = (char)c;
    }
    return (long)o;
}

static web_method parse_method(const char *m) {
    if (!m) return WEB_OTHER;
    if (!strcmp(m, "GET")) return WEB_GET;
    if (!strcmp(m, "HEAD")) return WEB_HEAD;
    if (!strcmp(m, "POST")) return WEB_POST;
    if (!strcmp(m, "PUT")) return WEB_PUT;
    if (!strcmp(m, "DELETE")) return WEB_DELETE;
    return WEB_OTHER;
}

/* Copies a header value (trimmed, truncated to cap-1, control characters rejected). */
static bool copy_header(char *dst, size_t cap, const char *v) {
    dst[0] = 0;
    if (!v) return true;
    size_t n = strlen(v);
    if (n >= cap) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 && v[i] != '\t') return false;
    memcpy(dst, v, n + 1);
    return true;
}

/* Decodes the path in place and rejects "..", "//" tricks, NUL and non-UTF-8. */
static int parse_path(web_req *r, char *p, size_t n) {
    long m = web_url_decode(p, n, p, n, false);
    if (m <= 0 || p[0] != '/') return -1;
    if (!web_utf8_valid(p, (size_t)m)) return -1;
    for (long i = 0; i < m; i++) {
        if (p[i] == '\\') return -1;
        if (p[i] == '.' && i > 0 && p[i - 1] == '/' && i + 1 < m && p[i + 1] == '.') return -1;
        if (p[i] == '/' && i + 1 < m && p[i + 1] == '/') return -1;
    }
    r->path = (web_str){p, (size_t)m};
    return 0;
}

/* key=value&... decoded in place. */
static int parse_query(web_req *r, char *q, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && q[j] != '&') j++;
        if (j > i) {
            if (r->n_query == WEB_MAX_QUERY) return -1;
            size_t eq = i;
            while (eq < j && q[eq] != '=') eq++;
            long kn = web_url_decode(q + i, eq - i, q + i, eq - i, true);
            long vn = 0;
            char *v = q + (eq < j ? eq + 1 : j);
            size_t vlen = eq < j ? j - eq - 1 : 0;
            vn = web_url_decode(v, vlen, v, vlen, true);
            if (kn < 0 || vn < 0) return -1;
            if (!web_utf8_valid(q + i, (size_t)kn) || !web_utf8_valid(v, (size_t)vn)) return -1;
            r->query[r->n_query++] = (web_kv){{q + i, (size_t)kn}, {v, (size_t)vn}};
        }
        i = j + 1;
    }
    return 0;
}

/* "a=1; b=2" (RFC 6265 cookie header); values are not decoded. */
static int parse_cookies(web_req *r, char *c, size_t n) {
    size_t i = 0;
    while (i < n) {
        while (i < n && (c[i] == ' ' || c[i] == ';')) i++;
        size_t j = i;
        while (j < n && c[j] != ';') j++;
        if (j > i) {
            size_t eq = i;
            while (eq < j && c[eq] != '=') eq++;
            if (eq < j && r->n_cookies < WEB_MAX_COOKIES) {
                size_t e = j;
                while (e > eq + 1 && c[e - 1] == ' ') e--;
                r->cookies[r->n_cookies++] = (web_kv){{c + i, eq - i}, {c + eq + 1, e - eq - 1}};
            }
        }
        i = j + 1;
    }
    return 0;
}

static bool has_prefix_ci(const char *s, const char *pre) {
    return s && strncasecmp(s, pre, strlen(pre)) == 0;
}

int web_req_parse(web_req *r, const web_raw *raw, const char **why) {
    memset(r, 0, sizeof *r);
    *why = "bad request";
    r->method = parse_method(raw->method);
    if (r->method == WEB_OTHER) { *why = "method not allowed"; return 405; }
    if (!raw->url || !raw->url[0]) return 400;
    size_t ulen = strlen(raw->url);
    if (ulen > WEB_MAX_URL) { *why = "url too long"; return 414; }
    size_t clen = raw->cookie ? strlen(raw->cookie) : 0;
    if (clen > 4096) { *why = "cookie too long"; return 400; }
    if (!copy_header(r->host, sizeof r->host, raw->host) ||
        !copy_header(r->origin, sizeof r->origin, raw->origin) ||
        !copy_header(r->sec_fetch_site, sizeof r->sec_fetch_site, raw->sec_fetch_site) ||
        !copy_header(r->csrf_header, sizeof r->csrf_header, raw->csrf_header) ||
        !copy_header(r->client, sizeof r->client, raw->client ? raw->client : "-"))
        { *why = "bad header"; return 400; }
    strcpy(r->lang, "en");
    if (raw->accept_language && has_prefix_ci(raw->accept_language, "zh")) strcpy(r->lang, "zh");

    r->scratch = malloc(ulen + clen + 2);
    if (!r->scratch) { *why = "busy"; return 503; }
    memcpy(r->scratch, raw->url, ulen + 1);
    char *cookie = r->scratch + ulen + 1;
    if (clen) memcpy(cookie, raw->cookie, clen);
    cookie[clen] = 0;

    char *q = strchr(r->scratch, '?');
    size_t plen = q ? (size_t)(q - r->scratch) : ulen;
    if (q) *q = 0;
    if (parse_path(r, r->scratch, plen) < 0) { *why = "bad path"; goto fail; }
    if (q && parse_query(r, q + 1, ulen - plen - 1) < 0) { *why = "bad query"; goto fail; }
    parse_cookies(r, cookie, clen);

    if (raw->body_len && raw->body) {
        r->body = (web_str){raw->body, raw->body_len};
        const char *ct = raw->content_type ? raw->content_type : "";
        if (has_prefix_ci(ct, "application/json")) {
            r->is_json = true;
            if (raw->body_len > WEB_MAX_BODY) { *why = "body too large"; goto fail_413; }
        } else if (has_prefix_ci(ct, "multipart/form-data")) {
            r->is_multipart = true;
            if (raw->body_len > WEB_MAX_UPLOAD_BODY) { *why = "upload too large"; goto fail_413; }
            if (web_multipart_parse(r->parts, WEB_MAX_PARTS, &r->n_parts, ct, raw->body,
                                    raw->body_len) < 0) {
                *why = "malformed multipart body";
                goto fail;
            }
        } else {
            if (raw->body_len > WEB_MAX_BODY) { *why = "body too large"; goto fail_413; }
        }
    } else if (raw->content_type && has_prefix_ci(raw->content_type, "application/json")) {
        r->is_json = true;
    }
    return 0;
fail:
    web_req_free(r);
    return 400;
fail_413:
    web_req_free(r);
    return 413;
}

void web_req_free(web_req *r) {
    free(r->scratch);
    r->scratch = NULL;
}

const web_str *web_req_query(const web_req *r, const char *key) {
    for (int i = 0; i < r->n_query; i++)
        if (web_str_eq(r->query[i].key, key)) return &r->query[i].val;
    return NULL;
}

const web_str *web_req_cookie(const web_req *r, const char *key) {
    for (int i = 0; i < r->n_cookies; i++)
        if (web_str_eq(r->cookies[i].key, key)) return &r->cookies[i].val;
    return NULL;
}

const web_part *web_req_part(const web_req *r, const char *name) {
    for (int i = 0; i < r->n_parts; i++)
        if (web_str_eq(r->parts[i].name, name)) return &r->parts[i];
    return NULL;
}

/* ---- multipart/form-data (RFC 7578) ------------------------------------------------------- */

static const char *memfind(const char *h, size_t hn, const char *n, size_t nn) {
    if (nn == 0 || hn < nn) return NULL;
    const char *end = h + hn - nn;
    for (const char *p = h; p <= end; p++) {
        p = memchr(p, n[0], (size_t)(end - p) + 1);
        if (!p) return NULL;
        if (memcmp(p, n, nn) == 0) return p;
    }
    return NULL;
}

/* Finds `key="value"` (or key=value) in a header parameter list; view into s. */
static bool header_param(const char *s, size_t n, const char *key, web_str *out) {
    size_t kn = strlen(key);
    for (size_t i = 0; i + kn < n; i++) {
        if ((i == 0 || s[i - 1] == ';' || s[i - 1] == ' ') && strncasecmp(s + i, key, kn) == 0 &&
            s[i + kn] == '=') {
            size_t j = i + kn + 1;
            if (j < n && s[j] == '"') {
                size_t e = j + 1;
                while (e < n && s[e] != '"') e++;
                if (e >= n) return false;
                *out = (web_str){s + j + 1, e - j - 1};
            } else {
                size_t e = j;
                while (e < n && s[e] != ';' && s[e] != ' ') e++;
                *out = (web_str){s + j, e - j};
            }
            return true;
        }
    }
    return false;
}

int web_multipart_parse(web_part *parts, int cap, int *n_parts, const char *content_type,
                        const char *body, size_t len) {
    *n_parts = 0;
    web_str b;
    if (!content_type || !header_param(content_type, strlen(content_type), "boundary", &b))
        return -1;
    if (b.n == 0 || b.n > 70) return -1;
    char delim[80];
    delim[0] = '-';
    delim[1] = '-';
    memcpy(delim + 2, b.p, b.n);
    size_t dn = b.n + 2;
    /* The body starts with the delimiter (a preamble is allowed but unusual; we allow it). */
    const char *p = memfind(body, len, delim, dn);
    if (!p) return -1;
    const char *end = body + len;
    for (;;) {
        p += dn;
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0; /* closing delimiter */
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n') return -1;
        p += 2;
        const char *hend = memfind(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!hend) return -1;
        if (*n_parts == cap) return -1;
        web_part *part = &parts[(*n_parts)++];
        memset(part, 0, sizeof *part);
        bool have_disposition = false;
        /* headers, one per line */
        for (const char *h = p; h < hend;) {
            const char *le = memfind(h, (size_t)(hend - h), "\r\n", 2);
            if (!le) le = hend;
            size_t hl = (size_t)(le - h);
            if (hl > WEB_MAX_HEADER) return -1;
            if (hl >= 20 && strncasecmp(h, "content-disposition:", 20) == 0) {
                if (!header_param(h, hl, "name", &part->name)) return -1;
                header_param(h, hl, "filename", &part->filename);
                have_disposition = true;
            } else if (hl >= 13 && strncasecmp(h, "content-type:", 13) == 0) {
                const char *v = h + 13;
                while (v < le && *v == ' ') v++;
                part->ctype = (web_str){v, (size_t)(le - v)};
            }
            h = le + 2;
        }
        if (!have_disposition || part->name.n == 0) return -1;
        const char *data = hend + 4;
        /* data runs to CRLF + delimiter */
        char crlf_delim[84];
        crlf_delim[0] = '\r';
        crlf_delim[1] = '\n';
        memcpy(crlf_delim + 2, delim, dn);
        const char *next = memfind(data, (size_t)(end - data), crlf_delim, dn + 2);
        if (!next) return -1;
        part->data = (web_str){data, (size_t)(next - data)};
        p = next + 2;
    }
}
