/*
 * synapse/conv3_pool2.c — the event-driven 3×3 stride-1 conv fused with its bias and the 2×2
 * stride-2 max pooling behind it (the reference conv nets' conv → pool → LIF), forward and
 * weight/bias gradient.
 *
 * The event kernels produce the conv output position-major (channels innermost); the separate
 * stages transposed all of it to channel-major, added the bias over the image, pooled it
 * (reading it again) and, backward, expanded the pooled gradient to a dense one (pool
 * backward), summed it for the bias and transposed it back to position-major for the weight
 * gradient. Here the bias and the max are taken on the position-major plane with channels in
 * the vector lanes, only the pooled quarter is transposed, and backward the position-major
 * gradient plane is built straight from the pooled gradient and the window indices.
 *
 * Bit for bit the unfused path: the same additions (conv sums, + bias), the same comparisons
 * (window order a b / c d: b > a, d > c, then bottom > top, first maximum on ties, as
 * soma_pool_forward), the same window-index bytes, and the bias gradient summed over the
 * output positions in the unfused code's 16 lanes (position s into lane s mod 16, lanes then
 * added in order), zeros included.
 *
 * The plane pooling, the gradient plane's fill and the lists of a pooled gradient for the
 * sparse input gradient are also the pieces of the stacked modes' path (layer/conv_stack.c).
 */
#include "synapse/conv3_internal.h"
#include "kernels/cpu.h"

/* The workspace after the event kernels' own regions (soma_conv3_event_floats). */
typedef struct pool2_ws {
    float *W9, *P;       /* (dW9 | W9) and the plane */
    int32_t *n, *ch;     /* forward lists */
    float *yq;           /* (HWq, Ncp): pooled values / gradients, position-major */
    int32_t *aq;         /* (HWq, Ncp): window indices */
    float *lanes, *bias; /* (16, Ncp), (Ncp) */
} pool2_ws;

static pool2_ws ws_of(const soma_conv2d *op, int64_t Ncp) {
    const int64_t HW = op->h * op->w, HWq = (op->ho / 2) * (op->wo / 2);
    pool2_ws w;
    w.W9 = op->work;
    w.P = w.W9 + op->cin * 9 * Ncp;
    w.n = (int32_t *)(w.P + (op->h + 2) * (op->w + 2) * Ncp);
    w.ch = w.n + HW;
    w.yq = (float *)(w.ch + HW * op->cin);
    w.aq = (int32_t *)(w.yq + HWq * Ncp);
    w.lanes = (float *)(w.aq + HWq * Ncp);
    w.bias = w.lanes + 16 * Ncp;
    return w;
}

bool soma_conv3_pool2_ok(const soma_conv2d *op) { return soma_conv3_ok(op) && op->ho >= 2 && op->wo >= 2; }

/* Pooled values and window indices, position-major, of the plane P (conv output at offset o). */
static void pool_plane_portable(float *restrict yq, int32_t *restrict aq, const float *restrict P,
                                const float *restrict bias, int64_t Wp, int64_t o, int64_t Hq, int64_t Wq,
                                int64_t Ncp) {
    for (int64_t py = 0; py < Hq; py++)
        for (int64_t px = 0; px < Wq; px++) {
            const float *restrict t0 = P + ((2 * py + o) * Wp + 2 * px + o) * Ncp, *restrict t1 = t0 + Wp * Ncp;
            float *restrict y = yq + (py * Wq + px) * Ncp;
            int32_t *restrict a = aq + (py * Wq + px) * Ncp;
            for (int64_t j = 0; j < Ncp; j++) {
                const float va = t0[j] + bias[j], vb = t0[Ncp + j] + bias[j];
                const float vc = t1[j] + bias[j], vd = t1[Ncp + j] + bias[j];
                const int up = vb > va, dn = vd > vc;
                const float m0 = up ? vb : va, m1 = dn ? vd : vc;
                const int low = m1 > m0;
                y[j] = low ? m1 : m0;
                a[j] = low ? 2 + dn : up;
            }
        }
}

/* The gradient plane (output at offset o) from the pooled gradient gq and window indices aq
 * (position-major): each window's maximum gets the window's gradient, its other pixels zero.
 * Pixels in no window are never written. */
static void fill_plane_portable(float *restrict P, const float *restrict gq, const int32_t *restrict aq, int64_t Wp,
                                int64_t o, int64_t Hq, int64_t Wq, int64_t Ncp) {
    for (int64_t py = 0; py < Hq; py++)
        for (int64_t px = 0; px < Wq; px++) {
            float *restrict t0 = P + ((2 * py + o) * Wp + 2 * px + o) * Ncp, *restrict t1 = t0 + Wp * Ncp;
            const float *restrict gv = gq + (py * Wq + px) * Ncp;
            const int32_t *restrict av = aq + (py * Wq + px) * Ncp;
            for (int64_t j = 0; j < Ncp; j++) {
                t0[j] = av[j] == 0 ? gv[j] : 0.0f;
                t0[Ncp + j] = av[j] == 1 ? gv[j] : 0.0f;
                t1[j] = av[j] == 2 ? gv[j] : 0.0f;
                t1[Ncp + j] = av[j] == 3 ? gv[j] : 0.0f;
            }
        }
}

