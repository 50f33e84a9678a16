/*
 * export/model.c — the exported model: captured from a net (stacked weights, combine
 * parameters, neuron constants, optional int8 quantisation) and run in-process with exactly
 * the arithmetic that emit.c writes as C99. Every loop here has its twin in the generated
 * code; keep them in step (tests/test_export.c compiles the output and compares).
 *
 * What it deliberately does not do: run fast. It is the reference for the generated code
 * and for the accuracy the exporter reports, not an inference engine.
 */
#include "export/export_internal.h"
#include "kernels/expf.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

soma_export_options soma_export_default_options(void) {
    soma_export_options o = {"soma_model", false, NULL};
    return o;
}

/* ---- the encoder, portable (no 128-bit integers), as the generated code has it ------------ */

static uint64_t xmix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t xhash3(uint64_t seed, uint64_t a, uint64_t b) {
    uint64_t h = xmix64(seed + 0x9e3779b97f4a7c15ULL);
    h = xmix64(h ^ (a + 0x632be59bd9b4e019ULL));
    return xmix64(h ^ (b + 0x85157af5d9b4e013ULL));
}

/* wyrand: the high and low halves of a 64×64 → 128-bit product, XORed. */
static uint64_t xwyrand(uint64_t *s) {
    uint64_t a, b, al, ah, bl, bh, ll, lh, hl, hh, mid, lo, hi;
    *s += 0xa0761d6478bd642fULL;
    a = *s, b = *s ^ 0xe7037ed1a0b428dbULL;
    al = a & 0xffffffffULL, ah = a >> 32, bl = b & 0xffffffffULL, bh = b >> 32;
    ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);
    lo = (mid << 32) | (ll & 0xffffffffULL);
    hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
    return hi ^ lo;
}

/* lrintf for 0 <= v < 2^23 in the default rounding mode: nearest, ties to even. */
static long xrint(float v) {
    long i = (long)v;
    float f = v - (float)i;
    if (f > 0.5f || (f == 0.5f && (i & 1))) i++;
    return i;
}

void soma_export_encode(const soma_export_model *m, const float *x, uint64_t seed, uint64_t uid,
                        int t, float *in) {
    const int64_t M = m->in_dim;
    if (m->encoder == SOMA_ENCODE_RATE) {
        uint64_t st = xhash3(seed, uid, (uint64_t)t);
        for (int64_t j = 0; j < M; j++) {
            float p = x[j];
            in[j] = p > 0.0f && (float)(xwyrand(&st) >> 40) * (1.0f / 16777216.0f) < p ? 1.0f : 0.0f;
        }
    } else if (m->encoder == SOMA_ENCODE_LATENCY) {
        for (int64_t j = 0; j < M; j++) {
            float p = x[j] > 1.0f ? 1.0f : x[j];
            in[j] = p > 0.0f && xrint((1.0f - p) * (float)(m->T - 1)) == t ? 1.0f : 0.0f;
        }
    } else {
        for (int64_t j = 0; j < M; j++) in[j] = x[j];
    }
}

