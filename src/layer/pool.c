/*
 * layer/pool.c — max and average pooling: the kernels (used by the conv unit to pool the
 * current before the neuron, as the reference conv net does) and the standalone pooling
 * layer (pooling a layer's output, e.g. PLIF-Net's max pooling of spikes; global average
 * pooling with a window the size of the image).
 *
 * Windows have no padding and the output size is floor((H − k)/s) + 1, as PyTorch's
 * defaults. Max pooling keeps the window index of each maximum (a byte per output) for the
 * backward pass; ties go to the first pixel in the window, as PyTorch's CPU kernel does.
 */
#include "layer/conv.h"
#include "synapse/synop.h" /* SOMA_HOT */

#include <stdio.h>
#include <string.h>

int soma_pool_geom_init(soma_pool_geom *g, soma_pool_kind kind, int64_t c, int64_t h, int64_t w,
                        int64_t kh, int64_t kw, int64_t sh, int64_t sw, soma_error *err) {
    memset(g, 0, sizeof *g);
    if (c < 1 || h < 1 || w < 1 || kh < 1 || kw < 1 || sh < 1 || sw < 1)
        return soma_fail(err, SOMA_E_ARG, "pooling: sizes must be positive");
    if (kh > h || kw > w)
        return soma_fail(err, SOMA_E_ARG, "pooling window %lldx%lld does not fit the %lldx%lld image",
                         (long long)kh, (long long)kw, (long long)h, (long long)w);
    if (kind == SOMA_POOL_MAX && kh * kw > 256)
        return soma_fail(err, SOMA_E_ARG, "max pooling window %lldx%lld has more than 256 pixels",
                         (long long)kh, (long long)kw);
    g->kind = kind, g->c = c, g->h = h, g->w = w, g->kh = kh, g->kw = kw, g->sh = sh, g->sw = sw;
    g->ho = (h - kh) / sh + 1;
    g->wo = (w - kw) / sw + 1;
    return SOMA_OK;
}

/* 2×2 windows, stride 2 (the reference nets' pooling): fixed, branch-free loops that the
 * target clones vectorise (the generic loop ran scalar with a branch per comparison). Rows of
 * the nets' images are 7–14 outputs long, too short for 16-float vectors, so for even sizes
 * the horizontal half (a vs b, c vs d) runs over whole planes at once and only the vertical
 * half goes row pair by row pair; the comparisons are the same either way. */
#define POOL2_CHUNK 2048 /* horizontal results per pass (stack) */

SOMA_HOT static void pool2_forward(const soma_pool_geom *g, float *restrict y, uint8_t *restrict arg,
                          const float *restrict x, int64_t n) {
    const int64_t W = g->w, HW = g->h * g->w, Ho = g->ho, Wo = g->wo;
    if (g->kind == SOMA_POOL_MAX && g->h == 2 * Ho && W == 2 * Wo && 2 * Wo <= POOL2_CHUNK) {
        float hm[POOL2_CHUNK];
        uint8_t hb[POOL2_CHUNK];
        const int64_t pairs = POOL2_CHUNK / (2 * Wo), total = n * Ho; /* row pairs over all planes */
        for (int64_t r0 = 0; r0 < total; r0 += pairs) {
            const int64_t np = total - r0 < pairs ? total - r0 : pairs, m = np * 2 * Wo;
            const float *restrict xs = x + r0 * 2 * W; /* planes are whole row pairs: contiguous */
            for (int64_t i = 0; i < m; i++) {
                const float a = xs[2 * i], b = xs[2 * i + 1];
                hb[i] = b > a;
                hm[i] = b > a ? b : a;
            }
            float *restrict ys = y + r0 * Wo;
            uint8_t *restrict as = arg + r0 * Wo;
            /* selects through bit masks: as ?: on floats, this became a branch per output */
            for (int64_t r = 0; r < np; r++)
                for (int64_t ox = 0; ox < Wo; ox++) {
                    const int64_t t = 2 * r * Wo + ox, b = t + Wo;
                    const uint32_t mask = 0u - (uint32_t)(hm[b] > hm[t]);
                    uint32_t u0, u1;
                    memcpy(&u0, &hm[t], 4), memcpy(&u1, &hm[b], 4);
                    const uint32_t u = (u0 & ~mask) | (u1 & mask);
                    memcpy(&ys[r * Wo + ox], &u, 4);
                    as[r * Wo + ox] = (uint8_t)((hb[t] & ~mask) | ((2u + hb[b]) & mask));
                }
        }
        return;
    }
    for (int64_t p = 0; p < n; p++)
        for (int64_t oy = 0; oy < Ho; oy++) {
            const float *restrict r0 = x + p * HW + 2 * oy * W, *restrict r1 = r0 + W;
            float *restrict yr = y + (p * Ho + oy) * Wo;
            if (g->kind == SOMA_POOL_AVG) {
                for (int64_t ox = 0; ox < Wo; ox++)
                    yr[ox] = 0.25f * (r0[2 * ox] + r0[2 * ox + 1] + r1[2 * ox] + r1[2 * ox + 1]);
                continue;
            }
            uint8_t *restrict ar = arg + (p * Ho + oy) * Wo;
            for (int64_t ox = 0; ox < Wo; ox++) {
                const float a = r0[2 * ox], b = r0[2 * ox + 1], c = r1[2 * ox], d = r1[2 * ox + 1];
                /* the first maximum in window order (a, b, c, d), as the generic loop */
                const int up = b > a, dn = d > c;
                const float m0 = up ? b : a, m1 = dn ? d : c;
                const int low = m1 > m0;
                yr[ox] = low ? m1 : m0;
                ar[ox] = (uint8_t)(low ? 2 + dn : up);
            }
        }
}

