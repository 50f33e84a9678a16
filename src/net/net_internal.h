/* net/net_internal.h — the net's private state, shared by net.c, spec.c and net_io.c. */
#ifndef SOMA_NET_INTERNAL_H
#define SOMA_NET_INTERNAL_H

#include "layer/layer.h"
#include "soma/net.h"

#define SOMA_MAX_LAYERS 64

typedef enum { SOMA_LS_DENSE, SOMA_LS_RECURRENT, SOMA_LS_DROPOUT } soma_ls_kind;

/* One parsed token of the net notation. */
typedef struct soma_net_layer_spec {
    soma_ls_kind kind;
    int64_t n;                       /* neurons */
    float p;                         /* dropout probability */
    soma_integrate_params integrate; /* cfg's, with the token's mode suffix applied */
} soma_net_layer_spec;

int soma_spec_parse(const char *spec, const soma_net_config *cfg, int64_t *in_dim,
                    soma_net_layer_spec *out, int *n_out, soma_error *err);

typedef struct soma_net_tensor {
    char name[48];
    int64_t offset, numel;
} soma_net_tensor;

/* Offsets (floats) of a chunk buffer's regions. */
typedef struct soma_chunk_plan {
    int64_t xin, in_idx, in_off, enc_nz, enc_off, act[SOMA_MAX_LAYERS], tape[SOMA_MAX_LAYERS], grad[2], scratch, gws, logits;
} soma_chunk_plan;

typedef struct soma_chunk {
    float *buf;
    soma_batch_stats stats;
} soma_chunk;

struct soma_net {
    char *spec;
    soma_net_config cfg;
    uint64_t seed;
    int nl;
    soma_layer **layers;
    int64_t in_dim, out_dim;
    int64_t n_params, n_E, n_gws;
    float *params, *grads, *E;
    int ntens;
    soma_net_tensor *tensors;
    int max_batch, n_chunks;
    soma_chunk_plan plan;
    soma_chunk *chunks;
    float *input_grad;
    char err[600];
};

uint64_t soma_net_seed(const soma_net *net);

#endif
