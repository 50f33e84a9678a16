/*
 * tests/test_conv.c — convolutional nets: the Conv2d operator against its naive reference
 * (random shapes, strides, paddings, channel ranges), pooling kernels on hand-made images,
 * finite-difference gradient checks through the real net (chunks, workspaces, finish) of
 * conv layers under linear, bilinear and shunting integration with binary and real input,
 * fused and standalone pooling, BN, tdBN, MPBN, PLIF, residual blocks and voting; the
 * direct-encoding reuse against the plain path; thread determinism; running statistics
 * and their checkpoint round trip; and the notation's image tokens, good and bad.
 *
 * As in test_gradcheck.c, the nets fire with the surrogate's primitive (smooth_forward) so
 * that BPTT must equal central differences.
 */
#include "soma.h"
#include "test.h"
#include "netcheck.h"

#include "layer/conv.h"
#include "synapse/conv2d.h"

#include <stdlib.h>
#include <unistd.h>

static bool sanitized(void) { return getenv("SOMA_SANITIZED") != NULL; }

/* ---- Conv2d: fast vs reference ---------------------------------------------------------- */

static double max_rel_floor(const float *a, const float *b, int64_t n, double floor) {
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (floor + fabs((double)b[i]));
        if (d > worst) worst = d;
    }
    return worst;
}

static double max_rel(const float *a, const float *b, int64_t n) { return max_rel_floor(a, b, n, 1e-3); }

/* Sums of hundreds of terms cancel to near zero here and there: errors relative to the
 * array's scale (float rounding grows with the number of terms, not with the result). */
static double max_rel_scaled(const float *a, const float *b, int64_t n) {
    double m = 0;
    for (int64_t i = 0; i < n; i++) m = fabs((double)b[i]) > m ? fabs((double)b[i]) : m;
    return max_rel_floor(a, b, n, 1e-2 * m + 1e-3);
}

TEST(conv_fast_matches_reference) {
    /* cin, h, w, k, stride, pad, S, c0, nc */
    static const int shapes[][9] = {
        {1, 6, 6, 3, 1, 1, 4, 0, 4},   {2, 5, 7, 3, 1, 0, 3, 1, 2},  {3, 8, 8, 3, 2, 1, 5, 2, 3},
        {2, 7, 5, 5, 2, 2, 2, 0, 2},   {4, 4, 4, 1, 1, 0, 6, 0, 6},  {3, 6, 6, 1, 2, 0, 2, 1, 1},
        {2, 9, 9, 4, 3, 2, 3, 0, 3},   {1, 3, 3, 3, 1, 2, 2, 0, 2},  {40, 5, 4, 3, 1, 1, 36, 2, 34},
        {3, 5, 6, 3, 1, 2, 2, 0, 2},   {2, 6, 5, 3, 1, 0, 3, 0, 3},
    };
    soma_rng rng;
    soma_rng_seed(&rng, 17);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int *s = shapes[si];
        soma_conv2d *op = soma_conv2d_create(s[0], s[1], s[2], s[3], s[4], s[5]);
        CHECK(op != NULL);
        if (!op) continue;
        const int64_t rows = 3, M = op->base.in_dim, F = op->base.fan_in, HWo = op->base.inner;
        const int64_t S = s[6], c0 = s[7], nc = s[8];
        /* the shapes from {40, ...} on (for the 3×3 event kernels: two register blocks, every
         * padding) have sums that cancel to near zero: compare against the result's scale */
        double (*const rel)(const float *, const float *, int64_t) = si >= 8 ? max_rel_scaled : max_rel;
        float *x = malloc(sizeof(float) * (size_t)(rows * M)), *E = malloc(sizeof(float) * (size_t)(S * F));
        float *Y1 = calloc((size_t)(rows * S * HWo), sizeof(float)), *Y2 = calloc((size_t)(rows * S * HWo), sizeof(float));
        float *G = malloc(sizeof(float) * (size_t)(rows * S * HWo));
        float *d1 = malloc(sizeof(float) * (size_t)(rows * M)), *d2 = malloc(sizeof(float) * (size_t)(rows * M));
        float *w1 = calloc((size_t)(S * F), sizeof(float)), *w2 = calloc((size_t)(S * F), sizeof(float));
        float *work = malloc(sizeof(float) * (size_t)soma_conv2d_work_floats(op, S));
        for (int64_t i = 0; i < rows * M; i++) x[i] = soma_rng_uniform(&rng) - 0.3f;
        for (int64_t i = 0; i < S * F; i++) E[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * S * HWo; i++) G[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * M; i++) d1[i] = d2[i] = soma_rng_uniform(&rng);
        soma_conv2d b;
        soma_conv2d_bind(&b, op, work);
        b.base.ops->forward(&b.base, Y1, x, NULL, E, S, c0, nc, rows);
        soma_conv2d_forward_ref(op, Y2, x, E, S, c0, nc, rows);
        CHECK(rel(Y1, Y2, rows * S * HWo) < 1e-4);
        b.base.ops->backward_input(&b.base, d1, G, E, S, c0, nc, rows, 0.5f);
        soma_conv2d_backward_input_ref(op, d2, G, E, S, c0, nc, rows, 0.5f);
        CHECK(rel(d1, d2, rows * M) < 1e-4);
        b.base.ops->backward_input(&b.base, d1, G, E, S, c0, nc, rows, 0.0f);
        soma_conv2d_backward_input_ref(op, d2, G, E, S, c0, nc, rows, 0.0f);
        CHECK(rel(d1, d2, rows * M) < 1e-4);
        b.base.ops->backward_weight(&b.base, w1, G, x, NULL, S, c0, nc, rows);
        soma_conv2d_backward_weight_ref(op, w2, G, x, S, c0, nc, rows);
        CHECK(rel(w1, w2, S * F) < 1e-4);
        /* event-driven: binary x as spike lists, against the reference on the same x */
        for (int64_t i = 0; i < rows * M; i++) x[i] = soma_rng_uniform(&rng) < 0.3f ? 1.0f : 0.0f;
        int32_t *idx = malloc(sizeof(int32_t) * (size_t)(rows * M));
        int64_t off[4];
        soma_spikes_build(idx, off, x, rows, M);
        soma_spikes sx = {.idx = idx, .off = off, .B = rows};
        memset(Y1, 0, sizeof(float) * (size_t)(rows * S * HWo));
        b.base.ops->forward(&b.base, Y1, NULL, &sx, E, S, c0, nc, rows);
        soma_conv2d_forward_ref(op, Y2, x, E, S, c0, nc, rows);
        CHECK(rel(Y1, Y2, rows * S * HWo) < 1e-4);
        memset(w1, 0, sizeof(float) * (size_t)(S * F));
        memset(w2, 0, sizeof(float) * (size_t)(S * F));
        b.base.ops->backward_weight(&b.base, w1, G, NULL, &sx, S, c0, nc, rows);
        soma_conv2d_backward_weight_ref(op, w2, G, x, S, c0, nc, rows);
        CHECK(rel(w1, w2, S * F) < 1e-4);
        free(idx);
        /* channels outside [c0, c0 + nc) are untouched */
        for (int64_t c = 0; c < S; c++)
            if (c < c0 || c >= c0 + nc) CHECK(w1[c * F] == 0.0f && Y1[c * HWo] == 0.0f);
        free(x), free(E), free(Y1), free(Y2), free(G), free(d1), free(d2), free(w1), free(w2), free(work);
        op->base.ops->free(&op->base);
    }
    /* output sizes follow PyTorch: (H + 2p − k)/s + 1 */
    soma_conv2d *op = soma_conv2d_create(3, 32, 32, 3, 2, 1);
    CHECK(op && op->ho == 16 && op->wo == 16 && op->base.fan_in == 27);
    if (op) op->base.ops->free(&op->base);
    CHECK(soma_conv2d_create(1, 2, 2, 5, 1, 1) == NULL); /* the kernel does not fit */
}

