/*
 * net/inspect.c — read access to a net's internals for plots, statistics and the C exporter:
 * the structure of each layer, one sample's spike and membrane traces, and per-neuron spike
 * counts over a data set.
 *
 * Traces and counts are read from the chunk buffers that soma_net_eval_batch leaves behind,
 * so they are exactly what evaluation computed. The one piece of private layout this file
 * knows is where a dense spiking layer keeps its pre-reset membrane in its tape (spiking.c:
 * [hdr 4 | off (rows+1) int64 | mem (rows·N) | …]); the recurrent layer keeps it at the start
 * of its tape. (A `membrane` hook in soma_layer_ops would make this knowledge the layer's
 * own.) Two guards keep a change of that layout from drawing nonsense: every trace checks
 * that the membrane it found explains the layer's output (s_t = [h_t ≥ θ], or out = h for a
 * readout) and fails otherwise, and tests/test_export.c compares the membranes with an
 * independent implementation. It does not change parameters or the net's configuration.
 */
#include "net/net_internal.h"
#include "soma/inspect.h"

#include "encode/encode.h"
#include "layer/dense_input.h"

#include <stdio.h>
#include <string.h>


static const char *ops_name(const soma_layer *l) { return l->ops && l->ops->name ? l->ops->name : ""; }

static soma_layer_kind kind_of(const soma_layer *l) {
    const char *n = ops_name(l);
    if (strcmp(n, "dense") == 0) return SOMA_LAYER_DENSE;
    if (strcmp(n, "recurrent") == 0) return SOMA_LAYER_RECURRENT;
    if (strcmp(n, "dropout") == 0) return SOMA_LAYER_DROPOUT;
    return SOMA_LAYER_OTHER;
}

/* Whether layer i's input holds only 0/1 values in evaluation (dropout passes its input on). */
static bool binary_input(const soma_net *net, int i) {
    for (int j = i - 1; j >= 0; j--) {
        const soma_layer *l = net->layers[j];
        if (kind_of(l) != SOMA_LAYER_DROPOUT) return l->spiking_out;
    }
    return net->cfg.encoder != SOMA_ENCODE_DIRECT;
}

int soma_net_layer_info(const soma_net *net, int i, soma_layer_info *out) {
    memset(out, 0, sizeof *out);
    if (i < 0 || i >= net->nl) return SOMA_E_ARG;
    const soma_layer *l = net->layers[i];
    out->kind = kind_of(l);
    out->in_dim = l->in_dim, out->out_dim = l->out_dim;
    out->neuron = net->cfg.neuron;
    out->neuron.spiking = l->spiking_out;
    out->integrate = net->cfg.integrate;
    out->binary_in = binary_input(net, i);
    out->spiking_out = l->spiking_out;
    /* The per-layer integration mode comes from the notation's suffixes: parse it again. */
    soma_net_layer_spec ls[SOMA_MAX_LAYERS];
    int64_t in_dim = 0;
    int n = 0;
    if (soma_spec_parse(net->spec, &net->cfg, &in_dim, ls, &n, NULL) == SOMA_OK && n == net->nl) {
        out->integrate = ls[i].integrate;
        out->dropout_p = ls[i].p;
    }
    if (out->kind == SOMA_LAYER_DENSE || out->kind == SOMA_LAYER_RECURRENT) {
        out->nblk = (int)(l->E_size / (l->in_dim * l->out_dim));
        const soma_integrate_params *ip = &out->integrate;
        out->nblk_x = ip->mode == SOMA_INTEGRATE_BILINEAR && ip->ablation != SOMA_ABLATION_AB1
                          ? out->nblk - ip->rank
                          : out->nblk;
    }
    return SOMA_OK;
}

const float *soma_net_layer_weights(soma_net *net, int i, int64_t *n) {
    if (n) *n = 0;
    if (i < 0 || i >= net->nl) return NULL;
    soma_layer *l = net->layers[i];
    if (!l->ops->prepare || l->E_size == 0) return NULL;
    l->ops->prepare(l, net->E + l->E_off, net->params + l->param_off);
    if (n) *n = l->E_size;
    return net->E + l->E_off;
}

const float *soma_net_layer_tensor(const soma_net *net, int i, const char *name, int64_t *numel) {
    char full[64];
    snprintf(full, sizeof full, "l%d.%s", i, name);
    for (int k = 0; k < net->ntens; k++)
        if (strcmp(net->tensors[k].name, full) == 0) {
            if (numel) *numel = net->tensors[k].numel;
            return net->params + net->tensors[k].offset;
        }
    if (numel) *numel = 0;
    return NULL;
}

