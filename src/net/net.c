/*
 * net/net.c — a chain of layers: build from the notation, plan buffers, run batches.
 *
 * Memory plan (reserve): the flat parameter, gradient and prepared-weight blocks, one work
 * buffer per thread holding a chunk's encoded input, every layer's output and tape, two
 * ping-pong gradient buffers and the scratch, and a gradient workspace per thread plus the
 * batch's sum. After reserve a batch allocates nothing. The work buffers are planned for the
 * worst case of either path (spike lists with every input spiking, the dense path's unpooled
 * currents and inputs) but are zero on first touch (soma_calloc), so a run makes resident
 * only what its path writes: the event path never touches the dense inputs and unpooled
 * currents, the lists only as far as the spikes fill them; inference no gradients.
 *
 * A batch is split into chunks of cfg.chunk samples that run in parallel (OpenMP; BLAS stays
 * single-threaded inside). Each chunk accumulates into a gradient workspace of its thread's,
 * and the workspaces are summed in chunk order, so the result does not depend on the number
 * of threads.
 */
#include "net/net_internal.h"

#include "encode/encode.h"
#include "synapse/synop.h"
#include "train/loss.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int thread_index(void) {
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

soma_integrate_params soma_integrate_default_params(void) {
    soma_integrate_params p = {0};
    p.mode = SOMA_INTEGRATE_LINEAR;
    p.ablation = SOMA_ABLATION_NONE;
    p.rank = 1;
    p.lambda_init = 0.1f;
    p.v_scale = 1.0f;
    p.shunt_k = 1.0f;
    p.shunt_scale = 0.01f;
    p.mix_init = 0.5f;
    return p;
}

soma_net_config soma_net_default_config(void) {
    soma_net_config c;
    memset(&c, 0, sizeof c);
    c.T = 20;
    c.neuron = soma_neuron_default_params();
    c.integrate = soma_integrate_default_params();
    c.encoder = SOMA_ENCODE_RATE;
    c.readout = SOMA_READOUT_RATE;
    c.loss = SOMA_LOSS_CE;
    c.logit_scale = 1.0f;
    c.chunk = 16;
    c.sparse_max_density = 0.3f;
    return c;
}

/* ---- names ------------------------------------------------------------------------------ */

static int lookup(const char *const *names, int n, const char *s) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}
static const char *const mode_names[] = {"linear", "bilinear", "shunting"};
static const char *const abl_names[] = {"none", "ab1", "ab2", "ab3"};
static const char *const enc_names[] = {"rate", "latency", "direct", "frames"};
static const char *const ro_names[] = {"rate", "membrane"};
static const char *const loss_names[] = {"ce", "mse"};
#define NAME(arr, i, n) ((unsigned)(i) < (unsigned)(n) ? arr[i] : "?")
const char *soma_integrate_mode_name(soma_integrate_mode m) { return NAME(mode_names, m, 3); }
const char *soma_ablation_name(soma_ablation a) { return NAME(abl_names, a, 4); }
const char *soma_encoder_name(soma_encoder e) { return NAME(enc_names, e, 4); }
const char *soma_readout_name(soma_readout r) { return NAME(ro_names, r, 2); }
const char *soma_loss_name(soma_loss l) { return NAME(loss_names, l, 2); }
int soma_integrate_mode_parse(const char *s) {
    if (s && strcmp(s, "lif") == 0) return SOMA_INTEGRATE_LINEAR;
    return lookup(mode_names, 3, s);
}
int soma_ablation_parse(const char *s) { return lookup(abl_names, 4, s); }
int soma_encoder_parse(const char *s) { return lookup(enc_names, 4, s); }
/* Whether an encoder's output is 0/1 spikes (frames hold event counts: analogue). */
static bool enc_binary(soma_encoder e) { return e != SOMA_ENCODE_DIRECT && e != SOMA_ENCODE_FRAMES; }
int soma_readout_parse(const char *s) {
    if (s && strcmp(s, "mem") == 0) return SOMA_READOUT_MEMBRANE;
    return lookup(ro_names, 2, s);
}
int soma_loss_parse(const char *s) { return lookup(loss_names, 2, s); }

