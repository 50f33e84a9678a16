/*
 * tests/test_kernels.c — Soma's exp (kernels/expf.h): accurate against libm's expf, the array
 * version bit for bit the scalar one (every tail length, in place), and the shunting gates
 * built on it: the integrator's in-place forward against the recommender's combine and the
 * scalar formula the exporter uses (src/export/model.c), for every ablation.
 */
#include "test.h"

#include "integrate/integrate.h"
#include "kernels/expf.h"

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

int main(void) {
    RUN(test_expf_accuracy);
    RUN(test_shunting_forward_is_combine);
    return test_report("test_kernels");
}
