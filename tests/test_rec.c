/*
 * tests/test_rec.c — the recommender: the sparse operator (fast vs reference kernels, and
 * finite-difference gradient checks through every integration mode and ablation), the SNN and
 * FM models' gradients, serving (user part precomputed) against the batch forward pass, top-K,
 * MovieLens-100k and -1M loaders on synthetic files (including malformed ones), splits,
 * checkpoints, online updates, and a small end-to-end training run that must beat the bias
 * baseline (synthetic data, plus a real MovieLens-100k subset when ../shared/data has it).
 *
 * Synthetic files are written to a temporary folder in the exact MovieLens formats. With
 * SOMA_SANITIZED=1 (make check's ASan run at -O0) the training runs are shrunk.
 */
#include "rec/rec_internal.h"
#include "soma/checkpoint.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static bool sanitized;
static char tmpdir[256];

/* ---- helpers --------------------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void rm_dir(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

static void make_dir(char *out, size_t cap, const char *tag) {
    snprintf(out, cap, "%s/%s", tmpdir, tag);
    mkdir(out, 0700);
}

/* Relative error of two vectors with an absolute floor (float FD noise). */
static double rel_err(const double *a, const double *b, int64_t n, double floor_) {
    double d = 0, na = 0, nb = 0;
    for (int64_t i = 0; i < n; i++) d += (a[i] - b[i]) * (a[i] - b[i]), na += a[i] * a[i], nb += b[i] * b[i];
    return sqrt(d) / (sqrt(na) + sqrt(nb) + floor_ * sqrt((double)n));
}

/* ---- the sparse operator: fast kernels against the reference ----------------------------- */

TEST(sparse_kernels_match_reference) {
    soma_rng rng;
    soma_rng_seed(&rng, 3);
    const int64_t widths[] = {1, 3, 16, 17, 64, 70, 130};
    for (size_t wi = 0; wi < sizeof widths / sizeof *widths; wi++) {
        const int64_t K = 37, cap = 6, rows = 5, S = widths[wi], c0 = S > 3 ? 1 : 0, nc = S - c0;
        soma_synop *op = soma_sparse_create(K, cap);
        int32_t id[5 * 6], nnz[5];
        float x[5 * 6], *E = malloc(sizeof(float) * (size_t)(K * S));
        float *Y1 = calloc((size_t)(rows * S), sizeof(float)), *Y2 = calloc((size_t)(rows * S), sizeof(float));
        float *G = malloc(sizeof(float) * (size_t)(rows * S));
        float dx1[30], dx2[30];
        float *dE1 = calloc((size_t)(K * S), sizeof(float)), *dE2 = calloc((size_t)(K * S), sizeof(float));
        for (int64_t i = 0; i < K * S; i++) E[i] = soma_rng_normal(&rng);
        for (int64_t i = 0; i < rows * S; i++) G[i] = soma_rng_normal(&rng);
        for (int64_t r = 0; r < rows; r++) {
            nnz[r] = (int32_t)(r % (cap + 1)); /* 0 .. cap active, including an empty row */
            for (int64_t j = 0; j < cap; j++) {
                id[r * cap + j] = (int32_t)soma_rng_below(&rng, (uint32_t)K);
                x[r * cap + j] = soma_rng_normal(&rng);
            }
        }
        id[1 * cap + 0] = id[1 * cap + 0]; /* repeated ids are allowed: make row 5 repeat one */
        if (nnz[4] >= 2) id[4 * cap + 1] = id[4 * cap + 0];
        soma_sparse_rows in = {id, nnz};
        soma_sparse_bind(op, &in);
        op->ops->forward(op, Y1, x, NULL, E, S, c0, nc, rows);
        soma_sparse_forward_ref(Y2, x, &in, cap, E, S, c0, nc, rows);
        double worst = 0;
        for (int64_t i = 0; i < rows * S; i++) worst = fmax(worst, fabs(Y1[i] - Y2[i]));
        CHECK_NEAR(worst, 0, 1e-4);
        for (int k = 0; k < 30; k++) dx1[k] = dx2[k] = 0.5f;
        op->ops->backward_input(op, dx1, G, E, S, c0, nc, rows, 0.5f);
        soma_sparse_backward_input_ref(dx2, G, &in, cap, E, S, c0, nc, rows, 0.5f);
        worst = 0;
        for (int64_t i = 0; i < rows * cap; i++) worst = fmax(worst, fabs(dx1[i] - dx2[i]));
        CHECK_NEAR(worst, 0, 1e-4);
        op->ops->backward_weight(op, dE1, G, x, NULL, S, c0, nc, rows);
        soma_sparse_backward_weight_ref(dE2, G, x, &in, cap, S, c0, nc, rows);
        worst = 0;
        for (int64_t i = 0; i < K * S; i++) worst = fmax(worst, fabs(dE1[i] - dE2[i]));
        CHECK_NEAR(worst, 0, 1e-4);
        op->ops->free(op);
        free(E), free(Y1), free(Y2), free(G), free(dE1), free(dE2);
    }
}

/* ---- the sparse operator through every integration mode: finite differences --------------- */

/* L = Σ r ⊙ cur for the integrator over the sparse operator. */
static double integ_loss(const soma_integrator *it, const float *E, const float *params, const float *x,
                         const float *rr, float *cur, float *Y, float *scr, int64_t rows) {
    soma_integrator_forward(it, cur, Y, x, NULL, E, params, scr, rows);
    double L = 0;
    for (int64_t i = 0; i < rows * it->N; i++) L += (double)rr[i] * cur[i];
    return L;
}

static double gradcheck_integrator(soma_integrate_params ip, const char *label) {
    enum { K = 11, CAP = 4, ROWS = 3, N = 3 };
    soma_synop *op = soma_sparse_create(K, CAP);
    soma_integrator it;
    soma_error err = {0};
    CHECK(soma_integrator_init(&it, op, N, &ip, &err) == SOMA_OK);
    soma_rng rng;
    soma_rng_seed(&rng, 11);
    int32_t id[ROWS * CAP] = {0, 3, 7, 9, 2, 3, 0, 0, 10, 1, 5, 3}, nnz[ROWS] = {4, 2, 4};
    float x[ROWS * CAP];
    for (int i = 0; i < ROWS * CAP; i++) x[i] = 0.3f + soma_rng_uniform(&rng);
    soma_sparse_rows in = {id, nnz};
    soma_sparse_bind(op, &in);
    const int64_t np = it.n_params, nE = soma_integrator_E_size(&it);
    float *p = malloc(sizeof(float) * (size_t)np), *E = malloc(sizeof(float) * (size_t)nE);
    float *dp = malloc(sizeof(float) * (size_t)np), *gws = calloc((size_t)it.n_gws, sizeof(float));
    float cur[ROWS * N], rr[ROWS * N], dx[ROWS * CAP];
    float *Y = malloc(sizeof(float) * (size_t)(ROWS * soma_integrator_tape_per_row(&it) + 1));
    float *scr = malloc(sizeof(float) * (size_t)(ROWS * soma_integrator_scratch_per_row(&it, CAP)));
    soma_integrator_init_params(&it, p, &rng);
    for (int64_t i = 0; i < np; i++) {
        p[i] += 0.5f * (soma_rng_uniform(&rng) - 0.5f);
        if (fabsf(p[i]) < 5e-3f) p[i] = 5e-3f; /* clear of shunting's kink at W = 0 */
    }
    for (int i = 0; i < ROWS * N; i++) rr[i] = soma_rng_normal(&rng);
    soma_integrator_prepare(&it, E, p);
    integ_loss(&it, E, p, x, rr, cur, Y, scr, ROWS);
    soma_integrator_backward(&it, dx, gws, rr, Y, x, NULL, E, p, scr, ROWS);
    soma_integrator_finish(&it, dp, gws, p);
    double *ana = malloc(sizeof(double) * (size_t)(np + ROWS * CAP)), *num = malloc(sizeof(double) * (size_t)(np + ROWS * CAP));
    const float h = 1e-3f;
    for (int64_t i = 0; i < np; i++) {
        float keep = p[i];
        p[i] = keep + h;
        soma_integrator_prepare(&it, E, p);
        double lp = integ_loss(&it, E, p, x, rr, cur, Y, scr, ROWS);
        p[i] = keep - h;
        soma_integrator_prepare(&it, E, p);
        double lm = integ_loss(&it, E, p, x, rr, cur, Y, scr, ROWS);
        p[i] = keep;
        ana[i] = dp[i], num[i] = (lp - lm) / (2.0 * h);
    }
    soma_integrator_prepare(&it, E, p);
    int64_t n = np;
    /* the input gradient: only active slots carry one */
    for (int64_t r = 0; r < ROWS; r++)
        for (int64_t j = 0; j < nnz[r]; j++) {
            const int64_t i = r * CAP + j;
            float keep = x[i];
            x[i] = keep + h;
            double lp = integ_loss(&it, E, p, x, rr, cur, Y, scr, ROWS);
            x[i] = keep - h;
            double lm = integ_loss(&it, E, p, x, rr, cur, Y, scr, ROWS);
            x[i] = keep;
            ana[n] = dx[i], num[n] = (lp - lm) / (2.0 * h), n++;
        }
    /* λ of ablation ab3 is frozen by design: compare it as zero */
    if (ip.mode == SOMA_INTEGRATE_BILINEAR && ip.ablation == SOMA_ABLATION_AB3)
        for (int64_t i = 0; i < it.nlam; i++) num[it.olam + i] = 0;
    double e = rel_err(ana, num, n, 2e-3);
    if (e > 1e-2 || getenv("SHOW")) fprintf(stderr, "  integrator %s: rel err %.3g (%lld values)\n", label, e, (long long)n);
    op->ops->free(op);
    free(p), free(E), free(dp), free(gws), free(Y), free(scr), free(ana), free(num);
    return e;
}

