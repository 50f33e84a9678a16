/* cli/cmd_train.c — `soma train` and `soma eval`. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

typedef struct train_args {
    net_opts n;
    const char *data, *test_data, *net, *save, *resume, *optim, *schedule, *metrics, *groups;
    double lr, lr_min, gamma, momentum, wd, clip;
    int epochs, batch, threads, json, step_size, quiet, max_train, max_test, eval_batch, metrics_every;
    uint64_t seed;
} train_args;

static int load_sets(const train_args *a, soma_dataset *tr, soma_dataset *te, soma_error *err) {
    const char *cache = cli_cache_dir();
    int rc = cli_load_dataset(tr, a->data, true, cache, err);
    if (rc) return rc;
    const char *tn = a->test_data ? a->test_data : a->data;
    bool named = strchr(tn, ':') == NULL || cli_dataset_has_splits(tn);
    if (!a->test_data && !named) return soma_fail(err, SOMA_E_ARG, "give --test-data for '%s'", a->data);
    rc = cli_load_dataset(te, tn, !named, cache, err);
    if (rc) return rc;
    soma_dataset tmp;
    if (a->max_train > 0 && a->max_train < tr->n) {
        if ((rc = soma_dataset_slice(&tmp, tr, 0, a->max_train, err))) return rc;
        soma_dataset_free(tr), *tr = tmp;
    }
    if (a->max_test > 0 && a->max_test < te->n) {
        if ((rc = soma_dataset_slice(&tmp, te, 0, a->max_test, err))) return rc;
        soma_dataset_free(te), *te = tmp;
    }
    return SOMA_OK;
}

/* --param-group NAME:LR_SCALE:WD_SCALE[,NAME:LR_SCALE:WD_SCALE...] */
static int add_param_groups(soma_optim *opt, const soma_net *net, const char *spec, soma_error *err) {
    for (const char *s = spec; *s;) {
        const char *c1 = strchr(s, ':'), *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        char name[64], *e1, *e2;
        double lr = 0, wd = 0;
        bool ok = c1 && c1 < end && c1 > s && (size_t)(c1 - s) < sizeof name;
        if (ok) lr = strtod(c1 + 1, &e1), ok = e1 != c1 + 1 && *e1 == ':';
        if (ok) wd = strtod(e1 + 1, &e2), ok = e2 != e1 + 1 && e2 == end;
        if (!ok)
            return soma_fail(err, SOMA_E_ARG, "--param-group: '%.*s' is not NAME:LR_SCALE:WD_SCALE", (int)(end - s), s);
        memcpy(name, s, (size_t)(c1 - s));
        name[c1 - s] = '\0';
        int rc = soma_optim_group_tensors(opt, net, name, (float)lr, (float)wd, err);
        if (rc < 0) return rc;
        s = *end ? end + 1 : end;
    }
    return SOMA_OK;
}

static void print_net(soma_net *net, FILE *f) {
    int64_t np;
    soma_net_params(net, &np);
    fprintf(f, "net %s: %lld parameters, T = %d\n", soma_net_spec(net), (long long)np, soma_net_config_of(net)->T);
    for (int i = 0; i < soma_net_layer_count(net); i++) fprintf(f, "  layer %d: %s\n", i, soma_net_layer_desc(net, i));
}

/* --metrics-every: a {"type":"step"} line every N batches with the training loss and
 * accuracy over those batches (from the epoch's running means), then the progress bar. */
typedef struct step_log {
    const char *path;
    int every, batch;
    int64_t n_train;
    const soma_optim *opt;
    int quiet, epoch;
    double sum_loss, sum_correct; /* running totals at the last line */
    int64_t seen;                 /* samples at the last line */
} step_log;