/* The input gradient from max pooling's sparse gradient (position-major lists) against the
 * reference on the unpooled gradient: 3×3 kernels (their own kernel) with every padding, more
 * than 32 input channels, 3×3 with a stacked mode's channel count (the tap-major kernel),
 * other kernel sizes, pooling windows of 2 and 3 with odd sizes. */
TEST(conv_sparse_input_grad) {
    /* cin, h, w, k, pad, S, pool */
    static const int shapes[][7] = {
        {3, 6, 6, 3, 1, 4, 2}, {2, 7, 5, 3, 0, 3, 2}, {40, 6, 6, 3, 1, 5, 2}, {1, 5, 5, 3, 2, 2, 3},
        {2, 8, 8, 5, 2, 3, 2}, {33, 5, 4, 2, 0, 2, 2}, {32, 14, 14, 3, 1, 32, 2}, {32, 7, 9, 3, 1, 96, 2},
        {5, 6, 5, 3, 0, 300, 2},
    };
    soma_rng rng;
    soma_rng_seed(&rng, 23);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int *s = shapes[si];
        soma_conv2d *op = soma_conv2d_create(s[0], s[1], s[2], s[3], 1, s[4]);
        CHECK(op != NULL && soma_conv2d_sparse_ok(op));
        if (!op) continue;
        soma_pool_geom pg;
        CHECK(soma_pool_geom_init(&pg, SOMA_POOL_MAX, s[5], op->ho, op->wo, s[6], s[6], s[6], s[6], NULL) == SOMA_OK);
        const int64_t rows = 3, M = op->base.in_dim, F = op->base.fan_in, HWo = op->base.inner, S = s[5];
        const int64_t Pin = S * HWo, Pout = S * pg.ho * pg.wo;
        float *E = malloc(sizeof(float) * (size_t)(S * F)), *Y = malloc(sizeof(float) * (size_t)(rows * Pin));
        float *G = malloc(sizeof(float) * (size_t)(rows * Pin)), *gp = malloc(sizeof(float) * (size_t)(rows * Pout));
        float *pooled = malloc(sizeof(float) * (size_t)(rows * Pout));
        float *d1 = malloc(sizeof(float) * (size_t)(rows * M)), *d2 = malloc(sizeof(float) * (size_t)(rows * M));
        uint8_t *arg = malloc((size_t)(rows * Pout));
        float *work = malloc(sizeof(float) * (size_t)soma_conv2d_sparse_floats(op, S));
        for (int64_t i = 0; i < S * F; i++) E[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * Pin; i++) Y[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * Pout; i++) gp[i] = soma_rng_normal(&rng);
        soma_pool_forward(&pg, pooled, arg, Y, rows);
        soma_pool_backward(&pg, G, arg, gp, rows);
        soma_conv2d_backward_input_ref(op, d2, G, E, S, 0, S, rows, 0.0f);
        soma_conv2d_gsparse gs = soma_conv2d_sparse_begin(op, work, E, S);
        for (int64_t r = 0; r < rows; r++) {
            soma_pool_backward_lists(&pg, gs.n, gs.ch, gs.v, gs.S, arg + r * Pout, gp + r * Pout);
            soma_conv2d_backward_input_sparse(op, d1 + r * M, &gs);
        }
        double w = max_rel_scaled(d1, d2, rows * M);
        CHECK(w < 1e-4);
        if (w >= 1e-4) fprintf(stderr, "  shape %zu: worst rel err %.3g\n", si, w);
        free(E), free(Y), free(G), free(gp), free(pooled), free(d1), free(d2), free(arg), free(work);
        op->base.ops->free(&op->base);
    }
}

/* The event-driven 3×3 conv fused with bias and 2×2 max pooling against the separate stages
 * (event conv, + bias, pooling; pool backward, the integrator's bias sum, event weight
 * gradient): bit for bit, with ties in the windows, odd sizes, every padding, >32 channels. */
