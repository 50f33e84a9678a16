/*
 * layer/conv_stack.c — an event-driven 3×3 stride-1 conv under a stacked integration mode
 * (bilinear, shunting: the operator computes S = nblk·N channels, integrate.h) whose current
 * is max pooled 2×2 as its first stage: the reference conv net's second conv under the
 * thesis's bilinear and shunting rows. LIF's counterpart is synapse/conv3_pool2.c.
 *
 * Max pooling leaves ∂L/∂cur = g nonzero only at each window's maximum, and every block's
 * output gradient (bilinear [g | 2λ·g⊙p | −λ·g], shunting [g⊙s | k·g⊙a⊙s(1 − s)], ...) is g
 * times a function of the position's Y, so G is zero wherever g is. The general path
 * expanded g to every conv output position, formed G there, transposed all of it for the
 * event weight gradient and took the input gradient as a transposed conv (one GEMM of
 * (C_in × S·9)·(S·9 × H·W) per image): two fifths of a bilinear conv net's training time.
 *
 * Forward, per image: the event scatter over the S stacked channels leaves the conv output
 * position-major (channels innermost, conv3_internal.h); the integrator combines it there
 * (soma_integrator_combine on a position-major view, soma_integrator_pointwise), the current
 * is pooled on that plane (soma_conv3_pool2_plane), and only the pooled quarter is
 * transposed. The tape keeps Y at each window's maximum only, position-major (HWq, S).
 *
 * Backward, per image: the integrator's own gradient over the HWq window positions
 * (soma_integrator_grad) gives ∂b, ∂λ and G at the maxima; the weight gradient spreads G
 * back onto a zero plane and runs the event kernel of LIF's fused path
 * (soma_conv3_weight_row) over all S channels (binary input: x² = x, every block takes the
 * spikes); the input gradient hands G as position-major lists to the sparse kernel
 * (soma_conv2d_backward_input_sparse), once for the blocks that see x and once for those
 * that see x² (bilinear's V²: dx += 2x ⊙ A_{V²}ᵀ(G), added at the spikes).
 *
 * No per-mode code: the modes' formulas are the integrator's, the conv kernels see S
 * channels. Results equal the general path's to float rounding (the same terms minus exact
 * zeros, some sums in another order); the current itself is the general path's bit for bit
 * (the same sums per position, the same comparisons).
 *
 * Not here: dense (GEMM) input, other pooling, linear integration.
 */
#include "layer/conv.h"
#include "synapse/conv3_internal.h"

/* The fixed workspace of one call, carved from ws (soma_cunit_stack_floats). */
typedef struct stack_ws {
    float *W9;       /* (C_in·9, Ncp) forward weights / weight gradient, channels innermost */
    float *P;        /* ((H + 2)·(W + 2), Ncp) conv output / gradient plane, position-major */
    int32_t *n, *ch; /* (H·W), (H·W, C_in) the forward's spikes by position */
    float *C;        /* (H_out·W_out, N) the current, position-major */
    float *yq;       /* (HWq, N) pooled current */
    int32_t *an;     /* (HWq, N) its window indices */
    float *zero;     /* (N) a zero bias: the combine added the bias */
    float *gq;       /* (HWq, N) pooled ∂L/∂cur, position-major */
    float *Yp;       /* (HWq, Ncp) the blocks' Y at the windows' maxima */
    float *Gp;       /* (HWq, Ncp) the blocks' output gradients there (zero beyond S) */
    int32_t *aq;     /* (HWq, Ncp) window index of channel s mod N (zero beyond S) */
    float *dx2;      /* (C_in·H·W) the x²-blocks' input gradient of one image */
    float *wx, *wx2; /* sparse input-gradient workspaces of the x- and x²-blocks */
} stack_ws;

enum { NREG = 15 };

/* Region sizes in floats, in the order of stack_ws. */
static void sizes_of(int64_t *sz, const soma_conv2d *op, const soma_integrator *it) {
    const int64_t N = it->N, S = (int64_t)it->nblk * N, Ncp = soma_round32(S), nx = (int64_t)it->nblk_x * N;
    const int64_t HWq = (op->ho / 2) * (op->wo / 2), HW = op->h * op->w;
    const int64_t v[NREG] = {op->cin * 9 * Ncp, (op->h + 2) * (op->w + 2) * Ncp, HW, HW * op->cin,
                             op->base.inner * N, HWq * N, HWq * N, N, HWq * N, HWq * Ncp, HWq * Ncp, HWq * Ncp,
                             op->base.in_dim, soma_conv2d_sparse_floats(op, nx),
                             nx < S ? soma_conv2d_sparse_floats(op, S - nx) : 0};
    for (int i = 0; i < NREG; i++) sz[i] = v[i];
}

