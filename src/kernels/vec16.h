/*
 * kernels/vec16.h — 16 floats as one value, for the register-blocked gathers and scatters of
 * the event-driven synaptic operators (synapse/dense.c, synapse/sparse.c).
 *
 * GCC/clang lower a v16 to one AVX-512, two AVX or four SSE registers, so partial sums of 16·W
 * channels stay in registers whatever the target the SOMA_HOT clone is built for. Plain loops
 * were auto-vectorised the wrong way round (across spikes instead of across outputs). The
 * helpers must inline into the caller so that they take its target.
 */
#ifndef SOMA_VEC16_H
#define SOMA_VEC16_H

#include <string.h>

typedef float v16 __attribute__((vector_size(64)));
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE v16 ld16(const float *p) {
    v16 v;
    memcpy(&v, p, sizeof v);
    return v;
}
ALWAYS_INLINE void st16(float *p, v16 v) { memcpy(p, &v, sizeof v); }

#endif
