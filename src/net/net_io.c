/*
 * net/net_io.c — saving and loading nets (and optimiser state) as checkpoint containers.
 *
 * Keys hold the spec and every configuration field as text ("net.T" = "20"), so a checkpoint
 * rebuilds exactly the net that wrote it; tensors hold each parameter tensor by name
 * ("l0.W", ...) and the optimiser moments ("opt.m", "opt.v"); parameter groups, if any, are one
 * key "opt.groups" = "offset:count:lr_scale:wd_scale" per group, ';'-separated (no key, no
 * groups: checkpoints from before groups existed load unchanged). Loading checks the format
 * key, every number, and that each tensor has the size the rebuilt net expects.
 */
#include "net/net_internal.h"
#include "soma/checkpoint.h"
#include "soma/train.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_KEY "soma.format"
#define FORMAT_VAL "soma-net-1"

static int setf(soma_ckpt *ck, const char *k, double v) {
    char b[64];
    snprintf(b, sizeof b, "%.9g", v);
    return soma_ckpt_set(ck, k, b);
}

/* Every numeric config field, in one table used for both directions. */
typedef struct field {
    const char *key;
    enum { F_INT, F_FLOAT, F_BOOL, F_ENUM } type;
    size_t off;
    int max_enum;
} field;

#define CF(k, t, m, mx) {k, t, offsetof(soma_net_config, m), mx}
static const field fields[] = {
    CF("net.T", F_INT, T, 0),
    CF("net.neuron.kind", F_ENUM, neuron.kind, SOMA_NEURON_KIND_COUNT),
    CF("net.neuron.alpha", F_FLOAT, neuron.alpha, 0),
    CF("net.neuron.tau", F_FLOAT, neuron.tau, 0),
    CF("net.neuron.theta", F_FLOAT, neuron.theta, 0),
    CF("net.neuron.v_reset", F_FLOAT, neuron.v_reset, 0),
    CF("net.neuron.reset", F_ENUM, neuron.reset, SOMA_RESET_COUNT),
    CF("net.neuron.detach_reset", F_BOOL, neuron.detach_reset, 0),
    CF("net.neuron.surrogate", F_ENUM, neuron.surrogate, SOMA_SURROGATE_COUNT),
    CF("net.neuron.slope", F_FLOAT, neuron.slope, 0),
    CF("net.integrate.mode", F_ENUM, integrate.mode, SOMA_INTEGRATE_COUNT),
    CF("net.integrate.ablation", F_ENUM, integrate.ablation, SOMA_ABLATION_COUNT),
    CF("net.integrate.rank", F_INT, integrate.rank, 0),
    CF("net.integrate.lambda_init", F_FLOAT, integrate.lambda_init, 0),
    CF("net.integrate.lambda_per_neuron", F_BOOL, integrate.lambda_per_neuron, 0),
    CF("net.integrate.v_scale", F_FLOAT, integrate.v_scale, 0),
    CF("net.integrate.shunt_k", F_FLOAT, integrate.shunt_k, 0),
    CF("net.integrate.shunt_scale", F_FLOAT, integrate.shunt_scale, 0),
    CF("net.integrate.mix_init", F_FLOAT, integrate.mix_init, 0),
    CF("net.encoder", F_ENUM, encoder, SOMA_ENCODE_COUNT),
    CF("net.readout", F_ENUM, readout, SOMA_READOUT_COUNT),
    CF("net.loss", F_ENUM, loss, SOMA_LOSS_COUNT),
    CF("net.logit_scale", F_FLOAT, logit_scale, 0),
    CF("net.chunk", F_INT, chunk, 0),
    CF("net.sparse_max_density", F_FLOAT, sparse_max_density, 0),
};
#define NFIELDS (sizeof fields / sizeof fields[0])

static int save_groups(soma_ckpt *ck, const soma_optim *opt) {
    const int ng = soma_optim_group_count(opt);
    if (ng == 0) return SOMA_OK;
    char *b = soma_malloc((size_t)ng * 80 + 1);
    if (!b) return SOMA_E_NOMEM;
    size_t len = 0;
    b[0] = '\0';
    for (int i = 0; i < ng; i++) {
        const soma_optim_group *g = soma_optim_group_at(opt, i);
        len += (size_t)snprintf(b + len, 80, "%s%lld:%lld:%.9g:%.9g", i ? ";" : "", (long long)g->offset,
                                (long long)g->count, (double)g->lr_scale, (double)g->wd_scale);
    }
    int rc = soma_ckpt_set(ck, "opt.groups", b);
    soma_free(b);
    return rc;
}