SOMA_HOT static void pool2_backward(const soma_pool_geom *g, float *restrict dx, const uint8_t *restrict arg,
                           const float *restrict dy, int64_t n) {
    const int64_t W = g->w, H = g->h, Ho = g->ho, Wo = g->wo;
    for (int64_t p = 0; p < n; p++) {
        float *restrict dp = dx + p * H * W;
        for (int64_t oy = 0; oy < Ho; oy++) {
            float *restrict r0 = dp + 2 * oy * W; /* this row pair: r0[0, W) and r0[W, 2W) */
            const float *restrict gr = dy + (p * Ho + oy) * Wo;
            if (g->kind == SOMA_POOL_AVG) {
                for (int64_t ox = 0; ox < Wo; ox++) {
                    const float d = 0.25f * gr[ox];
                    r0[2 * ox] = r0[2 * ox + 1] = r0[W + 2 * ox] = r0[W + 2 * ox + 1] = d;
                }
            } else { /* zero the two rows (vectorised), then one store per window */
                const uint8_t *restrict ar = arg + (p * Ho + oy) * Wo;
                for (int64_t j = 0; j < 2 * W; j++) r0[j] = 0.0f;
                for (int64_t ox = 0; ox < Wo; ox++) {
                    const int i = ar[ox];
                    r0[(i >> 1) * W + 2 * ox + (i & 1)] = gr[ox];
                }
            }
            if (W > 2 * Wo) /* odd width: the last column is in no window */
                r0[W - 1] = r0[2 * W - 1] = 0.0f;
        }
        for (int64_t i = 2 * Ho * W; i < H * W; i++) dp[i] = 0.0f; /* odd height */
    }
}

static bool is_pool2(const soma_pool_geom *g) { return g->kh == 2 && g->kw == 2 && g->sh == 2 && g->sw == 2; }

void soma_pool_forward(const soma_pool_geom *g, float *restrict y, uint8_t *restrict arg,
                       const float *restrict x, int64_t rows) {
    const int64_t HW = g->h * g->w, HWo = g->ho * g->wo, n = rows * g->c;
    if (is_pool2(g)) {
        pool2_forward(g, y, arg, x, n);
        return;
    }
    const float inv = 1.0f / (float)(g->kh * g->kw);
    for (int64_t p = 0; p < n; p++) { /* p = one (row, channel) plane */
        const float *restrict xp = x + p * HW;
        float *restrict yp = y + p * HWo;
        uint8_t *restrict ap = arg ? arg + p * HWo : NULL;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                const float *win = xp + oy * g->sh * g->w + ox * g->sw;
                if (g->kind == SOMA_POOL_MAX) {
                    float best = win[0];
                    int bi = 0;
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++)
                            if (win[i * g->w + j] > best) best = win[i * g->w + j], bi = (int)(i * g->kw + j);
                    yp[oy * g->wo + ox] = best;
                    ap[oy * g->wo + ox] = (uint8_t)bi;
                } else {
                    float acc = 0.0f;
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) acc += win[i * g->w + j];
                    yp[oy * g->wo + ox] = acc * inv;
                }
            }
    }
}

void soma_pool_backward(const soma_pool_geom *g, float *restrict dx, const uint8_t *restrict arg,
                        const float *restrict dy, int64_t rows) {
    const int64_t HW = g->h * g->w, HWo = g->ho * g->wo, n = rows * g->c;
    const float inv = 1.0f / (float)(g->kh * g->kw);
    if (is_pool2(g)) {
        pool2_backward(g, dx, arg, dy, n);
        return;
    }
    memset(dx, 0, (size_t)(n * HW) * sizeof *dx);
    for (int64_t p = 0; p < n; p++) {
        float *restrict dp = dx + p * HW;
        const float *restrict gp = dy + p * HWo;
        const uint8_t *restrict ap = arg ? arg + p * HWo : NULL;
        for (int64_t oy = 0; oy < g->ho; oy++)
            for (int64_t ox = 0; ox < g->wo; ox++) {
                float *win = dp + oy * g->sh * g->w + ox * g->sw;
                const float d = gp[oy * g->wo + ox];
                if (g->kind == SOMA_POOL_MAX) {
                    const int bi = ap[oy * g->wo + ox];
                    win[(bi / g->kw) * g->w + bi % g->kw] += d;
                } else {
                    for (int64_t i = 0; i < g->kh; i++)
                        for (int64_t j = 0; j < g->kw; j++) win[i * g->w + j] += d * inv;
                }
            }
    }
}