/* ---- build ------------------------------------------------------------------------------ */

static int set_err(soma_net *net, int rc, const char *msg) {
    snprintf(net->err, sizeof net->err, "%s", msg);
    return rc;
}

static void free_buffers(soma_net *net) {
    soma_free(net->chunks);
    for (int w = 0; w < net->n_work; w++) soma_free(net->work[w]), soma_free(net->tgws[w]);
    soma_free(net->work);
    soma_free(net->tgws);
    soma_free(net->gsum);
    net->chunks = NULL, net->work = NULL, net->tgws = NULL, net->gsum = NULL;
    net->n_chunks = net->n_work = 0, net->max_batch = 0;
}

void soma_net_free(soma_net *net) {
    if (!net) return;
    for (int i = 0; i < net->nl; i++)
        if (net->layers[i]) net->layers[i]->ops->free(net->layers[i]);
    soma_free(net->layers);
    soma_free(net->spec);
    soma_free(net->params);
    soma_free(net->grads);
    soma_free(net->E);
    soma_free(net->tensors);
    free_buffers(net);
    soma_free(net);
}

static int add_tensors(soma_net *net, int li, soma_error *err) {
    const soma_layer *l = net->layers[li];
    if (!l->ops->tensors) return SOMA_OK;
    const char *names[64];
    int64_t offs[64], nums[64];
    int n = l->ops->tensors(l, names, offs, nums);
    soma_net_tensor *t = soma_malloc((size_t)(net->ntens + n) * sizeof *t);
    if (!t) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    if (net->ntens) memcpy(t, net->tensors, (size_t)net->ntens * sizeof *t);
    soma_free(net->tensors);
    net->tensors = t;
    for (int i = 0; i < n; i++) {
        soma_net_tensor *x = &net->tensors[net->ntens++];
        snprintf(x->name, sizeof x->name, "l%d.%s", li, names[i]);
        /* state tensors: negative until the parameter count is known (soma_net_create) */
        x->offset = offs[i] >= 0 ? l->param_off + offs[i] : offs[i] - l->state_off;
        x->numel = nums[i];
    }
    return SOMA_OK;
}

