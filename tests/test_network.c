/*
 * tests/test_network.c — behaviour of whole networks: the event-driven and dense paths agree,
 * results are bitwise identical on 1 and 2 threads, the thesis's constructed XOR neurons
 * give the thesis's truth tables, single neurons learn XOR (bilinear, shunting) or cannot
 * (linear), the RSNN example learns sparse-vs-dense spike trains, checkpoints round-trip and
 * bad net specs are rejected with a message; spike lists hold every input at 100 % density,
 * and work buffers become resident only where a run writes them.
 */
#include "soma.h"
#include "synapse/dense_fold.h"
#include "test.h"

#include <stdlib.h>
#include <unistd.h>

static int set_tensor(soma_net *net, const char *name, const float *v, int64_t n) {
    float *p = soma_net_params(net, NULL);
    for (int i = 0; i < soma_net_param_count(net); i++) {
        const char *nm;
        int64_t off, num;
        soma_net_param_info(net, i, &nm, &off, &num);
        if (strcmp(nm, name) == 0 && num == n) {
            memcpy(p + off, v, sizeof(float) * (size_t)n);
            return 1;
        }
    }
    return 0;
}

/* Runs one train step and returns the gradients and the stats. */
static void step(soma_net *net, const float *x, const int32_t *y, const int64_t *uid, int B,
                 float *grads, soma_batch_stats *st) {
    CHECK(soma_net_train_batch(net, x, y, uid, B, 99, st) == SOMA_OK);
    int64_t n;
    float *g = soma_net_grads(net, &n);
    memcpy(grads, g, sizeof(float) * (size_t)n);
}

static void random_batch(float *x, int32_t *y, int64_t *uid, int B, int64_t M, int C, float density, uint64_t seed) {
    soma_rng r;
    soma_rng_seed(&r, seed);
    for (int64_t i = 0; i < B * M; i++) x[i] = soma_rng_uniform(&r) < density ? soma_rng_uniform(&r) : 0.0f;
    for (int b = 0; b < B; b++) y[b] = (int32_t)soma_rng_below(&r, (uint32_t)C), uid[b] = b;
}

TEST(event_driven_matches_dense) {
    const char *modes[] = {"linear", "bilinear", "shunting"};
    /* feed-forward, and recurrent layers (input and W_rec·s_{t−1} event-driven) */
    const char *specs[] = {"40-30-20-5", "40-30R-20R-5"};
    const float densities[] = {0.0f, 0.05f, 0.3f, 0.6f, 1.0f};
    enum { B = 20, M = 40 };
    static float x[B * M], g1[200000], g2[200000], g3[200000];
    int32_t y[B];
    int64_t uid[B];
    for (int si = 0; si < 2; si++)
    for (int m = 0; m < 3; m++)
        for (int di = 0; di < 5; di++) {
            random_batch(x, y, uid, B, M, 5, densities[di], 3);
            soma_net_config c = soma_net_default_config();
            c.T = 6;
            c.chunk = 7;
            c.neuron.theta = 0.3f;
            c.integrate.mode = (soma_integrate_mode)soma_integrate_mode_parse(modes[m]);
            c.integrate.shunt_scale = 0.5f;
            soma_net *a = NULL, *b = NULL;
            c.sparse_max_density = 1.0f; /* always event-driven */
            CHECK(soma_net_create(&a, specs[si], &c, 7, NULL) == SOMA_OK);
            c.sparse_max_density = 0.0f; /* always dense */
            CHECK(soma_net_create(&b, specs[si], &c, 7, NULL) == SOMA_OK);
            soma_batch_stats sa, sb;
            step(a, x, y, uid, B, g1, &sa);
            step(b, x, y, uid, B, g2, &sb);
            int64_t n;
            soma_net_grads(a, &n);
            /* the folded event kernels (AVX-512 tiles where present, portable) give the same bits */
            soma_dense_fold_kernel = 1;
            soma_batch_stats sc;
            step(a, x, y, uid, B, g3, &sc);
            soma_dense_fold_kernel = 0;
            CHECK(memcmp(g1, g3, sizeof(float) * (size_t)n) == 0 && sa.loss_sum == sc.loss_sum);
            double dd = 0, nn = 0;
            for (int64_t i = 0; i < n; i++) dd += (g1[i] - g2[i]) * (double)(g1[i] - g2[i]), nn += (double)g2[i] * g2[i];
            for (int l = 0; l < 3; l++) CHECK(sa.spikes[l] == sb.spikes[l]); /* identical spikes */
            CHECK_NEAR(sa.loss_sum, sb.loss_sum, 1e-4);
            CHECK(sqrt(dd) <= 1e-4 * sqrt(nn) + 1e-7);
            soma_net_free(a);
            soma_net_free(b);
        }
}