/* GCC 12 turns the selects above into a compare and branch per element (vector-extension
 * comparisons it scalarised lane by lane): with AVX-512 the same comparisons as mask
 * instructions, 16 channels at a time. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512 1
#define AVX512 __attribute__((target("avx512f")))

AVX512 static void pool_plane_avx512(float *restrict yq, int32_t *restrict aq, const float *restrict P,
                                     const float *restrict bias, int64_t Wp, int64_t o, int64_t Hq, int64_t Wq,
                                     int64_t Ncp) {
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2), three = _mm512_set1_epi32(3);
    for (int64_t py = 0; py < Hq; py++)
        for (int64_t px = 0; px < Wq; px++) {
            const float *t0 = P + ((2 * py + o) * Wp + 2 * px + o) * Ncp, *t1 = t0 + Wp * Ncp;
            const int64_t q = (py * Wq + px) * Ncp;
            for (int64_t j = 0; j < Ncp; j += 16) {
                const __m512 b = _mm512_loadu_ps(bias + j);
                const __m512 va = _mm512_add_ps(_mm512_loadu_ps(t0 + j), b), vb = _mm512_add_ps(_mm512_loadu_ps(t0 + Ncp + j), b);
                const __m512 vc = _mm512_add_ps(_mm512_loadu_ps(t1 + j), b), vd = _mm512_add_ps(_mm512_loadu_ps(t1 + Ncp + j), b);
                const __mmask16 up = _mm512_cmp_ps_mask(vb, va, _CMP_GT_OQ), dn = _mm512_cmp_ps_mask(vd, vc, _CMP_GT_OQ);
                const __m512 m0 = _mm512_mask_blend_ps(up, va, vb), m1 = _mm512_mask_blend_ps(dn, vc, vd);
                const __mmask16 low = _mm512_cmp_ps_mask(m1, m0, _CMP_GT_OQ);
                _mm512_storeu_ps(yq + q + j, _mm512_mask_blend_ps(low, m0, m1));
                const __m512i top = _mm512_maskz_mov_epi32(up, one), bot = _mm512_mask_blend_epi32(dn, two, three);
                _mm512_storeu_si512((void *)(aq + q + j), _mm512_mask_blend_epi32(low, top, bot));
            }
        }
}

AVX512 static void fill_plane_avx512(float *restrict P, const float *restrict gq, const int32_t *restrict aq, int64_t Wp,
                                     int64_t o, int64_t Hq, int64_t Wq, int64_t Ncp) {
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2), three = _mm512_set1_epi32(3);
    for (int64_t py = 0; py < Hq; py++)
        for (int64_t px = 0; px < Wq; px++) {
            float *t0 = P + ((2 * py + o) * Wp + 2 * px + o) * Ncp, *t1 = t0 + Wp * Ncp;
            const int64_t q = (py * Wq + px) * Ncp;
            for (int64_t j = 0; j < Ncp; j += 16) {
                const __m512 g = _mm512_loadu_ps(gq + q + j);
                const __m512i a = _mm512_loadu_si512((const void *)(aq + q + j));
                _mm512_storeu_ps(t0 + j, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, _mm512_setzero_si512()), g));
                _mm512_storeu_ps(t0 + Ncp + j, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, one), g));
                _mm512_storeu_ps(t1 + j, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, two), g));
                _mm512_storeu_ps(t1 + Ncp + j, _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(a, three), g));
            }
        }
}
#endif

void soma_conv3_pool2_plane(float *yq, int32_t *aq, const float *P, const float *bias, int64_t Wp, int64_t o,
                            int64_t Hq, int64_t Wq, int64_t Ncp) {
#ifdef HAVE_AVX512
    if (soma_cpu_avx512() && Ncp % 16 == 0) {
        pool_plane_avx512(yq, aq, P, bias, Wp, o, Hq, Wq, Ncp);
        return;
    }
#endif
    pool_plane_portable(yq, aq, P, bias, Wp, o, Hq, Wq, Ncp);
}

void soma_conv3_pool2_fill(float *P, const float *gq, const int32_t *aq, int64_t Wp, int64_t o, int64_t Hq, int64_t Wq,
                           int64_t Ncp) {
#ifdef HAVE_AVX512
    if (soma_cpu_avx512()) {
        fill_plane_avx512(P, gq, aq, Wp, o, Hq, Wq, Ncp);
        return;
    }
#endif
    fill_plane_portable(P, gq, aq, Wp, o, Hq, Wq, Ncp);
}

void soma_conv3_pool2_forward(const soma_conv2d *op, float *Yp, uint8_t *arg, const soma_spikes *sx,
                              const float *E, const float *b, int64_t S, int64_t rows) {
    const int64_t Ncp = soma_round32(S), H = op->h, W = op->w, Wp = W + 2, o = 2 - op->pad;
    const int64_t Hq = op->ho / 2, Wq = op->wo / 2, HWq = Hq * Wq;
    pool2_ws w = ws_of(op, Ncp);
    soma_conv3_weights(w.W9, op, E, 0, S, Ncp);
    for (int64_t j = 0; j < Ncp; j++) w.bias[j] = j < S ? b[j] : 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        soma_conv3_bucket(w.n, w.ch, op, sx, r);
        soma_conv3_scatter(w.P, H, W, w.n, w.ch, NULL, op->cin, w.W9, Ncp);
        soma_conv3_pool2_plane(w.yq, w.aq, w.P, w.bias, Wp, o, Hq, Wq, Ncp);
        float *restrict yr = Yp + r * S * HWq;
        uint8_t *restrict ar = arg + r * S * HWq;
        for (int64_t c = 0; c < S; c++)
            for (int64_t q = 0; q < HWq; q++) yr[c * HWq + q] = w.yq[q * Ncp + c], ar[c * HWq + q] = (uint8_t)w.aq[q * Ncp + c];
    }
}

/* gq, aq (HWq, Ncp): row r's pooled gradient and window indices, position-major; channels
 * past S zero (their plane entries then stay zero). */
