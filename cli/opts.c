/* cli/opts.c — strict command-line option parsing and the shared network options. */
#include "cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void usage_of(const char *verb, const char *usage, const cli_opt *opts) {
    printf("usage: soma %s %s\n\noptions:\n", verb, usage);
    for (const cli_opt *o = opts; o->name; o++) {
        char lhs[64];
        const char *arg = o->type == OPT_FLAG ? "" : o->type == OPT_STR ? " S" : " N";
        snprintf(lhs, sizeof lhs, "%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name, arg);
        printf("  %-28s %s\n", lhs, o->help);
    }
}

int cli_parse(const char *verb, const char *usage, cli_opt *opts, int argc, char **argv, int first) {
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage_of(verb, usage, opts);
            return 1;
        }
        /* --name=value form */
        char name[64];
        const char *val = NULL, *eq = strchr(a, '=');
        if (a[0] == '-' && eq && (size_t)(eq - a) < sizeof name) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a);
        }
        cli_opt *o = NULL;
        for (cli_opt *p = opts; p->name; p++)
            if (strcmp(p->name, name) == 0 || (p->alias && strcmp(p->alias, name) == 0)) o = p;
        if (!o) {
            fprintf(stderr, "soma %s: unknown option '%s' (see 'soma %s --help')\n", verb, a, verb);
            return -1;
        }
        if (o->type == OPT_FLAG) {
            if (val) {
                fprintf(stderr, "soma %s: option %s takes no value\n", verb, o->name);
                return -1;
            }
            *(int *)o->dst = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "soma %s: option %s needs a value\n", verb, o->name);
                return -1;
            }
            val = argv[++i];
        }
        if (o->type == OPT_STR) {
            if (!*val) {
                fprintf(stderr, "soma %s: option %s needs a non-empty value\n", verb, o->name);
                return -1;
            }
            *(const char **)o->dst = val;
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(val, &end);
        if (end == val || *end || errno || !isfinite(v)) {
            fprintf(stderr, "soma %s: option %s: '%s' is not a number\n", verb, o->name, val);
            return -1;
        }
        if ((o->type == OPT_INT || o->type == OPT_U64) && v != floor(v)) {
            fprintf(stderr, "soma %s: option %s: '%s' is not an integer\n", verb, o->name, val);
            return -1;
        }
        if (o->min <= o->max && (v < o->min || v > o->max)) {
            fprintf(stderr, "soma %s: option %s: %s is out of range [%g, %g]\n", verb, o->name, val, o->min, o->max);
            return -1;
        }
        if (o->type == OPT_INT) *(int *)o->dst = (int)v;
        else if (o->type == OPT_U64) *(uint64_t *)o->dst = (uint64_t)v;
        else *(double *)o->dst = v;
    }
    return 0;
}

void neuron_opts_defaults(neuron_opts *o, const char *neuron, const soma_neuron_params *np,
                          const soma_integrate_params *ip) {
    memset(o, 0, sizeof *o);
    o->neuron = neuron, o->ablation = "none";
    o->dynamics = soma_neuron_kind_name(np->kind);
    o->reset = soma_reset_name(np->reset);
    o->surrogate = soma_surrogate_name(np->surrogate);
    o->alpha = np->alpha, o->tau = np->tau, o->theta = np->theta, o->v_reset = np->v_reset, o->slope = np->slope;
    o->lambda_init = ip->lambda_init, o->shunt_k = ip->shunt_k, o->shunt_scale = ip->shunt_scale;
    o->v_scale = ip->v_scale, o->rank = ip->rank;
}

#define ADD(n_, a_, t_, d_, h_, lo_, hi_) t[(*n)++] = (cli_opt){n_, a_, t_, d_, h_, lo_, hi_}
void neuron_opts_table(neuron_opts *o, cli_opt *t, int *n) {
    ADD("--neuron", NULL, OPT_STR, &o->neuron, "integration: lif (linear) | bilinear | shunting", 1, 0);
    ADD("--dynamics", NULL, OPT_STR, &o->dynamics, "lif | lif-tau | if | plif (not in soma rec)", 1, 0);
    ADD("--alpha", NULL, OPT_FLOAT, &o->alpha, "LIF decay alpha (u = alpha*u + i)", 0, 1);
    ADD("--tau", NULL, OPT_FLOAT, &o->tau, "tau of lif-tau, initial tau of plif", 1.0001, 1e6);
    ADD("--threshold", NULL, OPT_FLOAT, &o->theta, "firing threshold", -1e6, 1e6);
    ADD("--v-reset", NULL, OPT_FLOAT, &o->v_reset, "hard-reset potential", -1e6, 1e6);
    ADD("--reset", NULL, OPT_STR, &o->reset, "hard | soft | none", 1, 0);
    ADD("--detach-reset", NULL, OPT_FLAG, &o->detach_reset, "drop the reset from the gradient", 1, 0);
    ADD("--surrogate", NULL, OPT_STR, &o->surrogate, "sigmoid | atan | fast-sigmoid | triangle | rect | exp", 1, 0);
    ADD("--slope", NULL, OPT_FLOAT, &o->slope, "surrogate slope (0 = its default)", 0, 1e6);
    ADD("--lambda-init", NULL, OPT_FLOAT, &o->lambda_init, "bilinear: initial lambda", -1e6, 1e6);
    ADD("--lambda-per-neuron", NULL, OPT_FLAG, &o->lambda_per_neuron, "bilinear: one lambda per neuron", 1, 0);
    ADD("--rank", NULL, OPT_INT, &o->rank, "bilinear: factor rank k", 1, 19);
    ADD("--v-scale", NULL, OPT_FLOAT, &o->v_scale, "bilinear: V init scale (nets: times 1/sqrt(fan-in); soma rec: the std of V)", 0, 1e6);
    ADD("--shunt-k", NULL, OPT_FLOAT, &o->shunt_k, "shunting: gate slope k", -1e6, 1e6);
    ADD("--shunt-scale", NULL, OPT_FLOAT, &o->shunt_scale, "shunting: V_p, V_n init std", 0, 1e6);
    ADD("--ablation", NULL, OPT_STR, &o->ablation, "none | ab1 | ab2 | ab3", 1, 0);
}

