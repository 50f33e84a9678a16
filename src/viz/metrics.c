/*
 * viz/metrics.c — the training metrics log: a strict reader of its JSON lines (or CSV) and
 * the training-curve plot drawn from it.
 *
 * The line parser is a pure function over (ptr, len) with no allocation, so it can be tested
 * and fuzzed alone. It accepts one flat JSON object per line — numbers, strings, booleans,
 * null and arrays of numbers — and ignores keys it does not know, so logs may gain fields.
 */
#include "soma/data.h"
#include "soma/viz.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void row_clear(soma_metrics_row *r) {
    memset(r, 0, sizeof *r);
    r->epoch = r->step = r->loss = r->accuracy = r->test_loss = r->test_accuracy = NAN;
    r->samples_per_s = r->lr = NAN;
}

/* Sets the field `key` (len kl) to v; `train_*` keys mark an epoch line. */
static void set_num(soma_metrics_row *r, const char *k, size_t kl, double v, bool *has_train) {
#define IS(s) (kl == sizeof(s) - 1 && memcmp(k, s, kl) == 0)
    if (IS("epoch")) r->epoch = v;
    else if (IS("step")) r->step = v;
    else if (IS("loss")) r->loss = v;
    else if (IS("accuracy")) r->accuracy = v;
    else if (IS("train_loss")) r->loss = v, *has_train = true;
    else if (IS("train_accuracy")) r->accuracy = v, *has_train = true;
    else if (IS("test_loss")) r->test_loss = v;
    else if (IS("test_accuracy")) r->test_accuracy = v;
    else if (IS("samples_per_s") || IS("train_samples_per_s")) r->samples_per_s = v;
    else if (IS("lr")) r->lr = v;
    else if (kl > 12 && memcmp(k, "firing_rate_", 12) == 0) { /* CSV: firing_rate_<i> */
        int i = atoi(k + 12);
        if (i >= 0 && i < SOMA_METRICS_MAX_LAYERS) {
            r->rate[i] = v;
            if (i + 1 > r->n_rates) r->n_rates = i + 1;
        }
    }
#undef IS
}

static const char *ws(const char *p, const char *e) {
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++;
    return p;
}

/* A JSON number at p: returns the end, or NULL. */
static const char *number(const char *p, const char *e, double *v) {
    char buf[64];
    size_t n = 0;
    while (p + n < e && n < sizeof buf - 1 && strchr("+-0123456789.eE", p[n])) n++;
    if (n == 0 || n == sizeof buf - 1) return NULL;
    memcpy(buf, p, n);
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return end == buf + n ? p + n : NULL;
}

/* A JSON string at p (p points at the quote): returns the end, content in [*s, *s + *len). */
static const char *string(const char *p, const char *e, const char **s, size_t *len) {
    if (p >= e || *p != '"') return NULL;
    const char *q = ++p;
    while (q < e && *q != '"') {
        if (*q == '\\') q++;
        if ((unsigned char)*q < 0x20) return NULL;
        q++;
    }
    if (q >= e) return NULL;
    *s = p, *len = (size_t)(q - p);
    return q + 1;
}

