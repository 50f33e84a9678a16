/*
 * export/emit.c — writes an exported model as one C99 source and header.
 *
 * The generated code is specialised per layer (sizes, modes and neuron constants are
 * literals) and performs the same operations in the same order as model.c's in-process twin,
 * which mirrors Soma's event-driven evaluation path. It includes only <stdint.h> (shunting
 * gates carry their own exp, Soma's, not libm's), uses no heap, no static mutable data and no
 * libc calls, so it builds with -std=c99 -ffreestanding for a microcontroller.
 * Floats are written as the shortest decimal that reads back bit-identical.
 */
#include "export/export_internal.h"
#include "kernels/expf.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void soma_xfloat_lit(char *buf, size_t n, float v) {
    if (v != 0.0f && fabsf(v) < FLT_MIN) { /* subnormal: hex is exact and warning-free */
        snprintf(buf, n, "%af", (double)v);
        return;
    }
    char tmp[48];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, (double)v);
        float back = strtof(tmp, NULL);
        if (memcmp(&back, &v, sizeof v) == 0) break;
    }
    bool has_point = strpbrk(tmp, ".eE") != NULL;
    snprintf(buf, n, "%s%sf", tmp, has_point ? "" : ".0");
}

/* ---- a checked writer ----------------------------------------------------------------------- */

typedef struct out {
    FILE *f;
    const char *name; /* the model's C prefix */
    char NAME[48];    /* the same in capitals, for macros */
} out;

