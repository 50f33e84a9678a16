/*
 * layer/layer.h — the layer interface the net runs: a small const vtable over a base struct.
 *
 * A layer maps its input (T, B, in_dim) to its output (T, B, out_dim) for one chunk of B
 * samples. Buffers are planned by the net from the sizes declared here and handed in through
 * soma_lctx; layers never allocate while running. Parameters, the prepared (stacked) weights
 * E and the gradient workspace are slices of the net's flat blocks.
 */
#ifndef SOMA_LAYER_H
#define SOMA_LAYER_H

#include "soma/net.h"

typedef struct soma_layer soma_layer;

/* What one layer call gets for one chunk. */
typedef struct soma_lctx {
    int T;
    int64_t B;             /* samples in this chunk */
    const float *params;   /* the layer's parameter slice */
    const float *E;        /* the layer's prepared weights */
    float *tape;           /* (tape_per_row·T·B + tape_fixed) floats kept from forward to backward */
    float *scratch;        /* (scratch_per_row·T·B + scratch_fixed) floats, free between calls */
    float *gws;            /* the layer's gradient workspace for this chunk (accumulate) */
    bool train;
    bool in_binary;        /* input values are 0/1 spikes */
    const struct soma_spikes *sx_in; /* the input as spike lists, built by the producer (the
                                        encoder); when set, x may be NULL */
    bool in_static;        /* the input is the same at every step (direct encoding): a layer
                              may compute its synaptic product once per sample; x still holds
                              all T steps, and dx must still be (T, B, in_dim) */
    const float *state;    /* the layer's state slice (running statistics), or NULL */
    float sparse_max_density;
    uint64_t seed;         /* stream for this batch (dropout) */
    const int64_t *uid;    /* (B) sample ids */
    double *spikes;        /* OUT: output spikes of this call (may be NULL) */
    double *in_active;     /* OUT: nonzero inputs seen, when the layer counted them (may be NULL) */
    int *event_driven;     /* OUT: set to 1 when the event-driven path was taken (may be NULL) */
    int *binary_tables;    /* OUT: set to 1 when dense binary input took the subset tables (may be NULL) */
} soma_lctx;

typedef struct soma_layer_ops {
    const char *name;
    void (*init_params)(const soma_layer *l, float *params, soma_rng *rng);
    /* Builds E from params once per batch (NULL if the layer has no E). */
    void (*prepare)(const soma_layer *l, float *E, const float *params);
    void (*forward)(const soma_layer *l, const soma_lctx *c, float *y, const float *x);
    /* dx may be NULL (first layer); dx and dy never alias. */
    void (*backward)(const soma_layer *l, const soma_lctx *c, float *dx, const float *dy,
                     const float *x, const float *y);
    /* Maps the chunk-summed workspace onto the parameter gradients (overwrites them). */
    void (*finish)(const soma_layer *l, float *dparams, const float *gws, const float *params);
    /* Names, offsets (in the layer slice) and sizes of the parameter tensors; returns count.
     * A state tensor (n_state below) is reported with offset −1 − (offset in the state slice). */
    int (*tensors)(const soma_layer *l, const char **names, int64_t *offs, int64_t *numels);
    void (*free)(soma_layer *l);
    /* Optional, for layers with state (batch-norm running statistics; not trained): its initial
     * values, and its update from the chunk-summed workspace after each training batch. */
    void (*init_state)(const soma_layer *l, float *state);
    void (*update_state)(const soma_layer *l, float *state, const float *gws);
    /* Optional, for spiking output layers: out (B, out_dim) = the mean over T of the pre-reset
     * membrane the last forward left in c->tape (the readout's tie-break). */
    void (*mean_membrane)(const soma_layer *l, const soma_lctx *c, float *out);
} soma_layer_ops;

struct soma_layer {
    const soma_layer_ops *ops;
    char desc[128];
    int64_t in_dim, out_dim;
    bool spiking_out;        /* output is binary spikes */
    bool takes_spikes;       /* forward/backward accept lctx.sx_in instead of a dense x */
    bool folds_suffice;      /* given the encoder's folds (2 <= T <= 64), sx_in's per-step lists
                                are never read: the encoder need not make them */
    int64_t n_params, E_size, gws_size;
    int64_t tape_per_row, tape_fixed;
    int64_t list_per_row;    /* extra tape per row for the input's spike lists, planned only
                                when the layer must build them itself (binary input from a
                                previous layer; the encoder provides its own) */
    int64_t scratch_per_row, scratch_fixed;
    int64_t n_state;         /* floats of state (after the net's parameters; never optimised) */
    int64_t out_chw[3];      /* output as an image (C, H, W); {0} for flat outputs */
    /* set by the net */
    int64_t param_off, E_off, gws_off, state_off;
};

/* Dense spiking layer: dense synapse + integration mode + neuron dynamics. */
int soma_spiking_dense_create(soma_layer **out, int64_t in_dim, int64_t n,
                              const soma_integrate_params *ip, const soma_neuron_params *np,
                              soma_error *err);
/* Recurrent spiking layer: i_t = A(x_t) + W_rec·s_{t−1}, A with any integration mode. */
int soma_recurrent_create(soma_layer **out, int64_t in_dim, int64_t n,
                          const soma_integrate_params *ip, const soma_neuron_params *np,
                          soma_error *err);
/* Dropout, one mask per sample for all T steps, inverted scaling 1/(1 − p). */
int soma_dropout_create(soma_layer **out, int64_t dim, float p, soma_error *err);

#endif
