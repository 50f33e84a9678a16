/*
 * tests/test_gradcheck.c — finite-difference gradient checks of every neuron form, reset mode,
 * surrogate, integration mode and ablation, readout and loss, the recurrent layer through
 * time, and the input gradient, all through the real net (chunks, workspaces, finish).
 *
 * The spike function Θ has no useful derivative, so the nets here fire with the surrogate's
 * primitive S (smooth_forward): analytic BPTT must then equal central differences.
 * Checked per parameter tensor: ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖) < tol.
 */
#include "netcheck.h"

#include <stdlib.h>

/* Every check here runs on 3 samples (2 chunks of 2: the workspace sum is exercised). */
static double gradcheck(const char *spec, soma_net_config cfg, const char *label) {
    return netcheck(spec, cfg, label, 3, false);
}

static soma_net_config smooth_cfg(void) {
    soma_net_config c = soma_net_default_config();
    c.T = 4;
    c.chunk = 2; /* 3 samples -> 2 chunks: exercises the workspace sum */
    c.neuron.smooth_forward = true;
    c.neuron.theta = 0.5f;
    c.encoder = SOMA_ENCODE_DIRECT;
    return c;
}

#define GC(spec, cfg, label)                                                                \
    do {                                                                                    \
        double w_ = gradcheck(spec, cfg, label);                                            \
        test_checks_++;                                                                     \
        if (!(w_ < 2e-2)) {                                                                 \
            test_failures_++;                                                               \
            fprintf(stderr, "%s:%d: gradcheck %s: worst rel err %.3g\n", __FILE__, __LINE__, label, w_); \
        }                                                                                   \
    } while (0)

TEST(neuron_forms_and_resets) {
    const soma_neuron_kind kinds[] = {SOMA_NEURON_LIF, SOMA_NEURON_LIF_TAU, SOMA_NEURON_IF, SOMA_NEURON_PLIF};
    const soma_reset resets[] = {SOMA_RESET_HARD, SOMA_RESET_SOFT, SOMA_RESET_NONE};
    for (int k = 0; k < 4; k++)
        for (int r = 0; r < 3; r++)
            for (int d = 0; d < 1; d++) { /* detached: see detach_reset below */
                soma_net_config c = smooth_cfg();
                c.neuron.kind = kinds[k];
                c.neuron.reset = resets[r];
                c.neuron.detach_reset = d;
                c.neuron.v_reset = r == 0 ? -0.1f : 0.0f;
                c.neuron.tau = 3.0f;
                char label[96];
                snprintf(label, sizeof label, "%s/%s/%s", soma_neuron_kind_name(kinds[k]), soma_reset_name(resets[r]), d ? "detached" : "attached");
                GC("5-4-3", c, label);
            }
}

/* A detached reset is by design not the true gradient, so FD cannot check it. It must change
 * nothing where the reset path carries no gradient (reset none), and change the gradient
 * where it does (hard and soft reset). */
static void grads_of(const char *spec, soma_net_config c, float *out, int64_t *n) {
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, spec, &c, 42, NULL) == SOMA_OK);
    float x[15];
    int32_t y[3] = {0, 1, 2};
    int64_t uid[3] = {1, 2, 3};
    for (int i = 0; i < 15; i++) x[i] = (float)((i * 7) % 10) / 10.0f;
    CHECK(soma_net_train_batch(net, x, y, uid, 3, 7, NULL) == SOMA_OK);
    float *g = soma_net_grads(net, n);
    memcpy(out, g, sizeof(float) * (size_t)*n);
    soma_net_free(net);
}

TEST(detach_reset) {
    for (int r = 0; r < 3; r++) {
        soma_net_config c = smooth_cfg();
        c.neuron.reset = (soma_reset)r;
        float ga[256], gd[256];
        int64_t n = 0;
        grads_of("5-4-3", c, ga, &n);
        c.neuron.detach_reset = true;
        grads_of("5-4-3", c, gd, &n);
        double diff = 0;
        for (int64_t i = 0; i < n; i++) diff += fabs(ga[i] - gd[i]);
        if (r == SOMA_RESET_NONE) CHECK(diff == 0);
        else CHECK(diff > 1e-4);
    }
}

TEST(surrogates) {
    for (int s = 0; s < SOMA_SURROGATE_COUNT; s++) {
        soma_net_config c = smooth_cfg();
        c.neuron.surrogate = (soma_surrogate)s;
        c.neuron.slope = 0; /* each one's default */
        if (s == SOMA_SURROGATE_RECT || s == SOMA_SURROGATE_TRIANGLE) c.neuron.slope = 2.0f;
        GC("5-4-3", c, soma_surrogate_name((soma_surrogate)s));
    }
}

