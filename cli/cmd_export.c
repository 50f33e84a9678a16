/* cli/cmd_export.c — `soma export MODEL --c DIR`: the trained net as dependency-free C99
 * (soma/export.h), with the accuracy of the exported arithmetic beside soma eval's. */
#include "cli.h"
#include "soma/export.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p */
static int make_dirs(const char *dir, soma_error *err) {
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *c = p + 1;; c++) {
        if (*c == '/' || !*c) {
            char save = *c;
            *c = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) return soma_fail(err, SOMA_E_IO, "%s: cannot create directory", p);
            *c = save;
            if (!save) break;
        }
    }
    return SOMA_OK;
}

/* soma eval's predictions (batches of `batch` from index 0, as soma_evaluate runs them). */
static int eval_preds(soma_net *net, const soma_dataset *d, int batch, uint64_t seed, int32_t *pred, soma_error *err) {
    const int64_t C = soma_net_output_dim(net);
    float *z = soma_malloc(sizeof(float) * (size_t)(batch * C));
    int64_t *uid = soma_malloc(sizeof(int64_t) * (size_t)batch);
    int rc = z && uid ? SOMA_OK : soma_fail(err, SOMA_E_NOMEM, "out of memory");
    for (int64_t first = 0; first < d->n && !rc; first += batch) {
        int nb = (int)(d->n - first < batch ? d->n - first : batch);
        for (int b = 0; b < nb; b++) uid[b] = first + b;
        rc = soma_net_eval_batch(net, d->x + first * d->dim, NULL, uid, nb, seed, z, NULL);
        if (rc) soma_fail(err, rc, "%s", soma_net_errmsg(net));
        for (int b = 0; b < nb && !rc; b++) {
            const float *zb = z + (int64_t)b * C;
            int best = 0;
            for (int64_t c = 1; c < C; c++)
                if (zb[c] > zb[best]) best = (int)c;
            pred[first + b] = C == 1 ? zb[0] > 0.5f : best;
        }
    }
    soma_free(z);
    soma_free(uid);
    return rc;
}

