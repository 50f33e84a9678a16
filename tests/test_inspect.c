/*
 * tests/test_inspect.c — looking inside nets: layer descriptions follow the notation's
 * suffixes, a trace is what evaluation computes (logits, encoder spikes, s = [h ≥ θ]),
 * activity counts agree with the batch statistics, and the operation counts and energy obey
 * the documented rules (SOPs = input spikes × stacked fan-out, ANN MACs = M·S + …).
 */
#include "soma.h"
#include "soma/inspect.h"
#include "test.h"

#include <stdlib.h>

static void synth(soma_dataset *d, int64_t n, int M, int C) {
    memset(d, 0, sizeof *d);
    d->n = n, d->dim = M, d->c = 1, d->h = 1, d->w = M, d->n_classes = C;
    d->x = soma_malloc(sizeof(float) * (size_t)(n * M));
    d->y = soma_malloc(sizeof(int32_t) * (size_t)n);
    soma_rng r;
    soma_rng_seed(&r, 5);
    for (int64_t i = 0; i < n * M; i++) d->x[i] = soma_rng_uniform(&r) < 0.5f ? soma_rng_uniform(&r) : 0.0f;
    for (int64_t i = 0; i < n; i++) d->y[i] = (int32_t)soma_rng_below(&r, (uint32_t)C);
}

static soma_net *make(const char *spec, soma_integrate_mode mode, soma_encoder enc) {
    soma_net_config c = soma_net_default_config();
    c.T = 6, c.chunk = 4, c.neuron.theta = 0.3f;
    c.integrate.mode = mode;
    c.integrate.shunt_scale = 0.5f;
    c.encoder = enc;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, spec, &c, 9, NULL) == SOMA_OK);
    return net;
}

TEST(layer_info_follows_the_notation) {
    soma_net *net = make("20-12b-D0.1-8s-6R-4l", SOMA_INTEGRATE_LINEAR, SOMA_ENCODE_RATE);
    soma_layer_info li;
    const soma_layer_kind kinds[] = {SOMA_LAYER_DENSE, SOMA_LAYER_DROPOUT, SOMA_LAYER_DENSE, SOMA_LAYER_RECURRENT, SOMA_LAYER_DENSE};
    const int nblk[] = {3, 0, 4, 1, 1};
    const soma_integrate_mode modes[] = {SOMA_INTEGRATE_BILINEAR, SOMA_INTEGRATE_LINEAR, SOMA_INTEGRATE_SHUNTING,
                                         SOMA_INTEGRATE_LINEAR, SOMA_INTEGRATE_LINEAR};
    CHECK(soma_net_layer_count(net) == 5);
    for (int i = 0; i < 5; i++) {
        CHECK(soma_net_layer_info(net, i, &li) == SOMA_OK);
        CHECK(li.kind == kinds[i]);
        CHECK(li.nblk == nblk[i]);
        if (li.kind != SOMA_LAYER_DROPOUT) CHECK(li.integrate.mode == modes[i]);
        CHECK(li.binary_in); /* rate-coded input, spiking layers, dropout passes spikes on */
    }
    CHECK(soma_net_layer_info(net, 0, &li) == SOMA_OK && li.nblk_x == 2 && li.in_dim == 20 && li.out_dim == 12);
    CHECK(soma_net_layer_info(net, 1, &li) == SOMA_OK && li.dropout_p > 0.09f && li.dropout_p < 0.11f);
    CHECK(soma_net_layer_info(net, 5, &li) == SOMA_E_ARG);
    int64_t n = 0;
    const float *E = soma_net_layer_weights(net, 0, &n);
    CHECK(E && n == 20 * 36);
    int64_t nw = 0;
    const float *W = soma_net_layer_tensor(net, 0, "W", &nw), *V = soma_net_layer_tensor(net, 0, "V", NULL);
    CHECK(W && V && nw == 240);
    /* E = [W | V | V²] input-major: row k holds W[k, :], V[k, :], V[k, :]² */
    for (int k = 0; k < 20 && E && W && V; k++)
        for (int j = 0; j < 12; j++) {
            CHECK(E[k * 36 + j] == W[k * 12 + j]);
            CHECK(E[k * 36 + 12 + j] == V[k * 12 + j]);
            CHECK(E[k * 36 + 24 + j] == V[k * 12 + j] * V[k * 12 + j]);
        }
    CHECK(soma_net_layer_weights(net, 1, &n) == NULL && n == 0);
    CHECK(soma_net_layer_tensor(net, 3, "W_rec", &n) != NULL && n == 36);
    CHECK(soma_net_layer_tensor(net, 0, "nope", NULL) == NULL);
    soma_net_free(net);
    net = make("20-12-4", SOMA_INTEGRATE_LINEAR, SOMA_ENCODE_DIRECT);
    CHECK(soma_net_layer_info(net, 0, &li) == SOMA_OK && !li.binary_in && li.spiking_out);
    CHECK(soma_net_layer_info(net, 1, &li) == SOMA_OK && li.binary_in);
    soma_net_free(net);
}