TEST(sparse_gradcheck_every_integration_mode) {
    struct { soma_integrate_mode mode; soma_ablation ab; int rank; bool per; const char *label; } cases[] = {
        {SOMA_INTEGRATE_LINEAR, SOMA_ABLATION_NONE, 1, false, "linear"},
        {SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_NONE, 1, false, "bilinear R=1"},
        {SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_NONE, 3, true, "bilinear R=3 per-neuron lambda"},
        {SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB1, 1, false, "bilinear ab1"},
        {SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB2, 2, false, "bilinear ab2"},
        {SOMA_INTEGRATE_BILINEAR, SOMA_ABLATION_AB3, 1, false, "bilinear ab3"},
        {SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_NONE, 1, false, "shunting"},
        {SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB1, 1, false, "shunting ab1"},
        {SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB2, 1, false, "shunting ab2"},
        {SOMA_INTEGRATE_SHUNTING, SOMA_ABLATION_AB3, 1, false, "shunting ab3"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        soma_integrate_params ip = soma_integrate_default_params();
        ip.mode = cases[i].mode, ip.ablation = cases[i].ab, ip.rank = cases[i].rank;
        ip.lambda_per_neuron = cases[i].per, ip.lambda_init = 0.7f, ip.shunt_k = 1.3f, ip.shunt_scale = 0.5f;
        ip.v_scale = 3.0f;
        double e = gradcheck_integrator(ip, cases[i].label);
        test_checks_++;
        if (!(e < 1e-2)) {
            test_failures_++;
            fprintf(stderr, "%s:%d: integrator gradcheck %s: rel err %.3g\n", __FILE__, __LINE__, cases[i].label, e);
        }
    }
}

/* ---- synthetic MovieLens-100k ------------------------------------------------------------- */

static const char *genre_names = "unknown|0\nAction|1\nAdventure|2\nComedy|3\nDrama|4\nRomance|5\n\n";
static const char *occ_names = "artist\nengineer\nstudent\nother\n";

/* Writes a ML-100k-format folder: nu users, nm movies, ratings from a hidden model with user ×
 * genre interactions (so the id and genre features predict ratings, and pairs matter). */
static void write_ml100k(const char *dir, int nu, int nm, int per_user, uint64_t seed) {
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    write_file(dir, "u.genre", genre_names);
    write_file(dir, "u.occupation", occ_names);
    size_t cap = (size_t)(nu + nm) * 200 + (size_t)nu * (size_t)per_user * 40 + 1024;
    char *buf = malloc(cap);
    size_t n = 0;
    for (int u = 1; u <= nu; u++)
        n += (size_t)snprintf(buf + n, cap - n, "%d|%d|%c|%s|%05d\n", u, 15 + u % 50, u % 3 ? 'M' : 'F',
                              u % 4 == 0 ? "artist" : u % 4 == 1 ? "engineer" : u % 4 == 2 ? "student" : "other", (u * 7919) % 100000);
    buf[n] = '\0';
    write_file(dir, "u.user", buf);
    n = 0;
    uint32_t *gen = malloc(sizeof *gen * (size_t)(nm + 1));
    for (int m = 1; m <= nm; m++) {
        uint32_t g = 0;
        while (!g) g = (uint32_t)soma_rng_below(&rng, 64) & 0x3Eu; /* genres 1..5 */
        gen[m] = g;
        /* a Latin-1 byte in some titles: 0xE9 = é */
        n += (size_t)snprintf(buf + n, cap - n, "%d|Movie %d%s (19%02d)|01-Jan-19%02d||http://x|0|%d|%d|%d|%d|%d\n", m, m,
                              m % 7 == 0 ? " Caf\xE9" : "", 50 + m % 50, 50 + m % 50, g >> 1 & 1, g >> 2 & 1, g >> 3 & 1,
                              g >> 4 & 1, g >> 5 & 1);
    }
    write_file(dir, "u.item", buf);
    /* hidden model: rating = 3 + user bias + movie bias + taste(user, genres) + noise */
    float *ub = malloc(sizeof(float) * (size_t)(nu + 1)), *mb = malloc(sizeof(float) * (size_t)(nm + 1));
    float *taste = malloc(sizeof(float) * (size_t)(nu + 1) * 6);
    for (int u = 1; u <= nu; u++) {
        ub[u] = 0.4f * soma_rng_normal(&rng);
        for (int g = 0; g < 6; g++) taste[u * 6 + g] = 1.0f * soma_rng_normal(&rng);
    }
    for (int m = 1; m <= nm; m++) mb[m] = 0.4f * soma_rng_normal(&rng);
    n = 0;
    for (int u = 1; u <= nu; u++)
        for (int k = 0; k < per_user; k++) {
            int m = 1 + (int)soma_rng_below(&rng, (uint32_t)nm);
            float t = 0;
            int c = 0;
            for (int g = 1; g < 6; g++)
                if (gen[m] >> g & 1u) t += taste[u * 6 + g], c++;
            float r = 3.0f + ub[u] + mb[m] + (c ? t / (float)c : 0) + 0.3f * soma_rng_normal(&rng);
            int ri = (int)lroundf(r);
            ri = ri < 1 ? 1 : ri > 5 ? 5 : ri;
            n += (size_t)snprintf(buf + n, cap - n, "%d\t%d\t%d\t%d\n", u, m, ri, 880000000 + k * 1000 + u);
        }
    write_file(dir, "u.data", buf);
    free(buf), free(gen), free(ub), free(mb), free(taste);
}

static int load_synth(soma_rec_data *d, const char *tag, int nu, int nm, int per_user) {
    char dir[512];
    make_dir(dir, sizeof dir, tag);
    write_ml100k(dir, nu, nm, per_user, 17);
    soma_error err = {0};
    int rc = soma_rec_load(d, dir, &err);
    if (rc) fprintf(stderr, "load_synth: %s\n", err.msg);
    return rc;
}

/* ---- model gradients ------------------------------------------------------------------------- */

/* Σ r ⊙ scores over a fixed batch */
static double model_loss(const soma_rec_model *m, rec_ws *ws, const rec_batch *b, const float *rr, float *s) {
    m->ops->forward(m, ws, b, s);
    double L = 0;
    for (int64_t i = 0; i < b->rows; i++) L += (double)rr[i] * s[i];
    return L;
}

static double gradcheck_model(const soma_rec_data *d, soma_rec_config cfg, const char *label) {
    soma_error err = {0};
    soma_rec_model *m = NULL;
    int rc = soma_rec_model_create(&m, &cfg, d, &d->ratings, 5, &err);
    if (rc) {
        fprintf(stderr, "%s: %s\n", label, err.msg);
        CHECK(rc == SOMA_OK);
        return 1;
    }
    enum { R = 3 };
    rec_ws *ws;
    rec_batch b;
    CHECK(m->ops->ws_create(&ws, m, R) == SOMA_OK);
    CHECK(rec_batch_init(&b, R, m->L.cap) == SOMA_OK);
    ws->train = cfg.dropout > 0, ws->drop_seed = 99; /* a fixed dropout mask */
    for (int r = 0; r < R; r++) rec_batch_set(&b, m, r, &m->users[r + 1], &m->movies[2 * r + 1]);
    b.rows = R;
    soma_rng rng;
    soma_rng_seed(&rng, 9);
    /* perturb every parameter so λ, the gates and the spare rows are generic */
    for (int64_t i = 0; i < m->n_params; i++) {
        m->params[i] += 0.2f * (soma_rng_uniform(&rng) - 0.5f);
        if (fabsf(m->params[i]) < 5e-3f) m->params[i] = 5e-3f;
    }
    rec_model_prepare(m);
    float rr[R], s[R], *g = malloc(sizeof(float) * (size_t)m->n_params);
    for (int r = 0; r < R; r++) rr[r] = soma_rng_normal(&rng);
    model_loss(m, ws, &b, rr, s);
    m->ops->backward(m, ws, &b, rr, g);
    /* check the parameters the batch touches (the rest have zero gradient both ways): every
     * parameter not tied to a feature, plus the rows of the batch's active features */
    uint8_t *check = calloc((size_t)m->n_params, 1);
    for (int64_t i = 0; i < m->n_params; i++) check[i] = 1;
    int64_t off[8], len[8];
    for (int64_t k = 0; k < m->L.K; k++) {
        int n = m->ops->feature_rows(m, k, off, len);
        for (int j = 0; j < n; j++) memset(check + off[j], 0, (size_t)len[j]);
    }
    for (int r = 0; r < R; r++)
        for (int j = 0; j < b.nnz[r]; j++) {
            int n = m->ops->feature_rows(m, b.id[r * b.cap + j], off, len);
            for (int q = 0; q < n; q++) memset(check + off[q], 1, (size_t)len[q]);
        }
    int64_t nc = 0;
    for (int64_t i = 0; i < m->n_params; i++) nc += check[i];
    double *ana = malloc(sizeof(double) * (size_t)nc), *num = malloc(sizeof(double) * (size_t)nc);
    int64_t n = 0;
    const float h = 1e-3f;
    for (int64_t i = 0; i < m->n_params; i++) {
        if (!check[i]) continue;
        float keep = m->params[i];
        m->params[i] = keep + h;
        rec_model_prepare(m);
        double lp = model_loss(m, ws, &b, rr, s);
        m->params[i] = keep - h;
        rec_model_prepare(m);
        double lm = model_loss(m, ws, &b, rr, s);
        m->params[i] = keep;
        ana[n] = g[i], num[n] = (lp - lm) / (2.0 * h), n++;
    }
    rec_model_prepare(m);
    double e = rel_err(ana, num, n, 2e-3);
    if (e > 1e-2 || getenv("SHOW")) fprintf(stderr, "  model %s: rel err %.3g over %lld parameters\n", label, e, (long long)n);
    free(ana), free(num), free(check), free(g);
    rec_batch_free(&b);
    m->ops->ws_free(ws);
    soma_rec_model_free(m);
    return e;
}

TEST(model_gradcheck) {
    soma_rec_data d;
    CHECK(load_synth(&d, "grad", 8, 10, 5) == SOMA_OK);
    struct { soma_rec_kind kind; soma_integrate_mode mode; soma_readout ro; int depth; bool fo; const char *label; float drop; } cases[] = {
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_RATE, 1, true, "snn bilinear rate dropout", 0.4f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_MEMBRANE, 2, true, "snn bilinear membrane dropout", 0.4f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_RATE, 1, true, "snn bilinear rate", 0.0f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_LINEAR, SOMA_READOUT_RATE, 1, true, "snn linear rate", 0.0f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_SHUNTING, SOMA_READOUT_RATE, 1, false, "snn shunting rate", 0.0f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_MEMBRANE, 1, true, "snn bilinear membrane", 0.0f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_RATE, 2, true, "snn bilinear depth 2", 0.0f},
        {SOMA_REC_SNN, SOMA_INTEGRATE_SHUNTING, SOMA_READOUT_MEMBRANE, 2, false, "snn shunting depth 2 membrane", 0.0f},
        {SOMA_REC_FM, 0, 0, 1, true, "fm", 0.0f},
        {SOMA_REC_BIAS, 0, 0, 1, true, "bias", 0.0f},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        soma_rec_config c = soma_rec_default_config();
        c.kind = cases[i].kind, c.integrate.mode = cases[i].mode, c.readout = cases[i].ro, c.depth = cases[i].depth;
        c.first_order = cases[i].fo, c.width = 4, c.T = 4, c.fm_k = 3, c.spare_users = c.spare_movies = 2;
        c.dropout = cases[i].drop;
        c.integrate.rank = 2, c.integrate.v_scale = 0.5f, c.init_std = 0.5f, c.integrate.shunt_scale = 0.5f;
        c.neuron.smooth_forward = true; /* the spike is the surrogate's primitive: BPTT is exact */
        c.neuron.theta = 0.5f;
        double e = gradcheck_model(&d, c, cases[i].label);
        test_checks_++;
        if (!(e < 1e-2)) {
            test_failures_++;
            fprintf(stderr, "%s:%d: model gradcheck %s: rel err %.3g\n", __FILE__, __LINE__, cases[i].label, e);
        }
        /* the same with the implicit-feedback field: real values |N|^-p (x² ≠ x) through
         * every integration mode, and rows whose movie is left out of the user's set */
        c.fields = SOMA_REC_FIELDS_ALL;
        c.implicit_pow = i % 2 ? 1.0f : 0.5f;
        char label[96];
        snprintf(label, sizeof label, "%s + rated (p=%g)", cases[i].label, (double)c.implicit_pow);
        e = gradcheck_model(&d, c, label);
        test_checks_++;
        if (!(e < 1e-2)) {
            test_failures_++;
            fprintf(stderr, "%s:%d: model gradcheck %s: rel err %.3g\n", __FILE__, __LINE__, label, e);
        }
    }
    soma_rec_data_free(&d);
}

