/*
 * web/json.h — a thin wrapper over jansson for the web service: parsing request bodies with
 * limits and typed field access, and writing JSON responses. Every string read from a request
 * is checked for length (in bytes) and is valid UTF-8 (jansson guarantees it).
 */
#ifndef SOMA_WEB_JSON_H
#define SOMA_WEB_JSON_H

#include <jansson.h>

#include "web.h"

/* Parses a request body that must be a JSON object. NULL (with a static reason) if the request
 * is not JSON, the body is malformed, or its top level is not an object. */
json_t *web_json_body(const web_req *r, const char **why);

/* Field access. Return 0 (found and valid), -1 (missing or null) or -2 (wrong type or out of
 * range). Strings: byte length in [min, max], no NUL; the pointer lives as long as o. */
int web_json_str(const json_t *o, const char *key, size_t min, size_t max, const char **out);
int web_json_int(const json_t *o, const char *key, long long min, long long max, long long *out);
int web_json_bool(const json_t *o, const char *key, int *out);

/* Sends j (a reference is stolen) with status; 500 if it cannot be serialised. */
void web_resp_json(web_resp *r, int status, json_t *j);

/* json_pack-free helpers that never return NULL on valid UTF-8 input; invalid input gives "". */
json_t *web_json_string(const char *s);
json_t *web_json_stringn(const char *s, size_t n);

#endif
