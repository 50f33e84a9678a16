/* encode/encode.h — spike encoders (see soma/net.h for the definitions). */
#ifndef SOMA_ENCODE_H
#define SOMA_ENCODE_H

#include "soma/net.h"

/* out (T, B, M) from x (B, M); uid (B) and seed select the random stream of rate coding. */
void soma_encode(soma_encoder e, float *out, const float *x, const int64_t *uid, int T,
                 int64_t B, int64_t M, uint64_t seed);

/* Rate or latency coding straight into spike lists (the same spikes soma_encode gives):
 * idx (capacity T·B·M), off (T·B + 1), rows in (t, b) order. Returns the spike count.
 * fk (B·M int32), fm (B·M uint64) and foff (B + 1): for T <= 64, the same spikes folded over
 * time: sample b's inputs that spiked, ascending, fk[j] at the steps of the bits of fm[j],
 * j in [foff[b], foff[b + 1]) (see soma_spikes); scratch for T > 64. */
int64_t soma_encode_spikes(soma_encoder e, int32_t *idx, int64_t *off, const float *x,
                           const int64_t *uid, int T, int64_t B, int64_t M, uint64_t seed,
                           int32_t *fk, uint64_t *fm, int64_t *foff);
/* The same in two steps, for 1 <= T <= 64: the folds (returns the spike count), then the
 * lists from them (returns the spike count), or the dense 0/1 rows (T, B, M) from them when the
 * lists would not be used (dm: M uint64, zero, left zero). */
int64_t soma_encode_folds(soma_encoder e, const float *x, const int64_t *uid, int T, int64_t B, int64_t M,
                          uint64_t seed, int32_t *fk, uint64_t *fm, int64_t *foff);
int64_t soma_folds_lists(int32_t *idx, int64_t *off, const int32_t *fk, const uint64_t *fm, const int64_t *foff,
                         int T, int64_t B);
void soma_folds_densify(float *out, const int32_t *fk, const uint64_t *fm, const int64_t *foff, int T, int64_t B,
                        int64_t M, uint64_t *dm);
/* Writes the dense 0/1 rows (rows, M) of spike lists. */
void soma_spikes_densify(float *out, const int32_t *idx, const int64_t *off, int64_t rows, int64_t M);

#endif