void soma_pool_backward_lists(const soma_pool_geom *g, int32_t *restrict n, int32_t *restrict ch,
                              float *restrict v, int64_t S, const uint8_t *restrict arg,
                              const float *restrict dy) {
    const int64_t W = g->w, Ho = g->ho, Wo = g->wo;
    int32_t at[256]; /* window index → offset in the image (no division per window) */
    for (int64_t i = 0; i < g->kh * g->kw; i++) at[i] = (int32_t)((i / g->kw) * W + i % g->kw);
    for (int64_t i = 0; i < g->h * W; i++) n[i] = 0;
    for (int64_t c = 0; c < g->c; c++) /* channel-outer: each position's list comes out ascending */
        for (int64_t oy = 0; oy < Ho; oy++) {
            const uint8_t *restrict ar = arg + (c * Ho + oy) * Wo;
            const float *restrict gr = dy + (c * Ho + oy) * Wo;
            const int64_t q0 = oy * g->sh * W;
            for (int64_t ox = 0; ox < Wo; ox++) {
                const int64_t q = q0 + ox * g->sw + at[ar[ox]];
                const int64_t j = q * S + n[q]++;
                ch[j] = (int32_t)c, v[j] = gr[ox];
            }
        }
}

/* ---- the standalone pooling layer --------------------------------------------------------- */

typedef struct pool_layer {
    soma_layer base; /* must be first */
    soma_pool_geom g;
} pool_layer;

/* Tape: argmax bytes (rows, out_dim). */
static void pl_forward(const soma_layer *l, const soma_lctx *c, float *y, const float *x) {
    const pool_layer *p = (const pool_layer *)l;
    const int64_t rows = (int64_t)c->T * c->B;
    soma_pool_forward(&p->g, y, p->g.kind == SOMA_POOL_MAX ? (uint8_t *)c->tape : NULL, x, rows);
    if (c->spikes && l->spiking_out) {
        double n = 0;
        for (int64_t i = 0; i < rows * l->out_dim; i++) n += y[i];
        *c->spikes += n;
    }
}

static void pl_backward(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                        const float *x, const float *y) {
    const pool_layer *p = (const pool_layer *)l;
    if (dx)
        soma_pool_backward(&p->g, dx, p->g.kind == SOMA_POOL_MAX ? (const uint8_t *)c->tape : NULL,
                           dy, (int64_t)c->T * c->B);
}

static void pl_free(soma_layer *l) { soma_free(l); }

static const soma_layer_ops pool_ops = {
    .name = "pool",
    .forward = pl_forward,
    .backward = pl_backward,
    .free = pl_free,
};

int soma_pool_layer_create(soma_layer **out, soma_pool_kind kind, int64_t c, int64_t h, int64_t w,
                           int64_t kh, int64_t kw, bool in_binary, soma_error *err) {
    *out = NULL;
    pool_layer *p = soma_calloc(1, sizeof *p);
    if (!p) return soma_fail(err, SOMA_E_NOMEM, "out of memory creating a pooling layer");
    int rc = soma_pool_geom_init(&p->g, kind, c, h, w, kh, kw, kh, kw, err);
    if (rc != SOMA_OK) {
        soma_free(p);
        return rc;
    }
    soma_layer *l = &p->base;
    l->ops = &pool_ops;
    l->in_dim = c * h * w;
    l->out_dim = c * p->g.ho * p->g.wo;
    l->out_chw[0] = c, l->out_chw[1] = p->g.ho, l->out_chw[2] = p->g.wo;
    l->spiking_out = in_binary && kind == SOMA_POOL_MAX; /* the max of spikes is a spike */
    l->tape_per_row = kind == SOMA_POOL_MAX ? (l->out_dim + 3) / 4 : 0;
    snprintf(l->desc, sizeof l->desc, "%s pool %lldx%lld %lldx%lldx%lld->%lldx%lldx%lld",
             kind == SOMA_POOL_MAX ? "max" : "avg", (long long)kh, (long long)kw, (long long)c,
             (long long)h, (long long)w, (long long)c, (long long)p->g.ho, (long long)p->g.wo);
    *out = l;
    return SOMA_OK;
}