TEST(conv3_pool2_fused_bitwise) {
    /* cin, h, w, pad, S */
    static const int shapes[][5] = {
        {3, 8, 8, 1, 5}, {2, 7, 9, 0, 33}, {1, 6, 5, 2, 4}, {40, 5, 6, 1, 36}, {32, 14, 14, 1, 32},
    };
    soma_rng rng;
    soma_rng_seed(&rng, 29);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const int *s = shapes[si];
        soma_conv2d *op = soma_conv2d_create(s[0], s[1], s[2], 3, 1, s[3]);
        CHECK(op != NULL && soma_conv3_pool2_ok(op));
        if (!op) continue;
        const int64_t rows = 4, M = op->base.in_dim, F = op->base.fan_in, HWo = op->base.inner, S = s[4];
        soma_pool_geom pg;
        CHECK(soma_pool_geom_init(&pg, SOMA_POOL_MAX, S, op->ho, op->wo, 2, 2, 2, 2, NULL) == SOMA_OK);
        const int64_t Pin = S * HWo, Pout = S * pg.ho * pg.wo;
        float *x = malloc(sizeof(float) * (size_t)(rows * M)), *E = malloc(sizeof(float) * (size_t)(S * F));
        float *b = malloc(sizeof(float) * (size_t)S), *Y = malloc(sizeof(float) * (size_t)(rows * Pin));
        float *G = malloc(sizeof(float) * (size_t)(rows * Pin)), *gp = malloc(sizeof(float) * (size_t)(rows * Pout));
        float *y1 = malloc(sizeof(float) * (size_t)(rows * Pout)), *y2 = malloc(sizeof(float) * (size_t)(rows * Pout));
        uint8_t *a1 = malloc((size_t)(rows * Pout)), *a2 = malloc((size_t)(rows * Pout));
        float *w1 = calloc((size_t)(S * F), sizeof(float)), *w2 = calloc((size_t)(S * F), sizeof(float));
        float *db1 = calloc((size_t)S, sizeof(float)), *db2 = calloc((size_t)S, sizeof(float));
        float *work = malloc(sizeof(float) * (size_t)soma_conv2d_work_floats(op, S));
        int32_t *idx = malloc(sizeof(int32_t) * (size_t)(rows * M));
        int64_t off[5];
        /* small integer weights: equal sums (ties in the windows) are common */
        for (int64_t i = 0; i < S * F; i++) E[i] = (float)((int)(soma_rng_uniform(&rng) * 5) - 2);
        for (int64_t i = 0; i < S; i++) b[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * M; i++) x[i] = soma_rng_uniform(&rng) < 0.2f ? 1.0f : 0.0f;
        for (int64_t i = 0; i < M; i++) x[2 * M + i] = 0.0f; /* a row without spikes */
        for (int64_t i = 0; i < rows * Pout; i++) gp[i] = soma_rng_normal(&rng);
        soma_spikes_build(idx, off, x, rows, M);
        soma_spikes sx = {.idx = idx, .off = off, .B = rows};
        soma_conv2d bo;
        soma_conv2d_bind(&bo, op, work);
        /* separate stages */
        soma_conv3_forward_events(&bo, Y, &sx, E, S, 0, S, rows);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < S; c++)
                for (int64_t q = 0; q < HWo; q++) Y[(r * S + c) * HWo + q] += b[c];
        soma_pool_forward(&pg, y2, a2, Y, rows);
        soma_pool_backward(&pg, G, a2, gp, rows);
        for (int64_t r = 0; r < rows; r++)
            for (int64_t c = 0; c < S; c++) {
                float lane[16] = {0}, acc = 0;
                for (int64_t q = 0; q < HWo; q++) lane[q & 15] += G[(r * S + c) * HWo + q];
                for (int k = 0; k < 16; k++) acc += lane[k];
                db2[c] += acc;
            }
        soma_conv3_weight_events(&bo, w2, G, &sx, S, 0, S, rows);
        /* fused */
        soma_conv3_pool2_forward(&bo, y1, a1, &sx, E, b, S, rows);
        soma_conv3_pool2_backward(&bo, w1, db1, gp, a1, &sx, S, rows);
        CHECK(memcmp(y1, y2, sizeof(float) * (size_t)(rows * Pout)) == 0);
        CHECK(memcmp(a1, a2, (size_t)(rows * Pout)) == 0);
        CHECK(memcmp(w1, w2, sizeof(float) * (size_t)(S * F)) == 0);
        CHECK(memcmp(db1, db2, sizeof(float) * (size_t)S) == 0);
        free(x), free(E), free(b), free(Y), free(G), free(gp), free(y1), free(y2), free(a1), free(a2);
        free(w1), free(w2), free(db1), free(db2), free(work), free(idx);
        op->base.ops->free(&op->base);
    }
}

/* A stacked mode's event-driven 3×3 conv + 2×2 max pool (conv_stack.c) against the general
 * path (the integrator over the GEMM conv, pooling, pool backward, the integrator's backward):
 * every mode and ablation, rank 2, per-neuron λ, channel counts that are not whole registers,
 * odd sizes, every padding, a row without spikes. Integer weights make the conv sums exact
 * in both, so the current and window indices must agree bit for bit (ties included); the
 * gradients to rounding. */