TEST(trace_is_what_eval_computes) {
    soma_dataset d;
    synth(&d, 8, 20, 4);
    for (int m = 0; m < 3; m++) {
        soma_net *net = make("20-12-8-4", (soma_integrate_mode)m, SOMA_ENCODE_RATE);
        float logits[8 * 4];
        int64_t uid[8];
        for (int i = 0; i < 8; i++) uid[i] = i;
        CHECK(soma_net_eval_batch(net, d.x, NULL, uid, 8, 77, logits, NULL) == SOMA_OK);
        for (int s = 0; s < 8; s++) {
            soma_trace tr;
            soma_error err = {0};
            CHECK(soma_net_trace(net, d.x + s * 20, s, 77, &tr, &err) == SOMA_OK);
            CHECK(tr.T == 6 && tr.n_layers == 3 && tr.in_dim == 20 && tr.n_out == 4);
            for (int c = 0; c < 4; c++) CHECK(tr.logits[c] == logits[s * 4 + c]);
            double in = 0;
            for (int k = 0; k < 6 * 20; k++) {
                CHECK(tr.input[k] == 0.0f || tr.input[k] == 1.0f);
                in += tr.input[k];
                CHECK(tr.input[k] == 0.0f || d.x[s * 20 + k % 20] > 0.0f); /* zero pixels never spike */
            }
            for (int l = 0; l < 3; l++)
                for (int64_t k = 0; k < 6 * tr.dim[l]; k++) CHECK((tr.out[l][k] != 0.0f) == (tr.mem[l][k] >= 0.3f));
            /* the logit is the output's rate (CE, logit scale 1) plus the tie-break: the mean
             * membrane, clamped to ±10, worth a hundredth of one spike */
            for (int c = 0; c < 4; c++) {
                float r = 0, mm = 0;
                for (int t = 0; t < 6; t++) r += tr.out[2][t * 4 + c], mm += tr.mem[2][t * 4 + c];
                mm /= 6;
                mm = mm > 10 ? 10 : mm < -10 ? -10 : mm;
                CHECK_NEAR(r / 6 + mm / 600, tr.logits[c], 1e-6);
            }
            soma_trace_free(&tr);
            CHECK(tr.out == NULL && tr.n_layers == 0);
        }
        soma_net_free(net);
    }
    soma_dataset_free(&d);
}

