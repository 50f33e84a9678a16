/*
 * synapse/dense.c — the dense synaptic operator y = x·E, through CBLAS or event-driven.
 *
 * E is stored input-major, (M, S): the S output weights of input k are one contiguous row.
 * That makes the event-driven forward a sum of the rows of the inputs that spiked, and its
 * weight gradient a scatter of the output-gradient row into those same rows. Both paths give
 * the same result up to float rounding; the caller picks one by measured input density.
 */
#include "synapse/dense_bits.h"
#include "synapse/dense_fold.h"
#include "synapse/gather.h"
#include "kernels/vec16.h"

#include <cblas.h>
#include <string.h>

typedef struct dense_op {
    soma_synop base; /* must be first */
} dense_op;

SOMA_HOT int64_t soma_count_nonzero(const float *restrict x, int64_t n) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++) c += x[i] != 0.0f;
    return c;
}

double soma_spike_sum(const float *x, int64_t n, bool binary) {
    if (binary) return (double)soma_count_nonzero(x, n); /* 0/1: the sum is the count, exactly */
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
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
        if (soma_dense_bits_apply(x, rows, M, nc)) { /* binary but too dense for events */
            soma_dense_forward_bits(Y, x, E, S, M, c0, nc, rows);
            return;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)nc, (int)M, 1.0f,
                    x, (int)M, E + c0, (int)S, 0.0f, Y + c0, (int)S);
        return;
    }
    if (soma_dense_foldable(sx, rows, nc)) {
        soma_dense_forward_folded(Y, sx, E, S, M, c0, nc, rows);
        return;
    }
    /* Event-driven, per row: y_r = Σ_{k active in r} E[k, c0:c0+nc]. */
    for (int64_t r = 0; r < rows; r++) {
        const int32_t *idx = sx->idx + sx->off[r];
        const int64_t n = sx->off[r + 1] - sx->off[r];
        soma_gather_row(Y + r * S + c0, E + c0, S, idx, n, nc);
    }
}

static void dense_backward_input(const soma_synop *op, float *dx, const float *G, const float *E,
                                 int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta) {
    const int64_t M = op->in_dim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)M, (int)nc, 1.0f,
                G + c0, (int)S, E + c0, (int)S, beta, dx, (int)M);
}

/* d[0:16·W] += Σ_{t ∈ m} G_t[0:16·W] (G_t = g + t·ts), and when dt is set the 16-wide tail
 * block: dt[0:16] = Σ_{t ∈ m} G_t[tail]: one sample's spikes of one input, every block's sum
 * in registers in one pass over m (separate passes would each be one latency-bound chain).
 * The sums start from p (laid out as g: a prefix sum over the steps below m's lowest bit,
 * or over every step, see dense_backward_weight) or from +0 when p is NULL; with neg the
 * rows of m are subtracted instead (from the every-step sum: an input's silent steps). */
#define SCATTER(W)                                                                           \
    ALWAYS_INLINE void scatter##W(float *restrict d, const float *restrict g, int64_t ts,    \
                                  uint64_t m, float *restrict dt, int64_t tail_off,          \
                                  const float *restrict p, bool neg) {                       \
        v16 acc[W], at = {0};                                                                \
        for (int w = 0; w < (W); w++) acc[w] = p ? ld16(p + 16 * w) : (v16){0};              \
        if (dt && p) at = ld16(p + tail_off);                                                \
        for (; m; m &= m - 1) {                                                              \
            const float *gt = g + (int64_t)__builtin_ctzll(m) * ts;                          \
            if (neg) {                                                                       \
                for (int w = 0; w < (W); w++) acc[w] -= ld16(gt + 16 * w);                   \
                if (dt) at -= ld16(gt + tail_off);                                           \
            } else {                                                                         \
                for (int w = 0; w < (W); w++) acc[w] += ld16(gt + 16 * w);                   \
                if (dt) at += ld16(gt + tail_off);                                           \
            }                                                                                \
        }                                                                                    \
        for (int w = 0; w < (W); w++) st16(d + 16 * w, ld16(d + 16 * w) + acc[w]);           \
        if (dt) st16(dt, at);                                                                \
    }
SCATTER(8)
SCATTER(7)
SCATTER(6)
SCATTER(5)
SCATTER(4)
SCATTER(3)
SCATTER(2)
SCATTER(1)

/* dE row d[0:nc] += Σ_{t ∈ m} G_t[0:nc] for nc >= 16: nv full blocks (at most 8 per pass), then
 * the 16-wide block ending at nc, of which only the lanes past the full blocks are added. */