TEST(conv_stack_matches_general) {
    /* cin, h, w, pad, N, mode, ablation, rank, per-neuron λ */
    static const int cases[][9] = {
        {3, 8, 8, 1, 5, SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_NONE, 1, 0},
        {2, 7, 9, 0, 4, SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_NONE, 1, 0},
        {1, 6, 5, 2, 3, SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_NONE, 2, 1},
        {32, 14, 14, 1, 32, SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_NONE, 1, 0},
        {32, 7, 7, 1, 32, SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_NONE, 1, 0},
        {4, 6, 6, 1, 6, SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB1, 1, 0},
        {4, 6, 6, 1, 6, SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB2, 1, 0},
        {3, 6, 7, 1, 7, SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB1, 1, 0},
        {3, 6, 7, 1, 7, SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB2, 1, 0},
        {3, 6, 7, 1, 16, SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB3, 1, 0},
    };
    soma_rng rng;
    soma_rng_seed(&rng, 37);
    for (size_t ci = 0; ci < sizeof cases / sizeof cases[0]; ci++) {
        const int *k = cases[ci];
        soma_conv2d *op = soma_conv2d_create(k[0], k[1], k[2], 3, 1, k[3]);
        CHECK(op != NULL);
        if (!op) continue;
        soma_integrate_params ip = soma_net_default_config().integrate;
        ip.mode = (soma_integrate_mode)k[5], ip.ablation = (soma_ablation)k[6], ip.rank = k[7];
        ip.lambda_per_neuron = k[8] != 0, ip.shunt_k = 0.7f;
        soma_integrator it;
        CHECK(soma_integrator_init(&it, &op->base, k[4], &ip, NULL) == SOMA_OK);
        CHECK(soma_cunit_stack_ok(op, &it));
        it.x_binary = true;
        const int64_t rows = 4, M = op->base.in_dim, N = it.N, S = (int64_t)it.nblk * N, HWo = op->base.inner;
        soma_pool_geom pg;
        CHECK(soma_pool_geom_init(&pg, SOMA_POOL_MAX, N, op->ho, op->wo, 2, 2, 2, 2, NULL) == SOMA_OK);
        const int64_t Q = N * pg.ho * pg.wo;
        float *params = malloc(sizeof(float) * (size_t)it.n_params), *E = malloc(sizeof(float) * (size_t)soma_integrator_E_size(&it));
        float *x = malloc(sizeof(float) * (size_t)(rows * M)), *Y = malloc(sizeof(float) * (size_t)(rows * S * HWo));
        float *cur = malloc(sizeof(float) * (size_t)(rows * N * HWo)), *g = malloc(sizeof(float) * (size_t)(rows * N * HWo));
        float *c1 = malloc(sizeof(float) * (size_t)(rows * Q)), *c2 = malloc(sizeof(float) * (size_t)(rows * Q));
        float *gp = malloc(sizeof(float) * (size_t)(rows * Q));
        uint8_t *a1 = malloc((size_t)(rows * Q)), *a2 = malloc((size_t)(rows * Q));
        float *d1 = malloc(sizeof(float) * (size_t)(rows * M)), *d2 = malloc(sizeof(float) * (size_t)(rows * M));
        float *w1 = calloc((size_t)it.n_gws, sizeof(float)), *w2 = calloc((size_t)it.n_gws, sizeof(float));
        float *work = malloc(sizeof(float) * (size_t)soma_conv2d_work_floats(op, S));
        float *isc = malloc(sizeof(float) * (size_t)(rows * soma_integrator_scratch_per_row(&it, M)));
        float *ws = malloc(sizeof(float) * (size_t)soma_cunit_stack_floats(op, &it));
        int32_t *idx = malloc(sizeof(int32_t) * (size_t)(rows * M));
        int64_t off[5];
        soma_integrator_init_params(&it, params, &rng);
        /* small integers in W and V (exact conv sums), λ and bias as drawn (λ a little larger) */
        const char *names[8];
        int64_t offs[8], numel[8];
        int nt = soma_integrator_tensors(&it, names, offs, numel);
        for (int t = 0; t < nt; t++)
            for (int64_t i = 0; i < numel[t]; i++) {
                float *p = params + offs[t] + i;
                if (names[t][0] == 'W' || names[t][0] == 'V') *p = (float)((int)(soma_rng_uniform(&rng) * 5) - 2);
                else if (names[t][0] == 'l') *p = 0.05f + 0.1f * soma_rng_uniform(&rng);
            }
        soma_integrator_prepare(&it, E, params);
        for (int64_t i = 0; i < rows * M; i++) x[i] = soma_rng_uniform(&rng) < 0.2f ? 1.0f : 0.0f;
        for (int64_t i = 0; i < M; i++) x[M + i] = 0.0f; /* a row without spikes */
        for (int64_t i = 0; i < rows * Q; i++) gp[i] = soma_rng_normal(&rng);
        soma_spikes_build(idx, off, x, rows, M);
        soma_spikes sx = {.idx = idx, .off = off, .B = rows};
        soma_conv2d bo;
        soma_conv2d_bind(&bo, op, work);
        soma_integrator bi = it;
        bi.op = &bo.base;
        /* general path: dense conv, integration, pooling; pool backward, integrator backward */
        soma_integrator_forward(&bi, cur, Y, x, NULL, E, params, isc, rows);
        soma_pool_forward(&pg, c2, a2, cur, rows);
        soma_pool_backward(&pg, g, a2, gp, rows);
        soma_integrator_backward(&bi, d2, w2, g, Y, x, NULL, E, params, isc, rows);
        /* stacked path (Y now holds its tape) */
        soma_cunit_stack_forward(op, &it, ws, c1, a1, Y, &sx, E, params, rows);
        soma_cunit_stack_backward(op, &it, ws, d1, w1, gp, a1, Y, &sx, E, params, rows);
        CHECK(memcmp(c1, c2, sizeof(float) * (size_t)(rows * Q)) == 0);
        CHECK(memcmp(a1, a2, (size_t)(rows * Q)) == 0);
        double wd = max_rel_scaled(d1, d2, rows * M), ww = max_rel_scaled(w1, w2, it.n_gws);
        CHECK(wd < 1e-4 && ww < 1e-4);
        if (!(wd < 1e-4 && ww < 1e-4)) fprintf(stderr, "  case %zu: dx %.3g, gws %.3g\n", ci, wd, ww);
        free(params), free(E), free(x), free(Y), free(cur), free(g), free(c1), free(c2), free(gp), free(a1), free(a2);
        free(d1), free(d2), free(w1), free(w2), free(work), free(isc), free(ws), free(idx);
        op->base.ops->free(&op->base);
    }
}

/* The spike-list builder's AVX-512 kernel gives the portable one's lists at the conv layers'
 * widths (NaN counts, −0 does not). */
TEST(spikes_build_kernels_match) {
    static const int64_t dims[] = {1, 15, 16, 17, 100, 6272};
    soma_rng rng;
    soma_rng_seed(&rng, 31);
    for (size_t di = 0; di < sizeof dims / sizeof dims[0]; di++)
        for (int dens = 0; dens < 4; dens++) {
            const int64_t M = dims[di], rows = 3;
            const float p = (float[]){0.0f, 0.06f, 0.5f, 1.0f}[dens];
            float *x = malloc(sizeof(float) * (size_t)(rows * M));
            int32_t *i1 = malloc(sizeof(int32_t) * (size_t)(rows * M)), *i2 = malloc(sizeof(int32_t) * (size_t)(rows * M));
            int64_t o1[4], o2[4];
            for (int64_t i = 0; i < rows * M; i++) x[i] = soma_rng_uniform(&rng) < p ? 1.0f : 0.0f;
            if (M > 3) x[1] = -0.0f, x[2] = NAN, x[M + 3] = 0.5f;
            soma_spikes_build_kernel = 0;
            int64_t n1 = soma_spikes_build(i1, o1, x, rows, M);
            soma_spikes_build_kernel = 1;
            int64_t n2 = soma_spikes_build(i2, o2, x, rows, M);
            soma_spikes_build_kernel = 0;
            CHECK(n1 == n2 && memcmp(o1, o2, sizeof o1) == 0);
            CHECK(n1 == n2 && memcmp(i1, i2, sizeof(int32_t) * (size_t)n2) == 0);
            free(x), free(i1), free(i2);
        }
}