int soma_metrics_parse_line(soma_metrics_row *row, const char *s, size_t len, soma_error *err) {
    row_clear(row);
    const char *p = ws(s, s + len), *e = s + len, *type = NULL;
    size_t type_len = 0;
    bool has_train = false;
#define BAD(what) return soma_fail(err, SOMA_E_FORMAT, "column %d: %s", (int)(p - s) + 1, what)
    if (p >= e || *p != '{') BAD("expected '{' (one JSON object per line)");
    p = ws(p + 1, e);
    if (p < e && *p == '}') goto end;
    for (;;) {
        const char *k;
        size_t kl;
        const char *q = string(p, e, &k, &kl);
        if (!q) BAD("expected a quoted key");
        p = ws(q, e);
        if (p >= e || *p != ':') BAD("expected ':' after a key");
        p = ws(p + 1, e);
        if (p >= e) BAD("missing value");
        if (*p == '"') {
            const char *v;
            size_t vl;
            if (!(q = string(p, e, &v, &vl))) BAD("unterminated string");
            if (kl == 4 && memcmp(k, "type", 4) == 0) type = v, type_len = vl;
            p = q;
        } else if (*p == '[') {
            bool rates = kl == 11 && memcmp(k, "firing_rate", 11) == 0;
            int n = 0;
            p = ws(p + 1, e);
            while (p < e && *p != ']') {
                double v;
                if (!(q = number(p, e, &v))) BAD("expected a number in the array");
                if (rates && n < SOMA_METRICS_MAX_LAYERS) row->rate[n] = v;
                n++;
                p = ws(q, e);
                if (p < e && *p == ',') {
                    p = ws(p + 1, e);
                    if (p < e && *p == ']') BAD("expected a number after ','");
                } else if (p < e && *p != ']') {
                    BAD("expected ',' or ']'");
                }
            }
            if (p >= e) BAD("unterminated array");
            if (rates) row->n_rates = n < SOMA_METRICS_MAX_LAYERS ? n : SOMA_METRICS_MAX_LAYERS;
            p++;
        } else if ((size_t)(e - p) >= 4 && memcmp(p, "null", 4) == 0) {
            p += 4;
        } else if ((size_t)(e - p) >= 4 && memcmp(p, "true", 4) == 0) {
            p += 4;
        } else if ((size_t)(e - p) >= 5 && memcmp(p, "false", 5) == 0) {
            p += 5;
        } else {
            double v;
            if (!(q = number(p, e, &v))) BAD("expected a value");
            set_num(row, k, kl, v, &has_train);
            p = q;
        }
        p = ws(p, e);
        if (p < e && *p == ',') {
            p = ws(p + 1, e);
            continue;
        }
        if (p < e && *p == '}') break;
        BAD("expected ',' or '}'");
    }
end:
    p = ws(p + 1, e);
    if (p != e) BAD("text after the object");
#undef BAD
    if (type) row->is_epoch = type_len == 5 && memcmp(type, "epoch", 5) == 0;
    else row->is_epoch = has_train || !isnan(row->test_accuracy);
    return SOMA_OK;
}

void soma_metrics_free(soma_metrics *m) {
    if (!m) return;
    soma_free(m->rows);
    memset(m, 0, sizeof *m);
}

/* CSV: a header of column names, then rows of numbers (a "type" column may say step/epoch). */
static int parse_csv_line(soma_metrics_row *row, const char *s, size_t len, char (*cols)[40], int ncol,
                          soma_error *err) {
    row_clear(row);
    bool has_train = false;
    int c = 0;
    const char *p = s, *e = s + len;
    while (c < ncol) {
        const char *q = memchr(p, ',', (size_t)(e - p));
        if (!q) q = e;
        const char *a = ws(p, q), *b = q;
        while (b > a && (b[-1] == ' ' || b[-1] == '\r')) b--;
        if (strcmp(cols[c], "type") == 0) {
            row->is_epoch = b - a == 5 && memcmp(a, "epoch", 5) == 0;
        } else if (b > a) {
            double v;
            const char *end = number(a, b, &v);
            if (end != b) return soma_fail(err, SOMA_E_FORMAT, "column %d (%s) is not a number", c + 1, cols[c]);
            set_num(row, cols[c], strlen(cols[c]), v, &has_train);
        }
        c++;
        if (q == e) break;
        p = q + 1;
    }
    if (c != ncol) return soma_fail(err, SOMA_E_FORMAT, "%d columns, the header has %d", c, ncol);
    if (has_train || !isnan(row->test_accuracy)) row->is_epoch = true;
    return SOMA_OK;
}

int soma_metrics_load(soma_metrics *m, const char *path, soma_error *err) {
    memset(m, 0, sizeof *m);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = soma_read_file(&buf, &len, path, (size_t)1 << 28, err);
    if (rc) return rc;
    const char *s = (const char *)buf, *e = s + len;
    int64_t lines = 1;
    for (size_t i = 0; i < len; i++) lines += s[i] == '\n';
    m->rows = soma_calloc((size_t)lines, sizeof *m->rows);
    if (!m->rows) {
        soma_free(buf);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    }
    char cols[64][40];
    int ncol = -1; /* -1: not known yet; 0: JSON lines */
    int64_t lineno = 0;
    for (const char *p = s; p < e;) {
        const char *q = memchr(p, '\n', (size_t)(e - p));
        if (!q) q = e;
        lineno++;
        const char *a = ws(p, q);
        if (a < q) {
            if (ncol < 0 && *a != '{') { /* a CSV header */
                ncol = 0;
                for (const char *c = a; c < q && ncol < 64;) {
                    const char *d = memchr(c, ',', (size_t)(q - c));
                    if (!d) d = q;
                    const char *x = ws(c, d), *y = d;
                    while (y > x && (y[-1] == ' ' || y[-1] == '\r')) y--;
                    snprintf(cols[ncol], sizeof cols[ncol], "%.*s", (int)(y - x), x);
                    ncol++;
                    c = d + 1;
                    if (d == q) break;
                }
                static const char *const known[] = {"epoch", "step", "loss", "accuracy", "train_loss",
                                                    "train_accuracy", "test_loss", "test_accuracy"};
                bool any = false;
                for (int k = 0; k < ncol; k++)
                    for (size_t j = 0; j < sizeof known / sizeof *known; j++) any |= strcmp(cols[k], known[j]) == 0;
                if (!any) {
                    soma_fail(err, SOMA_E_FORMAT, "%s:%lld: neither a JSON object nor a CSV header naming epoch, step, loss, accuracy, ...",
                              path, (long long)lineno);
                    soma_free(buf);
                    soma_metrics_free(m);
                    return SOMA_E_FORMAT;
                }
            } else {
                soma_error e2 = {0};
                if (ncol < 0) ncol = 0;
                rc = ncol ? parse_csv_line(&m->rows[m->n], a, (size_t)(q - a), cols, ncol, &e2)
                          : soma_metrics_parse_line(&m->rows[m->n], a, (size_t)(q - a), &e2);
                if (rc) {
                    soma_fail(err, rc, "%s:%lld: %s", path, (long long)lineno, e2.msg);
                    soma_free(buf);
                    soma_metrics_free(m);
                    return rc;
                }
                m->n++;
            }
        }
        p = q + 1;
    }
    soma_free(buf);
    if (m->n == 0) {
        soma_metrics_free(m);
        return soma_fail(err, SOMA_E_FORMAT, "%s: no metrics (expected JSON lines from soma train --metrics)", path);
    }
    return SOMA_OK;
}