TEST(bitwise_identical_across_threads) {
    enum { B = 50, M = 30 };
    static float x[B * M], g1[100000], g2[100000];
    int32_t y[B];
    int64_t uid[B];
    random_batch(x, y, uid, B, M, 4, 0.5f, 11);
    for (int mode = 0; mode < 3; mode++) {
        soma_net_config c = soma_net_default_config();
        c.T = 5, c.chunk = 8, c.neuron.theta = 0.3f;
        c.integrate.mode = (soma_integrate_mode)mode;
        soma_batch_stats s1, s2;
        soma_net *a = NULL;
        CHECK(soma_net_create(&a, "30-25-16R-4", &c, 5, NULL) == SOMA_OK);
        soma_set_threads(1);
        step(a, x, y, uid, B, g1, &s1);
        soma_set_threads(2);
        step(a, x, y, uid, B, g2, &s2);
        int64_t n;
        soma_net_grads(a, &n);
        CHECK(memcmp(g1, g2, sizeof(float) * (size_t)n) == 0);
        CHECK(s1.loss_sum == s2.loss_sum);
        soma_net_free(a);
    }
}

/* Every input and every neuron spikes at every step (rate code of 1, non-negative weights, a
 * threshold below the reset): the spike lists the encoder and each layer build fill their planned room exactly
 * (AddressSanitizer checks the bounds in `make check-asan`), the event-driven path still
 * runs at that density, agrees with the dense path, and is bitwise the same on 1 and 2
 * threads. A conv layer builds its lists too before it picks the dense path (its
 * break-even is lower). */
TEST(spike_lists_at_full_density) {
    const char *specs[] = {"24-16-12-3", "24-16R-3", "1x6x6-4C3-P2-8-3"};
    enum { B = 19, M = 36 };
    static float x[B * M], g1[20000], g2[20000], g3[20000];
    int32_t y[B];
    int64_t uid[B];
    for (int b = 0; b < B; b++) y[b] = b % 3, uid[b] = b;
    for (int i = 0; i < B * M; i++) x[i] = 1.0f;
    for (int si = 0; si < 3; si++)
        for (int m = 0; m < 3; m++) {
            soma_net_config c = soma_net_default_config();
            c.T = 5, c.chunk = 8;
            c.neuron.theta = -0.5f; /* with non-negative weights h ≥ 0 > θ: every neuron fires */
            c.integrate.mode = (soma_integrate_mode)m;
            soma_net *a = NULL, *b = NULL;
            c.sparse_max_density = 1.0f;
            CHECK(soma_net_create(&a, specs[si], &c, 3, NULL) == SOMA_OK);
            c.sparse_max_density = 0.0f;
            CHECK(soma_net_create(&b, specs[si], &c, 3, NULL) == SOMA_OK);
            int64_t np;
            float *pa = soma_net_params(a, &np), *pb = soma_net_params(b, NULL);
            for (int64_t i = 0; i < np; i++) pa[i] = pb[i] = fabsf(pa[i]); /* every current ≥ 0 > θ */
            soma_batch_stats sa, sb, sc;
            soma_set_threads(1);
            step(a, x, y, uid, B, g1, &sa);
            step(b, x, y, uid, B, g2, &sb);
            soma_set_threads(2);
            step(a, x, y, uid, B, g3, &sc);
            int64_t n;
            soma_net_grads(a, &n);
            CHECK(memcmp(g1, g3, sizeof(float) * (size_t)n) == 0 && sa.loss_sum == sc.loss_sum);
            const int nl = soma_net_layer_count(a);
            for (int l = 0; l < nl; l++) {
                CHECK(sa.in_active[l] == sa.in_total[l]); /* every input spiked */
                CHECK(sa.spikes[l] == sa.neurons[l]);     /* every neuron fired */
                CHECK(sa.spikes[l] == sb.spikes[l]);
            }
            if (si < 2) CHECK(sa.event_chunks[0] == sa.chunks && sa.event_chunks[nl - 1] == sa.chunks);
            double dd = 0, nn = 0;
            for (int64_t i = 0; i < n; i++) dd += (g1[i] - g2[i]) * (double)(g1[i] - g2[i]), nn += (double)g2[i] * g2[i];
            CHECK_NEAR(sa.loss_sum, sb.loss_sum, 1e-4);
            CHECK(sqrt(dd) <= 1e-4 * sqrt(nn) + 1e-7);
            soma_net_free(a);
            soma_net_free(b);
        }
    soma_set_threads(0);
}