int cmd_export(int argc, char **argv) {
    const char *model = NULL, *dir = NULL, *name = "soma_model", *data = NULL, *testvec = NULL;
    int int8 = 0, json = 0, max_test = 0, batch = 256, threads = 0;
    uint64_t seed = 1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &model, "checkpoint (or give it as the first argument)", 1, 0},
        {"--c", NULL, OPT_STR, &dir, "write DIR/NAME.c and DIR/NAME.h (DIR is created)", 1, 0},
        {"--name", NULL, OPT_STR, &name, "C prefix of everything generated (default soma_model)", 1, 0},
        {"--int8", NULL, OPT_FLAG, &int8, "int8 weights (one scale per weight set), int32 accumulation", 1, 0},
        {"--data", NULL, OPT_STR, &data, "measure the exported accuracy on this set's test split (e.g. mnist)", 1, 0},
        {"--max-test", NULL, OPT_INT, &max_test, "with --data: the first N samples (0 = all)", 0, 1e9},
        {"--testvec", NULL, OPT_STR, &testvec, "with --data: write test vectors for tests/export_harness.c", 1, 0},
        {"--batch", NULL, OPT_INT, &batch, "soma eval's batch size", 1, 65536},
        {"--seed", NULL, OPT_U64, &seed, "encoding seed (as soma eval)", 0, 1e15},
        {"--threads", NULL, OPT_INT, &threads, "threads", 0, 1024},
        {"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0},
        {0},
    };
    int first = cli_model_arg(argc, argv, 2, &model);
    int pr = cli_parse("export", "MODEL --c DIR [--int8] [--data mnist] [options]", t, argc, argv, first);
    if (pr) return pr > 0 ? 0 : 2;
    if (!model || !dir) {
        fprintf(stderr, "soma export: give a model and a directory: soma export model.soma --c out/\n");
        return 2;
    }
    if (testvec && !data) {
        fprintf(stderr, "soma export: --testvec needs --data\n");
        return 2;
    }
    soma_set_threads(threads);
    soma_error err = {0};
    soma_net *net = NULL;
    soma_dataset d = {0};
    soma_export_model *m = NULL;
    int32_t *pe = NULL, *px = NULL;
    double acc_eval = 0, acc_x = 0;
    int64_t same = 0;
    soma_export_options o = soma_export_default_options();
    o.name = name, o.int8 = int8, o.source = model;
    int rc = data ? cli_open_model(model, data, max_test, &net, &d, &err) : soma_net_load(&net, NULL, model, &err);
    if (!rc) rc = soma_export_create(&m, net, &o, &err);
    if (!rc && data) {
        const uint64_t s = seed * 31u + 977u;
        pe = soma_malloc(sizeof(int32_t) * (size_t)d.n);
        px = soma_malloc(sizeof(int32_t) * (size_t)d.n);
        rc = pe && px ? SOMA_OK : soma_fail(&err, SOMA_E_NOMEM, "out of memory");
        if (!rc) rc = eval_preds(net, &d, batch, s, pe, &err);
        if (!rc) rc = soma_export_evaluate(m, &d, s, &acc_x, px, &err);
        for (int64_t i = 0; i < d.n && !rc; i++) same += pe[i] == px[i], acc_eval += pe[i] == d.y[i];
        acc_eval /= d.n > 0 ? (double)d.n : 1.0;
        if (!rc) {
            char note[512];
            snprintf(note, sizeof note, "measured on %s (%lld samples): soma eval %.2f %%, this export %.2f %% (change %+.2f points)",
                     data, (long long)d.n, 100 * acc_eval, 100 * acc_x, 100 * (acc_x - acc_eval));
            soma_export_set_note(m, note);
        }
        if (!rc && testvec) rc = soma_export_write_testvec(testvec, net, m, &d, d.n, s, batch, acc_eval - acc_x, &err);
    }
    soma_export_info info = {0};
    if (!rc) rc = make_dirs(dir, &err);
    if (!rc) rc = soma_export_write(m, dir, &info, &err);
    if (rc) {
        fprintf(stderr, "soma export: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
    } else if (json) {
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "model", model);
        json_str(&j, "net", soma_net_spec(net));
        json_str(&j, "c", info.c_path);
        json_str(&j, "h", info.h_path);
        json_int(&j, "int8", int8);
        json_int(&j, "weights", (long long)info.n_weights);
        json_int(&j, "weight_bytes", (long long)info.weight_bytes);
        json_int(&j, "state_bytes", (long long)info.state_bytes);
        json_int(&j, "source_bytes", (long long)info.source_bytes);
        if (data) {
            json_int(&j, "samples", (long long)d.n);
            json_num(&j, "eval_accuracy", acc_eval);
            json_num(&j, "export_accuracy", acc_x);
            json_num(&j, "accuracy_change", acc_x - acc_eval);
            json_int(&j, "same_class", (long long)same);
        }
        json_end(&j);
    } else {
        printf("wrote %s and %s: %lld %s weights (%.1f KB of constants), state %.1f KB, source %.1f KB\n", info.h_path,
               info.c_path, (long long)info.n_weights, int8 ? "int8" : "float", info.weight_bytes / 1024.0,
               info.state_bytes / 1024.0, info.source_bytes / 1024.0);
        if (data)
            printf("accuracy on %s (%lld samples): soma eval %.2f %%, exported %s %.2f %% (change %+.2f points); "
                   "same class as soma eval for %lld of %lld\n",
                   data, (long long)d.n, 100 * acc_eval, int8 ? "int8" : "float", 100 * acc_x, 100 * (acc_x - acc_eval),
                   (long long)same, (long long)d.n);
    }
    soma_free(pe);
    soma_free(px);
    soma_export_free(m);
    soma_net_free(net);
    soma_dataset_free(&d);
    return rc ? 1 : 0;
}
