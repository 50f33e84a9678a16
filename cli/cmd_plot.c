/* cli/cmd_plot.c — `soma plot raster|membrane|rates|curves`: SVG pictures of a trained net
 * (soma/viz.h draws them; soma/inspect.h supplies the traces) and of a training run. */
#include "cli.h"
#include "soma/inspect.h"
#include "soma/viz.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Parses "1,3,5" (and "in" when allow_in) into idx; -1 stands for "in". Returns the count or
 * -1 on a malformed list. */
static int parse_list(const char *s, int *idx, int cap, bool allow_in) {
    int n = 0;
    const char *p = s;
    while (*p) {
        if (n >= cap) return -1;
        if (allow_in && strncmp(p, "in", 2) == 0 && (p[2] == ',' || !p[2])) {
            idx[n++] = -1, p += 2;
        } else {
            char *end;
            errno = 0;
            long v = strtol(p, &end, 10);
            if (end == p || errno || v < 0 || v > 1000000 || (*end && *end != ',')) return -1;
            idx[n++] = (int)v, p = end;
        }
        if (*p == ',') p++;
    }
    return n;
}

typedef struct plot_args {
    const char *model, *data, *out, *title, *layers, *neurons, *metrics;
    int sample, layer, top, max_test, bins, batch, threads;
    uint64_t seed;
} plot_args;

static const char *mode_of(const soma_net *net) { return soma_integrate_mode_name(soma_net_config_of(net)->integrate.mode); }

static int argmax(const float *z, int64_t C) {
    int b = 0;
    for (int64_t c = 1; c < C; c++)
        if (z[c] > z[b]) b = (int)c;
    return b;
}

static int plot_trace(const plot_args *a, bool raster, soma_error *err) {
    soma_net *net = NULL;
    soma_dataset d;
    int rc = cli_open_model(a->model, a->data, 0, &net, &d, err);
    if (rc) return rc;
    soma_trace tr = {0};
    if (a->sample >= d.n) {
        rc = soma_fail(err, SOMA_E_ARG, "--sample %d: the data set has %lld samples", a->sample, (long long)d.n);
        goto done;
    }
    const uint64_t seed = a->seed * 31u + 977u; /* soma eval's stream */
    if ((rc = soma_net_trace(net, d.x + (int64_t)a->sample * d.dim, a->sample, seed, &tr, err))) goto done;
    const int nl = soma_net_layer_count(net);
    char title[512];
    const int pred = argmax(tr.logits, tr.n_out);
    if (raster) {
        int idx[80], n = 0;
        if (a->layers) {
            n = parse_list(a->layers, idx, 80, true);
            if (n <= 0) {
                rc = soma_fail(err, SOMA_E_ARG, "--layers '%s': give a list like in,0,1", a->layers);
                goto done;
            }
        } else {
            idx[n++] = -1;
            for (int i = 0; i < nl && n < 80; i++) {
                soma_layer_info li;
                soma_net_layer_info(net, i, &li);
                if (li.kind != SOMA_LAYER_DROPOUT && li.spiking_out) idx[n++] = i;
            }
        }
        soma_raster_panel p[80];
        char names[80][200];
        for (int k = 0; k < n; k++) {
            if (idx[k] >= nl) {
                rc = soma_fail(err, SOMA_E_ARG, "--layers: the net has layers 0..%d", nl - 1);
                goto done;
            }
            if (idx[k] < 0) {
                snprintf(names[k], sizeof names[k], "input: %lld features, %s-coded", (long long)tr.in_dim,
                         soma_encoder_name(soma_net_config_of(net)->encoder));
                p[k] = (soma_raster_panel){names[k], tr.input, tr.in_dim, "input index"};
            } else {
                snprintf(names[k], sizeof names[k], "layer %d: %s", idx[k], soma_net_layer_desc(net, idx[k]));
                p[k] = (soma_raster_panel){names[k], tr.out[idx[k]], tr.dim[idx[k]], NULL};
            }
        }
        snprintf(title, sizeof title, "Spike raster: %s %s, test sample %d (label %d, predicted %d)", soma_net_spec(net),
                 mode_of(net), a->sample, d.y[a->sample], pred);
        rc = soma_plot_raster(a->out, a->title ? a->title : title, tr.T, p, n, err);
        goto done;
    }
    /* membrane */
    if (a->layer >= nl || !tr.mem[a->layer]) {
        rc = soma_fail(err, SOMA_E_ARG, "--layer %d has no membrane (the net has layers 0..%d; dropout has none)", a->layer, nl - 1);
        goto done;
    }
    const int T = tr.T;
    const int64_t N = tr.dim[a->layer];
    int ids[64], n = 0;
    if (a->neurons) {
        n = parse_list(a->neurons, ids, 64, false);
        if (n <= 0) {
            rc = soma_fail(err, SOMA_E_ARG, "--neurons '%s': give a list like 0,5,17", a->neurons);
            goto done;
        }
        for (int k = 0; k < n; k++)
            if (ids[k] >= N) {
                rc = soma_fail(err, SOMA_E_ARG, "--neurons: layer %d has neurons 0..%lld", a->layer, (long long)N - 1);
                goto done;
            }
    } else { /* neurons that spike on about a quarter of the steps (they show both charging and
              * firing), then silent ones that came closest to the threshold; ties by peak */
        bool *used = soma_calloc((size_t)N, 1);
        if (!used) {
            rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
            goto done;
        }
        for (; n < a->top && n < N; n++) {
            int best = -1;
            double bs = -INFINITY;
            for (int64_t k = 0; k < N; k++) {
                if (used[k]) continue;
                double cnt = 0, peak = -INFINITY;
                for (int t = 0; t < T; t++) cnt += tr.out[a->layer][t * N + k] != 0, peak = fmax(peak, tr.mem[a->layer][t * N + k]);
                double sc = cnt > 0 ? 1e9 - 1e6 * fabs(cnt - 0.25 * T) + peak : peak;
                if (sc > bs) bs = sc, best = (int)k;
            }
            used[best] = true, ids[n] = best;
        }
        soma_free(used);
    }
    soma_layer_info li;
    soma_net_layer_info(net, a->layer, &li);
    soma_membrane_line lines[64];
    char names[64][32];
    float *v = soma_malloc(sizeof(float) * (size_t)(2 * n * T));
    if (!v) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < n; k++) {
        float *vk = v + 2 * k * T, *sk = vk + T;
        for (int t = 0; t < T; t++) vk[t] = tr.mem[a->layer][t * N + ids[k]], sk[t] = li.spiking_out ? tr.out[a->layer][t * N + ids[k]] : 0;
        snprintf(names[k], sizeof names[k], "neuron %d", ids[k]);
        lines[k] = (soma_membrane_line){names[k], vk, li.spiking_out ? sk : NULL};
    }
    snprintf(title, sizeof title, "Membrane potential: layer %d of %s %s, test sample %d (label %d)", a->layer,
             soma_net_spec(net), mode_of(net), a->sample, d.y[a->sample]);
    rc = soma_plot_membrane(a->out, a->title ? a->title : title, T, lines, n, li.spiking_out ? li.neuron.theta : NAN, err);
    soma_free(v);
