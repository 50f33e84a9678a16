/*
 * synapse/conv2d.c — 2-D convolution as a synaptic operator: im2col + one GEMM per image, the
 * two backward products (GEMM + col2im for the input, GEMM against the columns for the
 * weights), and the naive reference loops they are tested against.
 *
 * Schedule (measured on the 2-core Zen 4, 32C3 on 32×14×14 spikes, T·B = 320 images per
 * chunk): one image at a time keeps its column buffer (288 × 196 floats, 225 KB) in L2 while
 * the GEMM reads it; lowering all T·B images into one tall matrix first (PyTorch's multi-step
 * form) needs 72 MB of columns and runs from memory. A 1×1 convolution with stride 1 and no
 * padding needs no lowering: the image itself is the column matrix.
 *
 * Not here: the event-driven path (the dense layer has one; for the conv net's 10–20 %
 * spike densities the GEMM is the better use of the vector units), and bias (the
 * integrator adds it per channel).
 */
#include "synapse/conv2d.h"

#include <cblas.h>
#include <string.h>

/* ---- lowering ----------------------------------------------------------------------------- */

/* Output columns [lo, hi) whose input column ox·s + kx − p falls inside [0, W). */
static void valid_cols(const soma_conv2d *op, int64_t kx, int64_t *lo, int64_t *hi) {
    const int64_t s = op->stride, a = op->pad - kx; /* ix = ox·s − a */
    int64_t l = a > 0 ? (a + s - 1) / s : 0;
    int64_t top = op->w - 1 + a;                     /* ix ≤ W − 1  ⇔  ox ≤ top / s */
    int64_t h = top < 0 ? 0 : top / s + 1;
    if (h > op->wo) h = op->wo;
    if (l > h) l = h;
    *lo = l, *hi = h;
}

void soma_im2col(float *restrict col, const float *restrict x, const soma_conv2d *op) {
    const int64_t K = op->k, H = op->h, W = op->w, Ho = op->ho, Wo = op->wo;
    const int64_t s = op->stride, p = op->pad;
    for (int64_t ci = 0; ci < op->cin; ci++) {
        const float *restrict xc = x + ci * H * W;
        for (int64_t ky = 0; ky < K; ky++)
            for (int64_t kx = 0; kx < K; kx++) {
                float *restrict c = col + ((ci * K + ky) * K + kx) * Ho * Wo;
                int64_t lo, hi;
                valid_cols(op, kx, &lo, &hi);
                for (int64_t oy = 0; oy < Ho; oy++) {
                    float *restrict row = c + oy * Wo;
                    const int64_t iy = oy * s + ky - p;
                    if (iy < 0 || iy >= H) {
                        memset(row, 0, (size_t)Wo * sizeof *row);
                        continue;
                    }
                    const float *restrict xr = xc + iy * W; /* row[ox] = xr[ox·s + kx − p] */
                    for (int64_t ox = 0; ox < lo; ox++) row[ox] = 0.0f;
                    if (s == 1 && hi > lo) memcpy(row + lo, xr + lo + kx - p, (size_t)(hi - lo) * sizeof *row);
                    else
                        for (int64_t ox = lo; ox < hi; ox++) row[ox] = xr[ox * s + kx - p];
                    for (int64_t ox = hi; ox < Wo; ox++) row[ox] = 0.0f;
                }
            }
    }
}

void soma_col2im_add(float *restrict dx, const float *restrict col, const soma_conv2d *op) {
    const int64_t K = op->k, H = op->h, W = op->w, Ho = op->ho, Wo = op->wo;
    const int64_t s = op->stride, p = op->pad;
    for (int64_t ci = 0; ci < op->cin; ci++) {
        float *restrict dc = dx + ci * H * W;
        for (int64_t ky = 0; ky < K; ky++)
            for (int64_t kx = 0; kx < K; kx++) {
                const float *restrict c = col + ((ci * K + ky) * K + kx) * Ho * Wo;
                int64_t lo, hi;
                valid_cols(op, kx, &lo, &hi);
                for (int64_t oy = 0; oy < Ho; oy++) {
                    const int64_t iy = oy * s + ky - p;
                    if (iy < 0 || iy >= H) continue;
                    float *restrict dr = dc + iy * W; /* dr[ox·s + kx − p] += row[ox] */
                    const float *restrict row = c + oy * Wo;
                    if (s == 1 && hi > lo) {
                        float *restrict d1 = dr + lo + kx - p;
                        for (int64_t ox = 0; ox < hi - lo; ox++) d1[ox] += row[lo + ox];
                    } else {
                        for (int64_t ox = lo; ox < hi; ox++) dr[ox * s + kx - p] += row[ox];
                    }
                }
            }
    }
}