int soma_net_create(soma_net **out, const char *spec, const soma_net_config *cfg, uint64_t seed,
                    soma_error *err) {
    *out = NULL;
    if (!spec || !cfg) return soma_fail(err, SOMA_E_ARG, "no net spec given");
    if (cfg->T < 1 || cfg->T > 100000) return soma_fail(err, SOMA_E_ARG, "T = %d out of range (1..100000)", cfg->T);
    if (cfg->chunk < 1 || cfg->chunk > 4096) return soma_fail(err, SOMA_E_ARG, "chunk = %d out of range", cfg->chunk);
    soma_net_layer_spec ls[SOMA_MAX_LAYERS];
    int64_t in_dim = 0;
    int nls = 0;
    int64_t chw[3];
    int rc = soma_spec_parse_shape(spec, cfg, &in_dim, chw, ls, &nls, err);
    if (rc != SOMA_OK) return rc;
    soma_net *net = soma_calloc(1, sizeof *net);
    if (!net) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    net->cfg = *cfg;
    net->seed = seed;
    net->in_dim = in_dim;
    size_t sl = strlen(spec) + 1;
    net->spec = soma_malloc(sl);
    net->layers = soma_calloc((size_t)nls, sizeof *net->layers);
    if (!net->spec || !net->layers) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
        goto fail;
    }
    memcpy(net->spec, spec, sl);
    int64_t dim = in_dim;
    int last_neural = -1;
    for (int i = 0; i < nls; i++)
        if (ls[i].kind == SOMA_LS_DENSE || ls[i].kind == SOMA_LS_RECURRENT || ls[i].kind == SOMA_LS_CONV ||
            ls[i].kind == SOMA_LS_RESIDUAL)
            last_neural = i;
    if (last_neural < 0) {
        rc = soma_fail(err, SOMA_E_ARG, "net \"%s\" has no layers after the input size", spec);
        goto fail;
    }
    for (int i = 0; i < nls; i++) {
        soma_neuron_params np = cfg->neuron;
        if (i == last_neural && cfg->readout == SOMA_READOUT_MEMBRANE) np.spiking = false;
        soma_layer *l = NULL;
        switch (ls[i].kind) {
        case SOMA_LS_DENSE: rc = soma_spiking_dense_create(&l, dim, ls[i].n, &ls[i].integrate, &np, err); break;
        case SOMA_LS_RECURRENT: rc = soma_recurrent_create(&l, dim, ls[i].n, &ls[i].integrate, &np, err); break;
        case SOMA_LS_DROPOUT: rc = soma_dropout_create(&l, dim, ls[i].p, err); break;
        default:
            rc = soma_net_image_layer_create(&l, &ls[i], chw, dim, &np, cfg, i == 0,
                                             i == 0 ? enc_binary(cfg->encoder) : net->layers[i - 1]->spiking_out, err);
            break;
        }
        if (rc != SOMA_OK) goto fail;
        net->layers[net->nl++] = l;
        l->param_off = net->n_params, net->n_params += l->n_params;
        l->E_off = net->n_E, net->n_E += l->E_size;
        l->gws_off = net->n_gws, net->n_gws += l->gws_size;
        l->state_off = net->n_state, net->n_state += l->n_state;
        if ((rc = add_tensors(net, i, err)) != SOMA_OK) goto fail;
        dim = l->out_dim;
        if (l->out_chw[0]) chw[0] = l->out_chw[0], chw[1] = l->out_chw[1], chw[2] = l->out_chw[2];
        else if (ls[i].kind != SOMA_LS_DROPOUT) chw[0] = dim, chw[1] = chw[2] = 1;
    }
    for (int i = 0; i < net->ntens; i++) /* state tensors live after the parameters */
        if (net->tensors[i].offset < 0) net->tensors[i].offset = net->n_params + (-1 - net->tensors[i].offset);
    net->out_dim = dim;
    if (dim > 1024) {
        rc = soma_fail(err, SOMA_E_ARG, "the output layer has %lld neurons; at most 1024 classes are supported", (long long)dim);
        goto fail;
    }
    net->params = soma_calloc((size_t)(net->n_params + net->n_state), sizeof(float));
    net->grads = soma_calloc((size_t)net->n_params, sizeof(float));
    net->E = soma_calloc((size_t)(net->n_E ? net->n_E : 1), sizeof(float));
    if (!net->params || !net->grads || !net->E) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory for %lld parameters", (long long)net->n_params);
        goto fail;
    }
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    for (int i = 0; i < net->nl; i++) {
        soma_layer *l = net->layers[i];
        if (l->ops->init_params) l->ops->init_params(l, net->params + l->param_off, &rng);
        if (l->ops->init_state) l->ops->init_state(l, net->params + net->n_params + l->state_off);
    }
    *out = net;
    return SOMA_OK;
fail:
    soma_net_free(net);
    return rc;
}

/* ---- plan -------------------------------------------------------------------------------- */

#define ALIGN16(n) (((n) + 15) & ~(int64_t)15)