/* ---- loaders ------------------------------------------------------------------------------------ */

TEST(load_ml100k) {
    soma_rec_data d;
    char dir[512];
    make_dir(dir, sizeof dir, "ml100k");
    write_ml100k(dir, 20, 30, 6, 5);
    soma_error err = {0};
    int rc = soma_rec_load(&d, dir, &err);
    CHECK(rc == SOMA_OK);
    if (rc) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(strcmp(d.name, "ml-100k") == 0);
    CHECK(d.n_users == 20 && d.n_movies == 30 && d.ratings.n == 120);
    CHECK(d.n_genres == 6 && d.n_occupations == 4);
    CHECK(strcmp(d.genres[3], "Comedy") == 0);
    CHECK(soma_rec_data_genre(&d, "drama") == 4);
    /* movie 7's title has a Latin-1 é, which must arrive as UTF-8 (C3 A9) */
    int32_t s7 = soma_rec_data_movie_index(&d, 7);
    CHECK(s7 == 6 && strcmp(d.movies[s7].title, "Movie 7 Caf\xC3\xA9 (1957)") == 0);
    CHECK(d.movies[s7].year == 1957);
    CHECK(d.movies[0].genres != 0 && !(d.movies[0].genres & 1u));
    CHECK(d.users[3].gender == 'M' && d.users[2].gender == 'F' && d.users[3].age == 19);
    CHECK(strcmp(d.occupations[d.users[3].occupation], "artist") == 0);
    CHECK(soma_rec_data_user_index(&d, 21) == -1 && soma_rec_data_user_index(&d, 0) == -1);
    CHECK(d.rating_min >= 1 && d.rating_max <= 5);
    /* an official fold: uK.base / uK.test in the same format */
    write_file(dir, "u2.base", "1\t1\t5\t881250949\n2\t3\t3\t881250950\n");
    write_file(dir, "u2.test", "3\t2\t4\t881250951\n");
    soma_rec_ratings tr, te;
    CHECK(soma_rec_split_official(&d, dir, 2, &tr, &te, &err) == SOMA_OK);
    CHECK(tr.n == 2 && te.n == 1 && te.r[0].user == 2 && te.r[0].movie == 1 && te.r[0].rating == 4.0f);
    soma_rec_ratings_free(&tr);
    soma_rec_ratings_free(&te);
    CHECK(soma_rec_split_official(&d, dir, 3, &tr, &te, &err) == SOMA_E_IO);
    CHECK_MSG(err, "u3.base");
    soma_rec_data_free(&d);
}

static const char *ml1m_users = "1::F::1::10::48067\n2::M::56::16::70072\n3::M::25::15::T8H1N\n";
static const char *ml1m_movies =
    "1::Toy Story (1995)::Animation|Children's|Comedy\n"
    "2::Star Wars: Episode IV - A New Hope (1977)::Action|Adventure|Sci-Fi\n"
    "5::Cit\xE9 des enfants perdus, La (1995)::Adventure|Sci-Fi\n";
static const char *ml1m_ratings = "1::1::5::978300760\n1::5::3::978302109\n2::2::4::978301968\n3::1::2::978300275\n";

TEST(load_ml1m) {
    char dir[512];
    make_dir(dir, sizeof dir, "ml1m");
    write_file(dir, "users.dat", ml1m_users);
    write_file(dir, "movies.dat", ml1m_movies);
    write_file(dir, "ratings.dat", ml1m_ratings);
    soma_rec_data d;
    soma_error err = {0};
    int rc = soma_rec_load(&d, dir, &err);
    CHECK(rc == SOMA_OK);
    if (rc) {
        fprintf(stderr, "  %s\n", err.msg);
        return;
    }
    CHECK(strcmp(d.name, "ml-1m") == 0);
    CHECK(d.n_users == 3 && d.n_movies == 3 && d.ratings.n == 4 && d.n_genres == 18 && d.n_occupations == 21);
    CHECK(strcmp(d.movies[1].title, "Star Wars: Episode IV - A New Hope (1977)") == 0 && d.movies[1].year == 1977);
    CHECK(strcmp(d.movies[2].title, "Cit\xC3\xA9 des enfants perdus, La (1995)") == 0);
    CHECK(soma_rec_data_movie_index(&d, 5) == 2 && soma_rec_data_movie_index(&d, 3) == -1);
    const uint32_t want = 1u << soma_rec_data_genre(&d, "Animation") | 1u << soma_rec_data_genre(&d, "Children's") |
                          1u << soma_rec_data_genre(&d, "Comedy");
    CHECK(d.movies[0].genres == want);
    CHECK(d.users[0].gender == 'F' && d.users[0].age == 1 && d.users[1].age == 56 && strcmp(d.users[2].zip, "T8H1N") == 0);
    CHECK(strcmp(d.occupations[d.users[0].occupation], "K-12 student") == 0);
    CHECK(d.ratings.r[1].movie == 2 && d.ratings.r[1].rating == 3.0f);
    soma_rec_data_free(&d);
}

