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
