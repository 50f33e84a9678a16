/*
 * net/stats.c — the numbers people quote about a spiking net: per-layer firing rates,
 * synaptic operations (spikes × fan-out), neuron operations, and an energy estimate beside
 * the equivalent ANN. Pure arithmetic over the layer structure (inspect.c) and activity
 * measured on a data set; the counting rules are documented in soma/inspect.h.
 */
#include "soma/inspect.h"

#include <stdio.h>
#include <string.h>

soma_energy_params soma_energy_default_params(void) {
    soma_energy_params e = {0.9, 4.6};
    return e;
}

#define SIGMOID_MACS 4.0 /* one logistic (exp, add, divide) counted as 4 MAC-equivalents */

/* Integration ops per neuron per evaluation of the combine step: (ACs, MACs). */
static void integration_ops(const soma_layer_info *li, double *acs, double *macs) {
    const soma_integrate_params *p = &li->integrate;
    *acs = 1, *macs = 0; /* the bias */
    if (p->mode == SOMA_INTEGRATE_BILINEAR) {
        if (p->ablation == SOMA_ABLATION_AB1) *acs = 1, *macs = 2;          /* a·y0 + (1−a)·y1 + b */
        else *acs = p->ablation == SOMA_ABLATION_AB2 ? 1 : 2, *macs = p->rank + 1; /* Σ(p² − q), λ·, +y0, +b */
    } else if (p->mode == SOMA_INTEGRATE_SHUNTING) {
        int gates = p->ablation == SOMA_ABLATION_NONE ? 2 : 1;
        *macs = gates * (1 + SIGMOID_MACS);
        *acs = 1 + (p->ablation == SOMA_ABLATION_AB2);                       /* + W₋x ungated */
    }
}

/* Dynamics ops per neuron per step: (ACs, MACs). */
static void dynamics_ops(const soma_layer_info *li, double *acs, double *macs) {
    switch (li->neuron.kind) {
    case SOMA_NEURON_IF: *acs = 1, *macs = 0; break;
    case SOMA_NEURON_LIF_TAU:
    case SOMA_NEURON_PLIF: *acs = 1, *macs = 2; break;
    default: *acs = 0, *macs = 1; break;
    }
    if (li->neuron.spiking && li->neuron.reset == SOMA_RESET_SOFT) *acs += 1;
}

void soma_net_stats_free(soma_net_stats *st) {
    if (!st) return;
    soma_free(st->layer);
    memset(st, 0, sizeof *st);
}

int soma_net_stats_compute(soma_net_stats *st, const soma_net *net, const soma_activity *act,
                           const soma_energy_params *e, soma_error *err) {
    memset(st, 0, sizeof *st);
    const int nl = soma_net_layer_count(net);
    if (act->n_layers != nl || act->n < 1)
        return soma_fail(err, SOMA_E_ARG, "activity does not belong to this net");
    st->layer = soma_calloc((size_t)nl, sizeof *st->layer);
    if (!st->layer) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    st->e = e ? *e : soma_energy_default_params();
    st->T = act->T, st->n_layers = nl, st->n = act->n;
    st->accuracy = (double)act->correct / (double)act->n;
    const double n = (double)act->n, T = act->T;
    /* Input events per sample reaching the current layer, and whether they are spikes. */
    double events = act->input_events / n;
    bool analog = soma_net_config_of(net)->encoder == SOMA_ENCODE_DIRECT;
    double analog_values = act->input_values / n; /* nonzero inputs of a step (direct) */
    double spikes_total = 0, neuron_steps = 0;
    soma_layer_stats *tot = &st->total;
    snprintf(tot->desc, sizeof tot->desc, "total");
    for (int i = 0; i < nl; i++) {
        soma_layer_info li;
        soma_net_layer_info(net, i, &li);
        soma_layer_stats *s = &st->layer[i];
        snprintf(s->desc, sizeof s->desc, "%s", soma_net_layer_desc(net, i));
        s->kind = li.kind, s->in_dim = li.in_dim, s->out_dim = li.out_dim, s->nblk = li.nblk;
        s->firing_rate = s->silent = -1;
        const double N = (double)li.out_dim, S = (double)li.nblk * N;
        s->in_events = analog ? analog_values * T : events;
        if (act->neuron && act->neuron[i]) {
            s->firing_rate = act->spikes[i] / (n * T * N);
            int64_t silent = 0;
            for (int64_t k = 0; k < li.out_dim; k++) silent += act->neuron[i][k] == 0;
            s->silent = (double)silent / N;
            spikes_total += act->spikes[i], neuron_steps += n * T * N;
        }
        if (li.kind == SOMA_LAYER_DENSE || li.kind == SOMA_LAYER_RECURRENT) {
            if (analog) s->syn_macs = analog_values * T * S;
            else s->sops = events * S;
            if (li.kind == SOMA_LAYER_RECURRENT) s->sops += act->spikes[i] / n * N;
            double ia, im, da, dm;
            integration_ops(&li, &ia, &im);
            dynamics_ops(&li, &da, &dm);
            s->neuron_acs = T * N * (ia + da);
            s->neuron_macs = T * N * (im + dm);
            s->ann_macs = (double)li.in_dim * S + N * im;
            s->ann_acs = N * ia;
            if (li.kind == SOMA_LAYER_RECURRENT) s->ann_macs += N * N;
        }
        s->syn_energy_pj = s->sops * st->e.e_ac_pj + s->syn_macs * st->e.e_mac_pj;
        s->energy_pj = s->syn_energy_pj + s->neuron_acs * st->e.e_ac_pj + s->neuron_macs * st->e.e_mac_pj;
        s->ann_energy_pj = s->ann_macs * st->e.e_mac_pj + s->ann_acs * st->e.e_ac_pj;
        tot->sops += s->sops, tot->syn_macs += s->syn_macs;
        tot->neuron_acs += s->neuron_acs, tot->neuron_macs += s->neuron_macs;
        tot->ann_macs += s->ann_macs, tot->ann_acs += s->ann_acs;
        tot->energy_pj += s->energy_pj, tot->syn_energy_pj += s->syn_energy_pj;
        tot->ann_energy_pj += s->ann_energy_pj;
        /* What the next layer sees: this layer's spikes (dropout passes its input on). */
        if (li.kind != SOMA_LAYER_DROPOUT) {
            analog = !li.spiking_out;
            events = act->spikes[i] / n;
            if (analog) analog_values = N; /* a non-spiking output feeding another layer */
        }
    }
    tot->in_events = st->layer[0].in_events;
    tot->firing_rate = neuron_steps > 0 ? spikes_total / neuron_steps : -1;
    tot->silent = -1;
    tot->in_dim = st->layer[0].in_dim, tot->out_dim = st->layer[nl - 1].out_dim;
    return SOMA_OK;
}