/* ---- reference kernels ------------------------------------------------------------------ */

/* Input value of image xr at (ci, oy·s + ky − p, ox·s + kx − p), 0 in the padding. */
static double in_at(const soma_conv2d *op, const float *xr, int64_t ci, int64_t ky, int64_t kx,
                    int64_t oy, int64_t ox) {
    int64_t iy = oy * op->stride + ky - op->pad, ix = ox * op->stride + kx - op->pad;
    if (iy < 0 || iy >= op->h || ix < 0 || ix >= op->w) return 0.0;
    return xr[(ci * op->h + iy) * op->w + ix];
}

void soma_conv2d_forward_ref(const soma_conv2d *op, float *Y, const float *x, const float *E,
                             int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t K = op->k, F = op->base.fan_in, HWo = op->ho * op->wo;
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * op->base.in_dim;
        for (int64_t c = c0; c < c0 + nc; c++)
            for (int64_t oy = 0; oy < op->ho; oy++)
                for (int64_t ox = 0; ox < op->wo; ox++) {
                    double acc = 0;
                    for (int64_t ci = 0; ci < op->cin; ci++)
                        for (int64_t ky = 0; ky < K; ky++)
                            for (int64_t kx = 0; kx < K; kx++)
                                acc += (double)E[c * F + (ci * K + ky) * K + kx] * in_at(op, xr, ci, ky, kx, oy, ox);
                    Y[(r * S + c) * HWo + oy * op->wo + ox] = (float)acc;
                }
    }
}

void soma_conv2d_backward_input_ref(const soma_conv2d *op, float *dx, const float *G,
                                    const float *E, int64_t S, int64_t c0, int64_t nc,
                                    int64_t rows, float beta) {
    const int64_t K = op->k, F = op->base.fan_in, HWo = op->ho * op->wo, M = op->base.in_dim;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t ci = 0; ci < op->cin; ci++)
            for (int64_t iy = 0; iy < op->h; iy++)
                for (int64_t ix = 0; ix < op->w; ix++) {
                    /* every (c, output pixel, tap) that reads input pixel (ci, iy, ix) */
                    double acc = 0;
                    for (int64_t c = c0; c < c0 + nc; c++)
                        for (int64_t ky = 0; ky < K; ky++)
                            for (int64_t kx = 0; kx < K; kx++) {
                                int64_t ny = iy + op->pad - ky, nx = ix + op->pad - kx;
                                if (ny < 0 || nx < 0 || ny % op->stride || nx % op->stride) continue;
                                int64_t oy = ny / op->stride, ox = nx / op->stride;
                                if (oy >= op->ho || ox >= op->wo) continue;
                                acc += (double)E[c * F + (ci * K + ky) * K + kx] *
                                       G[(r * S + c) * HWo + oy * op->wo + ox];
                            }
                    float *d = dx + r * M + (ci * op->h + iy) * op->w + ix;
                    *d = (float)(beta * *d + acc);
                }
}

void soma_conv2d_backward_weight_ref(const soma_conv2d *op, float *dE, const float *G,
                                     const float *x, int64_t S, int64_t c0, int64_t nc,
                                     int64_t rows) {
    const int64_t K = op->k, F = op->base.fan_in, HWo = op->ho * op->wo;
    for (int64_t c = c0; c < c0 + nc; c++)
        for (int64_t ci = 0; ci < op->cin; ci++)
            for (int64_t ky = 0; ky < K; ky++)
                for (int64_t kx = 0; kx < K; kx++) {
                    double acc = 0;
                    for (int64_t r = 0; r < rows; r++)
                        for (int64_t oy = 0; oy < op->ho; oy++)
                            for (int64_t ox = 0; ox < op->wo; ox++)
                                acc += G[(r * S + c) * HWo + oy * op->wo + ox] *
                                       in_at(op, x + r * op->base.in_dim, ci, ky, kx, oy, ox);
                    dE[c * F + (ci * K + ky) * K + kx] += (float)acc;
                }
}

/* ---- fast kernels ------------------------------------------------------------------------- */

static bool is_pointwise(const soma_conv2d *c) { return c->k == 1 && c->stride == 1 && c->pad == 0; }

/* The column matrix of image xr: the image itself for a pointwise conv, else lowered. */
static const float *columns(const soma_conv2d *c, const float *xr) {
    if (is_pointwise(c)) return xr;
    SOMA_ASSERT(c->work != NULL);
    soma_im2col(c->work, xr, c);
    return c->work;
}