/* A reserved net's work buffers are planned for the worst case but zero on first touch: the
 * reservation itself adds (almost) nothing resident, and on sparse input the event path,
 * which never writes the dense input rows, makes less of them resident than the dense path.
 * RSS is not checked under the sanitizers (their allocator zeroes and tracks every block). */
TEST(work_buffers_resident_by_use) {
    const size_t big = (size_t)48 << 20;
    size_t used0 = soma_mem_used(), r0 = soma_rss();
    float *p = soma_calloc(big / sizeof(float), sizeof(float));
    CHECK(p && ((uintptr_t)p & 63) == 0);
    CHECK(soma_mem_used() - used0 == big);
    double sum = 0;
    for (size_t i = 0; i < big / sizeof(float); i += 4096) sum += p[i];
    CHECK(sum == 0.0);
    const bool rss_ok = !getenv("SOMA_SANITIZED") && r0 > 0;
    if (rss_ok) CHECK(soma_rss() < r0 + big / 8);
    for (size_t i = 0; i < big / sizeof(float); i += 1024) p[i] = 1.0f;
    if (rss_ok) CHECK(soma_rss() > r0 + big / 2);
    soma_free(p);
    CHECK(soma_mem_used() == used0);
    /* the nets: 5 % of 784 inputs on, rate coded, T = 20, one thread */
    enum { B = 32, M = 784 };
    static float x[B * M];
    int32_t y[B];
    int64_t uid[B];
    random_batch(x, y, uid, B, M, 10, 0.05f, 5);
    soma_set_threads(1);
    size_t grown[2] = {0, 0};
    for (int dense = 0; dense < 2; dense++) {
        soma_net_config c = soma_net_default_config();
        c.T = 20;
        c.sparse_max_density = dense ? 0.0f : 0.3f;
        soma_net *net = NULL;
        CHECK(soma_net_create(&net, "784-64-10", &c, 1, NULL) == SOMA_OK);
        size_t u0 = soma_mem_used(), before = soma_rss();
        CHECK(soma_net_reserve(net, B, NULL) == SOMA_OK);
        const size_t planned = soma_mem_used() - u0;
        if (rss_ok) CHECK(soma_rss() < before + planned / 2); /* the gradient workspaces are small: memset */
        soma_batch_stats st;
        CHECK(soma_net_eval_batch(net, x, y, uid, B, 1, NULL, &st) == SOMA_OK);
        CHECK((st.event_chunks[0] > 0) == !dense);
        grown[dense] = soma_rss() - before;
        soma_net_free(net);
    }
    if (rss_ok) CHECK(grown[0] < grown[1]);
    soma_set_threads(0);
}