static stack_ws ws_of(const soma_conv2d *op, const soma_integrator *it, float *w) {
    int64_t sz[NREG];
    sizes_of(sz, op, it);
    stack_ws s;
    s.W9 = w, w += sz[0];
    s.P = w, w += sz[1];
    s.n = (int32_t *)w, w += sz[2];
    s.ch = (int32_t *)w, w += sz[3];
    s.C = w, w += sz[4];
    s.yq = w, w += sz[5];
    s.an = (int32_t *)w, w += sz[6];
    s.zero = w, w += sz[7];
    s.gq = w, w += sz[8];
    s.Yp = w, w += sz[9];
    s.Gp = w, w += sz[10];
    s.aq = (int32_t *)w, w += sz[11];
    s.dx2 = w, w += sz[12];
    s.wx = w, w += sz[13];
    s.wx2 = w;
    return s;
}

bool soma_cunit_stack_ok(const soma_conv2d *op, const soma_integrator *it) {
    return it->p.mode != SOMA_INTEGRATE_LINEAR && soma_conv3_pool2_ok(op) && soma_conv2d_sparse_ok(op);
}

int64_t soma_cunit_stack_floats(const soma_conv2d *op, const soma_integrator *it) {
    int64_t sz[NREG], n = 0;
    sizes_of(sz, op, it);
    for (int i = 0; i < NREG; i++) n += sz[i];
    return n;
}

int64_t soma_cunit_stack_tape_floats(const soma_conv2d *op, const soma_integrator *it) {
    return (op->ho / 2) * (op->wo / 2) * (int64_t)it->nblk * it->N;
}

void soma_cunit_stack_forward(const soma_conv2d *op, const soma_integrator *it, float *ws, float *cur,
                              uint8_t *arg, float *Yq, const soma_spikes *sx, const float *E,
                              const float *params, int64_t rows) {
    const int64_t N = it->N, S = (int64_t)it->nblk * N, Ncp = soma_round32(S);
    const int64_t H = op->h, W = op->w, Wp = W + 2, o = 2 - op->pad, Ho = op->ho, Wo = op->wo;
    const int64_t Hq = Ho / 2, Wq = Wo / 2, HWq = Hq * Wq;
    stack_ws w = ws_of(op, it, ws);
    const soma_integrator pv = soma_integrator_pointwise(it, Ncp);
    soma_conv3_weights(w.W9, op, E, 0, S, Ncp);
    for (int64_t c = 0; c < N; c++) w.zero[c] = 0.0f;
    for (int64_t r = 0; r < rows; r++) {
        soma_conv3_bucket(w.n, w.ch, op, sx, r);
        soma_conv3_scatter(w.P, H, W, w.n, w.ch, NULL, op->cin, w.W9, Ncp);
        for (int64_t oy = 0; oy < Ho; oy++) /* one output row of Wo positions at a time */
            soma_integrator_combine(&pv, w.C + oy * Wo * N, w.P + ((oy + o) * Wp + o) * Ncp, params, Wo);
        soma_conv3_pool2_plane(w.yq, w.an, w.C, w.zero, Wo, 0, Hq, Wq, N);
        float *restrict yr = cur + r * N * HWq, *restrict Yr = Yq + r * HWq * S;
        uint8_t *restrict ar = arg + r * N * HWq;
        for (int64_t c = 0; c < N; c++)
            for (int64_t q = 0; q < HWq; q++) yr[c * HWq + q] = w.yq[q * N + c], ar[c * HWq + q] = (uint8_t)w.an[q * N + c];
        /* the blocks' Y at each window's maximum, for backward */
        for (int64_t py = 0; py < Hq; py++)
            for (int64_t px = 0; px < Wq; px++) {
                const int64_t q = py * Wq + px;
                const float *restrict t0 = w.P + ((2 * py + o) * Wp + 2 * px + o) * Ncp;
                const int32_t *restrict a = w.an + q * N;
                float *restrict y = Yr + q * S;
                for (int b = 0; b < it->nblk; b++)
                    for (int64_t c = 0; c < N; c++) {
                        const int32_t k = a[c];
                        y[b * N + c] = t0[((k >> 1) * Wp + (k & 1)) * Ncp + b * N + c];
                    }
            }
    }
}

