/*
 * tests/test_train.c — optimisers against hand-computed steps, learning-rate schedules,
 * encoders (rate statistics, latency positions, determinism per sample), the loss values and
 * the neuron dynamics on hand-worked sequences.
 */
#include "soma.h"
#include "test.h"

#include "encode/encode.h"
#include "train/loss.h"

TEST(sgd_momentum_and_adam_steps) {
    float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, -1.0f};
    soma_optim_params p = soma_optim_default_params();
    p.kind = SOMA_OPTIM_SGD, p.momentum = 0.9f;
    soma_optim *o = soma_optim_create(&p, 2);
    soma_optim_step(o, w, g, 0.1f); /* v = g; w -= 0.1 v */
    CHECK_NEAR(w[0], 0.95, 1e-6);
    soma_optim_step(o, w, g, 0.1f); /* v = 0.9 g + g = 1.9 g */
    CHECK_NEAR(w[0], 0.95 - 0.1 * 0.95, 1e-6);
    soma_optim_free(o);
    /* Adam's first step is lr·sign(g) (bias-corrected m/√v = g/|g|) */
    float a[2] = {1.0f, -2.0f};
    p = soma_optim_default_params();
    o = soma_optim_create(&p, 2);
    soma_optim_step(o, a, g, 0.01f);
    CHECK_NEAR(a[0], 1.0 - 0.01, 1e-5);
    CHECK_NEAR(a[1], -2.0 + 0.01, 1e-5);
    CHECK(soma_optim_steps(o) == 1);
    soma_optim_free(o);
    /* AdamW decays the weight by lr·wd before the update, independent of the gradient */
    float z[1] = {2.0f}, g0[1] = {0.0f};
    p.kind = SOMA_OPTIM_ADAMW, p.weight_decay = 0.5f;
    o = soma_optim_create(&p, 1);
    soma_optim_step(o, z, g0, 0.1f);
    CHECK_NEAR(z[0], 2.0 * (1 - 0.05), 1e-6);
    soma_optim_free(o);
    /* clipping: a gradient of norm 10 clipped to 1 makes SGD move by lr·g/10 */
    float c[1] = {0.0f}, gc[1] = {10.0f};
    p = soma_optim_default_params();
    p.kind = SOMA_OPTIM_SGD, p.momentum = 0.0f, p.grad_clip = 1.0f;
    o = soma_optim_create(&p, 1);
    soma_optim_step(o, c, gc, 1.0f);
    CHECK_NEAR(c[0], -1.0, 1e-6);
    soma_optim_free(o);
}