static int64_t chunk_floats(const soma_net *net, int64_t Bc, soma_chunk_plan *pl) {
    const int64_t rows = (int64_t)net->cfg.T * Bc;
    /* gradients flow into the input only for the direct encoder (the test hook) */
    int64_t o = 0, maxdim = net->cfg.encoder == SOMA_ENCODE_DIRECT ? net->in_dim : 0, scratch = 0;
    pl->xin = o, o += ALIGN16(rows * net->in_dim);
    pl->in_idx = o, o += ALIGN16(rows * net->in_dim);   /* int32 spike lists of the input */
    pl->in_off = o, o += ALIGN16(2 * (rows + 1));        /* int64 row offsets */
    pl->enc_fk = o, o += ALIGN16(Bc * net->in_dim);      /* the input folded over time */
    pl->enc_fm = o, o += ALIGN16(2 * Bc * net->in_dim);  /* (uint64 step masks) */
    pl->enc_off = o, o += ALIGN16(2 * (Bc + 1));
    pl->enc_dm = o, o += ALIGN16(2 * net->in_dim);       /* uint64, zero: soma_folds_densify */
    for (int i = 0; i < net->nl; i++) {
        const soma_layer *l = net->layers[i];
        pl->act[i] = o, o += ALIGN16(rows * l->out_dim);
        /* a layer after a spiking layer builds its input's spike lists in its tape */
        bool lists = i > 0 && net->layers[i - 1]->spiking_out;
        pl->tape[i] = o, o += ALIGN16(rows * (l->tape_per_row + (lists ? l->list_per_row : 0)) + l->tape_fixed);
        int64_t s = rows * l->scratch_per_row + l->scratch_fixed;
        scratch = s > scratch ? s : scratch;
        maxdim = l->out_dim > maxdim ? l->out_dim : maxdim;
    }
    pl->grad[0] = o, o += ALIGN16(rows * maxdim);
    pl->grad[1] = o, o += ALIGN16(rows * maxdim);
    pl->scratch = o, o += ALIGN16(scratch);
    pl->logits = o, o += ALIGN16(Bc * net->out_dim);
    pl->tiebreak = o, o += ALIGN16(Bc * net->out_dim);
    return o;
}

/* Work buffers and gradient workspaces for n threads (at least one, at most one per chunk). */
static int reserve_work(soma_net *net, int n, soma_error *err) {
    if (n <= net->n_work) return SOMA_OK;
    float **w = soma_calloc((size_t)n, sizeof *w), **g = soma_calloc((size_t)n, sizeof *g);
    if (!w || !g) {
        soma_free(w), soma_free(g);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory planning %d work buffers", n);
    }
    const int64_t nf = chunk_floats(net, net->cfg.chunk, &net->plan), ng = net->n_gws > 0 ? net->n_gws : 1;
    for (int i = 0; i < n; i++) {
        bool old = i < net->n_work;
        w[i] = old ? net->work[i] : soma_calloc((size_t)nf, sizeof(float));
        g[i] = old ? net->tgws[i] : soma_calloc((size_t)ng, sizeof(float));
        if (!w[i] || !g[i]) {
            for (int j = net->n_work; j <= i; j++) soma_free(w[j]), soma_free(g[j]);
            soma_free(w), soma_free(g);
            return soma_fail(err, SOMA_E_NOMEM, "out of memory: %d work buffers of %.1f MB", n, (double)nf * 4 / 1e6);
        }
    }
    soma_free(net->work), soma_free(net->tgws);
    net->work = w, net->tgws = g, net->n_work = n;
    return SOMA_OK;
}

static int work_wanted(int nch) {
    const int t = soma_threads();
    return nch < t ? nch : t < 1 ? 1 : t;
}

int soma_net_reserve(soma_net *net, int max_batch, soma_error *err) {
    if (max_batch < 1) return soma_fail(err, SOMA_E_ARG, "batch size %d must be >= 1", max_batch);
    if (max_batch <= net->max_batch) return SOMA_OK;
    const int Bc = net->cfg.chunk;
    const int nch = (max_batch + Bc - 1) / Bc;
    free_buffers(net);
    net->chunks = soma_calloc((size_t)nch, sizeof *net->chunks);
    if (!net->chunks) return soma_fail(err, SOMA_E_NOMEM, "out of memory planning %d chunks", nch);
    net->n_chunks = nch;
    if (!(net->gsum = soma_calloc((size_t)(net->n_gws > 0 ? net->n_gws : 1), sizeof(float)))) {
        free_buffers(net);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory: a gradient workspace of %.1f MB", (double)net->n_gws * 4 / 1e6);
    }
    int rc = reserve_work(net, work_wanted(nch), err);
    if (rc != SOMA_OK) {
        free_buffers(net);
        return rc;
    }
    net->max_batch = nch * Bc;
    return SOMA_OK;
}

