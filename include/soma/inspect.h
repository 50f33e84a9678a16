/*
 * soma/inspect.h — looking inside a trained net: the structure of each layer, the spike and
 * membrane traces of one sample, per-neuron activity over a data set, and the numbers people
 * quote about spiking nets (firing rates, synaptic operations, an energy estimate beside the
 * equivalent ANN's multiply-accumulates).
 *
 *   soma_trace tr;                                       // one sample, every layer
 *   soma_net_trace(net, x, uid, seed, &tr, &err);        // tr.out[i], tr.mem[i]: (T, N_i)
 *   soma_trace_free(&tr);
 *
 *   soma_activity act;                                   // a whole data set
 *   soma_net_activity(net, &test, 256, seed, &act, &err);
 *   soma_net_stats st;
 *   soma_net_stats_compute(&st, net, &act, NULL);        // NULL: 45 nm constants
 *   soma_net_stats_free(&st);  soma_activity_free(&act);
 *
 * Everything here runs the net's own evaluation path (soma_net_eval_batch) and reads what it
 * left in its buffers, so the traces are exactly what `soma eval` computes. Nothing here
 * changes parameters.
 */
#ifndef SOMA_INSPECT_H
#define SOMA_INSPECT_H

#include "core.h"
#include "data.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- structure ---------------------------------------------------------------------------- */

typedef enum soma_layer_kind {
    SOMA_LAYER_DENSE = 0,  /* dense spiking layer (or the membrane readout) */
    SOMA_LAYER_RECURRENT,  /* i_t = A(x_t) + W_rec·s_{t−1} */
    SOMA_LAYER_DROPOUT,    /* identity in evaluation */
    SOMA_LAYER_OTHER,      /* a kind this API does not describe (e.g. convolution) */
} soma_layer_kind;

typedef struct soma_layer_info {
    soma_layer_kind kind;
    int64_t in_dim, out_dim;
    soma_integrate_params integrate; /* the layer's integration mode (dense, recurrent) */
    soma_neuron_params neuron;       /* its dynamics; neuron.spiking is false for a readout */
    float dropout_p;
    int nblk;         /* weight sets stacked in the prepared weights E: 1 linear, 1 + 2R
                         bilinear ([W | V_1..V_R | V_1²..V_R²]), 4 shunting ([W₊ | W₋ | V_p | V_n]),
                         fewer for ablations */
    int nblk_x;       /* the first nblk_x sets see x, the others x ⊙ x (= x for spikes) */
    bool binary_in;   /* the layer's input is 0/1 spikes (encoder or a spiking layer) */
    bool spiking_out; /* its output is 0/1 spikes */
} soma_layer_info;

/* Describes layer i. SOMA_E_ARG if i is out of range. */
int soma_net_layer_info(const soma_net *net, int i, soma_layer_info *out);

/* The prepared (stacked) weights E of layer i, (in_dim, nblk·out_dim) input-major: the
 * nblk·N output weights of input k are row k. Rebuilt from the current parameters by this
 * call; the pointer stays valid until the next call that runs the net. NULL (and *n = 0) for
 * layers without weights. */
const float *soma_net_layer_weights(soma_net *net, int i, int64_t *n);

/* Parameter tensor `name` of layer i ("W", "V", "Vp", "Vn", "W2", "a", "lambda", "b",
 * "W_rec", "plif_w"), or NULL if the layer has none. Points into the parameter vector. */
const float *soma_net_layer_tensor(const soma_net *net, int i, const char *name, int64_t *numel);

/* ---- one sample ------------------------------------------------------------------------- */

typedef struct soma_trace {
    int T, n_layers;
    int64_t in_dim, n_out;
    float *input;   /* (T, in_dim) the encoded input (spikes, or values for direct encoding) */
    int64_t *dim;   /* (n_layers) neurons of each layer */
    float **out;    /* [n_layers] (T, dim[i]) each layer's output: spikes, or h_t of a readout */
    float **mem;    /* [n_layers] (T, dim[i]) pre-reset membrane h_t; NULL for dropout and
                       kinds this API does not describe */
    float *logits;  /* (n_out) the readout soma eval computes */
} soma_trace;

/* Runs one sample x (in_dim values in [0, 1]) through the net's evaluation path with sample
 * id uid and encoding stream seed (soma eval uses id = index in the data set and
 * seed = 31·--seed + 977) and copies every layer's output and membrane. On success the
 * caller frees tr with soma_trace_free; on error tr is zeroed. */
