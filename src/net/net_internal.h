/* net/net_internal.h — the net's private state, shared by net.c, spec.c and net_io.c. */
#ifndef SOMA_NET_INTERNAL_H
#define SOMA_NET_INTERNAL_H

#include "layer/conv.h"
#include "layer/layer.h"
#include "soma/net.h"

#define SOMA_MAX_LAYERS 64

typedef enum {
    SOMA_LS_DENSE,
    SOMA_LS_RECURRENT,
    SOMA_LS_DROPOUT,
    SOMA_LS_CONV,     /* conv spiking layer with its fused stages (layer/conv.h) */
    SOMA_LS_POOL,     /* standalone pooling of the previous layer's output */
    SOMA_LS_RESIDUAL, /* residual basic block */
    SOMA_LS_VOTE,     /* mean of groups of inputs */
} soma_ls_kind;

/* One parsed token of the net notation. */
typedef struct soma_net_layer_spec {
    soma_ls_kind kind;
    int64_t n;                       /* neurons */
    float p;                         /* dropout probability */
    soma_integrate_params integrate; /* cfg's, with the token's mode suffix applied */
    soma_conv_desc conv;             /* SOMA_LS_CONV */
    soma_res_desc res;               /* SOMA_LS_RESIDUAL */
    soma_pool_kind pool;             /* SOMA_LS_POOL */
    int64_t k;                       /* SOMA_LS_POOL window (0 = global), SOMA_LS_VOTE group */
} soma_net_layer_spec;

int soma_spec_parse(const char *spec, const soma_net_config *cfg, int64_t *in_dim,
                    soma_net_layer_spec *out, int *n_out, soma_error *err);
/* The same, also giving the input as an image (C, H, W) when the first token is one
 * ("1x28x28"), else (in_dim, 1, 1). */
int soma_spec_parse_shape(const char *spec, const soma_net_config *cfg, int64_t *in_dim,
                          int64_t in_chw[3], soma_net_layer_spec *out, int *n_out,
                          soma_error *err);
/* The image-input and conv-family tokens (spec_conv.c). soma_spec_input parses the first
 * token ("784" or "1x28x28"); returns false if it is neither. soma_spec_conv_token returns 1
 * for a new layer written to out[n], 2 for a stage fused into out[*fuse] (the conv layer the
 * previous token built; -1 if none), 0 if tok is not a conv-family token, or an error. */
bool soma_spec_input(const char *tok, int64_t *in_dim, int64_t in_chw[3]);
int soma_spec_conv_token(const char *tok, soma_net_layer_spec *out, int n, int *fuse,
                         const char *spec, int pos, soma_error *err);
/* Builds a conv, pooling, residual or voting layer (build_image.c) for an input of shape chw
 * (dim floats); first: it is the net's first layer; in_binary: its input is 0/1 spikes. */
int soma_net_image_layer_create(soma_layer **out, const soma_net_layer_spec *ls,
                                const int64_t chw[3], int64_t dim, const soma_neuron_params *np,
                                const soma_net_config *cfg, bool first, bool in_binary,
                                soma_error *err);

typedef struct soma_net_tensor {
    char name[48];
    int64_t offset, numel;
} soma_net_tensor;

/* Offsets (floats) of a work buffer's regions: everything one chunk needs while it runs. */
typedef struct soma_chunk_plan {
    int64_t xin, in_idx, in_off, enc_fk, enc_fm, enc_off, enc_dm, act[SOMA_MAX_LAYERS], tape[SOMA_MAX_LAYERS], grad[2], scratch, logits,
            tiebreak;
} soma_chunk_plan;

/* A chunk of a batch: its statistics; buf and gws are the work buffer and gradient workspace
 * it last ran in (one per thread, so activations, tapes and gradients take threads × one
 * chunk of memory, not the whole batch; chunk 0's workspace is the batch's sum). */
typedef struct soma_chunk {
    float *buf;
    float *gws;
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
    int64_t n_state; /* layers' state (BN running statistics), stored at params + n_params */
    float *params, *grads, *E;
    int ntens;
    soma_net_tensor *tensors;
    int max_batch, n_chunks, n_work;
    soma_chunk_plan plan;
    soma_chunk *chunks;
    float **work; /* (n_work) work buffers, plan's layout */
    float **tgws; /* (n_work) gradient workspaces of chunks 1.., one per thread (n_gws each) */
    float *gsum;  /* (n_gws) chunk 0's workspace and the batch's sum */
    float *input_grad;
    char err[600];
};

uint64_t soma_net_seed(const soma_net *net);

#endif
