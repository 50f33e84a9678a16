/* cli/cli.h — shared pieces of the `soma` command-line tool: option parsing, dataset names,
 * progress display and JSON output. The CLI links libsoma like any other user. */
#ifndef SOMA_CLI_H
#define SOMA_CLI_H

#include "soma.h"

#include <stdio.h>

/* ---- options ---------------------------------------------------------------------------- */

typedef enum { OPT_FLAG, OPT_INT, OPT_FLOAT, OPT_STR, OPT_U64 } opt_type;

typedef struct cli_opt {
    const char *name;  /* "--lr" */
    const char *alias; /* "-T" or NULL */
    opt_type type;
    void *dst;
    const char *help;
    double min, max;   /* numeric range (inclusive); min > max disables */
} cli_opt;

/* Parses argv[first..] into the table. Prints a clear error and returns -1 on an unknown
 * flag, a missing or malformed value, or a value out of range; returns 1 for --help (after
 * printing usage), 0 on success. */
int cli_parse(const char *verb, const char *usage, cli_opt *opts, int argc, char **argv, int first);

/* ---- neuron options shared by the net commands and soma rec ------------------------------ */

typedef struct neuron_opts {
    const char *neuron;     /* integration: lif|linear|bilinear|shunting */
    const char *dynamics;   /* lif|lif-tau|if|plif */
    const char *reset, *surrogate, *ablation;
    double alpha, tau, theta, v_reset, slope, lambda_init, shunt_k, shunt_scale, v_scale;
    int rank, detach_reset, lambda_per_neuron;
} neuron_opts;

/* The defaults are the library's (np, ip) with the given integration mode. */
void neuron_opts_defaults(neuron_opts *o, const char *neuron, const soma_neuron_params *np,
                          const soma_integrate_params *ip);
/* Appends the neuron options to a table at *n (capacity checked by the caller). */
void neuron_opts_table(neuron_opts *o, cli_opt *t, int *n);
/* Fills np and ip; prints the error ("soma VERB: ...", verb may be NULL) and returns -1 on an unknown name. */
int neuron_opts_config(const char *verb, const neuron_opts *o, soma_neuron_params *np, soma_integrate_params *ip);
/* "soma VERB: unknown WHAT 'V' (choose CHOICES)" on stderr; returns -1. */
int cli_bad_choice(const char *verb, const char *what, const char *v, const char *choices);

/* ---- network options shared by train / bench / xor -------------------------------------- */

typedef struct net_opts {
    neuron_opts nr;
    const char *encoder, *readout, *loss;
    double logit_scale, sparse_density;
    int T, chunk;
} net_opts;

void net_opts_defaults(net_opts *o);
/* Appends the network options (the neuron options included) to a table at *n. */
void net_opts_table(net_opts *o, cli_opt *t, int *n);
/* Builds a config; prints the error and returns -1 on unknown names. */
int net_opts_config(const net_opts *o, soma_net_config *cfg);

/* ---- datasets ----------------------------------------------------------------------------- */

/* Loads a named dataset: "mnist", "fashion" (from the cache dir), "idx:IMAGES,LABELS",
 * "csv:PATH", "libsvm:PATH" (train = false picks the test split of named sets). */
int cli_load_dataset(soma_dataset *d, const char *name, bool train, const char *cache_dir,
                     soma_error *err);
/* The same, keeping the first max_n samples of IDX sets (mnist, fashion, idx:) so that their
 * other images are never converted to floats; other sets load whole. max_n <= 0: all. */
int cli_load_dataset_head(soma_dataset *d, const char *name, bool train, const char *cache_dir,
                          int64_t max_n, soma_error *err);
/* The cache dir: $SOMA_CACHE or "cache" next to the binary's working directory. */
const char *cli_cache_dir(void);
/* The net notation with the input shape filled in: a spec that starts with a layer (e.g. the
 * thesis's "32C3-P2-32C3-P2-128-10") gets "CxHxW-" of the data in front; a spec that starts
 * with its input size ("784-100-10", "1x28x28-32C3-...") is returned as it is. */
const char *cli_net_spec(char *buf, size_t n, const char *spec, int c, int h, int w);
/* Frames per sample the event datasets (nmnist, cifar10dvs) are binned into (default 10). */
void cli_set_event_frames(int T);
/* Whether a dataset name has a training and a test split of its own ("cifar10:DIR" does;
 * "csv:FILE" does not). */
bool cli_dataset_has_splits(const char *name);

/* ---- output ------------------------------------------------------------------------------- */

/* A progress line: redrawn in place on a terminal, plain lines (every ~5 s) otherwise. */
void cli_progress(const soma_progress *p, void *user);
void cli_progress_done(void);

/* A tiny JSON object writer (numbers, strings, arrays of numbers). */
typedef struct json_out {
    FILE *f;
    int n;
} json_out;
void json_begin(json_out *j, FILE *f);
void json_str(json_out *j, const char *k, const char *v);
void json_num(json_out *j, const char *k, double v);
void json_int(json_out *j, const char *k, long long v);
void json_arr(json_out *j, const char *k, const double *v, int n);
void json_end(json_out *j);

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_xor(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_export(int argc, char **argv);

/* A model given as the first argument after the verb (argv[at] not an option): sets *model
 * and returns the index where options start. */
int cli_model_arg(int argc, char **argv, int at, const char **model);
/* Loads a checkpoint and a data set's test split (its first max_test samples if > 0) and
 * checks they fit. On error prints nothing, leaves the message in err and frees both. */
int cli_open_model(const char *model, const char *data, int max_test, soma_net **net, soma_dataset *d,
                   soma_error *err);
int cmd_rec(int argc, char **argv);

#endif
