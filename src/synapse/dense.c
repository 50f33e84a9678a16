/*
 * synapse/dense.c — the dense synaptic operator y = x·E, through CBLAS or event-driven.
 *
 * E is stored input-major, (M, S): the S output weights of input k are one contiguous row.
 * That makes the event-driven forward a sum of the rows of the inputs that spiked, and its
 * weight gradient a scatter of the output-gradient row into those same rows. Both paths give
 * the same result up to float rounding; the caller picks one by measured input density.
 */
#include "synapse/synop.h"

#include <cblas.h>
#include <string.h>

typedef struct dense_op {
    soma_synop base; /* must be first */
} dense_op;

SOMA_HOT
int64_t soma_spikes_build(int32_t *restrict idx, int64_t *restrict off, const float *restrict x,
                          int64_t rows, int64_t M) {
    int64_t n = 0;
    for (int64_t r = 0; r < rows; r++) {
        off[r] = n;
        const float *xr = x + r * M;
        /* branch-free: write every index, advance only past nonzeros */
        for (int64_t k = 0; k < M; k++) {
            idx[n] = (int32_t)k;
            n += xr[k] != 0.0f;
        }
    }
    off[rows] = n;
    return n;
}

/* ---- reference kernels ------------------------------------------------------------------ */

void soma_dense_forward_ref(float *Y, const float *x, const float *E, int64_t M, int64_t S,
                            int64_t c0, int64_t nc, int64_t rows) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = c0; c < c0 + nc; c++) {
            double acc = 0;
            for (int64_t k = 0; k < M; k++) acc += (double)x[r * M + k] * E[k * S + c];
            Y[r * S + c] = (float)acc;
        }
}

void soma_dense_backward_input_ref(float *dx, const float *G, const float *E, int64_t M,
                                   int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < M; k++) {
            double acc = 0;
            for (int64_t c = c0; c < c0 + nc; c++) acc += (double)G[r * S + c] * E[k * S + c];
            dx[r * M + k] = (float)(beta * dx[r * M + k] + acc);
        }
}

void soma_dense_backward_weight_ref(float *dE, const float *G, const float *x, int64_t M,
                                    int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    for (int64_t k = 0; k < M; k++)
        for (int64_t c = c0; c < c0 + nc; c++) {
            double acc = 0;
            for (int64_t r = 0; r < rows; r++) acc += (double)x[r * M + k] * G[r * S + c];
            dE[k * S + c] += (float)acc;
        }
}

/* ---- fast kernels ----------------------------------------------------------------------- */

SOMA_HOT static void dense_forward(const soma_synop *op, float *Y, const float *x, const soma_spikes *sx,
                          const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t M = op->in_dim;
    if (!sx) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)nc, (int)M, 1.0f,
                    x, (int)M, E + c0, (int)S, 0.0f, Y + c0, (int)S);
        return;
    }
    /* Event-driven: y_r = Σ_{k active in r} E[k, c0:c0+nc]. */
    for (int64_t r = 0; r < rows; r++) {
        float *restrict y = Y + r * S + c0;
        memset(y, 0, (size_t)nc * sizeof *y);
        for (int64_t j = sx->off[r]; j < sx->off[r + 1]; j++) {
            const float *restrict e = E + (int64_t)sx->idx[j] * S + c0;
            for (int64_t c = 0; c < nc; c++) y[c] += e[c];
        }
    }
}

static void dense_backward_input(const soma_synop *op, float *dx, const float *G, const float *E,
                                 int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const int64_t M = op->in_dim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)M, (int)nc, 1.0f,
                G + c0, (int)S, E + c0, (int)S, beta, dx, (int)M);
}

SOMA_HOT static void dense_backward_weight(const soma_synop *op, float *dE, const float *G, const float *x,
                                  const soma_spikes *sx, int64_t S, int64_t c0, int64_t nc,
                                  int64_t rows) {
    const int64_t M = op->in_dim;
    if (!sx) {
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)nc, (int)rows, 1.0f,
                    x, (int)M, G + c0, (int)S, 1.0f, dE + c0, (int)S);
        return;
    }
    /* Event-driven: dE[k, :] += G[r, :] for every spike (r, k). */
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict g = G + r * S + c0;
        for (int64_t j = sx->off[r]; j < sx->off[r + 1]; j++) {
            float *restrict d = dE + (int64_t)sx->idx[j] * S + c0;
            for (int64_t c = 0; c < nc; c++) d[c] += g[c];
        }
    }
}

static void dense_free(soma_synop *op) { soma_free(op); }

static const soma_synop_ops dense_ops = {
    .name = "dense",
    .forward = dense_forward,
    .backward_input = dense_backward_input,
    .backward_weight = dense_backward_weight,
    .free = dense_free,
};

soma_synop *soma_dense_create(int64_t M) {
    dense_op *d = soma_calloc(1, sizeof *d);
    if (!d) return NULL;
    d->base.ops = &dense_ops;
    d->base.in_dim = M;
    d->base.fan_in = M;
    d->base.inner = 1;
    d->base.in_major = true;
    return &d->base;
}
