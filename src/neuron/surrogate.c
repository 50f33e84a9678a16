/*
 * neuron/surrogate.c — surrogate derivatives σ′(x) of the spike function and their primitives.
 *
 * The primitives exist for the smooth-forward gradient check: firing with S instead of Θ makes
 * the whole BPTT chain differentiable, so finite differences can verify it exactly.
 * The hot loops in dynamics.c inline surrogate_grad_inline() from surrogate.h, not these.
 */
#include "neuron/surrogate.h"

#include <math.h>
#include <string.h>

float soma_surrogate_default_slope(soma_surrogate s) {
    static const float d[SOMA_SURROGATE_COUNT] = {4.0f, 2.0f, 25.0f, 1.0f, 1.0f, 1.0f};
    return (unsigned)s < SOMA_SURROGATE_COUNT ? d[s] : 1.0f;
}

float soma_surrogate_grad(soma_surrogate s, float slope, float x) {
    if (slope <= 0) slope = soma_surrogate_default_slope(s);
    return surrogate_grad_inline(s, slope, x);
}

float soma_surrogate_primitive(soma_surrogate s, float slope, float x) {
    if (slope <= 0) slope = soma_surrogate_default_slope(s);
    const float pi = 3.14159265358979f;
    float ax = fabsf(x), sg = x >= 0 ? 1.0f : -1.0f;
    switch (s) {
    case SOMA_SURROGATE_SIGMOID: return 1.0f / (1.0f + expf(-slope * x));
    case SOMA_SURROGATE_ATAN: return 0.5f + atanf(pi * slope * x / 2) / pi;
    case SOMA_SURROGATE_FAST_SIGMOID: return 0.5f + x / (1.0f + slope * ax); /* S′ = σ′; range ½ ± 1/k */
    case SOMA_SURROGATE_TRIANGLE:
        if (ax >= slope) return x > 0 ? 1.0f : 0.0f;
        return 0.5f + sg * (slope * ax - 0.5f * x * x) / (slope * slope);
    case SOMA_SURROGATE_RECT: {
        float v = x / slope + 0.5f;
        return v < 0 ? 0.0f : v > 1 ? 1.0f : v;
    }
    case SOMA_SURROGATE_EXP: return 0.5f + 0.5f * sg * (1.0f - expf(-slope * ax));
    default: return 0;
    }
}

static const char *const kind_names[] = {"lif", "lif-tau", "if", "plif"};
static const char *const reset_names[] = {"hard", "soft", "none"};
static const char *const surr_names[] = {"sigmoid", "atan", "fast-sigmoid", "triangle", "rect", "exp"};

static int lookup(const char *const *names, int n, const char *s) {
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

const char *soma_neuron_kind_name(soma_neuron_kind k) {
    return (unsigned)k < SOMA_NEURON_KIND_COUNT ? kind_names[k] : "?";
}
const char *soma_reset_name(soma_reset r) {
    return (unsigned)r < SOMA_RESET_COUNT ? reset_names[r] : "?";
}
const char *soma_surrogate_name(soma_surrogate s) {
    return (unsigned)s < SOMA_SURROGATE_COUNT ? surr_names[s] : "?";
}
int soma_neuron_kind_parse(const char *s) { return lookup(kind_names, SOMA_NEURON_KIND_COUNT, s); }
int soma_reset_parse(const char *s) { return lookup(reset_names, SOMA_RESET_COUNT, s); }
int soma_surrogate_parse(const char *s) {
    int r = lookup(surr_names, SOMA_SURROGATE_COUNT, s);
    if (r < 0 && s && strcmp(s, "rectangular") == 0) r = SOMA_SURROGATE_RECT;
    if (r < 0 && s && strcmp(s, "exponential") == 0) r = SOMA_SURROGATE_EXP;
    return r;
}