static int load_groups(soma_optim *opt, const char *s, const char *path, soma_error *err) {
    while (*s) {
        soma_optim_group g;
        char *end;
        errno = 0;
        g.offset = strtoll(s, &end, 10);
        bool ok = end != s && *end == ':';
        if (ok) g.count = strtoll(s = end + 1, &end, 10), ok = end != s && *end == ':';
        if (ok) g.lr_scale = strtof(s = end + 1, &end), ok = end != s && *end == ':';
        if (ok) g.wd_scale = strtof(s = end + 1, &end), ok = end != s && (*end == ';' || !*end);
        if (!ok || errno)
            return soma_fail(err, SOMA_E_FORMAT, "%s: key \"opt.groups\" is malformed near \"%.20s\"", path, s);
        soma_error ge = {0};
        if (soma_optim_add_group(opt, &g, &ge) != SOMA_OK)
            return soma_fail(err, SOMA_E_FORMAT, "%s: key \"opt.groups\": %s", path, ge.msg);
        s = *end ? end + 1 : end;
    }
    return SOMA_OK;
}

int soma_net_save(const soma_net *net, const soma_optim *opt, const char *path, soma_error *err) {
    soma_ckpt *ck = soma_ckpt_create();
    if (!ck) return soma_fail(err, SOMA_E_NOMEM, "out of memory");
    int rc = soma_ckpt_set(ck, FORMAT_KEY, FORMAT_VAL);
    rc = rc ? rc : soma_ckpt_set(ck, "net.spec", net->spec);
    char b[32];
    snprintf(b, sizeof b, "%llu", (unsigned long long)net->seed);
    rc = rc ? rc : soma_ckpt_set(ck, "net.seed", b);
    rc = rc ? rc : soma_ckpt_set(ck, "soma.version", SOMA_VERSION_STRING);
    const char *cfg = (const char *)&net->cfg;
    for (size_t i = 0; i < NFIELDS && !rc; i++) {
        const field *f = &fields[i];
        double v = f->type == F_FLOAT ? *(const float *)(cfg + f->off)
                   : f->type == F_BOOL ? *(const bool *)(cfg + f->off)
                                       : *(const int *)(cfg + f->off);
        rc = setf(ck, f->key, v);
    }
    for (int i = 0; i < net->ntens && !rc; i++) {
        const soma_net_tensor *t = &net->tensors[i];
        rc = soma_ckpt_add(ck, t->name, net->params + t->offset, 1, &t->numel);
    }
    if (opt && !rc) {
        const soma_optim_params *op = soma_optim_params_of(opt);
        rc = soma_ckpt_set(ck, "opt.kind", soma_optim_name(op->kind));
        rc = rc ? rc : setf(ck, "opt.lr", op->lr);
        rc = rc ? rc : setf(ck, "opt.momentum", op->momentum);
        rc = rc ? rc : setf(ck, "opt.beta1", op->beta1);
        rc = rc ? rc : setf(ck, "opt.beta2", op->beta2);
        rc = rc ? rc : setf(ck, "opt.eps", op->eps);
        rc = rc ? rc : setf(ck, "opt.weight_decay", op->weight_decay);
        rc = rc ? rc : setf(ck, "opt.grad_clip", op->grad_clip);
        rc = rc ? rc : setf(ck, "opt.steps", (double)soma_optim_steps(opt));
        rc = rc ? rc : save_groups(ck, opt);
        int64_t n;
        float *m = soma_optim_state((soma_optim *)opt, 0, &n), *v = soma_optim_state((soma_optim *)opt, 1, &n);
        rc = rc ? rc : soma_ckpt_add(ck, "opt.m", m, 1, &n);
        rc = rc ? rc : soma_ckpt_add(ck, "opt.v", v, 1, &n);
    }
    return soma_ckpt_write_free(ck, rc, path, err);
}

