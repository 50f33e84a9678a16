/*
 * synapse/sparse.h — the sparse feature operator (an embedding bag) as a synaptic operator.
 *
 * Input rows are lists of active features with values: row r holds nnz[r] ≤ cap pairs
 * (id[r·cap + j], x[r·cap + j]). The operator computes y_r = Σ_j x_rj · E[id_rj, :] with E
 * stored input-major (n_features, S) like the dense operator, so each term is one contiguous
 * row gather and the cost is O(nnz · channels), never O(n_features).
 *
 * The integration modes (src/integrate/) see the operator through soma_synop with
 * in_dim = cap (an input row is the cap value slots) and fan_in = n_features (the weight
 * layout). Their elementwise x ⊙ x is then the squared values — exactly the (V²)·x² term the
 * bilinear mode needs — and ∂L/∂x is the gradient of each active value. The feature ids are
 * not part of x: they are bound to the operator before each call (soma_sparse_bind), so an
 * operator object belongs to one thread at a time (create one per workspace; it is tiny).
 */
#ifndef SOMA_SPARSE_H
#define SOMA_SPARSE_H

#include "synapse/synop.h"

typedef struct soma_sparse_rows {
    const int32_t *id;   /* (rows, cap) feature ids in [0, n_features); slots past nnz ignored */
    const int32_t *nnz;  /* (rows) active slots per row */
} soma_sparse_rows;

/* A sparse operator over n_features inputs with up to cap active features per row. */
soma_synop *soma_sparse_create(int64_t n_features, int64_t cap);
/* Binds the feature ids of the rows the next calls see (the pointers are kept, not copied). */
void soma_sparse_bind(soma_synop *op, const soma_sparse_rows *rows);

/* Reference kernels (naive loops, double accumulation) the fast ones are tested against.
 * Shapes as the operator's: Y (rows, S), x (rows, cap), E (n_features, S). */
void soma_sparse_forward_ref(float *Y, const float *x, const soma_sparse_rows *in, int64_t cap,
                             const float *E, int64_t S, int64_t c0, int64_t nc, int64_t rows);
void soma_sparse_backward_input_ref(float *dx, const float *G, const soma_sparse_rows *in,
                                    int64_t cap, const float *E, int64_t S, int64_t c0,
                                    int64_t nc, int64_t rows, float beta);
void soma_sparse_backward_weight_ref(float *dE, const float *G, const float *x,
                                     const soma_sparse_rows *in, int64_t cap, int64_t S,
                                     int64_t c0, int64_t nc, int64_t rows);

/* y[0:nc] += Σ_j x[j]·E[id[j]·S + 0:nc] over n slots, in slot order: the operator's inner
 * loop, shared with serving (src/rec/serve.c) so that a sum continued from a prefix of the
 * slots is bitwise the sum the operator computes over all of them. y holds the partial sum
 * on entry (zeros for a fresh row). */
void soma_sparse_gather_add(float *y, const float *E, int64_t S, const int32_t *id,
                            const float *x, int64_t n, int64_t nc, bool square);

#endif
