/* cli/cmd_stats.c — `soma stats`: per-layer firing rates, synaptic operations and an energy
 * estimate beside the equivalent ANN, measured on a data set (soma/inspect.h has the rules). */
#include "cli.h"
#include "soma/inspect.h"

#include <math.h>
#include <string.h>

int cli_model_arg(int argc, char **argv, int at, const char **model) {
    if (argc > at && argv[at][0] != '-') {
        *model = argv[at];
        return at + 1;
    }
    return at;
}

int cli_open_model(const char *model, const char *data, int max_test, soma_net **net, soma_dataset *d,
                   soma_error *err) {
    *net = NULL;
    memset(d, 0, sizeof *d);
    int rc = soma_net_load(net, NULL, model, err);
    if (!rc) rc = cli_load_dataset(d, data, !cli_dataset_has_splits(data), cli_cache_dir(), err);
    if (!rc && max_test > 0 && max_test < d->n) {
        soma_dataset s;
        if (!(rc = soma_dataset_slice(&s, d, 0, max_test, err))) soma_dataset_free(d), *d = s;
    }
    if (!rc && d->dim != soma_net_input_dim(*net))
        rc = soma_fail(err, SOMA_E_SHAPE, "%s has %d features per sample but the net's input is %lld", data, d->dim,
                       (long long)soma_net_input_dim(*net));
    if (rc) {
        soma_net_free(*net);
        *net = NULL;
        soma_dataset_free(d);
    }
    return rc;
}

/* 1234567 -> "1.23M", 12345 -> "12.3k" */
static const char *si(char *b, double v) {
    if (v < 0) snprintf(b, 16, "-");
    else if (v >= 1e9) snprintf(b, 16, "%.3gG", v / 1e9);
    else if (v >= 1e6) snprintf(b, 16, "%.3gM", v / 1e6);
    else if (v >= 1e3) snprintf(b, 16, "%.3gk", v / 1e3);
    else snprintf(b, 16, "%.3g", v);
    return b;
}

static void print_table(const soma_net_stats *st, FILE *f) {
    char b[6][16];
    fprintf(f, "%-3s %-40s %8s %7s %10s %9s %9s %9s %9s %9s\n", "#", "layer", "rate", "silent", "in events",
            "SOPs", "neur.MAC", "ANN MAC", "SNN nJ", "ANN nJ");
    for (int i = 0; i <= st->n_layers; i++) {
        const soma_layer_stats *s = i < st->n_layers ? &st->layer[i] : &st->total;
        char idx[8], rate[16], silent[16];
        snprintf(idx, sizeof idx, i < st->n_layers ? "%d" : "", i);
        if (s->firing_rate >= 0) snprintf(rate, sizeof rate, "%.4f", s->firing_rate);
        else snprintf(rate, sizeof rate, "-");
        if (s->silent >= 0) snprintf(silent, sizeof silent, "%.0f %%", 100 * s->silent);
        else snprintf(silent, sizeof silent, "-");
        fprintf(f, "%-3s %-40.40s %8s %7s %10s %9s %9s %9s %9.2f %9.2f\n", idx, s->desc, rate, silent, si(b[0], s->in_events),
                si(b[1], s->sops + s->syn_macs), si(b[2], s->neuron_macs), si(b[3], s->ann_macs), s->energy_pj / 1e3,
                s->ann_energy_pj / 1e3);
    }
}