int cli_bad_choice(const char *verb, const char *what, const char *v, const char *choices) {
    fprintf(stderr, "soma%s%s: unknown %s '%s' (choose %s)\n", verb ? " " : "", verb ? verb : "", what, v, choices);
    return -1;
}

static int bad(const char *what, const char *v, const char *choices) {
    return cli_bad_choice(NULL, what, v, choices);
}

int neuron_opts_config(const char *verb, const neuron_opts *o, soma_neuron_params *np, soma_integrate_params *ip) {
    int v;
    if ((v = soma_integrate_mode_parse(o->neuron)) < 0) return cli_bad_choice(verb, "--neuron", o->neuron, "lif, bilinear, shunting");
    ip->mode = (soma_integrate_mode)v;
    if ((v = soma_ablation_parse(o->ablation)) < 0) return cli_bad_choice(verb, "--ablation", o->ablation, "none, ab1, ab2, ab3");
    ip->ablation = (soma_ablation)v;
    if ((v = soma_neuron_kind_parse(o->dynamics)) < 0) return cli_bad_choice(verb, "--dynamics", o->dynamics, "lif, lif-tau, if, plif");
    np->kind = (soma_neuron_kind)v;
    if ((v = soma_reset_parse(o->reset)) < 0) return cli_bad_choice(verb, "--reset", o->reset, "hard, soft, none");
    np->reset = (soma_reset)v;
    if ((v = soma_surrogate_parse(o->surrogate)) < 0) return cli_bad_choice(verb, "--surrogate", o->surrogate, "sigmoid, atan, fast-sigmoid, triangle, rect, exp");
    np->surrogate = (soma_surrogate)v;
    np->alpha = (float)o->alpha, np->tau = (float)o->tau, np->theta = (float)o->theta;
    np->v_reset = (float)o->v_reset, np->slope = (float)o->slope, np->detach_reset = o->detach_reset;
    ip->rank = o->rank, ip->lambda_init = (float)o->lambda_init, ip->lambda_per_neuron = o->lambda_per_neuron;
    ip->v_scale = (float)o->v_scale, ip->shunt_k = (float)o->shunt_k, ip->shunt_scale = (float)o->shunt_scale;
    return 0;
}

void net_opts_defaults(net_opts *o) {
    soma_net_config c = soma_net_default_config();
    memset(o, 0, sizeof *o);
    neuron_opts_defaults(&o->nr, "lif", &c.neuron, &c.integrate);
    o->encoder = soma_encoder_name(c.encoder);
    o->readout = soma_readout_name(c.readout);
    o->loss = soma_loss_name(c.loss);
    o->logit_scale = c.logit_scale, o->sparse_density = c.sparse_max_density;
    o->T = c.T, o->chunk = c.chunk;
}

void net_opts_table(net_opts *o, cli_opt *t, int *n) {
    neuron_opts_table(&o->nr, t, n);
    ADD("--time-steps", "-T", OPT_INT, &o->T, "time steps T", 1, 100000);
    ADD("--encoder", NULL, OPT_STR, &o->encoder, "rate | latency | direct | frames (event data)", 1, 0);
    ADD("--readout", NULL, OPT_STR, &o->readout, "rate (spiking output) | membrane", 1, 0);
    ADD("--loss", NULL, OPT_STR, &o->loss, "ce | mse", 1, 0);
    ADD("--logit-scale", NULL, OPT_FLOAT, &o->logit_scale, "CE on scale*readout (T = spike counts)", 1e-6, 1e6);
    ADD("--chunk", NULL, OPT_INT, &o->chunk, "samples per parallel chunk", 1, 4096);
    ADD("--sparse-density", NULL, OPT_FLOAT, &o->sparse_density, "event-driven up to this input density (0 = off)", 0, 1);
}

int net_opts_config(const net_opts *o, soma_net_config *c) {
    *c = soma_net_default_config();
    if (neuron_opts_config(NULL, &o->nr, &c->neuron, &c->integrate)) return -1;
    int v;
    if ((v = soma_encoder_parse(o->encoder)) < 0) return bad("--encoder", o->encoder, "rate, latency, direct, frames");
    c->encoder = (soma_encoder)v;
    if ((v = soma_readout_parse(o->readout)) < 0) return bad("--readout", o->readout, "rate, membrane");
    c->readout = (soma_readout)v;
    if ((v = soma_loss_parse(o->loss)) < 0) return bad("--loss", o->loss, "ce, mse");
    c->loss = (soma_loss)v;
    c->T = o->T;
    c->logit_scale = (float)o->logit_scale, c->chunk = o->chunk;
    c->sparse_max_density = (float)o->sparse_density;
    return 0;
}