/* Thesis: i = x₁ + x₂ − 2x₁x₂, threshold 0.5 (w = (1, 1), λ = 1, v = (1, −1)). */
TEST(constructed_bilinear_xor) {
    soma_net_config c = soma_net_default_config();
    c.T = 1, c.encoder = SOMA_ENCODE_DIRECT, c.readout = SOMA_READOUT_MEMBRANE;
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "2-1", &c, 1, NULL) == SOMA_OK);
    const float W[2] = {1, 1}, V[2] = {1, -1}, lam = 1, b = 0;
    CHECK(set_tensor(net, "l0.W", W, 2) && set_tensor(net, "l0.V", V, 2));
    CHECK(set_tensor(net, "l0.lambda", &lam, 1) && set_tensor(net, "l0.b", &b, 1));
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int64_t uid[4] = {0, 1, 2, 3};
    float cur[4];
    CHECK(soma_net_eval_batch(net, x, NULL, uid, 4, 1, cur, NULL) == SOMA_OK);
    const float want[4] = {0, 1, 1, 0};
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(cur[i], want[i], 1e-6);
        CHECK((cur[i] >= 0.5f) == (want[i] == 1)); /* threshold 0.5 */
    }
    soma_net_free(net);
}

/* Thesis: w = (1, 1), v_p = v_n = (−1, −1), k = 1, threshold 0.25:
 * currents 0, σ(−1) = 0.269, 0.269, 2σ(−2) = 0.238. */
TEST(constructed_shunting_xor) {
    soma_net_config c = soma_net_default_config();
    c.T = 1, c.encoder = SOMA_ENCODE_DIRECT, c.readout = SOMA_READOUT_MEMBRANE;
    c.integrate.mode = SOMA_INTEGRATE_SHUNTING;
    c.integrate.shunt_k = 1.0f;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "2-1", &c, 1, NULL) == SOMA_OK);
    const float W[2] = {1, 1}, V[2] = {-1, -1}, b = 0;
    CHECK(set_tensor(net, "l0.W", W, 2) && set_tensor(net, "l0.Vp", V, 2) && set_tensor(net, "l0.Vn", V, 2));
    CHECK(set_tensor(net, "l0.b", &b, 1));
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int64_t uid[4] = {0, 1, 2, 3};
    float cur[4];
    CHECK(soma_net_eval_batch(net, x, NULL, uid, 4, 1, cur, NULL) == SOMA_OK);
    const double want[4] = {0, 0.268941, 0.268941, 0.238406};
    for (int i = 0; i < 4; i++) CHECK_NEAR(cur[i], want[i], 1e-5);
    for (int i = 0; i < 4; i++) CHECK((cur[i] >= 0.25f) == (i == 1 || i == 2));
    soma_net_free(net);
}

TEST(single_neuron_learns_xor) {
    int learned[3] = {0, 0, 0};
    for (int m = 0; m < 3; m++) {
        soma_xor_options o = soma_xor_default_options((soma_integrate_mode)m);
        for (uint64_t s = 1; s <= 20; s++) {
            soma_xor_result r;
            CHECK(soma_xor_train(&o, s, &r, NULL) == SOMA_OK);
            learned[m] += r.learned;
        }
    }
    printf("  XOR learned in 20 seeds: linear %d, bilinear %d, shunting %d\n", learned[0], learned[1], learned[2]);
    CHECK(learned[SOMA_INTEGRATE_LINEAR] == 0);
    CHECK(learned[SOMA_INTEGRATE_BILINEAR] >= 18);
    CHECK(learned[SOMA_INTEGRATE_SHUNTING] >= 18);
}

/* The RSNN notes' example: two input channels, class 0 spikes with p = 0.1 per step, class 1
 * with p = 0.5, T = 20; a recurrent layer of 4 neurons and one output neuron. */
