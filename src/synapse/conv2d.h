/*
 * synapse/conv2d.h — the 2-D convolution as a synaptic operator (see synop.h).
 *
 * An input row is one image (C_in, H, W), channel-major; an output row is (S, H_out, W_out),
 * so inner = H_out·W_out positions per output channel. The weights are output-major
 * (in_major = false): element (c, k) at c·fan_in + k with fan_in = C_in·K·K and
 * k = (ci·K + ky)·K + kx — PyTorch's (C_out, C_in, K, K) layout, so weights compare directly.
 *
 *   H_out = (H + 2·pad − K) / stride + 1        (floor, as PyTorch)
 *
 * The fast path lowers each image to columns (im2col, fan_in × H_out·W_out) and runs one GEMM
 * per image; with binary input given as spike lists (soma_spikes) forward and weight gradient
 * are event-driven instead. The buffers are a workspace the caller binds per call
 * (soma_conv2d_bind), because one operator is shared by chunks that run on different threads
 * at once.
 */
#ifndef SOMA_CONV2D_H
#define SOMA_CONV2D_H

#include "synapse/synop.h"

typedef struct soma_conv2d {
    soma_synop base;          /* must be first */
    int64_t cin, h, w;        /* input image */
    int64_t k, stride, pad;   /* square kernel K×K, stride, zero padding on every side */
    int64_t ho, wo;           /* output image */
    float *work;              /* (soma_conv2d_work_floats) bound per call; NULL in the shared op */
} soma_conv2d;

/* Creates the operator, or NULL (out of memory or sizes that give no output pixel). */
soma_conv2d *soma_conv2d_create(int64_t cin, int64_t h, int64_t w, int64_t k, int64_t stride,
                                int64_t pad);
/* Floats of workspace one call over up to S channels needs (independent of the number of
 * rows), dense or event-driven. */
int64_t soma_conv2d_work_floats(const soma_conv2d *op, int64_t S);
/* A per-call copy of src with its workspace bound: *dst = *src, dst->work = work. The copy is
 * used through &dst->base for the duration of the call (e.g. on the caller's stack). */
void soma_conv2d_bind(soma_conv2d *dst, const soma_conv2d *src, float *work);

/* Lowering: col (fan_in, H_out·W_out) from one image x (C_in, H, W), and its adjoint
 * dx (C_in, H, W) += col2im(col). */
void soma_im2col(float *col, const float *x, const soma_conv2d *op);
void soma_col2im_add(float *dx, const float *col, const soma_conv2d *op);

/* Input gradient from a sparse output gradient (conv2d_sparse.c), for a conv whose output is
 * max pooled: one image at a time, the gradient given position-major in a workspace of
 * soma_conv2d_sparse_floats(op, S) floats. Stride 1 only (soma_conv2d_sparse_ok). */
typedef struct soma_conv2d_gsparse {
    int32_t *n;   /* (H_out·W_out) nonzero channels at each output position, filled by the caller */
    int32_t *ch;  /* (H_out·W_out, S) those channels, ascending, at q·S + j */
    float *v;     /* (H_out·W_out, S) their gradients */
    int64_t S;    /* list capacity per position (the channels of E) */
    float *Et;    /* the weights rearranged for the kernel (the workspace's start) */
    int64_t nE;   /* channels of E */
} soma_conv2d_gsparse;

bool soma_conv2d_sparse_ok(const soma_conv2d *op);
int64_t soma_conv2d_sparse_floats(const soma_conv2d *op, int64_t S);
/* Lays out the workspace for E (S, fan_in) and rearranges the weights (once per call). */
soma_conv2d_gsparse soma_conv2d_sparse_begin(const soma_conv2d *op, float *work, const float *E,
                                             int64_t S);
/* dx (C_in, H, W) of one image, overwritten, from the gradient in g's lists. */
void soma_conv2d_backward_input_sparse(const soma_conv2d *op, float *dx, const soma_conv2d_gsparse *g);

/* 3×3 stride-1 convs (pad ≤ 2, every conv of the reference nets) with spike-list input:
 * the event-driven forward and weight gradient (conv2d_sparse.c), same contracts as the synop
 * ops; they use the bound workspace (soma_conv2d_work_floats counts them). */
bool soma_conv3_ok(const soma_conv2d *op);
int64_t soma_conv3_event_floats(const soma_conv2d *op, int64_t S);
void soma_conv3_forward_events(const soma_conv2d *op, float *Y, const soma_spikes *sx, const float *E,
                               int64_t S, int64_t c0, int64_t nc, int64_t rows);
void soma_conv3_weight_events(const soma_conv2d *op, float *dE, const float *G, const soma_spikes *sx,
                              int64_t S, int64_t c0, int64_t nc, int64_t rows);

/* The same event-driven 3×3 conv fused with its bias and 2×2 stride-2 max pooling (conv3_pool2.c),
 * all S channels: Yp (rows, S, H_out/2, W_out/2) and arg (same shape, window index 0–3 of each
 * maximum: 2·row + column, the first one on ties) as the separate stages give them, bit for bit.
 * Backward: dE += the weight gradient and db += the bias gradient from the pooled gradient gp
 * (shaped as Yp) and arg. Both use the bound workspace (soma_conv3_event_floats counts them). */
bool soma_conv3_pool2_ok(const soma_conv2d *op);
void soma_conv3_pool2_forward(const soma_conv2d *op, float *Yp, uint8_t *arg, const soma_spikes *sx,
                              const float *E, const float *b, int64_t S, int64_t rows);
void soma_conv3_pool2_backward(const soma_conv2d *op, float *dE, float *db, const float *gp, const uint8_t *arg,
                               const soma_spikes *sx, int64_t S, int64_t rows);

/* Reference kernels (naive loops, double accumulation) the fast ones are tested against.
 * Same contracts as the synop ops: Y (rows, S·inner), E (S, fan_in), channels [c0, c0 + nc). */
void soma_conv2d_forward_ref(const soma_conv2d *op, float *Y, const float *x, const float *E,
                             int64_t S, int64_t c0, int64_t nc, int64_t rows);
void soma_conv2d_backward_input_ref(const soma_conv2d *op, float *dx, const float *G,
                                    const float *E, int64_t S, int64_t c0, int64_t nc,
                                    int64_t rows, float beta);
void soma_conv2d_backward_weight_ref(const soma_conv2d *op, float *dE, const float *G,
                                     const float *x, int64_t S, int64_t c0, int64_t nc,
                                     int64_t rows);

#endif