TEST(pool_kernels) {
    /* one 4x4 plane: max and average 2x2 */
    const float x[16] = {1, 2, 0, 0, 3, 4, 0, 5, -1, -2, 7, 7, -3, -4, 7, 6};
    soma_pool_geom g;
    CHECK(soma_pool_geom_init(&g, SOMA_POOL_MAX, 1, 4, 4, 2, 2, 2, 2, NULL) == SOMA_OK);
    float y[4], dx[16];
    uint8_t arg[4];
    soma_pool_forward(&g, y, arg, x, 1);
    CHECK(y[0] == 4 && y[1] == 5 && y[2] == -1 && y[3] == 7);
    CHECK(arg[3] == 0); /* ties go to the first pixel */
    const float dy[4] = {1, 2, 3, 4};
    soma_pool_backward(&g, dx, arg, dy, 1);
    CHECK(dx[5] == 1 && dx[7] == 2 && dx[8] == 3 && dx[10] == 4);
    double s = 0;
    for (int i = 0; i < 16; i++) s += dx[i];
    CHECK(s == 10);
    CHECK(soma_pool_geom_init(&g, SOMA_POOL_AVG, 1, 4, 4, 2, 2, 2, 2, NULL) == SOMA_OK);
    soma_pool_forward(&g, y, NULL, x, 1);
    CHECK_NEAR(y[0], 2.5, 1e-6);
    CHECK_NEAR(y[3], 6.75, 1e-6);
    soma_pool_backward(&g, dx, NULL, dy, 1);
    CHECK_NEAR(dx[0], 0.25, 1e-6);
    CHECK_NEAR(dx[15], 1.0, 1e-6);
    /* 7 -> 3 with floor, as PyTorch; oversize windows are refused */
    CHECK(soma_pool_geom_init(&g, SOMA_POOL_MAX, 2, 7, 7, 2, 2, 2, 2, NULL) == SOMA_OK && g.ho == 3);
    soma_error e = {0};
    CHECK(soma_pool_geom_init(&g, SOMA_POOL_MAX, 1, 2, 2, 3, 3, 3, 3, &e) == SOMA_E_ARG);
    CHECK_MSG(e, "does not fit");
}

/* ---- gradient checks through the net ----------------------------------------------------- */

/* 4 samples; under the sanitizers about three elements per tensor cover every path. */
static double gradcheck(const char *spec, soma_net_config cfg, const char *label) {
    return netcheck(spec, cfg, label, 4, sanitized());
}

static soma_net_config smooth_cfg(void) {
    soma_net_config c = soma_net_default_config();
    c.T = 3;
    c.chunk = 2; /* 4 samples -> 2 chunks: exercises the workspace sum */
    c.neuron.smooth_forward = true;
    c.neuron.theta = 0.5f;
    c.encoder = SOMA_ENCODE_DIRECT;
    c.integrate.lambda_init = 0.3f;
    c.integrate.shunt_scale = 0.5f;
    c.integrate.shunt_k = 1.5f;
    return c;
}

#define GC(spec, cfg, label)                                                                \
    do {                                                                                    \
        double w_ = gradcheck(spec, cfg, label);                                            \
        test_checks_++;                                                                     \
        if (!(w_ < 2e-2)) {                                                                 \
            test_failures_++;                                                               \
            fprintf(stderr, "%s:%d: gradcheck %s (%s): worst rel err %.3g\n", __FILE__, __LINE__, label, spec, w_); \
        }                                                                                   \
    } while (0)

TEST(gradcheck_conv_modes) {
    const soma_integrate_mode modes[] = {SOMA_INTEGRATE_LINEAR, SOMA_INTEGRATE_BILINEAR, SOMA_INTEGRATE_SHUNTING};
    for (int m = 0; m < 3; m++)
        for (int enc = 0; enc < 3; enc++) {
            soma_net_config c = smooth_cfg();
            c.integrate.mode = modes[m];
            /* enc 0: real-valued input (direct: the first conv runs once per sample);
             * enc 1: rate-coded binary input, dense GEMM; enc 2: the same, event-driven */
            c.encoder = enc ? SOMA_ENCODE_RATE : SOMA_ENCODE_DIRECT;
            c.sparse_max_density = enc == 2 ? 1.0f : 0.0f;
            const char *const kind[3] = {"real", "binary", "binary/event-driven"};
            char label[64];
            snprintf(label, sizeof label, "conv/%s/%s", soma_integrate_mode_name(modes[m]), kind[enc]);
            GC("1x5x5-2C3-3", c, label);
            /* a second conv fed by spikes, with the input gradient through the first */
            snprintf(label, sizeof label, "conv-conv/%s/%s", soma_integrate_mode_name(modes[m]), kind[enc]);
            GC("1x4x4-2C3-2C3p0s1-3", c, label);
        }
    soma_net_config c = smooth_cfg();
    GC("2x7x6-3C3s2p0-3", c, "stride 2, no padding");
    GC("1x6x6-2C5p2-3", c, "5x5");
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    c.integrate.rank = 2;
    GC("1x5x5-2C3-3", c, "bilinear rank 2");
    c = smooth_cfg();
    GC("1x5x5-2C3b-2C3s-3", c, "per-layer modes");
}

TEST(gradcheck_pooling) {
    soma_net_config c = smooth_cfg();
    GC("1x6x6-2C3-P2-3", c, "fused max pool");
    GC("1x6x6-2C3-A2-3", c, "fused avg pool");
    GC("1x6x6-2C3-P3-3", c, "fused max pool 3");
    /* a conv with fused max pooling behind another: its input gradient from the sparse lists */
    GC("1x8x8-2C3-2C3-P2-3", c, "sparse input gradient");
    GC("1x7x7-2C3-3C3-P2-3", c, "sparse input gradient, 3 channels");
    GC("1x6x6-2C3-2C5p2-P3-3", c, "sparse input gradient, 5x5, pool 3");
    GC("1x6x6-2C3-MP2-3", c, "standalone max pool");
    GC("1x6x6-2C3-AP2-3", c, "standalone avg pool");
    GC("1x6x6-2C3-P2-GAP-3", c, "global average pool");
    GC("1x6x6-2C3-P2-6-V2", c, "voting");
    /* rate-coded spikes into a conv with 2x2 max pooling: the fused event-driven kernels */
    c.encoder = SOMA_ENCODE_RATE;
    c.sparse_max_density = 1.0f;
    GC("1x6x6-2C3-P2-3", c, "event-driven conv + bias + max pool fused");
    GC("2x7x7-3C3p0-P2-3", c, "fused, odd size, no padding");
    c = smooth_cfg();
    c.integrate.mode = SOMA_INTEGRATE_SHUNTING;
    GC("1x6x6-2C3-P2-3", c, "shunting + max pool");
    /* rate-coded spikes into a stacked mode's conv with 2x2 max pooling (conv_stack.c; its
     * input gradient, which a first layer does not need, is checked against the general path
     * in conv_stack_matches_general: smooth-forward spikes are not binary) */
    c.encoder = SOMA_ENCODE_RATE;
    c.sparse_max_density = 1.0f;
    GC("1x6x6-2C3-P2-3", c, "shunting, event-driven conv + max pool");
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    GC("1x6x6-2C3-P2-3", c, "bilinear, event-driven conv + max pool");
    c.integrate.rank = 2, c.integrate.lambda_per_neuron = true;
    GC("2x7x6-3C3p0-P2-3", c, "bilinear rank 2, per-neuron lambda, event-driven + max pool");
}

