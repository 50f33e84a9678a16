/*
 * tests/test_kernels.c — Soma's exp (kernels/expf.h): accurate against libm's expf, the array
 * version bit for bit the scalar one (every tail length, in place), and the shunting gates
 * built on it: the integrator's in-place forward against the recommender's combine and the
 * scalar formula the exporter uses (src/export/model.c), for every ablation. The dense
 * synapse's event kernels folded over time (synapse/dense_fold.c, both the AVX-512 tiles and
 * the portable kernel) bit for bit the per-row gather, and its per-sample weight gradient bit
 * for bit the sum-then-add formula, at input densities 0 %..100 %. The spike-list encoder
 * (encode/encode.c, with and without its AVX-512 kernels) gives exactly soma_encode's spikes,
 * and so do the dense rows it makes from its folds; its rate test is the float comparison, and
 * its vector generator decides every draw as the scalar one does, even at the bound.
 * soma_spikes_build's AVX-512 lists are the portable ones. Bilinear's gradient (its ∂λ chains
 * run side by side) bit for bit the one-chain-per-row formula. The dense synapse's subset-table
 * kernels for dense binary input (synapse/dense_bits.c) against the double-precision reference,
 * forward and weight gradient, at densities 0..100 %, input and output counts with tails, and
 * the binary check that decides whether they run (the kernels themselves take any width).
 */
#include "test.h"

#include "encode/encode.h"
#include "encode/encode_fold.h"
#include "integrate/integrate.h"
#include "kernels/expf.h"
#include "synapse/dense_bits.h"
#include "synapse/dense_fold.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static bool same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b)); }

/* Every 9973rd bit pattern of the 2^32 floats: within [−87, 88] at most 2 ulp from libm (whose
 * expf is within 1 ulp of e^x), clamped outside, NaN for NaN; the array version equal to the
 * scalar one everywhere. */
TEST(test_expf_accuracy) {
    enum { BL = 4096 };
    static float in[BL], out[BL];
    int64_t bad = 0, n = 0, diff = 0;
    double worst = 0;
    uint64_t b = 0;
    while (b < (1ULL << 32)) {
        int m = 0;
        for (; m < BL && b < (1ULL << 32); m++, b += 9973) {
            uint32_t u = (uint32_t)b;
            memcpy(&in[m], &u, sizeof u);
        }
        soma_expf_n(out, in, m);
        for (int i = 0; i < m; i++) {
            const float x = in[i], e = soma_expf1(x);
            diff += !same_bits(out[i], e);
            if (isnan(x)) {
                bad += !isnan(e);
            } else if (x < -87.0f || x > 88.0f) {
                bad += !same_bits(e, soma_expf1(x < 0 ? -87.0f : 88.0f));
            } else {
                const double want = exp((double)x), ulp = (double)nextafterf((float)want, INFINITY) - (double)(float)want;
                const double err = fabs((double)e - want) / ulp;
                worst = err > worst ? err : worst;
            }
        }
        n += m;
    }
    printf("  %lld inputs; worst error in [-87, 88]: %.2f ulp\n", (long long)n, worst);
    CHECK(bad == 0 && diff == 0);
    CHECK(worst < 2.0);
    CHECK(soma_expf1(0.0f) == 1.0f && soma_expf1(-0.0f) == 1.0f);
    CHECK(fabsf(soma_expf1(1.0f) - 2.71828183f) <= 2.4e-7f);
    const float sp[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 1e-45f, -1e-45f, 3.4e38f, -3.4e38f, 1.0f, -1.0f, 0.5f, 88.0f, -87.0f};
    enum { NS = sizeof sp / sizeof *sp };
    for (int len = 0; len <= 40; len++) { /* every tail length, in place */
        float a[40], ref[40];
        for (int i = 0; i < len; i++) a[i] = i % 3 == 0 ? sp[i % NS] : -60.0f + 3.7f * (float)i, ref[i] = soma_expf1(a[i]);
        soma_expf_n(a, a, len);
        for (int i = 0; i < len; i++) bad += !same_bits(a[i], ref[i]);
    }
    CHECK(bad == 0);
}