static void log_steps(const soma_progress *p, void *user) {
    step_log *s = user;
    if (!s->quiet) cli_progress(p, NULL);
    if (p->epoch != s->epoch) s->epoch = p->epoch, s->sum_loss = s->sum_correct = 0, s->seen = 0;
    if (p->batch % s->every != 0 && p->batch != p->n_batches) return;
    const int64_t seen = p->batch * s->batch < s->n_train ? p->batch * s->batch : s->n_train, prev = s->seen;
    const double loss = p->loss * (double)seen, correct = p->accuracy * (double)seen;
    if (seen <= prev) return;
    FILE *f = fopen(s->path, "a");
    if (f) {
        json_out j;
        json_begin(&j, f);
        json_str(&j, "type", "step");
        json_num(&j, "epoch", p->epoch + (double)p->batch / (double)p->n_batches);
        json_int(&j, "step", (long long)soma_optim_steps(s->opt));
        json_num(&j, "loss", (loss - s->sum_loss) / (double)(seen - prev));
        json_num(&j, "accuracy", (correct - s->sum_correct) / (double)(seen - prev));
        json_num(&j, "samples_per_s", p->samples_per_s);
        json_num(&j, "lr", p->lr);
        json_end(&j);
        fclose(f);
    }
    s->sum_loss = loss, s->sum_correct = correct, s->seen = seen;
}

