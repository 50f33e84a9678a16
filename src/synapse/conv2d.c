/*
 * synapse/conv2d.c — 2-D convolution as a synaptic operator: im2col + one GEMM per image, the
 * two backward products (for the input: with stride 1 a convolution of the padded output
 * gradient with the flipped kernels, else GEMM + col2im; for the weights: GEMM against the
 * columns), and the naive reference loops they are tested against.
 *
 * Schedule (measured on the 2-core Zen 4, 32C3 on 32×14×14 spikes, T·B = 320 images per
 * chunk): one image at a time keeps its column buffer (288 × 196 floats, 225 KB) in L2 while
 * the GEMM reads it; lowering all T·B images into one tall matrix first (PyTorch's multi-step
 * form) needs 72 MB of columns and runs from memory. A 1×1 convolution with stride 1 and no
 * padding needs no lowering: the image itself is the column matrix.
 *
 * Stride 1 (every conv of the reference nets) lowers through a zero-padded copy of the image:
 * each column row is then an unconditional copy of W_out floats, done in 16-float vectors
 * that may run past the row (the next row overwrites the excess; the buffers carry 16 floats
 * of slack). Rows of 14 floats made the generic loop (edge tests, memcpy calls) cost as much
 * as a third of the GEMM time. Its adjoint accumulates into a padded plane the same way.
 *
 * Event-driven input (sx != NULL: per-image lists of the inputs that spiked): each spike adds
 * the weight column of every tap it feeds to the outputs it reaches, with the channels
 * innermost (weights transposed once per call, outputs accumulated position-major and
 * transposed at the end); the weight gradient scatters the transposed output gradient back the
 * same way. At the 5–20 % densities of trained conv nets this is several times less work than
 * the GEMM and needs no lowering. The input gradient stays dense (every input needs one).
 * 3×3 stride-1 convs take conv2d_sparse.c's event kernels instead (sums kept in registers
 * across a position's or a channel's spikes rather than read and written per tap).
 *
 * Not here: bias (the integrator adds it per channel).
 */
#include "synapse/conv2d.h"

#include <cblas.h>
#include <string.h>

/* 16 floats as one value (one AVX-512, two AVX or four SSE registers, whatever the target),
 * loaded and stored unaligned. (memcpy of a vector became a library call in the target
 * clones.) */
typedef float v16u __attribute__((vector_size(64), aligned(4), may_alias));
static inline __attribute__((always_inline)) v16u ld16(const float *p) { return *(const v16u *)p; }
static inline __attribute__((always_inline)) void st16(float *p, v16u v) { *(v16u *)p = v; }

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
    /* Rows are short (14–32 floats for the nets here): plain loops, not memcpy/memset calls. */
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
                        for (int64_t ox = 0; ox < Wo; ox++) row[ox] = 0.0f;
                        continue;
                    }
                    const float *restrict xr = xc + iy * W; /* row[ox] = xr[ox·s + kx − p] */
                    for (int64_t ox = 0; ox < lo; ox++) row[ox] = 0.0f;
                    if (s == 1) {
                        const float *restrict src = xr + lo + kx - p;
                        for (int64_t ox = 0; ox < hi - lo; ox++) row[lo + ox] = src[ox];
                    } else {
                        for (int64_t ox = lo; ox < hi; ox++) row[ox] = xr[ox * s + kx - p];
                    }
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
                    if (s == 1) {
                        float *restrict d1 = dr + lo + kx - p;
                        for (int64_t ox = 0; ox < hi - lo; ox++) d1[ox] += row[lo + ox];
                    } else {
                        for (int64_t ox = lo; ox < hi; ox++) dr[ox * s + kx - p] += row[ox];
                    }
                }
            }
    }
}

/* ---- stride 1 through a padded plane ------------------------------------------------------- */

#define SLACK 16 /* floats after col and the padded plane: 16-float copies may run past a row */

/* GCC turns the short row loops below back into memcpy/memset calls, which cost more than the
 * copies themselves at 14 floats a row. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define NO_LIBCALLS
#endif

/* The padded plane of the workspace: (C_in, H + 2p, W + 2p) + SLACK. */
static float *plane_of(const soma_conv2d *c) { return c->work + c->base.fan_in * c->base.inner + SLACK; }

