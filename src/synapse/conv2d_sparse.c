/*
 * synapse/conv2d_sparse.c — convolution products with a sparse operand that do only the useful
 * multiply-adds:
 *
 *   - the input gradient from a sparse output gradient, as max pooling of the conv output
 *     leaves it (one nonzero per window and channel: a quarter of the entries under 2×2
 *     pooling), given position-major (soma_conv2d_gsparse: at each output position the
 *     channels that carry a gradient there, ascending). The dense path (transposed conv, one
 *     GEMM per image) does four times the work there;
 *   - for 3×3 stride-1 convs (every conv of the reference nets), the event-driven forward and
 *     weight gradient of spike input, replacing the per-tap scatter of conv2d.c.
 *
 * Measured on the reference conv net's second conv (32C3 on 32×14×14, 2×2 pooling, ~6 %
 * input spikes, Zen 4): input gradient 48 → 24 µs per image against the GEMM path; the
 * event-driven forward and weight gradient, transpositions included, about twice as fast as
 * the per-tap scatter.
 *
 * Channels are innermost everywhere (weights rearranged once per call, results produced
 * position-major and transposed to the channel-major image at the end), in 16-float vectors.
 * Summation orders are fixed (deterministic) and differ from the GEMM's only by float rounding.
 */
#include "synapse/conv3_internal.h"
#include "kernels/vec16.h"

/* ---- input gradient from max pooling's sparse gradient ----------------------------------- */

/* Input channels padded to whole pairs of 16-float registers. */
static int64_t padded_cin(const soma_conv2d *op) { return (op->cin + 31) / 32 * 32; }

/* Floats of the position-major result: the image, or (K = 3) the zero-padded plane. */
static int64_t plane_floats(const soma_conv2d *op) {
    const int64_t a = op->h * op->w, b = (op->ho + op->k - 1) * (op->wo + op->k - 1);
    return (a > b ? a : b) * padded_cin(op);
}

bool soma_conv2d_sparse_ok(const soma_conv2d *op) { return op->stride == 1; }

/* Workspace: Et (S·K², Cp) | result (plane_floats) | n (HWo int32) | ch (HWo·S int32) | v (HWo·S). */
int64_t soma_conv2d_sparse_floats(const soma_conv2d *op, int64_t S) {
    const int64_t Cp = padded_cin(op), K2 = op->k * op->k, HWo = op->base.inner;
    return S * K2 * Cp + plane_floats(op) + HWo + 2 * HWo * S;
}

/* 3×3 kernels scatter each position's list through all nine taps at once (scatter3_body), which
 * reads a list entry's 9·Cp weights: from L1 while E's S channels fit there (LIF's 32 channels:
 * 36 KB), from L2 beyond (a bilinear or shunting conv's 64–128 stacked channels, layer/
 * conv_stack.c). The tap-major kernel (input_sparse) reads one tap's S rows at a time, which
 * stay in L1: on the reference conv net, 5 % (bilinear, 64 channels) and 2 % (shunting, 128)
 * less training time. */
static bool scatter3_ok(const soma_conv2d *op, int64_t S) {
    return op->k == 3 && S * 9 * padded_cin(op) * (int64_t)sizeof(float) <= 40 * 1024;
}

soma_conv2d_gsparse soma_conv2d_sparse_begin(const soma_conv2d *op, float *work, const float *E,
                                             int64_t S) {
    const int64_t Cp = padded_cin(op), K2 = op->k * op->k, F = op->base.fan_in, C = op->cin;
    const int64_t HWo = op->base.inner;
    for (int64_t co = 0; co < S; co++)
        for (int64_t t = 0; t < K2; t++) {
            /* scatter3: (S, K², Cp), a channel's taps together; else (K², S, Cp), a tap's rows */
            float *restrict e = work + (scatter3_ok(op, S) ? co * K2 + t : t * S + co) * Cp;
            for (int64_t ci = 0; ci < Cp; ci++) e[ci] = ci < C ? E[co * F + ci * K2 + t] : 0.0f;
        }
    float *q = work + S * K2 * Cp + plane_floats(op);
    soma_conv2d_gsparse g = {(int32_t *)q, (int32_t *)(q + HWo), q + HWo + HWo * S, S, work, S};
    return g;
}

