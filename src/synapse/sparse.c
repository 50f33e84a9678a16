/*
 * synapse/sparse.c — the sparse feature operator (embedding bag): y_r = Σ_j x_rj · E[id_rj, :].
 *
 * E is input-major (n_features, S), so every active feature is one contiguous row: the forward
 * pass gathers and sums rows with the partial sums held in registers, the weight gradient
 * scatters x_rj·G[r, :] into the same rows, and the input gradient is one dot product per
 * active slot. Cost O(nnz · nc) per call; nothing is ever densified. See synapse/sparse.h for
 * how the integration modes see this operator.
 */
#include "synapse/sparse.h"
#include "kernels/vec16.h"

#include <string.h>

typedef struct sparse_op {
    soma_synop base; /* must be first */
    soma_sparse_rows in;
} sparse_op;

static const soma_sparse_rows *rows_of(const soma_synop *op) { return &((const sparse_op *)op)->in; }

/* ---- reference kernels ------------------------------------------------------------------ */

void soma_sparse_forward_ref(float *Y, const float *x, const soma_sparse_rows *in, int64_t cap,
                             const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = c0; c < c0 + nc; c++) {
            double acc = 0;
            for (int64_t j = 0; j < in->nnz[r]; j++)
                acc += (double)x[r * cap + j] * E[(int64_t)in->id[r * cap + j] * S + c];
            Y[r * S + c] = (float)acc;
        }
}

void soma_sparse_backward_input_ref(float *dx, const float *G, const soma_sparse_rows *in,
                                    int64_t cap, const float *E, int64_t S, int64_t c0,
                                    int64_t nc, int64_t rows, float beta) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cap; j++) {
            double acc = 0;
            if (j < in->nnz[r])
                for (int64_t c = c0; c < c0 + nc; c++)
                    acc += (double)G[r * S + c] * E[(int64_t)in->id[r * cap + j] * S + c];
            dx[r * cap + j] = (float)((beta != 0.0f ? beta * dx[r * cap + j] : 0.0) + acc);
        }
}

void soma_sparse_backward_weight_ref(float *dE, const float *G, const float *x,
                                     const soma_sparse_rows *in, int64_t cap, int64_t S,
                                     int64_t c0, int64_t nc, int64_t rows) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < in->nnz[r]; j++)
            for (int64_t c = c0; c < c0 + nc; c++)
                dE[(int64_t)in->id[r * cap + j] * S + c] += x[r * cap + j] * G[r * S + c];
}

/* ---- fast kernels ----------------------------------------------------------------------- */

/* Register-blocked gathers: v16 from kernels/vec16.h. */

/* y[0:16W] += Σ_j x_j·E[id_j, 0:16W]  (x_j² with SQ) */
#define GATHER(W)                                                                            \
    ALWAYS_INLINE void gather##W(float *restrict y, const float *restrict E, int64_t S,      \
                                 const int32_t *restrict id, const float *restrict x,        \
                                 int64_t n, bool sq) {                                       \
        v16 acc[W];                                                                          \
        for (int w = 0; w < (W); w++) acc[w] = ld16(y + 16 * w);                             \
        for (int64_t j = 0; j < n; j++) {                                                    \
            const float *e = E + (int64_t)id[j] * S;                                         \
            const float xv = sq ? x[j] * x[j] : x[j];                                        \
            for (int w = 0; w < (W); w++) acc[w] += xv * ld16(e + 16 * w);                   \
        }                                                                                    \
        for (int w = 0; w < (W); w++) st16(y + 16 * w, acc[w]);                              \
    }
GATHER(4)
GATHER(1)

SOMA_HOT void soma_sparse_gather_add(float *restrict y, const float *restrict E, int64_t S,
                                     const int32_t *restrict id, const float *restrict x,
                                     int64_t n, int64_t nc, bool square) {
    int64_t c = 0;
    for (; c + 64 <= nc; c += 64) gather4(y + c, E + c, S, id, x, n, square);
    for (; c + 16 <= nc; c += 16) gather1(y + c, E + c, S, id, x, n, square);
    for (; c < nc; c++) {
        float acc = y[c];
        for (int64_t j = 0; j < n; j++) {
            const float xv = square ? x[j] * x[j] : x[j];
            acc += xv * E[(int64_t)id[j] * S + c];
        }
        y[c] = acc;
    }
}

static void sparse_forward(const soma_synop *op, float *Y, const float *x, const soma_spikes *sx,
                           const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    (void)sx; /* the ids are bound; x holds the values */
    const soma_sparse_rows *in = rows_of(op);
    const int64_t cap = op->in_dim;
    for (int64_t r = 0; r < rows; r++) {
        float *y = Y + r * S + c0;
        memset(y, 0, (size_t)nc * sizeof *y);
        soma_sparse_gather_add(y, E + c0, S, in->id + r * cap, x + r * cap, in->nnz[r], nc, false);
    }
}

/* dx[r, j] = beta·dx[r, j] + G[r, c0:c0+nc] · E[id_rj, c0:c0+nc] */
SOMA_HOT static void sparse_backward_input(const soma_synop *op, float *dx, const float *G,
                                           const float *E, int64_t S, int64_t c0, int64_t nc,
                                           int64_t rows, float beta) {
    const soma_sparse_rows *in = rows_of(op);
    const int64_t cap = op->in_dim;
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict g = G + r * S + c0;
        float *restrict d = dx + r * cap;
        const int64_t n = in->nnz[r];
        for (int64_t j = 0; j < cap; j++) {
            float acc = 0.0f;
            if (j < n) {
                const float *restrict e = E + (int64_t)in->id[r * cap + j] * S + c0;
                for (int64_t c = 0; c < nc; c++) acc += g[c] * e[c];
            }
            d[j] = beta != 0.0f ? beta * d[j] + acc : acc;
        }
    }
}

/* dE[id_rj, c0:c0+nc] += x_rj · G[r, c0:c0+nc] */
SOMA_HOT static void sparse_backward_weight(const soma_synop *op, float *dE, const float *G,
                                            const float *x, const soma_spikes *sx, int64_t S,
                                            int64_t c0, int64_t nc, int64_t rows) {
    (void)sx;
    const soma_sparse_rows *in = rows_of(op);
    const int64_t cap = op->in_dim;
    for (int64_t r = 0; r < rows; r++) {
        const float *restrict g = G + r * S + c0;
        for (int64_t j = 0; j < in->nnz[r]; j++) {
            float *restrict d = dE + (int64_t)in->id[r * cap + j] * S + c0;
            const float xv = x[r * cap + j];
            for (int64_t c = 0; c < nc; c++) d[c] += xv * g[c];
        }
    }
}

static void sparse_free(soma_synop *op) { soma_free(op); }

static const soma_synop_ops sparse_ops = {
    .name = "sparse",
    .forward = sparse_forward,
    .backward_input = sparse_backward_input,
    .backward_weight = sparse_backward_weight,
    .free = sparse_free,
};

soma_synop *soma_sparse_create(int64_t n_features, int64_t cap) {
    if (n_features <= 0 || n_features > INT32_MAX || cap <= 0) return NULL;
    sparse_op *s = soma_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->base.ops = &sparse_ops;
    s->base.in_dim = cap;
    s->base.fan_in = n_features;
    s->base.inner = 1;
    s->base.ch_stride_1 = 1;
    s->base.in_major = true;
    return &s->base;
}

void soma_sparse_bind(soma_synop *op, const soma_sparse_rows *rows) {
    ((sparse_op *)op)->in = *rows;
}