/* The pre-reset membrane (rows, N) of layer i in a chunk buffer, or NULL. */
static const float *membrane_of(const soma_net *net, const float *buf, int i, int64_t rows) {
    const soma_layer *l = net->layers[i];
    const float *tape = buf + net->plan.tape[i];
    switch (kind_of(l)) {
    case SOMA_LAYER_DENSE: /* both: [hdr | input row offsets (rows + 1) int64 | mem | …] */
    case SOMA_LAYER_RECURRENT: return tape + SOMA_DENSE_TAPE_HDR + 2 * (rows + 1);
    default: return NULL;
    }
}

void soma_trace_free(soma_trace *tr) {
    if (!tr) return;
    for (int i = 0; i < tr->n_layers; i++) {
        if (tr->out) soma_free(tr->out[i]);
        if (tr->mem) soma_free(tr->mem[i]);
    }
    soma_free(tr->out);
    soma_free(tr->mem);
    soma_free(tr->dim);
    soma_free(tr->input);
    soma_free(tr->logits);
    memset(tr, 0, sizeof *tr);
}

int soma_net_trace(soma_net *net, const float *x, int64_t uid, uint64_t seed, soma_trace *tr,
                   soma_error *err) {
    memset(tr, 0, sizeof *tr);
    const int T = net->cfg.T, nl = net->nl;
    tr->T = T, tr->in_dim = net->in_dim, tr->n_out = net->out_dim;
    tr->input = soma_malloc((size_t)(T * net->in_dim) * sizeof(float));
    tr->logits = soma_malloc((size_t)net->out_dim * sizeof(float));
    tr->dim = soma_calloc((size_t)nl, sizeof *tr->dim);
    tr->out = soma_calloc((size_t)nl, sizeof *tr->out);
    tr->mem = soma_calloc((size_t)nl, sizeof *tr->mem);
    if (!tr->input || !tr->logits || !tr->dim || !tr->out || !tr->mem) goto nomem;
    tr->n_layers = nl;
    for (int i = 0; i < nl; i++) {
        const soma_layer *l = net->layers[i];
        tr->dim[i] = l->out_dim;
        tr->out[i] = soma_malloc((size_t)(T * l->out_dim) * sizeof(float));
        if (!tr->out[i]) goto nomem;
        if (kind_of(l) == SOMA_LAYER_DENSE || kind_of(l) == SOMA_LAYER_RECURRENT) {
            tr->mem[i] = soma_malloc((size_t)(T * l->out_dim) * sizeof(float));
            if (!tr->mem[i]) goto nomem;
        }
    }
    int rc = soma_net_eval_batch(net, x, NULL, &uid, 1, seed, tr->logits, NULL);
    if (rc != SOMA_OK) {
        soma_fail(err, rc, "%s", soma_net_errmsg(net));
        soma_trace_free(tr);
        return rc;
    }
    /* A batch of one runs in chunk 0 with rows = T. The encoders are pure functions of
     * (seed, uid, t), so encoding again gives the spikes the net saw. */
    soma_encode(net->cfg.encoder, tr->input, x, &uid, T, 1, net->in_dim, seed);
    const float *buf = net->chunks[0].buf;
    for (int i = 0; i < nl; i++) {
        const int64_t n = (int64_t)T * tr->dim[i];
        memcpy(tr->out[i], buf + net->plan.act[i], (size_t)n * sizeof(float));
        const float *m = membrane_of(net, buf, i, T);
        if (!tr->mem[i] || !m) continue;
        memcpy(tr->mem[i], m, (size_t)n * sizeof(float));
        /* the membrane must explain the output: s = [h >= θ], or out = h for a readout */
        const bool spiking = net->layers[i]->spiking_out;
        const float theta = net->cfg.neuron.theta;
        for (int64_t k = 0; k < n; k++)
            if (spiking ? (tr->out[i][k] != 0.0f) != (tr->mem[i][k] >= theta) : tr->out[i][k] != tr->mem[i][k]) {
                soma_trace_free(tr);
                return soma_fail(err, SOMA_E_SHAPE, "internal: layer %d's membrane is not where net/inspect.c "
                                 "expects it in the tape (the layer's tape layout changed)", i);
            }
    }
    return SOMA_OK;
nomem:
    soma_trace_free(tr);
    return soma_fail(err, SOMA_E_NOMEM, "out of memory for a trace");
}

