/*
 * data/csv.c — comma-separated numbers, one sample per line, with an integer label column.
 *
 * Two passes over the text: the first finds the header (a first line with a field that is not
 * a number), checks that every row has the same number of fields and counts the rows; the
 * second parses every field strictly into the allocated arrays. Blank lines are skipped, a
 * trailing '\r' (CRLF files) and spaces around fields are ignored. Fields are not quoted:
 * a comma always separates fields. Labels are integers in [0, SOMA_TEXT_MAX_LABEL].
 */
#include "data/text.h"
#include "soma/data.h"

#include <stdio.h>
#include <string.h>

typedef struct csv_shape {
    long header_line; /* 0 if none */
    long ref_line;    /* first line whose field count set ncols */
    int64_t ncols, rows;
} csv_shape;

static int64_t count_fields(const char *s, size_t n) {
    int64_t k = 1;
    for (const char *p = s; (p = memchr(p, ',', n - (size_t)(p - s))) != NULL; p++) k++;
    return k;
}

/* True if some non-empty field is not a number: such a first line is a header. */
static bool is_header(const char *s, size_t n) {
    const char *end = s + n;
    while (s <= end) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        const char *stop = c ? c : end;
        const char *f = s;
        size_t fn = (size_t)(stop - s);
        soma_text_trim(&f, &fn);
        if (fn > 0 && !soma_text_is_number(f, fn)) return true;
        if (!c) break;
        s = c + 1;
    }
    return false;
}

static bool blank(const char *s, size_t n) {
    soma_text_trim(&s, &n);
    return n == 0;
}

static int scan(csv_shape *sh, const char *text, size_t len, const char *name, soma_error *err) {
    soma_text_cursor c;
    const char *s;
    size_t n;
    memset(sh, 0, sizeof *sh);
    soma_text_begin(&c, text, len);
    while (soma_text_next(&c, &s, &n)) {
        if (blank(s, n)) continue;
        int64_t nf = count_fields(s, n);
        if (sh->ref_line == 0) {
            sh->ncols = nf;
            sh->ref_line = c.line;
            if (is_header(s, n)) {
                sh->header_line = c.line;
                continue;
            }
        } else if (nf != sh->ncols) {
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s:%ld: %lld fields, expected %lld as on line %ld (every row needs "
                             "the same number of comma-separated columns)",
                             name, c.line, (long long)nf, (long long)sh->ncols, sh->ref_line);
        }
        sh->rows++;
    }
    if (sh->ref_line == 0)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: empty file (expected lines of comma-separated numbers)", name);
    if (sh->rows == 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: no data rows after the header on line %ld",
                         name, sh->header_line);
    if (sh->ncols < 2)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s:%ld: only one column (expected feature columns and a label column)",
                         name, sh->ref_line);
    if (sh->ncols - 1 > INT32_MAX || sh->rows * (sh->ncols - 1) > SOMA_TEXT_MAX_VALUES)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: %lld rows x %lld columns is more than the limit of %lld values",
                         name, (long long)sh->rows, (long long)sh->ncols, SOMA_TEXT_MAX_VALUES);
    return SOMA_OK;
}

/* Parses one row of ncols fields into x (ncols - 1 floats) and *y. */
static int parse_row(float *x, int32_t *y, const char *s, size_t n, int64_t label_col,
                     const char *name, long line, soma_error *err) {
    const char *end = s + n;
    char what[64];
    for (int64_t j = 0;; j++) {
        const char *c = memchr(s, ',', (size_t)(end - s));
        const char *stop = c ? c : end;
        int rc;
        if (j == label_col) {
            long v = 0;
            snprintf(what, sizeof what, "label (field %lld)", (long long)j + 1);
            if ((rc = soma_text_long(&v, s, (size_t)(stop - s), name, line, what, err))) return rc;
            if (v < 0 || v > SOMA_TEXT_MAX_LABEL)
                return soma_fail(err, SOMA_E_FORMAT,
                                 "%s:%ld: %s is %ld (expected an integer class in [0, %ld])", name,
                                 line, what, v, SOMA_TEXT_MAX_LABEL);
            *y = (int32_t)v;
        } else {
            snprintf(what, sizeof what, "field %lld", (long long)j + 1);
            if ((rc = soma_text_float(x++, s, (size_t)(stop - s), name, line, what, err))) return rc;
        }
        if (!c) return SOMA_OK;
        s = c + 1;
    }
}

int soma_csv_parse(soma_dataset *out, const char *text, size_t len, int label_col,
                   const char *name, soma_error *err) {
    if (!name) name = "(csv)";
    if (!out) return soma_fail(err, SOMA_E_ARG, "%s: soma_csv_parse: NULL dataset", name);
    memset(out, 0, sizeof *out);
    if (!text && len) return soma_fail(err, SOMA_E_ARG, "%s: soma_csv_parse: NULL text", name);
    if (!text) text = "";
    csv_shape sh;
    int rc = scan(&sh, text, len, name, err);
    if (rc) return rc;
    if (label_col < -1 || label_col >= sh.ncols)
        return soma_fail(err, SOMA_E_ARG,
                         "%s: label column %d is out of range (the file has %lld columns; use 0..%lld, "
                         "or -1 for the last)", name, label_col, (long long)sh.ncols,
                         (long long)sh.ncols - 1);
    int64_t lc = label_col < 0 ? sh.ncols - 1 : label_col, dim = sh.ncols - 1;
    soma_dataset d = {0};
    d.n = sh.rows;
    d.dim = (int32_t)dim;
    d.c = d.h = 1;
    d.w = d.dim;
    d.x = soma_malloc((size_t)(sh.rows * dim) * sizeof(float));
    d.y = soma_malloc((size_t)sh.rows * sizeof(int32_t));
    if (!d.x || !d.y) {
        soma_dataset_free(&d);
        return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld x %lld floats", name,
                         (long long)sh.rows, (long long)dim);
    }
    soma_text_cursor c;
    const char *s;
    size_t n;
    int64_t i = 0;
    int32_t max_label = 0;
    soma_text_begin(&c, text, len);
    while (soma_text_next(&c, &s, &n)) {
        if (c.line == sh.header_line || blank(s, n)) continue;
        if ((rc = parse_row(d.x + i * dim, d.y + i, s, n, lc, name, c.line, err))) {
            soma_dataset_free(&d);
            return rc;
        }
        if (d.y[i] > max_label) max_label = d.y[i];
        i++;
    }
    d.n_classes = max_label + 1;
    *out = d;
    return SOMA_OK;
}

int soma_csv_load(soma_dataset *out, const char *path, int label_col, soma_error *err) {
    if (!out) return soma_fail(err, SOMA_E_ARG, "soma_csv_load: NULL dataset");
    memset(out, 0, sizeof *out);
    if (!path) return soma_fail(err, SOMA_E_ARG, "soma_csv_load: NULL path");
    uint8_t *buf;
    size_t len;
    int rc = soma_read_file(&buf, &len, path, SOMA_TEXT_MAX_BYTES, err);
    if (rc) return rc;
    rc = soma_csv_parse(out, (const char *)buf, len, label_col, path, err);
    soma_free(buf);
    return rc;
}