/* ---- 3×3, stride 1 ------------------------------------------------------------------------
 *
 * All three products of a 3×3 stride-1 conv with a sparse operand reduce to one pattern: each
 * position of a grid holds a short list of (channel, value); a position adds Σ value·W[channel,
 * tap] to the 9 pixels (y + dy, x + dx) of a plane padded by 2, tap = 3·dy + dx. The kernel
 * keeps the nine partial sums (18 registers for 32 channels) across the position's list and
 * adds them into the plane once per position: one list index feeds 18 loads at fixed offsets.
 * (A scatter per tap read and wrote memory for every tap, and neighbouring positions' taps
 * formed chains through memory; a gather per tap waited on index → address → load and lost a
 * mispredicted loop exit per tap.) Cp, the channels of W and of the plane, is a multiple of 32.
 */

static inline __attribute__((always_inline)) void scatter3_body(float *restrict P, int64_t gh, int64_t gw,
                                                                const int32_t *restrict n, const int32_t *restrict ch,
                                                                const float *restrict v, int64_t S,
                                                                const float *restrict W9, int64_t Cp, bool unit) {
    const int64_t Wp = gw + 2;
    for (int64_t i = 0; i < (gh + 2) * Wp * Cp; i += 16) st16(P + i, (v16){0});
    for (int64_t y = 0; y < gh; y++)
        for (int64_t x = 0; x < gw; x++) {
            const int64_t q = y * gw + x;
            const int32_t *restrict cq = ch + q * S;
            const float *restrict vq = unit ? NULL : v + q * S;
            const int32_t nq = n[q];
            if (nq == 0) continue;
            for (int64_t cb = 0; cb < Cp; cb += 32) {
                v16 a[9][2];
                for (int t = 0; t < 9; t++) a[t][0] = a[t][1] = (v16){0};
                for (int32_t j = 0; j < nq; j++) {
                    const float *restrict w = W9 + (int64_t)cq[j] * 9 * Cp + cb;
                    if (unit) {
                        for (int t = 0; t < 9; t++) a[t][0] += ld16(w + t * Cp), a[t][1] += ld16(w + t * Cp + 16);
                    } else {
                        const float gj = vq[j];
                        for (int t = 0; t < 9; t++) a[t][0] += gj * ld16(w + t * Cp), a[t][1] += gj * ld16(w + t * Cp + 16);
                    }
                }
                for (int t = 0; t < 9; t++) {
                    float *restrict d = P + ((y + t / 3) * Wp + x + t % 3) * Cp + cb;
                    st16(d, ld16(d) + a[t][0]);
                    st16(d + 16, ld16(d + 16) + a[t][1]);
                }
            }
        }
}

SOMA_HOT void soma_conv3_scatter(float *restrict P, int64_t gh, int64_t gw, const int32_t *restrict n,
                              const int32_t *restrict ch, const float *restrict v, int64_t S,
                              const float *restrict W9, int64_t Cp) {
    if (v) scatter3_body(P, gh, gw, n, ch, v, S, W9, Cp, false);
    else scatter3_body(P, gh, gw, n, ch, NULL, S, W9, Cp, true);
}

/* The input gradient: the grid is the output image, contributions go to input pixel
 * (oy − p + ky, ox − p + kx), i.e. plane (oy + ky, ox + kx) with the input at offset p. */
static void input_sparse3(const soma_conv2d *op, float *restrict dx, const soma_conv2d_gsparse *g) {
    const int64_t Cp = padded_cin(op), p = op->pad, H = op->h, W = op->w, Wp = op->wo + 2, C = op->cin;
    float *restrict P = g->Et + g->nE * 9 * Cp;
    soma_conv3_scatter(P, op->ho, op->wo, g->n, g->ch, g->v, g->S, g->Et, Cp);
    soma_conv3_plane_out(dx, P, Wp, p, Cp, C, H, W);
}

