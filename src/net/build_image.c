/*
 * net/build_image.c — builds the image layers of the notation (conv, pooling, residual,
 * voting; net/spec_conv.c parses them) for soma_net_create, which tracks the (C, H, W) shape
 * flowing between layers. A layer whose input is flat (H = W = 1) cannot be a spatial conv:
 * the message says how to give the input as an image.
 */
#include "net/net_internal.h"

int soma_net_image_layer_create(soma_layer **out, const soma_net_layer_spec *ls,
                                const int64_t chw[3], int64_t dim, const soma_neuron_params *np,
                                const soma_net_config *cfg, bool first, bool in_binary,
                                soma_error *err) {
    *out = NULL;
    const int64_t C = chw[0], H = chw[1], W = chw[2];
    bool flat = H == 1 && W == 1;
    switch (ls->kind) {
    case SOMA_LS_CONV: {
        if (flat && ls->conv.k > 1)
            return soma_fail(err, SOMA_E_SHAPE, "conv %lldC%d needs an image, but its input is %lld flat values; "
                             "start the net with the input shape, e.g. 1x28x28-32C3-...", (long long)ls->conv.cout,
                             ls->conv.k, (long long)dim);
        int rc = soma_conv_layer_create(out, &ls->conv, C, H, W, &ls->integrate, np, cfg->T, err);
        /* the first layer under direct encoding sees the same image at every step */
        if (rc == SOMA_OK && first && cfg->encoder == SOMA_ENCODE_DIRECT) soma_conv_layer_set_static(*out, cfg->T);
        return rc;
    }
    case SOMA_LS_RESIDUAL:
        if (flat)
            return soma_fail(err, SOMA_E_SHAPE, "residual block Res%lld needs an image, but its input is %lld flat values",
                             (long long)ls->res.cout, (long long)dim);
        return soma_residual_layer_create(out, &ls->res, C, H, W, &ls->integrate, np, cfg->T, err);
    case SOMA_LS_POOL: {
        int64_t k = ls->k;
        if (k > 0 && flat)
            return soma_fail(err, SOMA_E_SHAPE, "pooling %lldx%lld needs an image, but its input is %lld flat values",
                             (long long)k, (long long)k, (long long)dim);
        return soma_pool_layer_create(out, ls->pool, C, H, W, k ? k : H, k ? k : W, in_binary, err);
    }
    case SOMA_LS_VOTE: return soma_vote_layer_create(out, dim, ls->k, err);
    default: return soma_fail(err, SOMA_E_ARG, "not an image layer");
    }
}
