/*
 * tests/web/test_web_req.c — the pure pieces of the web service without an application:
 * request parsing (paths, queries, cookies, limits), multipart bodies, UTF-8 checks, the
 * generated SVG covers, image verification and the login rate limiter.
 */
#include <string.h>

#include "auth.h"
#include "cover.h"
#include "image.h"
#include "web_test.h"

static int parse(const char *method, const char *url, const char *cookie, web_req *r) {
    web_raw raw = {.method = method, .url = url, .cookie = cookie, .client = "1.2.3.4"};
    const char *why;
    return web_req_parse(r, &raw, &why);
}

TEST(test_paths_and_queries) {
    web_req r;
    CHECK(parse("GET", "/api/movies/search?q=star+wars&limit=5&x", NULL, &r) == 0);
    CHECK(web_str_eq(r.path, "/api/movies/search") && r.n_query == 3);
    const web_str *q = web_req_query(&r, "q");
    CHECK(q && web_str_eq(*q, "star wars"));
    CHECK(web_req_query(&r, "x") && web_req_query(&r, "x")->n == 0);
    CHECK(!web_req_query(&r, "nope"));
    web_req_free(&r);
    CHECK(parse("GET", "/a%20b?q=%E6%98%9F", NULL, &r) == 0 && web_str_eq(r.path, "/a b"));
    CHECK(web_str_eq(*web_req_query(&r, "q"), "星"));
    web_req_free(&r);
    CHECK(parse("GET", "/../etc/passwd", NULL, &r) == 400);
    CHECK(parse("GET", "/a/%2E%2E/b", NULL, &r) == 400);
    CHECK(parse("GET", "/a//b", NULL, &r) == 400);
    CHECK(parse("GET", "/a%00b", NULL, &r) == 400);
    CHECK(parse("GET", "/a%5cb", NULL, &r) == 400);
    CHECK(parse("GET", "/a%", NULL, &r) == 400);
    CHECK(parse("GET", "/a%4", NULL, &r) == 400);
    CHECK(parse("GET", "relative", NULL, &r) == 400);
    CHECK(parse("GET", "/?q=%C0%AF", NULL, &r) == 400); /* overlong UTF-8 */
    CHECK(parse("BREW", "/", NULL, &r) == 405);
    CHECK(parse("GET", "", NULL, &r) == 400);
    char url[WEB_MAX_URL + 10];
    memset(url, 'a', sizeof url - 1);
    url[0] = '/';
    url[sizeof url - 1] = 0;
    CHECK(parse("GET", url, NULL, &r) == 414);
    /* too many parameters */
    CHECK(parse("GET", "/?a=1&b=1&c=1&d=1&e=1&f=1&g=1&h=1&i=1&j=1&k=1&l=1&m=1&n=1&o=1&p=1&q=1", NULL, &r) == 400);
}

TEST(test_cookies) {
    web_req r;
    CHECK(parse("GET", "/", "a=1; soma_session=abc ;b=; junk; c=x=y", &r) == 0);
    CHECK(web_req_cookie(&r, "a") && web_str_eq(*web_req_cookie(&r, "a"), "1"));
    CHECK(web_req_cookie(&r, "soma_session") && web_str_eq(*web_req_cookie(&r, "soma_session"), "abc"));
    CHECK(web_req_cookie(&r, "b") && web_req_cookie(&r, "b")->n == 0);
    CHECK(web_req_cookie(&r, "c") && web_str_eq(*web_req_cookie(&r, "c"), "x=y"));
    CHECK(!web_req_cookie(&r, "junk"));
    web_req_free(&r);
    web_raw raw = {.method = "GET", .url = "/", .origin = "http://a\r\nX-Evil: 1"};
    const char *why;
    CHECK(web_req_parse(&r, &raw, &why) == 400); /* control characters in a header */
}

TEST(test_multipart) {
    web_part p[4];
    int n;
    const char *ct = "multipart/form-data; boundary=\"b0\"";
    const char *body = "--b0\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
                       "--b0\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"a.png\"\r\n"
                       "Content-Type: image/png\r\n\r\n\x89PNG\r\n--b0\r\nbad\r\n--b0--\r\n";
    CHECK(web_multipart_parse(p, 4, &n, ct, body, strlen(body)) == -1); /* part without disposition */
    const char *ok = "--b0\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello\r\n"
                     "--b0\r\nContent-Disposition: form-data; name=\"cover\"; filename=\"a.png\"\r\n"
                     "Content-Type: image/png\r\n\r\n\x89PNG\r\n\r\n--b0--\r\n";
    CHECK(web_multipart_parse(p, 4, &n, ct, ok, strlen(ok)) == 0 && n == 2);
    CHECK(web_str_eq(p[0].name, "title") && web_str_eq(p[0].data, "Hello"));
    CHECK(web_str_eq(p[1].filename, "a.png") && web_str_eq(p[1].ctype, "image/png"));
    CHECK(p[1].data.n == 6 && !memcmp(p[1].data.p, "\x89PNG\r\n", 6));
    CHECK(web_multipart_parse(p, 1, &n, ct, ok, strlen(ok)) == -1);          /* too many parts */
    CHECK(web_multipart_parse(p, 4, &n, "multipart/form-data", ok, strlen(ok)) == -1); /* no boundary */
    CHECK(web_multipart_parse(p, 4, &n, ct, ok, 40) == -1);                   /* truncated */
    CHECK(web_multipart_parse(p, 4, &n, ct, "", 0) == -1);
    /* every prefix of a valid body either parses or fails cleanly (ASan watches) */
    for (size_t k = 0; k < strlen(ok); k++) web_multipart_parse(p, 4, &n, ct, ok, k);
}

