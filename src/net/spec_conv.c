/*
 * net/spec_conv.c — the image tokens of the net notation (soma/net.h has the grammar):
 *
 *   1x28x28        first token: the input as an image C×H×W
 *   32C3           conv, 32 channels, 3×3, stride 1, padding k/2;  32C5s2p0b: stride 2,
 *                  padding 0, bilinear (mode suffix l/b/s last; "s" + digits is the stride)
 *   P2 / A2        right after a conv (or its other fused stages): max / avg pooling of the
 *                  conv's current, before its neurons (the reference net's conv → pool → LIF);
 *                  anywhere else a standalone pooling layer
 *   BN / tdBN      batch norm / threshold-dependent BN of the conv's current (fused)
 *   MPBN           membrane-potential BN in the conv's neurons (fused)
 *   MP2 / AP2      always a standalone pooling layer (e.g. max pooling of spikes)
 *   GAP            global average pooling
 *   Res128s2       residual basic block, 128 channels, stride 2; suffixes t (tdBN instead of
 *                  BN), m (MPBN neurons), l/b/s (integration mode)
 *   V10            voting: the mean of each group of 10 inputs
 *
 * Parsing is strict: every token parses completely or the error names it.
 */
#include "net/net_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A positive integer at *p (at most max); advances *p. Returns -1 if none. */
static long long number(const char **p, long long max) {
    if (**p < '0' || **p > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    if (errno || v < 0 || v > max) return -1;
    *p = end;
    return v;
}

bool soma_spec_input(const char *tok, int64_t *in_dim, int64_t in_chw[3]) {
    const char *p = tok;
    long long d[3] = {0, 1, 1};
    int n = 0;
    for (;;) {
        long long v = number(&p, 100000000);
        if (v < 1 || n == 3) return false;
        d[n++] = v;
        if (*p == '\0') break;
        if (*p != 'x' || n == 3) return false;
        p++;
    }
    if (n == 2) return false;
    if (d[0] * d[1] * d[2] > 100000000) return false;
    in_chw[0] = d[0], in_chw[1] = d[1], in_chw[2] = d[2];
    *in_dim = d[0] * d[1] * d[2];
    return true;
}

/* Reads an integration-mode suffix letter if it is the last character. */
static bool mode_suffix(const char **p, soma_integrate_params *ip) {
    if (!**p || (*p)[1]) return false;
    switch (**p) {
    case 'l': ip->mode = SOMA_INTEGRATE_LINEAR; break;
    case 'b': ip->mode = SOMA_INTEGRATE_BILINEAR; break;
    case 's': ip->mode = SOMA_INTEGRATE_SHUNTING; break;
    default: return false;
    }
    (*p)++;
    return true;
}

#define FAIL(...) soma_fail(err, SOMA_E_ARG, __VA_ARGS__)

static int conv_token(const char *tok, const char *p, long long nch, soma_net_layer_spec *l,
                      const char *spec, int pos, soma_error *err) {
    long long k = number(&p, 64);
    if (k < 1) return FAIL("net \"%s\": token %d \"%s\": a conv is <channels>C<kernel>, e.g. 32C3", spec, pos, tok);
    soma_conv_desc *d = &l->conv;
    memset(d, 0, sizeof *d);
    d->cout = nch, d->k = (int)k, d->stride = 1, d->pad = (int)(k / 2);
    while (*p) {
        if (p[0] == 's' && p[1] >= '0' && p[1] <= '9') {
            p++;
            long long s = number(&p, 64);
            if (s < 1) return FAIL("net \"%s\": token %d \"%s\": stride must be 1..64", spec, pos, tok);
            d->stride = (int)s;
        } else if (p[0] == 'p' && p[1] >= '0' && p[1] <= '9') {
            p++;
            long long q = number(&p, 64);
            if (q < 0) return FAIL("net \"%s\": token %d \"%s\": padding must be 0..64", spec, pos, tok);
            d->pad = (int)q;
        } else if (!mode_suffix(&p, &l->integrate)) {
            return FAIL("net \"%s\": token %d \"%s\": unknown conv suffix \"%s\" (s<stride>, p<padding>, then l/b/s)", spec, pos, tok, p);
        }
    }
    l->kind = SOMA_LS_CONV, l->n = nch;
    return 1;
}

static int res_token(const char *tok, soma_net_layer_spec *l, const char *spec, int pos, soma_error *err) {
    const char *p = tok + 3;
    long long n = number(&p, 1000000);
    if (n < 1) return FAIL("net \"%s\": token %d \"%s\": a residual block is Res<channels>, e.g. Res128s2", spec, pos, tok);
    soma_res_desc *d = &l->res;
    d->cout = n, d->stride = 1, d->bn = SOMA_STAGE_BN, d->mpbn = false;
    while (*p) {
        if (p[0] == 's' && p[1] >= '0' && p[1] <= '9') {
            p++;
            long long s = number(&p, 64);
            if (s < 1) return FAIL("net \"%s\": token %d \"%s\": stride must be 1..64", spec, pos, tok);
            d->stride = (int)s;
        } else if (*p == 't') {
            d->bn = SOMA_STAGE_TDBN, p++;
        } else if (*p == 'm') {
            d->mpbn = true, p++;
        } else if (!mode_suffix(&p, &l->integrate)) {
            return FAIL("net \"%s\": token %d \"%s\": unknown residual suffix \"%s\" (s<stride>, t, m, then l/b/s)", spec, pos, tok, p);
        }
    }
    l->kind = SOMA_LS_RESIDUAL, l->n = n;
    return 1;
}

int soma_spec_conv_token(const char *tok, soma_net_layer_spec *out, int n, int *fuse,
                         const char *spec, int pos, soma_error *err) {
    soma_net_layer_spec *l = &out[n];
    soma_net_layer_spec *f = *fuse >= 0 ? &out[*fuse] : NULL;
    const char *p = tok;
    /* fused stages: P<k>, A<k>, BN, tdBN, MPBN right after a conv */
    bool is_pool = (tok[0] == 'P' || tok[0] == 'A') && tok[1] >= '0' && tok[1] <= '9';
    bool is_bn = strcmp(tok, "BN") == 0 || strcmp(tok, "tdBN") == 0;
    if (strcmp(tok, "MPBN") == 0) {
        if (!f) return FAIL("net \"%s\": token %d \"MPBN\" must follow a conv token (e.g. 32C3-MPBN)", spec, pos);
        f->conv.mpbn = true;
        return 2;
    }
    if (is_bn && !f)
        return FAIL("net \"%s\": token %d \"%s\" must follow a conv token (e.g. 32C3-%s); residual blocks carry their own BN", spec, pos, tok, tok);
    long long k = 0;
    if (is_pool) {
        p = tok + 1;
        k = number(&p, 256);
        if (k < 1 || *p) return FAIL("net \"%s\": token %d \"%s\": pooling is P<k> or A<k>, e.g. P2", spec, pos, tok);
    }
    if (f && (is_pool || is_bn)) {
        soma_conv_desc *d = &f->conv;
        if (d->nstage >= SOMA_MAX_STAGES)
            return FAIL("net \"%s\": token %d \"%s\": at most %d pooling/BN stages per conv", spec, pos, tok, SOMA_MAX_STAGES);
        soma_stage_desc *s = &d->stage[d->nstage++];
        s->k = (int)k, s->alpha = 1.0f;
        s->kind = is_pool ? (tok[0] == 'P' ? SOMA_STAGE_MAXPOOL : SOMA_STAGE_AVGPOOL)
                          : (tok[0] == 't' ? SOMA_STAGE_TDBN : SOMA_STAGE_BN);
        return 2;
    }
    *fuse = -1;
    if (is_pool || ((tok[0] == 'M' || tok[0] == 'A') && tok[1] == 'P' && tok[2] >= '0' && tok[2] <= '9')) {
        if (!is_pool) {
            p = tok + 2;
            k = number(&p, 256);
            if (k < 1 || *p) return FAIL("net \"%s\": token %d \"%s\": pooling is MP<k> or AP<k>, e.g. MP2", spec, pos, tok);
        }
        l->kind = SOMA_LS_POOL, l->k = k;
        l->pool = tok[0] == 'P' || tok[0] == 'M' ? SOMA_POOL_MAX : SOMA_POOL_AVG;
        return 1;
    }
    if (strcmp(tok, "GAP") == 0) {
        l->kind = SOMA_LS_POOL, l->k = 0, l->pool = SOMA_POOL_AVG;
        return 1;
    }
    if (tok[0] == 'V' && tok[1] >= '0' && tok[1] <= '9') {
        p = tok + 1;
        k = number(&p, 1000000);
        if (k < 1 || *p) return FAIL("net \"%s\": token %d \"%s\": voting is V<group size>, e.g. V10", spec, pos, tok);
        l->kind = SOMA_LS_VOTE, l->k = k;
        return 1;
    }
    if (strncmp(tok, "Res", 3) == 0) return res_token(tok, l, spec, pos, err);
    /* <channels>C<kernel>...: a conv (dense tokens have no C) */
    long long nch = number(&p, 1000000);
    if (nch >= 1 && *p == 'C') {
        int rc = conv_token(tok, p + 1, nch, l, spec, pos, err);
        if (rc == 1) *fuse = n;
        return rc;
    }
    return 0;
}
