/*
 * train/xor.c — can one spiking neuron learn XOR? A linear (LIF) neuron cannot: its rate is
 * monotone in w·x + b, and XOR is not linearly separable. A bilinear neuron has the x₁x₂
 * interaction term, and a shunting neuron's gates let one active input excite while two
 * inhibit (thesis §2); both can. This trains one neuron from a random start and reports.
 */
#include "soma/train.h"

soma_xor_options soma_xor_default_options(soma_integrate_mode mode) {
    soma_xor_options o;
    o.mode = mode;
    o.T = 8;
    o.steps = 1500;
    o.lr = 0.02f;
    o.lambda_init = 0.5f;
    o.v_scale = 1.0f;
    o.shunt_k = 1.0f;
    o.shunt_scale = 0.3f;
    o.surrogate = SOMA_SURROGATE_SIGMOID;
    o.slope = 4.0f;
    o.reset = SOMA_RESET_HARD;
    return o;
}

int soma_xor_train(const soma_xor_options *o, uint64_t seed, soma_xor_result *r, soma_error *err) {
    soma_net_config c = soma_net_default_config();
    c.T = o->T;
    c.encoder = SOMA_ENCODE_DIRECT;
    c.loss = SOMA_LOSS_MSE;
    c.chunk = 4;
    c.integrate.mode = o->mode;
    c.integrate.lambda_init = o->lambda_init;
    c.integrate.v_scale = o->v_scale;
    c.integrate.shunt_k = o->shunt_k;
    c.integrate.shunt_scale = o->shunt_scale;
    c.neuron.surrogate = o->surrogate;
    c.neuron.slope = o->slope;
    c.neuron.reset = o->reset;
    soma_net *net = NULL;
    int rc = soma_net_create(&net, "2-1", &c, seed, err);
    if (rc) return rc;
    int64_t n;
    float *p = soma_net_params(net, &n), *g = soma_net_grads(net, NULL);
    soma_optim_params op = soma_optim_default_params();
    op.lr = o->lr;
    soma_optim *opt = soma_optim_create(&op, n);
    if (!opt) {
        soma_net_free(net);
        return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    }
    const float x[8] = {0, 0, 0, 1, 1, 0, 1, 1};
    const int32_t y[4] = {0, 1, 1, 0};
    const int64_t uid[4] = {0, 1, 2, 3};
    soma_batch_stats st;
    for (int s = 0; s < o->steps && rc == SOMA_OK; s++) {
        rc = soma_net_train_batch(net, x, y, uid, 4, seed, &st);
        if (rc == SOMA_OK) soma_optim_step(opt, p, g, o->lr);
    }
    float logits[4];
    if (rc == SOMA_OK) rc = soma_net_eval_batch(net, x, y, uid, 4, seed, logits, &st);
    if (rc != SOMA_OK) soma_fail(err, rc, "%s", soma_net_errmsg(net));
    else {
        r->learned = st.correct == 4;
        r->final_loss = (float)(st.loss_sum / 4);
        for (int i = 0; i < 4; i++) r->rate[i] = logits[i];
    }
    soma_optim_free(opt);
    soma_net_free(net);
    return rc;
}
