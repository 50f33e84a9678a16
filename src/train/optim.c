/*
 * train/optim.c — SGD with momentum, Adam and AdamW over the flat parameter vector, with
 * optional global-norm gradient clipping, and the learning-rate schedules.
 */
#include "soma/train.h"

#include <math.h>
#include <string.h>

struct soma_optim {
    soma_optim_params p;
    int64_t n, t;
    float *m, *v; /* first/second moments (SGD: m = velocity, v unused) */
};

soma_optim_params soma_optim_default_params(void) {
    soma_optim_params p = {0};
    p.kind = SOMA_OPTIM_ADAM;
    p.lr = 1e-3f;
    p.momentum = 0.9f;
    p.beta1 = 0.9f, p.beta2 = 0.999f, p.eps = 1e-8f;
    return p;
}

static const char *const optim_names[] = {"sgd", "adam", "adamw"};
const char *soma_optim_name(soma_optim_kind k) { return (unsigned)k < 3 ? optim_names[k] : "?"; }
int soma_optim_parse(const char *s) {
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, optim_names[i]) == 0) return i;
    return -1;
}

soma_optim *soma_optim_create(const soma_optim_params *p, int64_t n) {
    soma_optim *o = soma_calloc(1, sizeof *o);
    if (!o) return NULL;
    o->p = *p, o->n = n;
    o->m = soma_calloc((size_t)n, sizeof(float));
    o->v = soma_calloc((size_t)n, sizeof(float));
    if (!o->m || !o->v) {
        soma_optim_free(o);
        return NULL;
    }
    return o;
}

void soma_optim_free(soma_optim *o) {
    if (!o) return;
    soma_free(o->m);
    soma_free(o->v);
    soma_free(o);
}

const soma_optim_params *soma_optim_params_of(const soma_optim *o) { return &o->p; }
float *soma_optim_state(soma_optim *o, int which, int64_t *n) {
    if (n) *n = o->n;
    return which == 0 ? o->m : o->v;
}
int64_t soma_optim_steps(const soma_optim *o) { return o->t; }
void soma_optim_set_steps(soma_optim *o, int64_t steps) { o->t = steps; }

void soma_optim_step(soma_optim *o, float *restrict w, const float *restrict g, float lr) {
    const int64_t n = o->n;
    const soma_optim_params *p = &o->p;
    float scale = 1.0f;
    if (p->grad_clip > 0) {
        double ss = 0;
        for (int64_t i = 0; i < n; i++) ss += (double)g[i] * g[i];
        double norm = sqrt(ss);
        if (norm > p->grad_clip) scale = (float)(p->grad_clip / norm);
    }
    o->t++;
    float *restrict m = o->m, *restrict v = o->v;
    const float wd = p->weight_decay;
    switch (p->kind) {
    case SOMA_OPTIM_SGD:
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] * scale + wd * w[i];
            m[i] = p->momentum * m[i] + gi;
            w[i] -= lr * m[i];
        }
        break;
    case SOMA_OPTIM_ADAM:
    case SOMA_OPTIM_ADAMW: {
        const float b1 = p->beta1, b2 = p->beta2;
        const float c1 = 1.0f / (1.0f - powf(b1, (float)o->t)), c2 = 1.0f / (1.0f - powf(b2, (float)o->t));
        const bool decoupled = p->kind == SOMA_OPTIM_ADAMW;
        for (int64_t i = 0; i < n; i++) {
            float gi = g[i] * scale + (decoupled ? 0.0f : wd * w[i]);
            m[i] = b1 * m[i] + (1.0f - b1) * gi;
            v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
            float upd = (m[i] * c1) / (sqrtf(v[i] * c2) + p->eps);
            if (decoupled) w[i] -= lr * wd * w[i];
            w[i] -= lr * upd;
        }
        break;
    }
    default: break;
    }
}

static const char *const sched_names[] = {"const", "step", "cosine"};
const char *soma_sched_name(soma_sched_kind k) { return (unsigned)k < 3 ? sched_names[k] : "?"; }
int soma_sched_parse(const char *s) {
    for (int i = 0; s && i < 3; i++)
        if (strcmp(s, sched_names[i]) == 0) return i;
    return -1;
}

float soma_schedule_lr(const soma_schedule *s, int epoch, int64_t step, int64_t total) {
    switch (s->kind) {
    case SOMA_SCHED_STEP:
        return s->lr * powf(s->gamma, (float)(s->step_size > 0 ? epoch / s->step_size : 0));
    case SOMA_SCHED_COSINE: {
        double prog = total > 0 ? (double)step / (double)total : 0.0;
        if (prog > 1) prog = 1;
        return (float)(s->lr_min + (s->lr - s->lr_min) * 0.5 * (1.0 + cos(3.141592653589793 * prog)));
    }
    default: return s->lr;
    }
}