/* Forward (gates written into Y) and combine (Y untouched) give the same current, which is the
 * exporter's per-neuron formula b + a₊·σ(k·z_p) (+ a₋·σ(k·z_n) | + a₋), operation for operation. */
static float xsigm(float z) { return 1.0f / (1.0f + soma_expf1(-z)); }

TEST(test_shunting_forward_is_combine) {
    enum { K = 5, N = 37, ROWS = 7 };
    const soma_ablation abl[] = {SOMA_ABLATION_NONE, SOMA_ABLATION_AB1, SOMA_ABLATION_AB2, SOMA_ABLATION_AB3};
    for (int ai = 0; ai < 4; ai++) {
        soma_synop *op = soma_dense_create(K);
        soma_integrate_params ip = soma_integrate_default_params();
        ip.mode = SOMA_INTEGRATE_SHUNTING, ip.ablation = abl[ai], ip.shunt_k = 1.7f;
        soma_integrator it;
        soma_error err = {0};
        CHECK(soma_integrator_init(&it, op, N, &ip, &err) == SOMA_OK);
        const int64_t S = it.nblk * N;
        float *params = calloc((size_t)it.n_params, sizeof(float));
        float *Y = malloc(sizeof(float) * (size_t)(ROWS * S)), *Y0 = malloc(sizeof(float) * (size_t)(ROWS * S));
        float c1[ROWS * N], c2[ROWS * N];
        srand(7 + ai);
        for (int64_t i = 0; i < ROWS * S; i++) Y[i] = 40.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
        Y[3] = 95.0f, Y[S - 2] = -120.0f, Y[S + 5] = NAN; /* expf's special cases in some gates */
        for (int64_t i = 0; i < N; i++) params[it.ob + i] = (float)rand() / (float)RAND_MAX - 0.5f;
        memcpy(Y0, Y, sizeof(float) * (size_t)(ROWS * S));
        soma_shunting_combine(&it, c1, Y, params, ROWS);
        CHECK(memcmp(Y, Y0, sizeof(float) * (size_t)(ROWS * S)) == 0);
        soma_shunting_forward(&it, c2, Y, params, ROWS);
        int bad = 0;
        for (int64_t r = 0; r < ROWS; r++)
            for (int64_t j = 0; j < N; j++) {
                const float *y = Y0 + r * S, *b = params + it.ob, k = ip.shunt_k;
                float c = b[j];
                switch (abl[ai]) {
                case SOMA_ABLATION_AB1:
                case SOMA_ABLATION_AB3: c += y[j] * xsigm(k * y[N + j]); break;
                case SOMA_ABLATION_AB2: c += y[j] * xsigm(k * y[2 * N + j]), c += y[N + j]; break;
                default: c += y[j] * xsigm(k * y[2 * N + j]), c += y[N + j] * xsigm(k * y[3 * N + j]); break;
                }
                bad += !same_bits(c1[r * N + j], c) || !same_bits(c2[r * N + j], c);
                /* the gate blocks now hold σ(k·z) */
                const int g0 = abl[ai] == SOMA_ABLATION_NONE || abl[ai] == SOMA_ABLATION_AB2 ? 2 : 1;
                bad += !same_bits(Y[r * S + g0 * N + j], xsigm(k * y[g0 * N + j]));
                if (abl[ai] == SOMA_ABLATION_NONE) bad += !same_bits(Y[r * S + 3 * N + j], xsigm(k * y[3 * N + j]));
            }
        CHECK(bad == 0);
        free(params), free(Y), free(Y0);
        op->ops->free(op);
    }
}

/* Bilinear's gradient on a dense operator with one λ (integrate/bilinear.c runs several rows'
 * ∂λ chains side by side) bit for bit the formula: G = [g | 2λ·g⊙p_f | −λ·g], and ∂λ += one
 * float chain Σ_i g(p_f² − q_f) per row and f, in row order, f within a row. Row counts that
 * are not a multiple of the row group, rank 1..3, with and without W·x (ab2), P across the
 * kernel's column chunk. */
