/*
 * tests/test_export.c — the C exporter: its in-process twin reproduces Soma's evaluation
 * (encoder, every layer's spikes and membranes, logits) bit for bit on the event-driven path
 * and to rounding elsewhere; and the generated C99 compiles with -std=c99 -Wall -Wextra
 * -Werror -pedantic -ffreestanding, runs (tests/export_harness.c) on test images and
 * matches soma eval exactly in float mode and within the reported accuracy drop in int8
 * mode, for LIF, bilinear and shunting nets plus recurrent, dropout, latency/direct
 * encoding, ablations and membrane readouts. Needs a C compiler (cc or $CC); the compile
 * round trips are skipped with a message without one.
 */
#include "soma.h"
#include "export/export_internal.h" /* soma_xfloat_lit */
#include "soma/export.h"
#include "soma/inspect.h"
#include "test.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static bool sanitized(void) { return getenv("SOMA_SANITIZED") != NULL; }

/* A synthetic image-like data set: each class is a sparse prototype in [0, 1]^M plus noise. */
static void synth(soma_dataset *d, int64_t n, int M, int C, uint64_t seed) {
    memset(d, 0, sizeof *d);
    d->n = n, d->dim = M, d->c = 1, d->h = 1, d->w = M, d->n_classes = C;
    d->x = soma_malloc(sizeof(float) * (size_t)(n * M));
    d->y = soma_malloc(sizeof(int32_t) * (size_t)n);
    soma_rng proto, r;
    soma_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        int c = (int)soma_rng_below(&r, (uint32_t)C);
        d->y[i] = c;
        soma_rng_seed(&proto, 1000 + (uint64_t)c);
        for (int j = 0; j < M; j++) {
            float p = soma_rng_uniform(&proto) < 0.3f ? 0.4f + 0.6f * soma_rng_uniform(&proto) : 0.0f;
            float v = p + 0.25f * (soma_rng_uniform(&r) - 0.5f);
            d->x[i * M + j] = v < 0.05f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
}

static void train_briefly(soma_net *net, const soma_dataset *d, int steps) {
    int64_t np;
    float *p = soma_net_params(net, &np), *g = soma_net_grads(net, NULL);
    soma_optim_params op = soma_optim_default_params();
    op.lr = 5e-3f;
    soma_optim *opt = soma_optim_create(&op, np);
    enum { B = 32 };
    int64_t uid[B];
    for (int s = 0; s < steps; s++) {
        int64_t first = (int64_t)(s * B) % (d->n - B);
        for (int b = 0; b < B; b++) uid[b] = first + b;
        CHECK(soma_net_train_batch(net, d->x + first * d->dim, d->y + first, uid, B, (uint64_t)s, NULL) == SOMA_OK);
        soma_optim_step(opt, p, g, op.lr);
    }
    soma_optim_free(opt);
}

typedef struct net_case {
    const char *name, *spec;
    soma_integrate_mode mode;
    soma_ablation ab;
    soma_encoder enc;
    soma_readout ro;
    soma_neuron_kind kind;
    soma_reset reset;
    int rank;
    bool per_neuron;
    bool exact; /* Soma runs every layer event-driven: bitwise equality expected */
} net_case;

static const net_case cases[] = {
    {"lif", "24-16-5", SOMA_INTEGRATE_LINEAR, 0, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, true},
    {"bilinear", "24-16-5", SOMA_INTEGRATE_BILINEAR, 0, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, true},
    {"shunting", "24-16-5", SOMA_INTEGRATE_SHUNTING, 0, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, true},
    {"bilinear_r2_membrane", "24-12-10l-5", SOMA_INTEGRATE_BILINEAR, 0, SOMA_ENCODE_RATE, SOMA_READOUT_MEMBRANE, SOMA_NEURON_LIF_TAU, SOMA_RESET_SOFT, 2, true, true},
    {"bilinear_ab1_plif", "24-12b-5", SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB1, SOMA_ENCODE_LATENCY, SOMA_READOUT_RATE, SOMA_NEURON_PLIF, SOMA_RESET_HARD, 1, false, true},
    {"bilinear_ab2_if", "24-12-5s", SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB2, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_IF, SOMA_RESET_NONE, 1, false, true},
    {"shunting_ab1", "24-12-5", SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB1, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, true},
    {"shunting_ab2", "24-12-5", SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB2, SOMA_ENCODE_RATE, SOMA_READOUT_MEMBRANE, SOMA_NEURON_LIF, SOMA_RESET_SOFT, 1, false, true},
    {"shunting_ab3", "24-12-5", SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB3, SOMA_ENCODE_LATENCY, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, true},
    {"direct_bilinear", "24-12-5", SOMA_INTEGRATE_BILINEAR, 0, SOMA_ENCODE_DIRECT, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 2, false, false},
    {"recurrent_dropout", "24-D0.2-12Rb-D0.1-5s", SOMA_INTEGRATE_LINEAR, 0, SOMA_ENCODE_RATE, SOMA_READOUT_RATE, SOMA_NEURON_LIF, SOMA_RESET_HARD, 1, false, false},
};
#define NCASES (int)(sizeof cases / sizeof cases[0])

static soma_net *make_net(const net_case *k, uint64_t seed) {
    soma_net_config c = soma_net_default_config();
    c.T = 8;
    c.chunk = 5;
    c.neuron.theta = 0.35f;
    c.neuron.kind = k->kind;
    c.neuron.reset = k->reset;
    c.integrate.mode = k->mode;
    c.integrate.ablation = k->ab;
    c.integrate.rank = k->rank;
    c.integrate.lambda_per_neuron = k->per_neuron;
    c.integrate.lambda_init = 0.3f;
    c.integrate.shunt_scale = 0.5f;
    c.encoder = k->enc;
    c.readout = k->ro;
    c.logit_scale = 3.0f;
    c.sparse_max_density = 1.0f; /* event-driven wherever Soma can */
    soma_net *net = NULL;
    soma_error err = {0};
    int rc = soma_net_create(&net, k->spec, &c, seed, &err);
    if (rc != SOMA_OK) fprintf(stderr, "%s: %s\n", k->name, err.msg);
    CHECK(rc == SOMA_OK);
    return net;
}

/* The twin, step by step, against soma_net_trace: encoder, every layer's membrane and
 * output, and the logits. */
TEST(twin_matches_trace) {
    soma_dataset d;
    synth(&d, 60, 24, 5, 7);
    for (int ci = 0; ci < NCASES; ci++) {
        const net_case *k = &cases[ci];
        soma_net *net = make_net(k, 3 + (uint64_t)ci);
        if (!net) continue;
        train_briefly(net, &d, sanitized() ? 4 : 15);
        soma_export_model *m = NULL;
        soma_error err = {0};
        soma_export_options o = soma_export_default_options();
        CHECK(soma_export_create(&m, net, &o, &err) == SOMA_OK);
        if (!m) {
            fprintf(stderr, "%s: %s\n", k->name, err.msg);
            soma_net_free(net);
            continue;
        }
        int64_t mism_enc = 0, mism_bits = 0, mism_spk = 0, mism_cls = 0, values = 0;
        double worst = 0;
        float in[24], out[16], logits[16];
        for (int64_t s = 0; s < (sanitized() ? 6 : 20); s++) {
            const float *x = d.x + s * d.dim;
            soma_trace tr;
            CHECK(soma_net_trace(net, x, s, 99, &tr, &err) == SOMA_OK);
            soma_export_reset(m);
            for (int t = 0; t < tr.T; t++) {
                soma_export_encode(m, x, 99, (uint64_t)s, t, in);
                for (int j = 0; j < 24; j++) mism_enc += in[j] != tr.input[t * 24 + j];
                soma_export_step(m, in, out);
                for (int li = 0, xj = 0; li < tr.n_layers; li++) {
                    if (!tr.mem[li]) continue; /* dropout: not exported */
                    const float *hm = soma_export_layer_mem(m, xj), *om = soma_export_layer_out(m, xj);
                    xj++;
                    for (int64_t n = 0; n < tr.dim[li]; n++) {
                        float a = hm[n], b = tr.mem[li][t * tr.dim[li] + n];
                        values++;
                        mism_bits += memcmp(&a, &b, sizeof a) != 0;
                        mism_spk += om[n] != tr.out[li][t * tr.dim[li] + n];
                        double e = fabs((double)a - b) / (1.0 + fabs((double)b));
                        worst = e > worst ? e : worst;
                    }
                }
            }
            int cls = soma_export_predict(m, x, 99, (uint64_t)s, logits);
            int best = 0;
            for (int c = 1; c < 5; c++)
                if (tr.logits[c] > tr.logits[best]) best = c;
            mism_cls += cls != best;
            if (k->exact)
                for (int c = 0; c < 5; c++) CHECK(logits[c] == tr.logits[c]);
            soma_trace_free(&tr);
        }
        printf("  %-22s membranes: %lld values, %lld not bitwise equal (worst rel. diff %.2g), %lld spikes differ, %lld classes differ\n",
               k->name, (long long)values, (long long)mism_bits, worst, (long long)mism_spk, (long long)mism_cls);
        CHECK(mism_enc == 0);
        if (k->exact) {
            CHECK(mism_bits == 0);
            CHECK(mism_spk == 0);
            CHECK(mism_cls == 0);
        } else {
            CHECK(worst < 1e-4 || mism_spk > 0); /* BLAS path: rounding, or a spike flipped at a tie */
            CHECK(mism_spk <= values / 100);
        }
        soma_export_free(m);
        soma_net_free(net);
    }
    soma_dataset_free(&d);
}

TEST(int8_twin_is_close) {
    soma_dataset d;
    synth(&d, 400, 24, 5, 8);
    soma_net *net = make_net(&cases[1], 5);
    train_briefly(net, &d, 120);
    soma_export_options o = soma_export_default_options();
    soma_export_model *mf = NULL, *mq = NULL;
    CHECK(soma_export_create(&mf, net, &o, NULL) == SOMA_OK);
    o.int8 = true;
    CHECK(soma_export_create(&mq, net, &o, NULL) == SOMA_OK);
    double af = 0, aq = 0;
    CHECK(soma_export_evaluate(mf, &d, 99, &af, NULL, NULL) == SOMA_OK);
    CHECK(soma_export_evaluate(mq, &d, 99, &aq, NULL, NULL) == SOMA_OK);
    printf("  bilinear 24-16-5 on synthetic data: float %.3f, int8 %.3f\n", af, aq);
    CHECK(af > 0.6);
    CHECK(fabs(af - aq) < 0.1);
    soma_export_info fi, qi;
    soma_export_sizes(mf, &fi);
    soma_export_sizes(mq, &qi);
    CHECK(fi.n_weights == qi.n_weights && fi.n_weights == 24 * 48 + 16 * 15);
    CHECK(qi.weight_bytes < fi.weight_bytes);
    soma_export_free(mf);
    soma_export_free(mq);
    soma_net_free(net);
    soma_dataset_free(&d);
}

TEST(bad_names_and_layers) {
    soma_net *net = make_net(&cases[0], 1);
    soma_export_options o = soma_export_default_options();
    soma_export_model *m = NULL;
    soma_error err = {0};
    o.name = "9lives";
    CHECK(soma_export_create(&m, net, &o, &err) == SOMA_E_ARG && m == NULL);
    CHECK_MSG(err, "C identifier");
    o.name = "my-net";
    CHECK(soma_export_create(&m, net, &o, &err) == SOMA_E_ARG);
    o.name = "ok_net";
    CHECK(soma_export_create(&m, net, &o, &err) == SOMA_OK);
    CHECK(soma_export_write(m, "/nonexistent/dir", NULL, &err) == SOMA_E_IO);
    CHECK_MSG(err, "not a directory");
    soma_export_free(m);
    soma_net_free(net);
    char b[48];
    float vals[] = {0.5f, -0.0f, 1.0f, 1e-5f, 3.14159274f, -2.5e-38f, 1e-40f, 16777216.0f};
    for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
        soma_xfloat_lit(b, sizeof b, vals[i]);
        float back = strtof(b, NULL);
        CHECK(memcmp(&back, &vals[i], sizeof back) == 0);
        CHECK(b[strlen(b) - 1] == 'f');
        CHECK(strpbrk(b, ".ep") != NULL);
    }
}