/* ---- run --------------------------------------------------------------------------------- */

static void prepare_all(soma_net *net) {
    for (int i = 0; i < net->nl; i++) {
        soma_layer *l = net->layers[i];
        if (l->ops->prepare) l->ops->prepare(l, net->E + l->E_off, net->params + l->param_off);
    }
}

/* Runs one chunk: encode, forward, loss, and (train) backward into its workspace. */
static void run_chunk(soma_net *net, int ci, const float *x, const int32_t *y, const int64_t *uid,
                      int64_t B, uint64_t seed, bool train, float grad_scale, float *logits_out) {
    soma_chunk *ch = &net->chunks[ci];
    const soma_chunk_plan *pl = &net->plan;
    float *buf = ch->buf;
    const int T = net->cfg.T;
    const int64_t rows = (int64_t)T * B;
    memset(&ch->stats, 0, sizeof ch->stats);
    float *xin = buf + pl->xin;
    bool binary = enc_binary(net->cfg.encoder);
    /* Binary encoders write spike lists; the dense rows are only materialised when the first
     * layer will take the dense path (too many spikes, or a layer without an event path). */
    soma_spikes sx0 = {.idx = (int32_t *)(buf + pl->in_idx), .off = (int64_t *)(buf + pl->in_off), .B = B};
    bool sparse0 = false;
    if (binary) {
        int32_t *fk = (int32_t *)(buf + pl->enc_fk);
        uint64_t *fm = (uint64_t *)(buf + pl->enc_fm);
        int64_t *foff = (int64_t *)(buf + pl->enc_off);
        int32_t *idx = (int32_t *)sx0.idx;
        int64_t *off = (int64_t *)sx0.off;
        const bool folds = T <= 64; /* each sample's spikes folded over time first */
        int64_t nnz = folds ? soma_encode_folds(net->cfg.encoder, x, uid, T, B, net->in_dim, seed, fk, fm, foff)
                            : soma_encode_spikes(net->cfg.encoder, idx, off, x, uid, T, B, net->in_dim, seed, fk, fm, foff);
        /* an input gradient needs the dense spikes in backward (the bilinear term's ∂/∂x uses x) */
        sparse0 = net->layers[0]->takes_spikes && net->cfg.sparse_max_density > 0 && !net->input_grad &&
                  (double)nnz <= net->cfg.sparse_max_density * (double)rows * (double)net->in_dim;
        if (folds && sparse0) {
            if (net->layers[0]->folds_suffice && T >= 2) off[rows] = nnz; /* the count only */
            else soma_folds_lists(idx, off, fk, fm, foff, T, B);
            sx0.fk = fk, sx0.fm = fm, sx0.foff = foff;
        } else if (folds) { /* no lists: the dense rows straight from the folds */
            soma_folds_densify(xin, fk, fm, foff, T, B, net->in_dim, (uint64_t *)(buf + pl->enc_dm));
            off[rows] = nnz; /* the input's spike count stays readable (soma_net_inspect) */
        } else if (!sparse0) {
            soma_spikes_densify(xin, idx, off, rows, net->in_dim);
        }
    } else if (net->cfg.encoder == SOMA_ENCODE_FRAMES) { /* x (B, T, M) -> xin (T, B, M) */
        const int64_t M = net->in_dim;
        for (int t = 0; t < T; t++)
            for (int64_t b = 0; b < B; b++)
                memcpy(xin + ((int64_t)t * B + b) * M, x + (b * T + t) * M, (size_t)M * sizeof *xin);
    } else {
        soma_encode(net->cfg.encoder, xin, x, uid, T, B, net->in_dim, seed);
    }
    soma_lctx c = {0};
    c.T = T, c.B = B, c.train = train, c.seed = seed, c.uid = uid;
    c.sparse_max_density = net->cfg.sparse_max_density;
    c.scratch = buf + pl->scratch;
    const float *in = xin;
    for (int i = 0; i < net->nl; i++) {
        soma_layer *l = net->layers[i];
        c.params = net->params + l->param_off;
        c.E = net->E + l->E_off;
        c.tape = buf + pl->tape[i];
        c.in_binary = binary;
        c.sx_in = i == 0 && sparse0 ? &sx0 : NULL;
        /* the encoder already chose the dense path for the first layer: no lists to build */
        c.sparse_max_density = i == 0 && !sparse0 ? 0.0f : net->cfg.sparse_max_density;
        c.in_static = i == 0 && net->cfg.encoder == SOMA_ENCODE_DIRECT;
        c.state = net->params + net->n_params + l->state_off;
        c.spikes = i < 16 ? &ch->stats.spikes[i] : NULL;
        c.in_active = i < 16 && binary ? &ch->stats.in_active[i] : NULL;
        c.event_driven = i < 16 ? &ch->stats.event_chunks[i] : NULL;
        c.binary_tables = i < 16 ? &ch->stats.table_chunks[i] : NULL;
        l->ops->forward(l, &c, buf + pl->act[i], in);
        if (i < 16) {
            ch->stats.neurons[i] += (double)rows * (double)l->out_dim;
            if (binary) ch->stats.in_total[i] += (double)rows * (double)l->in_dim;
        }
        binary = l->spiking_out;
        in = buf + pl->act[i];
    }
    const int64_t C = net->out_dim;
    float *logits = buf + pl->logits, *dy = buf + pl->grad[0];
    float *tb = NULL;
    if (soma_net_breaks_ties(net)) {
        const soma_layer *last = net->layers[net->nl - 1];
        tb = buf + pl->tiebreak;
        c.tape = buf + pl->tape[net->nl - 1];
        last->ops->mean_membrane(last, &c, tb);
    }
    ch->stats.loss_sum = soma_loss_eval(net->cfg.loss, net->cfg.logit_scale, logits, train ? dy : NULL,
                                        &ch->stats.correct, in, y, T, B, C, grad_scale, tb);
    ch->stats.samples = B;
    ch->stats.chunks = 1;
    if (logits_out) memcpy(logits_out, logits, (size_t)(B * C) * sizeof *logits);
    if (!train) return;
    float *gws = ch->gws;
    /* Chunk 0's workspace is the batch's sum (still read by finish after the last batch); a
     * thread's workspace was zeroed by the ordered add that consumed it (see run_batch), or is
     * fresh from calloc. Zeroing it here instead touched it cold: 4 % of a LIF training step. */
    if (ci == 0) memset(gws, 0, (size_t)net->n_gws * sizeof *gws);
    int cur = 0;
    for (int i = net->nl - 1; i >= 0; i--) {
        soma_layer *l = net->layers[i];
        c.params = net->params + l->param_off;
        c.E = net->E + l->E_off;
        c.tape = buf + pl->tape[i];
        c.gws = gws + l->gws_off;
        c.in_binary = i == 0 ? enc_binary(net->cfg.encoder) : net->layers[i - 1]->spiking_out;
        c.sx_in = i == 0 && sparse0 ? &sx0 : NULL;
        c.in_static = i == 0 && net->cfg.encoder == SOMA_ENCODE_DIRECT;
        c.state = net->params + net->n_params + l->state_off;
        c.spikes = c.in_active = NULL;
        c.event_driven = NULL, c.binary_tables = NULL;
        const float *xi = i == 0 ? xin : buf + pl->act[i - 1];
        float *dx = i > 0 ? buf + pl->grad[1 - cur] : (net->input_grad ? buf + pl->grad[1 - cur] : NULL);
        l->ops->backward(l, &c, dx, buf + pl->grad[cur], xi, buf + pl->act[i]);
        cur = 1 - cur;
    }
    if (net->input_grad) {
        /* Direct encoding feeds x at every step: ∂L/∂x = Σ_t ∂L/∂x_t. */
        const float *g = buf + pl->grad[cur];
        const int64_t M = net->in_dim;
        float *dst = net->input_grad + (int64_t)ci * net->cfg.chunk * M;
        memset(dst, 0, (size_t)(B * M) * sizeof *dst);
        for (int t = 0; t < T; t++)
            for (int64_t i = 0; i < B * M; i++) dst[i] += g[(int64_t)t * B * M + i];
    }
}

