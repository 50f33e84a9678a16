/*
 * cli/cmd_rec.c — `soma rec`: train, evaluate and query the movie recommender (soma/rec.h).
 *
 *   soma rec train --data ml-100k --task rating --model snn --neuron bilinear --split u1 --save rec.soma
 *   soma rec eval --model rec.soma --data ml-100k --split u1
 *   soma rec recommend --model rec.soma --data ml-100k --user 42 -k 10
 *
 * --data takes a directory, or a name (ml-100k, ml-1m) looked up under $SOMA_DATA and then
 * ../shared/data; without --data, $SOMA_DATA itself is tried, then ../shared/data/ml-100k.
 * MovieLens is never shipped with Soma (its licence forbids redistribution).
 */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- data and splits ------------------------------------------------------------------- */

static bool is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool has_data(const char *dir) {
    char p[4096];
    snprintf(p, sizeof p, "%s/u.data", dir);
    if (access(p, R_OK) == 0) return true;
    snprintf(p, sizeof p, "%s/ratings.dat", dir);
    return access(p, R_OK) == 0;
}

/* Resolves --data to a directory holding MovieLens files (into out). */
static int resolve_data(char *out, size_t cap, const char *arg, soma_error *err) {
    const char *env = getenv("SOMA_DATA");
    const char *name = arg ? arg : "ml-100k";
    if (arg && is_dir(arg) && has_data(arg)) return snprintf(out, cap, "%s", arg), SOMA_OK;
    if (!arg && env && *env && has_data(env)) return snprintf(out, cap, "%s", env), SOMA_OK;
    const char *roots[] = {env && *env ? env : NULL, "../shared/data", "shared/data"};
    for (int i = 0; i < 3; i++) {
        if (!roots[i]) continue;
        snprintf(out, cap, "%s/%s", roots[i], name);
        if (has_data(out)) return SOMA_OK;
    }
    return soma_fail(err, SOMA_E_IO, "MovieLens data '%s' not found: give --data DIR (a folder with u.data or ratings.dat), "
                     "set SOMA_DATA, or run scripts/fetch_movielens.sh", name);
}

typedef struct split_set {
    soma_rec_ratings train, test;
    bool has_test;
} split_set;

/* --split: u1..u5 (official ML-100k folds), random (80/20), loo (leave-one-out), none. */
static int make_split(split_set *s, const soma_rec_data *d, const char *dir, const char *split, uint64_t seed,
                      soma_error *err) {
    memset(s, 0, sizeof *s);
    if (split[0] == 'u' && split[1] >= '1' && split[1] <= '5' && !split[2]) {
        if (strcmp(d->name, "ml-100k") != 0) return soma_fail(err, SOMA_E_ARG, "--split %s needs MovieLens-100k's official folds", split);
        s->has_test = true;
        return soma_rec_split_official(d, dir, split[1] - '0', &s->train, &s->test, err);
    }
    if (strcmp(split, "random") == 0) {
        s->has_test = true;
        return soma_rec_split_random(&d->ratings, 0.2, seed, &s->train, &s->test, err);
    }
    if (strcmp(split, "loo") == 0) {
        s->has_test = true;
        return soma_rec_split_loo(&d->ratings, d->n_users, &s->train, &s->test, err);
    }
    if (strcmp(split, "none") == 0) {
        s->train.r = soma_malloc((size_t)d->ratings.n * sizeof *s->train.r);
        if (!s->train.r) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
        memcpy(s->train.r, d->ratings.r, (size_t)d->ratings.n * sizeof *s->train.r);
        s->train.n = d->ratings.n;
        return SOMA_OK;
    }
    return soma_fail(err, SOMA_E_ARG, "unknown --split '%s' (u1..u5, random, loo, none)", split);
}

static void split_free(split_set *s) {
    soma_rec_ratings_free(&s->train);
    soma_rec_ratings_free(&s->test);
}

/* ---- progress ------------------------------------------------------------------------------ */