TEST(test_utf8) {
    CHECK(web_utf8_valid("abc", 3));
    CHECK(web_utf8_valid("星球大战", strlen("星球大战")));
    CHECK(!web_utf8_valid("\xff", 1));
    CHECK(!web_utf8_valid("\xe6\x98", 2));
    CHECK(!web_utf8_valid("\xed\xa0\x80", 3)); /* a surrogate */
    CHECK(!web_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
}

TEST(test_cover_svg) {
    char names[19][32];
    for (int g = 0; g < 19; g++) snprintf(names[g], 32, "%s", tw_genres[g]);
    size_t n;
    char *svg = web_cover_svg("Tom & Jerry <script>alert(1)</script> (1990)", 1990, (1u << 3) | (1u << 5),
                              (const char (*)[32])names, 19, &n);
    CHECK(svg && n == strlen(svg));
    CHECK(svg && strstr(svg, "Tom &amp; Jerry") && !strstr(svg, "<script>") && strstr(svg, "1990"));
    CHECK(svg && strstr(svg, "Animation") && strstr(svg, "Comedy"));
    free(svg);
    svg = web_cover_svg("星球大战：一部很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长很长的电影", 0, 0, NULL, 0, &n);
    CHECK(svg && web_utf8_valid(svg, n)); /* wrapping never splits a character */
    free(svg);
}

TEST(test_images) {
    web_image_info info;
    CHECK(web_image_check("hello", 5, &info) == WEB_IMAGE_E_TYPE);
    CHECK(web_image_check("\x89PNG\r\n\x1a\n", 8, &info) == WEB_IMAGE_E_DECODE);
    CHECK(web_image_check("\xff\xd8\xff", 3, &info) == WEB_IMAGE_E_DECODE);
    CHECK(web_image_name_ok("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.png", 68));
    CHECK(!web_image_name_ok("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.svg", 68));
    CHECK(!web_image_name_ok("../456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.png", 68));
}

TEST(test_ratelimit_and_tokens) {
    web_ratelimit *rl = web_ratelimit_create(3, 60);
    for (int i = 0; i < 3; i++) {
        CHECK(!web_ratelimit_blocked(rl, "ip:1", 1000));
        web_ratelimit_fail(rl, "ip:1", 1000);
    }
    CHECK(web_ratelimit_blocked(rl, "ip:1", 1001));
    CHECK(!web_ratelimit_blocked(rl, "ip:2", 1001));
    CHECK(!web_ratelimit_blocked(rl, "ip:1", 1061)); /* the window passed */
    for (int i = 0; i < 10000; i++) {                /* a flood of keys never crashes */
        char k[32];
        snprintf(k, sizeof k, "k%d", i);
        web_ratelimit_fail(rl, k, 2000);
    }
    web_ratelimit_free(rl);
    CHECK(web_auth_init() == 0);
    char a[WEB_TOKEN_HEX + 1], b[WEB_TOKEN_HEX + 1];
    web_auth_token(a);
    web_auth_token(b);
    CHECK(strlen(a) == 64 && strcmp(a, b) != 0);
    unsigned char h[32];
    CHECK(web_auth_token_hash(h, a, 64) && !web_auth_token_hash(h, "xyz", 3));
    CHECK(web_auth_equal(a, 64, a, 64) && !web_auth_equal(a, 64, b, 64) && !web_auth_equal("", 0, "", 0));
    char hash[WEB_PWHASH_MAX];
    CHECK(web_auth_hash(hash, "pässwörd", 1) == 0 && !strncmp(hash, "$argon2id$", 10));
    CHECK(web_auth_verify(hash, "pässwörd") && !web_auth_verify(hash, "password") && !web_auth_verify("", "x"));
}

int main(void) {
    RUN(test_paths_and_queries);
    RUN(test_cookies);
    RUN(test_multipart);
    RUN(test_utf8);
    RUN(test_cover_svg);
    RUN(test_images);
    RUN(test_ratelimit_and_tokens);
    return test_report("test_web_req");
}