ALWAYS_INLINE void scatter_row(float *d, const float *g, int64_t ts, uint64_t m, int64_t nc) {
    const int64_t nv = nc / 16, nf = 16 * nv;
    float tmp[16], *dt = nf < nc ? tmp : NULL;
    const float *g0 = g;
    int64_t w = 0;
    for (; nv - w > 8; w += 8) scatter8(d + 16 * w, g + 16 * w, ts, m, NULL, 0, NULL, false);
    d += 16 * w, g += 16 * w;
    const int64_t to = nc - 16 - 16 * w; /* the tail block, relative to g */
    switch (nv - w) {
    case 8: scatter8(d, g, ts, m, dt, to, NULL, false); break;
    case 7: scatter7(d, g, ts, m, dt, to, NULL, false); break;
    case 6: scatter6(d, g, ts, m, dt, to, NULL, false); break;
    case 5: scatter5(d, g, ts, m, dt, to, NULL, false); break;
    case 4: scatter4(d, g, ts, m, dt, to, NULL, false); break;
    case 3: scatter3(d, g, ts, m, dt, to, NULL, false); break;
    case 2: scatter2(d, g, ts, m, dt, to, NULL, false); break;
    case 1: scatter1(d, g, ts, m, dt, to, NULL, false); break;
    default: break;
    }
    if (!dt) return;
    if (nv - w == 0) { /* no full block in the last pass: the tail alone */
        v16 at = {0};
        for (uint64_t mm = m; mm; mm &= mm - 1) at += ld16(g0 + (int64_t)__builtin_ctzll(mm) * ts + nc - 16);
        st16(tmp, at);
    }
    d -= 16 * w;
    for (int64_t i = nf; i < nc; i++) d[i] += tmp[16 - (nc - i)];
}

/* The same from gradient rows padded with zeros to whole 16-wide blocks: every block in the
 * one pass; the last block's lanes below nc are the tail block's sums (same values, same
 * order), added lane by lane as scatter_row adds them. The sums start from the prefix row p
 * (same layout) when p is not NULL; neg subtracts the rows of m instead. */
ALWAYS_INLINE void scatter_padded(float *d, const float *g, int64_t ts, uint64_t m, int64_t nc,
                                  const float *p, bool neg) {
    const int64_t nv = (nc + 15) / 16, nl = 16 * (nv - 1);
    int64_t w = 0;
    for (; nv - w > 8; w += 8) scatter8(d + 16 * w, g + 16 * w, ts, m, NULL, 0, p ? p + 16 * w : NULL, neg);
    float tmp[16];
    d += 16 * w, g += 16 * w;
    if (p) p += 16 * w;
    const int64_t to = 16 * (nv - 1 - w); /* the last block, relative to g */
    switch (nv - w) { /* full blocks but the last, which goes to tmp */
    case 8: scatter7(d, g, ts, m, tmp, to, p, neg); break;
    case 7: scatter6(d, g, ts, m, tmp, to, p, neg); break;
    case 6: scatter5(d, g, ts, m, tmp, to, p, neg); break;
    case 5: scatter4(d, g, ts, m, tmp, to, p, neg); break;
    case 4: scatter3(d, g, ts, m, tmp, to, p, neg); break;
    case 3: scatter2(d, g, ts, m, tmp, to, p, neg); break;
    case 2: scatter1(d, g, ts, m, tmp, to, p, neg); break;
    default: { /* the last block alone */
        v16 at = p ? ld16(p + to) : (v16){0};
        for (uint64_t mm = m; mm; mm &= mm - 1) {
            const v16 r = ld16(g + (int64_t)__builtin_ctzll(mm) * ts + to);
            at = neg ? at - r : at + r;
        }
        st16(tmp, at);
    } break;
    }
    d -= 16 * w;
    if (nl + 16 == nc) st16(d + nl, ld16(d + nl) + ld16(tmp));
    else for (int64_t i = nl; i < nc; i++) d[i] += tmp[i - nl];
}

/* Under 16 outputs: per spike, d[0:nc] += G_t[0:nc]. */
static void scatter_narrow(float *restrict d, const float *restrict g, int64_t ts, uint64_t m, int64_t nc) {
    for (; m; m &= m - 1) {
        const float *restrict gt = g + (int64_t)__builtin_ctzll(m) * ts;
        for (int64_t i = 0; i < nc; i++) d[i] += gt[i];
    }
}

/* One input's gradient row d[0:nc] += Σ_{t ∈ m} G_t: from the aligned copies and their prefix
 * sums pb (rows of ncp) when pb is set, else from G itself (row stride ts). With the prefix
 * sums, whichever of two sums adds fewer rows: the prefix row of the unbroken run of steps
 * from 0 that m starts with plus the rest of m's rows, or, for an input silent at fewer steps
 * than that, the every-step row minus the rows of its silent steps. */
