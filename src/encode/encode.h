/* encode/encode.h — spike encoders (see soma/net.h for the definitions). */
#ifndef SOMA_ENCODE_H
#define SOMA_ENCODE_H

#include "soma/net.h"

/* out (T, B, M) from x (B, M); uid (B) and seed select the random stream of rate coding. */
void soma_encode(soma_encoder e, float *out, const float *x, const int64_t *uid, int T,
                 int64_t B, int64_t M, uint64_t seed);

/* Rate or latency coding straight into spike lists (the same spikes soma_encode gives):
 * idx (capacity T·B·M), off (T·B + 1), rows in (t, b) order. nz (B·M) and nz_off (B + 1)
 * are scratch. Returns the spike count. */
int64_t soma_encode_spikes(soma_encoder e, int32_t *idx, int64_t *off, const float *x,
                           const int64_t *uid, int T, int64_t B, int64_t M, uint64_t seed,
                           int32_t *nz, int64_t *nz_off);
/* Writes the dense 0/1 rows (rows, M) of spike lists. */
void soma_spikes_densify(float *out, const int32_t *idx, const int64_t *off, int64_t rows, int64_t M);

#endif