void soma_conv3_plane_out(float *restrict dst, const float *restrict P, int64_t Wp, int64_t o, int64_t Cp,
                          int64_t C, int64_t H, int64_t W) {
    const int64_t HW = H * W;
    for (int64_t ci = 0; ci < C; ci++)
        for (int64_t iy = 0; iy < H; iy++)
            for (int64_t ix = 0; ix < W; ix++) dst[ci * HW + iy * W + ix] = P[((iy + o) * Wp + ix + o) * Cp + ci];
}

bool soma_conv3_ok(const soma_conv2d *op) { return op->k == 3 && op->stride == 1 && op->pad <= 2; }

/* Forward: W9 (C_in·9, Ncp) | plane ((H + 2)(W + 2), Ncp) | n (HW) | ch (HW·C_in);
 * weight gradient: dW9 (C_in·9, Ncp) | plane. Then, for the kernels fused with 2×2 pooling
 * (conv3_pool2.c): two pooled images position-major (HWq, Ncp) and 16 lanes of Ncp. */
int64_t soma_conv3_event_floats(const soma_conv2d *op, int64_t S) {
    const int64_t Ncp = soma_round32(S), HW = op->h * op->w, pl = (op->h + 2) * (op->w + 2) * Ncp;
    const int64_t HWq = (op->ho / 2) * (op->wo / 2);
    return op->cin * 9 * Ncp + pl + HW + HW * op->cin + 2 * HWq * Ncp + 17 * Ncp;
}

void soma_conv3_weights(float *restrict W9, const soma_conv2d *op, const float *restrict E, int64_t c0,
                        int64_t nc, int64_t Ncp) {
    const int64_t F = op->base.fan_in;
    for (int64_t ci = 0; ci < op->cin; ci++)
        for (int64_t t = 0; t < 9; t++)
            for (int64_t j = 0; j < Ncp; j++)
                W9[(ci * 9 + t) * Ncp + j] = j < nc ? E[(c0 + j) * F + ci * 9 + (2 - t / 3) * 3 + 2 - t % 3] : 0.0f;
}

void soma_conv3_bucket(int32_t *restrict n, int32_t *restrict ch, const soma_conv2d *op, const soma_spikes *sx,
                       int64_t r) {
    const int64_t HW = op->h * op->w, C = op->cin;
    for (int64_t i = 0; i < HW; i++) n[i] = 0;
    int64_t ci = 0;
    for (int64_t e = sx->off[r]; e < sx->off[r + 1]; e++) {
        const int64_t idx = sx->idx[e];
        while (idx >= (ci + 1) * HW) ci++;
        const int64_t q = idx - ci * HW;
        ch[q * C + n[q]++] = (int32_t)ci;
    }
}

/* The forward: the grid is the input image with its spikes' channels; input (iy, ix) reaches
 * output (iy + p − ky, ix + p − kx), plane (iy + 2 − ky, ix + 2 − kx): tap t = 3·(2 − ky) + 2 − kx,
 * the output at plane offset 2 − p. */
void soma_conv3_forward_events(const soma_conv2d *op, float *Y, const soma_spikes *sx, const float *E,
                               int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t C = op->cin, H = op->h, W = op->w, HW = H * W, Wp = W + 2;
    const int64_t Ho = op->ho, Wo = op->wo, HWo = Ho * Wo, o = 2 - op->pad, Ncp = soma_round32(nc);
    float *W9 = op->work, *P = W9 + C * 9 * Ncp;
    int32_t *n = (int32_t *)(P + (H + 2) * Wp * Ncp), *ch = n + HW;
    soma_conv3_weights(W9, op, E, c0, nc, Ncp);
    for (int64_t r = 0; r < rows; r++) {
        soma_conv3_bucket(n, ch, op, sx, r);
        soma_conv3_scatter(P, H, W, n, ch, NULL, C, W9, Ncp);
        soma_conv3_plane_out(Y + (r * S + c0) * HWo, P, Wp, o, Ncp, nc, Ho, Wo);
    }
}