int cmd_train(int argc, char **argv) {
    train_args a;
    memset(&a, 0, sizeof a);
    net_opts_defaults(&a.n);
    a.data = "mnist", a.net = "784-100-10", a.optim = "adam", a.schedule = "const";
    a.lr = 1e-3, a.lr_min = 0, a.gamma = 0.1, a.momentum = 0.9, a.step_size = 10;
    a.epochs = 1, a.batch = 128, a.seed = 1, a.eval_batch = 256;
    cli_opt t[80];
    int n = 0;
    t[n++] = (cli_opt){"--data", NULL, OPT_STR, &a.data, "mnist | fashion | idx:IMG,LBL | csv:PATH | libsvm:PATH", 1, 0};
    t[n++] = (cli_opt){"--test-data", NULL, OPT_STR, &a.test_data, "test set (default: the named set's test split)", 1, 0};
    t[n++] = (cli_opt){"--net", NULL, OPT_STR, &a.net, "net notation, e.g. 784-100-10, 784-100b-10, 2-16R-2", 1, 0};
    net_opts_table(&a.n, t, &n);
    t[n++] = (cli_opt){"--epochs", NULL, OPT_INT, &a.epochs, "epochs", 1, 100000};
    t[n++] = (cli_opt){"--batch", NULL, OPT_INT, &a.batch, "batch size", 1, 65536};
    t[n++] = (cli_opt){"--lr", NULL, OPT_FLOAT, &a.lr, "learning rate", 0, 100};
    t[n++] = (cli_opt){"--optim", NULL, OPT_STR, &a.optim, "sgd | adam | adamw", 1, 0};
    t[n++] = (cli_opt){"--momentum", NULL, OPT_FLOAT, &a.momentum, "SGD momentum", 0, 1};
    t[n++] = (cli_opt){"--weight-decay", NULL, OPT_FLOAT, &a.wd, "weight decay", 0, 10};
    t[n++] = (cli_opt){"--param-group", NULL, OPT_STR, &a.groups, "NAME:LR:WD[,...]: tensors NAME (V, lambda, l0.V) take lr x LR, weight decay x WD", 1, 0};
    t[n++] = (cli_opt){"--grad-clip", NULL, OPT_FLOAT, &a.clip, "clip the global gradient norm (0 = off)", 0, 1e9};
    t[n++] = (cli_opt){"--schedule", NULL, OPT_STR, &a.schedule, "const | step | cosine", 1, 0};
    t[n++] = (cli_opt){"--lr-min", NULL, OPT_FLOAT, &a.lr_min, "cosine: final learning rate", 0, 100};
    t[n++] = (cli_opt){"--step-size", NULL, OPT_INT, &a.step_size, "step: epochs per decay", 1, 100000};
    t[n++] = (cli_opt){"--gamma", NULL, OPT_FLOAT, &a.gamma, "step: decay factor", 0, 1};
    t[n++] = (cli_opt){"--seed", NULL, OPT_U64, &a.seed, "random seed", 0, 1e15};
    t[n++] = (cli_opt){"--threads", NULL, OPT_INT, &a.threads, "threads (0 = $SOMA_THREADS or all cores)", 0, 1024};
    t[n++] = (cli_opt){"--save", NULL, OPT_STR, &a.save, "write a checkpoint after every epoch", 1, 0};
    t[n++] = (cli_opt){"--resume", NULL, OPT_STR, &a.resume, "continue from a checkpoint (net options are taken from it)", 1, 0};
    t[n++] = (cli_opt){"--metrics", NULL, OPT_STR, &a.metrics, "append one JSON line per epoch to this file", 1, 0};
    t[n++] = (cli_opt){"--metrics-every", NULL, OPT_INT, &a.metrics_every, "also log training loss/accuracy every N batches (0 = off)", 0, 1e9};
    t[n++] = (cli_opt){"--max-train", NULL, OPT_INT, &a.max_train, "use the first N training samples", 0, 1e9};
    t[n++] = (cli_opt){"--max-test", NULL, OPT_INT, &a.max_test, "use the first N test samples", 0, 1e9};
    t[n++] = (cli_opt){"--eval-batch", NULL, OPT_INT, &a.eval_batch, "batch size of the test-set evaluation (memory grows with it)", 1, 65536};
    t[n++] = (cli_opt){"--json", NULL, OPT_FLAG, &a.json, "print the final numbers as one JSON object", 1, 0};
    t[n++] = (cli_opt){"--quiet", "-q", OPT_FLAG, &a.quiet, "no progress bar", 1, 0};
    t[n] = (cli_opt){0};
    int pr = cli_parse("train", "[options]", t, argc, argv, 2);
    if (pr) return pr > 0 ? 0 : 2;
    soma_set_threads(a.threads);
    soma_error err = {0};
    soma_net_config cfg;
    soma_optim_params op = soma_optim_default_params();
    int k = soma_optim_parse(a.optim), sk = soma_sched_parse(a.schedule);
    if (k < 0 || sk < 0) {
        fprintf(stderr, "soma train: unknown %s '%s'\n", k < 0 ? "--optim" : "--schedule", k < 0 ? a.optim : a.schedule);
        return 2;
    }
    if (net_opts_config(&a.n, &cfg)) return 2;
    op.kind = (soma_optim_kind)k, op.lr = (float)a.lr, op.momentum = (float)a.momentum;
    op.weight_decay = (float)a.wd, op.grad_clip = (float)a.clip;
    soma_dataset tr = {0}, te = {0};
    soma_net *net = NULL;
    soma_optim *opt = NULL;
    cli_set_event_frames(a.n.T); /* event datasets are binned into T frames */
    int rc = load_sets(&a, &tr, &te, &err);
    if (rc) goto fail;
    if (a.resume) {
        if ((rc = soma_net_load(&net, &opt, a.resume, &err))) goto fail;
        cfg = *soma_net_config_of(net);
    } else {
        char spec[1200]; /* "32C3-P2-..." gets the data's image shape in front */
        if ((rc = soma_net_create(&net, cli_net_spec(spec, sizeof spec, a.net, tr.c, tr.h, tr.w), &cfg, a.seed, &err)))
            goto fail;
    }
    int64_t np;
    soma_net_params(net, &np);
    if (opt && a.groups) { /* a resumed optimiser keeps its own groups */
        rc = soma_fail(&err, SOMA_E_ARG, "--param-group: %s already has its optimiser's groups", a.resume);
        goto fail;
    }
    if (!opt) {
        if (!(opt = soma_optim_create(&op, np))) {
            rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory for the optimiser");
            goto fail;
        }
        if (a.groups && (rc = add_param_groups(opt, net, a.groups, &err))) goto fail;
    }
    if (!a.quiet) print_net(net, stderr);
    soma_train_options to = {0};
    to.epochs = a.epochs, to.batch = a.batch, to.seed = a.seed;
    to.schedule = (soma_schedule){(soma_sched_kind)sk, (float)a.lr, (float)a.lr_min, (float)a.gamma, a.step_size};
    to.progress = a.quiet ? NULL : cli_progress;
    step_log sl = {a.metrics, a.metrics_every, a.batch, tr.n, opt, a.quiet, -1, 0, 0, 0};
    if (a.metrics && a.metrics_every > 0) to.progress = log_steps, to.user = &sl;
    soma_epoch_result er = {0};
    soma_eval_result ev = {0};
    double best = 0, train_time = 0;
    /* --resume continues the run: the optimiser's step count says how many epochs are done, and
     * shuffling, encoding and the schedule depend only on (seed, epoch), so an interrupted run
     * that resumes gives the same result as one that was not interrupted. */
    const int64_t n_batches = (tr.n + a.batch - 1) / a.batch;
    const int first_epoch = a.resume && n_batches > 0 ? (int)(soma_optim_steps(opt) / n_batches) : 0;
    for (int e = first_epoch; e < a.epochs; e++) {
        if ((rc = soma_train_epoch(net, opt, &tr, &to, e, &er, &err))) goto fail;
        train_time += er.seconds;
        soma_eval_result_free(&ev);
        if ((rc = soma_evaluate(net, &te, a.eval_batch, a.seed * 31u + 977u, &ev, &err))) goto fail;
        best = ev.accuracy > best ? ev.accuracy : best;
        cli_progress_done();
        fprintf(stderr, "epoch %d/%d: train loss %.4f acc %.2f%% | test loss %.4f acc %.2f%% | %.0f train samples/s, %.0f test samples/s | rates",
                e + 1, a.epochs, er.loss, 100 * er.accuracy, ev.loss, 100 * ev.accuracy, er.samples_per_s, ev.samples_per_s);
        for (int i = 0; i < ev.n_layers; i++) fprintf(stderr, " %.3f", ev.firing_rate[i]);
        fputc('\n', stderr);
        if (a.metrics) {
            FILE *mf = fopen(a.metrics, "a");
            if (mf) {
                json_out j;
                json_begin(&j, mf);
                json_str(&j, "type", "epoch");
                json_int(&j, "epoch", e + 1);
                json_int(&j, "step", (long long)soma_optim_steps(opt));
                json_num(&j, "train_loss", er.loss);
                json_num(&j, "train_accuracy", er.accuracy);
                json_num(&j, "test_loss", ev.loss);
                json_num(&j, "test_accuracy", ev.accuracy);
                json_num(&j, "train_samples_per_s", er.samples_per_s);
                json_num(&j, "train_seconds", er.seconds);
                json_num(&j, "test_seconds", ev.seconds);
                json_arr(&j, "firing_rate", ev.firing_rate, ev.n_layers);
                json_end(&j);
                fclose(mf);
            }
        }
        if (a.save && (rc = soma_net_save(net, opt, a.save, &err))) goto fail;
    }
    /* with --json, stdout carries only the JSON object */
    fprintf(a.json ? stderr : stdout, "test accuracy: %.2f%% (%lld samples)\n", 100 * ev.accuracy, (long long)ev.n);
    if (a.json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "net", soma_net_spec(net));
        json_str(&j, "neuron", a.n.nr.neuron);
        json_int(&j, "T", cfg.T);
        json_int(&j, "epochs", a.epochs);
        json_int(&j, "seed", (long long)a.seed);
        json_num(&j, "test_accuracy", ev.accuracy);
        json_num(&j, "best_test_accuracy", best);
        json_num(&j, "test_loss", ev.loss);
        json_num(&j, "train_accuracy", er.accuracy);
        /* over the whole run, not the last epoch: a shared machine's load varies */
        json_num(&j, "train_samples_per_s", train_time > 0 ? (double)tr.n * a.epochs / train_time : 0);
        json_num(&j, "test_samples_per_s", ev.samples_per_s);
        json_num(&j, "train_seconds", train_time);
        json_num(&j, "peak_rss_mb", (double)soma_peak_rss() / 1048576.0);
        json_num(&j, "peak_soma_mb", (double)soma_mem_peak() / 1048576.0);
        json_arr(&j, "firing_rate", ev.firing_rate, ev.n_layers);
        json_end(&j);
    }
    soma_eval_result_free(&ev);
    soma_optim_free(opt);
    soma_net_free(net);
    soma_dataset_free(&tr);
    soma_dataset_free(&te);
    return 0;