/* round(127·x), clamped to ±127, halves away from zero. */
static int32_t xq127(float x) {
    float v = x * 127.0f;
    if (v > 127.0f) v = 127.0f;
    if (v < -127.0f) v = -127.0f;
    return (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
}

/* integrate/shunting.c's gate, with Soma's own exp (kernels/expf.h) */
static inline float xsigm(float z) { return 1.0f / (1.0f + soma_expf1(-z)); }

/* ---- one step ------------------------------------------------------------------------------ */

/* y (S) = A_E(x): rows of the active inputs summed in increasing input order. */
static void synapse(xlayer *L, const float *in, bool int8) {
    const int64_t M = L->M, S = L->S, NX = (int64_t)L->nblk_x * L->N;
    if (!int8) {
        float *y = L->y;
        for (int64_t j = 0; j < S; j++) y[j] = 0.0f;
        for (int64_t k = 0; k < M; k++) {
            const float xk = in[k];
            if (xk == 0.0f) continue;
            const float *e = L->E + k * S;
            if (L->binary_in) {
                for (int64_t j = 0; j < S; j++) y[j] += e[j];
            } else {
                const float x2 = xk * xk;
                for (int64_t j = 0; j < NX; j++) y[j] += xk * e[j];
                for (int64_t j = NX; j < S; j++) y[j] += x2 * e[j];
            }
        }
        return;
    }
    int32_t *acc = L->acc;
    for (int64_t j = 0; j < S; j++) acc[j] = 0;
    for (int64_t k = 0; k < M; k++) {
        const float xk = in[k];
        if (xk == 0.0f) continue;
        const int8_t *e = L->Eq + k * S;
        if (L->binary_in) {
            for (int64_t j = 0; j < S; j++) acc[j] += e[j];
        } else {
            const int32_t q = xq127(xk), q2 = xq127(xk * xk);
            for (int64_t j = 0; j < NX; j++) acc[j] += q * e[j];
            for (int64_t j = NX; j < S; j++) acc[j] += q2 * e[j];
        }
    }
    for (int b = 0; b < L->nblk; b++)
        for (int64_t j = b * L->N; j < (b + 1) * L->N; j++) L->y[j] = (float)acc[j] * L->qs[b];
}

/* cur (N) from y: the integration mode's combine step (integrate.c, bilinear.c, shunting.c). */
static void combine(xlayer *L) {
    const int64_t N = L->N;
    const float *y = L->y;
    for (int64_t j = 0; j < N; j++) {
        float c;
        if (L->mode == SOMA_INTEGRATE_LINEAR) {
            c = y[j] + L->b[j];
        } else if (L->mode == SOMA_INTEGRATE_BILINEAR && L->ab == SOMA_ABLATION_AB1) {
            c = L->a_mix * y[j] + (1.0f - L->a_mix) * y[N + j] + L->b[j];
        } else if (L->mode == SOMA_INTEGRATE_BILINEAR) {
            const int w = L->ab == SOMA_ABLATION_AB2 ? 0 : 1;
            const float lam = L->nlam > 1 ? L->lam[j] : L->lam[0];
            c = 0.0f;
            for (int f = 0; f < L->R; f++) {
                const float p = y[(w + f) * N + j], q = y[(w + L->R + f) * N + j];
                c += p * p - q;
            }
            c = w ? y[j] + L->b[j] + lam * c : L->b[j] + lam * c;
        } else { /* shunting: blocks per ablation as shunting.c's map_of */
            const float k = L->shunt_k;
            c = L->b[j];
            switch (L->ab) {
            case SOMA_ABLATION_AB1:
            case SOMA_ABLATION_AB3: c += y[j] * xsigm(k * y[N + j]); break;
            case SOMA_ABLATION_AB2:
                c += y[j] * xsigm(k * y[2 * N + j]);
                c += y[N + j];
                break;
            default:
                c += y[j] * xsigm(k * y[2 * N + j]);
                c += y[N + j] * xsigm(k * y[3 * N + j]);
                break;
            }
        }
        L->cur[j] = c;
    }
}

/* cur += s_{t−1}·W_rec (recurrent layers, t > 0). */
static void recurrent(xlayer *L, bool int8) {
    const int64_t N = L->N;
    for (int64_t j = 0; j < N; j++) {
        if (!int8) {
            float acc = 0.0f;
            for (int64_t i = 0; i < N; i++)
                if (L->o[i] != 0.0f) acc += L->Wrec[i * N + j];
            L->cur[j] = L->cur[j] + acc;
        } else {
            int32_t acc = 0;
            for (int64_t i = 0; i < N; i++)
                if (L->o[i] != 0.0f) acc += L->Wrec_q[i * N + j];
            L->cur[j] = L->cur[j] + (float)acc * L->rec_qs;
        }
    }
}

/* h = A·u + C·cur + D; spike and reset (dynamics.c fwd_body). */
static void neuron(xlayer *L) {
    for (int64_t j = 0; j < L->N; j++) {
        const float h = L->A * L->u[j] + L->C * L->cur[j] + L->D;
        L->h[j] = h;
        if (!L->spiking) {
            L->o[j] = h;
            L->u[j] = h;
        } else {
            const float s = h >= L->theta ? 1.0f : 0.0f;
            L->o[j] = s;
            L->u[j] = L->reset == SOMA_RESET_HARD ? h * (1.0f - s) + L->vr * s
                      : L->reset == SOMA_RESET_SOFT ? h - L->theta * s
                                                    : h;
        }
    }
}

void soma_export_reset(soma_export_model *m) {
    m->t = 0;
    for (int i = 0; i < m->nl; i++) {
        xlayer *L = &m->l[i];
        memset(L->u, 0, (size_t)L->N * sizeof(float));
        memset(L->h, 0, (size_t)L->N * sizeof(float));
        memset(L->o, 0, (size_t)L->N * sizeof(float));
    }
}

void soma_export_step(soma_export_model *m, const float *in, float *out) {
    const float *x = in;
    for (int i = 0; i < m->nl; i++) {
        xlayer *L = &m->l[i];
        synapse(L, x, m->int8);
        combine(L);
        if (L->kind == SOMA_LAYER_RECURRENT && m->t > 0) recurrent(L, m->int8);
        neuron(L);
        x = L->o;
    }
    memcpy(out, x, (size_t)m->out_dim * sizeof(float));
    m->t++;
}

int soma_export_predict(soma_export_model *m, const float *x, uint64_t seed, uint64_t uid,
                        float *logits) {
    const int64_t C = m->out_dim;
    const float *h = m->l[m->nl - 1].h;
    float *ms = m->msum;
    soma_export_reset(m);
    for (int64_t c = 0; c < C; c++) logits[c] = 0.0f, ms[c] = 0.0f;
    for (int t = 0; t < m->T; t++) {
        soma_export_encode(m, x, seed, uid, t, m->in);
        soma_export_step(m, m->in, m->out);
        for (int64_t c = 0; c < C; c++) logits[c] += m->out[c];
        for (int64_t c = 0; m->tiebreak && c < C; c++) ms[c] += h[c];
    }
    for (int64_t c = 0; c < C; c++) logits[c] *= m->fscale;
    for (int64_t c = 0; m->tiebreak && c < C; c++) { /* loss.c's tie-break, operation for operation */
        float a = ms[c] / (float)m->T;
        a = a > 10.0f ? 10.0f : a < -10.0f ? -10.0f : a;
        logits[c] += a * (m->fscale / 100.0f);
    }
    if (C == 1) return logits[0] > 0.5f;
    int best = 0;
    for (int64_t c = 1; c < C; c++)
        if (logits[c] > logits[best]) best = (int)c;
    return best;
}

const float *soma_export_layer_mem(const soma_export_model *m, int j) {
    return j >= 0 && j < m->nl ? m->l[j].h : NULL;
}
const float *soma_export_layer_out(const soma_export_model *m, int j) {
    return j >= 0 && j < m->nl ? m->l[j].o : NULL;
}
int soma_export_layer_count(const soma_export_model *m) { return m->nl; }

int soma_export_evaluate(soma_export_model *m, const soma_dataset *d, uint64_t seed,
                         double *accuracy, int32_t *pred, soma_error *err) {
    if (d->dim != m->in_dim)
        return soma_fail(err, SOMA_E_SHAPE, "the data has %d features per sample but the model's input is %lld",
                         d->dim, (long long)m->in_dim);
    float *logits = soma_malloc((size_t)m->out_dim * sizeof(float));
    if (!logits) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    int64_t correct = 0;
    for (int64_t i = 0; i < d->n; i++) {
        int c = soma_export_predict(m, d->x + i * d->dim, seed, (uint64_t)i, logits);
        correct += c == d->y[i];
        if (pred) pred[i] = c;
    }
    soma_free(logits);
    *accuracy = d->n ? (double)correct / (double)d->n : 0.0;
    return SOMA_OK;
}

/* ---- capture ------------------------------------------------------------------------------ */

static void layer_free(xlayer *L) {
    soma_free(L->E), soma_free(L->Eq), soma_free(L->b), soma_free(L->lam);
    soma_free(L->Wrec), soma_free(L->Wrec_q);
    soma_free(L->y), soma_free(L->acc), soma_free(L->cur);
    soma_free(L->u), soma_free(L->h), soma_free(L->o);
}

void soma_export_free(soma_export_model *m) {
    if (!m) return;
    for (int i = 0; i < m->nl; i++) layer_free(&m->l[i]);
    soma_free(m->l);
    soma_free(m->in);
    soma_free(m->out);
    soma_free(m->msum);
    soma_free(m);
}

static bool valid_name(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 40) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
        if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

static float *dup_floats(const float *src, int64_t n) {
    float *d = soma_malloc((size_t)(n ? n : 1) * sizeof(float));
    if (d && n) memcpy(d, src, (size_t)n * sizeof(float));
    return d;
}

/* Symmetric int8 of q[i·stride + off .. ] over a (rows, len) slice: returns the scale. */
static float quantize(int8_t *q, const float *w, int64_t rows, int64_t stride, int64_t off, int64_t len) {
    float mx = 0.0f;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < len; j++) {
            float a = fabsf(w[r * stride + off + j]);
            mx = a > mx ? a : mx;
        }
    const float scale = mx > 0.0f ? mx / 127.0f : 1.0f;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < len; j++) {
            float v = w[r * stride + off + j] / scale;
            v = v > 127.0f ? 127.0f : v < -127.0f ? -127.0f : v;
            q[r * stride + off + j] = (int8_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);
        }
    return scale;
}

