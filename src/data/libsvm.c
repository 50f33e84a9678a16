/*
 * data/libsvm.c — the LIBSVM / SVMlight sparse text format: "label index:value ...".
 *
 * Indices are 1-based and strictly increasing within a line; features not listed are 0. A
 * '#' token ends the line (SVMlight's "# info" comment); lines that are blank or start with '#'
 * are skipped. Labels are integers in
 * [0, SOMA_TEXT_MAX_LABEL], except that a binary file labelled -1/+1 maps -1 -> 0, +1 -> 1;
 * -1 next to any label other than +1, or any other negative label, is an error. The first
 * pass validates every line and finds the dimension; the second fills a zeroed matrix.
 */
#include "data/text.h"
#include "soma/data.h"

#include <stdio.h>
#include <string.h>

typedef struct svm_scan {
    int64_t rows, max_index;
    long first_line;     /* first non-blank line, 0 if none */
    long neg_line;       /* first line labelled -1, 0 if none */
    long other_line;     /* first line labelled neither -1 nor +1, 0 if none */
    long other_label;
} svm_scan;

/* Next whitespace-separated token of [*s, end); false when none is left. */
static bool next_token(const char **s, const char *end, const char **tok, size_t *n) {
    const char *p = *s;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p == end) return false;
    const char *q = p;
    while (q < end && *q != ' ' && *q != '\t') q++;
    *tok = p;
    *n = (size_t)(q - p);
    *s = q;
    return true;
}

/* Parses one non-blank line: its label, and its features into row (NULL: validate only).
 * *last gets the line's largest index (0 if it has no features). */
static int parse_line(long *label, int64_t *last, float *row, const char *s, size_t n,
                      int32_t dim, const char *name, long line, soma_error *err) {
    const char *end = s + n, *tok;
    size_t tn;
    char q[64], what[64];
    int rc;
    if (!next_token(&s, end, &tok, &tn)) return SOMA_E_ARG; /* caller skips blank lines */
    if ((rc = soma_text_long(label, tok, tn, name, line, "label", err))) return rc;
    long prev = 0;
    while (next_token(&s, end, &tok, &tn)) {
        if (tok[0] == '#') break;
        const char *colon = memchr(tok, ':', tn);
        if (!colon)
            return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: %s is not index:value", name, line,
                             soma_text_quote(q, tok, tn));
        long idx;
        snprintf(what, sizeof what, "index of %s", soma_text_quote(q, tok, tn));
        if ((rc = soma_text_long(&idx, tok, (size_t)(colon - tok), name, line, what, err)))
            return rc;
        if (idx < 1)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: index %ld (expected >= 1: LIBSVM indices are 1-based)", name,
                             line, idx);
        if (idx <= prev)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: index %ld after index %ld (expected strictly increasing "
                             "indices)", name, line, idx, prev);
        if (idx > INT32_MAX)
            return soma_fail(err, SOMA_E_FORMAT, "%s:%ld: index %ld is too large (expected <= %d)",
                             name, line, idx, INT32_MAX);
        if (dim > 0 && idx > dim)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: index %ld is larger than the dimension %d (expected 1..%d; "
                             "pass dim 0 to use the largest index)", name, line, idx, dim, dim);
        float v;
        snprintf(what, sizeof what, "value of index %ld", idx);
        size_t vn = tn - (size_t)(colon + 1 - tok);
        if ((rc = soma_text_float(&v, colon + 1, vn, name, line, what, err))) return rc;
        if (row) row[idx - 1] = v;
        prev = idx;
    }
    *last = prev;
    return SOMA_OK;
}

/* Blank or a comment line. */
static bool blank(const char *s, size_t n) {
    soma_text_trim(&s, &n);
    return n == 0 || s[0] == '#';
}