TEST(optim_groups) {
    /* AdamW with zero gradients only decays: w ← w·(1 − lr·lr_scale·wd·wd_scale). Parameters
     * outside the groups take lr and wd as they are; a group may scale one and not the other. */
    float w[6] = {1, 1, 1, 1, 1, 1}, g[6] = {0};
    soma_optim_params p = soma_optim_default_params();
    p.kind = SOMA_OPTIM_ADAMW, p.weight_decay = 0.5f;
    soma_optim *o = soma_optim_create(&p, 6);
    soma_error err = {0};
    CHECK(soma_optim_add_group(o, &(soma_optim_group){4, 1, 1.0f, 0.0f}, &err) == SOMA_OK); /* out of order */
    CHECK(soma_optim_add_group(o, &(soma_optim_group){1, 2, 0.5f, 4.0f}, &err) == SOMA_OK);
    CHECK(soma_optim_group_count(o) == 2 && soma_optim_group_at(o, 0)->offset == 1);
    CHECK(soma_optim_group_at(o, 2) == NULL);
    soma_optim_step(o, w, g, 0.1f);
    CHECK_NEAR(w[0], 1 - 0.1 * 0.5, 1e-6);
    CHECK_NEAR(w[1], 1 - 0.05 * 2.0, 1e-6);
    CHECK_NEAR(w[2], 1 - 0.05 * 2.0, 1e-6);
    CHECK_NEAR(w[3], 1 - 0.1 * 0.5, 1e-6);
    CHECK(w[4] == 1.0f);
    CHECK_NEAR(w[5], 1 - 0.1 * 0.5, 1e-6);
    /* Adam's first step is lr·sign(g): a group's lr_scale scales it */
    float a[3] = {0, 0, 0}, ga[3] = {1, 1, 1};
    soma_optim *o2 = soma_optim_create(&p, 3);
    CHECK(soma_optim_add_group(o2, &(soma_optim_group){1, 1, 0.25f, 1.0f}, &err) == SOMA_OK);
    soma_optim_step(o2, a, ga, 0.1f);
    CHECK_NEAR(a[0], -0.1, 1e-6);
    CHECK_NEAR(a[1], -0.025, 1e-6);
    CHECK_NEAR(a[2], -0.1, 1e-6);
    /* no groups, or groups of scale 1: bit for bit the plain update */
    float b1[3] = {0.3f, -0.2f, 0.7f}, b2[3] = {0.3f, -0.2f, 0.7f}, gb[3] = {0.1f, -0.4f, 0.2f};
    soma_optim *o3 = soma_optim_create(&p, 3), *o4 = soma_optim_create(&p, 3);
    CHECK(soma_optim_add_group(o4, &(soma_optim_group){0, 2, 1.0f, 1.0f}, &err) == SOMA_OK);
    for (int s = 0; s < 3; s++) soma_optim_step(o3, b1, gb, 0.01f), soma_optim_step(o4, b2, gb, 0.01f);
    CHECK(memcmp(b1, b2, sizeof b1) == 0);
    /* refused: empty, outside, overlapping, negative or NaN multipliers */
    const soma_optim_group bad[] = {{0, 0, 1, 1}, {5, 2, 1, 1}, {-1, 1, 1, 1}, {2, 2, 1, 1}, {0, 2, 1, 1},
                                    {5, 1, -1, 1}, {5, 1, 1, NAN}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err = (soma_error){0};
        CHECK(soma_optim_add_group(o, &bad[i], &err) == SOMA_E_ARG && err.msg[0]);
    }
    CHECK(soma_optim_group_count(o) == 2);
    soma_optim_free(o);
    soma_optim_free(o2);
    soma_optim_free(o3);
    soma_optim_free(o4);
}

TEST(schedules) {
    soma_schedule s = {SOMA_SCHED_STEP, 1.0f, 0.0f, 0.1f, 10};
    CHECK_NEAR(soma_schedule_lr(&s, 9, 0, 100), 1.0, 1e-7);
    CHECK_NEAR(soma_schedule_lr(&s, 10, 0, 100), 0.1, 1e-7);
    CHECK_NEAR(soma_schedule_lr(&s, 25, 0, 100), 0.01, 1e-7);
    soma_schedule c = {SOMA_SCHED_COSINE, 1.0f, 0.1f, 0, 0};
    CHECK_NEAR(soma_schedule_lr(&c, 0, 0, 100), 1.0, 1e-6);
    CHECK_NEAR(soma_schedule_lr(&c, 0, 50, 100), 0.55, 1e-6);
    CHECK_NEAR(soma_schedule_lr(&c, 0, 100, 100), 0.1, 1e-6);
    CHECK(soma_sched_parse("cosine") == SOMA_SCHED_COSINE && soma_sched_parse("warp") < 0);
}

