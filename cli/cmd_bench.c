/*
 * cli/cmd_bench.c — `soma bench`: training and inference throughput and peak memory of a net
 * on real MNIST (rate-coded) or uniform random input, timed like the PyTorch reference in
 * ../shared/bench/torch_ref.py (encoding + forward (+ backward + optimiser step)).
 * --pretrain N first trains N batches of real MNIST test images (untimed), so that the timed
 * iterations see the firing rates of a net in training rather than of its initialisation
 * (which matters for the event-driven paths: a fresh conv net barely fires). --save keeps
 * the pretrained net, and --init starts another bench (other T, threads or mode) from it.
 *
 * Memory, three numbers: peak_rss_mb is the whole process's peak resident set (getrusage, what
 * /usr/bin/time -v reports), data loading included; base_rss_mb is the resident set before
 * the data is loaded and the net's buffers are reserved (the program, its libraries, the net's
 * parameters); run_rss_mb − base_rss_mb (bptt_rss_mb) is what the runs add: work buffers
 * actually touched (activations, tapes, spike lists, gradients), gradient workspaces,
 * optimiser state, BLAS buffers and thread stacks. The run's resident set is sampled after
 * each timed phase: the buffers are reserved once and kept, so it only grows.
 * Without --pretrain only the batch's images are converted from the IDX file (not all 10,000).
 */
#include "cli.h"

#include <string.h>

/* Copies every parameter and state tensor of src into net; both must have the same notation. */
static int copy_weights(soma_net *net, soma_net *src, const char *path, soma_error *err) {
    if (strcmp(soma_net_spec(net), soma_net_spec(src)) != 0 || soma_net_param_count(net) != soma_net_param_count(src))
        return soma_fail(err, SOMA_E_SHAPE, "%s holds the net %s, not %s", path, soma_net_spec(src), soma_net_spec(net));
    float *dst = soma_net_params(net, NULL), *from = soma_net_params(src, NULL);
    for (int i = 0; i < soma_net_param_count(net); i++) {
        const char *a, *b;
        int64_t oa, ob, na, nb;
        soma_net_param_info(net, i, &a, &oa, &na);
        soma_net_param_info(src, i, &b, &ob, &nb);
        if (strcmp(a, b) != 0 || na != nb || oa < 0 || ob < 0)
            return soma_fail(err, SOMA_E_SHAPE, "%s: tensor %s does not match the net's %s", path, b, a);
        memcpy(dst + oa, from + ob, (size_t)na * sizeof *dst);
    }
    return SOMA_OK;
}