/* The weight gradient: per spike of channel ci at (iy, ix), tap t (as the forward's) adds the
 * output gradient at plane (iy + t / 3, ix + t % 3); the plane holds G position-major with zeros
 * around it. The nine sums stay in registers over each channel's run of spikes. */
SOMA_HOT void soma_conv3_weight_row(const soma_conv2d *op, float *restrict dW9, const float *restrict P,
                                   const soma_spikes *sx, int64_t r, int64_t Ncp) {
    const int64_t HW = op->h * op->w, W = op->w, Wp = W + 2;
    const int32_t *restrict idx = sx->idx;
    const int64_t e0 = sx->off[r], e1 = sx->off[r + 1];
    for (int64_t cb = 0; cb < Ncp; cb += 32) {
        int64_t e = e0;
        while (e < e1) {
            const int64_t ci = idx[e] / HW, end = (ci + 1) * HW;
            v16 a[9][2];
            for (int t = 0; t < 9; t++) a[t][0] = a[t][1] = (v16){0};
            for (; e < e1 && idx[e] < end; e++) {
                const int64_t q = idx[e] - ci * HW, iy = q / W, ix = q - iy * W;
                const float *restrict g = P + (iy * Wp + ix) * Ncp + cb;
                for (int t = 0; t < 9; t++) {
                    const float *restrict gt = g + ((t / 3) * Wp + t % 3) * Ncp;
                    a[t][0] += ld16(gt), a[t][1] += ld16(gt + 16);
                }
            }
            for (int t = 0; t < 9; t++) {
                float *restrict d = dW9 + (ci * 9 + t) * Ncp + cb;
                st16(d, ld16(d) + a[t][0]);
                st16(d + 16, ld16(d + 16) + a[t][1]);
            }
        }
    }
}

void soma_conv3_weight_events(const soma_conv2d *op, float *dE, const float *G, const soma_spikes *sx,
                              int64_t S, int64_t c0, int64_t nc, int64_t rows) {
    const int64_t C = op->cin, H = op->h, W = op->w, Wp = W + 2;
    const int64_t Ho = op->ho, Wo = op->wo, HWo = Ho * Wo, o = 2 - op->pad, Ncp = soma_round32(nc);
    float *dW9 = op->work, *P = dW9 + C * 9 * Ncp;
    for (int64_t i = 0; i < C * 9 * Ncp; i++) dW9[i] = 0.0f;
    for (int64_t i = 0; i < (H + 2) * Wp * Ncp; i++) P[i] = 0.0f; /* the border stays zero */
    for (int64_t r = 0; r < rows; r++) {
        if (sx->off[r + 1] == sx->off[r]) continue;
        const float *restrict Gr = G + (r * S + c0) * HWo;
        for (int64_t oy = 0; oy < Ho; oy++)
            for (int64_t ox = 0; ox < Wo; ox++) {
                float *restrict d = P + ((oy + o) * Wp + ox + o) * Ncp;
                for (int64_t j = 0; j < nc; j++) d[j] = Gr[j * HWo + oy * Wo + ox];
            }
        soma_conv3_weight_row(op, dW9, P, sx, r, Ncp);
    }
    soma_conv3_weights_add(dE, op, dW9, c0, nc, Ncp);
}

void soma_conv3_weights_add(float *restrict dE, const soma_conv2d *op, const float *restrict dW9, int64_t c0,
                            int64_t nc, int64_t Ncp) {
    const int64_t F = op->base.fan_in;
    for (int64_t j = 0; j < nc; j++)
        for (int64_t ci = 0; ci < op->cin; ci++)
            for (int64_t t = 0; t < 9; t++) dE[(c0 + j) * F + ci * 9 + (2 - t / 3) * 3 + 2 - t % 3] += dW9[(ci * 9 + t) * Ncp + j];
}