done:
    soma_trace_free(&tr);
    soma_net_free(net);
    soma_dataset_free(&d);
    return rc;
}

static int plot_rates(const plot_args *a, soma_error *err) {
    soma_net *net = NULL;
    soma_dataset d;
    int rc = cli_open_model(a->model, a->data, a->max_test, &net, &d, err);
    if (rc) return rc;
    soma_activity act;
    if ((rc = soma_net_activity(net, &d, a->batch, a->seed * 31u + 977u, &act, err))) goto done;
    soma_hist_series s[64];
    char names[64][200];
    int n = 0;
    for (int i = 0; i < act.n_layers && n < 64; i++) {
        if (!act.neuron[i]) continue;
        double *r = act.neuron[i]; /* counts -> rates in place */
        for (int64_t k = 0; k < act.dim[i]; k++) r[k] /= (double)act.n * act.T;
        snprintf(names[n], sizeof names[n], "layer %d: %s", i, soma_net_layer_desc(net, i));
        s[n] = (soma_hist_series){names[n], r, act.dim[i]};
        n++;
    }
    if (n == 0) {
        rc = soma_fail(err, SOMA_E_ARG, "the net has no spiking layers");
    } else {
        char title[512];
        snprintf(title, sizeof title, "Firing rates per neuron: %s %s over %lld test samples (T = %d)", soma_net_spec(net),
                 mode_of(net), (long long)act.n, act.T);
        rc = soma_plot_rates(a->out, a->title ? a->title : title, s, n, a->bins, err);
    }
    soma_activity_free(&act);
done:
    soma_net_free(net);
    soma_dataset_free(&d);
    return rc;
}