/* One malformed file in an otherwise good folder: SOMA_E_FORMAT naming file and line. */
static void expect_bad(const char *kind, const char *file, const char *text, const char *frag) {
    char dir[512];
    static int n;
    char tag[32];
    snprintf(tag, sizeof tag, "bad%d", n++);
    make_dir(dir, sizeof dir, tag);
    if (strcmp(kind, "100k") == 0) write_ml100k(dir, 5, 6, 2, 3);
    else {
        write_file(dir, "users.dat", ml1m_users);
        write_file(dir, "movies.dat", ml1m_movies);
        write_file(dir, "ratings.dat", ml1m_ratings);
    }
    write_file(dir, file, text);
    soma_rec_data d;
    soma_error err = {0};
    int rc = soma_rec_load(&d, dir, &err);
    CHECK(rc == SOMA_E_FORMAT);
    CHECK_MSG(err, frag);
    if (!rc) soma_rec_data_free(&d);
    /* nothing half-built is left behind on failure */
    CHECK(d.users == NULL && d.movies == NULL && d.ratings.r == NULL);
}

TEST(loaders_reject_malformed_files) {
    expect_bad("100k", "u.data", "1\t1\t5\t881250949\n2\t3\t881250950\n", "u.data:2: expected 4 fields");
    expect_bad("100k", "u.data", "1\t1\tfive\t881250949\n", "u.data:1: rating");
    expect_bad("100k", "u.data", "1\t1\t7\t881250949\n", "u.data:1: rating 7 is outside");
    expect_bad("100k", "u.data", "1\t1\t4\t881250949\n\n9\t1\t4\t881250949\n", "u.data:3: user id 9 is not in the user file");
    expect_bad("100k", "u.data", "1\t77\t4\t881250949\n", "u.data:1: movie id 77");
    expect_bad("100k", "u.data", "1\t-2\t4\t881250949\n", "u.data:1: movie id -2 is out of range");
    expect_bad("100k", "u.user", "1|24|M|artist|85711\n2|53|X|artist|94043\n", "u.user:2: gender");
    expect_bad("100k", "u.user", "1|24|M|astronaut|85711\n", "u.user:1: occupation \"astronaut\"");
    expect_bad("100k", "u.user", "1|24|M|artist|85711\n1|25|F|artist|85711\n", "user id 1 appears twice");
    expect_bad("100k", "u.user", "1|24|M|artist\n", "u.user:1: expected 5 fields");
    expect_bad("100k", "u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|1|0|0|0\n", "u.item:1: expected 11 fields");
    expect_bad("100k", "u.item", "1|Toy Story (1995)|01-Jan-1995||url|0|1|2|0|0|0\n", "u.item:1: genre flag 2 is 2");
    expect_bad("100k", "u.item", "1|Toy Story (1995)|sometime||url|0|1|0|0|0|0\n", "u.item:1: release date");
    expect_bad("100k", "u.genre", "unknown|0\nAction|2\n", "u.genre:2: genre index 2");
    expect_bad("1m", "users.dat", "1::F::17::10::48067\n", "users.dat:1: age code 17");
    expect_bad("1m", "users.dat", "1::F::1::21::48067\n", "users.dat:1: occupation code 21");
    expect_bad("1m", "movies.dat", "1::Toy Story (1995)::Animation|Cartoon\n", "movies.dat:1: unknown genre \"Cartoon\"");
    expect_bad("1m", "movies.dat", "1::Toy Story (1995)\n", "movies.dat:1: expected 3 fields");
    expect_bad("1m", "ratings.dat", "1::1::5::978300760\n1:1:5:978300760\n", "ratings.dat:2: expected 4 fields");
    soma_rec_data d;
    soma_error err = {0};
    CHECK(soma_rec_load(&d, "/nonexistent/soma", &err) == SOMA_E_IO);
    CHECK_MSG(err, "SOMA_DATA");
}

/* ---- splits and encoding ------------------------------------------------------------------------- */

TEST(splits) {
    soma_rec_rating rr[] = {{0, 1, 4, 100}, {0, 2, 3, 300}, {1, 0, 5, 50}, {0, 3, 2, 200}, {1, 4, 1, 50}, {2, 4, 1, 10}};
    soma_rec_ratings r = {6, rr}, tr, te;
    soma_error err = {0};
    CHECK(soma_rec_split_loo(&r, 3, &tr, &te, &err) == SOMA_OK);
    /* user 0: time 300 (movie 2); user 1: tie at 50 -> the later line (movie 4); user 2 has one rating */
    CHECK(te.n == 2 && tr.n == 4);
    CHECK(te.r[0].user == 0 && te.r[0].movie == 2 && te.r[1].user == 1 && te.r[1].movie == 4);
    soma_rec_ratings_free(&tr), soma_rec_ratings_free(&te);
    CHECK(soma_rec_split_random(&r, 0.5, 9, &tr, &te, &err) == SOMA_OK);
    CHECK(tr.n == 3 && te.n == 3);
    soma_rec_ratings_free(&tr), soma_rec_ratings_free(&te);
    int seen[6] = {0};
    for (int k = 0; k < 3; k++) {
        CHECK(soma_rec_split_kfold(&r, 3, k, 4, &tr, &te, &err) == SOMA_OK);
        CHECK(te.n == 2 && tr.n == 4);
        for (int64_t i = 0; i < te.n; i++)
            for (int j = 0; j < 6; j++)
                if (rr[j].time == te.r[i].time && rr[j].movie == te.r[i].movie && rr[j].user == te.r[i].user) seen[j]++;
        soma_rec_ratings_free(&tr), soma_rec_ratings_free(&te);
    }
    for (int j = 0; j < 6; j++) CHECK(seen[j] == 1); /* every rating is tested exactly once */
    CHECK(soma_rec_split_kfold(&r, 3, 3, 4, &tr, &te, &err) == SOMA_E_ARG);
}

TEST(encoding) {
    soma_rec_data d;
    CHECK(load_synth(&d, "enc", 10, 12, 3) == SOMA_OK);
    soma_rec_config c = soma_rec_default_config();
    c.kind = SOMA_REC_FM, c.spare_users = 2, c.spare_movies = 3;
    soma_rec_model *m = NULL;
    soma_error err = {0};
    CHECK(soma_rec_model_create(&m, &c, &d, &d.ratings, 1, &err) == SOMA_OK);
    const rec_layout *L = &m->L;
    /* layout: user 12, gender 2, age 7, occupation 4, region 11, fav 6, movie 15, decade 14, genres 6 */
    CHECK(L->K == 12 + 2 + 7 + 4 + 11 + 6 + 15 + 14 + 6);
    CHECK(soma_rec_model_n_features(m) == L->K);
    soma_rec_user_desc u = {3, 'F', 30, 2, "94043", (1u << 3) | (1u << 4)};
    soma_rec_movie_desc mv = {5, 1995, (1u << 1) | (1u << 2) | (1u << 5)};
    int32_t ids[64];
    float vals[64];
    int n = soma_rec_encode(m, &u, &mv, ids, vals, 64);
    CHECK(n == 7 + 5); /* user: id, gender, age, occupation, region, 2 favourites; movie: id, decade, 3 genres */
    CHECK(ids[0] == L->off[SOMA_REC_F_USER] + 3 && vals[0] == 1.0f);
    CHECK(ids[1] == L->off[SOMA_REC_F_GENDER] + 1);
    CHECK(ids[2] == L->off[SOMA_REC_F_AGE] + 2);
    CHECK(ids[3] == L->off[SOMA_REC_F_OCCUPATION] + 2);
    CHECK(ids[4] == L->off[SOMA_REC_F_REGION] + 9);
    CHECK(ids[5] == L->off[SOMA_REC_F_FAV_GENRES] + 3 && vals[5] == 0.5f && ids[6] == L->off[SOMA_REC_F_FAV_GENRES] + 4);
    CHECK(ids[7] == L->off[SOMA_REC_F_MOVIE] + 5);
    CHECK(ids[8] == L->off[SOMA_REC_F_DECADE] + 9);
    CHECK(ids[9] == L->off[SOMA_REC_F_GENRES] + 1 && fabsf(vals[9] - 1.0f / 3.0f) < 1e-7f);
    /* cold start: no slot, unknown attributes and a genre past the catalogue add nothing */
    soma_rec_user_desc nu = {-1, 0, 0, -1, "", 1u << 30};
    soma_rec_movie_desc nm = {-1, 0, 1u << 2};
    n = soma_rec_encode(m, &nu, &nm, ids, vals, 64);
    CHECK(n == 1 && ids[0] == L->off[SOMA_REC_F_GENRES] + 2 && vals[0] == 1.0f);
    /* spare id slots exist past the catalogue; beyond them, no id feature */
    nm.slot = 12 + 2;
    CHECK(soma_rec_encode(m, &nu, &nm, ids, vals, 64) == 2);
    nm.slot = 12 + 3;
    CHECK(soma_rec_encode(m, &nu, &nm, ids, vals, 64) == 1);
    CHECK(rec_age_group(17) == 0 && rec_age_group(18) == 1 && rec_age_group(56) == 6 && rec_age_group(0) == -1);
    CHECK(rec_decade(1899) == 13 && rec_decade(1900) == 0 && rec_decade(2031) == 12 && rec_decade(0) == -1);
    CHECK(rec_region("T8H1N") == 10 && rec_region("") == -1);
    CHECK(soma_rec_fields_parse("user,movie") == SOMA_REC_FIELDS_IDS && soma_rec_fields_parse("user,nope") == -1);
    CHECK(soma_rec_fields_parse("user,") == -1 && soma_rec_fields_parse("all") == SOMA_REC_FIELDS_ALL);
    CHECK(soma_rec_fields_parse("side,rated") == SOMA_REC_FIELDS_ALL && soma_rec_fields_parse("side") == SOMA_REC_FIELDS_SIDE);
    CHECK(soma_rec_fields_parse("ids,genres") == (SOMA_REC_FIELDS_IDS | 1u << SOMA_REC_F_GENRES));
    CHECK(soma_rec_model_config(m)->fields == SOMA_REC_FIELDS_SIDE && L->max_rated == 0); /* RATED is off by default */
    /* known users' favourite genres come from the training ratings (≤ 3) */
    for (int32_t i = 0; i < d.n_users; i++) CHECK(__builtin_popcount(m->users[i].fav_genres) <= 3);
    soma_rec_model_free(m);
    soma_rec_data_free(&d);
}