int soma_net_trace(soma_net *net, const float *x, int64_t uid, uint64_t seed, soma_trace *tr,
                   soma_error *err);
void soma_trace_free(soma_trace *tr);

/* ---- a data set --------------------------------------------------------------------------- */

typedef struct soma_activity {
    int T, n_layers;
    int64_t n;             /* samples */
    int64_t correct;       /* argmax(logits) == label */
    double input_events;   /* binary encoders: input spikes; direct: nonzero values × T */
    double input_values;   /* nonzero input features, summed over samples (not steps) */
    int64_t *dim;          /* (n_layers) */
    double *spikes;        /* (n_layers) output spikes summed over samples, steps, neurons */
    double **neuron;       /* [n_layers] (dim[i]) spikes per neuron summed over samples and
                              steps; NULL for layers whose output is not spikes */
} soma_activity;

/* Evaluates the net on d (batches of `batch`, sample id = index, stream seed as soma eval)
 * and counts spikes per neuron and input events. Caller frees act with soma_activity_free. */
int soma_net_activity(soma_net *net, const soma_dataset *d, int batch, uint64_t seed,
                      soma_activity *act, soma_error *err);
void soma_activity_free(soma_activity *act);

/* ---- operation counts and energy ---------------------------------------------------------
 *
 * Per sample (T steps), per layer of in_dim M, N neurons and S = nblk·N stacked weights:
 *   SOPs (synaptic operations, accumulates): input spikes × S, plus output spikes × N for the
 *     recurrent weights — each spike adds one weight row, the usual "spikes × fan-out";
 *   synaptic MACs: analog (direct-encoded) input, nonzero values × S × T;
 *   neuron ops, per neuron and step: integration (bias: 1 AC; bilinear: R + 1 MAC + 2 AC;
 *     shunting: per gate 1 MAC + a sigmoid counted as 4 MAC, + 1 AC for the bias) and
 *     dynamics (LIF decay form 1 MAC, τ form / PLIF 2 MAC + 1 AC, IF 1 AC; soft reset 1 AC);
 *   equivalent ANN: the same weight sets applied once to analog activations, M·S MACs, plus
 *     the same integration ops once per neuron.
 * Energy = ACs · e_ac + MACs · e_mac. Defaults: 0.9 pJ per 32-bit float add and 4.6 pJ per
 * 32-bit float multiply-accumulate at 45 nm (Horowitz, ISSCC 2014), the constants SNN papers
 * usually quote. "Synaptic" energy counts SOPs and synaptic MACs only, as most papers do.
 */
typedef struct soma_energy_params {
    double e_ac_pj, e_mac_pj;
} soma_energy_params;
soma_energy_params soma_energy_default_params(void); /* 0.9 pJ, 4.6 pJ */

typedef struct soma_layer_stats {
    char desc[128];
    soma_layer_kind kind;
    int64_t in_dim, out_dim;
    int nblk;
    double firing_rate;   /* output spikes per neuron per step (-1 for a non-spiking output) */
    double silent;        /* fraction of neurons that never fired on the data (-1 if n/a) */
    double in_events;     /* input spikes per sample (nonzero values × T for analog input) */
    double sops;          /* synaptic accumulates per sample */
    double syn_macs;      /* synaptic multiply-accumulates per sample (analog input) */
    double neuron_acs, neuron_macs; /* integration and dynamics per sample */
    double ann_macs, ann_acs;       /* the equivalent ANN per sample */
    double energy_pj, syn_energy_pj, ann_energy_pj;
} soma_layer_stats;

typedef struct soma_net_stats {
    int T, n_layers;
    int64_t n;
    double accuracy;
    soma_energy_params e;
    soma_layer_stats *layer; /* (n_layers) */
    soma_layer_stats total;  /* sums (firing_rate: spikes / neuron-steps over spiking layers) */
} soma_net_stats;

/* Derives the counts above from the structure and measured activity. e may be NULL. */
int soma_net_stats_compute(soma_net_stats *st, const soma_net *net, const soma_activity *act,
                           const soma_energy_params *e, soma_error *err);
void soma_net_stats_free(soma_net_stats *st);

#ifdef __cplusplus
}
#endif
#endif