TEST(rsnn_sparse_vs_dense) {
    enum { N = 400, T = 20 };
    static float x[N * 2];
    static int32_t y[N];
    static int64_t uid[N];
    soma_rng r;
    soma_rng_seed(&r, 2024);
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        uid[i] = i;
        x[2 * i] = x[2 * i + 1] = y[i] ? 0.5f : 0.1f; /* rate-coded: Bernoulli(p) per step */
    }
    soma_net_config c = soma_net_default_config();
    c.T = T;
    c.loss = SOMA_LOSS_MSE;
    c.neuron.alpha = 0.904837f; /* exp(−1/10): τ_m = 10 */
    c.neuron.surrogate = SOMA_SURROGATE_EXP;
    c.neuron.slope = 1.0f;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "2-4R-1", &c, 3, NULL) == SOMA_OK);
    int64_t n;
    float *p = soma_net_params(net, &n), *g = soma_net_grads(net, NULL);
    soma_optim_params op = soma_optim_default_params();
    op.lr = 0.05f;
    soma_optim *opt = soma_optim_create(&op, n);
    soma_batch_stats st;
    for (int epoch = 0; epoch < 30; epoch++)
        for (int b0 = 0; b0 < N; b0 += 50) {
            CHECK(soma_net_train_batch(net, x + 2 * b0, y + b0, uid + b0, 50, (uint64_t)epoch, &st) == SOMA_OK);
            soma_optim_step(opt, p, g, op.lr);
        }
    /* fresh samples: a new encoding stream */
    CHECK(soma_net_eval_batch(net, x, y, uid, N, 12345, NULL, &st) == SOMA_OK);
    double acc = (double)st.correct / N;
    printf("  RSNN sparse-vs-dense accuracy: %.1f%%\n", 100 * acc);
    CHECK(acc >= 0.95);
    soma_optim_free(opt);
    soma_net_free(net);
}