/* y[0:n] += x[0:n], then x[0:n] = 0 while it is in cache. Blocks of x that are all +0 are
 * skipped, neither added nor cleared: the weight-gradient rows of inputs that never spiked in
 * the chunk (a third of MNIST's pixels in 16 images) stay zero, and skipping them saves two
 * of the three memory streams. Adding +0 changes nothing but a −0 sum into +0. */
SOMA_HOT static void vec_add_clear(float *restrict y, float *restrict x, int64_t n) {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64) {
        uint32_t any = 0; /* the block's bits, OR-ed: vectorises to a few ORs */
        for (int j = 0; j < 64; j++) {
            uint32_t u;
            memcpy(&u, x + i + j, sizeof u);
            any |= u;
        }
        if (!any) continue;
        for (int j = 0; j < 64; j++) y[i + j] += x[i + j], x[i + j] = 0.0f;
    }
    for (; i < n; i++) {
        y[i] += x[i];
        x[i] = 0.0f;
    }
}

static void merge_stats(soma_net *net, int nch, soma_batch_stats *st) {
    if (!st) return;
    memset(st, 0, sizeof *st);
    for (int c = 0; c < nch; c++) {
        const soma_batch_stats *s = &net->chunks[c].stats;
        st->loss_sum += s->loss_sum;
        st->correct += s->correct;
        st->samples += s->samples;
        st->chunks += s->chunks;
        for (int i = 0; i < 16; i++) {
            st->spikes[i] += s->spikes[i], st->neurons[i] += s->neurons[i];
            st->in_active[i] += s->in_active[i], st->in_total[i] += s->in_total[i];
            st->event_chunks[i] += s->event_chunks[i], st->table_chunks[i] += s->table_chunks[i];
        }
    }
}

