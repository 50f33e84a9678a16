/* export/export_internal.h — the exported model: what model.c captures from a net, runs
 * in-process, and emit.c writes as C99. One struct per exported layer; the two must stay
 * operation-for-operation identical (tests/test_export.c checks it by compiling the output). */
#ifndef SOMA_EXPORT_INTERNAL_H
#define SOMA_EXPORT_INTERNAL_H

#include "soma/export.h"
#include "soma/inspect.h"

#define XMAX_BLK 40

typedef struct xlayer {
    soma_layer_kind kind;       /* DENSE or RECURRENT */
    char desc[128];
    int64_t M, N, S;            /* inputs, neurons, S = nblk·N stacked outputs */
    int nblk, nblk_x, R;        /* blocks; the first nblk_x see x, the rest x ⊙ x */
    soma_integrate_mode mode;
    soma_ablation ab;
    bool binary_in;             /* input is 0/1 spikes: sum rows of active inputs */
    bool spiking;               /* false: a membrane readout (out = h, no reset) */
    /* weights */
    float *E;                   /* (M, S) input-major, float mode */
    int8_t *Eq;                 /* (M, S) int8 mode */
    float qs[XMAX_BLK];         /* int8: block b's sums are scaled by qs[b] (÷127 included
                                   for analog input) */
    float *b;                   /* (N) */
    float *lam;                 /* (nlam) bilinear λ */
    int64_t nlam;
    float a_mix;                /* bilinear ab1 a */
    float shunt_k;
    float *Wrec;                /* (N, N) input-major, recurrent, float */
    int8_t *Wrec_q;             /* int8 */
    float rec_qs;
    /* neuron: h = A·u + C·cur + D, spike h >= theta, reset */
    float A, C, D, theta, vr;
    soma_reset reset;
    /* state (the generated NAME_state's arrays) */
    float *y;                   /* (S) synaptic products */
    int32_t *acc;               /* (S) int8 accumulators */
    float *cur;                 /* (N) input current */
    float *u, *h, *o;           /* (N) membrane after reset, pre-reset membrane, output */
} xlayer;

struct soma_export_model {
    char name[48];
    char source[256];
    char spec[1024];
    char summary[512];          /* config line for the generated comments */
    char note[512];             /* soma_export_set_note */
    bool int8;
    int T;
    soma_encoder encoder;
    int64_t in_dim, out_dim;
    float fscale;               /* logits = (Σ_t out_t) · fscale, fscale = (1/T)·(CE scale) */
    bool tiebreak;              /* equal counts go to the higher mean membrane (soma_net_breaks_ties) */
    int nl;
    xlayer *l;
    int t;                      /* steps since reset */
    float *in;                  /* (in_dim) predict's encoded input */
    float *out;                 /* (out_dim) predict's step output */
    float *msum;                /* (out_dim) predict's membrane sums for the tie-break */
};

/* Shortest decimal literal that reads back as exactly v ("0.5f", "-0.0f", "1e-05f"). */
void soma_xfloat_lit(char *buf, size_t n, float v);

#endif