TEST(test_bilinear_grad_bitwise) {
    const int64_t Ns[] = {5, 37, 300}, rows_of[] = {1, 13, 16};
    for (int ci = 0; ci < 3; ci++)
        for (int R = 1; R <= 3; R++)
            for (int ab = 0; ab < 2; ab++) {
                const int64_t N = Ns[ci], ROWS = rows_of[ci];
                soma_synop *op = soma_dense_create(3);
                soma_integrate_params ip = soma_integrate_default_params();
                ip.mode = SOMA_INTEGRATE_BILINEAR, ip.rank = R, ip.lambda_init = 0.37f;
                ip.ablation = ab ? SOMA_ABLATION_AB2 : SOMA_ABLATION_NONE;
                soma_integrator it;
                soma_error err = {0};
                CHECK(soma_integrator_init(&it, op, N, &ip, &err) == SOMA_OK);
                const int64_t S = it.nblk * N;
                float *params = calloc((size_t)it.n_params, sizeof(float));
                float *Y = malloc(sizeof(float) * (size_t)(ROWS * S)), *G = malloc(sizeof(float) * (size_t)(ROWS * S));
                float *g = malloc(sizeof(float) * (size_t)(ROWS * N)), *gws = calloc((size_t)it.n_gws, sizeof(float));
                srand(11 + ci * 7 + R + ab);
                for (int64_t i = 0; i < ROWS * S; i++) Y[i] = 4.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
                for (int64_t i = 0; i < ROWS * N; i++) g[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                params[it.olam] = ip.lambda_init;
                gws[it.glam] = 0.25f;
                soma_bilinear_grad(&it, G, gws, g, Y, params, ROWS);
                const float l = ip.lambda_init;
                const int w = ab ? 0 : 1;
                float dl = 0.25f;
                int bad = 0;
                for (int64_t r = 0; r < ROWS; r++) {
                    const float *gr = g + r * N;
                    if (w)
                        for (int64_t i = 0; i < N; i++) bad += !same_bits(G[blk_off(&it, r, 0) + i], gr[i]);
                    for (int f = 0; f < R; f++) {
                        const float *p = Y + blk_off(&it, r, w + f), *q = Y + blk_off(&it, r, w + R + f);
                        float c = 0.0f;
                        for (int64_t i = 0; i < N; i++) {
                            bad += !same_bits(G[blk_off(&it, r, w + f) + i], 2.0f * l * gr[i] * p[i]);
                            bad += !same_bits(G[blk_off(&it, r, w + R + f) + i], -l * gr[i]);
                            c += gr[i] * (p[i] * p[i] - q[i]);
                        }
                        dl += c;
                    }
                }
                CHECK(bad == 0);
                CHECK(same_bits(gws[it.glam], dl));
                free(params), free(Y), free(G), free(g), free(gws);
                op->ops->free(op);
            }
}


/* The weight gradient as the per-sample formula defines it: for each input k of sample b and
 * each output, the sum of G over k's spike times in ascending order, from +0, added once to
 * dE (under 16 outputs: G added spike by spike). */
static void weight_grad_ref(float *dE, const float *G, const float *x, int64_t M, int64_t S, int64_t c0,
                            int64_t nc, int64_t T, int64_t B) {
    for (int64_t b = 0; b < B; b++)
        for (int64_t k = 0; k < M; k++)
            for (int64_t c = c0; c < c0 + nc; c++) {
                float acc = 0.0f;
                for (int64_t t = 0; t < T; t++)
                    if (x[(t * B + b) * M + k] != 0.0f) {
                        if (nc >= 16) acc += G[(t * B + b) * S + c];
                        else dE[k * S + c] += G[(t * B + b) * S + c];
                    }
                if (nc >= 16) dE[k * S + c] += acc; /* +0 too: the kernel adds it */
            }
}

TEST(test_dense_folded) {
    /* (S, c0, nc): narrow, one block, blocks + tail, > 8 blocks (bilinear, shunting widths) */
    const int64_t shapes[][3] = {{10, 0, 10}, {16, 0, 16}, {20, 0, 20}, {100, 0, 100}, {300, 0, 300},
                                 {300, 200, 100}, {400, 0, 400}, {90, 60, 30}, {130, 0, 130}};
    const int64_t Ts[] = {1, 2, 5, 20, 33, 64}, Bs[] = {1, 7}, Ms[] = {37, 100};
    const float dens[] = {0.0f, 0.05f, 0.3f, 0.6f, 1.0f};
    srand(11);
    int bad = 0, runs = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
        for (int ti = 0; ti < 6; ti++)
            for (int bi = 0; bi < 2; bi++)
                for (int mi = 0; mi < 2; mi++)
                    for (int di = 0; di < 5; di++) {
                        const int64_t S = shapes[si][0], c0 = shapes[si][1], nc = shapes[si][2];
                        const int64_t T = Ts[ti], B = Bs[bi], M = Ms[mi], rows = T * B;
                        if ((T > 5 && (mi || S > 100)) || (T == 64 && B > 1)) continue; /* keep it quick */
                        float *x = malloc(sizeof(float) * (size_t)(rows * M));
                        float *E = malloc(sizeof(float) * (size_t)(M * S));
                        float *G = malloc(sizeof(float) * (size_t)(rows * S));
                        float *Y[5], *dE[3];
                        for (int i = 0; i < 5; i++) Y[i] = malloc(sizeof(float) * (size_t)(rows * S));
                        for (int i = 0; i < 3; i++) dE[i] = malloc(sizeof(float) * (size_t)(M * S));
                        int32_t *idx = malloc(sizeof(int32_t) * (size_t)(rows * M + 1)), *touched = malloc(sizeof(int32_t) * (size_t)M);
                        int64_t *off = malloc(sizeof(int64_t) * (size_t)(rows + 1));
                        uint64_t *mask = calloc((size_t)M, sizeof(uint64_t));
                        for (int64_t i = 0; i < rows * M; i++) x[i] = (float)rand() / (float)RAND_MAX < dens[di] ? 1.0f : 0.0f;
                        for (int64_t i = 0; i < M * S; i++) E[i] = 2.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
                        for (int64_t i = 0; i < rows * S; i++) G[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                        E[3] = -0.0f, E[S + 1] = 1e-42f, E[M * S - 1] = -3e38f; /* −0, a subnormal, a huge one */
                        soma_spikes_build(idx, off, x, rows, M);
                        soma_synop *op = soma_dense_create(M);
                        soma_spikes plain = {.idx = idx, .off = off, .B = B};
                        soma_spikes fold = {.idx = idx, .off = off, .B = B, .mask = mask, .touched = touched};
                        /* the same spikes folded over time, as the encoder hands them on */
                        int32_t *fk = malloc(sizeof(int32_t) * (size_t)(B * M + 1));
                        uint64_t *fm = malloc(sizeof(uint64_t) * (size_t)(B * M + 1));
                        int64_t foff[8], nf = 0;
                        for (int64_t b = 0; b < B; b++) {
                            foff[b] = nf;
                            for (int64_t k = 0; k < M; k++) {
                                uint64_t m = 0;
                                for (int64_t t = 0; t < T; t++) m |= (uint64_t)(x[(t * B + b) * M + k] != 0.0f) << t;
                                if (m) fk[nf] = (int32_t)k, fm[nf++] = m;
                            }
                        }
                        foff[B] = nf;
                        soma_spikes folds = fold;
                        folds.fk = fk, folds.fm = fm, folds.foff = foff;
                        for (int i = 0; i < 5; i++) memset(Y[i], 0x7f, sizeof(float) * (size_t)(rows * S)); /* untouched: NaN-free pattern */
                        op->ops->forward(op, Y[0], x, &plain, E, S, c0, nc, rows); /* per-row gather */
                        /* without complementing (evaluation): the gather's bits */
                        for (int i = 1; i < 5; i++) {
                            soma_dense_fold_kernel = (i - 1) & 1;
                            op->ops->forward(op, Y[i], x, i < 3 ? &fold : &folds, E, S, c0, nc, rows);
                            bad += memcmp(Y[0], Y[i], sizeof(float) * (size_t)(rows * S)) != 0;
                        }
                        fold.complement = folds.complement = true; /* training */
                        for (int i = 1; i < 5; i++) {
                            soma_dense_fold_kernel = (i - 1) & 1;
                            op->ops->forward(op, Y[i], x, i < 3 ? &fold : &folds, E, S, c0, nc, rows);
                            /* both kernels, from lists or folds: the same bits */
                            if (i > 1) bad += memcmp(Y[1], Y[i], sizeof(float) * (size_t)(rows * S)) != 0;
                        }
                        /* against the gather: float rounding of sums that may include the sample's
                         * every active row (the complemented inputs' base row) */
                        for (int64_t b = 0; b < B; b++)
                            for (int64_t c = 0; c < S; c++) {
                                double mag = 0;
                                for (int64_t k = 0; k < M; k++) {
                                    bool on = false;
                                    for (int64_t t = 0; t < T; t++) on |= x[(t * B + b) * M + k] != 0.0f;
                                    if (on) mag += fabs(E[k * S + c]);
                                }
                                for (int64_t t = 0; t < T; t++) {
                                    const int64_t r = (t * B + b) * S + c;
                                    if (c < c0 || c >= c0 + nc) bad += memcmp(&Y[0][r], &Y[1][r], sizeof(float)) != 0;
                                    else bad += !(fabs((double)Y[1][r] - Y[0][r]) <= 1.2e-7 * (double)(M + T) * mag);
                                }
                            }
                        soma_dense_fold_kernel = 0;
                        for (int i = 0; i < 3; i++)
                            for (int64_t j = 0; j < M * S; j++) dE[i][j] = (float)(j % 7) * 0.25f;
                        if (T <= 64) {
                            op->ops->backward_weight(op, dE[0], G, x, &fold, S, c0, nc, rows);
                            op->ops->backward_weight(op, dE[2], G, x, &folds, S, c0, nc, rows);
                            weight_grad_ref(dE[1], G, x, M, S, c0, nc, T, B);
                            /* from lists or folds: the same bits; against the reference: float
                             * rounding of sums that may run over every step (complemented inputs) */
                            bad += memcmp(dE[0], dE[2], sizeof(float) * (size_t)(M * S)) != 0;
                            for (int64_t c = 0; c < S; c++) {
                                double mag = 0;
                                for (int64_t r = 0; r < rows; r++) mag += fabs(G[r * S + c]);
                                for (int64_t k = 0; k < M; k++) {
                                    const double ref = dE[1][k * S + c], got = dE[0][k * S + c];
                                    if (c < c0 || c >= c0 + nc) bad += got != ref;
                                    else bad += !(fabs(got - ref) <= 1.2e-7 * (double)(T + 2) * (mag + fabs(ref)));
                                }
                            }
                        }
                        for (int64_t k = 0; k < M; k++) bad += mask[k] != 0; /* left zeroed */
                        runs++;
                        op->ops->free(op);
                        free(x), free(E), free(G), free(idx), free(touched), free(off), free(mask), free(fk), free(fm);
                        for (int i = 0; i < 5; i++) free(Y[i]);
                        for (int i = 0; i < 3; i++) free(dE[i]);
                    }
    CHECK(runs > 100);
    CHECK(bad == 0);
}

/* The rate bound: h <= bound(p) exactly when soma_u01(h) < p, for p at and next to the 2⁻²⁴
 * grid, subnormal, 1 and above, against draws at and next to it. */
TEST(test_rate_bound) {
    srand(5);
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        const uint64_t U = (uint64_t)rand() % (1u << 24);
        float p;
        switch (i % 6) {
        case 0: p = (float)U / 16777216.0f; break;
        case 1: p = nextafterf((float)U / 16777216.0f, 1.0f); break;
        case 2: p = nextafterf((float)U / 16777216.0f, 0.0f); break;
        case 3: p = (float)rand() / (float)RAND_MAX; break;
        case 4: p = i % 12 == 4 ? 1e-42f : 1.0f; break;
        default: p = 1.0f + (float)rand() / (float)RAND_MAX; break;
        }
        if (!(p > 0.0f)) continue;
        for (int d = -1; d <= 1; d++) {
            const uint64_t u = (U + (uint64_t)d) & 0xffffff;
            const uint64_t h = u << 40 | ((uint64_t)rand() << 20 ^ (uint64_t)rand()) % (1ULL << 40);
            bad += (h <= soma_rate_bound(p)) != (soma_u01(h) < p);
        }
    }
    CHECK(bad == 0);
}

/* The vector generator against soma_wymix on every lane and tail: bounds set just below and
 * just above each draw's top 24 bits, so any difference in them shows. */
TEST(test_rate_masks_avx512) {
    if (!soma_encode_have_avx512()) return;
    srand(6);
    int bad = 0;
    for (int n = 0; n <= 37; n++)
        for (int above = 0; above < 2; above++) {
            uint64_t st[3], fm[40], want[40];
            for (int t = 0; t < 3; t++) st[t] = (uint64_t)rand() << 42 ^ (uint64_t)rand() << 21 ^ (uint64_t)rand();
            for (int i = 0; i < n; i++) {
                const uint64_t U = soma_wymix(st[0] + (uint64_t)(i + 1) * RATE_INC) >> 40;
                fm[i] = ((U + (uint64_t)above) << 40) - 1; /* passes exactly when above */
                want[i] = (uint64_t)above;
                for (int t = 1; t < 3; t++)
                    want[i] |= (uint64_t)(soma_wymix(st[t] + (uint64_t)(i + 1) * RATE_INC) <= fm[i]) << t;
            }
            fm[n] = 12345;
            soma_rate_masks_avx512(fm, n, st, 3);
            for (int i = 0; i < n; i++) bad += fm[i] != want[i];
            bad += fm[n] != 12345; /* nothing written past n */
        }
    CHECK(bad == 0);
}

/* soma_encode_spikes (AVX-512 and portable) against soma_encode: the lists, and the folds are
 * the lists' spikes, at all densities, odd widths and T up to 64 (and past: lists only). */
TEST(test_encode_spikes_bitwise) {
    const int Ts[] = {1, 2, 5, 20, 33, 64, 65};
    const int64_t Ms[] = {1, 15, 16, 17, 37, 784}, Bs[] = {1, 3};
    const float dens[] = {0.0f, 0.1f, 0.5f, 1.0f};
    srand(7);
    int bad = 0, runs = 0;
    for (int e = 0; e < 2; e++)
        for (int ti = 0; ti < 7; ti++)
            for (int mi = 0; mi < 6; mi++)
                for (int bi = 0; bi < 2; bi++)
                    for (int di = 0; di < 4; di++) {
                        const soma_encoder enc = e ? SOMA_ENCODE_LATENCY : SOMA_ENCODE_RATE;
                        const int T = Ts[ti];
                        const int64_t M = Ms[mi], B = Bs[bi], rows = (int64_t)T * B;
                        float *x = malloc(sizeof(float) * (size_t)(B * M));
                        float *want = malloc(sizeof(float) * (size_t)(rows * M)), *got = malloc(sizeof(float) * (size_t)(rows * M));
                        int32_t *idx = malloc(sizeof(int32_t) * (size_t)(rows * M + 1)), *fk = malloc(sizeof(int32_t) * (size_t)(B * M));
                        uint64_t *fm = malloc(sizeof(uint64_t) * (size_t)(B * M));
                        int64_t *off = malloc(sizeof(int64_t) * (size_t)(rows + 1)), foff[4];
                        const int64_t uid[3] = {11, 5, 123456789};
                        for (int64_t i = 0; i < B * M; i++) {
                            const float r = (float)rand() / (float)RAND_MAX;
                            /* a third of the active inputs saturated (they spike without drawing) */
                            x[i] = (float)rand() / (float)RAND_MAX < dens[di] ? (rand() % 3 ? r : 1.0f) : 0.0f;
                        }
                        if (B * M > 8) /* NaN: soma_encode's latency code spikes on it, the lists skip it */
                            x[1] = 1.0f, x[3] = 1e-42f, x[5] = -0.5f, x[6] = e ? 0.25f : NAN, x[7] = 3.0f, x[8] = INFINITY;
                        soma_encode(enc, want, x, uid, T, B, M, 99);
                        for (int k = 0; k < 2; k++) {
                            soma_encode_kernel = k;
                            const int64_t n = soma_encode_spikes(enc, idx, off, x, uid, T, B, M, 99, fk, fm, foff);
                            soma_spikes_densify(got, idx, off, rows, M);
                            bad += memcmp(want, got, sizeof(float) * (size_t)(rows * M)) != 0;
                            bad += n != off[rows];
                            if (T > 64) continue;
                            int64_t nf = 0; /* the folds: ascending, nonzero, exactly the spikes */
                            for (int64_t b = 0; b < B; b++)
                                for (int64_t j = foff[b]; j < foff[b + 1]; j++) {
                                    bad += fm[j] == 0 || (j > foff[b] && fk[j] <= fk[j - 1]);
                                    for (int t = 0; t < T; t++)
                                        bad += (int)((fm[j] >> t) & 1) != (want[((int64_t)t * B + b) * M + fk[j]] != 0.0f);
                                    nf += __builtin_popcountll(fm[j]);
                                }
                            bad += nf != n;
                            /* the dense rows straight from the folds */
                            uint64_t *dm = calloc((size_t)M, sizeof *dm);
                            bad += soma_encode_folds(enc, x, uid, T, B, M, 99, fk, fm, foff) != n;
                            memset(got, 0x7f, sizeof(float) * (size_t)(rows * M));
                            soma_folds_densify(got, fk, fm, foff, T, B, M, dm);
                            bad += memcmp(want, got, sizeof(float) * (size_t)(rows * M)) != 0;
                            for (int64_t i = 0; i < M; i++) bad += dm[i] != 0; /* left zeroed */
                            free(dm);
                        }
                        soma_encode_kernel = 0;
                        runs++;
                        free(x), free(want), free(got), free(idx), free(fk), free(fm), free(off);
                    }
    CHECK(runs > 300);
    CHECK(bad == 0);
}

/* soma_spikes_build (AVX-512 and portable) against the naive lists: every width to 70 (tails),
 * densities 0..100 %, NaN counted, −0 not. */
TEST(test_spikes_build_bitwise) {
    srand(8);
    int bad = 0;
    for (int64_t M = 1; M <= 70; M++)
        for (int di = 0; di <= 4; di++) {
            const int64_t rows = 3;
            float x[3 * 70];
            int32_t idx[2][3 * 70 + 1], want[3 * 70];
            int64_t off[2][4], woff[4], n = 0;
            for (int64_t i = 0; i < rows * M; i++) {
                const int r = rand() % 4;
                x[i] = (float)rand() / (float)RAND_MAX < 0.25f * (float)di ? (r == 0 ? NAN : r == 1 ? -2.5f : 1.0f)
                                                                            : (r == 0 ? -0.0f : 0.0f);
            }
            for (int64_t r = 0; r < rows; r++) {
                woff[r] = n;
                for (int64_t k = 0; k < M; k++)
                    if (x[r * M + k] != 0.0f) want[n++] = (int32_t)k;
            }
            woff[rows] = n;
            for (int k = 0; k < 2; k++) {
                soma_spikes_build_kernel = k;
                bad += soma_spikes_build(idx[k], off[k], x, rows, M) != n;
                bad += memcmp(off[k], woff, sizeof woff) != 0 || memcmp(idx[k], want, sizeof(int32_t) * (size_t)n) != 0;
            }
            soma_spikes_build_kernel = 0;
        }
    CHECK(bad == 0);
}

/* Subset tables against the reference: |error| within a few float ulps of the sum of
 * magnitudes; the weight gradient is added onto what dE held. Rows of all zeros and all ones
 * included (densities 0 and 100 %); inputs past a block's end (M % 16) never counted. */
TEST(test_dense_bits) {
    static const float zeros[64 * 64];
    if (!soma_dense_bits_apply(zeros, 64, 64, 64)) {
        printf("  (no AVX-512: the table kernels do not run here)\n");
        return;
    }
    srand(12);
    const int64_t Ms[] = {16, 37, 100, 784}, ncs[] = {1, 10, 16, 64, 100, 150};
    int bad = 0, runs = 0;
    for (int mi = 0; mi < 4; mi++)
        for (int ni = 0; ni < 6; ni++)
            for (int di = 0; di <= 4; di++) {
                const int64_t M = Ms[mi], nc = ncs[ni], c0 = ni % 2 ? 3 : 0, S = nc + c0 + 5, rows = 16 + 7 * di;
                float *x = malloc(sizeof(float) * (size_t)(rows * M)), *E = malloc(sizeof(float) * (size_t)(M * S));
                float *Y = malloc(sizeof(float) * (size_t)(rows * S)), *Yr = malloc(sizeof(float) * (size_t)(rows * S));
                float *G = malloc(sizeof(float) * (size_t)(rows * S));
                float *dE = malloc(sizeof(float) * (size_t)(M * S)), *dEr = malloc(sizeof(float) * (size_t)(M * S));
                for (int64_t i = 0; i < rows * M; i++) x[i] = (float)rand() / (float)RAND_MAX < 0.25f * (float)di ? 1.0f : 0.0f;
                for (int64_t i = 0; i < M * S; i++) E[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                for (int64_t i = 0; i < rows * S; i++) G[i] = (float)rand() / (float)RAND_MAX - 0.5f;
                for (int64_t i = 0; i < M * S; i++) dE[i] = dEr[i] = 0.25f;
                for (int64_t i = 0; i < rows * S; i++) Y[i] = Yr[i] = 7.0f; /* outside [c0, c0 + nc): kept */
                bad += soma_dense_bits_apply(x, rows, M, nc) != (nc >= 64 && M >= 64); /* smaller: the GEMM */
                soma_dense_forward_bits(Y, x, E, S, M, c0, nc, rows);
                soma_dense_forward_ref(Yr, x, E, M, S, c0, nc, rows);
                soma_dense_backward_weight_bits(dE, G, x, S, M, c0, nc, rows);
                soma_dense_backward_weight_ref(dEr, G, x, M, S, c0, nc, rows);
                const float tol = 1e-6f * (float)(M + rows);
                for (int64_t i = 0; i < rows * S; i++) bad += !(fabsf(Y[i] - Yr[i]) <= tol);
                for (int64_t i = 0; i < M * S; i++) bad += !(fabsf(dE[i] - dEr[i]) <= tol);
                x[rows * M / 2] = 0.5f; /* one analogue value: the GEMM's job */
                bad += soma_dense_bits_apply(x, rows, M, nc);
                free(x), free(E), free(Y), free(Yr), free(G), free(dE), free(dEr);
                runs++;
            }
    soma_dense_bits_kernel = 1;
    bad += soma_dense_bits_apply(zeros, 64, 64, 64);
    soma_dense_bits_kernel = 0;
    CHECK(runs == 120);
    CHECK(bad == 0);
}

int main(void) {
    RUN(test_expf_accuracy);
    RUN(test_shunting_forward_is_combine);
    RUN(test_bilinear_grad_bitwise);
    RUN(test_dense_folded);
    RUN(test_dense_bits);
    RUN(test_spikes_build_bitwise);
    RUN(test_rate_bound);
    RUN(test_rate_masks_avx512);
    RUN(test_encode_spikes_bitwise);
    return test_report("test_kernels");
}
