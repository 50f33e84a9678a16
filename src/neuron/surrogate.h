/* neuron/surrogate.h — the surrogate derivative as an inline function for the fused loops.
 * Callers switch on the kind once outside their loop and call this with a constant kind, so
 * the compiler specialises the loop body. */
#ifndef SOMA_SURROGATE_INTERNAL_H
#define SOMA_SURROGATE_INTERNAL_H

#include "soma/neuron.h"

#include <math.h>

static inline float surrogate_grad_inline(soma_surrogate s, float k, float x) {
    switch (s) {
    case SOMA_SURROGATE_SIGMOID: {
        float sg = 1.0f / (1.0f + expf(-k * x));
        return k * sg * (1.0f - sg);
    }
    case SOMA_SURROGATE_ATAN: {
        float z = 1.57079632679f * k * x;
        return 0.5f * k / (1.0f + z * z);
    }
    case SOMA_SURROGATE_FAST_SIGMOID: {
        float z = k * fabsf(x) + 1.0f;
        return 1.0f / (z * z);
    }
    case SOMA_SURROGATE_TRIANGLE: {
        float z = k - fabsf(x);
        return z > 0 ? z / (k * k) : 0.0f;
    }
    case SOMA_SURROGATE_RECT: return fabsf(x) < 0.5f * k ? 1.0f / k : 0.0f;
    case SOMA_SURROGATE_EXP: return 0.5f * k * expf(-k * fabsf(x));
    default: return 0.0f;
    }
}

#endif
