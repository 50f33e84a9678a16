/*
 * train/trainer.c — the epoch loop (shuffle, batch, train, step, report) and evaluation
 * (accuracy, loss, confusion matrix, firing rates).
 *
 * Each sample's id is its index in the dataset, and the encoding stream of an epoch is
 * seed·1000003 + epoch, so a sample's input spikes depend only on (seed, epoch, index).
 */
#include "soma/train.h"

#include <string.h>

typedef struct batch_buf {
    float *x;
    int32_t *y;
    int64_t *uid;
} batch_buf;

static int batch_alloc(batch_buf *b, int B, int64_t dim) {
    b->x = soma_malloc((size_t)B * (size_t)dim * sizeof(float));
    b->y = soma_malloc((size_t)B * sizeof(int32_t));
    b->uid = soma_malloc((size_t)B * sizeof(int64_t));
    return b->x && b->y && b->uid ? SOMA_OK : SOMA_E_NOMEM;
}

static void batch_free(batch_buf *b) {
    soma_free(b->x);
    soma_free(b->y);
    soma_free(b->uid);
}

static void gather(batch_buf *b, const soma_dataset *d, const int32_t *order, int64_t first, int B) {
    for (int i = 0; i < B; i++) {
        int64_t s = order ? order[first + i] : first + i;
        memcpy(b->x + (int64_t)i * d->dim, d->x + s * d->dim, (size_t)d->dim * sizeof(float));
        b->y[i] = d->y[s];
        b->uid[i] = s;
    }
}

static int check_shapes(const soma_net *net, const soma_dataset *d, int batch, soma_error *err) {
    if (d->dim != soma_net_sample_dim(net))
        return soma_fail(err, SOMA_E_SHAPE, "the data has %d features per sample but the net's input is %lld",
                         d->dim, (long long)soma_net_sample_dim(net));
    if (d->n_classes > (soma_net_output_dim(net) == 1 ? 2 : soma_net_output_dim(net)))
        return soma_fail(err, SOMA_E_SHAPE, "the data has %d classes but the net has %lld outputs",
                         d->n_classes, (long long)soma_net_output_dim(net));
    if (batch < 1) return soma_fail(err, SOMA_E_ARG, "batch size must be >= 1");
    if (d->n < 1) return soma_fail(err, SOMA_E_ARG, "empty dataset");
    return SOMA_OK;
}

int soma_train_epoch(soma_net *net, soma_optim *opt, const soma_dataset *d,
                     const soma_train_options *o, int epoch, soma_epoch_result *res,
                     soma_error *err) {
    int rc = check_shapes(net, d, o->batch, err);
    if (rc != SOMA_OK) return rc;
    const int B = o->batch;
    int64_t nb = (d->n + B - 1) / B;
    if (o->max_batches > 0 && nb > o->max_batches) nb = o->max_batches;
    int32_t *order = soma_malloc((size_t)d->n * sizeof *order);
    batch_buf bb = {0};
    if (!order || batch_alloc(&bb, B, d->dim) != SOMA_OK || soma_net_reserve(net, B, err) != SOMA_OK) {
        soma_free(order);
        batch_free(&bb);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory for batch %d", B);
    }
    for (int64_t i = 0; i < d->n; i++) order[i] = (int32_t)i;
    soma_rng rng;
    soma_rng_seed(&rng, o->seed * 7919u + (uint64_t)epoch);
    soma_rng_shuffle(&rng, order, d->n);
    const uint64_t stream = o->seed * 1000003u + (uint64_t)epoch;
    int64_t total_steps = nb * o->epochs;
    double loss = 0, t0 = soma_now();
    int64_t correct = 0, seen = 0;
    soma_batch_stats st;
    double spikes[16] = {0}, neurons[16] = {0};
    int64_t params_n;
    float *params = soma_net_params(net, &params_n), *grads = soma_net_grads(net, NULL);
    for (int64_t bi = 0; bi < nb; bi++) {
        int64_t first = bi * B;
        int nbatch = (int)(d->n - first < B ? d->n - first : B);
        gather(&bb, d, order, first, nbatch);
        rc = soma_net_train_batch(net, bb.x, bb.y, bb.uid, nbatch, stream, &st);
        if (rc != SOMA_OK) {
            soma_fail(err, rc, "%s", soma_net_errmsg(net));
            break;
        }
        float lr = soma_schedule_lr(&o->schedule, epoch, (int64_t)epoch * nb + bi, total_steps);
        soma_optim_step(opt, params, grads, lr);
        loss += st.loss_sum, correct += st.correct, seen += st.samples;
        for (int i = 0; i < 16; i++) spikes[i] += st.spikes[i], neurons[i] += st.neurons[i];
        if (o->progress) {
            double el = soma_now() - t0;
            soma_progress p = {epoch, o->epochs, bi + 1, nb, loss / (double)seen,
                               (double)correct / (double)seen, (double)seen / el,
                               el / (double)(bi + 1) * (double)(nb - bi - 1), lr};
            o->progress(&p, o->user);
        }
    }
    soma_free(order);
    batch_free(&bb);
    if (rc != SOMA_OK) return rc;
    if (res) {
        memset(res, 0, sizeof *res);
        res->seconds = soma_now() - t0;
        res->loss = loss / (double)seen;
        res->accuracy = (double)correct / (double)seen;
        res->samples_per_s = (double)seen / res->seconds;
        res->n_layers = soma_net_layer_count(net) < 16 ? soma_net_layer_count(net) : 16;
        for (int i = 0; i < res->n_layers; i++) res->firing_rate[i] = neurons[i] > 0 ? spikes[i] / neurons[i] : 0;
    }
    return SOMA_OK;
}