void soma_activity_free(soma_activity *act) {
    if (!act) return;
    for (int i = 0; i < act->n_layers; i++)
        if (act->neuron) soma_free(act->neuron[i]);
    soma_free(act->neuron);
    soma_free(act->spikes);
    soma_free(act->dim);
    memset(act, 0, sizeof *act);
}

int soma_net_activity(soma_net *net, const soma_dataset *d, int batch, uint64_t seed,
                      soma_activity *act, soma_error *err) {
    memset(act, 0, sizeof *act);
    if (d->dim != net->in_dim)
        return soma_fail(err, SOMA_E_SHAPE, "the data has %d features per sample but the net's input is %lld",
                         d->dim, (long long)net->in_dim);
    if (batch < 1 || d->n < 1) return soma_fail(err, SOMA_E_ARG, "empty data set or batch");
    const int T = net->cfg.T, nl = net->nl;
    const int64_t M = net->in_dim;
    float *x = soma_malloc((size_t)batch * (size_t)M * sizeof(float));
    int64_t *uid = soma_malloc((size_t)batch * sizeof(int64_t));
    act->dim = soma_calloc((size_t)nl, sizeof *act->dim);
    act->spikes = soma_calloc((size_t)nl, sizeof *act->spikes);
    act->neuron = soma_calloc((size_t)nl, sizeof *act->neuron);
    int rc = SOMA_OK;
    if (!x || !uid || !act->dim || !act->spikes || !act->neuron) goto nomem;
    act->n_layers = nl, act->T = T;
    for (int i = 0; i < nl; i++) {
        act->dim[i] = net->layers[i]->out_dim;
        if (net->layers[i]->spiking_out && !(act->neuron[i] = soma_calloc((size_t)act->dim[i], sizeof(double))))
            goto nomem;
    }
    if ((rc = soma_net_reserve(net, batch, err)) != SOMA_OK) goto fail;
    const bool binary = net->cfg.encoder != SOMA_ENCODE_DIRECT;
    soma_batch_stats st;
    /* One chunk per call: the chunks of a batch share the threads' work buffers, so only a
     * single chunk's activations are still there to read after the call. */
    batch = batch < net->cfg.chunk ? batch : net->cfg.chunk;
    for (int64_t first = 0; first < d->n; first += batch) {
        const int nb = (int)(d->n - first < batch ? d->n - first : batch);
        memcpy(x, d->x + first * M, (size_t)nb * (size_t)M * sizeof(float));
        for (int b = 0; b < nb; b++) uid[b] = first + b;
        rc = soma_net_eval_batch(net, x, d->y + first, uid, nb, seed, NULL, &st);
        if (rc != SOMA_OK) {
            soma_fail(err, rc, "%s", soma_net_errmsg(net));
            goto fail;
        }
        act->correct += st.correct;
        double nz = 0;
        for (int64_t k = 0; k < (int64_t)nb * M; k++) nz += x[k] != 0.0f;
        act->input_values += nz;
        /* The one chunk holds the nb samples time-major: (T, nb, N). */
        {
            const int64_t rows = (int64_t)T * nb;
            const float *buf = net->chunks[0].buf;
            if (binary) act->input_events += (double)((const int64_t *)(buf + net->plan.in_off))[rows];
            for (int i = 0; i < nl; i++) {
                if (!act->neuron[i]) continue;
                const int64_t N = act->dim[i];
                const float *y = buf + net->plan.act[i];
                double *cnt = act->neuron[i];
                for (int64_t r = 0; r < rows; r++)
                    for (int64_t n = 0; n < N; n++) cnt[n] += y[r * N + n];
            }
        }
    }
    if (!binary) act->input_events = act->input_values * T;
    for (int i = 0; i < nl; i++)
        if (act->neuron[i])
            for (int64_t n = 0; n < act->dim[i]; n++) act->spikes[i] += act->neuron[i][n];
    act->n = d->n;
    soma_free(x);
    soma_free(uid);
    return SOMA_OK;
nomem:
    rc = soma_fail(err, SOMA_E_NOMEM, "out of memory counting activity");
fail:
    soma_free(x);
    soma_free(uid);
    soma_activity_free(act);
    return rc;
}
