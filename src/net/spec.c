/*
 * net/spec.c — the net notation parser ("784-100b-10", "2-16R-2", "784-D0.2-100-10").
 * Strict: every token must parse completely; errors name the token and its position.
 */
#include "net/net_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int soma_spec_parse(const char *spec, const soma_net_config *cfg, int64_t *in_dim,
                    soma_net_layer_spec *out, int *n_out, soma_error *err) {
    int64_t chw[3];
    return soma_spec_parse_shape(spec, cfg, in_dim, chw, out, n_out, err);
}

int soma_spec_parse_shape(const char *spec, const soma_net_config *cfg, int64_t *in_dim,
                          int64_t in_chw[3], soma_net_layer_spec *out, int *n_out,
                          soma_error *err) {
    char buf[1024];
    size_t len = strlen(spec);
    if (len == 0 || len >= sizeof buf)
        return soma_fail(err, SOMA_E_ARG, "net spec must be 1..%zu characters", sizeof buf - 1);
    memcpy(buf, spec, len + 1);
    int n = 0, pos = 0, fuse = -1;
    char *next = buf;
    for (char *tok = buf; next; tok = next, pos++) {
        char *dash = strchr(tok, '-');
        next = dash ? dash + 1 : NULL;
        if (dash) *dash = '\0';
        if (!*tok) return soma_fail(err, SOMA_E_ARG, "net \"%s\": empty token %d (two dashes in a row, or a dash at an end)", spec, pos + 1);
        char *end = NULL;
        errno = 0;
        if (pos == 0) {
            if (!soma_spec_input(tok, in_dim, in_chw))
                return soma_fail(err, SOMA_E_ARG, "net \"%s\": the first token \"%s\" must be the input size (a positive integer, or CxHxW for images, e.g. 1x28x28)", spec, tok);
            continue;
        }
        if (n >= SOMA_MAX_LAYERS) return soma_fail(err, SOMA_E_ARG, "net \"%s\": more than %d layers", spec, SOMA_MAX_LAYERS);
        soma_net_layer_spec *l = &out[n];
        memset(l, 0, sizeof *l);
        l->integrate = cfg->integrate;
        int ct = soma_spec_conv_token(tok, out, n, &fuse, spec, pos + 1, err);
        if (ct < 0) return ct;
        if (ct > 0) {
            n += ct == 1;
            continue;
        }
        fuse = -1;
        if (tok[0] == 'D') {
            double p = strtod(tok + 1, &end);
            if (end == tok + 1 || *end || errno || !(p >= 0 && p < 1))
                return soma_fail(err, SOMA_E_ARG, "net \"%s\": token %d \"%s\": dropout is D<p> with 0 <= p < 1, e.g. D0.2", spec, pos + 1, tok);
            l->kind = SOMA_LS_DROPOUT, l->p = (float)p;
            n++;
            continue;
        }
        long long v = strtoll(tok, &end, 10);
        if (end == tok || errno || v < 1 || v > 100000000)
            return soma_fail(err, SOMA_E_ARG, "net \"%s\": token %d \"%s\" is not a layer (expected e.g. 100, 100b, 100s, 64R or D0.2)", spec, pos + 1, tok);
        l->kind = SOMA_LS_DENSE, l->n = v;
        if (*end == 'R') l->kind = SOMA_LS_RECURRENT, end++;
        if (*end == 'l') l->integrate.mode = SOMA_INTEGRATE_LINEAR, end++;
        else if (*end == 'b') l->integrate.mode = SOMA_INTEGRATE_BILINEAR, end++;
        else if (*end == 's') l->integrate.mode = SOMA_INTEGRATE_SHUNTING, end++;
        if (*end)
            return soma_fail(err, SOMA_E_ARG, "net \"%s\": token %d \"%s\": unknown suffix \"%s\" (use R for recurrent, l/b/s for linear/bilinear/shunting)", spec, pos + 1, tok, end);
        n++;
    }
    if (pos < 2 || n == 0) return soma_fail(err, SOMA_E_ARG, "net \"%s\" needs an input size and at least one layer, e.g. 784-100-10", spec);
    *n_out = n;
    return SOMA_OK;
}
