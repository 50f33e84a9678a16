/* encode/encode.h — spike encoders (see soma/net.h for the definitions). */
#ifndef SOMA_ENCODE_H
#define SOMA_ENCODE_H

#include "soma/net.h"

/* out (T, B, M) from x (B, M); uid (B) and seed select the random stream of rate coding. */
void soma_encode(soma_encoder e, float *out, const float *x, const int64_t *uid, int T,
                 int64_t B, int64_t M, uint64_t seed);

#endif