TEST(checkpoint_round_trip) {
    soma_net_config c = soma_net_default_config();
    c.T = 4;
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    c.integrate.rank = 2;
    c.neuron.kind = SOMA_NEURON_PLIF;
    soma_net *a = NULL, *b = NULL;
    CHECK(soma_net_create(&a, "12-8s-6b-3", &c, 9, NULL) == SOMA_OK);
    int64_t n;
    float *p = soma_net_params(a, &n);
    soma_optim_params op = soma_optim_default_params();
    soma_optim *opt = soma_optim_create(&op, n), *opt2 = NULL;
    soma_error gerr = {0};
    /* groups by tensor name: "V" is every bilinear layer's V (l1.V, l2.V; the shunting l0 has
     * Vp and Vn), "l0.W" one tensor; a name no tensor has, or an overlap, is refused */
    CHECK(soma_optim_group_tensors(opt, a, "V", 0.5f, 4.0f, &gerr) == 2);
    CHECK(soma_optim_group_tensors(opt, a, "l0.W", 1.0f, 0.0f, &gerr) == 1);
    CHECK(soma_optim_group_tensors(opt, a, "Q", 1.0f, 1.0f, &gerr) == SOMA_E_ARG);
    CHECK_MSG(gerr, "\"Q\"");
    CHECK(soma_optim_group_tensors(opt, a, "l2.V", 1.0f, 1.0f, &gerr) == SOMA_E_ARG);
    CHECK(soma_optim_group_count(opt) == 3);
    int matched = 0;
    for (int i = 0; i < soma_net_param_count(a); i++) {
        const char *tn;
        int64_t off, numel;
        soma_net_param_info(a, i, &tn, &off, &numel);
        for (int k = 0; k < soma_optim_group_count(opt); k++) {
            const soma_optim_group *g = soma_optim_group_at(opt, k);
            if (g->offset != off) continue;
            bool v = strcmp(tn, "l1.V") == 0 || strcmp(tn, "l2.V") == 0, w = strcmp(tn, "l0.W") == 0;
            CHECK((v || w) && g->count == numel);
            CHECK(g->lr_scale == (v ? 0.5f : 1.0f) && g->wd_scale == (v ? 4.0f : 0.0f));
            matched++;
        }
    }
    CHECK(matched == 3);
    float x[24];
    int32_t y[2] = {0, 2};
    int64_t uid[2] = {0, 1};
    for (int i = 0; i < 24; i++) x[i] = (float)(i % 5) / 4;
    CHECK(soma_net_train_batch(a, x, y, uid, 2, 1, NULL) == SOMA_OK);
    soma_optim_step(opt, p, soma_net_grads(a, NULL), 1e-2f);
    char dir[] = "/tmp/soma_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/m.soma", dir);
    soma_error err = {0};
    int rc = soma_net_save(a, opt, path, &err);
    CHECK(rc == SOMA_OK);
    if (rc) fprintf(stderr, "  save: %s\n", err.msg);
    rc = soma_net_load(&b, &opt2, path, &err);
    CHECK(rc == SOMA_OK);
    if (rc == SOMA_OK) {
        int64_t n2;
        float *p2 = soma_net_params(b, &n2);
        CHECK(n2 == n && memcmp(p, p2, sizeof(float) * (size_t)n) == 0);
        CHECK(strcmp(soma_net_spec(b), "12-8s-6b-3") == 0);
        CHECK(soma_net_config_of(b)->integrate.rank == 2);
        CHECK(soma_net_config_of(b)->neuron.kind == SOMA_NEURON_PLIF);
        CHECK(opt2 && soma_optim_steps(opt2) == 1);
        CHECK(opt2 && soma_optim_group_count(opt2) == 3);
        for (int i = 0; opt2 && i < 3; i++)
            CHECK(memcmp(soma_optim_group_at(opt, i), soma_optim_group_at(opt2, i), sizeof(soma_optim_group)) == 0);
        float l1[6], l2[6];
        CHECK(soma_net_eval_batch(a, x, y, uid, 2, 5, l1, NULL) == SOMA_OK);
        CHECK(soma_net_eval_batch(b, x, y, uid, 2, 5, l2, NULL) == SOMA_OK);
        CHECK(memcmp(l1, l2, sizeof l1) == 0);
    } else {
        fprintf(stderr, "  load: %s\n", err.msg);
    }
    /* a valid container from a future net format: a version error naming both versions */
    soma_ckpt *ck = soma_ckpt_create();
    CHECK(soma_ckpt_set(ck, "soma.format", "soma-net-9") == SOMA_OK);
    CHECK(soma_ckpt_write(ck, path, &err) == SOMA_OK);
    soma_ckpt_free(ck);
    soma_net *future = NULL;
    CHECK(soma_net_load(&future, NULL, path, &err) == SOMA_E_VERSION && future == NULL);
    CHECK_MSG(err, "soma-net-9");
    CHECK_MSG(err, "soma-net-1");
    /* a file that is not a checkpoint */
    FILE *f = fopen(path, "wb");
    fputs("hello", f);
    fclose(f);
    soma_net *bad = NULL;
    CHECK(soma_net_load(&bad, NULL, path, &err) != SOMA_OK && bad == NULL);
    unlink(path);
    rmdir(dir);
    soma_optim_free(opt);
    soma_optim_free(opt2);
    soma_net_free(a);
    soma_net_free(b);
}

TEST(bad_specs) {
    soma_net_config c = soma_net_default_config();
    const char *bad[] = {"", "784", "784-", "x-10", "784-10q", "784-0-10", "784-D1.5-10", "784--10", "784-100-2000"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        soma_net *net = NULL;
        soma_error err = {0};
        int rc = soma_net_create(&net, bad[i], &c, 1, &err);
        CHECK(rc == SOMA_E_ARG && net == NULL && err.msg[0]);
    }
    soma_error err = {0};
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "784-100q-10", &c, 1, &err) == SOMA_E_ARG);
    CHECK_MSG(err, "100q");
    c.integrate.rank = 0;
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    CHECK(soma_net_create(&net, "4-3-2", &c, 1, &err) == SOMA_E_ARG);
    CHECK_MSG(err, "rank");
}

int main(void) {
    RUN(event_driven_matches_dense);
    RUN(bitwise_identical_across_threads);
    RUN(spike_lists_at_full_density);
    RUN(work_buffers_resident_by_use);
    RUN(constructed_bilinear_xor);
    RUN(constructed_shunting_xor);
    RUN(single_neuron_learns_xor);
    RUN(rsnn_sparse_vs_dense);
    RUN(checkpoint_round_trip);
    RUN(bad_specs);
    return test_report("test_network");
}