int soma_plot_curves(const char *path, const char *title, const soma_metrics *m, soma_error *err) {
    const int64_t n = m->n;
    if (n < 1) return soma_fail(err, SOMA_E_ARG, "no metrics to plot");
    /* columns: x/loss/acc of step rows, and of epoch rows train and test, rates per layer */
    enum { SX, SL, SA, EX, EL, EA, TL, TA, NCOL };
    double *buf = soma_malloc(sizeof(double) * (size_t)(n * (NCOL + SOMA_METRICS_MAX_LAYERS)));
    if (!buf) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    double *col[NCOL + SOMA_METRICS_MAX_LAYERS];
    for (int c = 0; c < NCOL + SOMA_METRICS_MAX_LAYERS; c++) col[c] = buf + c * n;
    int64_t ns = 0, ne = 0;
    int nrates = 0;
    for (int64_t i = 0; i < n; i++) {
        const soma_metrics_row *r = &m->rows[i];
        double x = isfinite(r->epoch) ? r->epoch : (double)i;
        if (!r->is_epoch) {
            col[SX][ns] = x, col[SL][ns] = r->loss, col[SA][ns] = 100 * r->accuracy, ns++;
        } else {
            col[EX][ne] = x, col[EL][ne] = r->loss, col[EA][ne] = 100 * r->accuracy;
            col[TL][ne] = r->test_loss, col[TA][ne] = 100 * r->test_accuracy;
            for (int l = 0; l < SOMA_METRICS_MAX_LAYERS; l++) col[NCOL + l][ne] = l < r->n_rates ? r->rate[l] : NAN;
            nrates = r->n_rates > nrates ? r->n_rates : nrates;
            ne++;
        }
    }
    soma_series loss[3], acc[3], rates[SOMA_METRICS_MAX_LAYERS];
    char names[SOMA_METRICS_MAX_LAYERS][32];
    int nl = 0, na = 0;
    if (ns) {
        loss[nl++] = (soma_series){"train (running mean)", col[SX], col[SL], ns, false, false};
        acc[na++] = (soma_series){"train (running mean)", col[SX], col[SA], ns, false, false};
    }
    if (ne) {
        loss[nl++] = (soma_series){"train (epoch)", col[EX], col[EL], ne, true, true};
        loss[nl++] = (soma_series){"test (epoch)", col[EX], col[TL], ne, true, false};
        acc[na++] = (soma_series){"train (epoch)", col[EX], col[EA], ne, true, true};
        acc[na++] = (soma_series){"test (epoch)", col[EX], col[TA], ne, true, false};
    }
    for (int l = 0; l < nrates; l++) {
        snprintf(names[l], sizeof names[l], "layer %d", l);
        rates[l] = (soma_series){names[l], col[EX], col[NCOL + l], ne, true, false};
    }
    soma_panel panels[3] = {
        {"loss (dimensionless)", loss, nl, 0, NAN},
        {"accuracy (%)", acc, na, NAN, 100},
        {"firing rate (spikes/neuron/step)", rates, nrates, 0, NAN},
    };
    int rc = soma_plot_lines(path, title, "epoch", panels, nrates ? 3 : 2, err);
    soma_free(buf);
    return rc;
}
