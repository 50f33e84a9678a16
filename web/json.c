/*
 * web/json.c — JSON in and out through jansson (Debian's libjansson): request bodies are parsed
 * strictly (duplicate keys rejected, one object at the top, a size cap enforced before in
 * req.c) and responses are written compactly, with '/' escaped so a string can never close a
 * <script> element.
 */
#include "json.h"

#include <stdlib.h>
#include <string.h>

json_t *web_json_body(const web_req *r, const char **why) {
    if (!r->is_json) { *why = "expected application/json"; return NULL; }
    if (r->body.n == 0) { *why = "empty body"; return NULL; }
    json_error_t e;
    json_t *j = json_loadb(r->body.p, r->body.n, JSON_REJECT_DUPLICATES, &e);
    if (!j) { *why = "malformed JSON"; return NULL; }
    if (!json_is_object(j)) {
        json_decref(j);
        *why = "expected a JSON object";
        return NULL;
    }
    return j;
}

int web_json_str(const json_t *o, const char *key, size_t min, size_t max, const char **out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return -1;
    if (!json_is_string(v)) return -2;
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    if (n < min || n > max || strlen(s) != n) return -2;
    *out = s;
    return 0;
}

int web_json_int(const json_t *o, const char *key, long long min, long long max, long long *out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return -1;
    if (!json_is_integer(v)) return -2;
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) return -2;
    *out = x;
    return 0;
}

int web_json_bool(const json_t *o, const char *key, int *out) {
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) return -1;
    if (!json_is_boolean(v)) return -2;
    *out = json_is_true(v);
    return 0;
}

void web_resp_json(web_resp *r, int status, json_t *j) {
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ESCAPE_SLASH) : NULL;
    json_decref(j);
    if (!s) {
        web_log("json: cannot serialise a response");
        static const char body[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";
        web_resp_static(r, 500, "application/json", body, sizeof body - 1);
        return;
    }
    web_resp_set(r, status, "application/json; charset=utf-8", s, strlen(s));
}

void web_resp_error(web_resp *r, int status, const char *code, const char *msg) {
    json_t *e = json_object();
    json_object_set_new(e, "code", web_json_string(code));
    json_object_set_new(e, "message", web_json_string(msg));
    json_t *j = json_object();
    json_object_set_new(j, "error", e);
    web_resp_json(r, status, j);
}

json_t *web_json_string(const char *s) {
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_string("");
}

json_t *web_json_stringn(const char *s, size_t n) {
    json_t *j = s ? json_stringn(s, n) : NULL;
    return j ? j : json_string("");
}