/* ---- the generated code, compiled --------------------------------------------------------- */

static const char *cc(void) {
    const char *c = getenv("CC");
    return c && *c ? c : "cc";
}

static int sh(const char *cmd) {
    int rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static char harness_path[1024];
static bool have_cc(void) {
    static int known = -1;
    if (known < 0) {
        char cmd[256];
        snprintf(cmd, sizeof cmd, "%s --version >/dev/null 2>&1", cc());
        snprintf(harness_path, sizeof harness_path, "%s", __FILE__);
        char *slash = strrchr(harness_path, '/');
        snprintf(slash ? slash + 1 : harness_path, sizeof harness_path - (size_t)(slash ? slash + 1 - harness_path : 0),
                 "export_harness.c");
        known = sh(cmd) == 0 && access(harness_path, R_OK) == 0;
        if (!known) printf("  SKIP compile round trips: no C compiler '%s' or no %s\n", cc(), harness_path);
    }
    return known == 1;
}

/* Exports net, compiles the code alone (strict, freestanding) and with the harness, runs it on
 * the vectors and returns the harness's exit status; the summary line goes to *summary. */
static int round_trip(soma_net *net, const soma_dataset *d, int64_t n, bool int8, bool loose, const char *dir,
                      const char *name, char *summary, size_t sn) {
    soma_error err = {0};
    soma_export_options o = soma_export_default_options();
    o.name = name, o.int8 = int8, o.source = "tests/test_export.c";
    soma_export_model *m = NULL;
    int rc = soma_export_create(&m, net, &o, &err);
    CHECK(rc == SOMA_OK);
    if (rc) return -1;
    double drop = 0;
    if (int8) { /* the exporter's report: soma eval's accuracy minus the int8 twin's */
        soma_dataset sub;
        soma_eval_result ev;
        double acc8 = 0;
        CHECK(soma_dataset_slice(&sub, d, 0, n, &err) == SOMA_OK);
        CHECK(soma_evaluate(net, &sub, 256, 99, &ev, &err) == SOMA_OK);
        CHECK(soma_export_evaluate(m, &sub, 99, &acc8, NULL, &err) == SOMA_OK);
        drop = ev.accuracy - acc8;
        soma_eval_result_free(&ev);
        soma_dataset_free(&sub);
    }
    soma_export_info info;
    CHECK(soma_export_write(m, dir, &info, &err) == SOMA_OK);
    char vec[1200], cmd[4096], upper[64];
    snprintf(vec, sizeof vec, "%s/%s.vec", dir, name);
    CHECK(soma_export_write_testvec(vec, net, m, d, n, 99, 256, drop, &err) == SOMA_OK);
    soma_export_free(m);
    size_t i = 0;
    for (; name[i] && i < sizeof upper - 1; i++) upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    upper[i] = '\0';
    const char *san = sanitized() ? "-fsanitize=address,undefined -fno-sanitize-recover=all" : "";
    snprintf(cmd, sizeof cmd, "%s -std=c99 -pedantic -Wall -Wextra -Werror -ffreestanding -O1 -c %s/%s.c -o %s/%s.o 2>%s/%s.cc.log",
             cc(), dir, name, dir, name, dir, name);
    int crc = sh(cmd);
    CHECK(crc == 0);
    if (crc) fprintf(stderr, "  %s: strict freestanding compile failed: see %s/%s.cc.log\n", name, dir, name);
    snprintf(cmd, sizeof cmd,
             "%s -std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -O1 %s -I%s -DXNAME=%s -DXUPPER=%s "
             "-DXHEADER='\"%s.h\"' %s %s/%s.c -o %s/%s.bin -lm 2>>%s/%s.cc.log",
             cc(), san, dir, name, upper, name, harness_path, dir, name, dir, name, dir, name);
    crc = sh(cmd);
    CHECK(crc == 0);
    if (crc) return -1;
    snprintf(cmd, sizeof cmd, "%s/%s.bin %s 1 %s > %s/%s.out", dir, name, vec, loose ? "loose" : "strict", dir, name);
    int hrc = sh(cmd);
    snprintf(cmd, sizeof cmd, "%s/%s.out", dir, name);
    FILE *f = fopen(cmd, "r");
    summary[0] = '\0';
    if (f) {
        if (!fgets(summary, (int)sn, f)) summary[0] = '\0';
        fclose(f);
    }
    size_t len = strlen(summary);
    if (len && summary[len - 1] == '\n') summary[len - 1] = '\0';
    const char *sb = strstr(summary, "state_bytes=");
    if (sizeof(long) == 8) CHECK(sb && strtoll(sb + 12, NULL, 10) == info.state_bytes); /* the RAM figure is sizeof */
    return hrc;
}

static long field(const char *summary, const char *key) {
    const char *p = strstr(summary, key);
    return p ? strtol(p + strlen(key), NULL, 10) : -1;
}

TEST(generated_code_round_trip) {
    if (!have_cc()) return;
    char dir[] = "/tmp/soma_export_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    soma_dataset tr, te;
    synth(&tr, 600, 24, 5, 11);
    synth(&te, sanitized() ? 40 : 150, 24, 5, 12);
    const int n_exact = 3; /* lif, bilinear, shunting: float and int8, strict; the variants once */
    int ok = 0, total = 0;
    for (int ci = 0; ci < NCASES; ci++) {
        const net_case *k = &cases[ci];
        bool main_case = ci < n_exact;
        if (sanitized() && !main_case) continue; /* ASan: the three main nets */
        soma_net *net = make_net(k, 21 + (uint64_t)ci);
        if (!net) continue;
        train_briefly(net, &tr, main_case ? 150 : 20);
        for (int q = 0; q < 2; q++) {
            if (!main_case && q != ci % 2) continue; /* the variants: float or int8, alternately */
            char name[64], summary[512];
            snprintf(name, sizeof name, "%s_%s", k->name, q ? "int8" : "float");
            int hrc = round_trip(net, &te, te.n, q == 1, !k->exact, dir, name, summary, sizeof summary);
            total++;
            ok += hrc == 0;
            printf("  %-28s %s\n", name, summary[0] ? summary : "(no summary)");
            CHECK(hrc == 0);
            CHECK(field(summary, "exact_twin=") == te.n);
            if (q == 0 && k->exact) CHECK(field(summary, "exact_eval=") == te.n);
        }
        soma_net_free(net);
    }
    printf("  %d of %d generated models passed (files in %s)\n", ok, total, dir);
    if (ok == total) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        CHECK(sh(cmd) == 0);
    }
    soma_dataset_free(&tr);
    soma_dataset_free(&te);
}

int main(void) {
    soma_set_threads(1);
    RUN(twin_matches_trace);
    RUN(int8_twin_is_close);
    RUN(bad_names_and_layers);
    RUN(generated_code_round_trip);
    return test_report("test_export");
}