TEST(gradcheck_batchnorm) {
    soma_net_config c = smooth_cfg();
    GC("1x5x5-2C3-BN-3", c, "BN");
    GC("1x5x5-2C3-tdBN-P2-3", c, "tdBN + pool");
    GC("1x5x5-2C3-MPBN-3", c, "MPBN");
    GC("1x5x5-2C3-2C3-BN-MPBN-3", c, "BN + MPBN after spikes");
    c.neuron.kind = SOMA_NEURON_PLIF;
    c.neuron.tau = 2.5f;
    GC("1x5x5-2C3-BN-2C3-MPBN-3", c, "PLIF + BN / MPBN");
    c = smooth_cfg();
    c.neuron.reset = SOMA_RESET_SOFT;
    GC("1x5x5-2C3-MPBN-3", c, "MPBN soft reset");
    c.integrate.mode = SOMA_INTEGRATE_BILINEAR;
    GC("1x5x5-2C3-BN-3", c, "bilinear + BN");
}

TEST(gradcheck_residual) {
    soma_net_config c = smooth_cfg();
    GC("2x4x4-Res2-3", c, "residual identity");
    GC("2x4x4-Res3s2-3", c, "residual 1x1 shortcut");
    GC("1x4x4-2C3-Res2tm-3", c, "residual tdBN + MPBN");
    c.integrate.mode = SOMA_INTEGRATE_SHUNTING;
    GC("1x4x4-2C3-Res2-3", c, "residual shunting");
}

/* ---- direct-encoding reuse, determinism ------------------------------------------------- */

static void run_grads(const char *spec, soma_net_config c, int threads, float *grads, float *logits, int64_t *n) {
    soma_set_threads(threads);
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, spec, &c, 3, NULL) == SOMA_OK);
    if (!net) return;
    enum { B = 5 };
    float x[B * 64];
    int32_t y[B];
    int64_t uid[B];
    soma_rng r;
    soma_rng_seed(&r, 9);
    for (int i = 0; i < B * 64; i++) x[i] = soma_rng_uniform(&r);
    for (int b = 0; b < B; b++) y[b] = b % 3, uid[b] = b;
    CHECK(soma_net_train_batch(net, x, y, uid, B, 1, NULL) == SOMA_OK);
    memcpy(grads, soma_net_grads(net, n), sizeof(float) * (size_t)*n);
    CHECK(soma_net_eval_batch(net, x, NULL, uid, B, 1, logits, NULL) == SOMA_OK);
    soma_net_free(net);
}

TEST(direct_reuse_matches_plain) {
    soma_net_config c = soma_net_default_config();
    c.T = 5, c.chunk = 2, c.encoder = SOMA_ENCODE_DIRECT, c.neuron.theta = 0.4f;
    static float g1[20000], g2[20000], l1[15], l2[15];
    for (int m = 0; m < 3; m++) {
        c.integrate.mode = (soma_integrate_mode)m;
        int64_t n1 = 0, n2 = 0;
        /* the first conv is static (computed once); behind a p = 0 dropout it is not */
        run_grads("1x8x8-4C3-P2-BN-3", c, 1, g1, l1, &n1);
        run_grads("1x8x8-D0-4C3-P2-BN-3", c, 1, g2, l2, &n2);
        CHECK(n1 == n2);
        CHECK(max_rel(l1, l2, 15) < 1e-4);
        double num = 0, den = 0;
        for (int64_t i = 0; i < n1; i++) num += (g1[i] - g2[i]) * (double)(g1[i] - g2[i]), den += (double)g2[i] * g2[i];
        CHECK(sqrt(num) <= 1e-4 * sqrt(den) + 1e-7);
    }
}

/* The event-driven conv (binary input as spike lists) against the GEMM, at densities 0–100 %,
 * on the first layer (rate-coded input) and the second (spikes of the first). */
TEST(event_driven_matches_dense) {
    static float g1[40000], g2[40000], l1[24], l2[24];
    const float densities[] = {0.0f, 0.05f, 0.3f, 1.0f};
    for (int m = 0; m < 3; m++)
        for (int di = 0; di < 4; di++) {
            soma_net_config c = soma_net_default_config();
            c.T = 4, c.chunk = 3, c.encoder = SOMA_ENCODE_RATE, c.neuron.theta = 0.3f;
            c.integrate.mode = (soma_integrate_mode)m;
            c.integrate.shunt_scale = 0.5f;
            soma_net *a = NULL, *b = NULL;
            enum { B = 8, M = 2 * 6 * 6 };
            float x[B * M];
            int32_t y[B];
            int64_t uid[B];
            soma_rng r;
            soma_rng_seed(&r, 11 + (uint64_t)di);
            for (int i = 0; i < B * M; i++) x[i] = soma_rng_uniform(&r) < densities[di] ? soma_rng_uniform(&r) + 0.2f : 0.0f;
            for (int i = 0; i < B; i++) y[i] = i % 3, uid[i] = i;
            c.sparse_max_density = 0.0f;
            /* odd densities: the second conv pools too (its fused event kernels) */
            const char *spec = di % 2 ? "2x6x6-4C3-P2-4C3-P2-3" : "2x6x6-4C3-P2-4C3-3";
            CHECK(soma_net_create(&a, spec, &c, 5, NULL) == SOMA_OK);
            c.sparse_max_density = 1.0f;
            CHECK(soma_net_create(&b, spec, &c, 5, NULL) == SOMA_OK);
            if (!a || !b) {
                soma_net_free(a), soma_net_free(b);
                continue;
            }
            soma_batch_stats sa, sb;
            CHECK(soma_net_train_batch(a, x, y, uid, B, 3, &sa) == SOMA_OK);
            CHECK(soma_net_train_batch(b, x, y, uid, B, 3, &sb) == SOMA_OK);
            CHECK(sa.event_chunks[0] == 0 && sb.event_chunks[0] == sb.chunks); /* paths as asked */
            if (sb.event_chunks[0] != sb.chunks) fprintf(stderr, "  mode %d density %g: %lld of %lld chunks event-driven\n", m, (double)densities[di], (long long)sb.event_chunks[0], (long long)sb.chunks);
            int64_t n = 0;
            const float *ga = soma_net_grads(a, &n), *gb = soma_net_grads(b, NULL);
            memcpy(g1, ga, sizeof(float) * (size_t)n);
            memcpy(g2, gb, sizeof(float) * (size_t)n);
            double num = 0, den = 0;
            for (int64_t i = 0; i < n; i++) num += (g1[i] - g2[i]) * (double)(g1[i] - g2[i]), den += (double)g1[i] * g1[i];
            CHECK(sqrt(num) <= 1e-5 * sqrt(den) + 1e-9);
            CHECK(soma_net_eval_batch(a, x, NULL, uid, B, 3, l1, NULL) == SOMA_OK);
            CHECK(soma_net_eval_batch(b, x, NULL, uid, B, 3, l2, NULL) == SOMA_OK);
            CHECK(max_rel(l1, l2, B * 3) < 1e-5);
            soma_net_free(a), soma_net_free(b);
        }
}