static int scan(svm_scan *sc, const char *text, size_t len, int32_t dim, const char *name,
                soma_error *err) {
    soma_text_cursor c;
    const char *s;
    size_t n;
    memset(sc, 0, sizeof *sc);
    soma_text_begin(&c, text, len);
    while (soma_text_next(&c, &s, &n)) {
        if (blank(s, n)) continue;
        long label;
        int64_t last;
        int rc = parse_line(&label, &last, NULL, s, n, dim, name, c.line, err);
        if (rc) return rc;
        if (label < -1)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: negative label %ld (expected an integer class >= 0, or -1/+1 "
                             "in a binary file)", name, c.line, label);
        if (label > SOMA_TEXT_MAX_LABEL)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: label %ld is too large (expected an integer class in [0, %ld])",
                             name, c.line, label, SOMA_TEXT_MAX_LABEL);
        if (label == -1 && !sc->neg_line) sc->neg_line = c.line;
        if (label != -1 && label != 1 && !sc->other_line) {
            sc->other_line = c.line;
            sc->other_label = label;
        }
        if (sc->neg_line && sc->other_line)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: label -1 is only allowed in a -1/+1 binary file, but line %ld "
                             "has label %ld", name, sc->neg_line, sc->other_line, sc->other_label);
        if (!sc->first_line) sc->first_line = c.line;
        if (last > sc->max_index) sc->max_index = last;
        sc->rows++;
    }
    if (sc->rows == 0)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: empty file (expected lines of \"label index:value ...\")", name);
    return SOMA_OK;
}

int soma_libsvm_parse(soma_dataset *out, const char *text, size_t len, int32_t dim,
                      const char *name, soma_error *err) {
    if (!name) name = "(libsvm)";
    if (!out) return soma_fail(err, SOMA_E_ARG, "%s: soma_libsvm_parse: NULL dataset", name);
    memset(out, 0, sizeof *out);
    if (!text && len) return soma_fail(err, SOMA_E_ARG, "%s: soma_libsvm_parse: NULL text", name);
    if (!text) text = "";
    if (dim < 0)
        return soma_fail(err, SOMA_E_ARG, "%s: dim %d (expected >= 1, or 0 to use the largest index)",
                         name, dim);
    svm_scan sc;
    int rc = scan(&sc, text, len, dim, name, err);
    if (rc) return rc;
    int64_t D = dim > 0 ? dim : sc.max_index;
    if (D == 0)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: no line has any index:value feature, so the dimension is unknown "
                         "(pass dim > 0)", name);
    if (sc.rows * D > SOMA_TEXT_MAX_VALUES)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: %lld rows x %lld features is more than the limit of %lld values; "
                         "is the largest index right?", name, (long long)sc.rows, (long long)D,
                         SOMA_TEXT_MAX_VALUES);
    soma_dataset d = {0};
    d.n = sc.rows;
    d.dim = (int32_t)D;
    d.c = d.h = 1;
    d.w = d.dim;
    d.x = soma_calloc((size_t)(sc.rows * D), sizeof(float));
    d.y = soma_malloc((size_t)sc.rows * sizeof(int32_t));
    if (!d.x || !d.y) {
        soma_dataset_free(&d);
        return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld x %lld floats", name,
                         (long long)sc.rows, (long long)D);
    }
    soma_text_cursor c;
    const char *s;
    size_t n;
    int64_t i = 0;
    int32_t max_label = 0;
    bool pm1 = sc.neg_line != 0;
    soma_text_begin(&c, text, len);
    while (soma_text_next(&c, &s, &n)) {
        if (blank(s, n)) continue;
        long label;
        int64_t last;
        if ((rc = parse_line(&label, &last, d.x + i * D, s, n, d.dim, name, c.line, err))) {
            soma_dataset_free(&d);
            return rc;
        }
        d.y[i] = pm1 ? (label == 1 ? 1 : 0) : (int32_t)label;
        if (d.y[i] > max_label) max_label = d.y[i];
        i++;
    }
    d.n_classes = max_label + 1;
    *out = d;
    return SOMA_OK;
}

int soma_libsvm_load(soma_dataset *out, const char *path, int32_t dim, soma_error *err) {
    if (!out) return soma_fail(err, SOMA_E_ARG, "soma_libsvm_load: NULL dataset");
    memset(out, 0, sizeof *out);
    if (!path) return soma_fail(err, SOMA_E_ARG, "soma_libsvm_load: NULL path");
    uint8_t *buf;
    size_t len;
    int rc = soma_read_file(&buf, &len, path, SOMA_TEXT_MAX_BYTES, err);
    if (rc) return rc;
    rc = soma_libsvm_parse(out, (const char *)buf, len, dim, path, err);
    soma_free(buf);
    return rc;
}