static bool all_finite(const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return false;
    return true;
}

static int capture_layer(xlayer *L, soma_net *net, int i, const soma_layer_info *li, bool int8,
                         soma_error *err) {
    L->kind = li->kind;
    snprintf(L->desc, sizeof L->desc, "%s", soma_net_layer_desc(net, i));
    L->M = li->in_dim, L->N = li->out_dim, L->nblk = li->nblk, L->nblk_x = li->nblk_x;
    L->S = (int64_t)li->nblk * li->out_dim;
    L->R = li->integrate.mode == SOMA_INTEGRATE_BILINEAR ? li->integrate.rank : 1;
    L->mode = li->integrate.mode, L->ab = li->integrate.ablation;
    L->binary_in = li->binary_in, L->spiking = li->neuron.spiking;
    L->shunt_k = li->integrate.shunt_k;
    if (L->nblk < 1 || L->nblk > XMAX_BLK)
        return soma_fail(err, SOMA_E_ARG, "layer %d: %d stacked weight sets cannot be exported", i, L->nblk);
    int64_t nE = 0, nb = 0, nl = 0, nr = 0, na = 0, np = 0;
    const float *E = soma_net_layer_weights(net, i, &nE);
    const float *b = soma_net_layer_tensor(net, i, "b", &nb);
    const float *lam = soma_net_layer_tensor(net, i, "lambda", &nl);
    const float *a = soma_net_layer_tensor(net, i, "a", &na);
    const float *wr = soma_net_layer_tensor(net, i, "W_rec", &nr);
    const float *pw = soma_net_layer_tensor(net, i, "plif_w", &np);
    if (!E || nE != L->M * L->S || !b || nb != L->N)
        return soma_fail(err, SOMA_E_ARG, "layer %d (%s): unexpected weight layout", i, L->desc);
    if (!all_finite(E, nE) || !all_finite(b, nb) || (lam && !all_finite(lam, nl)) || (wr && !all_finite(wr, nr)))
        return soma_fail(err, SOMA_E_ARG, "layer %d (%s): weights are not finite (a diverged training run?)", i, L->desc);
    if (L->mode == SOMA_INTEGRATE_BILINEAR && L->ab != SOMA_ABLATION_AB1 && (!lam || nl < 1))
        return soma_fail(err, SOMA_E_ARG, "layer %d: bilinear layer without lambda", i);
    if (L->kind == SOMA_LAYER_RECURRENT && nr != L->N * L->N)
        return soma_fail(err, SOMA_E_ARG, "layer %d: recurrent layer without W_rec", i);
    L->b = dup_floats(b, nb);
    L->lam = dup_floats(lam, nl), L->nlam = nl;
    L->a_mix = a && na == 1 ? a[0] : 0.0f;
    L->y = soma_calloc((size_t)L->S, sizeof(float));
    L->cur = soma_calloc((size_t)L->N, sizeof(float));
    L->u = soma_calloc((size_t)L->N, sizeof(float));
    L->h = soma_calloc((size_t)L->N, sizeof(float));
    L->o = soma_calloc((size_t)L->N, sizeof(float));
    if (!L->b || !L->lam || !L->y || !L->cur || !L->u || !L->h || !L->o) goto nomem;
    if (!int8) {
        if (!(L->E = dup_floats(E, nE))) goto nomem;
        if (wr && !(L->Wrec = dup_floats(wr, nr))) goto nomem;
    } else {
        L->Eq = soma_malloc((size_t)nE);
        L->acc = soma_calloc((size_t)L->S, sizeof(int32_t));
        if (!L->Eq || !L->acc) goto nomem;
        for (int bl = 0; bl < L->nblk; bl++) {
            float s = quantize(L->Eq, E, L->M, L->S, (int64_t)bl * L->N, L->N);
            L->qs[bl] = L->binary_in ? s : s * (1.0f / 127.0f);
        }
        if (wr) {
            if (!(L->Wrec_q = soma_malloc((size_t)nr))) goto nomem;
            L->rec_qs = quantize(L->Wrec_q, wr, L->N, L->N, 0, L->N);
        }
    }
    soma_neuron_params np_ = li->neuron;
    float k_plif = pw && np == 1 ? 1.0f / (1.0f + expf(-pw[0])) : 0.0f; /* spiking.c plif_k */
    soma_neuron_coeffs(&np_, k_plif, &L->A, &L->C, &L->D);
    L->theta = np_.theta, L->vr = np_.v_reset;
    L->reset = np_.spiking ? np_.reset : SOMA_RESET_NONE;
    return SOMA_OK;
nomem:
    return soma_fail(err, SOMA_E_NOMEM, "out of memory exporting layer %d", i);
}

