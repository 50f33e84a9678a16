/*
 * layer/dense_input.h — what the dense-synapse spiking layers (spiking.c, recurrent.c) share:
 * their tape's layout and the choice of their input path.
 *
 * Tape: [hdr (path flag, padding) | input row offsets (rows + 1) int64 | mem (rows·N) |
 *        Y (rows·y_per_row) | input idx (rows·M) int32]. The idx part exists only when the net
 * planned it (list_per_row): the layer then builds its input's spike lists itself.
 */
#ifndef SOMA_LAYER_DENSE_INPUT_H
#define SOMA_LAYER_DENSE_INPUT_H

#include "layer/layer.h"
#include "synapse/dense_bits.h"
#include "synapse/synop.h"

#include <string.h>

#define SOMA_DENSE_TAPE_HDR 4 /* floats: [path flag, pad×3] keeps the int64 offsets 16-byte aligned */

typedef struct soma_dense_tape {
    float *flag; /* 1: the input took the event-driven path */
    int64_t *off;
    int32_t *idx;
    float *mem, *Y;
} soma_dense_tape;

static inline soma_dense_tape soma_dense_tape_of(float *tape, int64_t rows, int64_t N, int64_t y_per_row) {
    soma_dense_tape v;
    v.flag = tape;
    v.off = (int64_t *)(tape + SOMA_DENSE_TAPE_HDR);
    v.mem = tape + SOMA_DENSE_TAPE_HDR + 2 * (rows + 1);
    v.Y = v.mem + rows * N;
    v.idx = (int32_t *)(v.Y + rows * y_per_row);
    return v;
}

/* Forward (S: the outputs of the layer's one synaptic product): picks the input path — the
 * producer's (encoder's) spike lists, lists built here in the tape when the binary input is
 * sparse enough, or dense (NULL) — records it in the tape, reports density and path (dense
 * binary input: subset tables or GEMM), and zeroes the weight-gradient mask. sx holds the lists' views
 * (idx/off overwritten here when the producer made them; mask/touched set by the caller). */
static inline const soma_spikes *soma_dense_input_path(const soma_lctx *c, soma_dense_tape *tv, soma_spikes *sx,
                                                       const float *x, int64_t rows, int64_t M, int64_t S) {
    const soma_spikes *psx = NULL;
    int64_t nnz = -1;
    *tv->flag = 0.0f;
    if (c->sx_in) {
        sx->idx = c->sx_in->idx, sx->off = c->sx_in->off;
        sx->fk = c->sx_in->fk, sx->fm = c->sx_in->fm, sx->foff = c->sx_in->foff;
        psx = sx, *tv->flag = 1.0f; /* the producer chose the event-driven path */
        nnz = sx->off[rows];
    } else if (c->in_binary && c->sparse_max_density > 0) {
        /* count first: building lists that the density then rejects costs more than the count */
        nnz = soma_count_nonzero(x, rows * M);
        if ((double)nnz <= c->sparse_max_density * (double)rows * (double)M) {
            soma_spikes_build(tv->idx, tv->off, x, rows, M);
            psx = sx, *tv->flag = 1.0f;
        }
    }
    if (c->in_active && c->in_binary && nnz < 0) nnz = soma_count_nonzero(x, rows * M); /* for the stats */
    if (c->in_active && nnz >= 0) *c->in_active += (double)nnz;
    if (c->event_driven && psx) *c->event_driven = 1;
    if (c->binary_tables && !psx && c->in_binary && soma_dense_bits_enabled(rows, M, S)) *c->binary_tables = 1;
    if (psx) memset(sx->mask, 0, (size_t)M * sizeof *sx->mask);
    return psx;
}

#endif