/* Row r's pooled gradient gq (HWq, N) and stacked window indices aq (HWq, Ncp) from the
 * channel-major gp, arg (N, HWq); the tape's Yq (HWq, S) padded into Yp (HWq, Ncp). */
static void gather_row(const stack_ws *w, const soma_integrator *it, const float *restrict gp,
                       const uint8_t *restrict arg, const float *restrict Yq, int64_t HWq, int64_t Ncp) {
    const int64_t N = it->N, S = (int64_t)it->nblk * N;
    float *restrict gq = w->gq, *restrict Yp = w->Yp;
    int32_t *restrict aq = w->aq;
    for (int64_t c = 0; c < N; c++)
        for (int64_t q = 0; q < HWq; q++) gq[q * N + c] = gp[c * HWq + q], aq[q * Ncp + c] = arg[c * HWq + q];
    for (int64_t q = 0; q < HWq; q++) {
        for (int b = 1; b < it->nblk; b++)
            for (int64_t c = 0; c < N; c++) aq[q * Ncp + b * N + c] = aq[q * Ncp + c];
        for (int64_t s = 0; s < S; s++) Yp[q * Ncp + s] = Yq[q * S + s];
    }
}

void soma_cunit_stack_backward(const soma_conv2d *op, const soma_integrator *it, float *ws, float *dx,
                               float *gws, const float *gp, const uint8_t *arg, const float *Yq,
                               const soma_spikes *sx, const float *E, const float *params, int64_t rows) {
    const int64_t N = it->N, S = (int64_t)it->nblk * N, Ncp = soma_round32(S), nx = (int64_t)it->nblk_x * N;
    const int64_t F = op->base.fan_in, M = op->base.in_dim;
    const int64_t Hq = op->ho / 2, Wq = op->wo / 2, HWq = Hq * Wq, Wp = op->w + 2, o = 2 - op->pad;
    stack_ws w = ws_of(op, it, ws);
    const soma_integrator pv = soma_integrator_pointwise(it, Ncp);
    for (int64_t i = 0; i < op->cin * 9 * Ncp; i++) w.W9[i] = 0.0f;
    for (int64_t i = 0; i < (op->h + 2) * Wp * Ncp; i++) w.P[i] = 0.0f; /* border, pixels in no window */
    for (int64_t i = 0; i < HWq * Ncp; i++) w.Gp[i] = 0.0f, w.aq[i] = 0, w.Yp[i] = 0.0f; /* lanes past S */
    soma_conv2d_gsparse gx = {0}, gx2 = {0};
    if (dx) {
        gx = soma_conv2d_sparse_begin(op, w.wx, E, nx);
        if (nx < S) gx2 = soma_conv2d_sparse_begin(op, w.wx2, E + nx * F, S - nx);
    }
    for (int64_t r = 0; r < rows; r++) {
        gather_row(&w, it, gp + r * N * HWq, arg + r * N * HWq, Yq + r * HWq * S, HWq, Ncp);
        soma_integrator_grad(&pv, w.Gp, gws, w.gq, w.Yp, params, HWq);
        const int64_t e0 = sx->off[r], e1 = sx->off[r + 1];
        if (e1 > e0) {
            soma_conv3_pool2_fill(w.P, w.Gp, w.aq, Wp, o, Hq, Wq, Ncp);
            soma_conv3_weight_row(op, w.W9, w.P, sx, r, Ncp);
        }
        if (!dx) continue;
        float *restrict dxr = dx + r * M;
        soma_conv3_pool2_lists(gx.n, gx.ch, gx.v, gx.S, w.Gp, w.aq, Ncp, 0, nx, Hq, Wq, op->ho, op->wo);
        soma_conv2d_backward_input_sparse(op, dxr, &gx);
        if (nx == S || e1 == e0) continue;
        /* dx += 2x ⊙ A_{x²-blocks}ᵀ(G): x is 0/1, so 2·dx2 at the spikes */
        soma_conv3_pool2_lists(gx2.n, gx2.ch, gx2.v, gx2.S, w.Gp, w.aq, Ncp, nx, S - nx, Hq, Wq, op->ho, op->wo);
        soma_conv2d_backward_input_sparse(op, w.dx2, &gx2);
        for (int64_t e = e0; e < e1; e++) dxr[sx->idx[e]] += 2.0f * w.dx2[sx->idx[e]];
    }
    soma_conv3_weights_add(gws + it->gE, op, w.W9, 0, S, Ncp);
}
