/*
 * train/optim.c — SGD with momentum, Adam and AdamW over the flat parameter vector, with
 * optional global-norm gradient clipping, parameter groups (ranges with their own learning-rate
 * and weight-decay multipliers) and the learning-rate schedules.
 */
#include "soma/train.h"

#include <math.h>
#include <string.h>

struct soma_optim {
    soma_optim_params p;
    int64_t n, t;
    float *m, *v; /* first/second moments (SGD: m = velocity, v unused) */
    soma_optim_group g[SOMA_OPTIM_MAX_GROUPS]; /* sorted by offset, disjoint */
    int ng;
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

int soma_optim_add_group(soma_optim *o, const soma_optim_group *grp, soma_error *err) {
    if (grp->offset < 0 || grp->count <= 0 || grp->offset + grp->count > o->n)
        return soma_fail(err, SOMA_E_ARG, "parameter group [%lld, %lld) is outside the %lld parameters",
                         (long long)grp->offset, (long long)(grp->offset + grp->count), (long long)o->n);
    if (!(grp->lr_scale >= 0) || !(grp->wd_scale >= 0) || !isfinite(grp->lr_scale) || !isfinite(grp->wd_scale))
        return soma_fail(err, SOMA_E_ARG, "parameter group: the multipliers must be finite and >= 0 (lr %g, wd %g)",
                         (double)grp->lr_scale, (double)grp->wd_scale);
    if (o->ng == SOMA_OPTIM_MAX_GROUPS)
        return soma_fail(err, SOMA_E_ARG, "more than %d parameter groups", SOMA_OPTIM_MAX_GROUPS);
    int at = 0;
    while (at < o->ng && o->g[at].offset < grp->offset) at++;
    if ((at > 0 && o->g[at - 1].offset + o->g[at - 1].count > grp->offset) ||
        (at < o->ng && grp->offset + grp->count > o->g[at].offset))
        return soma_fail(err, SOMA_E_ARG, "parameter group [%lld, %lld) overlaps another",
                         (long long)grp->offset, (long long)(grp->offset + grp->count));
    memmove(o->g + at + 1, o->g + at, (size_t)(o->ng - at) * sizeof *o->g);
    o->g[at] = *grp;
    o->ng++;
    return SOMA_OK;
}

int soma_optim_group_count(const soma_optim *o) { return o->ng; }
const soma_optim_group *soma_optim_group_at(const soma_optim *o, int i) {
    return i >= 0 && i < o->ng ? &o->g[i] : NULL;
}

int soma_optim_group_tensors(soma_optim *o, const soma_net *net, const char *name, float lr_scale,
                             float wd_scale, soma_error *err) {
    int found = 0;
    for (int i = 0; i < soma_net_param_count(net); i++) {
        const char *tn;
        int64_t off, numel;
        soma_net_param_info(net, i, &tn, &off, &numel);
        const char *dot = strchr(tn, '.');
        if (off >= o->n || (strcmp(tn, name) != 0 && !(dot && strcmp(dot + 1, name) == 0)))
            continue; /* state tensors (running statistics) live after the parameters */
        int rc = soma_optim_add_group(o, &(soma_optim_group){off, numel, lr_scale, wd_scale}, err);
        if (rc != SOMA_OK) return rc;
        found++;
    }
    return found ? found : soma_fail(err, SOMA_E_ARG, "no parameter tensor is called \"%s\"", name);
}

/* One update of w[i0, i1) with learning rate lr and weight decay wd; gradients are g·scale. */
static void step_range(soma_optim *o, float *restrict w, const float *restrict g, float lr, float wd,
                       float scale, int64_t i0, int64_t i1) {
    const soma_optim_params *p = &o->p;
    float *restrict m = o->m, *restrict v = o->v;
    switch (p->kind) {
    case SOMA_OPTIM_SGD:
        for (int64_t i = i0; i < i1; i++) {
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
        for (int64_t i = i0; i < i1; i++) {
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
    /* the ranges between groups take lr and weight_decay as they are */
    int64_t at = 0;
    for (int k = 0; k < o->ng; k++) {
        const soma_optim_group *q = &o->g[k];
        if (q->offset > at) step_range(o, w, g, lr, p->weight_decay, scale, at, q->offset);
        step_range(o, w, g, lr * q->lr_scale, p->weight_decay * q->wd_scale, scale, q->offset, q->offset + q->count);
        at = q->offset + q->count;
    }
    if (at < n) step_range(o, w, g, lr, p->weight_decay, scale, at, n);
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