/* Other kernel sizes: input row by input row, tap by tap (a tap's weights, S rows of Cp, stay
 * in L1 across the row), each input pixel gathering the lists of the output position the tap
 * connects it to. */
SOMA_HOT static void input_sparse(const soma_conv2d *op, float *restrict dx, const soma_conv2d_gsparse *g) {
    const int64_t Cp = padded_cin(op), K = op->k, K2 = K * K, p = op->pad, S = g->S, nE = g->nE;
    const int64_t H = op->h, W = op->w, Ho = op->ho, Wo = op->wo, C = op->cin;
    const float *restrict Et = g->Et; /* (K², nE, Cp) */
    float *restrict dxT = g->Et + nE * K2 * Cp;
    const int32_t *restrict n = g->n, *restrict ch = g->ch;
    const float *restrict v = g->v;
    for (int64_t iy = 0; iy < H; iy++) {
        float *restrict acc = dxT + iy * W * Cp; /* this input row, position-major */
        for (int64_t i = 0; i < W * Cp; i += 16) st16(acc + i, (v16){0});
        /* output row oy = iy + p − ky must lie in [0, Ho) */
        const int64_t kyl = iy + p - (Ho - 1) > 0 ? iy + p - (Ho - 1) : 0;
        const int64_t kyh = iy + p < K - 1 ? iy + p : K - 1;
        for (int64_t ky = kyl; ky <= kyh; ky++)
            for (int64_t kx = 0; kx < K; kx++) {
                /* one tap at a time: its weights (S rows of Cp) stay in L1 across the row */
                const float *restrict et = Et + (ky * K + kx) * nE * Cp;
                const int64_t ixl = kx - p > 0 ? kx - p : 0, ixh = Wo - 1 + kx - p < W - 1 ? Wo - 1 + kx - p : W - 1;
                for (int64_t ix = ixl; ix <= ixh; ix++) {
                    const int64_t q = (iy + p - ky) * Wo + ix + p - kx;
                    const int32_t *restrict cq = ch + q * S;
                    const float *restrict vq = v + q * S;
                    const int32_t nq = n[q];
                    for (int64_t cb = 0; cb < Cp; cb += 32) {
                        /* two pairs of sums (even and odd entries): one pair's chain of
                         * dependent adds would leave the FP pipes idle */
                        v16 a0 = {0}, a1 = {0}, b0 = {0}, b1 = {0};
                        int32_t j = 0;
                        for (; j + 1 < nq; j += 2) {
                            const float *restrict w = et + (int64_t)cq[j] * Cp + cb;
                            const float *restrict u = et + (int64_t)cq[j + 1] * Cp + cb;
                            a0 += vq[j] * ld16(w);
                            a1 += vq[j] * ld16(w + 16);
                            b0 += vq[j + 1] * ld16(u);
                            b1 += vq[j + 1] * ld16(u + 16);
                        }
                        if (j < nq) {
                            const float *restrict w = et + (int64_t)cq[j] * Cp + cb;
                            a0 += vq[j] * ld16(w);
                            a1 += vq[j] * ld16(w + 16);
                        }
                        float *restrict d = acc + ix * Cp + cb;
                        st16(d, ld16(d) + (a0 + b0));
                        st16(d + 16, ld16(d + 16) + (a1 + b1));
                    }
                }
            }
    }
    const int64_t HW = H * W;
    for (int64_t ci = 0; ci < C; ci++)
        for (int64_t i = 0; i < HW; i++) dx[ci * HW + i] = dxT[i * Cp + ci];
}

void soma_conv2d_backward_input_sparse(const soma_conv2d *op, float *dx, const soma_conv2d_gsparse *g) {
    if (scatter3_ok(op, g->nE)) {
        input_sparse3(op, dx, g);
        return;
    }
    input_sparse(op, dx, g);
}