static void w(out *o, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void w(out *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(o->f, fmt, ap);
    va_end(ap);
}

static const char *lit(char *buf, float v) {
    soma_xfloat_lit(buf, 48, v);
    return buf;
}

static void float_array(out *o, const char *nm, const float *v, int64_t n) {
    char b[48];
    w(o, "static const float %s_%s[%lld] = {\n", o->name, nm, (long long)n);
    int col = 0;
    for (int64_t i = 0; i < n; i++) {
        lit(b, v[i]);
        int len = (int)strlen(b) + 1;
        if (col + len > 99) w(o, "\n"), col = 0;
        w(o, "%s%s,", col ? " " : "    ", b);
        col += len + (col ? 1 : 4);
    }
    w(o, "\n};\n");
}

static void int8_array(out *o, const char *nm, const int8_t *v, int64_t n) {
    w(o, "static const int8_t %s_%s[%lld] = {\n", o->name, nm, (long long)n);
    int col = 0;
    for (int64_t i = 0; i < n; i++) {
        char b[8];
        snprintf(b, sizeof b, "%d,", v[i]);
        int len = (int)strlen(b);
        if (col + len > 99) w(o, "\n"), col = 0;
        w(o, "%s%s", col ? " " : "    ", b);
        col += len + (col ? 1 : 4);
    }
    w(o, "\n};\n");
}

/* ---- pieces of the generated code ---------------------------------------------------------- */

static bool any_shunting(const soma_export_model *m) {
    for (int i = 0; i < m->nl; i++)
        if (m->l[i].mode == SOMA_INTEGRATE_SHUNTING) return true;
    return false;
}

static bool any_analog_int8(const soma_export_model *m) {
    for (int i = 0; i < m->nl; i++)
        if (m->int8 && !m->l[i].binary_in) return true;
    return false;
}

static const char *block_names(const xlayer *L, char *buf, size_t n) {
    buf[0] = '\0';
    const char *names[XMAX_BLK];
    int nb = 0;
    switch (L->mode) {
    case SOMA_INTEGRATE_LINEAR: names[nb++] = "W"; break;
    case SOMA_INTEGRATE_BILINEAR:
        if (L->ab == SOMA_ABLATION_AB1) {
            names[nb++] = "W1", names[nb++] = "W2";
            break;
        }
        if (L->ab != SOMA_ABLATION_AB2) names[nb++] = "W";
        for (int f = 0; f < L->R && nb < XMAX_BLK; f++) names[nb++] = "V_f";
        for (int f = 0; f < L->R && nb < XMAX_BLK; f++) names[nb++] = "V_f^2";
        break;
    default:
        switch (L->ab) {
        case SOMA_ABLATION_AB1: names[nb++] = "W+", names[nb++] = "V_p"; break;
        case SOMA_ABLATION_AB2: names[nb++] = "W+", names[nb++] = "W-", names[nb++] = "V_p"; break;
        case SOMA_ABLATION_AB3: names[nb++] = "W", names[nb++] = "V"; break;
        default: names[nb++] = "W+", names[nb++] = "W-", names[nb++] = "V_p", names[nb++] = "V_n"; break;
        }
    }
    for (int b = 0; b < nb; b++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", b ? " | " : "", names[b]);
    }
    return buf;
}

/* The combine step of layer i for neuron j into `c` (integrate.c, bilinear.c, shunting.c). */
static void emit_combine(out *o, const xlayer *L, int i) {
    char b1[48], b2[48];
    const long long N = L->N;
    if (L->mode == SOMA_INTEGRATE_LINEAR) {
        w(o, "        c = y[j] + %s_b%d[j];\n", o->name, i);
    } else if (L->mode == SOMA_INTEGRATE_BILINEAR && L->ab == SOMA_ABLATION_AB1) {
        w(o, "        c = %s * y[j] + (1.0f - %s) * y[%lld + j] + %s_b%d[j];\n", lit(b1, L->a_mix), lit(b2, L->a_mix), N,
          o->name, i);
    } else if (L->mode == SOMA_INTEGRATE_BILINEAR) {
        const int wb = L->ab == SOMA_ABLATION_AB2 ? 0 : 1;
        w(o, "        c = 0.0f;\n");
        for (int f = 0; f < L->R; f++) {
            long long p = (wb + f) * N, q = (wb + L->R + f) * N;
            w(o, "        c += y[%lld + j] * y[%lld + j] - y[%lld + j];\n", p, p, q);
        }
        char lam[96];
        if (L->nlam > 1) snprintf(lam, sizeof lam, "%s_lam%d[j]", o->name, i);
        else lit(lam, L->lam[0]);
        w(o, "        c = %s%s_b%d[j] + %s * c;\n", wb ? "y[j] + " : "", o->name, i, lam);
    } else {
        const char *k = lit(b1, L->shunt_k);
        w(o, "        c = %s_b%d[j];\n", o->name, i);
        switch (L->ab) {
        case SOMA_ABLATION_AB1:
        case SOMA_ABLATION_AB3: w(o, "        c += y[j] * %s_sigm(%s * y[%lld + j]);\n", o->name, k, N); break;
        case SOMA_ABLATION_AB2:
            w(o, "        c += y[j] * %s_sigm(%s * y[%lld + j]);\n", o->name, k, 2 * N);
            w(o, "        c += y[%lld + j];\n", N);
            break;
        default:
            w(o, "        c += y[j] * %s_sigm(%s * y[%lld + j]);\n", o->name, k, 2 * N);
            w(o, "        c += y[%lld + j] * %s_sigm(%s * y[%lld + j]);\n", N, o->name, k, 3 * N);
            break;
        }
    }
}

/* The neuron update of layer i for neuron j from current `cur` (dynamics.c fwd_body). */
static void emit_neuron(out *o, const xlayer *L, int i, const char *cur) {
    char a[48], c[48], d[48], th[48], vr[48];
    w(o, "        h = %s * st->u%d[j] + %s * %s + %s;\n", lit(a, L->A), i, lit(c, L->C), cur, lit(d, L->D));
    w(o, "        st->h%d[j] = h;\n", i);
    if (!L->spiking) {
        w(o, "        st->o%d[j] = h; /* readout: the membrane, no reset */\n        st->u%d[j] = h;\n", i, i);
        return;
    }
    lit(th, L->theta), lit(vr, L->vr);
    w(o, "        s = h >= %s ? 1.0f : 0.0f;\n        st->o%d[j] = s;\n", th, i);
    switch (L->reset) {
    case SOMA_RESET_HARD: w(o, "        st->u%d[j] = h * (1.0f - s) + %s * s;\n", i, vr); break;
    case SOMA_RESET_SOFT: w(o, "        st->u%d[j] = h - %s * s;\n", i, th); break;
    default: w(o, "        st->u%d[j] = h;\n", i); break;
    }
}

/* Writes the weights of layer i under unique names. */
static void emit_weights(out *o, const soma_export_model *m, int i) {
    const xlayer *L = &m->l[i];
    const long long M = L->M, S = L->S, N = L->N;
    char nm[32], blk[256];
    w(o, "\n/* ---- layer %d: %s\n", i, L->desc);
    w(o, " * E%d (%lld x %lld): stacked weights [%s], input-major (row k = input k's %lld outputs)%s */\n", i, M, S,
      block_names(L, blk, sizeof blk), S, m->int8 ? ", int8 with one scale per weight set" : "");
    snprintf(nm, sizeof nm, "E%d", i);
    if (m->int8) int8_array(o, nm, L->Eq, M * S);
    else float_array(o, nm, L->E, M * S);
    snprintf(nm, sizeof nm, "b%d", i);
    float_array(o, nm, L->b, N);
    if (L->nlam > 1) {
        snprintf(nm, sizeof nm, "lam%d", i);
        float_array(o, nm, L->lam, L->nlam);
    }
    if (L->kind == SOMA_LAYER_RECURRENT) {
        w(o, "/* R%d (%lld x %lld): recurrent weights, row i = spike i's outputs */\n", i, N, N);
        snprintf(nm, sizeof nm, "R%d", i);
        if (m->int8) int8_array(o, nm, L->Wrec_q, N * N);
        else float_array(o, nm, L->Wrec, N * N);
    }
}

static void emit_layer_fn(out *o, const soma_export_model *m, int i) {
    const xlayer *L = &m->l[i];
    const long long M = L->M, N = L->N, S = L->S, NX = (long long)L->nblk_x * L->N;
    const bool rec = L->kind == SOMA_LAYER_RECURRENT;
    char b[48];
    w(o, "\n/* Layer %d, one step: y = x·E%d, then per neuron the combine step, %sthe neuron update. */\n", i, i,
      rec ? "s_{t-1}·R, " : "");
    w(o, "static void %s_layer%d(%s_state *st, const float *in)\n{\n", o->name, i, o->name);
    w(o, "    float *y = st->y%d;\n", i);
    if (m->int8) w(o, "    int32_t *acc = st->acc%d;\n", i);
    w(o, "    long k, j;\n");
    const char *Y = m->int8 ? "acc" : "y", *zero = m->int8 ? "0" : "0.0f";
    const char *etype = m->int8 ? "int8_t" : "float";
    w(o, "    for (j = 0; j < %lldL; j++) %s[j] = %s;\n", S, Y, zero);
    w(o, "    for (k = 0; k < %lldL; k++) {\n", M);
    w(o, "        const float xk = in[k];\n        const %s *e;\n", etype);
    w(o, "        if (xk == 0.0f) continue;\n        e = %s_E%d + k * %lldL;\n", o->name, i, S);
    if (L->binary_in) {
        w(o, "        for (j = 0; j < %lldL; j++) %s[j] += e[j];\n", S, Y);
    } else if (!m->int8) {
        w(o, "        for (j = 0; j < %lldL; j++) y[j] += xk * e[j];\n", NX);
        if (NX < S)
            w(o, "        {\n            const float x2 = xk * xk;\n"
                 "            for (j = %lldL; j < %lldL; j++) y[j] += x2 * e[j];\n        }\n", NX, S);
    } else {
        w(o, "        {\n            const int32_t q = %s_q127(xk);\n", o->name);
        w(o, "            for (j = 0; j < %lldL; j++) acc[j] += q * e[j];\n", NX);
        if (NX < S)
            w(o, "            {\n                const int32_t q2 = %s_q127(xk * xk);\n"
                 "                for (j = %lldL; j < %lldL; j++) acc[j] += q2 * e[j];\n            }\n", o->name, NX, S);
        w(o, "        }\n");
    }
    w(o, "    }\n");
    if (m->int8)
        for (int bl = 0; bl < L->nblk; bl++)
            w(o, "    for (j = %lldL; j < %lldL; j++) y[j] = (float)acc[j] * %s;\n", bl * N, (bl + 1) * N, lit(b, L->qs[bl]));
    if (!rec) {
        w(o, "    for (j = 0; j < %lldL; j++) {\n        float c, h%s;\n", N, L->spiking ? ", s" : "");
        emit_combine(o, L, i);
        emit_neuron(o, L, i, "c");
        w(o, "    }\n}\n");
        return;
    }
    w(o, "    for (j = 0; j < %lldL; j++) {\n        float c;\n", N);
    emit_combine(o, L, i);
    w(o, "        st->cur%d[j] = c;\n    }\n", i);
    w(o, "    if (st->t > 0) { /* s_{t-1}: this layer's output of the previous step */\n");
    w(o, "        for (j = 0; j < %lldL; j++) {\n            long r;\n", N);
    if (m->int8) {
        w(o, "            int32_t a = 0;\n");
        w(o, "            for (r = 0; r < %lldL; r++) if (st->o%d[r] != 0.0f) a += %s_R%d[r * %lldL + j];\n", N, i, o->name, i, N);
        w(o, "            st->cur%d[j] = st->cur%d[j] + (float)a * %s;\n", i, i, lit(b, L->rec_qs));
    } else {
        w(o, "            float a = 0.0f;\n");
        w(o, "            for (r = 0; r < %lldL; r++) if (st->o%d[r] != 0.0f) a += %s_R%d[r * %lldL + j];\n", N, i, o->name, i, N);
        w(o, "            st->cur%d[j] = st->cur%d[j] + a;\n", i, i);
    }
    w(o, "        }\n    }\n");
    w(o, "    for (j = 0; j < %lldL; j++) {\n        float h%s;\n", N, L->spiking ? ", s" : "");
    char cur[32];
    snprintf(cur, sizeof cur, "st->cur%d[j]", i);
    emit_neuron(o, L, i, cur);
    w(o, "    }\n}\n");
}

static void emit_encoder(out *o, const soma_export_model *m) {
    const long long M = m->in_dim;
    const char *n = o->name;
    if (m->encoder == SOMA_ENCODE_RATE) {
        w(o, "\n/* Rate coding as Soma's encoder: the draws of step t of sample uid come from a\n"
             " * wyrand generator seeded with a splitmix64 hash of (seed, uid, t), one draw per\n"
             " * nonzero input in input order. */\n");
        w(o, "static uint64_t %s_mix64(uint64_t z)\n{\n"
             "    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;\n"
             "    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;\n"
             "    return z ^ (z >> 31);\n}\n\n", n);
        w(o, "static uint64_t %s_hash3(uint64_t seed, uint64_t a, uint64_t b)\n{\n"
             "    uint64_t h = %s_mix64(seed + 0x9e3779b97f4a7c15ULL);\n"
             "    h = %s_mix64(h ^ (a + 0x632be59bd9b4e019ULL));\n"
             "    return %s_mix64(h ^ (b + 0x85157af5d9b4e013ULL));\n}\n\n", n, n, n, n);
        w(o, "/* wyrand: high and low halves of a 64 x 64 -> 128-bit product, XORed (portable). */\n"
             "static uint64_t %s_wyrand(uint64_t *s)\n{\n"
             "    uint64_t a, b, al, ah, bl, bh, ll, lh, hl, hh, mid, lo, hi;\n"
             "    *s += 0xa0761d6478bd642fULL;\n"
             "    a = *s, b = *s ^ 0xe7037ed1a0b428dbULL;\n"
             "    al = a & 0xffffffffULL, ah = a >> 32, bl = b & 0xffffffffULL, bh = b >> 32;\n"
             "    ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;\n"
             "    mid = (ll >> 32) + (lh & 0xffffffffULL) + (hl & 0xffffffffULL);\n"
             "    lo = (mid << 32) | (ll & 0xffffffffULL);\n"
             "    hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);\n"
             "    return hi ^ lo;\n}\n", n);
        w(o, "\nvoid %s_encode(const float *x, uint64_t seed, uint64_t uid, int t, float *in)\n{\n", n);
        w(o, "    uint64_t st = %s_hash3(seed, uid, (uint64_t)t);\n    long j;\n", n);
        w(o, "    for (j = 0; j < %lldL; j++) {\n        const float p = x[j];\n", M);
        w(o, "        in[j] = p > 0.0f && (float)(%s_wyrand(&st) >> 40) * (1.0f / 16777216.0f) < p ? 1.0f : 0.0f;\n", n);
        w(o, "    }\n}\n");
    } else if (m->encoder == SOMA_ENCODE_LATENCY) {
        w(o, "\n/* lrintf for 0 <= v < 2^23 (nearest, ties to even), without libm. */\n"
             "static long %s_rint(float v)\n{\n    long i = (long)v;\n    float f = v - (float)i;\n"
             "    if (f > 0.5f || (f == 0.5f && (i & 1))) i++;\n    return i;\n}\n", n);
        w(o, "\n/* Latency coding: one spike at round((1 - p)(T - 1)) for p > 0. */\n");
        w(o, "void %s_encode(const float *x, uint64_t seed, uint64_t uid, int t, float *in)\n{\n    long j;\n", n);
        w(o, "    (void)seed;\n    (void)uid;\n");
        w(o, "    for (j = 0; j < %lldL; j++) {\n        const float p = x[j] > 1.0f ? 1.0f : x[j];\n", M);
        w(o, "        in[j] = p > 0.0f && %s_rint((1.0f - p) * (float)%d) == t ? 1.0f : 0.0f;\n    }\n}\n", n, m->T - 1);
    } else {
        w(o, "\n/* Direct coding: the input values themselves at every step. */\n");
        w(o, "void %s_encode(const float *x, uint64_t seed, uint64_t uid, int t, float *in)\n{\n    long j;\n", n);
        w(o, "    (void)seed;\n    (void)uid;\n    (void)t;\n");
        w(o, "    for (j = 0; j < %lldL; j++) in[j] = x[j];\n}\n", M);
    }
}

static void emit_header(out *o, const soma_export_model *m, const soma_export_info *sz) {
    const char *n = o->name, *N = o->NAME;
    w(o, "/*\n * %s.h — a spiking neural network exported by Soma (`soma export`)%s%s.\n *\n", n,
      m->source[0] ? " from " : "", m->source);
    w(o, " *   net %s: %s\n", m->spec, m->summary);
    for (int i = 0; i < m->nl; i++) w(o, " *   layer %d: %s\n", i, m->l[i].desc);
    w(o, " *   %lld weights, %lld bytes of constant data; state %lld bytes (%s_state)\n", (long long)sz->n_weights,
      (long long)sz->weight_bytes, (long long)sz->state_bytes, n);
    if (m->note[0]) w(o, " *   %s\n", m->note);
    w(o, " *\n * Use:\n"
         " *   static %s_state st;                 all state lives here: no heap, no globals\n"
         " *   int cls = %s_predict(&st, x, seed, uid, logits);\n"
         " *       x: %s_N_IN values in [0, 1]; seed, uid: the encoding stream and sample id\n"
         " *       (soma eval uses seed = 31*--seed + 977 and uid = the sample's index);\n"
         " *       logits: %s_N_OUT readouts as soma eval computes them; returns the class.\n"
         " * or step by step with your own input spikes:\n"
         " *   %s_reset(&st);\n"
         " *   for (t = 0; t < %s_T; t++) { %s_encode(x, seed, uid, t, in); %s_step(&st, in, out); }\n"
         " * After a step, st.h<i> holds layer i's pre-reset membrane and st.o<i> its output.\n",
      n, n, N, N, n, N, n, n);
    w(o, " *\n * Build: cc -std=c99 -O2 -c %s.c (C99, no malloc, no libc, no libm). Reentrant.\n", n);
    w(o, " * Exactness: float weights give Soma's event-driven evaluation bit for bit, given IEEE\n"
         " * single precision without FMA contraction (GCC's default with -std=c99; add\n"
         " * -ffp-contract=off with -std=gnu99 or -march flags that enable FMA).\n */\n");
    w(o, "#ifndef %s_H_\n#define %s_H_\n\n#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n", N, N);
    w(o, "#define %s_T %d          /* time steps per sample */\n", N, m->T);
    w(o, "#define %s_N_IN %lld     /* input features */\n", N, (long long)m->in_dim);
    w(o, "#define %s_N_OUT %lld    /* output neurons (classes) */\n", N, (long long)m->out_dim);
    w(o, "#define %s_INT8 %d       /* 1: int8 weights with int32 accumulation */\n\n", N, m->int8 ? 1 : 0);
    w(o, "typedef struct %s_state {\n    long t;                    /* steps since reset */\n", n);
    w(o, "    float in[%lld];          /* %s_predict's encoded input */\n", (long long)m->in_dim, n);
    w(o, "    float out[%lld];         /* %s_predict's step output */\n", (long long)m->out_dim, n);
    for (int i = 0; i < m->nl; i++) {
        const xlayer *L = &m->l[i];
        w(o, "    /* layer %d: %s */\n", i, L->desc);
        w(o, "    float y%d[%lld];          /* synaptic products of the stacked weight sets */\n", i, (long long)L->S);
        if (m->int8) w(o, "    int32_t acc%d[%lld];      /* their int32 accumulators */\n", i, (long long)L->S);
        if (L->kind == SOMA_LAYER_RECURRENT) w(o, "    float cur%d[%lld];        /* input current */\n", i, (long long)L->N);
        w(o, "    float u%d[%lld], h%d[%lld], o%d[%lld]; /* membrane after reset, before reset, output */\n", i,
          (long long)L->N, i, (long long)L->N, i, (long long)L->N);
    }
    w(o, "} %s_state;\n\n", n);
    w(o, "/* Clears the membranes and outputs: call before each sample. */\n");
    w(o, "void %s_reset(%s_state *st);\n", n, n);
    w(o, "/* One time step. in (%s_N_IN): this step's input (0/1 spikes for rate or latency coding,\n"
         " * the values for direct coding). out (%s_N_OUT): the output layer's %s. */\n", N, N,
      m->l[m->nl - 1].spiking ? "spikes (0/1)" : "membrane potential");
    w(o, "void %s_step(%s_state *st, const float *in, float *out);\n", n, n);
    w(o, "/* Soma's %s encoder: step t's input for sample x (%s_N_IN values). */\n", soma_encoder_name(m->encoder), N);
    w(o, "void %s_encode(const float *x, uint64_t seed, uint64_t uid, int t, float *in);\n", n);
    w(o, "/* Reset, %s_T steps, then logits = mean output over T%s%s; returns the argmax%s. */\n", N,
      m->fscale * (float)m->T != 1.0f ? " times the CE logit scale" : "",
      m->tiebreak ? ",\n * plus the mean membrane / 100 spikes (which breaks ties between equal counts)" : "",
      m->out_dim == 1 ? " (here: logit > 0.5)" : "");
    w(o, "int %s_predict(%s_state *st, const float *x, uint64_t seed, uint64_t uid, float *logits);\n", n, n);
    w(o, "\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
}

static void emit_source(out *o, const soma_export_model *m) {
    const char *n = o->name, *N = o->NAME;
    char b[48];
    w(o, "/* %s.c — generated by Soma's `soma export`; see %s.h. Re-export instead of editing. */\n", n, n);
    w(o, "#include \"%s.h\"\n", n);
    for (int i = 0; i < m->nl; i++) emit_weights(o, m, i);
    if (any_shunting(m)) {
        char fn[64];
        snprintf(fn, sizeof fn, "%s_exp", n);
        w(o, "\n");
        w(o, soma_expf_source_fmt, fn);
        w(o, "\nstatic float %s_sigm(float z)\n{\n    return 1.0f / (1.0f + %s_exp(-z));\n}\n", n, n);
    }
    if (any_analog_int8(m))
        w(o, "\n/* round(127 x), clamped to +-127, halves away from zero */\n"
             "static int32_t %s_q127(float x)\n{\n    float v = x * 127.0f;\n"
             "    if (v > 127.0f) v = 127.0f;\n    if (v < -127.0f) v = -127.0f;\n"
             "    return (int32_t)(v >= 0.0f ? v + 0.5f : v - 0.5f);\n}\n", n);
    for (int i = 0; i < m->nl; i++) emit_layer_fn(o, m, i);
    w(o, "\nvoid %s_reset(%s_state *st)\n{\n    long j;\n    st->t = 0;\n", n, n);
    for (int i = 0; i < m->nl; i++)
        w(o, "    for (j = 0; j < %lldL; j++) st->u%d[j] = 0.0f, st->h%d[j] = 0.0f, st->o%d[j] = 0.0f;\n",
          (long long)m->l[i].N, i, i, i);
    w(o, "}\n");
    w(o, "\nvoid %s_step(%s_state *st, const float *in, float *out)\n{\n    long j;\n", n, n);
    for (int i = 0; i < m->nl; i++) {
        if (i == 0) w(o, "    %s_layer0(st, in);\n", n);
        else w(o, "    %s_layer%d(st, st->o%d);\n", n, i, i - 1);
    }
    w(o, "    for (j = 0; j < %s_N_OUT; j++) out[j] = st->o%d[j];\n    st->t++;\n}\n", N, m->nl - 1);
    emit_encoder(o, m);
    w(o, "\nint %s_predict(%s_state *st, const float *x, uint64_t seed, uint64_t uid, float *logits)\n{\n", n, n);
    const int last = m->nl - 1;
    w(o, "    long c;\n    int t, best = 0;\n");
    if (m->tiebreak) w(o, "    float ms[%s_N_OUT]; /* summed output membranes: they break ties between equal counts */\n", N);
    w(o, "    %s_reset(st);\n", n);
    w(o, "    for (c = 0; c < %s_N_OUT; c++) logits[c] = 0.0f%s;\n", N, m->tiebreak ? ", ms[c] = 0.0f" : "");
    w(o, "    for (t = 0; t < %s_T; t++) {\n        %s_encode(x, seed, uid, t, st->in);\n", N, n);
    w(o, "        %s_step(st, st->in, st->out);\n", n);
    w(o, "        for (c = 0; c < %s_N_OUT; c++) logits[c] += st->out[c];\n", N);
    if (m->tiebreak) w(o, "        for (c = 0; c < %s_N_OUT; c++) ms[c] += st->h%d[c];\n", N, last);
    w(o, "    }\n");
    w(o, "    for (c = 0; c < %s_N_OUT; c++) logits[c] *= %s;\n", N, lit(b, m->fscale));
    if (m->tiebreak) {
        w(o, "    for (c = 0; c < %s_N_OUT; c++) { /* + mean membrane (clamped to +-10) / 100 spikes */\n", N);
        w(o, "        float a = ms[c] / %s;\n", lit(b, (float)m->T));
        w(o, "        a = a > 10.0f ? 10.0f : a < -10.0f ? -10.0f : a;\n");
        char b2[48];
        soma_xfloat_lit(b2, sizeof b2, m->fscale / 100.0f);
        w(o, "        logits[c] += a * %s;\n    }\n", b2);
    }
    if (m->out_dim == 1) {
        w(o, "    (void)best;\n    return logits[0] > 0.5f;\n}\n");
    } else {
        w(o, "    for (c = 1; c < %s_N_OUT; c++)\n        if (logits[c] > logits[best]) best = (int)c;\n", N);
        w(o, "    return best;\n}\n");
    }
}

static int write_file(const char *path, const soma_export_model *m, const soma_export_info *sz, bool header,
                      int64_t *bytes, soma_error *err) {
    out o = {0};
    o.name = m->name;
    for (size_t i = 0; i <= strlen(m->name); i++)
        o.NAME[i] = (char)(m->name[i] >= 'a' && m->name[i] <= 'z' ? m->name[i] - 32 : m->name[i]);
    o.f = fopen(path, "w");
    if (!o.f) return soma_fail(err, SOMA_E_IO, "%s: cannot open for writing", path);
    if (header) emit_header(&o, m, sz);
    else emit_source(&o, m);
    bool bad = ferror(o.f) != 0;
    long pos = ftell(o.f);
    if (fclose(o.f) != 0 || bad) return soma_fail(err, SOMA_E_IO, "%s: write failed", path);
    *bytes += pos > 0 ? pos : 0;
    return SOMA_OK;
}

int soma_export_write(const soma_export_model *m, const char *dir, soma_export_info *info,
                      soma_error *err) {
    soma_export_info local;
    if (!info) info = &local;
    soma_export_sizes(m, info);
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return soma_fail(err, SOMA_E_IO, "%s: not a directory (create it first)", dir);
    snprintf(info->h_path, sizeof info->h_path, "%s/%s.h", dir, m->name);
    snprintf(info->c_path, sizeof info->c_path, "%s/%s.c", dir, m->name);
    int rc = write_file(info->h_path, m, info, true, &info->source_bytes, err);
    if (rc == SOMA_OK) rc = write_file(info->c_path, m, info, false, &info->source_bytes, err);
    return rc;
}