TEST(rate_encoder) {
    enum { T = 2000, B = 2, M = 5 };
    static float out[T * B * M], out2[T * B * M];
    const float x[B * M] = {0, 0.1f, 0.5f, 0.9f, 1, 0.3f, 0.3f, 0.3f, 0.3f, 0.3f};
    const int64_t uid[B] = {7, 8};
    soma_encode(SOMA_ENCODE_RATE, out, x, uid, T, B, M, 42);
    for (int j = 0; j < B * M; j++) {
        double n = 0;
        for (int t = 0; t < T; t++) n += out[t * B * M + j];
        CHECK_NEAR(n / T, x[j], 0.04); /* Bernoulli(p) mean: sd ≤ 0.011 at T = 2000 */
    }
    /* a sample's spikes depend on its id, not on its position in the batch */
    const float xs[B * M] = {0.3f, 0.3f, 0.3f, 0.3f, 0.3f, 0, 0.1f, 0.5f, 0.9f, 1};
    const int64_t us[B] = {8, 7};
    soma_encode(SOMA_ENCODE_RATE, out2, xs, us, T, B, M, 42);
    for (int t = 0; t < T; t++)
        for (int j = 0; j < M; j++) {
            CHECK(out[(t * B + 0) * M + j] == out2[(t * B + 1) * M + j]);
            CHECK(out[(t * B + 1) * M + j] == out2[(t * B + 0) * M + j]);
        }
    /* the spike-list encoder gives exactly the same spikes */
    static int32_t idx[T * B * M], fk[B * M];
    static uint64_t fm[B * M];
    static int64_t off[T * B + 1], foff[B + 1];
    soma_encode_spikes(SOMA_ENCODE_RATE, idx, off, x, uid, T, B, M, 42, fk, fm, foff);
    soma_spikes_densify(out2, idx, off, T * B, M);
    CHECK(memcmp(out, out2, sizeof out) == 0);
}

TEST(latency_encoder) {
    enum { T = 10, B = 1, M = 4 };
    float out[T * B * M];
    const float x[M] = {0, 0.3f, 1.0f, 0.5f};
    const int64_t uid[1] = {0};
    soma_encode(SOMA_ENCODE_LATENCY, out, x, uid, T, B, M, 1);
    /* one spike at round((1 − p)(T − 1)): 0.3 → 6, 1.0 → 0, 0.5 → round(4.5) = 4; none for 0 */
    const int want[M] = {-1, 6, 0, 4};
    for (int j = 0; j < M; j++)
        for (int t = 0; t < T; t++) CHECK(out[t * M + j] == (t == want[j] ? 1.0f : 0.0f));
    int32_t idx[T * M], fk[M];
    uint64_t fm[M];
    int64_t off[T + 1], foff[2];
    float out2[T * M];
    soma_encode_spikes(SOMA_ENCODE_LATENCY, idx, off, x, uid, T, B, M, 1, fk, fm, foff);
    soma_spikes_densify(out2, idx, off, T, M);
    CHECK(memcmp(out, out2, sizeof out) == 0);
}

TEST(losses) {
    /* two classes, T = 2, outputs (1,0),(1,1): rate (1, 0.5); CE = log(e^1 + e^0.5) − 1 */
    const float out[4] = {1, 0, 1, 1};
    const int32_t y[1] = {0};
    float z[2], d[4];
    int64_t correct = 0;
    double l = soma_loss_eval(SOMA_LOSS_CE, 1.0f, z, d, &correct, out, y, 2, 1, 2, 1.0f, NULL);
    CHECK_NEAR(l, log(exp(1.0) + exp(0.5)) - 1.0, 1e-6);
    CHECK(correct == 1);
    double p0 = exp(1.0) / (exp(1.0) + exp(0.5));
    CHECK_NEAR(d[0], (p0 - 1) / 2, 1e-6); /* ∂/∂out_t = (p − onehot)/T */
    CHECK_NEAR(d[1], (1 - p0) / 2, 1e-6);
    l = soma_loss_eval(SOMA_LOSS_MSE, 1.0f, z, d, &correct, out, y, 2, 1, 2, 1.0f, NULL);
    CHECK_NEAR(l, (0.0 + 0.25) / 2, 1e-7); /* ((1−1)² + (0.5−0)²)/C */
    CHECK_NEAR(d[1], 2 * 0.5 / 2 / 2, 1e-7);
}

