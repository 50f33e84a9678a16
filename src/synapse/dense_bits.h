/*
 * synapse/dense_bits.h — the dense synapse on dense binary input (spike trains too dense for
 * the event-driven path, e.g. 50 % density), by table lookup instead of GEMM.
 *
 * Inputs go in groups of four. For each group the 16 sums of its weight rows' subsets are
 * tabulated once per call, and a row's product is the sum over groups of one table row each,
 * picked by the row's 4 input bits: M/4 row additions per output row, where the GEMM does M
 * multiply-adds. The weight gradient swaps rows and inputs: the 16 subset sums of each 4
 * output-gradient rows are tabulated, and input k's gradient row adds, per 4 rows, the table
 * row picked by its spikes in them. Both sum in a fixed order per call, so
 * results are the same for any thread count; they differ from the GEMM by float rounding.
 */
#ifndef SOMA_SYNAPSE_DENSE_BITS_H
#define SOMA_SYNAPSE_DENSE_BITS_H

#include <stdbool.h>
#include <stdint.h>

/* 0 picks the table kernels where they apply (AVX-512, binary x, M and nc >= 64); 1 turns them off
 * (the GEMM runs: tests and benchmarks compare the two). */
extern int soma_dense_bits_kernel;

/* Whether the table kernels would take binary input of this shape (kernel, CPU, sizes; nc
 * outputs: below 64 inputs or outputs the small GEMM is faster, measured). */
bool soma_dense_bits_enabled(int64_t rows, int64_t M, int64_t nc);
/* Whether the table kernels can take x (rows·M floats): every element 0 or 1, and a CPU and
 * shape they support. Exits at the first other value. */
bool soma_dense_bits_apply(const float *x, int64_t rows, int64_t M, int64_t nc);

/* Y[:, c0:c0+nc] = x·E[:, c0:c0+nc], E (M, S) input-major, x binary (rows, M). */
void soma_dense_forward_bits(float *Y, const float *x, const float *E, int64_t S, int64_t M,
                             int64_t c0, int64_t nc, int64_t rows);
/* dE[:, c0:c0+nc] += xᵀ·G[:, c0:c0+nc], G (rows, S), x binary (rows, M). False, dE untouched,
 * when its scratch (2 bytes per input) cannot be allocated. */
bool soma_dense_backward_weight_bits(float *dE, const float *G, const float *x, int64_t S, int64_t M,
                                     int64_t c0, int64_t nc, int64_t rows);

#endif