TEST(threads_bitwise) {
    soma_net_config c = soma_net_default_config();
    c.T = 4, c.chunk = 2, c.encoder = SOMA_ENCODE_RATE, c.neuron.theta = 0.3f;
    static float g1[20000], g2[20000], l1[15], l2[15];
    int64_t n1 = 0, n2 = 0;
    run_grads("1x8x8-4C3-BN-P2-4C3-MPBN-A2-3", c, 1, g1, l1, &n1);
    run_grads("1x8x8-4C3-BN-P2-4C3-MPBN-A2-3", c, 2, g2, l2, &n2);
    CHECK(n1 == n2 && memcmp(g1, g2, sizeof(float) * (size_t)n1) == 0);
    CHECK(memcmp(l1, l2, sizeof l1) == 0);
    /* the stacked modes' event-driven conv + max pool (conv_stack.c) in both convs */
    c.sparse_max_density = 1.0f, c.neuron.theta = 0.15f;
    for (int m = SOMA_INTEGRATE_BILINEAR; m <= SOMA_INTEGRATE_SHUNTING; m++) {
        c.integrate.mode = (soma_integrate_mode)m;
        run_grads("1x8x8-4C3-P2-4C3-P2-3", c, 1, g1, l1, &n1);
        run_grads("1x8x8-4C3-P2-4C3-P2-3", c, 2, g2, l2, &n2);
        CHECK(n1 == n2 && memcmp(g1, g2, sizeof(float) * (size_t)n1) == 0);
        CHECK(memcmp(l1, l2, sizeof l1) == 0);
    }
    soma_set_threads(1);
}

/* Event data: a row of T frames. Frames that all equal x must give what direct encoding of x
 * gives (which takes the static path), and the gradients must check. */
TEST(frames_encoder) {
    soma_net_config c = soma_net_default_config();
    c.T = 3, c.chunk = 2, c.neuron.theta = 0.4f;
    enum { B = 3, M = 2 * 5 * 5 };
    float x[B * M], xf[B * 3 * M], l1[B * 3], l2[B * 3];
    int32_t y[B] = {0, 1, 2};
    int64_t uid[B] = {1, 2, 3};
    soma_rng r;
    soma_rng_seed(&r, 4);
    for (int i = 0; i < B * M; i++) x[i] = soma_rng_uniform(&r);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < 3; t++) memcpy(xf + (b * 3 + t) * M, x + b * M, sizeof(float) * M);
    soma_net *nd = NULL, *nf = NULL;
    c.encoder = SOMA_ENCODE_DIRECT;
    CHECK(soma_net_create(&nd, "2x5x5-3C3-P2-3", &c, 8, NULL) == SOMA_OK);
    c.encoder = SOMA_ENCODE_FRAMES;
    CHECK(soma_net_create(&nf, "2x5x5-3C3-P2-3", &c, 8, NULL) == SOMA_OK);
    if (nd && nf) {
        CHECK(soma_net_sample_dim(nf) == 3 * M && soma_net_sample_dim(nd) == M);
        CHECK(soma_net_eval_batch(nd, x, y, uid, B, 1, l1, NULL) == SOMA_OK);
        CHECK(soma_net_eval_batch(nf, xf, y, uid, B, 1, l2, NULL) == SOMA_OK);
        CHECK(max_rel(l1, l2, B * 3) < 1e-5);
    }
    soma_net_free(nd);
    soma_net_free(nf);
    c = smooth_cfg();
    c.encoder = SOMA_ENCODE_FRAMES;
    GC("2x4x4-2C3-3", c, "frames");
}

/* ---- running statistics ----------------------------------------------------------------- */

static const float *tensor(soma_net *net, const char *name, int64_t *num) {
    for (int i = 0; i < soma_net_param_count(net); i++) {
        const char *nm;
        int64_t off;
        soma_net_param_info(net, i, &nm, &off, num);
        if (strcmp(nm, name) == 0) return soma_net_params(net, NULL) + off;
    }
    return NULL;
}