/* col (F, HWo) from x (C_in, H, W), stride 1. */
SOMA_HOT NO_LIBCALLS static void lower_s1(const soma_conv2d *c, float *restrict col, const float *restrict x) {
    const int64_t K = c->k, H = c->h, W = c->w, p = c->pad, Hp = H + 2 * p, Wp = W + 2 * p;
    const int64_t Ho = c->ho, Wo = c->wo;
    float *restrict pl = plane_of(c);
    /* pass 1: the zero-padded copy */
    for (int64_t ci = 0; ci < c->cin; ci++) {
        float *restrict pc = pl + ci * Hp * Wp;
        const float *restrict xc = x + ci * H * W;
        for (int64_t i = 0; i < p * Wp; i++) pc[i] = 0.0f, pc[(Hp - p) * Wp + i] = 0.0f;
        for (int64_t iy = 0; iy < H; iy++) {
            float *restrict r = pc + (iy + p) * Wp;
            for (int64_t j = 0; j < p; j++) r[j] = 0.0f, r[p + W + j] = 0.0f;
            for (int64_t j = 0; j < W; j++) r[p + j] = xc[iy * W + j];
        }
    }
    for (int64_t i = 0; i < SLACK; i++) pl[c->cin * Hp * Wp + i] = 0.0f;
    /* pass 2: row oy of tap (ci, ky, kx) is plane row ci, oy + ky from column kx */
    for (int64_t ci = 0; ci < c->cin; ci++)
        for (int64_t ky = 0; ky < K; ky++)
            for (int64_t kx = 0; kx < K; kx++) {
                float *restrict dst = col + ((ci * K + ky) * K + kx) * Ho * Wo;
                const float *restrict src = pl + (ci * Hp + ky) * Wp + kx;
                for (int64_t oy = 0; oy < Ho; oy++)
                    for (int64_t j = 0; j < Wo; j += 16) st16(dst + oy * Wo + j, ld16(src + oy * Wp + j));
            }
}

/* dx = beta·dx + col2im(col), stride 1. */
SOMA_HOT NO_LIBCALLS static void unlower_s1(const soma_conv2d *c, float *restrict dx, const float *restrict col, float beta) {
    const int64_t K = c->k, H = c->h, W = c->w, p = c->pad, Hp = H + 2 * p, Wp = W + 2 * p;
    const int64_t Ho = c->ho, Wo = c->wo;
    float *restrict pl = plane_of(c);
    for (int64_t i = 0; i < c->cin * Hp * Wp; i++) pl[i] = 0.0f;
    for (int64_t ci = 0; ci < c->cin; ci++)
        for (int64_t ky = 0; ky < K; ky++)
            for (int64_t kx = 0; kx < K; kx++) {
                const float *restrict src = col + ((ci * K + ky) * K + kx) * Ho * Wo;
                float *restrict dst = pl + (ci * Hp + ky) * Wp + kx;
                for (int64_t oy = 0; oy < Ho; oy++)
                    for (int64_t j = 0; j < Wo; j++) dst[oy * Wp + j] += src[oy * Wo + j];
            }
    for (int64_t ci = 0; ci < c->cin; ci++)
        for (int64_t iy = 0; iy < H; iy++) {
            const float *restrict r = pl + (ci * Hp + iy + p) * Wp + p;
            float *restrict d = dx + (ci * H + iy) * W;
            if (beta == 0.0f)
                for (int64_t j = 0; j < W; j++) d[j] = r[j];
            else
                for (int64_t j = 0; j < W; j++) d[j] = beta * d[j] + r[j];
        }
}

/* ---- event-driven input -------------------------------------------------------------------- */

/* Visits every (tap, output position pos) an active input pixel idx feeds. Stride 1 (all the
 * reference nets) computes the valid tap range once instead of testing every tap with an
 * integer division. */
#define FOR_TAPS(c, idx, BODY)                                                                  \
    do {                                                                                        \
        const int64_t hw_ = (c)->h * (c)->w, ci_ = (idx) / hw_, rr_ = (idx) - ci_ * hw_;       \
        const int64_t iy_ = rr_ / (c)->w, ix_ = rr_ - iy_ * (c)->w;                             \
        const int64_t K_ = (c)->k, s_ = (c)->stride, p_ = (c)->pad;                             \
        if (s_ == 1) {                                                                          \
            const int64_t y0_ = iy_ + p_ - ((c)->ho - 1), x0_ = ix_ + p_ - ((c)->wo - 1);       \
            const int64_t kyl_ = y0_ > 0 ? y0_ : 0, kyh_ = iy_ + p_ < K_ - 1 ? iy_ + p_ : K_ - 1; \
            const int64_t kxl_ = x0_ > 0 ? x0_ : 0, kxh_ = ix_ + p_ < K_ - 1 ? ix_ + p_ : K_ - 1; \
            for (int64_t ky_ = kyl_; ky_ <= kyh_; ky_++)                                        \
                for (int64_t kx_ = kxl_; kx_ <= kxh_; kx_++) {                                  \
                    const int64_t tap = (ci_ * K_ + ky_) * K_ + kx_;                            \
                    const int64_t pos = (iy_ + p_ - ky_) * (c)->wo + ix_ + p_ - kx_;            \
                    BODY;                                                                       \
                }                                                                               \
            break;                                                                              \
        }                                                                                       \
        for (int64_t ky_ = 0; ky_ < K_; ky_++) {                                                \
            const int64_t ny_ = iy_ + p_ - ky_;                                                 \
            if (ny_ < 0 || ny_ % s_ || ny_ / s_ >= (c)->ho) continue;                           \
            for (int64_t kx_ = 0; kx_ < K_; kx_++) {                                            \
                const int64_t nx_ = ix_ + p_ - kx_;                                             \
                if (nx_ < 0 || nx_ % s_ || nx_ / s_ >= (c)->wo) continue;                       \
                const int64_t tap = (ci_ * K_ + ky_) * K_ + kx_;                                \
                const int64_t pos = (ny_ / s_) * (c)->wo + nx_ / s_;                            \
                BODY;                                                                           \
            }                                                                                   \
        }                                                                                       \
    } while (0)