static int run_batch(soma_net *net, const float *x, const int32_t *y, const int64_t *uid, int B,
                     uint64_t seed, bool train, float *logits, soma_batch_stats *stats) {
    if (B < 1) return set_err(net, SOMA_E_ARG, "empty batch");
    if (B > net->max_batch) {
        soma_error e;
        int rc = soma_net_reserve(net, B, &e);
        if (rc != SOMA_OK) return set_err(net, rc, e.msg);
    }
    if (train && !y) return set_err(net, SOMA_E_ARG, "training needs labels");
    if (y)
        for (int b = 0; b < B; b++)
            if (y[b] < 0 || y[b] >= (net->out_dim == 1 ? 2 : net->out_dim)) {
                char m[128];
                snprintf(m, sizeof m, "label %d of sample %d is outside 0..%lld", y[b], b, (long long)net->out_dim - 1);
                return set_err(net, SOMA_E_ARG, m);
            }
    prepare_all(net);
    const int Bc = net->cfg.chunk, nch = (B + Bc - 1) / Bc;
    const int64_t M = soma_net_sample_dim(net), C = net->out_dim;
    const float gs = 1.0f / (float)B;
    if (work_wanted(nch) > net->n_work) { /* more threads than when reserved */
        soma_error e;
        int rc = reserve_work(net, work_wanted(nch), &e);
        if (rc != SOMA_OK) return set_err(net, rc, e.msg);
    }
    const int nw = nch < net->n_work ? nch : net->n_work;
    /* Any thread may run any chunk (results do not depend on which): thread w uses buffer w.
     * Chunk 0 accumulates into the batch's sum; every other chunk into its thread's workspace,
     * which is added into the sum as soon as the chunks before it are in (ordered): every
     * element is summed in chunk order, deterministic for any thread count, while the
     * workspace is still in cache; summing all of them after the batch streamed nch cold
     * workspaces from memory. A thread waits at the ordered add before it takes another
     * chunk, so one workspace per thread is enough (not one per chunk: 8 of them at batch 128),
     * and the add leaves it zeroed for the thread's next chunk. */
    float *g0 = net->gsum;
    const int64_t G = net->n_gws;
#pragma omp parallel for schedule(dynamic, 1) ordered num_threads(nw)
    for (int ci = 0; ci < nch; ci++) {
        int64_t b0 = (int64_t)ci * Bc, nb = B - b0 < Bc ? B - b0 : Bc;
        net->chunks[ci].buf = net->work[thread_index()];
        net->chunks[ci].gws = ci == 0 ? g0 : net->tgws[thread_index()];
        run_chunk(net, ci, x + b0 * M, y ? y + b0 : NULL, uid + b0, nb, seed, train, gs,
                  logits ? logits + b0 * C : NULL);
#pragma omp ordered
        if (train && ci > 0) vec_add_clear(g0, net->chunks[ci].gws, G);
    }
    merge_stats(net, nch, stats);
    if (!train) return SOMA_OK;
    /* then map the summed workspace onto the parameters */
    for (int i = 0; i < net->nl; i++) {
        soma_layer *l = net->layers[i];
        if (l->ops->finish)
            l->ops->finish(l, net->grads + l->param_off, g0 + l->gws_off, net->params + l->param_off);
        if (l->ops->update_state)
            l->ops->update_state(l, net->params + net->n_params + l->state_off, g0 + l->gws_off);
    }
    return SOMA_OK;
}