TEST(tie_break_by_membrane) {
    /* Equal spike counts (1, 1 over T = 2): without a tie-break class 0 wins; with mean membranes
     * (0.2, 0.7) class 1 does, the loss and its gradient are unchanged, and a count difference
     * is never overturned however large the membrane gap. */
    const float out[4] = {1, 1, 0, 0};
    const int32_t y[1] = {1};
    const float mem[2] = {0.2f, 0.7f}, huge[2] = {-1e6f, 1e6f};
    float z[2], zt[2], d[4], dt[4];
    int64_t c0 = 0, c1 = 0;
    double l0 = soma_loss_eval(SOMA_LOSS_MSE, 1.0f, z, d, &c0, out, y, 2, 1, 2, 1.0f, NULL);
    double l1 = soma_loss_eval(SOMA_LOSS_MSE, 1.0f, zt, dt, &c1, out, y, 2, 1, 2, 1.0f, mem);
    CHECK(c0 == 0 && c1 == 1);
    CHECK(l0 == l1 && memcmp(d, dt, sizeof d) == 0);
    CHECK(zt[1] > zt[0] && fabsf(zt[0] - z[0]) < 0.5f / 10);
    const float out2[4] = {1, 1, 1, 0}; /* counts (2, 1) */
    int64_t c2 = 0;
    soma_loss_eval(SOMA_LOSS_CE, 3.0f, z, NULL, &c2, out2, y, 2, 1, 2, 1.0f, huge);
    CHECK(c2 == 0 && z[0] > z[1]);
}

TEST(lif_hand_worked) {
    /* u_t = 0.5 u + i, θ = 1, hard reset to 0; i = 0.6 every step:
     * h = 0.6, 0.9, 1.05 (spike, u = 0), 0.6, 0.9, 1.05 (spike) */
    soma_neuron_params p = soma_neuron_default_params();
    float cur[6] = {0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f}, out[6], mem[6], u[1];
    soma_neuron_forward(out, mem, cur, u, 6, 1, &p, 0);
    const float want_s[6] = {0, 0, 1, 0, 0, 1}, want_h[6] = {0.6f, 0.9f, 1.05f, 0.6f, 0.9f, 1.05f};
    for (int t = 0; t < 6; t++) {
        CHECK(out[t] == want_s[t]);
        CHECK_NEAR(mem[t], want_h[t], 1e-6);
    }
    /* soft reset keeps the excess: 0.6, 0.9, 1.05 → 0.05, 0.625, 0.9125, 1.05625 */
    p.reset = SOMA_RESET_SOFT;
    soma_neuron_forward(out, mem, cur, u, 6, 1, &p, 0);
    CHECK_NEAR(mem[3], 0.625, 1e-6);
    CHECK(out[2] == 1 && out[3] == 0 && out[5] == 1);
    /* τ form, τ = 2: H = V + (X − V)/2; X = 2 each step: 1 (spike at Θ(0) = 1) */
    p = soma_neuron_default_params();
    p.kind = SOMA_NEURON_LIF_TAU;
    float c2[2] = {2, 2};
    soma_neuron_forward(out, mem, c2, u, 2, 1, &p, 0);
    CHECK_NEAR(mem[0], 1.0, 1e-7);
    CHECK(out[0] == 1.0f);
    /* IF integrates without leak */
    p.kind = SOMA_NEURON_IF, p.theta = 10.0f;
    float c3[3] = {1, 2, 3};
    soma_neuron_forward(out, mem, c3, u, 3, 1, &p, 0);
    CHECK_NEAR(mem[2], 6.0, 1e-7);
    /* non-spiking readout outputs its membrane */
    p = soma_neuron_default_params();
    p.spiking = false;
    soma_neuron_forward(out, mem, c3, u, 3, 1, &p, 0);
    CHECK_NEAR(out[2], 0.25 * 1 + 0.5 * 2 + 3, 1e-6);
}

int main(void) {
    RUN(sgd_momentum_and_adam_steps);
    RUN(optim_groups);
    RUN(schedules);
    RUN(rate_encoder);
    RUN(latency_encoder);
    RUN(losses);
    RUN(tie_break_by_membrane);
    RUN(lif_hand_worked);
    return test_report("test_train");
}
