/*
 * soma/net.h — spiking networks: integration modes, the net notation, build → reserve → run.
 *
 * A net is a chain of layers described by the thesis's notation, e.g. "784-100-10":
 *   first token        input size (features per sample)
 *   N                  a dense spiking layer of N neurons, integrating with cfg.integrate.mode
 *   Nl / Nb / Ns       the same with linear / bilinear / shunting integration for that layer
 *   NR (e.g. 64R)      a recurrent spiking layer: i_t = W_in·x_t + W_rec·s_{t−1} + b
 *                      (may carry a mode suffix too: 64Rb)
 *   Dp (e.g. D0.2)     dropout with drop probability p, one mask per sample for all T steps
 * Images ("1x28x28-32C3-P2-32C3-P2-128-10"; docs/conv_nets.md has the details):
 *   CxHxW              first token: the input as an image, channel-major
 *   NCk (32C3)         conv spiking layer, N channels, k×k, stride 1, padding k/2; suffixes
 *                      s<stride>, p<padding>, then l/b/s for the integration mode (32C5s2p0b)
 *   Pk / Ak, BN, tdBN, MPBN   right after a conv: max/avg pooling and batch norm of its current
 *                      (before its neurons, in the order written), MPBN in its neurons
 *   MPk / APk, GAP     a standalone pooling layer of the previous output (Pk/Ak elsewhere too)
 *   ResN (Res128s2tm)  residual basic block: s<stride>, t = tdBN, m = MPBN, l/b/s
 *   Vg (V10)           voting: the mean of each group of g inputs
 * The last layer is the output layer; cfg.readout says whether it spikes (rate readout) or
 * reports its membrane potential (a non-spiking leaky integrator).
 *
 * Integration modes (a property of the synapse; the neuron dynamics are soma/neuron.h):
 *   linear     i = W·x + b
 *   bilinear   i = W·x + b + λ·Σ_f [(V_f·x)² − (V_f²)·x²]     rank R, λ learnable
 *   shunting   i = W₊·x ⊙ σ(k·V_p·x) + W₋·x ⊙ σ(k·V_n·x) + b, W₊ = ReLU(W), W₋ = −ReLU(−W)
 *   ablations (thesis): bilinear ab1 a·W₁x + (1−a)·W₂x, ab2 second-order term only, ab3 λ fixed;
 *                       shunting ab1 W₊x·σ(kV_p x), ab2 W₊x·σ(kV_p x) + W₋x, ab3 Wx·σ(kVx).
 *
 * Weight initialisation: W ~ U(−1/√M, 1/√M) (M = fan-in; PyTorch's Linear), b likewise;
 * bilinear V ~ N(0, 1/M)·v_scale and λ = lambda_init; shunting V_p, V_n ~ N(0, 1)·shunt_scale.
 *
 * Threads and determinism: a batch is split into chunks of cfg.chunk samples; chunks run in
 * parallel (OpenMP), each with single-threaded BLAS and its own gradient buffer, and the
 * buffers are summed in chunk order. Results are bitwise identical for any thread count.
 */
#ifndef SOMA_NET_H
#define SOMA_NET_H

#include "core.h"
#include "neuron.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum soma_integrate_mode {
    SOMA_INTEGRATE_LINEAR = 0,
    SOMA_INTEGRATE_BILINEAR,
    SOMA_INTEGRATE_SHUNTING,
    SOMA_INTEGRATE_COUNT
} soma_integrate_mode;

typedef enum soma_ablation {
    SOMA_ABLATION_NONE = 0,
    SOMA_ABLATION_AB1,
    SOMA_ABLATION_AB2,
    SOMA_ABLATION_AB3,
    SOMA_ABLATION_COUNT
} soma_ablation;

typedef struct soma_integrate_params {
    soma_integrate_mode mode;
    soma_ablation ablation;
    int rank;              /* bilinear R >= 1 */
    float lambda_init;     /* bilinear λ₀ (thesis: 0.1 MNIST FC, 0.01 conv / Fashion-MNIST) */
    bool lambda_per_neuron;/* one λ per output neuron instead of one per layer */
    float v_scale;         /* bilinear V init scale (× 1/√M) */
    float shunt_k;         /* shunting gate slope k */
    float shunt_scale;     /* shunting V_p, V_n init std (thesis "scaling ratio") */
    float mix_init;        /* bilinear ab1: initial a */
} soma_integrate_params;

soma_integrate_params soma_integrate_default_params(void);
const char *soma_integrate_mode_name(soma_integrate_mode m); /* "linear" "bilinear" "shunting" */
int soma_integrate_mode_parse(const char *s);                 /* also "lif" = linear; -1 unknown */
const char *soma_ablation_name(soma_ablation a);              /* "none" "ab1" "ab2" "ab3" */
int soma_ablation_parse(const char *s);

typedef enum soma_encoder {
    SOMA_ENCODE_RATE = 0, /* Bernoulli(p) per step */
    SOMA_ENCODE_LATENCY,  /* one spike at round((1 − p)(T − 1)) for p > 0 */
    SOMA_ENCODE_DIRECT,   /* the analogue value every step */
    SOMA_ENCODE_FRAMES,   /* event data: a sample row holds T frames of input_dim values, frame
                             t is the input at step t (soma_net_sample_dim floats per row) */
    SOMA_ENCODE_COUNT
} soma_encoder;
const char *soma_encoder_name(soma_encoder e);
int soma_encoder_parse(const char *s);