TEST(running_statistics) {
    soma_net_config c = soma_net_default_config();
    c.T = 3, c.chunk = 4, c.encoder = SOMA_ENCODE_DIRECT, c.readout = SOMA_READOUT_MEMBRANE;
    soma_net *net = NULL;
    CHECK(soma_net_create(&net, "1x6x6-2C3-BN-MPBN-P2-Res2m-3", &c, 1, NULL) == SOMA_OK);
    if (!net) return;
    int64_t n = 0, np = 0;
    soma_net_params(net, &np);
    const float *rm = tensor(net, "l0.bn0.running_mean", &n), *rv = tensor(net, "l0.bn0.running_var", &n);
    const float *mv = tensor(net, "l1.b.mpbn.running_var", &n);
    CHECK(rm && rv && mv && n == 2);
    CHECK(rm && rm - soma_net_params(net, NULL) >= np); /* state lives after the parameters */
    if (!rm || !rv || !mv) {
        soma_net_free(net);
        return;
    }
    CHECK(rm[0] == 0 && rv[0] == 1 && mv[1] == 1);
    float x[8 * 36], logits_a[8 * 3], logits_b[8 * 3];
    int32_t y[8];
    int64_t uid[8];
    for (int i = 0; i < 8 * 36; i++) x[i] = (float)((i * 37) % 11) / 10.0f;
    for (int b = 0; b < 8; b++) y[b] = b % 3, uid[b] = b;
    CHECK(soma_net_eval_batch(net, x, NULL, uid, 8, 1, logits_a, NULL) == SOMA_OK);
    CHECK(soma_net_train_batch(net, x, y, uid, 8, 1, NULL) == SOMA_OK);
    CHECK(rm[0] != 0 && rv[0] != 1 && mv[1] != 1);
    /* one batch of two chunks: running = 0.9·init + 0.1·(mean of the chunk statistics) */
    CHECK(fabsf(rm[0]) < 10 && rv[0] > 0.9f * 1.0f);
    /* inference uses them: logits change; a checkpoint keeps them */
    CHECK(soma_net_eval_batch(net, x, NULL, uid, 8, 1, logits_b, NULL) == SOMA_OK);
    CHECK(memcmp(logits_a, logits_b, sizeof logits_a) != 0);
    char path[] = "/tmp/soma_test_conv_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    soma_error e = {0};
    CHECK(soma_net_save(net, NULL, path, &e) == SOMA_OK);
    soma_net *back = NULL;
    CHECK(soma_net_load(&back, NULL, path, &e) == SOMA_OK);
    if (back) {
        const float *rm2 = tensor(back, "l0.bn0.running_mean", &n);
        CHECK(rm2 && rm2[0] == rm[0] && rm2[1] == rm[1]);
        float logits_c[8 * 3];
        CHECK(soma_net_eval_batch(back, x, NULL, uid, 8, 1, logits_c, NULL) == SOMA_OK);
        CHECK(memcmp(logits_b, logits_c, sizeof logits_b) == 0);
        soma_net_free(back);
    }
    unlink(path);
    soma_net_free(net);
}

/* ---- the notation ----------------------------------------------------------------------- */

TEST(notation) {
    soma_net_config c = soma_net_default_config();
    soma_net *net = NULL;
    soma_error e = {0};
    CHECK(soma_net_create(&net, "1x28x28-32C3-P2-32C3-P2-128-10", &c, 1, &e) == SOMA_OK);
    if (net) {
        CHECK(soma_net_layer_count(net) == 4);
        CHECK(soma_net_input_dim(net) == 784 && soma_net_output_dim(net) == 10);
        CHECK(strstr(soma_net_layer_desc(net, 0), "32x14x14") != NULL);
        CHECK(strstr(soma_net_layer_desc(net, 1), "32x7x7") != NULL);
        CHECK(strstr(soma_net_layer_desc(net, 2), "1568->128") != NULL);
        soma_net_free(net);
    }
    /* PLIF-Net (CIFAR-10) and an MPBN ResNet stage parse and build */
    c.T = 2;
    CHECK(soma_net_create(&net, "3x32x32-16C3-BN-16C3-BN-MP2-16C3-BN-MP2-D0.5-64-20-V10", &c, 1, &e) == SOMA_OK);
    soma_net_free(net);
    CHECK(soma_net_create(&net, "3x32x32-8C3-BN-MPBN-Res8m-Res16s2m-GAP-10", &c, 1, &e) == SOMA_OK);
    if (net) CHECK(strstr(soma_net_layer_desc(net, 2), "16x16x16") != NULL);
    soma_net_free(net);
    CHECK(soma_net_create(&net, "1x28x28-16C5s2p0b-A2-10", &c, 1, &e) == SOMA_OK);
    if (net) CHECK(strstr(soma_net_layer_desc(net, 0), "bilinear") && strstr(soma_net_layer_desc(net, 0), "16x6x6"));
    soma_net_free(net);
    /* bad specs: each message names the problem */
    static const char *const bad[][2] = {
        {"784-32C3-10", "needs an image"},
        {"1x28-32C3-10", "first token"},
        {"1x28x28-32C-10", "<channels>C<kernel>"},
        {"1x28x28-32C3q-10", "unknown conv suffix"},
        {"1x28x28-BN-10", "must follow a conv"},
        {"1x28x28-100-MPBN-10", "must follow a conv"},
        {"1x4x4-2C3-P8-10", "does not fit"},
        {"1x28x28-32C3-P0-10", "pooling is"},
        {"1x28x28-100-P2-10", "needs an image"},
        {"1x28x28-30-V7", "do not divide"},
        {"1x28x28-Res-10", "residual block is"},
        {"1x28x28-32C3-BN-BN-BN-BN-BN-10", "at most"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        net = NULL;
        int rc = soma_net_create(&net, bad[i][0], &c, 1, &e);
        CHECK(rc != SOMA_OK && net == NULL);
        if (!strstr(e.msg, bad[i][1])) fprintf(stderr, "  spec %s: message \"%s\"\n", bad[i][0], e.msg);
        CHECK_MSG(e, bad[i][1]);
        soma_net_free(net);
    }
}

#define RUN_T(name)                                                                         \
    do {                                                                                    \
        double t0_ = soma_now();                                                            \
        RUN(name);                                                                          \
        if (getenv("SOMA_TEST_TIMES")) printf("  %.2f s\n", soma_now() - t0_);             \
    } while (0)

int main(void) {
    /* tiny nets: one thread (OpenMP's fork/join costs more than the work; a loaded machine
     * makes it far worse). threads_bitwise runs its own 2-thread case. */
    soma_set_threads(1);
    RUN_T(conv_fast_matches_reference);
    RUN_T(conv_sparse_input_grad);
    RUN_T(conv3_pool2_fused_bitwise);
    RUN_T(conv_stack_matches_general);
    RUN_T(spikes_build_kernels_match);
    RUN_T(pool_kernels);
    RUN_T(notation);
    RUN_T(gradcheck_conv_modes);
    RUN_T(gradcheck_pooling);
    RUN_T(gradcheck_batchnorm);
    RUN_T(gradcheck_residual);
    RUN_T(direct_reuse_matches_plain);
    RUN_T(event_driven_matches_dense);
    RUN_T(threads_bitwise);
    RUN_T(running_statistics);
    RUN_T(frames_encoder);
    return test_report("test_conv");
}