/* Y_r[c0:c0+nc] = Σ_{spikes, taps} Eᵀ[tap, c0:c0+nc] at the reached positions. */
SOMA_HOT static void forward_events(const soma_conv2d *c, float *Y, const soma_spikes *sx,
                                    const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t F = c->base.fan_in, HWo = c->base.inner;
    float *restrict acc = c->work, *restrict ET = acc + HWo * nc; /* (HWo, nc), (F, nc) */
    for (int64_t j = 0; j < nc; j++)
        for (int64_t k = 0; k < F; k++) ET[k * nc + j] = E[(c0 + j) * F + k];
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < HWo * nc; i++) acc[i] = 0.0f;
        for (int64_t e = sx->off[r]; e < sx->off[r + 1]; e++) {
            const int64_t idx = sx->idx[e];
            FOR_TAPS(c, idx, {
                float *restrict a = acc + pos * nc;
                const float *restrict w = ET + tap * nc;
                for (int64_t j = 0; j < nc; j++) a[j] += w[j];
            });
        }
        float *restrict Yr = Y + (r * S + c0) * HWo;
        for (int64_t j = 0; j < nc; j++)
            for (int64_t q = 0; q < HWo; q++) Yr[j * HWo + q] = acc[q * nc + j];
    }
}

/* dE[c0:c0+nc] += Σ_rows Σ_{spikes, taps} G_rᵀ[position, c0:c0+nc] at the tap. */
SOMA_HOT static void weight_events(const soma_conv2d *c, float *dE, const float *G, const soma_spikes *sx,
                                   int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t F = c->base.fan_in, HWo = c->base.inner;
    float *restrict GT = c->work, *restrict dET = GT + HWo * nc; /* (HWo, nc), (F, nc) */
    for (int64_t i = 0; i < F * nc; i++) dET[i] = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        if (sx->off[r + 1] == sx->off[r]) continue;
        const float *restrict Gr = G + (r * S + c0) * HWo;
        for (int64_t q = 0; q < HWo; q++)
            for (int64_t j = 0; j < nc; j++) GT[q * nc + j] = Gr[j * HWo + q];
        for (int64_t e = sx->off[r]; e < sx->off[r + 1]; e++) {
            const int64_t idx = sx->idx[e];
            FOR_TAPS(c, idx, {
                float *restrict d = dET + tap * nc;
                const float *restrict g = GT + pos * nc;
                for (int64_t j = 0; j < nc; j++) d[j] += g[j];
            });
        }
    }
    for (int64_t j = 0; j < nc; j++)
        for (int64_t k = 0; k < F; k++) dE[(c0 + j) * F + k] += dET[k * nc + j];
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
    if (c->stride == 1) lower_s1(c, c->work, xr);
    else soma_im2col(c->work, xr, c);
    return c->work;
}

/* Y_r[c0:c0+nc] (nc, HWo) = E[c0:c0+nc] (nc, F) · col_r (F, HWo). */
static void conv_forward(const soma_synop *op, float *Y, const float *x, const soma_spikes *sx,
                         const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const soma_conv2d *c = (const soma_conv2d *)op;
    const int64_t F = op->fan_in, HWo = op->inner, M = op->in_dim;
    if (sx && soma_conv3_ok(c)) {
        soma_conv3_forward_events(c, Y, sx, E, S, c0, nc, rows);
        return;
    }
    if (sx) {
        forward_events(c, Y, sx, E, S, c0, nc, rows);
        return;
    }
    SOMA_ASSERT(x != NULL);
    for (int64_t r = 0; r < rows; r++) {
        const float *col = columns(c, x + r * M);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)nc, (int)HWo, (int)F, 1.0f,
                    E + c0 * F, (int)F, col, (int)HWo, 0.0f, Y + (r * S + c0) * HWo, (int)HWo);
    }
}