int soma_net_load(soma_net **out, soma_optim **opt_out, const char *path, soma_error *err) {
    *out = NULL;
    if (opt_out) *opt_out = NULL;
    soma_ckpt *ck = NULL;
    int rc = soma_ckpt_read(&ck, path, err);
    if (rc != SOMA_OK) return rc;
    soma_net *net = NULL;
    soma_optim *opt = NULL;
    const char *fmt = soma_ckpt_get(ck, FORMAT_KEY);
    if (!fmt || strcmp(fmt, FORMAT_VAL) != 0) {
        rc = fmt && strncmp(fmt, "soma-net-", 9) == 0
                 ? soma_fail(err, SOMA_E_VERSION, "%s: net format \"%s\" is not supported (this build reads \"%s\")", path, fmt, FORMAT_VAL)
                 : soma_fail(err, SOMA_E_FORMAT, "%s: not a Soma network checkpoint (no \"%s\" key)", path, FORMAT_KEY);
        goto done;
    }
    soma_net_config cfg = soma_net_default_config();
    char *c = (char *)&cfg;
    for (size_t i = 0; i < NFIELDS; i++) {
        const field *f = &fields[i];
        double v;
        if ((rc = soma_ckpt_get_number(ck, f->key, &v, path, err)) != SOMA_OK) goto done;
        if (f->type == F_ENUM && (v < 0 || v >= f->max_enum || v != (int)v)) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: key \"%s\" = %g is not a known value", path, f->key, v);
            goto done;
        }
        if (f->type == F_FLOAT) *(float *)(c + f->off) = (float)v;
        else if (f->type == F_BOOL) *(bool *)(c + f->off) = v != 0;
        else *(int *)(c + f->off) = (int)v;
    }
    double seed;
    const char *spec = soma_ckpt_get(ck, "net.spec");
    if (!spec) {
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: missing key \"net.spec\"", path);
        goto done;
    }
    if ((rc = soma_ckpt_get_number(ck, "net.seed", &seed, path, err)) != SOMA_OK) goto done;
    if ((rc = soma_net_create(&net, spec, &cfg, (uint64_t)seed, err)) != SOMA_OK) goto done;
    for (int i = 0; i < net->ntens; i++) {
        const soma_net_tensor *t = &net->tensors[i];
        int64_t n = 0;
        const float *d = soma_ckpt_find(ck, t->name, &n);
        if (!d || n != t->numel) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: tensor \"%s\" %s (expected %lld values)", path, t->name,
                           d ? "has the wrong size" : "is missing", (long long)t->numel);
            goto done;
        }
        memcpy(net->params + t->offset, d, (size_t)n * sizeof *d);
    }
    const char *ok = soma_ckpt_get(ck, "opt.kind");
    if (opt_out && ok) {
        soma_optim_params op = soma_optim_default_params();
        int k = soma_optim_parse(ok);
        double v[8];
        const char *keys[] = {"opt.lr", "opt.momentum", "opt.beta1", "opt.beta2", "opt.eps", "opt.weight_decay", "opt.grad_clip", "opt.steps"};
        for (int i = 0; i < 8; i++)
            if ((rc = soma_ckpt_get_number(ck, keys[i], &v[i], path, err)) != SOMA_OK) goto done;
        if (k < 0) {
            rc = soma_fail(err, SOMA_E_FORMAT, "%s: unknown optimiser \"%s\"", path, ok);
            goto done;
        }
        op.kind = (soma_optim_kind)k, op.lr = (float)v[0], op.momentum = (float)v[1], op.beta1 = (float)v[2];
        op.beta2 = (float)v[3], op.eps = (float)v[4], op.weight_decay = (float)v[5], op.grad_clip = (float)v[6];
        opt = soma_optim_create(&op, net->n_params);
        if (!opt) {
            rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
            goto done;
        }
        soma_optim_set_steps(opt, (int64_t)v[7]);
        const char *groups = soma_ckpt_get(ck, "opt.groups");
        if (groups && (rc = load_groups(opt, groups, path, err)) != SOMA_OK) goto done;
        for (int w = 0; w < 2; w++) {
            int64_t n = 0, want;
            const float *d = soma_ckpt_find(ck, w ? "opt.v" : "opt.m", &n);
            float *dst = soma_optim_state(opt, w, &want);
            if (!d || n != want) {
                rc = soma_fail(err, SOMA_E_FORMAT, "%s: optimiser state \"%s\" is missing or has the wrong size", path, w ? "opt.v" : "opt.m");
                goto done;
            }
            memcpy(dst, d, (size_t)n * sizeof *d);
        }
    }
done:
    soma_ckpt_free(ck);
    if (rc != SOMA_OK) {
        soma_net_free(net);
        soma_optim_free(opt);
        return rc;
    }
    *out = net;
    if (opt_out) *opt_out = opt;
    return SOMA_OK;
}
