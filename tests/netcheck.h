/*
 * tests/netcheck.h — the finite-difference gradient check through a whole net (chunks,
 * workspaces, finish), shared by test_gradcheck.c and test_conv.c.
 *
 * The nets fire with the surrogate's primitive (smooth_forward), so analytic BPTT must equal
 * central differences. Checked per parameter tensor, and for the input when the encoder is
 * direct: ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖ + floor) < tolerance, where the floor
 * (2e-3 per element) absorbs the ~1e-4 noise of differencing a float loss.
 */
#ifndef SOMA_TESTS_NETCHECK_H
#define SOMA_TESTS_NETCHECK_H

#include "soma/net.h"
#include "test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The training objective itself (train mode: dropout masks apply). */
static double netcheck_loss(soma_net *net, const float *x, const int32_t *y, const int64_t *uid, int B) {
    soma_batch_stats st;
    CHECK(soma_net_train_batch(net, x, y, uid, B, 7, &st) == SOMA_OK);
    return st.loss_sum / B;
}

/* ‖a − fd‖ over elements lo, lo + step, … < hi of v, where a = ana (double) or anaf (float). */
static double netcheck_span(soma_net *net, float *v, int64_t lo, int64_t hi, int64_t step,
                            const double *ana, const float *anaf, const float *x, const int32_t *y,
                            const int64_t *uid, int B, double *na_out, double *nn_out) {
    const double h = 1e-3;
    double dd = 0, na = 0, nn = 0;
    for (int64_t i = lo; i < hi; i += step) {
        float keep = v[i];
        v[i] = keep + (float)h;
        double lp = netcheck_loss(net, x, y, uid, B);
        v[i] = keep - (float)h;
        double lm = netcheck_loss(net, x, y, uid, B);
        v[i] = keep;
        double fd = (lp - lm) / (2 * h), a = ana ? ana[i] : (double)anaf[i];
        dd += (fd - a) * (fd - a), na += a * a, nn += fd * fd;
    }
    *na_out = na, *nn_out = nn;
    return dd;
}

/* Builds spec with cfg (seed 42), perturbs its parameters away from their init so λ, a and
 * the gates are generic, and returns the worst relative error over its tensors and (direct
 * encoding) its input, for a batch of B samples. thin: check about three elements per tensor
 * (for the sanitizer builds, which run ~10× slower). */
static double netcheck(const char *spec, soma_net_config cfg, const char *label, int B, bool thin) {
    soma_error err = {0};
    soma_net *net = NULL;
    if (soma_net_create(&net, spec, &cfg, 42, &err) != SOMA_OK) {
        fprintf(stderr, "%s: create failed: %s\n", label, err.msg);
        CHECK(0);
        return 1;
    }
    const int64_t M = soma_net_sample_dim(net), C = soma_net_output_dim(net); /* floats per sample */
    float *x = malloc(sizeof(float) * (size_t)(B * M)), *dx = malloc(sizeof(float) * (size_t)(B * M));
    int32_t *y = malloc(sizeof(int32_t) * (size_t)B);
    int64_t *uid = malloc(sizeof(int64_t) * (size_t)B);
    soma_rng rng;
    soma_rng_seed(&rng, 5);
    for (int64_t i = 0; i < B * M; i++) x[i] = soma_rng_uniform(&rng);
    for (int b = 0; b < B; b++) y[b] = (int32_t)(b % C), uid[b] = 11 + b;
    int64_t n;
    float *p = soma_net_params(net, &n);
    for (int64_t i = 0; i < n; i++) {
        p[i] += 0.3f * (soma_rng_uniform(&rng) - 0.5f);
        /* keep clear of shunting's kink at W = 0, which central differences would straddle */
        if (fabsf(p[i]) < 5e-3f) p[i] = p[i] < 0 ? -5e-3f : 5e-3f;
    }
    const bool direct = cfg.encoder == SOMA_ENCODE_DIRECT;
    if (direct) soma_net_set_input_grad(net, dx);
    soma_batch_stats st;
    CHECK(soma_net_train_batch(net, x, y, uid, B, 7, &st) == SOMA_OK);
    double *ana = malloc(sizeof(double) * (size_t)n);
    const float *g = soma_net_grads(net, NULL);
    for (int64_t i = 0; i < n; i++) ana[i] = g[i];
    double worst = 0, na, nn;
    for (int ti = 0; ti < soma_net_param_count(net); ti++) {
        const char *name;
        int64_t off, num;
        soma_net_param_info(net, ti, &name, &off, &num);
        if (off < 0 || off >= n) continue; /* running statistics: state, not trained */
        const int64_t step = thin && num > 3 ? num / 3 : 1;
        double dd = netcheck_span(net, p, off, off + num, step, ana, NULL, x, y, uid, B, &na, &nn);
        double rel = sqrt(dd) / (sqrt(na) + sqrt(nn) + 2e-3 * sqrt((double)num / (double)step));
        /* λ of bilinear ablation ab3 is frozen: its analytic gradient is zero by design */
        if (cfg.integrate.ablation == SOMA_ABLATION_AB3 && cfg.integrate.mode == SOMA_INTEGRATE_BILINEAR &&
            strstr(name, "lambda")) {
            CHECK(na == 0);
            continue;
        }
        if (sqrt(na) + sqrt(nn) < 1e-7) continue; /* a tensor with no influence (e.g. dead W₋) */
        if (rel > worst) worst = rel;
        if (rel > 2e-2) fprintf(stderr, "  %s %s: rel err %.3g (|ana| %.3g |fd| %.3g)\n", label, name, rel, sqrt(na), sqrt(nn));
    }
    if (direct) {
        soma_net_set_input_grad(net, NULL);
        const int64_t step = thin && B * M > 3 ? B * M / 3 : 1;
        double dd = netcheck_span(net, x, 0, B * M, step, NULL, dx, x, y, uid, B, &na, &nn);
        double rel = sqrt(dd) / (sqrt(na) + sqrt(nn) + 2e-3 * sqrt((double)(B * M) / (double)step));
        if (rel > worst) worst = rel;
        if (rel > 2e-2) fprintf(stderr, "  %s input: rel err %.3g\n", label, rel);
    }
    free(ana), free(x), free(dx), free(y), free(uid);
    soma_net_free(net);
    return worst;
}

#endif