int soma_export_create(soma_export_model **out, soma_net *net, const soma_export_options *o,
                       soma_error *err) {
    *out = NULL;
    soma_export_options def = soma_export_default_options();
    if (!o) o = &def;
    const char *name = o->name ? o->name : def.name;
    if (!valid_name(name))
        return soma_fail(err, SOMA_E_ARG, "export name \"%s\" is not a C identifier of at most 40 characters", name);
    const soma_net_config *cfg = soma_net_config_of(net);
    if (cfg->neuron.smooth_forward) return soma_fail(err, SOMA_E_ARG, "smooth-forward (test-only) nets cannot be exported");
    soma_export_model *m = soma_calloc(1, sizeof *m);
    if (!m) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    int rc = SOMA_OK;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->source, sizeof m->source, "%s", o->source ? o->source : "");
    snprintf(m->spec, sizeof m->spec, "%s", soma_net_spec(net));
    m->int8 = o->int8;
    m->T = cfg->T, m->encoder = cfg->encoder;
    m->in_dim = soma_net_input_dim(net), m->out_dim = soma_net_output_dim(net);
    const float invT = 1.0f / (float)cfg->T; /* loss.c: z *= invT · (CE ? scale : 1) */
    m->fscale = invT * (cfg->loss == SOMA_LOSS_CE ? cfg->logit_scale : 1.0f);
    m->tiebreak = soma_net_breaks_ties(net);
    const int nl = soma_net_layer_count(net);
    m->l = soma_calloc((size_t)nl, sizeof *m->l);
    m->in = soma_calloc((size_t)m->in_dim, sizeof(float));
    m->out = soma_calloc((size_t)m->out_dim, sizeof(float));
    m->msum = soma_calloc((size_t)m->out_dim, sizeof(float));
    if (!m->l || !m->in || !m->out || !m->msum) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nl; i++) {
        soma_layer_info li;
        soma_net_layer_info(net, i, &li);
        if (li.kind == SOMA_LAYER_DROPOUT) continue; /* identity in evaluation */
        if (li.kind == SOMA_LAYER_OTHER) {
            rc = soma_fail(err, SOMA_E_ARG, "layer %d (%s) cannot be exported yet: only dense, recurrent and dropout layers are supported",
                           i, soma_net_layer_desc(net, i));
            goto fail;
        }
        xlayer *L = &m->l[m->nl++];
        if ((rc = capture_layer(L, net, i, &li, o->int8, err)) != SOMA_OK) goto fail;
    }
    if (m->nl == 0) {
        rc = soma_fail(err, SOMA_E_ARG, "the net has no layers with weights");
        goto fail;
    }
    snprintf(m->summary, sizeof m->summary, "T = %d, %s encoding, %s readout, neuron %s (reset %s, threshold %g), %s weights",
             cfg->T, soma_encoder_name(cfg->encoder), soma_readout_name(cfg->readout),
             soma_neuron_kind_name(cfg->neuron.kind), soma_reset_name(cfg->neuron.reset), (double)cfg->neuron.theta,
             o->int8 ? "int8" : "float");
    *out = m;
    return SOMA_OK;