/* Y_r[c0:c0+nc] (nc, HWo) = E[c0:c0+nc] (nc, F) · col_r (F, HWo). */
static void conv_forward(const soma_synop *op, float *Y, const float *x, const soma_spikes *sx,
                         const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const soma_conv2d *c = (const soma_conv2d *)op;
    const int64_t F = op->fan_in, HWo = op->inner, M = op->in_dim;
    SOMA_ASSERT(x != NULL); /* no event-driven path: layers over this op take dense rows */
    (void)sx;
    for (int64_t r = 0; r < rows; r++) {
        const float *col = columns(c, x + r * M);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nc, (int)HWo, (int)F, 1.0f,
                    E + c0 * F, (int)F, col, (int)HWo, 0.0f, Y + (r * S + c0) * HWo, (int)HWo);
    }
}

/* dx_r = beta·dx_r + col2im(E[c0:c0+nc]ᵀ (F, nc) · G_r[c0:c0+nc] (nc, HWo)). */
static void conv_backward_input(const soma_synop *op, float *dx, const float *G, const float *E,
                                int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const soma_conv2d *c = (const soma_conv2d *)op;
    const int64_t F = op->fan_in, HWo = op->inner, M = op->in_dim;
    for (int64_t r = 0; r < rows; r++) {
        float *dxr = dx + r * M;
        const float *Gr = G + (r * S + c0) * HWo;
        if (is_pointwise(c)) {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)F, (int)HWo, (int)nc, 1.0f,
                        E + c0 * F, (int)F, Gr, (int)HWo, beta, dxr, (int)HWo);
            continue;
        }
        SOMA_ASSERT(c->work != NULL);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)F, (int)HWo, (int)nc, 1.0f,
                    E + c0 * F, (int)F, Gr, (int)HWo, 0.0f, c->work, (int)HWo);
        if (beta == 0.0f) memset(dxr, 0, (size_t)M * sizeof *dxr);
        else if (beta != 1.0f)
            for (int64_t i = 0; i < M; i++) dxr[i] *= beta;
        soma_col2im_add(dxr, c->work, c);
    }
}

/* dE[c0:c0+nc] (nc, F) += Σ_r G_r[c0:c0+nc] (nc, HWo) · col_rᵀ (HWo, F). */
static void conv_backward_weight(const soma_synop *op, float *dE, const float *G, const float *x,
                                 const soma_spikes *sx, int64_t S, int64_t c0, int64_t nc,
                                 int64_t rows) {
    const soma_conv2d *c = (const soma_conv2d *)op;
    const int64_t F = op->fan_in, HWo = op->inner, M = op->in_dim;
    SOMA_ASSERT(x != NULL);
    (void)sx;
    for (int64_t r = 0; r < rows; r++) {
        const float *col = columns(c, x + r * M);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nc, (int)F, (int)HWo, 1.0f,
                    G + (r * S + c0) * HWo, (int)HWo, col, (int)HWo, 1.0f, dE + c0 * F, (int)F);
    }
}

static void conv_free(soma_synop *op) { soma_free(op); }

static const soma_synop_ops conv_ops = {
    .name = "conv2d",
    .forward = conv_forward,
    .backward_input = conv_backward_input,
    .backward_weight = conv_backward_weight,
    .free = conv_free,
};

soma_conv2d *soma_conv2d_create(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride,
                                int64_t pad) {
    if (cin < 1 || h < 1 || w < 1 || k < 1 || stride < 1 || pad < 0) return NULL;
    if (h + 2 * pad < k || w + 2 * pad < k) return NULL;
    soma_conv2d *c = soma_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->cin = cin, c->h = h, c->w = w, c->k = k, c->stride = stride, c->pad = pad;
    c->ho = (h + 2 * pad - k) / stride + 1;
    c->wo = (w + 2 * pad - k) / stride + 1;
    c->base.ops = &conv_ops;
    c->base.in_dim = cin * h * w;
    c->base.fan_in = cin * k * k;
    c->base.inner = c->ho * c->wo;
    c->base.ch_stride_1 = c->base.fan_in;
    c->base.in_major = false;
    return c;
}

int64_t soma_conv2d_work_floats(const soma_conv2d *op) {
    return is_pointwise(op) ? 16 : op->base.fan_in * op->base.inner;
}

void soma_conv2d_bind(soma_conv2d *dst, const soma_conv2d *src, float *work) {
    *dst = *src;
    dst->work = work;
}