TEST(activity_and_stats) {
    soma_dataset d;
    synth(&d, 37, 20, 4);
    soma_net *net = make("20-12b-D0.2-8s-4", SOMA_INTEGRATE_LINEAR, SOMA_ENCODE_RATE);
    soma_activity act;
    soma_error err = {0};
    CHECK(soma_net_activity(net, &d, 10, 5, &act, &err) == SOMA_OK);
    CHECK(act.n == 37 && act.n_layers == 4 && act.T == 6);
    /* the per-neuron counts add up to the batch statistics, batch by batch */
    soma_batch_stats st;
    double spikes[4] = {0}, events = 0;
    int64_t uid[10];
    for (int64_t f = 0; f < 37; f += 10) {
        int nb = 37 - f < 10 ? (int)(37 - f) : 10;
        for (int b = 0; b < nb; b++) uid[b] = f + b;
        CHECK(soma_net_eval_batch(net, d.x + f * 20, d.y + f, uid, nb, 5, NULL, &st) == SOMA_OK);
        for (int l = 0; l < 4; l++) spikes[l] += st.spikes[l];
    }
    for (int s = 0; s < 37; s++) {
        soma_trace tr;
        CHECK(soma_net_trace(net, d.x + s * 20, s, 5, &tr, NULL) == SOMA_OK);
        for (int k = 0; k < 6 * 20; k++) events += tr.input[k];
        soma_trace_free(&tr);
    }
    CHECK(act.input_events == events);
    for (int l = 0; l < 4; l++) {
        if (l == 1) {
            CHECK(act.neuron[1] == NULL); /* dropout's output is not spikes of its own */
            continue;
        }
        CHECK(act.spikes[l] == spikes[l]);
        double sum = 0;
        for (int64_t k = 0; k < act.dim[l]; k++) sum += act.neuron[l][k];
        CHECK(sum == act.spikes[l]);
    }
    soma_net_stats ns;
    soma_energy_params e = {1.0, 10.0};
    CHECK(soma_net_stats_compute(&ns, net, &act, &e, &err) == SOMA_OK);
    const double T = 6, n = 37;
    /* layer 0: bilinear 20 -> 12, S = 36; layer 2 (shunting 12 -> 8, S = 32) sees layer 0's spikes */
    CHECK_NEAR(ns.layer[0].in_events, events / n, 1e-9);
    CHECK_NEAR(ns.layer[0].sops, events / n * 36, 1e-6);
    CHECK_NEAR(ns.layer[2].sops, act.spikes[0] / n * 32, 1e-6);
    CHECK_NEAR(ns.layer[3].sops, act.spikes[2] / n * 4, 1e-6);
    CHECK(ns.layer[1].sops == 0 && ns.layer[1].firing_rate < 0);
    CHECK_NEAR(ns.layer[0].firing_rate, act.spikes[0] / (n * T * 12), 1e-12);
    CHECK_NEAR(ns.layer[0].ann_macs, 20 * 36 + 12 * 2, 1e-9);          /* M·S + N·(R + 1) */
    CHECK_NEAR(ns.layer[0].neuron_macs, T * 12 * (2 + 1), 1e-9);       /* (R + 1) + LIF's α·u */
    CHECK_NEAR(ns.layer[0].neuron_acs, T * 12 * 2, 1e-9);
    CHECK_NEAR(ns.layer[2].neuron_macs, T * 8 * (2 * 5 + 1), 1e-9);    /* two gates: MAC + σ (4) */
    CHECK_NEAR(ns.layer[0].energy_pj, ns.layer[0].sops * 1.0 + ns.layer[0].neuron_acs * 1.0 + ns.layer[0].neuron_macs * 10.0, 1e-6);
    CHECK_NEAR(ns.layer[0].syn_energy_pj, ns.layer[0].sops, 1e-9);
    double tot = 0;
    for (int l = 0; l < 4; l++) tot += ns.layer[l].energy_pj;
    CHECK_NEAR(ns.total.energy_pj, tot, 1e-6);
    CHECK_NEAR(ns.accuracy, (double)act.correct / n, 1e-12);
    soma_net_stats_free(&ns);
    soma_activity_free(&act);
    soma_net_free(net);
    /* direct encoding: the first layer multiplies (MACs), no SOPs */
    net = make("20-12-4", SOMA_INTEGRATE_LINEAR, SOMA_ENCODE_DIRECT);
    CHECK(soma_net_activity(net, &d, 16, 5, &act, &err) == SOMA_OK);
    CHECK(soma_net_stats_compute(&ns, net, &act, NULL, &err) == SOMA_OK);
    double nz = 0;
    for (int64_t k = 0; k < 37 * 20; k++) nz += d.x[k] != 0.0f;
    CHECK(ns.layer[0].sops == 0);
    CHECK_NEAR(ns.layer[0].syn_macs, nz / 37 * 6 * 12, 1e-6);
    CHECK(ns.e.e_ac_pj == 0.9 && ns.e.e_mac_pj == 4.6);
    soma_net_stats_free(&ns);
    soma_activity_free(&act);
    soma_net_free(net);
    soma_dataset_free(&d);
}

TEST(shape_errors) {
    soma_dataset d;
    synth(&d, 4, 10, 2);
    soma_net *net = make("20-4", SOMA_INTEGRATE_LINEAR, SOMA_ENCODE_RATE);
    soma_activity act;
    soma_error err = {0};
    CHECK(soma_net_activity(net, &d, 4, 1, &act, &err) == SOMA_E_SHAPE);
    CHECK_MSG(err, "10 features");
    soma_net_free(net);
    soma_dataset_free(&d);
}

int main(void) {
    soma_set_threads(1);
    RUN(layer_info_follows_the_notation);
    RUN(trace_is_what_eval_computes);
    RUN(activity_and_stats);
    RUN(shape_errors);
    return test_report("test_inspect");
}
