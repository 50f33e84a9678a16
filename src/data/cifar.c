/*
 * data/cifar.c — CIFAR-10 and CIFAR-100, the "binary version" of
 * https://www.cs.toronto.edu/~kriz/cifar.html:
 *
 *   CIFAR-10   data_batch_1..5.bin, test_batch.bin: records of <label> <3072 pixels>
 *   CIFAR-100  train.bin, test.bin:                 records of <coarse> <fine> <3072 pixels>
 *
 * Pixels are 1024 red, then 1024 green, then 1024 blue bytes, each plane row-major 32×32: the
 * C×H×W image (3, 32, 32) Soma's conv layers take, scaled to [0, 1]. The parser is a pure
 * function over (buf, len); files may be gzipped (soma_read_file). Not handled: the Python
 * (pickle) and MATLAB versions, which the error messages recognise and name.
 */
#include "soma/data.h"

#include <stdio.h>
#include <string.h>

#define PIXELS 3072
#define MAX_BYTES (200LL << 20) /* the largest file (CIFAR-100 train.bin) is 154 MB */

int soma_cifar_parse(soma_dataset *out, const uint8_t *buf, size_t len, int classes, bool coarse,
                     const char *name, soma_error *err) {
    memset(out, 0, sizeof *out);
    if (classes != 10 && classes != 100)
        return soma_fail(err, SOMA_E_ARG, "%s: CIFAR has 10 or 100 classes (got %d)", name, classes);
    const size_t lab = classes == 10 ? 1 : 2, rec = lab + PIXELS;
    const int nlab = classes == 10 ? 10 : coarse ? 20 : 100;
    if (len >= 2 && buf[0] == 0x80 && buf[1] <= 5)
        return soma_fail(err, SOMA_E_FORMAT, "%s: this is the Python (pickle) version of CIFAR; "
                         "download the binary version (cifar-%d-binary.tar.gz)", name, classes);
    if (len > 262 && memcmp(buf + 257, "ustar", 5) == 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: this is a tar archive; extract it first (tar xzf)", name);
    if (len == 0 || len % rec != 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: %zu bytes is not a whole number of %zu-byte records "
                         "(the CIFAR-%d binary version; truncated file?)", name, len, rec, classes);
    const int64_t n = (int64_t)(len / rec);
    soma_dataset d = {0};
    d.n = n, d.dim = PIXELS, d.c = 3, d.h = 32, d.w = 32, d.frames = 1;
    d.x = soma_malloc((size_t)n * PIXELS * sizeof(float));
    d.y = soma_malloc((size_t)n * sizeof(int32_t));
    if (!d.x || !d.y) {
        soma_dataset_free(&d);
        return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld images", name, (long long)n);
    }
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;
    int32_t maxl = 0;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *r = buf + (size_t)i * rec;
        const int l = lab == 1 ? r[0] : coarse ? r[0] : r[1];
        if (l >= nlab || (lab == 2 && r[0] >= 20)) {
            soma_dataset_free(&d);
            return soma_fail(err, SOMA_E_FORMAT, "%s: record %lld at byte offset %zu: label %d is out of range "
                             "(expected 0..%d); is this CIFAR-%d?", name, (long long)i, (size_t)i * rec,
                             lab == 2 && r[0] >= 20 ? r[0] : l, lab == 2 && r[0] >= 20 ? 19 : nlab - 1, classes);
        }
        d.y[i] = l;
        maxl = l > maxl ? l : maxl;
        float *x = d.x + i * PIXELS;
        for (int k = 0; k < PIXELS; k++) x[k] = lut[r[lab + (size_t)k]];
    }
    d.n_classes = maxl + 1;
    *out = d;
    return SOMA_OK;
}

/* Reads dir/<file> or dir/<sub>/<file>. */
static int read_one(uint8_t **buf, size_t *len, char *path, size_t pn, const char *dir, const char *sub,
                    const char *file, soma_error *err) {
    snprintf(path, pn, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) snprintf(path, pn, "%s/%s/%s", dir, sub, file);
    else fclose(f);
    return soma_read_file(buf, len, path, (size_t)MAX_BYTES, err);
}

int soma_cifar_load(soma_dataset *out, const char *dir, int classes, bool coarse, bool train,
                    soma_error *err) {
    memset(out, 0, sizeof *out);
    if (classes != 10 && classes != 100)
        return soma_fail(err, SOMA_E_ARG, "CIFAR has 10 or 100 classes (got %d)", classes);
    const char *sub = classes == 10 ? "cifar-10-batches-bin" : "cifar-100-binary";
    const char *files10[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"};
    const char *test10[] = {"test_batch.bin"}, *train100[] = {"train.bin"}, *test100[] = {"test.bin"};
    const char **files = classes == 10 ? (train ? files10 : test10) : (train ? train100 : test100);
    const int nf = classes == 10 && train ? 5 : 1;
    soma_dataset parts[5] = {{0}};
    char path[4096];
    int rc = SOMA_OK;
    int64_t total = 0;
    for (int i = 0; i < nf && rc == SOMA_OK; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = read_one(&buf, &len, path, sizeof path, dir, sub, files[i], err);
        if (rc == SOMA_OK) rc = soma_cifar_parse(&parts[i], buf, len, classes, coarse, path, err);
        soma_free(buf);
        total += parts[i].n;
    }
    if (rc == SOMA_E_IO) {
        size_t m = strlen(err->msg);
        snprintf(err->msg + m, sizeof err->msg - m, "; get the binary version from https://www.cs.toronto.edu/~kriz/cifar.html "
                 "and extract it (scripts/fetch_cifar.sh)");
    }
    if (rc == SOMA_OK && nf == 1) {
        *out = parts[0];
        return SOMA_OK;
    }
    soma_dataset d = {0};
    if (rc == SOMA_OK) {
        d = parts[0];
        d.n = total, d.x = NULL, d.y = NULL;
        d.x = soma_malloc((size_t)total * PIXELS * sizeof(float));
        d.y = soma_malloc((size_t)total * sizeof(int32_t));
        if (!d.x || !d.y) rc = soma_fail(err, SOMA_E_NOMEM, "cannot allocate %lld CIFAR images", (long long)total);
    }
    int64_t at = 0;
    for (int i = 0; i < nf; i++) {
        if (rc == SOMA_OK) {
            memcpy(d.x + at * PIXELS, parts[i].x, (size_t)parts[i].n * PIXELS * sizeof(float));
            memcpy(d.y + at, parts[i].y, (size_t)parts[i].n * sizeof(int32_t));
            if (parts[i].n_classes > d.n_classes) d.n_classes = parts[i].n_classes;
            at += parts[i].n;
        }
        soma_dataset_free(&parts[i]);
    }
    if (rc != SOMA_OK) {
        soma_dataset_free(&d);
        return rc;
    }
    *out = d;
    return SOMA_OK;
}