static void rec_progress(const soma_progress *p, void *user) {
    (void)user;
    static double last;
    bool tty = isatty(STDERR_FILENO), end = p->batch == p->n_batches;
    double now = soma_now();
    if (!end && now - last < (tty ? 0.1 : 5.0)) return;
    last = now;
    int width = 24, fill = (int)(width * (double)p->batch / (double)p->n_batches);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "%sepoch %d/%d [%s] %lld/%lld loss %.4f %.0f samples/s ETA %.0fs%s", tty ? "\r" : "", p->epoch + 1,
            p->epochs, bar, (long long)p->batch, (long long)p->n_batches, p->loss, p->samples_per_s, p->eta_s,
            tty ? (end ? "\033[K\n" : "\033[K") : "\n");
    fflush(stderr);
}

static void rec_epoch(int epoch, double loss, double val, void *user) {
    const soma_rec_train_options *o = user;
    fprintf(stderr, "epoch %d: train loss %.4f", epoch + 1, loss);
    if (val == val) fprintf(stderr, ", validation %s %.4f", o->loss == SOMA_REC_LOSS_MSE ? "RMSE" : "HR@10", val);
    fputc('\n', stderr);
}

/* ---- JSON string output ------------------------------------------------------------------- */

static void jstr(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void genre_list(char *out, size_t cap, const soma_rec_model *m, uint32_t g) {
    size_t n = 0;
    out[0] = '\0';
    for (int i = 0; i < soma_rec_model_n_genres(m); i++)
        if (g >> i & 1u) {
            int w = snprintf(out + n, cap - n, "%s%s", n ? "|" : "", soma_rec_model_genre(m, i));
            if (w < 0 || (size_t)w >= cap - n) break;
            n += (size_t)w;
        }
}

/* ---- options ---------------------------------------------------------------------------------- */

typedef struct rec_args {
    neuron_opts nr;
    const char *data, *split, *task, *model, *readout, *fields, *loss, *optim, *schedule, *save, *load;
    double init_std, dropout, lr, lr_min, wd, reg, reg_linear, val_fraction, clip, momentum, ema, implicit_pow;
    int T, width, depth, fm_k, no_first_order, epochs, batch, patience;
    int negatives, eval_negatives, threads, json, quiet, spare, rated_cap;
    uint64_t seed;
} rec_args;

static void args_defaults(rec_args *a) {
    soma_rec_config c = soma_rec_default_config();
    soma_rec_train_options o = soma_rec_default_train_options(SOMA_REC_RATING);
    memset(a, 0, sizeof *a);
    neuron_opts_defaults(&a->nr, "bilinear", &c.neuron, &c.integrate);
    a->split = NULL, a->task = "rating", a->model = "snn", a->readout = soma_readout_name(c.readout);
    a->fields = "side", a->loss = NULL, a->optim = "adam", a->schedule = "const", a->init_std = c.init_std;
    a->momentum = o.optim.momentum, a->implicit_pow = c.implicit_pow, a->rated_cap = c.rated_cap;
    a->lr = o.optim.lr, a->reg = o.reg, a->reg_linear = o.reg_linear, a->val_fraction = o.val_fraction;
    a->T = c.T, a->width = c.width, a->depth = c.depth, a->fm_k = c.fm_k;
    a->epochs = o.epochs, a->batch = o.batch, a->patience = o.patience, a->negatives = o.negatives;
    a->eval_negatives = o.eval_negatives, a->threads = 1, a->seed = 1, a->spare = c.spare_users;
}

#define ADD(n_, al_, t_, d_, h_, lo_, hi_) t[n++] = (cli_opt){n_, al_, t_, d_, h_, lo_, hi_}

static int train_table(rec_args *a, cli_opt *t) {
    int n = 0;
    ADD("--data", NULL, OPT_STR, &a->data, "MovieLens folder, or ml-100k | ml-1m (under $SOMA_DATA or ../shared/data)", 1, 0);
    ADD("--split", NULL, OPT_STR, &a->split, "u1..u5 (official ML-100k folds) | random | loo | none (default: u1 / random for rating, loo for topn)", 1, 0);
    ADD("--task", NULL, OPT_STR, &a->task, "rating | topn", 1, 0);
    ADD("--model", NULL, OPT_STR, &a->model, "snn | fm | bias | pop", 1, 0);
    ADD("--time-steps", "-T", OPT_INT, &a->T, "time steps T (direct input)", 1, 64);
    ADD("--width", NULL, OPT_INT, &a->width, "neurons per spiking layer", 1, 4096);
    ADD("--depth", NULL, OPT_INT, &a->depth, "spiking layers", 1, 4);
    ADD("--readout", NULL, OPT_STR, &a->readout, "rate | membrane", 1, 0);
    ADD("--dropout", NULL, OPT_FLOAT, &a->dropout, "SNN: drop last-layer neurons from the readout while training", 0, 0.95);
    ADD("--no-first-order", NULL, OPT_FLAG, &a->no_first_order, "SNN: no w0 + sum w_k x_k term in the score", 1, 0);
    neuron_opts_table(&a->nr, t, &n);
    ADD("--init-std", NULL, OPT_FLOAT, &a->init_std, "std of W, readout and FM factors at init", 0, 100);
    ADD("--fm-k", NULL, OPT_INT, &a->fm_k, "FM factors", 0, 1024);
    ADD("--fields", NULL, OPT_STR, &a->fields, "side (default: ids + side features) | all (side + rated) | ids | a comma list of those and user,gender,age,occupation,region,fav-genres,movie,decade,genres,rated (e.g. side,rated)", 1, 0);
    ADD("--implicit-pow", NULL, OPT_FLOAT, &a->implicit_pow, "rated field: each rated movie has value |N|^-p (0.5: 1/sqrt|N|, 1: 1/|N|)", 0, 4);
    ADD("--rated-cap", NULL, OPT_INT, &a->rated_cap, "rated field: keep a user's latest N movies (0 = all)", 0, 100000000);
    ADD("--spare", NULL, OPT_INT, &a->spare, "id slots kept for users and movies added later", 0, 10000000);
    ADD("--loss", NULL, OPT_STR, &a->loss, "mse | bpr | bce (default: mse for rating, bpr for topn)", 1, 0);
    ADD("--negatives", NULL, OPT_INT, &a->negatives, "bce: sampled negatives per positive", 1, 100);
    ADD("--eval-negatives", NULL, OPT_INT, &a->eval_negatives, "topn: negatives ranked with each held-out movie", 1, 100000);
    ADD("--epochs", NULL, OPT_INT, &a->epochs, "most epochs", 1, 100000);
    ADD("--patience", NULL, OPT_INT, &a->patience, "early stopping: epochs without improvement (0 = off)", 0, 100000);
    ADD("--val-fraction", NULL, OPT_FLOAT, &a->val_fraction, "held out of the training set for validation (0 = none)", 0, 0.9);
    ADD("--batch", NULL, OPT_INT, &a->batch, "batch size", 1, 65536);
    ADD("--lr", NULL, OPT_FLOAT, &a->lr, "learning rate", 0, 100);
    ADD("--optim", NULL, OPT_STR, &a->optim, "sgd | adam | adamw", 1, 0);
    ADD("--momentum", NULL, OPT_FLOAT, &a->momentum, "SGD momentum", 0, 1);
    ADD("--schedule", NULL, OPT_STR, &a->schedule, "const | cosine", 1, 0);
    ADD("--lr-min", NULL, OPT_FLOAT, &a->lr_min, "cosine: final learning rate", 0, 100);
    ADD("--reg", NULL, OPT_FLOAT, &a->reg, "L2 on the parameter rows of active features", 0, 100);
    ADD("--reg-linear", NULL, OPT_FLOAT, &a->reg_linear, "L2 on the first-order weights w_k of active features", 0, 100);
    ADD("--ema", NULL, OPT_FLOAT, &a->ema, "keep an exponential moving average of the parameters (decay per step; 0 = off)", 0, 0.999999);
    ADD("--weight-decay", NULL, OPT_FLOAT, &a->wd, "optimiser weight decay (all parameters)", 0, 10);
    ADD("--grad-clip", NULL, OPT_FLOAT, &a->clip, "clip the global gradient norm (0 = off)", 0, 1e9);
    ADD("--seed", NULL, OPT_U64, &a->seed, "random seed", 0, 1e15);
    ADD("--threads", NULL, OPT_INT, &a->threads, "threads (the recommender runs on one)", 0, 1024);
    ADD("--save", NULL, OPT_STR, &a->save, "write the trained model here", 1, 0);
    ADD("--json", NULL, OPT_FLAG, &a->json, "print the numbers as one JSON object", 1, 0);
    ADD("--quiet", "-q", OPT_FLAG, &a->quiet, "no progress bar", 1, 0);
    t[n] = (cli_opt){0};
    return n;
}

static int bad(const char *what, const char *v, const char *choices) {
    cli_bad_choice("rec", what, v, choices);
    return 2;
}

static int make_config(const rec_args *a, soma_rec_config *c, soma_rec_train_options *o) {
    *c = soma_rec_default_config();
    int v;
    if ((v = soma_rec_task_parse(a->task)) < 0) return bad("--task", a->task, "rating, topn");
    c->task = (soma_rec_task)v;
    *o = soma_rec_default_train_options(c->task);
    if ((v = soma_rec_kind_parse(a->model)) < 0) return bad("--model", a->model, "snn, fm, bias, pop");
    c->kind = (soma_rec_kind)v;
    if (neuron_opts_config("rec", &a->nr, &c->neuron, &c->integrate)) return 2;
    if (c->neuron.kind == SOMA_NEURON_PLIF) return bad("--dynamics", a->nr.dynamics, "lif, lif-tau, if");
    if ((v = soma_readout_parse(a->readout)) < 0) return bad("--readout", a->readout, "rate, membrane");
    c->readout = (soma_readout)v;
    int64_t f = soma_rec_fields_parse(a->fields);
    if (f < 0) return bad("--fields", a->fields, "side, all, ids, or a comma list of field names");
    c->fields = (uint32_t)f;
    c->implicit_pow = (float)a->implicit_pow, c->rated_cap = a->rated_cap;
    c->T = a->T, c->width = a->width, c->depth = a->depth, c->fm_k = a->fm_k;
    c->first_order = !a->no_first_order, c->init_std = (float)a->init_std, c->dropout = (float)a->dropout;
    c->spare_users = c->spare_movies = a->spare;
    if (a->loss) {
        if ((v = soma_rec_loss_parse(a->loss)) < 0) return bad("--loss", a->loss, "mse, bpr, bce");
        o->loss = (soma_rec_loss)v;
    }
    if ((v = soma_optim_parse(a->optim)) < 0) return bad("--optim", a->optim, "sgd, adam, adamw");
    o->optim.kind = (soma_optim_kind)v;
    if ((v = soma_sched_parse(a->schedule)) < 0) return bad("--schedule", a->schedule, "const, cosine");
    o->schedule.kind = (soma_sched_kind)v;
    o->optim.momentum = (float)a->momentum;
    o->ema = (float)a->ema;
    o->optim.lr = (float)a->lr, o->optim.weight_decay = (float)a->wd, o->optim.grad_clip = (float)a->clip;
    o->schedule.lr = (float)a->lr, o->schedule.lr_min = (float)a->lr_min;
    o->epochs = a->epochs, o->batch = a->batch, o->patience = a->patience, o->val_fraction = a->val_fraction;
    o->reg = (float)a->reg, o->reg_linear = (float)a->reg_linear, o->negatives = a->negatives, o->eval_negatives = a->eval_negatives, o->seed = a->seed;
    return 0;
}

/* Evaluates m on the split's test set by the task's protocol. */
static int evaluate(const soma_rec_model *m, const soma_rec_data *d, const split_set *s, int eval_negatives,
                    uint64_t seed, soma_rec_metrics *met, soma_error *err) {
    if (soma_rec_model_config(m)->task == SOMA_REC_RATING) return soma_rec_eval_rating(m, &s->test, met, err);
    return soma_rec_eval_topn(m, &d->ratings, &s->test, eval_negatives, 10, seed * 7919u + 17u, met, err);
}

static void print_metrics(const soma_rec_model *m, const soma_rec_metrics *met, FILE *f) {
    if (soma_rec_model_config(m)->task == SOMA_REC_RATING)
        fprintf(f, "test RMSE %.4f  MAE %.4f  (%lld ratings)\n", met->rmse, met->mae, (long long)met->n);
    else
        fprintf(f, "test HR@%d %.4f  NDCG@%d %.4f  (%lld users)\n", met->k, met->hr, met->k, met->ndcg, (long long)met->n);
}

static void json_metrics(json_out *j, const soma_rec_model *m, const soma_rec_metrics *met) {
    if (soma_rec_model_config(m)->task == SOMA_REC_RATING) {
        json_num(j, "rmse", met->rmse);
        json_num(j, "mae", met->mae);
    } else {
        json_num(j, "hr10", met->hr);
        json_num(j, "ndcg10", met->ndcg);
    }
    json_int(j, "test_n", met->n);
}

static int rec_train(int argc, char **argv) {
    rec_args a;
    args_defaults(&a);
    cli_opt t[80];
    train_table(&a, t);
    int pr = cli_parse("rec train", "[options]", t, argc, argv, 3);
    if (pr) return pr > 0 ? 0 : 2;
    soma_rec_config cfg;
    soma_rec_train_options o;
    if (make_config(&a, &cfg, &o)) return 2;
    soma_set_threads(a.threads);
    if (!a.quiet) o.progress = rec_progress, o.on_epoch = rec_epoch, o.user = &o;
    soma_error err = {0};
    char dir[4096];
    soma_rec_data d = {0};
    split_set s = {0};
    soma_rec_model *m = NULL;
    int rc = resolve_data(dir, sizeof dir, a.data, &err);
    if (!rc) rc = soma_rec_load(&d, dir, &err);
    const char *split = a.split ? a.split : cfg.task == SOMA_REC_TOPN ? "loo" : strcmp(d.name, "ml-100k") == 0 ? "u1" : "random";
    if (!rc) rc = make_split(&s, &d, dir, split, a.seed, &err);
    if (!rc) rc = soma_rec_model_create(&m, &cfg, &d, &s.train, a.seed, &err);
    if (rc) goto fail;
    if (!a.quiet)
        fprintf(stderr, "%s: %d users, %d movies, %lld ratings; split %s: %lld train, %lld test\nmodel %s, %lld parameters\n", dir,
                d.n_users, d.n_movies, (long long)d.ratings.n, split, (long long)s.train.n, (long long)s.test.n,
                soma_rec_model_desc(m), (long long)soma_rec_model_n_params(m));
    soma_rec_train_result res;
    if ((rc = soma_rec_train(m, &s.train, NULL, &o, &res, &err))) goto fail;
    if (!a.quiet)
        fprintf(stderr, "trained %d epochs (best %d, validation %s %.4f), %.1f s, %.0f samples/s\n", res.epochs_run, res.best_epoch,
                o.loss == SOMA_REC_LOSS_MSE ? "RMSE" : "HR@10", res.best_val, res.seconds, res.samples_per_s);
    soma_rec_metrics met = {0};
    if (s.has_test) {
        if ((rc = evaluate(m, &d, &s, a.eval_negatives, a.seed, &met, &err))) goto fail;
        print_metrics(m, &met, stdout);
    }
    if (a.save && (rc = soma_rec_model_save(m, a.save, &err))) goto fail;
    if (a.json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "data", d.name);
        json_str(&j, "split", split);
        json_str(&j, "task", soma_rec_task_name(cfg.task));
        json_str(&j, "model", soma_rec_kind_name(cfg.kind));
        json_str(&j, "neuron", cfg.kind == SOMA_REC_SNN ? soma_integrate_mode_name(cfg.integrate.mode) : "-");
        json_str(&j, "desc", soma_rec_model_desc(m));
        json_int(&j, "seed", (long long)a.seed);
        json_int(&j, "params", soma_rec_model_n_params(m));
        json_str(&j, "fields", a.fields);
        if (s.has_test) json_metrics(&j, m, &met);
        json_int(&j, "epochs_run", res.epochs_run);
        json_int(&j, "best_epoch", res.best_epoch);
        json_num(&j, "best_val", res.best_val);
        json_num(&j, "train_seconds", res.seconds);
        json_num(&j, "train_samples_per_s", res.samples_per_s);
        json_num(&j, "peak_rss_mb", (double)soma_peak_rss() / 1048576.0);
        json_end(&j);
    }
    soma_rec_model_free(m);
    split_free(&s);
    soma_rec_data_free(&d);
    return 0;
fail:
    fprintf(stderr, "soma rec train: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    soma_rec_model_free(m);
    split_free(&s);
    soma_rec_data_free(&d);
    return 1;
}

static int rec_eval(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *split = NULL;
    int json = 0, eval_negatives = 99;
    uint64_t seed = 1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &model, "checkpoint written by soma rec train --save", 1, 0},
        {"--data", NULL, OPT_STR, &data, "MovieLens folder or name (as for train)", 1, 0},
        {"--split", NULL, OPT_STR, &split, "u1..u5 | random | loo (default: as train's)", 1, 0},
        {"--eval-negatives", NULL, OPT_INT, &eval_negatives, "topn: negatives per held-out movie", 1, 100000},
        {"--seed", NULL, OPT_U64, &seed, "seed of the random split and the sampled negatives", 0, 1e15},
        {"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0},
        {0},
    };
    int pr = cli_parse("rec eval", "--model FILE [options]", t, argc, argv, 3);
    if (pr) return pr > 0 ? 0 : 2;
    if (!model) {
        fprintf(stderr, "soma rec eval: --model is required\n");
        return 2;
    }
    soma_error err = {0};
    char dir[4096];
    soma_rec_data d = {0};
    split_set s = {0};
    soma_rec_model *m = NULL;
    int rc = soma_rec_model_load(&m, model, &err);
    if (!rc) rc = resolve_data(dir, sizeof dir, data, &err);
    if (!rc) rc = soma_rec_load(&d, dir, &err);
    if (!rc && (soma_rec_model_n_users(m) < d.n_users || soma_rec_model_n_movies(m) < d.n_movies))
        rc = soma_fail(&err, SOMA_E_ARG, "%s was trained on a smaller catalogue than %s", model, dir);
    const char *sp = split ? split : !m ? "u1" : soma_rec_model_config(m)->task == SOMA_REC_TOPN ? "loo" : strcmp(d.name, "ml-100k") == 0 ? "u1" : "random";
    if (!rc) rc = make_split(&s, &d, dir, sp, seed, &err);
    if (!rc && !s.has_test) rc = soma_fail(&err, SOMA_E_ARG, "--split none has no test set");
    soma_rec_metrics met = {0};
    if (!rc) rc = evaluate(m, &d, &s, eval_negatives, seed, &met, &err);
    if (rc) {
        fprintf(stderr, "soma rec eval: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    } else {
        print_metrics(m, &met, stdout);
        if (json) {
            json_out j;
            json_begin(&j, stdout);
            json_str(&j, "model", model);
            json_str(&j, "split", sp);
            json_metrics(&j, m, &met);
            json_num(&j, "seconds", met.seconds);
            json_end(&j);
        }
    }
    soma_rec_model_free(m);
    split_free(&s);
    soma_rec_data_free(&d);
    return rc ? 1 : 0;
}

static int rec_recommend(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *gender = NULL, *occupation = NULL, *zip = NULL, *genres = NULL;
    int k = 10, json = 0, include_rated = 0, age = 0;
    double user = -1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &model, "checkpoint written by soma rec train --save", 1, 0},
        {"--data", NULL, OPT_STR, &data, "MovieLens folder or name: titles, and the user's ratings to exclude", 1, 0},
        {"--user", NULL, OPT_FLOAT, &user, "the user's id in the data (omit for a new user described below)", 0, 1e12},
        {"--k", "-k", OPT_INT, &k, "how many movies", 1, 100000},
        {"--include-rated", NULL, OPT_FLAG, &include_rated, "do not exclude movies the user has rated", 1, 0},
        {"--gender", NULL, OPT_STR, &gender, "new user: M | F", 1, 0},
        {"--age", NULL, OPT_INT, &age, "new user: age in years", 0, 150},
        {"--occupation", NULL, OPT_STR, &occupation, "new user: occupation name", 1, 0},
        {"--zip", NULL, OPT_STR, &zip, "new user: zip code", 1, 0},
        {"--genres", NULL, OPT_STR, &genres, "new user: favourite genres, comma-separated", 1, 0},
        {"--json", NULL, OPT_FLAG, &json, "print the list as one JSON object", 1, 0},
        {0},
    };
    int pr = cli_parse("rec recommend", "--model FILE (--user ID | --gender ... --genres ...) [options]", t, argc, argv, 3);
    if (pr) return pr > 0 ? 0 : 2;
    if (!model) {
        fprintf(stderr, "soma rec recommend: --model is required\n");
        return 2;
    }
    soma_error err = {0};
    soma_rec_model *m = NULL;
    soma_rec_scorer *sc = NULL;
    soma_rec_data d = {0};
    int32_t *excl = NULL;
    soma_rec_hit *hits = NULL;
    int64_t n_ex = 0;
    char dir[4096];
    int rc = soma_rec_model_load(&m, model, &err);
    bool have_data = false;
    if (!rc && (data || user >= 0)) {
        if (!(rc = resolve_data(dir, sizeof dir, data, &err)) && !(rc = soma_rec_load(&d, dir, &err))) have_data = true;
    }
    soma_rec_user_desc u;
    memset(&u, 0, sizeof u);
    u.slot = -1, u.occupation = -1;
    if (!rc && user >= 0) {
        int32_t s = soma_rec_model_user_slot(m, (int64_t)user);
        if (s < 0) rc = soma_fail(&err, SOMA_E_ARG, "user %.0f is not in the model", user);
        else soma_rec_model_user(m, s, &u);
        int32_t ds = have_data ? soma_rec_data_user_index(&d, (int64_t)user) : -1;
        if (!rc && ds >= 0 && !include_rated) {
            excl = soma_malloc((size_t)d.ratings.n * sizeof *excl);
            if (!excl) rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory");
            for (int64_t i = 0; !rc && i < d.ratings.n; i++)
                if (d.ratings.r[i].user == ds) {
                    int32_t ms = soma_rec_model_movie_slot(m, d.movies[d.ratings.r[i].movie].id);
                    if (ms >= 0) excl[n_ex++] = ms;
                }
        }
    } else if (!rc) {
        if (gender) u.gender = gender[0] == 'F' || gender[0] == 'f' ? 'F' : gender[0] == 'M' || gender[0] == 'm' ? 'M' : 0;
        u.age = age;
        if (zip) snprintf(u.zip, sizeof u.zip, "%s", zip);
        for (int o = 0; occupation && o < soma_rec_model_n_occupations(m); o++)
            if (strcmp(soma_rec_model_occupation(m, o), occupation) == 0) u.occupation = o;
        if (occupation && u.occupation < 0) rc = soma_fail(&err, SOMA_E_ARG, "unknown occupation '%s'", occupation);
        for (const char *p = genres; !rc && p && *p;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            int found = -1;
            for (int g = 0; g < soma_rec_model_n_genres(m); g++)
                if (strlen(soma_rec_model_genre(m, g)) == l && strncasecmp(soma_rec_model_genre(m, g), p, l) == 0) found = g;
            if (found < 0) rc = soma_fail(&err, SOMA_E_ARG, "unknown genre '%.*s'", (int)l, p);
            else u.fav_genres |= 1u << found;
            p += l + (e != NULL);
        }
    }
    int nh = 0;
    if (!rc) rc = soma_rec_scorer_create(&sc, m, &err);
    if (!rc && !(hits = soma_malloc((size_t)k * sizeof *hits))) rc = soma_fail(&err, SOMA_E_NOMEM, "out of memory");
    double t0 = soma_now();
    if (!rc) rc = soma_rec_recommend(sc, &u, excl, n_ex, k, hits, &nh, &err);
    double ms = 1e3 * (soma_now() - t0);
    if (rc) {
        fprintf(stderr, "soma rec recommend: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    } else {
        const bool rating = soma_rec_model_config(m)->task == SOMA_REC_RATING;
        if (json) printf("{\"user\":%.0f,\"k\":%d,\"ms\":%.3f,\"items\":[", user, k, ms);
        else if (user >= 0) printf("top %d for user %.0f (%d rated movies excluded, %.2f ms):\n", nh, user, (int)n_ex, ms);
        else printf("top %d for a new user (%.2f ms):\n", nh, ms);
        for (int i = 0; i < nh; i++) {
            soma_rec_movie_desc mv;
            soma_rec_model_movie(m, hits[i].movie, &mv);
            int64_t id = soma_rec_model_movie_id(m, hits[i].movie);
            int32_t di = have_data ? soma_rec_data_movie_index(&d, id) : -1;
            const char *title = di >= 0 ? d.movies[di].title : "";
            char gl[512];
            genre_list(gl, sizeof gl, m, mv.genres);
            float shown = rating ? soma_rec_model_clip(m, hits[i].score) : hits[i].score;
            if (json) {
                printf("%s{\"rank\":%d,\"movie\":%lld,\"title\":", i ? "," : "", i + 1, (long long)id);
                jstr(stdout, title);
                printf(",\"year\":%d,\"genres\":", mv.year);
                jstr(stdout, gl);
                printf(",\"score\":%.4f}", (double)shown);
            } else {
                printf("%3d. %-55s %-30s %s %.3f\n", i + 1, title[0] ? title : "(no title: give --data)", gl,
                       rating ? "predicted" : "score", (double)shown);
            }
        }
        if (json) printf("]}\n");
    }
    soma_free(hits);
    soma_free(excl);
    soma_rec_scorer_free(sc);
    soma_rec_model_free(m);
    soma_rec_data_free(&d);
    return rc ? 1 : 0;
}

int cmd_rec(int argc, char **argv) {
    const char *v = argc > 2 ? argv[2] : NULL;
    if (v && strcmp(v, "train") == 0) return rec_train(argc, argv);
    if (v && strcmp(v, "eval") == 0) return rec_eval(argc, argv);
    if (v && strcmp(v, "recommend") == 0) return rec_recommend(argc, argv);
    FILE *f = v && (strcmp(v, "--help") == 0 || strcmp(v, "-h") == 0) ? stdout : stderr;
    fprintf(f, "usage: soma rec <train|eval|recommend> [options]   (soma rec <verb> --help)\n"
               "  train      train a recommender on MovieLens and evaluate it on the split's test set\n"
               "  eval       evaluate a saved recommender (RMSE/MAE, or HR@10/NDCG@10 leave-one-out)\n"
               "  recommend  top-k movies for a user (titles, genres, predicted score)\n");
    if (v && f == stderr) fprintf(stderr, "soma rec: unknown verb '%s'\n", v);
    return f == stdout ? 0 : 2;
}