static void gather_row(float *restrict gq, int32_t *restrict aq, const float *restrict g, const uint8_t *restrict a,
                       int64_t S, int64_t HWq, int64_t Ncp) {
    for (int64_t q = 0; q < HWq; q++)
        for (int64_t c = 0; c < Ncp; c++) {
            gq[q * Ncp + c] = c < S ? g[c * HWq + q] : 0.0f;
            aq[q * Ncp + c] = c < S ? a[c * HWq + q] : 0;
        }
}

/* db[c] += Σ_s G[c, s] as the unfused bias gradient sums it (lane s mod 16, then lanes in order). */
SOMA_HOT static void bias_row(float *restrict db, float *restrict L, const float *restrict P, int64_t Wp, int64_t o,
                              int64_t Ho, int64_t Wo, int64_t S, int64_t Ncp) {
    for (int64_t i = 0; i < 16 * Ncp; i++) L[i] = 0.0f;
    int64_t s = 0;
    for (int64_t oy = 0; oy < Ho; oy++)
        for (int64_t ox = 0; ox < Wo; ox++, s++) {
            float *restrict l = L + (s & 15) * Ncp;
            const float *restrict p = P + ((oy + o) * Wp + ox + o) * Ncp;
            for (int64_t j = 0; j < Ncp; j++) l[j] += p[j];
        }
    for (int64_t c = 0; c < S; c++) {
        float acc = 0;
        for (int k = 0; k < 16; k++) acc += L[k * Ncp + c];
        db[c] += acc;
    }
}

void soma_conv3_pool2_backward(const soma_conv2d *op, float *dE, float *db, const float *gp, const uint8_t *arg,
                               const soma_spikes *sx, int64_t S, int64_t rows) {
    const int64_t Ncp = soma_round32(S), H = op->h, W = op->w, Wp = W + 2, o = 2 - op->pad;
    const int64_t Hq = op->ho / 2, Wq = op->wo / 2, HWq = Hq * Wq;
    pool2_ws w = ws_of(op, Ncp);
    for (int64_t i = 0; i < op->cin * 9 * Ncp; i++) w.W9[i] = 0.0f;
    for (int64_t i = 0; i < (H + 2) * Wp * Ncp; i++) w.P[i] = 0.0f; /* border, and pixels in no window */
    for (int64_t r = 0; r < rows; r++) {
        gather_row(w.yq, w.aq, gp + r * S * HWq, arg + r * S * HWq, S, HWq, Ncp);
        soma_conv3_pool2_fill(w.P, w.yq, w.aq, Wp, o, Hq, Wq, Ncp);
        bias_row(db, w.lanes, w.P, Wp, o, op->ho, op->wo, S, Ncp);
        if (sx->off[r + 1] > sx->off[r]) soma_conv3_weight_row(op, w.W9, w.P, sx, r, Ncp);
    }
    soma_conv3_weights_add(dE, op, w.W9, 0, S, Ncp);
}

/* Each window's gradient goes to its maximum's conv output position q = (2·py + a / 2)·W_out
 * + 2·px + a % 2; a position lies in one window at most, so walking its window's channels in
 * order keeps each list ascending. */
void soma_conv3_pool2_lists(int32_t *restrict n, int32_t *restrict ch, float *restrict v, int64_t cap,
                            const float *restrict gq, const int32_t *restrict aq, int64_t Ncp, int64_t s0,
                            int64_t ns, int64_t Hq, int64_t Wq, int64_t Ho, int64_t Wo) {
    for (int64_t q = 0; q < Ho * Wo; q++) n[q] = 0;
    for (int64_t py = 0; py < Hq; py++)
        for (int64_t px = 0; px < Wq; px++) {
            const int64_t w = py * Wq + px, q0 = 2 * py * Wo + 2 * px;
            const float *restrict g = gq + w * Ncp + s0;
            const int32_t *restrict a = aq + w * Ncp + s0;
            for (int64_t s = 0; s < ns; s++) {
                const int64_t q = q0 + (a[s] >> 1) * Wo + (a[s] & 1), j = q * cap + n[q]++;
                ch[j] = (int32_t)s, v[j] = g[s];
            }
        }
}