/* The implicit-feedback field: each user's distinct training movies, 1/sqrt|N| each, laid out
 * between the favourite genres and the movie id, the pair's own movie left out. */
TEST(encoding_rated) {
    soma_rec_data d;
    CHECK(load_synth(&d, "encr", 10, 12, 6) == SOMA_OK);
    soma_rec_ratings tr = d.ratings;
    tr.n -= 7; /* the sets come from the training ratings given at creation only */
    soma_rec_config c = soma_rec_default_config();
    c.kind = SOMA_REC_FM, c.spare_users = 2, c.spare_movies = 3, c.fields = SOMA_REC_FIELDS_ALL;
    soma_rec_model *m = NULL;
    soma_error err = {0};
    CHECK(soma_rec_model_create(&m, &c, &d, &tr, 1, &err) == SOMA_OK);
    const rec_layout *L = &m->L;
    CHECK(L->K == 12 + 2 + 7 + 4 + 11 + 6 + 15 + 14 + 6 + 15);
    CHECK(L->off[SOMA_REC_F_RATED] == L->off[SOMA_REC_F_FAV_GENRES] + 6 && L->off[SOMA_REC_F_MOVIE] == L->off[SOMA_REC_F_RATED] + 15);
    int32_t longest = 0;
    for (int32_t u = 0; u < d.n_users; u++) {
        /* the set: distinct, ascending, exactly the user's movies in tr */
        const int32_t *mv;
        int32_t n = soma_rec_model_user_rated(m, u, &mv), want = 0;
        for (int32_t k = 0; k < d.n_movies; k++) {
            bool in = false;
            for (int64_t i = 0; i < tr.n; i++) in |= tr.r[i].user == u && tr.r[i].movie == k;
            if (in) CHECK(want < n && mv[want] == k);
            want += in;
        }
        CHECK(n == want);
        longest = n > longest ? n : longest;
    }
    CHECK(L->max_rated == longest && L->max_user_nnz == 5 + 6 + longest);
    soma_rec_user_desc u;
    soma_rec_model_user(m, 2, &u);
    const int32_t *set;
    const int32_t nset = soma_rec_model_user_rated(m, 2, &set);
    CHECK(nset >= 2);
    int32_t unrated = 0;
    while (unrated < d.n_movies) {
        bool in = false;
        for (int32_t i = 0; i < nset; i++) in |= set[i] == unrated;
        if (!in) break;
        unrated++;
    }
    CHECK(unrated < d.n_movies);
    int32_t ids[128];
    float vals[128];
    for (int pass = 0; pass < 2; pass++) {
        /* an unrated movie sees the whole set; a rated one the set without itself */
        soma_rec_movie_desc mv;
        soma_rec_model_movie(m, pass ? set[1] : unrated, &mv);
        const int32_t k = pass ? nset - 1 : nset;
        int n = soma_rec_encode(m, &u, &mv, ids, vals, 128);
        int got = 0, first = -1, last = -1;
        for (int j = 0; j < n; j++)
            if (ids[j] >= L->off[SOMA_REC_F_RATED] && ids[j] < L->off[SOMA_REC_F_RATED] + L->size[SOMA_REC_F_RATED]) {
                CHECK(fabsf(vals[j] - 1.0f / sqrtf((float)k)) < 1e-7f);
                CHECK(ids[j] - L->off[SOMA_REC_F_RATED] != mv.slot);
                got++, last = j;
                if (first < 0) first = j;
            }
        CHECK(got == k && last - first + 1 == k);
        CHECK(ids[first - 1] < L->off[SOMA_REC_F_RATED] && ids[last + 1] == L->off[SOMA_REC_F_MOVIE] + mv.slot);
        CHECK(n <= soma_rec_model_max_nnz(m));
    }
    /* a positive's sampled negatives carry the positive's set (rec_batch_set_skip), so the
     * user part of the rows cannot tell them apart */
    {
        rec_batch b;
        CHECK(rec_batch_init(&b, 2, m->L.cap) == SOMA_OK);
        soma_rec_movie_desc pos, neg;
        soma_rec_model_movie(m, set[1], &pos);
        soma_rec_model_movie(m, unrated, &neg);
        rec_batch_set(&b, m, 0, &u, &pos);
        rec_batch_set_skip(&b, m, 1, &u, &neg, pos.slot);
        const int nu0 = b.nnz[0] - m->mv_n[pos.slot], nu1 = b.nnz[1] - m->mv_n[neg.slot];
        CHECK(nu0 == nu1 && nu0 > 0);
        CHECK(memcmp(b.id, b.id + b.cap, sizeof(int32_t) * (size_t)nu0) == 0 &&
              memcmp(b.x, b.x + b.cap, sizeof(float) * (size_t)nu0) == 0);
        rec_batch_set(&b, m, 1, &u, &neg); /* without: the whole set, another normalisation */
        CHECK(b.nnz[1] - m->mv_n[neg.slot] == nu0 + 1);
        rec_batch_free(&b);
    }
    /* a new user has no set; a user added later has an empty one */
    soma_rec_user_desc nu = {-1, 'M', 40, 1, "1", 0};
    int32_t slot;
    CHECK(soma_rec_model_add_user(m, &nu, 777, &slot, &err) == SOMA_OK && soma_rec_model_user_rated(m, slot, &set) == 0);
    CHECK(soma_rec_model_user_rated(m, -1, &set) == 0 && soma_rec_model_user_rated(m, 9999, &set) == 0);
    soma_rec_model_free(m);
    /* 1/|N| and a cap that keeps each user's latest movies */
    c.implicit_pow = 1.0f, c.rated_cap = 2;
    CHECK(soma_rec_model_create(&m, &c, &d, &tr, 1, &err) == SOMA_OK);
    CHECK(m->L.max_rated == 2);
    for (int32_t uu = 0; uu < d.n_users; uu++) {
        const int32_t *mv;
        int32_t n = soma_rec_model_user_rated(m, uu, &mv);
        CHECK(n <= 2);
        for (int32_t i = 0; i < n; i++) { /* at most one distinct movie of u is later than mv[i] */
            int64_t t = -1, later = 0;
            for (int64_t q = 0; q < tr.n; q++)
                if (tr.r[q].user == uu && tr.r[q].movie == mv[i] && tr.r[q].time > t) t = tr.r[q].time;
            for (int32_t k2 = 0; k2 < d.n_movies; k2++) {
                int64_t tk = -1;
                for (int64_t q = 0; q < tr.n; q++)
                    if (tr.r[q].user == uu && tr.r[q].movie == k2 && tr.r[q].time > tk) tk = tr.r[q].time;
                later += k2 != mv[i] && tk > t;
            }
            CHECK(later <= 1);
        }
    }
    soma_rec_model_user(m, 0, &u);
    soma_rec_movie_desc mv0 = {-1, 0, 0};
    int n = soma_rec_encode(m, &u, &mv0, ids, vals, 128), got = 0;
    for (int j = 0; j < n; j++)
        if (ids[j] >= m->L.off[SOMA_REC_F_RATED] && ids[j] < m->L.off[SOMA_REC_F_MOVIE]) { CHECK(vals[j] == 0.5f); got++; }
    CHECK(got == 2);
    soma_rec_model_free(m);
    /* bad settings */
    c.implicit_pow = -1.0f;
    CHECK(soma_rec_model_create(&m, &c, &d, &tr, 1, &err) == SOMA_E_ARG && m == NULL);
    c.implicit_pow = 0.5f, c.rated_cap = -1;
    CHECK(soma_rec_model_create(&m, &c, &d, &tr, 1, &err) == SOMA_E_ARG && m == NULL);
    soma_rec_data_free(&d);
}