fail:
    cli_progress_done();
    fprintf(stderr, "soma train: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    soma_eval_result_free(&ev);
    soma_optim_free(opt);
    soma_net_free(net);
    soma_dataset_free(&tr);
    soma_dataset_free(&te);
    return 1;
}

int cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = "mnist";
    int batch = 256, threads = 0, json = 0, max_test = 0, confusion = 0;
    uint64_t seed = 1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &model, "checkpoint written by soma train --save", 1, 0},
        {"--data", NULL, OPT_STR, &data, "mnist | fashion (test split) | idx:IMG,LBL | csv:PATH | libsvm:PATH", 1, 0},
        {"--batch", NULL, OPT_INT, &batch, "batch size", 1, 65536},
        {"--seed", NULL, OPT_U64, &seed, "encoding seed", 0, 1e15},
        {"--threads", NULL, OPT_INT, &threads, "threads", 0, 1024},
        {"--max-test", NULL, OPT_INT, &max_test, "use the first N samples", 0, 1e9},
        {"--confusion", NULL, OPT_FLAG, &confusion, "print the confusion matrix", 1, 0},
        {"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0},
        {0},
    };
    int pr = cli_parse("eval", "--model FILE [options]", t, argc, argv, 2);
    if (pr) return pr > 0 ? 0 : 2;
    if (!model) {
        fprintf(stderr, "soma eval: --model is required\n");
        return 2;
    }
    soma_set_threads(threads);
    soma_error err = {0};
    soma_net *net = NULL;
    soma_dataset d = {0};
    soma_eval_result ev = {0};
    int rc = soma_net_load(&net, NULL, model, &err);
    if (!rc) cli_set_event_frames(soma_net_config_of(net)->T); /* event data: the model's T */
    if (!rc) rc = cli_load_dataset(&d, data, !cli_dataset_has_splits(data), cli_cache_dir(), &err);
    if (!rc && max_test > 0 && max_test < d.n) {
        soma_dataset s;
        if (!(rc = soma_dataset_slice(&s, &d, 0, max_test, &err))) soma_dataset_free(&d), d = s;
    }
    if (!rc) rc = soma_evaluate(net, &d, batch, seed * 31u + 977u, &ev, &err);
    if (rc) {
        fprintf(stderr, "soma eval: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
        soma_net_free(net);
        soma_dataset_free(&d);
        return 1;
    }
    printf("test accuracy: %.2f%% (%lld samples), loss %.4f, %.0f samples/s\n", 100 * ev.accuracy, (long long)ev.n, ev.loss, ev.samples_per_s);
    if (confusion) {
        printf("confusion (rows = true, columns = predicted):\n");
        for (int r = 0; r < ev.n_classes; r++) {
            for (int c = 0; c < ev.n_classes; c++) printf(" %5lld", (long long)ev.confusion[r * ev.n_classes + c]);
            putchar('\n');
        }
    }
    if (json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "model", model);
        json_num(&j, "test_accuracy", ev.accuracy);
        json_num(&j, "test_loss", ev.loss);
        json_int(&j, "samples", ev.n);
        json_num(&j, "samples_per_s", ev.samples_per_s);
        json_arr(&j, "firing_rate", ev.firing_rate, ev.n_layers);
        json_end(&j);
    }
    soma_eval_result_free(&ev);
    soma_net_free(net);
    soma_dataset_free(&d);
    return 0;
}
