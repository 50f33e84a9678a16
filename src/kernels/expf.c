/*
 * kernels/expf.c — soma_expf1 over an array (vectorised by the compiler: straight-line float
 * operations, the clamps as selects), and its source text for the exporter.
 */
#include "kernels/expf.h"

#include "synapse/synop.h" /* SOMA_HOT */

SOMA_HOT void soma_expf_n(float *y, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = soma_expf1(x[i]);
}

/* Keep in step with soma_expf1 (tests/test_export.c compiles it and compares bits). The one
 * %s is the function's name. */
const char soma_expf_source_fmt[] =
    "static float %s(float x)\n"
    "{\n"
    "    /* e^x: x clamped to [-87, 88], x = k ln2 + r, Taylor series of e^r to r^7, times 2^k */\n"
    "    const float magic = 12582912.0f;\n"
    "    union { float f; uint32_t u; } t, m, s;\n"
    "    float k, r, p;\n"
    "    x = x < -87.0f ? -87.0f : x;\n"
    "    x = x > 88.0f ? 88.0f : x;\n"
    "    t.f = x * 1.44269502f + magic;\n"
    "    k = t.f - magic;\n"
    "    r = (x - k * 0.693145752f) - k * 1.42860677e-06f;\n"
    "    p = 1.98412701e-04f;\n"
    "    p = p * r + 1.38888892e-03f;\n"
    "    p = p * r + 8.33333377e-03f;\n"
    "    p = p * r + 4.16666679e-02f;\n"
    "    p = p * r + 1.66666672e-01f;\n"
    "    p = p * r + 0.5f;\n"
    "    p = p * r + 1.0f;\n"
    "    p = p * r + 1.0f;\n"
    "    m.f = magic;\n"
    "    s.u = (t.u - m.u + 127u) << 23;\n"
    "    return p * s.f;\n"
    "}\n";
