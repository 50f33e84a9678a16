/*
 * soma/export.h — standalone C inference: a trained net as one dependency-free C99 source
 * and header (weights as const arrays, fixed-size state, no malloc, no libm except expf for
 * shunting gates), plus an in-process twin that runs exactly the same arithmetic.
 *
 *   soma_export_options o = soma_export_default_options();
 *   o.name = "mnist_net";  o.int8 = false;
 *   soma_export_model *m;
 *   soma_export_create(&m, net, &o, &err);
 *   soma_export_write(m, "out", &info, &err);      // out/mnist_net.h, out/mnist_net.c
 *   soma_export_predict(m, x, uid, seed, logits);  // what the generated code computes
 *   soma_export_free(m);
 *
 * The generated API (for name "net"):
 *   net_state st;                       // all state: a few KB, no heap
 *   net_reset(&st);                     // before each sample
 *   net_step(&st, in, out);             // one time step: in (NET_N_IN) encoded input,
 *                                       //   out (NET_N_OUT) the output layer's spikes/membrane
 *   net_encode(x, seed, uid, t, in);    // Soma's encoder for step t (rate, latency or direct)
 *   net_predict(&st, x, seed, uid, logits); // reset, T × (encode, step), readout → class
 *
 * Float mode performs Soma's evaluation arithmetic operation for operation: weights are the
 * prepared stacked weights E, input rows are summed in increasing input order as in Soma's
 * event-driven path, then the integration mode's combine step, the neuron update and the
 * readout in the same order. "Exactly" therefore means: when Soma evaluates a layer on the
 * event-driven path (binary input at most --sparse-density dense, the default for rate-coded
 * MNIST and spiking hidden layers), spikes, membranes and logits are bitwise equal; on the
 * BLAS path (dense spikes, direct-encoded analog input, recurrent weights) sums are taken in
 * a different order and agree to float rounding. This needs IEEE single precision without
 * excess precision and without FMA contraction (GCC's default in -std=c99/c11 modes; pass
 * -ffp-contract=off in GNU modes). Predicted classes then match exactly.
 *
 * int8 mode: every weight set of a layer (W, V, V², W₊, …, W_rec) gets one symmetric scale
 * max|w|/127 and is stored as int8; a time step sums int8 weights into int32 accumulators
 * (analog inputs are quantised to round(127·x) first) and scales the sums back to float once.
 * The combine step, neuron update and readout stay float. The accuracy change is measured
 * with soma_export_evaluate.
 */
#ifndef SOMA_EXPORT_H
#define SOMA_EXPORT_H

#include "core.h"
#include "data.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct soma_export_options {
    const char *name; /* C identifier prefix of everything generated; default "soma_model" */
    bool int8;        /* int8 weights with int32 accumulation */
    const char *source; /* shown in the generated comments (e.g. the checkpoint path); may be NULL */
} soma_export_options;

soma_export_options soma_export_default_options(void);

typedef struct soma_export_model soma_export_model;

/* Captures the net's weights, structure and readout. Supports dense (linear, bilinear,
 * shunting and their ablations, any dynamics incl. PLIF, any reset, membrane or rate
 * readout), recurrent and dropout layers with any encoder. SOMA_E_ARG with a message for
 * anything else (e.g. convolution) or a name that is not a C identifier. */
int soma_export_create(soma_export_model **out, soma_net *net, const soma_export_options *o,
                       soma_error *err);
void soma_export_free(soma_export_model *m);

typedef struct soma_export_info {
    char c_path[4096], h_path[4096];
    int64_t source_bytes;  /* .c + .h */
    int64_t weight_bytes;  /* const data (weights, biases, scales) */
    int64_t state_bytes;   /* the state struct, i.e. the RAM a running net needs besides the
                              stack (a few locals): sizeof(NAME_state) on LP64 targets */
    int64_t n_weights;     /* weight values */
} soma_export_info;

/* Writes DIR/NAME.h and DIR/NAME.c (DIR must exist). info may be NULL. */
int soma_export_write(const soma_export_model *m, const char *dir, soma_export_info *info,
                      soma_error *err);

/* A line (e.g. the measured accuracy) added to the generated header's comment. */
void soma_export_set_note(soma_export_model *m, const char *note);

/* Layout facts without writing (same numbers as soma_export_write's info, paths empty). */
void soma_export_sizes(const soma_export_model *m, soma_export_info *info);

/* ---- the in-process twin: the generated code's arithmetic --------------------------------- */

void soma_export_reset(soma_export_model *m);
/* One step: in (in_dim) encoded input; out (out_dim) output spikes or membrane. */
void soma_export_step(soma_export_model *m, const float *in, float *out);
/* Soma's encoder for step t of sample uid (the generated NAME_encode). in (in_dim). */
void soma_export_encode(const soma_export_model *m, const float *x, uint64_t seed, uint64_t uid,
                        int t, float *in);
/* Reset, T × (encode, step), readout. logits (out_dim); returns the predicted class. */
int soma_export_predict(soma_export_model *m, const float *x, uint64_t seed, uint64_t uid,
                        float *logits);
/* After a step: exported layer j's pre-reset membrane and output (N values each), where j
 * counts layers with weights (dropout layers are not exported). NULL if out of range. */
const float *soma_export_layer_mem(const soma_export_model *m, int j);
const float *soma_export_layer_out(const soma_export_model *m, int j);
int soma_export_layer_count(const soma_export_model *m);

/* Accuracy of the exported arithmetic on d (sample id = index, stream seed as soma eval).
 * pred (d->n) may be NULL. */
int soma_export_evaluate(soma_export_model *m, const soma_dataset *d, uint64_t seed,
                         double *accuracy, int32_t *pred, soma_error *err);

/* Test vectors for the round-trip test of the generated code: the first n samples of d with
 * their labels, the logits soma eval computes for them (soma_net_eval_batch in batches of
 * eval_batch, as `soma eval --batch` does) and the logits of the exported arithmetic, in a
 * small text format (tests/export_harness.c reads it). ref_accuracy_drop is written into the
 * header line: the accuracy drop the exporter reported (0 for float). */
int soma_export_write_testvec(const char *path, soma_net *net, soma_export_model *m,
                              const soma_dataset *d, int64_t n, uint64_t seed, int eval_batch,
                              double ref_accuracy_drop, soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
