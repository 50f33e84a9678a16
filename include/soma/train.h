/*
 * soma/train.h — optimisers, learning-rate schedules, the epoch loop and evaluation metrics.
 *
 *   soma_optim_params op = soma_optim_default_params();   // Adam, lr 1e-3
 *   soma_optim *opt = soma_optim_create(&op, n_params);
 *   for each batch: soma_net_train_batch(...); soma_optim_step(opt, params, grads, lr);
 *
 * Optimiser state is two flat vectors in the same layout as the parameters, so checkpoints
 * and resumption are a copy.
 */
#ifndef SOMA_TRAIN_H
#define SOMA_TRAIN_H

#include "core.h"
#include "data.h"
#include "net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum soma_optim_kind {
    SOMA_OPTIM_SGD = 0, /* with momentum (0 = plain) */
    SOMA_OPTIM_ADAM,
    SOMA_OPTIM_ADAMW,   /* decoupled weight decay */
    SOMA_OPTIM_COUNT
} soma_optim_kind;

typedef struct soma_optim_params {
    soma_optim_kind kind;
    float lr;
    float momentum;     /* SGD */
    float beta1, beta2, eps;
    float weight_decay; /* L2 for SGD/Adam, decoupled for AdamW */
    float grad_clip;    /* max global L2 norm; 0 = off */
} soma_optim_params;

soma_optim_params soma_optim_default_params(void); /* Adam, lr 1e-3, β 0.9/0.999, eps 1e-8 */
const char *soma_optim_name(soma_optim_kind k);     /* "sgd" "adam" "adamw" */
int soma_optim_parse(const char *s);

typedef struct soma_optim soma_optim;
soma_optim *soma_optim_create(const soma_optim_params *p, int64_t n_params);
void soma_optim_free(soma_optim *opt);
/* One update with learning rate lr (from a schedule). */
void soma_optim_step(soma_optim *opt, float *params, const float *grads, float lr);
const soma_optim_params *soma_optim_params_of(const soma_optim *opt);
/* State access for checkpoints: m and v (NULL for SGD without momentum), n, step count. */
float *soma_optim_state(soma_optim *opt, int which, int64_t *n);
int64_t soma_optim_steps(const soma_optim *opt);
void soma_optim_set_steps(soma_optim *opt, int64_t steps);

/* Parameter groups: parameters [offset, offset + count) are updated with lr·lr_scale and
 * weight_decay·wd_scale (for AdamW the decoupled decay is then lr·lr_scale·weight_decay·wd_scale
 * per step, as in PyTorch's per-group lr and weight_decay); every other parameter with lr and
 * weight_decay. E.g. a bilinear layer's V (soma_net_param_info "l0.V") with a stronger weight
 * decay than W. Groups are disjoint; checkpoints save them (soma_net_save). */
enum { SOMA_OPTIM_MAX_GROUPS = 64 };
typedef struct soma_optim_group {
    int64_t offset, count;
    float lr_scale, wd_scale;
} soma_optim_group;
/* SOMA_E_ARG if the range is empty, outside the parameters or overlaps a group, a multiplier is
 * negative or not finite, or there are SOMA_OPTIM_MAX_GROUPS already. */
int soma_optim_add_group(soma_optim *opt, const soma_optim_group *group, soma_error *err);
int soma_optim_group_count(const soma_optim *opt);
const soma_optim_group *soma_optim_group_at(const soma_optim *opt, int i); /* by offset; NULL if out of range */
/* A group for every parameter tensor of net called name: a full name ("l0.V") or a tensor's
 * name within its layer, in every layer that has one ("V", "lambda", "W"). Returns the number
 * of tensors matched (> 0) or a negative status: SOMA_E_ARG when none matches, or as above. */
int soma_optim_group_tensors(soma_optim *opt, const soma_net *net, const char *name, float lr_scale,
                             float wd_scale, soma_error *err);

typedef enum soma_sched_kind {
    SOMA_SCHED_CONST = 0,
    SOMA_SCHED_STEP,    /* lr · gamma^(floor(epoch / step_size)) */
    SOMA_SCHED_COSINE,  /* lr_min + (lr − lr_min)(1 + cos(π·progress))/2, over all steps */
    SOMA_SCHED_COUNT
} soma_sched_kind;

typedef struct soma_schedule {
    soma_sched_kind kind;
    float lr, lr_min, gamma;
    int step_size; /* epochs */
} soma_schedule;
const char *soma_sched_name(soma_sched_kind k); /* "const" "step" "cosine" */
int soma_sched_parse(const char *s);
/* The learning rate at (epoch, step within the run of total_steps). */
float soma_schedule_lr(const soma_schedule *s, int epoch, int64_t step, int64_t total_steps);

/* Progress report, called after every batch (and once at the end of each epoch with
 * batch == n_batches). */
typedef struct soma_progress {
    int epoch, epochs;
    int64_t batch, n_batches;
    double loss;        /* running mean over this epoch */
    double accuracy;    /* running train accuracy over this epoch */
    double samples_per_s;
    double eta_s;       /* remaining time of this epoch */
    float lr;
} soma_progress;
typedef void (*soma_progress_fn)(const soma_progress *p, void *user);

typedef struct soma_train_options {
    int epochs;
    int batch;
    uint64_t seed;          /* shuffling and encoding */
    soma_schedule schedule;
    soma_progress_fn progress; /* may be NULL */
    void *user;
    int64_t max_batches;    /* stop each epoch after this many batches (0 = all) */
} soma_train_options;

typedef struct soma_epoch_result {
    double loss, accuracy, samples_per_s, seconds;
    double firing_rate[16]; /* per layer */
    int n_layers;
} soma_epoch_result;

/* Trains one epoch over d (shuffled by seed and epoch). */
int soma_train_epoch(soma_net *net, soma_optim *opt, const soma_dataset *d,
                     const soma_train_options *o, int epoch, soma_epoch_result *res,
                     soma_error *err);

typedef struct soma_eval_result {
    double loss, accuracy, samples_per_s, seconds;
    int64_t n;
    int32_t n_classes;
    int64_t *confusion;     /* (n_classes, n_classes) row = true, col = predicted; owned */
    double firing_rate[16];
    int n_layers;
} soma_eval_result;

/* Evaluates on d in batches (a fixed encoding stream: seed). Fills res (free with
 * soma_eval_result_free). */
int soma_evaluate(soma_net *net, const soma_dataset *d, int batch, uint64_t seed,
                  soma_eval_result *res, soma_error *err);
void soma_eval_result_free(soma_eval_result *res);

/* ---- the single-neuron XOR experiment (thesis §2) ----------------------------------------
 * One neuron ("2-1"), inputs held as constant currents (direct encoding) for T steps, target
 * spike rate 1 for XOR = 1 and 0 otherwise (MSE on the rate), trained full-batch with Adam
 * from a random initialisation. Learned means all four inputs are classified correctly
 * (rate > ½) by the real, spiking forward pass. */
typedef struct soma_xor_options {
    soma_integrate_mode mode;
    int T, steps;
    float lr;
    float lambda_init, v_scale, shunt_k, shunt_scale; /* integration inits (soma/net.h) */
    soma_surrogate surrogate;
    float slope;
    soma_reset reset;
} soma_xor_options;
soma_xor_options soma_xor_default_options(soma_integrate_mode mode);

typedef struct soma_xor_result {
    bool learned;
    float rate[4];     /* output rate for inputs (0,0), (0,1), (1,0), (1,1) */
    float final_loss;
} soma_xor_result;

int soma_xor_train(const soma_xor_options *o, uint64_t seed, soma_xor_result *r, soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