/* ---- serving ------------------------------------------------------------------------------------ */

static void perturb(soma_rec_model *m, uint64_t seed) {
    soma_rng rng;
    soma_rng_seed(&rng, seed);
    for (int64_t i = 0; i < m->n_params; i++) m->params[i] += 0.3f * soma_rng_normal(&rng);
    rec_model_prepare(m);
}

/* score_all against the batch forward pass for every catalogue movie; returns the worst gap */
static double serving_gap(const soma_rec_model *m, soma_rec_scorer *s, const soma_rec_user_desc *u) {
    const int32_t n = soma_rec_model_n_movies(m);
    float *a = malloc(sizeof(float) * (size_t)n), *b = malloc(sizeof(float) * (size_t)n);
    soma_rec_user_desc *ud = malloc(sizeof *ud * (size_t)n);
    soma_rec_movie_desc *md = malloc(sizeof *md * (size_t)n);
    soma_error err = {0};
    for (int32_t i = 0; i < n; i++) ud[i] = *u, soma_rec_model_movie(m, i, &md[i]);
    CHECK(soma_rec_score_all(s, u, a, &err) == SOMA_OK);
    CHECK(soma_rec_score_pairs(m, ud, md, n, b, &err) == SOMA_OK);
    double worst = 0;
    for (int32_t i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]));
    free(a), free(b), free(ud), free(md);
    return worst;
}

TEST(serving_matches_batch_forward) {
    soma_rec_data d;
    CHECK(load_synth(&d, "serve", 30, 150, 8) == SOMA_OK);
    struct { soma_rec_kind kind; soma_integrate_mode mode; soma_readout ro; int depth; const char *label; uint32_t fields; } cases[] = {
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_RATE, 1, "snn bilinear", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_SNN, SOMA_INTEGRATE_LINEAR, SOMA_READOUT_RATE, 1, "snn linear", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_SNN, SOMA_INTEGRATE_SHUNTING, SOMA_READOUT_MEMBRANE, 1, "snn shunting membrane", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_MEMBRANE, 2, "snn bilinear depth 2", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_FM, 0, 0, 1, "fm", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_BIAS, 0, 0, 1, "bias", SOMA_REC_FIELDS_SIDE},
        {SOMA_REC_POP, 0, 0, 1, "pop", SOMA_REC_FIELDS_SIDE},
        /* implicit feedback: the rated movies' rows are computed from scratch */
        {SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, SOMA_READOUT_RATE, 1, "snn bilinear + rated", SOMA_REC_FIELDS_ALL},
        {SOMA_REC_SNN, SOMA_INTEGRATE_LINEAR, SOMA_READOUT_MEMBRANE, 1, "snn linear + rated", SOMA_REC_FIELDS_ALL},
        {SOMA_REC_SNN, SOMA_INTEGRATE_SHUNTING, SOMA_READOUT_RATE, 1, "snn shunting + rated", SOMA_REC_FIELDS_ALL},
        {SOMA_REC_FM, 0, 0, 1, "fm + rated", SOMA_REC_FIELDS_ALL},
    };
    for (size_t ci = 0; ci < sizeof cases / sizeof *cases; ci++) {
        soma_rec_config c = soma_rec_default_config();
        c.kind = cases[ci].kind, c.integrate.mode = cases[ci].mode, c.readout = cases[ci].ro, c.depth = cases[ci].depth;
        c.fields = cases[ci].fields;
        c.width = 20, c.integrate.rank = 2, c.spare_movies = 10, c.spare_users = 2;
        soma_rec_model *m = NULL;
        soma_rec_scorer *s = NULL;
        soma_error err = {0};
        CHECK(soma_rec_model_create(&m, &c, &d, &d.ratings, 3, &err) == SOMA_OK);
        perturb(m, 5 + ci); /* spiking neurons fire at varied rates */
        /* a new movie (with a spare id slot, and one beyond the spares) and a new user */
        soma_rec_movie_desc nm = {-1, 2005, (1u << 1) | (1u << 3)};
        int32_t slot;
        CHECK(soma_rec_model_add_movie(m, &nm, 9001, &slot, &err) == SOMA_OK && slot == d.n_movies);
        CHECK(soma_rec_model_add_movie(m, &nm, 9001, &slot, &err) == SOMA_E_ARG); /* duplicate id */
        for (int i = 0; i < 15; i++) CHECK(soma_rec_model_add_movie(m, &nm, 9002 + i, &slot, &err) == SOMA_OK);
        CHECK(soma_rec_model_movie_slot(m, 9016) == d.n_movies + 15 && soma_rec_model_movie_id(m, slot) == 9016);
        CHECK(soma_rec_scorer_create(&s, m, &err) == SOMA_OK);
        soma_rec_user_desc u;
        soma_rec_model_user(m, 4, &u);
        const int32_t *set;
        CHECK(cases[ci].fields == SOMA_REC_FIELDS_SIDE || soma_rec_model_user_rated(m, 4, &set) > 0);
        soma_rec_user_desc cold = {-1, 'F', 33, 1, "10001", 1u << 4};
        double g1 = serving_gap(m, s, &u), g2 = serving_gap(m, s, &cold);
        const double tol = cases[ci].depth > 1 ? 1e-4 : 0.0; /* one layer: bitwise */
        if (!(g1 <= tol && g2 <= tol)) fprintf(stderr, "  %s: serving differs by %g / %g\n", cases[ci].label, g1, g2);
        CHECK(g1 <= tol && g2 <= tol);
        /* top-k: the k best of a full sort, excluded movies never returned */
        const int32_t n = soma_rec_model_n_movies(m);
        float *sc = malloc(sizeof(float) * (size_t)n);
        soma_rec_score_all(s, &u, sc, &err);
        int32_t ex[3] = {0, 7, n - 1};
        soma_rec_hit h[12];
        int nh = 0;
        CHECK(soma_rec_recommend(s, &u, ex, 3, 12, h, &nh, &err) == SOMA_OK && nh == 12);
        for (int k = 0; k < nh; k++) {
            CHECK(h[k].movie != 0 && h[k].movie != 7 && h[k].movie != n - 1);
            CHECK(h[k].score == sc[h[k].movie]);
            int better = 0;
            for (int32_t i = 0; i < n; i++)
                if (i != 0 && i != 7 && i != n - 1) better += sc[i] > h[k].score || (sc[i] == h[k].score && i < h[k].movie);
            CHECK(better == k);
        }
        CHECK(soma_rec_recommend(s, &u, NULL, 0, 0, h, &nh, &err) == SOMA_E_ARG);
        /* k larger than the catalogue: every movie once */
        soma_rec_hit *all = malloc(sizeof *all * (size_t)(n + 5));
        CHECK(soma_rec_recommend(s, &u, NULL, 0, n + 5, all, &nh, &err) == SOMA_OK && nh == n);
        free(all);
        free(sc);
        soma_rec_scorer_free(s);
        soma_rec_model_free(m);
    }
    soma_rec_data_free(&d);
}

/* ---- checkpoints and online updates ---------------------------------------------------------- */

