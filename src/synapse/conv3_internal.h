/*
 * synapse/conv3_internal.h — the pieces of the 3×3 stride-1 event kernels (conv2d_sparse.c)
 * that the kernels fused with 2×2 max pooling (conv3_pool2.c) share, and that the stacked
 * modes' path (layer/conv_stack.c) builds on. Not part of the operator
 * interface: layouts as described in conv2d_sparse.c.
 */
#ifndef SOMA_CONV3_INTERNAL_H
#define SOMA_CONV3_INTERNAL_H

#include "synapse/conv2d.h"

/* Channels padded to whole pairs of 16-float registers. */
static inline int64_t soma_round32(int64_t c) { return (c + 31) / 32 * 32; }

/* W9 (C_in·9, Ncp): channels [c0, c0 + nc) of E, tap-flipped for the forward scatter, zero
 * beyond nc. */
void soma_conv3_weights(float *W9, const soma_conv2d *op, const float *E, int64_t c0, int64_t nc,
                        int64_t Ncp);
/* dE[c0:c0+nc] += dW9 mapped back to E's layout. */
void soma_conv3_weights_add(float *dE, const soma_conv2d *op, const float *dW9, int64_t c0, int64_t nc,
                            int64_t Ncp);
/* Position-major lists (n (HW), ch (HW·C_in)) of row r's spikes. */
void soma_conv3_bucket(int32_t *n, int32_t *ch, const soma_conv2d *op, const soma_spikes *sx, int64_t r);
/* P ((gh + 2)·(gw + 2), Cp) overwritten with Σ value·W9[channel, tap] over each grid position's
 * list; v NULL: every value is 1 (spikes). */
void soma_conv3_scatter(float *P, int64_t gh, int64_t gw, const int32_t *n, const int32_t *ch,
                        const float *v, int64_t S, const float *W9, int64_t Cp);
/* dW9 += row r's weight gradient from the plane P holding G position-major (zero border). */
void soma_conv3_weight_row(const soma_conv2d *op, float *dW9, const float *P, const soma_spikes *sx,
                           int64_t r, int64_t Ncp);
/* dst (C, H, W) channel-major from the plane P (rows of Wp positions of Cp channels), the image
 * at plane offset (o, o). */
void soma_conv3_plane_out(float *dst, const float *P, int64_t Wp, int64_t o, int64_t Cp, int64_t C,
                          int64_t H, int64_t W);

/* 2×2 stride-2 max pooling of a position-major plane P (rows of Wp positions of Ncp
 * channels, the image at offset (o, o)) plus bias (Ncp): pooled values yq and window indices
 * aq (HWq, Ncp), the comparisons of soma_pool_forward. */
void soma_conv3_pool2_plane(float *yq, int32_t *aq, const float *P, const float *bias, int64_t Wp, int64_t o,
                            int64_t Hq, int64_t Wq, int64_t Ncp);
/* The gradient plane P (conv output at offset o, Wp positions a row, Ncp channels) from a
 * pooled gradient gq and window indices aq (HWq, Ncp each, position-major): each 2×2 window's
 * maximum gets the window's gradient, its other pixels zero; pixels in no window untouched. */
void soma_conv3_pool2_fill(float *P, const float *gq, const int32_t *aq, int64_t Wp, int64_t o, int64_t Hq,
                           int64_t Wq, int64_t Ncp);
/* The same gradient as the position-major lists of soma_conv2d_gsparse (n (Ho·Wo), ch and v
 * (Ho·Wo, cap)) over channels [s0, s0 + ns) of gq and aq, numbered from 0: the input gradient
 * of max pooling's sparse gradient (soma_conv2d_backward_input_sparse). */
void soma_conv3_pool2_lists(int32_t *n, int32_t *ch, float *v, int64_t cap, const float *gq, const int32_t *aq,
                            int64_t Ncp, int64_t s0, int64_t ns, int64_t Hq, int64_t Wq, int64_t Ho, int64_t Wo);

#endif