/* Stride 1 as a convolution of its own: dx = Ẽ · lower(G), where lower pads G by q = K − 1 − p
 * (a "full" correlation) and Ẽ (C_in, nc·K²) holds the kernels flipped and with the channel
 * roles swapped. A gather (lowering, 16-float copies) replaces the scatter-add of col2im. */
static bool transposed_ok(const soma_conv2d *c) {
    return c->stride == 1 && !is_pointwise(c) && c->pad <= c->k - 1;
}

/* The transposed geometry over nc channels of G, bound to c's workspace. */
static soma_conv2d transposed(const soma_conv2d *c, int64_t nc) {
    soma_conv2d t = *c;
    t.cin = nc, t.h = c->ho, t.w = c->wo, t.pad = c->k - 1 - c->pad, t.ho = c->h, t.wo = c->w;
    t.base.in_dim = nc * c->ho * c->wo;
    t.base.fan_in = nc * c->k * c->k;
    t.base.inner = c->h * c->w;
    return t;
}

static int64_t transposed_floats(const soma_conv2d *c, int64_t nc) {
    const int64_t q = c->k - 1 - c->pad, K2 = c->k * c->k;
    return nc * K2 * c->h * c->w + SLACK + nc * (c->ho + 2 * q) * (c->wo + 2 * q) + SLACK + c->cin * nc * K2;
}

static void backward_input_transposed(const soma_conv2d *c, float *dx, const float *G, const float *E,
                                      int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const int64_t K = c->k, F = c->base.fan_in, M = c->base.in_dim, HWo = c->base.inner, HW = c->h * c->w;
    soma_conv2d t = transposed(c, nc);
    const int64_t F2 = t.base.fan_in, q = t.pad;
    float *W2 = c->work + F2 * HW + SLACK + nc * (c->ho + 2 * q) * (c->wo + 2 * q) + SLACK;
    for (int64_t ci = 0; ci < c->cin; ci++)
        for (int64_t co = 0; co < nc; co++)
            for (int64_t ky = 0; ky < K; ky++)
                for (int64_t kx = 0; kx < K; kx++)
                    W2[ci * F2 + (co * K + ky) * K + kx] = E[(c0 + co) * F + (ci * K + K - 1 - ky) * K + K - 1 - kx];
    for (int64_t r = 0; r < rows; r++) {
        lower_s1(&t, c->work, G + (r * S + c0) * HWo);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)c->cin, (int)HW, (int)F2, 1.0f, W2, (int)F2,
                    c->work, (int)HW, beta, dx + r * M, (int)HW);
    }
}

/* dx_r = beta·dx_r + col2im(E[c0:c0+nc]ᵀ (F, nc) · G_r[c0:c0+nc] (nc, HWo)). */
static void conv_backward_input(const soma_synop *op, float *dx, const float *G, const float *E,
                                int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const soma_conv2d *c = (const soma_conv2d *)op;
    const int64_t F = op->fan_in, HWo = op->inner, M = op->in_dim;
    if (transposed_ok(c) && c->work) {
        backward_input_transposed(c, dx, G, E, S, c0, nc, rows, beta);
        return;
    }
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
        if (c->stride == 1) {
            unlower_s1(c, dxr, c->work, beta);
            continue;
        }
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
    if (sx && soma_conv3_ok(c)) {
        soma_conv3_weight_events(c, dE, G, sx, S, c0, nc, rows);
        return;
    }
    if (sx) {
        weight_events(c, dE, G, sx, S, c0, nc, rows);
        return;
    }
    SOMA_ASSERT(x != NULL);
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

int64_t soma_conv2d_work_floats(const soma_conv2d *op, int64_t S) {
    const int64_t plane = op->cin * (op->h + 2 * op->pad) * (op->w + 2 * op->pad);
    const int64_t dense = is_pointwise(op) ? SLACK
                                           : op->base.fan_in * op->base.inner + SLACK + (op->stride == 1 ? plane + SLACK : 0);
    const int64_t events = (op->base.inner + op->base.fan_in) * S; /* accumulator + transposed weights */
    const int64_t tr = transposed_ok(op) ? transposed_floats(op, S) : 0; /* the input gradient */
    int64_t m = dense > events ? dense : events;
    if (soma_conv3_ok(op) && soma_conv3_event_floats(op, S) > m) m = soma_conv3_event_floats(op, S);
    return m > tr ? m : tr;
}

void soma_conv2d_bind(soma_conv2d *dst, const soma_conv2d *src, float *work) {
    *dst = *src;
    dst->work = work;
}
