/*
 * synapse/dense.c — the dense synaptic operator y = x·E, through CBLAS or event-driven.
 *
 * E is stored input-major, (M, S): the S output weights of input k are one contiguous row.
 * That makes the event-driven forward a sum of the rows of the inputs that spiked, and its
 * weight gradient a scatter of the output-gradient row into those same rows. Both paths give
 * the same result up to float rounding; the caller picks one by measured input density.
 */
#include "synapse/synop.h"
#include "kernels/vec16.h"

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

/* Register-blocked gathers: v16 from kernels/vec16.h. */

/* y[0:16·W] = Σ_j E[idx[j], 0:16·W] with the sums in registers while the spike list streams. */
#define GATHER(W)                                                                            \
    ALWAYS_INLINE void gather##W(float *restrict y, const float *restrict E, int64_t S,      \
                                 const int32_t *restrict idx, int64_t n) {                   \
        v16 acc[W];                                                                          \
        for (int w = 0; w < (W); w++) acc[w] = (v16){0};                                     \
        for (int64_t j = 0; j < n; j++) {                                                    \
            const float *e = E + (int64_t)idx[j] * S;                                        \
            for (int w = 0; w < (W); w++) acc[w] += ld16(e + 16 * w);                        \
        }                                                                                    \
        for (int w = 0; w < (W); w++) st16(y + 16 * w, acc[w]);                              \
    }
GATHER(4)
GATHER(1)

/* The last nc % 16 outputs: one 16-wide block that ends at nc (overlapping the previous one),
 * of which only the new tail is stored; a scalar loop only when the row is under 16 wide. */
ALWAYS_INLINE void gather_row(float *restrict y, const float *restrict E, int64_t S,
                              const int32_t *restrict idx, int64_t n, int64_t nc) {
    int64_t c = 0;
    for (; c + 64 <= nc; c += 64) gather4(y + c, E + c, S, idx, n);
    for (; c + 16 <= nc; c += 16) gather1(y + c, E + c, S, idx, n);
    if (c == nc) return;
    if (nc >= 16) {
        float tmp[16];
        gather1(tmp, E + nc - 16, S, idx, n);
        memcpy(y + c, tmp + 16 - (nc - c), (size_t)(nc - c) * sizeof *y);
        return;
    }
    for (; c < nc; c++) {
        float acc = 0.0f;
        for (int64_t j = 0; j < n; j++) acc += E[(int64_t)idx[j] * S + c];
        y[c] = acc;
    }
}

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
        const int32_t *idx = sx->idx + sx->off[r];
        const int64_t n = sx->off[r + 1] - sx->off[r];
        gather_row(Y + r * S + c0, E + c0, S, idx, n, nc);
    }
}

static void dense_backward_input(const soma_synop *op, float *dx, const float *G, const float *E,
                                 int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const int64_t M = op->in_dim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)M, (int)nc, 1.0f,
                G + c0, (int)S, E + c0, (int)S, beta, dx, (int)M);
}

/* dE[k, c0:c0+nc] += Σ_{t ∈ mask} G[t·B + b, c0:c0+nc]: one sample's spikes of input k. */
/* d[0:16·W] += Σ_{t ∈ mask} G[t·B + b, 0:16·W]: one sample's spikes of one input. */
#define SCATTER(W)                                                                           \
    ALWAYS_INLINE void scatter##W(float *restrict d, const float *restrict G, int64_t S,     \
                                  int64_t B, int64_t b, uint64_t mask) {                     \
        v16 acc[W];                                                                          \
        for (int w = 0; w < (W); w++) acc[w] = (v16){0};                                     \
        for (uint64_t m = mask; m; m &= m - 1) {                                             \
            const float *g = G + ((int64_t)__builtin_ctzll(m) * B + b) * S;                  \
            for (int w = 0; w < (W); w++) acc[w] += ld16(g + 16 * w);                        \
        }                                                                                    \
        for (int w = 0; w < (W); w++) st16(d + 16 * w, ld16(d + 16 * w) + acc[w]);           \
    }
SCATTER(4)
SCATTER(1)

ALWAYS_INLINE void scatter_masked(float *restrict d, const float *restrict G, int64_t S, int64_t B,
                                  int64_t b, uint64_t mask, int64_t nc) {
    int64_t c = 0;
    for (; c + 64 <= nc; c += 64) scatter4(d + c, G + c, S, B, b, mask);
    for (; c + 16 <= nc; c += 16) scatter1(d + c, G + c, S, B, b, mask);
    if (c == nc) return;
    if (nc >= 16) { /* a 16-wide sum ending at nc; add only its new tail */
        v16 acc = {0};
        for (uint64_t m = mask; m; m &= m - 1)
            acc += ld16(G + ((int64_t)__builtin_ctzll(m) * B + b) * S + nc - 16);
        float tmp[16];
        st16(tmp, acc);
        for (int64_t i = c; i < nc; i++) d[i] += tmp[16 - (nc - i)];
        return;
    }
    for (uint64_t m = mask; m; m &= m - 1) {
        const float *restrict g = G + ((int64_t)__builtin_ctzll(m) * B + b) * S;
        for (int64_t i = c; i < nc; i++) d[i] += g[i];
    }
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
    const int64_t B = sx->B, T = B > 0 ? rows / B : 0;
    if (!sx->mask || T > 64 || T * B != rows) {
        /* per spike: dE[k, :] += G[r, :] */
        for (int64_t r = 0; r < rows; r++) {
            const float *restrict g = G + r * S + c0;
            for (int64_t j = sx->off[r]; j < sx->off[r + 1]; j++) {
                float *restrict d = dE + (int64_t)sx->idx[j] * S + c0;
                for (int64_t c = 0; c < nc; c++) d[c] += g[c];
            }
        }
        return;
    }
    /* Per sample: collect each input's spike times in a bit mask, then update its gradient
     * row once with the sum of the current gradients at those times (one read-modify-write
     * of dE per input and sample instead of per spike). */
    uint64_t *mask = sx->mask;   /* (M) zeroed, left zeroed */
    int32_t *touched = sx->touched; /* (M) */
    for (int64_t b = 0; b < B; b++) {
        int64_t nt = 0;
        for (int64_t t = 0; t < T; t++) {
            const int64_t r = t * B + b;
            for (int64_t j = sx->off[r]; j < sx->off[r + 1]; j++) {
                const int32_t k = sx->idx[j];
                if (!mask[k]) touched[nt++] = k;
                mask[k] |= 1ULL << t;
            }
        }
        for (int64_t i = 0; i < nt; i++) {
            const int32_t k = touched[i];
            scatter_masked(dE + (int64_t)k * S + c0, G + c0, S, B, b, mask[k], nc);
            mask[k] = 0;
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
