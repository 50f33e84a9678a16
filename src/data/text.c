/*
 * data/text.c — strict number parsing and line iteration for the text dataset formats.
 *
 * Numbers go through strtod/strtol with an end pointer: a field is accepted only if the whole
 * of it (after trimming spaces and tabs) was consumed, the value is finite and fits the target
 * type. Nothing here allocates.
 */
#include "data/text.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_MAX 256 /* longest field taken as a number */

void soma_text_begin(soma_text_cursor *c, const char *text, size_t len) {
    c->p = text;
    c->end = text + len;
    c->line = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) c->p += 3;
}

bool soma_text_next(soma_text_cursor *c, const char **s, size_t *n) {
    if (c->p >= c->end) return false;
    const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    const char *stop = nl ? nl : c->end;
    *s = c->p;
    *n = (size_t)(stop - c->p);
    if (*n > 0 && (*s)[*n - 1] == '\r') (*n)--;
    c->p = nl ? nl + 1 : c->end;
    c->line++;
    return true;
}

void soma_text_trim(const char **s, size_t *n) {
    while (*n > 0 && (**s == ' ' || **s == '\t')) (*s)++, (*n)--;
    while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t')) (*n)--;
}

const char *soma_text_quote(char out[64], const char *s, size_t n) {
    size_t k = 0, lim = 40;
    out[k++] = '"';
    for (size_t i = 0; i < n && i < lim; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[k++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[k++] = '"';
    if (n > lim) memcpy(out + k, "...", 3), k += 3;
    out[k] = '\0';
    return out;
}

/* Copies a trimmed field into buf as a C string; false if it is empty, too long, holds a NUL
 * or starts with whitespace (which strtod/strtol would silently skip). */
static bool field_copy(char buf[FIELD_MAX], const char *s, size_t n) {
    if (n == 0 || n >= FIELD_MAX || memchr(s, '\0', n) || isspace((unsigned char)s[0]))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return true;
}

bool soma_text_is_number(const char *s, size_t n) {
    char buf[FIELD_MAX], *end;
    soma_text_trim(&s, &n);
    if (!field_copy(buf, s, n)) return false;
    (void)strtod(buf, &end);
    return end == buf + n;
}

int soma_text_float(float *v, const char *s, size_t n, const char *name, long line,
                    const char *what, soma_error *err) {
    char buf[FIELD_MAX], q[64], *end;
    soma_text_trim(&s, &n);
    if (n == 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s is empty (expected a number)", name, line,
                         what);
    if (!field_copy(buf, s, n))
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s: %s is not a number", name, line, what,
                         soma_text_quote(q, s, n));
    errno = 0;
    double d = strtod(buf, &end);
    if (end != buf + n)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s:%ld: %s: %s is not a number (expected a decimal such as 0.5 or 1e-3)",
                         name, line, what, soma_text_quote(q, s, n));
    if (!isfinite(d))
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s:%ld: %s: %s is %s; NaN and infinite values are rejected", name, line,
                         what, soma_text_quote(q, s, n),
                         isnan(d) ? "NaN" : (errno == ERANGE ? "out of range" : "infinite"));
    if (fabs(d) > FLT_MAX)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s:%ld: %s: %s is out of range for a 32-bit float (|x| <= %g)", name,
                         line, what, soma_text_quote(q, s, n), (double)FLT_MAX);
    *v = (float)d; /* an underflow (ERANGE with a tiny result) just rounds towards 0 */
    return SOMA_OK;
}

int soma_text_long(long *v, const char *s, size_t n, const char *name, long line,
                   const char *what, soma_error *err) {
    char buf[FIELD_MAX], q[64], *end;
    soma_text_trim(&s, &n);
    if (n == 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s is empty (expected an integer)", name,
                         line, what);
    if (!field_copy(buf, s, n))
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s: %s is not an integer", name, line,
                         what, soma_text_quote(q, s, n));
    errno = 0;
    long x = strtol(buf, &end, 10);
    if (end != buf + n || end == buf)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s: %s is not an integer", name, line, what,
                         soma_text_quote(q, s, n));
    if (errno == ERANGE)
        return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s: %s is out of range", name, line, what,
                         soma_text_quote(q, s, n));
    *v = x;
    return SOMA_OK;
}