fail:
    soma_export_free(m);
    return rc;
}

void soma_export_set_note(soma_export_model *m, const char *note) {
    snprintf(m->note, sizeof m->note, "%s", note ? note : "");
    for (char *c = m->note; *c; c++) /* it goes into a comment: no "*" "/" and no newlines */
        if ((c[0] == '*' && c[1] == '/') || *c == '\n' || *c == '\r') *c = ' ';
}

void soma_export_sizes(const soma_export_model *m, soma_export_info *info) {
    memset(info, 0, sizeof *info);
    int64_t w = 0, c = 0, st = m->in_dim + m->out_dim; /* state: in[], out[] (and t) */
    for (int i = 0; i < m->nl; i++) {
        const xlayer *L = &m->l[i];
        int64_t nw = L->M * L->S + (L->Wrec || L->Wrec_q ? L->N * L->N : 0);
        info->n_weights += nw;
        w += nw * (m->int8 ? 1 : 4);
        c += 4 * (L->N + L->nlam + 1 + L->nblk); /* b, λ, constants, scales (upper bound) */
        st += L->S + 3 * L->N;                  /* y, u, h, o */
        if (L->kind == SOMA_LAYER_RECURRENT) st += L->N; /* cur */
        if (m->int8) st += L->S;                /* acc */
    }
    info->weight_bytes = w + c;
    info->state_bytes = (4 * st + 8 + 7) / 8 * 8; /* + long t, padded to its alignment (LP64) */
}
