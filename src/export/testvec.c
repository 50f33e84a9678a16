/*
 * export/testvec.c — test vectors for the round trip of generated code: inputs, labels, the
 * logits of Soma's own evaluation and those of the exported arithmetic.
 *
 * Format (text, one record per line, tests/export_harness.c reads it):
 *   soma-testvec 1 <n> <in_dim> <out_dim> <T> <seed> <int8 0|1> <reported accuracy drop>
 *   <label> <in_dim inputs, %.9g> <out_dim soma-eval logits, %a> <out_dim exported logits, %a>
 * Hex floats carry the logits bit for bit.
 */
#include "export/export_internal.h"

#include <stdio.h>
#include <string.h>

int soma_export_write_testvec(const char *path, soma_net *net, soma_export_model *m,
                              const soma_dataset *d, int64_t n, uint64_t seed, int eval_batch,
                              double ref_accuracy_drop, soma_error *err) {
    if (n > d->n) n = d->n;
    if (n < 1 || eval_batch < 1) return soma_fail(err, SOMA_E_ARG, "no samples for test vectors");
    if (d->dim != m->in_dim || soma_net_input_dim(net) != m->in_dim)
        return soma_fail(err, SOMA_E_SHAPE, "data, net and exported model disagree on the input size");
    const int64_t M = m->in_dim, C = m->out_dim;
    float *ref = soma_malloc((size_t)(n * C) * sizeof(float));
    float *mine = soma_malloc((size_t)C * sizeof(float));
    int64_t *uid = soma_malloc((size_t)eval_batch * sizeof(int64_t));
    FILE *f = NULL;
    int rc = SOMA_OK;
    if (!ref || !mine || !uid) {
        rc = soma_fail(err, SOMA_E_NOMEM, "out of memory");
        goto done;
    }
    for (int64_t first = 0; first < n; first += eval_batch) {
        int nb = (int)(n - first < eval_batch ? n - first : eval_batch);
        for (int b = 0; b < nb; b++) uid[b] = first + b;
        rc = soma_net_eval_batch(net, d->x + first * M, NULL, uid, nb, seed, ref + first * C, NULL);
        if (rc != SOMA_OK) {
            soma_fail(err, rc, "%s", soma_net_errmsg(net));
            goto done;
        }
    }
    if (!(f = fopen(path, "w"))) {
        rc = soma_fail(err, SOMA_E_IO, "%s: cannot open for writing", path);
        goto done;
    }
    fprintf(f, "soma-testvec 1 %lld %lld %lld %d %llu %d %.17g\n", (long long)n, (long long)M, (long long)C, m->T,
            (unsigned long long)seed, m->int8 ? 1 : 0, ref_accuracy_drop);
    for (int64_t i = 0; i < n; i++) {
        const float *x = d->x + i * M;
        soma_export_predict(m, x, seed, (uint64_t)i, mine);
        fprintf(f, "%d", d->y[i]);
        for (int64_t j = 0; j < M; j++) fprintf(f, " %.9g", (double)x[j]);
        for (int64_t c = 0; c < C; c++) fprintf(f, " %a", (double)ref[i * C + c]);
        for (int64_t c = 0; c < C; c++) fprintf(f, " %a", (double)mine[c]);
        fputc('\n', f);
    }
    if (ferror(f)) rc = soma_fail(err, SOMA_E_IO, "%s: write failed", path);
    if (fclose(f) != 0 && rc == SOMA_OK) rc = soma_fail(err, SOMA_E_IO, "%s: write failed", path);
done:
    soma_free(ref);
    soma_free(mine);
    soma_free(uid);
    return rc;
}