static int plot_curves(const plot_args *a, soma_error *err) {
    soma_metrics m;
    int rc = soma_metrics_load(&m, a->metrics, err);
    if (rc) return rc;
    char title[512];
    snprintf(title, sizeof title, "Training curves (%s)", a->metrics);
    rc = soma_plot_curves(a->out, a->title ? a->title : title, &m, err);
    soma_metrics_free(&m);
    return rc;
}

int cmd_plot(int argc, char **argv) {
    static const char *usage =
        "raster|membrane|rates|curves [MODEL] --out FILE.svg [options]\n\n"
        "  raster    spike raster of chosen layers for one test sample (neurons x time)\n"
        "  membrane  membrane potential of chosen neurons with the threshold and spike marks\n"
        "  rates     histogram of per-neuron firing rates per layer over a data set\n"
        "  curves    loss, accuracy and firing rates from a metrics log (soma train --metrics)";
    const char *kind = argc > 2 ? argv[2] : "";
    plot_args a = {0};
    a.data = "mnist", a.top = 4, a.max_test = 1000, a.bins = 20, a.batch = 256, a.seed = 1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &a.model, "checkpoint (or give it after the plot kind)", 1, 0},
        {"--out", "-o", OPT_STR, &a.out, "the SVG file to write", 1, 0},
        {"--data", NULL, OPT_STR, &a.data, "mnist | fashion (test split) | idx:IMG,LBL | csv:PATH | libsvm:PATH", 1, 0},
        {"--sample", NULL, OPT_INT, &a.sample, "raster, membrane: index of the test sample", 0, 1e9},
        {"--layers", NULL, OPT_STR, &a.layers, "raster: layers to show, e.g. in,0,1 (default: input and spiking layers)", 1, 0},
        {"--layer", NULL, OPT_INT, &a.layer, "membrane: the layer", 0, 1000},
        {"--neurons", NULL, OPT_STR, &a.neurons, "membrane: neurons, e.g. 0,5,17 (default: the --top most active)", 1, 0},
        {"--top", NULL, OPT_INT, &a.top, "membrane: how many of the most active neurons", 1, 12},
        {"--max-test", NULL, OPT_INT, &a.max_test, "rates: samples to average over (0 = all)", 0, 1e9},
        {"--bins", NULL, OPT_INT, &a.bins, "rates: histogram bins", 1, 1000},
        {"--batch", NULL, OPT_INT, &a.batch, "rates: batch size", 1, 65536},
        {"--metrics", NULL, OPT_STR, &a.metrics, "curves: the metrics log (JSON lines or CSV)", 1, 0},
        {"--seed", NULL, OPT_U64, &a.seed, "encoding seed (as soma eval)", 0, 1e15},
        {"--title", NULL, OPT_STR, &a.title, "the plot's title", 1, 0},
        {"--threads", NULL, OPT_INT, &a.threads, "threads", 0, 1024},
        {0},
    };
    bool known = !strcmp(kind, "raster") || !strcmp(kind, "membrane") || !strcmp(kind, "rates") || !strcmp(kind, "curves");
    if (!known) {
        if (!strcmp(kind, "--help") || !strcmp(kind, "-h")) {
            cli_parse("plot", usage, t, argc, argv, 2);
            return 0;
        }
        fprintf(stderr, "soma plot: say what to plot: raster, membrane, rates or curves (soma plot --help)\n");
        return 2;
    }
    int first = cli_model_arg(argc, argv, 3, &a.model);
    int pr = cli_parse("plot", usage, t, argc, argv, first);
    if (pr) return pr > 0 ? 0 : 2;
    if (!a.out) {
        fprintf(stderr, "soma plot %s: --out FILE.svg is required\n", kind);
        return 2;
    }
    bool curves = !strcmp(kind, "curves");
    if (curves ? !a.metrics : !a.model) {
        fprintf(stderr, "soma plot %s: %s is required\n", kind, curves ? "--metrics FILE" : "a model (soma plot KIND model.soma)");
        return 2;
    }
    soma_set_threads(a.threads);
    soma_error err = {0};
    int rc = curves ? plot_curves(&a, &err)
             : !strcmp(kind, "rates") ? plot_rates(&a, &err)
                                      : plot_trace(&a, !strcmp(kind, "raster"), &err);
    if (rc) {
        fprintf(stderr, "soma plot %s: %s\n", kind, err.msg[0] ? err.msg : soma_status_str(rc));
        return 1;
    }
    fprintf(stderr, "soma plot %s: wrote %s\n", kind, a.out);
    return 0;
}