typedef enum soma_readout {
    SOMA_READOUT_RATE = 0, /* output layer spikes; logits = spike rate (mean over T) */
    SOMA_READOUT_MEMBRANE, /* output layer does not spike; logits = mean membrane over T */
    SOMA_READOUT_COUNT
} soma_readout;
const char *soma_readout_name(soma_readout r);
int soma_readout_parse(const char *s);

typedef enum soma_loss {
    SOMA_LOSS_CE = 0,  /* softmax cross-entropy of logit_scale × readout */
    SOMA_LOSS_MSE,     /* mean over classes of (rate − one-hot)² */
    SOMA_LOSS_COUNT
} soma_loss;
const char *soma_loss_name(soma_loss l);
int soma_loss_parse(const char *s);

typedef struct soma_net_config {
    int T;                       /* time steps */
    soma_neuron_params neuron;   /* dynamics of every spiking layer */
    soma_integrate_params integrate; /* default integration of every layer */
    soma_encoder encoder;
    soma_readout readout;
    soma_loss loss;
    float logit_scale;           /* CE on logit_scale × rate; e.g. T for spike counts */
    int chunk;                   /* samples per parallel chunk */
    float sparse_max_density;    /* binary inputs at or below this density take the
                                    event-driven path; 0 = always dense */
} soma_net_config;

/* T = 20, LIF defaults, linear, rate encoding, rate readout, CE with logit_scale 1, chunk 16,
 * event-driven up to 30 % input density. */
soma_net_config soma_net_default_config(void);

typedef struct soma_net soma_net;

/* Builds a net from its notation. On error returns a status, *out = NULL, message in err. */
int soma_net_create(soma_net **out, const char *spec, const soma_net_config *cfg, uint64_t seed,
                    soma_error *err);
void soma_net_free(soma_net *net);

/* Allocates every buffer for batches of up to max_batch samples. After this, training and
 * evaluation allocate nothing. Calling it again with a larger size reallocates. */
int soma_net_reserve(soma_net *net, int max_batch, soma_error *err);

const char *soma_net_spec(const soma_net *net);
const soma_net_config *soma_net_config_of(const soma_net *net);
int64_t soma_net_input_dim(const soma_net *net);
/* Floats per sample row the batch functions read: input_dim, or T·input_dim for frames. */
int64_t soma_net_sample_dim(const soma_net *net);
int64_t soma_net_output_dim(const soma_net *net);
/* Whether predictions break ties between equal output spike counts by the output neurons' mean
 * pre-reset membrane potential (a spiking dense output layer with more than one neuron). The
 * logits the batch functions return then include that term, at most a tenth of one spike. */
bool soma_net_breaks_ties(const soma_net *net);
int soma_net_layer_count(const soma_net *net);
/* A one-line description of layer i ("dense 784->100 bilinear(R=1) lif"). */
const char *soma_net_layer_desc(const soma_net *net, int i);

/* The flat parameter vector and its gradient (same layout). */
float *soma_net_params(soma_net *net, int64_t *n);
float *soma_net_grads(soma_net *net, int64_t *n);
/* Parameter tensors by name ("l0.W", "l0.V", "l0.lambda", "l0.b", ...), for checkpoints
 * and tests. Returns the count; name/offset/numel of tensor i via soma_net_param_info. */
int soma_net_param_count(const soma_net *net);
void soma_net_param_info(const soma_net *net, int i, const char **name, int64_t *offset,
                         int64_t *numel);

/* Results of one batch. */
typedef struct soma_batch_stats {
    double loss_sum;         /* summed over samples */
    int64_t correct;         /* argmax(logits) == label */
    int64_t samples;
    double spikes[16];       /* output spikes summed per layer (first 16 layers) */
    double neurons[16];      /* neuron-steps per layer, so rate = spikes / neurons */
    double in_active[16];    /* nonzero inputs per layer, so input density = in_active / in_total */
    double in_total[16];
    int event_chunks[16];    /* chunks whose layer took the event-driven path */
    int table_chunks[16];    /* chunks whose layer's dense binary input went through subset tables */
    int chunks;
} soma_batch_stats;

/* Forward + BPTT on a batch. x (B, input_dim) holds values in [0, 1] for the encoder; y (B)
 * labels. uid (B) identifies each sample for the counter-based RNG (rate encoding, dropout);
 * seed selects the stream (e.g. seed·1e6 + epoch). Gradients are written (not added) to
 * soma_net_grads. stats may be NULL. */
int soma_net_train_batch(soma_net *net, const float *x, const int32_t *y, const int64_t *uid,
                         int B, uint64_t seed, soma_batch_stats *stats);

/* Forward only (no dropout). logits (B, output_dim) may be NULL; y may be NULL (no loss). */
int soma_net_eval_batch(soma_net *net, const float *x, const int32_t *y, const int64_t *uid,
                        int B, uint64_t seed, float *logits, soma_batch_stats *stats);

/* Test hook: when dx is not NULL, the next train_batch also writes ∂L/∂x (B, input_dim) for
 * the direct encoder (whose input current is x itself). */
void soma_net_set_input_grad(soma_net *net, float *dx);

/* Last error message of this net. */
const char *soma_net_errmsg(const soma_net *net);

/* Checkpoints (soma/checkpoint.h container): spec, config, seed, parameters and, if given,
 * optimiser state. */
struct soma_optim;
int soma_net_save(const soma_net *net, const struct soma_optim *opt, const char *path,
                  soma_error *err);
/* Builds a net from a checkpoint. If opt is not NULL and the file holds optimiser state, it is
 * loaded into *opt (created here; caller frees). */
int soma_net_load(soma_net **out, struct soma_optim **opt, const char *path, soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
