/* data/dataset.c — freeing datasets and copying row ranges out of them. */
#include "soma/data.h"

#include <string.h>

void soma_dataset_free(soma_dataset *d) {
    if (!d) return;
    soma_free(d->x);
    soma_free(d->y);
    memset(d, 0, sizeof *d);
}

int soma_dataset_slice(soma_dataset *out, const soma_dataset *src, int64_t first, int64_t count,
                       soma_error *err) {
    if (!out || !src) return soma_fail(err, SOMA_E_ARG, "soma_dataset_slice: NULL argument");
    if (out == src)
        return soma_fail(err, SOMA_E_ARG, "soma_dataset_slice: out and src must be different");
    memset(out, 0, sizeof *out);
    if (first < 0 || count < 0 || first > src->n || count > src->n - first)
        return soma_fail(err, SOMA_E_ARG,
                         "slice [%lld, %lld) is out of range: the dataset has %lld samples",
                         (long long)first, (long long)first + (long long)count, (long long)src->n);
    soma_dataset d = *src;
    d.n = count;
    d.x = NULL;
    d.y = NULL;
    if (count > 0) {
        size_t nx = (size_t)count * (size_t)src->dim;
        d.x = soma_malloc(nx * sizeof(float));
        d.y = soma_malloc((size_t)count * sizeof(int32_t));
        if (!d.x || !d.y) {
            soma_free(d.x);
            soma_free(d.y);
            return soma_fail(err, SOMA_E_NOMEM, "cannot allocate a %lld x %d slice",
                             (long long)count, src->dim);
        }
        memcpy(d.x, src->x + first * src->dim, nx * sizeof(float));
        memcpy(d.y, src->y + first, (size_t)count * sizeof(int32_t));
    }
    *out = d;
    return SOMA_OK;
}