ALWAYS_INLINE void scatter_input(float *d, const float *g, int64_t ts, uint64_t m, int64_t nc, const float *pb,
                                 int64_t ncp, int64_t T) {
    if (pb) {
        const int run = ~m ? __builtin_ctzll(~m) : 64; /* steps 0..run−1 all set */
        const int pop = __builtin_popcountll(m);
        const uint64_t silent = ~m & soma_all_steps(T);
        if ((int64_t)T - pop < pop - run) scatter_padded(d, g, ts, silent, nc, pb + (T - 1) * ncp, true);
        else if (run > 1) scatter_padded(d, g, ts, run < 64 ? m >> run << run : 0, nc, pb + (run - 1) * ncp, false);
        else scatter_padded(d, g, ts, m, nc, NULL, false);
    } else if (nc >= 16) scatter_row(d, g, ts, m, nc);
    else scatter_narrow(d, g, ts, m, nc);
}

SOMA_HOT static void dense_backward_weight(const soma_synop *op, float *dE, const float *G, const float *x,
                                  const soma_spikes *sx, int64_t S, int64_t c0, int64_t nc,
                                  int64_t rows) {
    const int64_t M = op->in_dim;
    if (!sx) {
        if (soma_dense_bits_apply(x, rows, M, nc) && soma_dense_backward_weight_bits(dE, G, x, S, M, c0, nc, rows))
            return;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M, (int)nc, (int)rows, 1.0f,
                    x, (int)M, G + c0, (int)S, 1.0f, dE + c0, (int)S);
        return;
    }
    const int64_t B = sx->B, T = B > 0 ? rows / B : 0;
    if (!sx->mask || !sx->touched || T > 64 || T * B != rows) {
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
    /* Per sample: fold each input's spike times into a bit mask, then update its gradient row
     * once with the sum of the current gradients at those times (one read-modify-write of dE
     * per input and sample instead of per spike). */
    uint64_t *mask = sx->mask; /* (M) zeroed, left zeroed */
    uint32_t *seen = (uint32_t *)sx->touched;
    const int64_t nw = (M + 31) / 32;
    /* The sample's T gradient rows, copied to 64-byte aligned rows when they fit: rows of
     * S floats start at any 16-byte offset, and a 64-byte load that crosses a cache line costs
     * two, while each row is read once per input that spiked at its step. */
    enum { GB = 8192 };
    _Alignas(64) float gb[GB], pb[GB];
    const int64_t ncp = (nc + 15) & ~(int64_t)15;
    const bool copy = nc >= 16 && T * ncp <= GB;
    const int64_t ts = copy ? ncp : B * S;
    if (copy) /* zero lanes past nc: the last block then sums whole, its extra lanes unused */
        for (int64_t t = 0; t < T; t++) memset(gb + t * ncp + nc, 0, (size_t)(ncp - nc) * sizeof *gb);
    for (int64_t b = 0; b < B; b++) {
        const float *g = G + b * S + c0;
        if (copy) {
            for (int64_t t = 0; t < T; t++) memcpy(gb + t * ncp, g + t * B * S, (size_t)nc * sizeof *gb);
            g = gb;
            /* Prefix sums: pb row j−1 = ((+0 + G_0) + G_1) + … + G_{j−1}, the very additions an
             * input that spiked at steps 0..j−1 makes first. Bright pixels spike at nearly every
             * step (on MNIST about 9 of an active input's 14 spikes lead an unbroken run from
             * step 0), so such an input starts from its run's row and loads only the rest. */
            for (int64_t i = 0; i < ncp; i += 16) st16(pb + i, (v16){0} + ld16(gb + i));
            for (int64_t i = ncp; i < T * ncp; i += 16) st16(pb + i, ld16(pb + i - ncp) + ld16(gb + i));
        }
        if (sx->fk) { /* the producer's folds: the same inputs and masks, made while encoding */
            for (int64_t j = sx->foff[b]; j < sx->foff[b + 1]; j++)
                scatter_input(dE + (int64_t)sx->fk[j] * S + c0, g, ts, sx->fm[j], nc, copy ? pb : NULL, ncp, T);
            continue;
        }
        soma_sample_masks(sx, T, b, M, mask, seen);
        for (int64_t wd = 0; wd < nw; wd++) {
            for (uint32_t sw = seen[wd]; sw; sw &= sw - 1) {
                const int64_t k = 32 * wd + __builtin_ctz(sw);
                scatter_input(dE + k * S + c0, g, ts, mask[k], nc, copy ? pb : NULL, ncp, T);
                mask[k] = 0;
            }
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