int cmd_stats(int argc, char **argv) {
    const char *model = NULL, *data = "mnist";
    int batch = 256, threads = 0, json = 0, max_test = 0;
    double e_ac = 0.9, e_mac = 4.6;
    uint64_t seed = 1;
    cli_opt t[] = {
        {"--model", NULL, OPT_STR, &model, "checkpoint (or give it as the first argument)", 1, 0},
        {"--data", NULL, OPT_STR, &data, "mnist | fashion (test split) | idx:IMG,LBL | csv:PATH | libsvm:PATH", 1, 0},
        {"--max-test", NULL, OPT_INT, &max_test, "use the first N samples (0 = all)", 0, 1e9},
        {"--batch", NULL, OPT_INT, &batch, "batch size", 1, 65536},
        {"--seed", NULL, OPT_U64, &seed, "encoding seed (as soma eval)", 0, 1e15},
        {"--e-ac", NULL, OPT_FLOAT, &e_ac, "energy of one accumulate in pJ (45 nm float add: 0.9)", 0, 1e6},
        {"--e-mac", NULL, OPT_FLOAT, &e_mac, "energy of one multiply-accumulate in pJ (45 nm float: 4.6)", 0, 1e6},
        {"--threads", NULL, OPT_INT, &threads, "threads", 0, 1024},
        {"--json", NULL, OPT_FLAG, &json, "print the numbers as one JSON object", 1, 0},
        {0},
    };
    int first = cli_model_arg(argc, argv, 2, &model);
    int pr = cli_parse("stats", "MODEL [--data D] [options]", t, argc, argv, first);
    if (pr) return pr > 0 ? 0 : 2;
    if (!model) {
        fprintf(stderr, "soma stats: give a model: soma stats model.soma --data mnist\n");
        return 2;
    }
    soma_set_threads(threads);
    soma_error err = {0};
    soma_net *net = NULL;
    soma_dataset d;
    soma_activity act = {0};
    soma_net_stats st = {0};
    soma_energy_params e = {e_ac, e_mac};
    int rc = cli_open_model(model, data, max_test, &net, &d, &err);
    if (!rc) rc = soma_net_activity(net, &d, batch, seed * 31u + 977u, &act, &err);
    if (!rc) rc = soma_net_stats_compute(&st, net, &act, &e, &err);
    if (rc) {
        fprintf(stderr, "soma stats: %s\n", err.msg[0] ? err.msg : soma_status_str(rc));
        soma_activity_free(&act);
        soma_net_free(net);
        soma_dataset_free(&d);
        return 1;
    }
    const soma_net_config *cfg = soma_net_config_of(net);
    const soma_layer_stats *tot = &st.total;
    if (json) {
        enum { NF = 12 };
        double *v[NF];
        for (int k = 0; k < NF; k++) v[k] = soma_calloc((size_t)st.n_layers, sizeof(double));
        for (int i = 0; i < st.n_layers; i++) {
            const soma_layer_stats *s = &st.layer[i];
            double row[NF] = {s->firing_rate, s->silent, s->in_events, s->sops, s->syn_macs, s->neuron_acs,
                              s->neuron_macs, s->ann_macs, s->ann_acs, s->energy_pj, s->syn_energy_pj, s->ann_energy_pj};
            for (int k = 0; k < NF; k++)
                if (v[k]) v[k][i] = row[k];
        }
        static const char *const names[NF] = {"firing_rate", "silent", "in_events", "sops", "syn_macs", "neuron_acs",
                                               "neuron_macs", "ann_macs", "ann_acs", "energy_pj", "syn_energy_pj", "ann_energy_pj"};
        json_out j;
        json_begin(&j, stdout);
        json_str(&j, "model", model);
        json_str(&j, "net", soma_net_spec(net));
        json_str(&j, "neuron", soma_integrate_mode_name(cfg->integrate.mode));
        json_int(&j, "T", cfg->T);
        json_int(&j, "samples", (long long)st.n);
        json_num(&j, "accuracy", st.accuracy);
        json_num(&j, "e_ac_pj", e_ac);
        json_num(&j, "e_mac_pj", e_mac);
        for (int k = 0; k < NF; k++)
            if (v[k]) json_arr(&j, names[k], v[k], st.n_layers);
        json_num(&j, "total_firing_rate", tot->firing_rate);
        json_num(&j, "total_sops", tot->sops);
        json_num(&j, "total_syn_macs", tot->syn_macs);
        json_num(&j, "total_neuron_macs", tot->neuron_macs);
        json_num(&j, "total_neuron_acs", tot->neuron_acs);
        json_num(&j, "total_ann_macs", tot->ann_macs);
        json_num(&j, "total_energy_pj", tot->energy_pj);
        json_num(&j, "total_syn_energy_pj", tot->syn_energy_pj);
        json_num(&j, "total_ann_energy_pj", tot->ann_energy_pj);
        json_end(&j);
        for (int k = 0; k < NF; k++) soma_free(v[k]);
    } else {
        printf("%s: net %s (%s), T = %d; %s: %lld samples, accuracy %.2f %%\n", model, soma_net_spec(net),
               soma_integrate_mode_name(cfg->integrate.mode), cfg->T, data, (long long)st.n, 100 * st.accuracy);
        printf("per sample; rate = spikes per neuron per step; SOPs = input spikes x fan-out (all stacked weight sets);\n"
               "energy at %.3g pJ per accumulate and %.3g pJ per multiply-accumulate\n\n", e_ac, e_mac);
        print_table(&st, stdout);
        for (int i = 0; i < st.n_layers; i++)
            if (st.layer[i].kind == SOMA_LAYER_OTHER) {
                printf("(layer %d and other non-dense layers: firing rates only; their operations are not counted yet)\n", i);
                break;
            }
        printf("\nper sample: SNN %.3f µJ (synaptic operations alone %.3f µJ) vs equivalent ANN %.3f µJ (%.3gM MACs): ratio %.2f\n",
               tot->energy_pj / 1e6, tot->syn_energy_pj / 1e6, tot->ann_energy_pj / 1e6, tot->ann_macs / 1e6,
               tot->ann_energy_pj > 0 ? tot->energy_pj / tot->ann_energy_pj : NAN);
    }
    soma_net_stats_free(&st);
    soma_activity_free(&act);
    soma_net_free(net);
    soma_dataset_free(&d);
    return 0;
}
