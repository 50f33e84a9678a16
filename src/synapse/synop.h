/*
 * synapse/synop.h — synaptic operators A_E(x): the linear map from a layer's input to its
 * output channels, with their two backward products. Integration modes (src/integrate/) are
 * written once over this interface, so a new operator gets linear, bilinear and shunting
 * integration without new integration code.
 *
 * An operator applies a weight tensor E that holds S output channels (S may be a multiple of
 * the layer's N when an integration mode stacks several weight sets, e.g. [W | V | V²]).
 * Output rows are (rows, S·inner): channel c of row r at Y[r·S·inner + c·inner + s], where
 * inner is the number of positions per channel (1 for dense, H·W for convolution). Every call
 * works on the channel range [c0, c0 + nc) only.
 *
 * Weight element (channel c, input k) lives at E[c·ch_stride + k·in_stride]; parameters of a
 * single weight set use the same layout with S = N. Derived ops embed soma_synop first.
 */
#ifndef SOMA_SYNOP_H
#define SOMA_SYNOP_H

#include "soma/core.h"

/* Hot kernels are compiled for AVX-512, AVX2 and baseline x86-64 and picked at load time, so
 * the default build stays portable without giving up the wide vectors where they exist. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SOMA_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SOMA_HOT
#endif

/* Binary input as per-row lists of active inputs (built once per layer call). */
typedef struct soma_spikes {
    const int32_t *idx; /* active input indices, row after row */
    const int64_t *off; /* (rows + 1) start of each row's list */
    int64_t B;          /* rows are (T, B) time-major: row t·B + b */
    uint64_t *mask;     /* (in_dim) zeroed scratch for the per-sample weight gradient, or NULL */
    int32_t *touched;   /* (in_dim) scratch */
    /* Optionally the same spikes folded over time (T <= 64; the encoder makes them): sample b's
     * inputs that spiked at all, ascending, input fk[j] at the steps t of the bits of fm[j],
     * j in [foff[b], foff[b + 1]). NULL when only the lists exist. */
    const int32_t *fk;
    const uint64_t *fm;
    const int64_t *foff;
    /* The folded forward may complement inputs that spike at most steps (dense_fold.c): sums to
     * float rounding instead of the per-step gather's order. Set in training only: evaluation
     * keeps the order that a step-by-step runtime (the C exporter) reproduces bit for bit. */
    bool complement;
} soma_spikes;

/* The fold mask of steps 0..T−1 (T <= 64). */
static inline uint64_t soma_all_steps(int64_t T) { return T >= 64 ? ~0ULL : (1ULL << T) - 1; }

typedef struct soma_synop soma_synop;

typedef struct soma_synop_ops {
    const char *name;
    /* Y[:, c0:c0+nc] = A_E(x); sx != NULL selects the event-driven path (x binary). */
    void (*forward)(const soma_synop *op, float *Y, const float *x, const soma_spikes *sx,
                    const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows);
    /* dx = beta·dx + A_Eᵀ(G[:, c0:c0+nc]). */
    void (*backward_input)(const soma_synop *op, float *dx, const float *G, const float *E,
                           int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta);
    /* dE[:, c0:c0+nc] += ∇_E(G, x). */
    void (*backward_weight)(const soma_synop *op, float *dE, const float *G, const float *x,
                            const soma_spikes *sx, int64_t S, int64_t c0, int64_t nc,
                            int64_t rows);
    void (*free)(soma_synop *op);
} soma_synop_ops;

struct soma_synop {
    const soma_synop_ops *ops;
    int64_t in_dim;      /* floats per input row */
    int64_t fan_in;      /* inputs per output channel (M for dense, Cin·K·K for conv) */
    int64_t inner;       /* positions per output channel */
    int64_t ch_stride_1; /* ch_stride for S = 1 channel set: E layout is op-specific */
    bool in_major;       /* dense: E is (fan_in, S), element (c, k) at k·S + c */
};

/* Weight layout helpers: offset of (channel c, input k) in a tensor holding S channels. */
static inline int64_t synop_woff(const soma_synop *op, int64_t S, int64_t c, int64_t k) {
    return op->in_major ? k * S + c : c * op->fan_in + k;
}

/* Dense: y = x·E, x (rows, M), E (M, S). */
soma_synop *soma_dense_create(int64_t M);

/* Reference kernels (naive loops) the fast ones are tested against. */
void soma_dense_forward_ref(float *Y, const float *x, const float *E, int64_t M, int64_t S,
                            int64_t c0, int64_t nc, int64_t rows);
void soma_dense_backward_input_ref(float *dx, const float *G, const float *E, int64_t M,
                                   int64_t S, int64_t c0, int64_t nc, int64_t rows, float beta);
void soma_dense_backward_weight_ref(float *dE, const float *G, const float *x, int64_t M,
                                    int64_t S, int64_t c0, int64_t nc, int64_t rows);

/* Builds the per-row lists of nonzero inputs of x (rows, M) into idx (capacity rows·M) and
 * off (rows + 1). Returns the number of nonzeros. */
int64_t soma_spikes_build(int32_t *idx, int64_t *off, const float *x, int64_t rows, int64_t M);
/* Which soma_spikes_build kernel runs: 0 picks by the CPU, 1 forces the portable one (tests). */
extern int soma_spikes_build_kernel;
/* The number of nonzeros of x[0:n]: whether the lists are worth building (vectorised). */
int64_t soma_count_nonzero(const float *x, int64_t n);
/* Σ x[0:n] in double (a layer's spike count); binary x (0/1) is counted, exactly the same sum. */
double soma_spike_sum(const float *x, int64_t n, bool binary);

#endif