TEST(checkpoint_roundtrip) {
    soma_rec_data d;
    CHECK(load_synth(&d, "ckpt", 12, 20, 5) == SOMA_OK);
    const soma_rec_kind kinds[] = {SOMA_REC_SNN, SOMA_REC_FM, SOMA_REC_POP, SOMA_REC_SNN, SOMA_REC_FM};
    for (int ki = 0; ki < 5; ki++) {
        soma_rec_config c = soma_rec_default_config();
        c.kind = kinds[ki], c.width = 8, c.readout = SOMA_READOUT_MEMBRANE, c.task = SOMA_REC_TOPN;
        if (ki >= 3) c.fields = SOMA_REC_FIELDS_ALL, c.implicit_pow = 0.75f, c.rated_cap = 4; /* implicit feedback */
        soma_rec_model *m = NULL, *m2 = NULL;
        soma_error err = {0};
        CHECK(soma_rec_model_create(&m, &c, &d, &d.ratings, 3, &err) == SOMA_OK);
        perturb(m, 8);
        soma_rec_movie_desc nm = {-1, 1888, 1u << 2};
        soma_rec_user_desc nu = {-1, 'M', 40, 3, "T5A", 1u << 1};
        CHECK(soma_rec_model_add_movie(m, &nm, -77, NULL, &err) == SOMA_OK);
        CHECK(soma_rec_model_add_user(m, &nu, 123456789012LL, NULL, &err) == SOMA_OK);
        char path[600];
        snprintf(path, sizeof path, "%s/model%d.soma", tmpdir, ki);
        CHECK(soma_rec_model_save(m, path, &err) == SOMA_OK);
        CHECK(soma_rec_model_load(&m2, path, &err) == SOMA_OK);
        if (!m2) {
            fprintf(stderr, "  load: %s\n", err.msg);
            soma_rec_model_free(m);
            continue;
        }
        CHECK(strcmp(soma_rec_model_desc(m), soma_rec_model_desc(m2)) == 0);
        CHECK(soma_rec_model_n_users(m2) == d.n_users + 1 && soma_rec_model_n_movies(m2) == d.n_movies + 1);
        CHECK(soma_rec_model_movie_slot(m2, -77) == d.n_movies && soma_rec_model_user_slot(m2, 123456789012LL) == d.n_users);
        CHECK(soma_rec_model_config(m2)->task == SOMA_REC_TOPN && soma_rec_model_config(m2)->readout == SOMA_READOUT_MEMBRANE);
        CHECK(strcmp(soma_rec_model_genre(m2, 3), "Comedy") == 0 && strcmp(soma_rec_model_occupation(m2, 1), "engineer") == 0);
        soma_rec_user_desc a, b;
        soma_rec_model_user(m, d.n_users, &a);
        soma_rec_model_user(m2, d.n_users, &b);
        CHECK(a.slot == b.slot && a.gender == b.gender && a.age == b.age && a.occupation == b.occupation &&
              strcmp(a.zip, b.zip) == 0 && a.fav_genres == b.fav_genres);
        CHECK(soma_rec_model_config(m2)->fields == soma_rec_model_config(m)->fields && soma_rec_model_config(m2)->implicit_pow == c.implicit_pow &&
              soma_rec_model_config(m2)->rated_cap == c.rated_cap && m2->L.max_rated == m->L.max_rated);
        for (int32_t u = 0; u <= d.n_users; u++) {
            const int32_t *s1, *s2;
            int32_t n1 = soma_rec_model_user_rated(m, u, &s1), n2 = soma_rec_model_user_rated(m2, u, &s2);
            CHECK(n1 == n2 && (n1 == 0 || memcmp(s1, s2, sizeof(int32_t) * (size_t)n1) == 0));
            if (ki >= 3 && u < d.n_users) CHECK(n1 > 0 && n1 <= 4);
        }
        soma_rec_scorer *s1, *s2;
        CHECK(soma_rec_scorer_create(&s1, m, &err) == SOMA_OK && soma_rec_scorer_create(&s2, m2, &err) == SOMA_OK);
        float x1[64], x2[64];
        soma_rec_model_user(m, 2, &a);
        soma_rec_score_all(s1, &a, x1, &err);
        soma_rec_score_all(s2, &a, x2, &err);
        CHECK(memcmp(x1, x2, sizeof(float) * (size_t)soma_rec_model_n_movies(m)) == 0);
        soma_rec_scorer_free(s1), soma_rec_scorer_free(s2);
        soma_rec_model_free(m2);
        /* a damaged file is rejected by the container's checks */
        FILE *f = fopen(path, "r+b");
        fseek(f, 200, SEEK_SET);
        fputc(0x5a, f);
        fclose(f);
        CHECK(soma_rec_model_load(&m2, path, &err) != SOMA_OK && m2 == NULL);
        soma_rec_model_free(m);
    }
    /* version 1 (before the rated field) still loads; a future version is refused clearly */
    {
        soma_rec_config c = soma_rec_default_config();
        c.width = 8;
        soma_rec_model *m = NULL, *m2 = NULL;
        soma_error err = {0};
        char path[600];
        snprintf(path, sizeof path, "%s/v1.soma", tmpdir);
        CHECK(soma_rec_model_create(&m, &c, &d, &d.ratings, 3, &err) == SOMA_OK);
        CHECK(soma_rec_model_save(m, path, &err) == SOMA_OK);
        soma_ckpt *ck = NULL;
        CHECK(soma_ckpt_read(&ck, path, &err) == SOMA_OK);
        CHECK(strcmp(soma_ckpt_get(ck, "soma.format"), "soma-rec-2") == 0);
        soma_ckpt_set(ck, "soma.format", "soma-rec-1");
        CHECK(soma_ckpt_write(ck, path, &err) == SOMA_OK);
        CHECK(soma_rec_model_load(&m2, path, &err) == SOMA_OK && m2);
        if (m2) CHECK(soma_rec_model_n_params(m2) == soma_rec_model_n_params(m) && m2->L.max_rated == 0);
        soma_rec_model_free(m2), m2 = NULL;
        char mask[32];
        snprintf(mask, sizeof mask, "%u", SOMA_REC_FIELDS_ALL);
        soma_ckpt_set(ck, "rec.fields", mask); /* version 1 never had the rated field */
        CHECK(soma_ckpt_write(ck, path, &err) == SOMA_OK);
        CHECK(soma_rec_model_load(&m2, path, &err) == SOMA_E_FORMAT && !m2);
        soma_ckpt_set(ck, "soma.format", "soma-rec-3");
        CHECK(soma_ckpt_write(ck, path, &err) == SOMA_OK);
        CHECK(soma_rec_model_load(&m2, path, &err) == SOMA_E_VERSION && !m2);
        CHECK_MSG(err, "soma-rec-3");
        soma_ckpt_free(ck);
        soma_rec_model_free(m);
    }
    /* a valid container that is not a recommender */
    soma_ckpt *ck = soma_ckpt_create();
    soma_ckpt_set(ck, "soma.format", "soma-net-1");
    char path[600];
    snprintf(path, sizeof path, "%s/net.soma", tmpdir);
    soma_error err = {0};
    CHECK(soma_ckpt_write(ck, path, &err) == SOMA_OK);
    soma_ckpt_free(ck);
    soma_rec_model *m = NULL;
    CHECK(soma_rec_model_load(&m, path, &err) == SOMA_E_FORMAT);
    CHECK_MSG(err, "not a Soma recommender checkpoint");
    soma_rec_data_free(&d);
}

TEST(online_update) {
    soma_rec_data d;
    CHECK(load_synth(&d, "upd", 10, 20, 5) == SOMA_OK);
    const soma_rec_kind kinds[] = {SOMA_REC_SNN, SOMA_REC_FM};
    for (int ki = 0; ki < 2; ki++) {
        soma_rec_config c = soma_rec_default_config();
        c.kind = kinds[ki], c.width = 8;
        soma_rec_model *m = NULL;
        soma_rec_scorer *s = NULL;
        soma_error err = {0};
        CHECK(soma_rec_model_create(&m, &c, &d, &d.ratings, 3, &err) == SOMA_OK);
        soma_rec_user_desc nu = {-1, 'F', 25, 0, "02139", 1u << 3};
        soma_rec_movie_desc mv;
        soma_rec_model_movie(m, 4, &mv);
        /* without an id slot there is nothing of the user's own to train */
        CHECK(soma_rec_update(m, &nu, &mv, 5.0f, 3, 0.05f, 0.0f, &err) == SOMA_E_ARG);
        int32_t slot;
        CHECK(soma_rec_model_add_user(m, &nu, 555, &slot, &err) == SOMA_OK);
        soma_rec_model_user(m, slot, &nu);
        CHECK(soma_rec_scorer_create(&s, m, &err) == SOMA_OK);
        float before[32], after[32];
        soma_rec_score_all(s, &nu, before, &err);
        /* a spare slot starts at zero: the new user scores like a cold-start user */
        soma_rec_user_desc cold = nu;
        cold.slot = -1;
        soma_rec_score_all(s, &cold, after, &err);
        CHECK(memcmp(before, after, sizeof(float) * 20) == 0);
        perturb(m, 2);
        soma_rec_score_all(s, &nu, before, &err);
        CHECK(soma_rec_update(m, &nu, &mv, 5.0f, 20, 0.05f, 0.0f, &err) == SOMA_OK);
        soma_rec_score_all(s, &nu, after, &err);
        CHECK(after[4] > before[4]);
        /* other users are untouched */
        soma_rec_user_desc u1;
        soma_rec_model_user(m, 1, &u1);
        float o1[32], o2[32];
        soma_rec_score_all(s, &u1, o1, &err);
        CHECK(soma_rec_update(m, &nu, &mv, 1.0f, 5, 0.05f, 0.01f, &err) == SOMA_OK);
        soma_rec_score_all(s, &u1, o2, &err);
        CHECK(memcmp(o1, o2, sizeof(float) * 20) == 0);
        soma_rec_scorer_free(s);
        soma_rec_model_free(m);
    }
    soma_rec_data_free(&d);
}

/* ---- end to end -------------------------------------------------------------------------------- */