TEST(surrogate_values) {
    /* Closed forms at fixed points, and S′ = σ′ numerically. */
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_SIGMOID, 4, 0), 1.0, 1e-6);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_ATAN, 2, 0), 1.0, 1e-6);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_ATAN, 2, 0.5f), 1.0 / (1 + pow(3.14159265358979 / 2, 2)), 1e-6);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_FAST_SIGMOID, 25, 0.1f), 1.0 / 12.25, 1e-6);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_TRIANGLE, 1, 0.25f), 0.75, 1e-6);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_TRIANGLE, 1, 1.5f), 0.0, 0);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_RECT, 1, 0.4f), 1.0, 0);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_RECT, 1, 0.6f), 0.0, 0);
    CHECK_NEAR(soma_surrogate_grad(SOMA_SURROGATE_EXP, 1, -1.0f), 0.5 * exp(-1.0), 1e-6);
    for (int s = 0; s < SOMA_SURROGATE_COUNT; s++)
        for (float x = -1.3f; x < 1.3f; x += 0.17f) {
            float k = soma_surrogate_default_slope((soma_surrogate)s);
            double h = 1e-3;
            double fd = (soma_surrogate_primitive((soma_surrogate)s, k, x + (float)h) -
                         soma_surrogate_primitive((soma_surrogate)s, k, x - (float)h)) / (2 * h);
            double an = soma_surrogate_grad((soma_surrogate)s, k, x);
            /* rect/triangle have kinks; skip points next to them */
            if ((s == SOMA_SURROGATE_RECT && fabs(fabs(x) - 0.5 * k) < 2e-3) ||
                (s == SOMA_SURROGATE_TRIANGLE && fabs(fabs(x) - k) < 2e-3))
                continue;
            CHECK_NEAR(fd, an, 2e-3 * (1 + fabs(an)));
        }
}

TEST(integration_modes) {
    const soma_integrate_mode modes[] = {SOMA_INTEGRATE_LINEAR, SOMA_INTEGRATE_BILINEAR, SOMA_INTEGRATE_SHUNTING};
    for (int m = 0; m < 3; m++)
        for (int ab = 0; ab < (m == 0 ? 1 : 4); ab++)
            for (int rank = 1; rank <= (m == 1 ? 3 : 1); rank += 2)
                for (int enc = 0; enc < 2; enc++)
                    for (int sparse = 0; sparse < 2; sparse++) {
                        if (enc == 1 && sparse == 1) continue; /* sparse applies to spikes only */
                        soma_net_config c = smooth_cfg();
                        c.integrate.mode = modes[m];
                        c.integrate.ablation = (soma_ablation)ab;
                        c.integrate.rank = rank;
                        c.integrate.lambda_init = 0.3f;
                        c.integrate.shunt_scale = 0.5f;
                        c.integrate.shunt_k = 1.5f;
                        /* enc 0: rate-coded binary input; enc 1: real-valued input (direct) */
                        c.encoder = enc == 0 ? SOMA_ENCODE_RATE : SOMA_ENCODE_DIRECT;
                        c.sparse_max_density = sparse ? 1.0f : 0.0f;
                        char label[96];
                        snprintf(label, sizeof label, "%s/%s/R%d/%s%s", soma_integrate_mode_name(modes[m]),
                                 soma_ablation_name((soma_ablation)ab), rank, enc ? "real" : "binary",
                                 sparse ? "/event-driven" : "");
                        GC("6-5-3", c, label);
                    }
    soma_net_config c = smooth_cfg();
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    c.integrate.lambda_per_neuron = true;
    GC("6-5-3", c, "bilinear/lambda-per-neuron");
    /* mixed modes per layer */
    GC("6-5b-4s-3l", smooth_cfg(), "per-layer modes");
}

TEST(readouts_and_losses) {
    soma_net_config c = smooth_cfg();
    c.loss = SOMA_LOSS_MSE;
    GC("5-4-3", c, "rate/mse");
    c = smooth_cfg();
    c.logit_scale = 4.0f;
    GC("5-4-3", c, "rate/ce-scaled");
    c = smooth_cfg();
    c.readout = SOMA_READOUT_MEMBRANE;
    GC("5-4-3", c, "membrane/ce");
    c.neuron.kind = SOMA_NEURON_PLIF;
    GC("5-4-3", c, "membrane/plif");
}

TEST(recurrent_through_time) {
    soma_net_config c = smooth_cfg();
    c.T = 5;
    GC("4-5R-3", c, "recurrent/linear");
    c.neuron.reset = SOMA_RESET_SOFT;
    GC("4-5R-3", c, "recurrent/soft");
    c = smooth_cfg();
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    GC("4-5Rb-3", c, "recurrent/bilinear");
}

TEST(dropout_layer) {
    soma_net_config c = smooth_cfg();
    GC("5-D0.3-4-3", c, "dropout");
}

int main(void) {
    RUN(surrogate_values);
    RUN(neuron_forms_and_resets);
    RUN(surrogates);
    RUN(detach_reset);
    RUN(integration_modes);
    RUN(readouts_and_losses);
    RUN(recurrent_through_time);
    RUN(dropout_layer);
    return test_report("test_gradcheck");
}