int soma_net_train_batch(soma_net *net, const float *x, const int32_t *y, const int64_t *uid,
                         int B, uint64_t seed, soma_batch_stats *stats) {
    return run_batch(net, x, y, uid, B, seed, true, NULL, stats);
}

int soma_net_eval_batch(soma_net *net, const float *x, const int32_t *y, const int64_t *uid,
                        int B, uint64_t seed, float *logits, soma_batch_stats *stats) {
    float *saved = net->input_grad;
    net->input_grad = NULL;
    int rc = run_batch(net, x, y, uid, B, seed, false, logits, stats);
    net->input_grad = saved;
    return rc;
}

void soma_net_set_input_grad(soma_net *net, float *dx) { net->input_grad = dx; }

/* ---- accessors --------------------------------------------------------------------------- */

const char *soma_net_spec(const soma_net *net) { return net->spec; }
const soma_net_config *soma_net_config_of(const soma_net *net) { return &net->cfg; }
int64_t soma_net_input_dim(const soma_net *net) { return net->in_dim; }
int64_t soma_net_sample_dim(const soma_net *net) {
    return net->cfg.encoder == SOMA_ENCODE_FRAMES ? net->in_dim * net->cfg.T : net->in_dim;
}
int64_t soma_net_output_dim(const soma_net *net) { return net->out_dim; }
bool soma_net_breaks_ties(const soma_net *net) {
    const soma_layer *last = net->layers[net->nl - 1];
    return last->ops->mean_membrane && last->spiking_out && net->out_dim > 1;
}
int soma_net_layer_count(const soma_net *net) { return net->nl; }
const char *soma_net_layer_desc(const soma_net *net, int i) {
    return i >= 0 && i < net->nl ? net->layers[i]->desc : "";
}
float *soma_net_params(soma_net *net, int64_t *n) {
    if (n) *n = net->n_params;
    return net->params;
}
float *soma_net_grads(soma_net *net, int64_t *n) {
    if (n) *n = net->n_params;
    return net->grads;
}
int soma_net_param_count(const soma_net *net) { return net->ntens; }
void soma_net_param_info(const soma_net *net, int i, const char **name, int64_t *offset,
                         int64_t *numel) {
    const soma_net_tensor *t = &net->tensors[i];
    if (name) *name = t->name;
    if (offset) *offset = t->offset;
    if (numel) *numel = t->numel;
}
const char *soma_net_errmsg(const soma_net *net) { return net->err; }
uint64_t soma_net_seed(const soma_net *net) { return net->seed; }