int soma_evaluate(soma_net *net, const soma_dataset *d, int batch, uint64_t seed,
                  soma_eval_result *res, soma_error *err) {
    memset(res, 0, sizeof *res);
    int rc = check_shapes(net, d, batch, err);
    if (rc != SOMA_OK) return rc;
    const int64_t C = soma_net_output_dim(net);
    batch_buf bb = {0};
    float *logits = soma_malloc((size_t)batch * (size_t)C * sizeof(float));
    res->confusion = soma_calloc((size_t)(C * C), sizeof(int64_t));
    if (!logits || !res->confusion || batch_alloc(&bb, batch, d->dim) != SOMA_OK ||
        soma_net_reserve(net, batch, err) != SOMA_OK) {
        soma_free(logits);
        batch_free(&bb);
        soma_eval_result_free(res);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory for evaluation batch %d", batch);
    }
    res->n_classes = (int32_t)C;
    double loss = 0, t0 = soma_now(), spikes[16] = {0}, neurons[16] = {0};
    int64_t correct = 0;
    soma_batch_stats st;
    for (int64_t first = 0; first < d->n; first += batch) {
        int nb = (int)(d->n - first < batch ? d->n - first : batch);
        gather(&bb, d, NULL, first, nb);
        rc = soma_net_eval_batch(net, bb.x, bb.y, bb.uid, nb, seed, logits, &st);
        if (rc != SOMA_OK) {
            soma_fail(err, rc, "%s", soma_net_errmsg(net));
            break;
        }
        loss += st.loss_sum, correct += st.correct;
        for (int i = 0; i < 16; i++) spikes[i] += st.spikes[i], neurons[i] += st.neurons[i];
        for (int b = 0; b < nb; b++) {
            const float *z = logits + (int64_t)b * C;
            int64_t best = 0;
            for (int64_t c = 1; c < C; c++)
                if (z[c] > z[best]) best = c;
            res->confusion[(int64_t)bb.y[b] * C + best]++;
        }
    }
    soma_free(logits);
    batch_free(&bb);
    if (rc != SOMA_OK) {
        soma_eval_result_free(res);
        return rc;
    }
    res->seconds = soma_now() - t0;
    res->n = d->n;
    res->loss = loss / (double)d->n;
    res->accuracy = (double)correct / (double)d->n;
    res->samples_per_s = (double)d->n / res->seconds;
    res->n_layers = soma_net_layer_count(net) < 16 ? soma_net_layer_count(net) : 16;
    for (int i = 0; i < res->n_layers; i++) res->firing_rate[i] = neurons[i] > 0 ? spikes[i] / neurons[i] : 0;
    return SOMA_OK;
}

void soma_eval_result_free(soma_eval_result *res) {
    soma_free(res->confusion);
    res->confusion = NULL;
}