/* Trains kind on tr for a few epochs and returns the test RMSE. */
static double train_rmse(const soma_rec_data *d, const soma_rec_ratings *tr, const soma_rec_ratings *te,
                         soma_rec_kind kind, soma_integrate_mode mode, int epochs) {
    soma_rec_config c = soma_rec_default_config();
    c.kind = kind, c.integrate.mode = mode, c.width = 16;
    soma_rec_train_options o = soma_rec_default_train_options(SOMA_REC_RATING);
    o.epochs = epochs, o.optim.lr = 3e-3f, o.batch = 128;
    soma_rec_model *m = NULL;
    soma_rec_train_result res;
    soma_rec_metrics met = {0};
    soma_error err = {0};
    int rc = soma_rec_model_create(&m, &c, d, tr, 1, &err);
    if (!rc) rc = soma_rec_train(m, tr, NULL, &o, &res, &err);
    if (!rc) rc = soma_rec_eval_rating(m, te, &met, &err);
    if (rc) fprintf(stderr, "  train_rmse: %s\n", err.msg);
    CHECK(rc == SOMA_OK);
    CHECK(res.best_epoch >= 1 && res.epochs_run <= epochs && res.samples_per_s > 0);
    soma_rec_model_free(m);
    return rc ? 9 : met.rmse;
}

TEST(training_beats_bias_synthetic) {
    soma_rec_data d;
    const int nu = sanitized ? 80 : 300, per = sanitized ? 25 : 40;
    CHECK(load_synth(&d, "e2e", nu, 120, per) == SOMA_OK);
    soma_rec_ratings tr, te;
    soma_error err = {0};
    CHECK(soma_rec_split_random(&d.ratings, 0.2, 3, &tr, &te, &err) == SOMA_OK);
    const int ep = sanitized ? 6 : 15;
    double bias = train_rmse(&d, &tr, &te, SOMA_REC_BIAS, 0, ep);
    double snn = train_rmse(&d, &tr, &te, SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, ep);
    printf("  synthetic (%d users): bias RMSE %.4f, bilinear SNN %.4f\n", nu, bias, snn);
    CHECK(snn < bias - 0.02);
    /* top-N on the same data: BPR training runs and the protocol's numbers are sane */
    soma_rec_ratings ltr, lte;
    CHECK(soma_rec_split_loo(&d.ratings, d.n_users, &ltr, &lte, &err) == SOMA_OK);
    soma_rec_config c = soma_rec_default_config();
    c.task = SOMA_REC_TOPN, c.width = 8;
    soma_rec_train_options o = soma_rec_default_train_options(SOMA_REC_TOPN);
    o.epochs = 2, o.eval_negatives = 20;
    soma_rec_model *m = NULL, *pop = NULL;
    soma_rec_train_result res;
    soma_rec_metrics a = {0}, b = {0};
    CHECK(soma_rec_model_create(&m, &c, &d, &ltr, 1, &err) == SOMA_OK);
    CHECK(soma_rec_train(m, &ltr, NULL, &o, &res, &err) == SOMA_OK);
    CHECK(soma_rec_eval_topn(m, &d.ratings, &lte, 20, 10, 5, &a, &err) == SOMA_OK);
    c.kind = SOMA_REC_POP;
    CHECK(soma_rec_model_create(&pop, &c, &d, &ltr, 1, &err) == SOMA_OK);
    CHECK(soma_rec_eval_topn(pop, &d.ratings, &lte, 20, 10, 5, &b, &err) == SOMA_OK);
    CHECK(a.n == nu && a.hr >= 0 && a.hr <= 1 && a.ndcg <= a.hr && b.hr > 0.3);
    soma_rec_model_free(m), soma_rec_model_free(pop);
    soma_rec_ratings_free(&ltr), soma_rec_ratings_free(&lte);
    soma_rec_ratings_free(&tr), soma_rec_ratings_free(&te);
    soma_rec_data_free(&d);
}

TEST(training_beats_bias_movielens_subset) {
    const char *dir = "../shared/data/ml-100k";
    if (access(dir, R_OK) != 0 || sanitized) {
        printf("  skipped (%s)\n", sanitized ? "sanitized build" : "no ../shared/data/ml-100k");
        return;
    }
    soma_rec_data d;
    soma_error err = {0};
    CHECK(soma_rec_load(&d, dir, &err) == SOMA_OK);
    CHECK(d.n_users == 943 && d.n_movies == 1682 && d.ratings.n == 100000);
    /* the first 300 users' ratings, split 80/20 */
    soma_rec_ratings sub = {0, malloc(sizeof(soma_rec_rating) * (size_t)d.ratings.n)}, tr, te;
    for (int64_t i = 0; i < d.ratings.n; i++)
        if (d.ratings.r[i].user < 300) sub.r[sub.n++] = d.ratings.r[i];
    CHECK(soma_rec_split_random(&sub, 0.2, 1, &tr, &te, &err) == SOMA_OK);
    double bias = train_rmse(&d, &tr, &te, SOMA_REC_BIAS, 0, 10);
    double snn = train_rmse(&d, &tr, &te, SOMA_REC_SNN, SOMA_INTEGRATE_BILINEAR, 10);
    printf("  MovieLens-100k, 300 users (%lld ratings): bias RMSE %.4f, bilinear SNN %.4f\n", (long long)sub.n, bias, snn);
    CHECK(snn < bias);
    free(sub.r);
    soma_rec_ratings_free(&tr), soma_rec_ratings_free(&te);
    soma_rec_data_free(&d);
}

/* ---- the command-line tool ---------------------------------------------------------------------- */

static char soma_bin[512];

/* Runs a shell command; returns its exit status and the first bytes of its stdout in out. */
static int run_cmd(const char *cmd, char *out, size_t cap) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(cli_rec) {
    if (access(soma_bin, X_OK) != 0) {
        printf("  skipped (no %s)\n", soma_bin);
        return;
    }
    char dir[512], cmd[2048], out[4096], model[600];
    make_dir(dir, sizeof dir, "cli");
    write_ml100k(dir, 40, 30, 10, 21);
    snprintf(model, sizeof model, "%s/cli.soma", tmpdir);
    snprintf(cmd, sizeof cmd, "%s rec train --data %s --split random --model snn --width 8 --epochs 2 --save %s --json -q 2>&1",
             soma_bin, dir, model);
    CHECK(run_cmd(cmd, out, sizeof out) == 0);
    CHECK(strstr(out, "\"rmse\":") != NULL && strstr(out, "test RMSE") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec eval --model %s --data %s --split random --json 2>&1", soma_bin, model, dir);
    CHECK(run_cmd(cmd, out, sizeof out) == 0 && strstr(out, "\"mae\":") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec recommend --model %s --data %s --user 3 -k 4 --json 2>&1", soma_bin, model, dir);
    CHECK(run_cmd(cmd, out, sizeof out) == 0 && strstr(out, "\"rank\":4") != NULL && strstr(out, "\"title\":\"Movie ") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec recommend --model %s --gender F --age 30 --genres Comedy,Drama -k 3 2>&1", soma_bin, model);
    CHECK(run_cmd(cmd, out, sizeof out) == 0 && strstr(out, "a new user") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec recommend --model %s --genres Cartoon 2>&1", soma_bin, model);
    CHECK(run_cmd(cmd, out, sizeof out) == 1 && strstr(out, "unknown genre") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec train --frobnicate 2>&1", soma_bin);
    CHECK(run_cmd(cmd, out, sizeof out) == 2 && strstr(out, "unknown option") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec train --model quantum 2>&1", soma_bin);
    CHECK(run_cmd(cmd, out, sizeof out) == 2 && strstr(out, "unknown --model") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec train --data %s/nowhere -q 2>&1", soma_bin, tmpdir);
    CHECK(run_cmd(cmd, out, sizeof out) == 1 && strstr(out, "not found") != NULL);
    snprintf(cmd, sizeof cmd, "%s rec frobnicate 2>&1", soma_bin);
    CHECK(run_cmd(cmd, out, sizeof out) == 2);
    snprintf(cmd, sizeof cmd, "%s rec --help 2>&1", soma_bin);
    CHECK(run_cmd(cmd, out, sizeof out) == 0 && strstr(out, "recommend") != NULL);
}

int main(int argc, char **argv) {
    sanitized = getenv("SOMA_SANITIZED") != NULL;
    /* the tool sits next to the tests folder: BUILD/tests/test_rec -> BUILD/soma */
    snprintf(soma_bin, sizeof soma_bin, "%s", argc > 0 ? argv[0] : "");
    char *slash = strrchr(soma_bin, '/');
    if (slash) snprintf(slash, sizeof soma_bin - (size_t)(slash - soma_bin), "/../soma");
    else snprintf(soma_bin, sizeof soma_bin, "../soma");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma_test_rec.%d", (int)getpid());
    mkdir(tmpdir, 0700);
    RUN(sparse_kernels_match_reference);
    RUN(sparse_gradcheck_every_integration_mode);
    RUN(model_gradcheck);
    RUN(load_ml100k);
    RUN(load_ml1m);
    RUN(loaders_reject_malformed_files);
    RUN(splits);
    RUN(encoding);
    RUN(encoding_rated);
    RUN(serving_matches_batch_forward);
    RUN(checkpoint_roundtrip);
    RUN(online_update);
    RUN(training_beats_bias_synthetic);
    RUN(training_beats_bias_movielens_subset);
    RUN(cli_rec);
    rm_dir(tmpdir);
    return test_report("test_rec");
}