int cmd_bench(int argc, char **argv) {
    net_opts no;
    net_opts_defaults(&no);
    const char *netspec = "784-100-10", *input = "mnist", *mode = "both", *save = NULL, *init = NULL;
    int batch = 128, iters = 30, warmup = 3, threads = 0, json = 0, pretrain = 0;
    uint64_t seed = 1;
    cli_opt t[64];
    int n = 0;
    t[n++] = (cli_opt){"--net", NULL, OPT_STR, &netspec, "net notation", 1, 0};
    net_opts_table(&no, t, &n);
    t[n++] = (cli_opt){"--batch", NULL, OPT_INT, &batch, "batch size", 1, 65536};
    t[n++] = (cli_opt){"--iters", NULL, OPT_INT, &iters, "timed iterations", 1, 1000000};
    t[n++] = (cli_opt){"--warmup", NULL, OPT_INT, &warmup, "untimed iterations first", 0, 1000};
    t[n++] = (cli_opt){"--pretrain", NULL, OPT_INT, &pretrain, "untimed training batches of MNIST first", 0, 100000};
    t[n++] = (cli_opt){"--save", NULL, OPT_STR, &save, "checkpoint the net after pretraining", 1, 0};
    t[n++] = (cli_opt){"--init", NULL, OPT_STR, &init, "start from this checkpoint's weights (same --net)", 1, 0};
    t[n++] = (cli_opt){"--input", NULL, OPT_STR, &input, "mnist (real images, rate-coded) | random (uniform [0,1))", 1, 0};
    t[n++] = (cli_opt){"--mode", NULL, OPT_STR, &mode, "train | infer | both", 1, 0};
    t[n++] = (cli_opt){"--threads", NULL, OPT_INT, &threads, "threads", 0, 1024};
    t[n++] = (cli_opt){"--seed", NULL, OPT_U64, &seed, "seed", 0, 1e15};
    t[n++] = (cli_opt){"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0};
    t[n] = (cli_opt){0};
    int pr = cli_parse("bench", "[options]", t, argc, argv, 2);
    if (pr) return pr > 0 ? 0 : 2;
    bool do_train = strcmp(mode, "infer") != 0, do_infer = strcmp(mode, "train") != 0;
    if (strcmp(mode, "train") && strcmp(mode, "infer") && strcmp(mode, "both")) {
        fprintf(stderr, "soma bench: --mode must be train, infer or both\n");
        return 2;
    }
    soma_set_threads(threads);
    soma_net_config cfg;
    if (net_opts_config(&no, &cfg)) return 2;
    soma_error err = {0};
    soma_net *net = NULL;
    soma_optim *opt = NULL;
    soma_dataset d = {0};
    float *x = NULL;
    int32_t *y = NULL;
    int64_t *uid = NULL;
    char spec[1200]; /* both inputs are 28x28 images: "32C3-P2-..." gets 1x28x28 in front */
    int rc = soma_net_create(&net, cli_net_spec(spec, sizeof spec, netspec, 1, 28, 28), &cfg, seed, &err);
    if (rc) goto fail;
    if (init) {
        soma_net *src = NULL;
        if (!(rc = soma_net_load(&src, NULL, init, &err))) rc = copy_weights(net, src, init, &err);
        soma_net_free(src);
        if (rc) goto fail;
    }
    const int64_t M = soma_net_sample_dim(net), C = soma_net_output_dim(net);
    x = soma_malloc((size_t)(batch * M) * sizeof *x);
    y = soma_malloc((size_t)batch * sizeof *y);
    uid = soma_malloc((size_t)batch * sizeof *uid);
    if (!x || !y || !uid) {
        rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory");
        goto fail;
    }
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    const bool mnist = strcmp(input, "mnist") == 0;
    const double MB = 1048576.0, base_rss = (double)soma_rss() / MB;
    double run_rss = base_rss;
    if (mnist || pretrain > 0) {
        /* the test split (smaller): one batch of it is the input, the rest only pretrains */
        if ((rc = cli_load_dataset_head(&d, "mnist", false, cli_cache_dir(), pretrain > 0 ? 0 : batch, &err)))
            goto fail;
        if (d.dim != M) {
            rc = soma_fail(&err, SOMA_E_SHAPE, "MNIST has %d features, the net's input is %lld", d.dim, (long long)M);
            goto fail;
        }
    }
    if (mnist) {
        for (int b = 0; b < batch; b++) {
            memcpy(x + b * M, d.x + (int64_t)(b % d.n) * M, (size_t)M * sizeof *x);
            y[b] = d.y[b % d.n] % (int32_t)C;
        }
        if (pretrain == 0) soma_dataset_free(&d); /* not held while the net's buffers exist */
    } else if (strcmp(input, "random") == 0) {
        for (int64_t i = 0; i < batch * M; i++) x[i] = soma_rng_uniform(&rng);
        for (int b = 0; b < batch; b++) y[b] = (int32_t)soma_rng_below(&rng, (uint32_t)C);
    } else {
        rc = soma_fail(&err, SOMA_E_ARG, "--input must be mnist or random");
        goto fail;
    }
    for (int b = 0; b < batch; b++) uid[b] = b;
    soma_mem_reset_peak(); /* report the net's memory, not the data loading */
    int64_t np;
    float *p = soma_net_params(net, &np), *g = soma_net_grads(net, NULL);
    soma_optim_params op = soma_optim_default_params();
    opt = soma_optim_create(&op, np);
    if (!opt || (rc = soma_net_reserve(net, batch, &err))) {
        if (!rc) rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory");
        goto fail;
    }
    double train_sps = 0, infer_sps = 0, rates[16] = {0};
    soma_batch_stats st;
    if (pretrain > 0) {
        float *px = soma_malloc((size_t)(batch * M) * sizeof *px);
        int32_t *py = soma_malloc((size_t)batch * sizeof *py);
        if (!px || !py) {
            soma_free(px), soma_free(py);
            rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory");
            goto fail;
        }
        for (int i = 0; i < pretrain && !rc; i++) {
            for (int b = 0; b < batch; b++) {
                const int64_t k = ((int64_t)i * batch + b) % d.n;
                memcpy(px + b * M, d.x + k * M, (size_t)M * sizeof *px);
                py[b] = d.y[k] % (int32_t)C;
            }
            rc = soma_net_train_batch(net, px, py, uid, batch, seed + 1000003u + (uint64_t)i, &st);
            if (!rc) soma_optim_step(opt, p, g, op.lr);
        }
        soma_free(px), soma_free(py);
        if (rc) goto net_fail;
    }
    if (save && (rc = soma_net_save(net, NULL, save, &err))) goto fail;
    soma_dataset_free(&d);
    soma_mem_reset_peak(); /* the net's buffers (still allocated) count, the data does not */
    if (do_train) {
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup) train_sps = soma_now();
            if ((rc = soma_net_train_batch(net, x, y, uid, batch, seed + (uint64_t)i, &st))) goto net_fail;
            soma_optim_step(opt, p, g, op.lr);
        }
        train_sps = (double)iters * batch / (soma_now() - train_sps);
        run_rss = (double)soma_rss() / MB;
    }
    if (do_infer) {
        for (int i = 0; i < warmup + iters; i++) {
            if (i == warmup) infer_sps = soma_now();
            if ((rc = soma_net_eval_batch(net, x, y, uid, batch, seed + (uint64_t)i, NULL, &st))) goto net_fail;
        }
        infer_sps = (double)iters * batch / (soma_now() - infer_sps);
        const double r = (double)soma_rss() / MB;
        run_rss = r > run_rss ? r : run_rss;
    }
    int nl = soma_net_layer_count(net) < 16 ? soma_net_layer_count(net) : 16;
    for (int i = 0; i < nl; i++) rates[i] = st.neurons[i] > 0 ? st.spikes[i] / st.neurons[i] : 0;
    double rss = (double)soma_peak_rss() / MB, own = (double)soma_mem_peak() / MB;
    /* which path each layer took, at what input density (from the last batch) */
    double dens[16] = {0}, evt[16] = {0}, tab[16] = {0};
    for (int i = 0; i < nl; i++) {
        dens[i] = st.in_total[i] > 0 ? st.in_active[i] / st.in_total[i] : -1;
        evt[i] = st.chunks ? (double)st.event_chunks[i] / st.chunks : 0;
        tab[i] = st.chunks ? (double)st.table_chunks[i] / st.chunks : 0;
    }
    if (json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "impl", "soma");
        json_str(&j, "net", netspec);
        json_str(&j, "neuron", no.nr.neuron);
        json_str(&j, "input", input);
        json_int(&j, "T", cfg.T);
        json_int(&j, "batch", batch);
        json_int(&j, "threads", soma_threads());
        json_int(&j, "pretrain_batches", pretrain);
        if (do_train) json_num(&j, "train_samples_per_s", train_sps);
        if (do_infer) json_num(&j, "infer_samples_per_s", infer_sps);
        json_num(&j, "peak_rss_mb", rss);
        json_num(&j, "peak_soma_mb", own);
        json_num(&j, "base_rss_mb", base_rss);
        json_num(&j, "run_rss_mb", run_rss);
        json_num(&j, "bptt_rss_mb", run_rss - base_rss);
        json_arr(&j, "firing_rate", rates, nl);
        json_arr(&j, "input_density", dens, nl);
        json_arr(&j, "event_driven_fraction", evt, nl);
        json_arr(&j, "binary_tables_fraction", tab, nl);
        json_end(&j);
    } else {
        printf("soma bench: net %s, neuron %s, T = %d, batch %d, %d threads, %s input\n", netspec, no.nr.neuron, cfg.T, batch, soma_threads(), input);
        if (do_train) printf("  train: %.0f samples/s\n", train_sps);
        if (do_infer) printf("  infer: %.0f samples/s\n", infer_sps);
        printf("  peak memory: %.1f MB RSS, %.1f MB of Soma buffers reserved; the runs added %.1f MB RSS to the "
               "%.1f MB before the data and buffers\n", rss, own, run_rss - base_rss, base_rss);
        for (int i = 0; i < nl; i++) {
            printf("  layer %d: %-40s ", i, soma_net_layer_desc(net, i));
            if (dens[i] >= 0)
                printf("input density %5.1f%%, %s", 100 * dens[i],
                       evt[i] > 0 ? "event-driven" : tab[i] > 0 ? "dense binary (subset tables)" : "dense GEMM");
            else printf("analogue input, dense GEMM");
            printf(", firing rate %.3f\n", rates[i]);
        }
    }
    soma_optim_free(opt);
    soma_net_free(net);
    soma_dataset_free(&d);
    soma_free(x), soma_free(y), soma_free(uid);
    return 0;
net_fail:
    soma_fail(&err, rc, "%s", soma_net_errmsg(net));
fail:
    fprintf(stderr, "soma bench: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    soma_optim_free(opt);
    soma_net_free(net);
    soma_dataset_free(&d);
    soma_free(x), soma_free(y), soma_free(uid);
    return 1;
}
