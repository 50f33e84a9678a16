/*
 * data/nmnist.c — N-MNIST (Orchard et al. 2015, https://www.garrickorchard.com/datasets/n-mnist):
 * MNIST digits recorded by a moving ATIS sensor, one file per sample in Train/<digit>/ and
 * Test/<digit>/. A file is a sequence of 40-bit events:
 *
 *   byte 0   x (0..33)          byte 1   y (0..33)
 *   byte 2   bit 7 polarity, bits 6..0 timestamp bits 22..16
 *   bytes 3, 4   timestamp bits 15..8, 7..0   (µs)
 *
 * The loader bins each sample into T frames of (2, 34, 34) event counts (data/events.c), so a
 * dataset row holds T·2312 floats (frames = T). Memory is n·T·2312·4 bytes: 5.5 GB for the whole
 * training set at T = 10, hence max_samples.
 */
#include "data/events.h"

#include <stdio.h>
#include <string.h>

#define SENSOR 34

int soma_nmnist_parse(soma_event **ev, int64_t *n, const uint8_t *buf, size_t len,
                      const char *name, soma_error *err) {
    *ev = NULL, *n = 0;
    if (len % 5 != 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: %zu bytes is not a whole number of 5-byte N-MNIST events "
                         "(truncated file?)", name, len);
    const int64_t cnt = (int64_t)(len / 5);
    soma_event *e = soma_malloc((size_t)(cnt ? cnt : 1) * sizeof *e);
    if (!e) return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld events", name, (long long)cnt);
    for (int64_t i = 0; i < cnt; i++) {
        const uint8_t *b = buf + 5 * i;
        if (b[0] >= SENSOR || b[1] >= SENSOR) {
            soma_free(e);
            return soma_fail(err, SOMA_E_FORMAT, "%s: event %lld at byte offset %lld: pixel (%d, %d) is outside "
                             "the 34x34 sensor; is this an N-MNIST .bin file?", name, (long long)i,
                             (long long)(5 * i), b[0], b[1]);
        }
        e[i].x = b[0], e[i].y = b[1], e[i].p = b[2] >> 7;
        e[i].t = (int64_t)(b[2] & 0x7f) << 16 | (int64_t)b[3] << 8 | b[4];
    }
    *ev = e, *n = cnt;
    return SOMA_OK;
}

int soma_nmnist_load(soma_dataset *out, const char *dir, bool train, int T, soma_bin_mode mode,
                     int64_t max_samples, soma_error *err) {
    memset(out, 0, sizeof *out);
    if (T < 1 || T > 10000) return soma_fail(err, SOMA_E_ARG, "N-MNIST: T = %d out of range (1..10000)", T);
    char path[4096];
    char **names[10] = {0};
    int64_t counts[10] = {0}, total = 0;
    int rc = SOMA_OK;
    for (int k = 0; k < 10 && rc == SOMA_OK; k++) {
        snprintf(path, sizeof path, "%s/%s/%d", dir, train ? "Train" : "Test", k);
        rc = soma_dir_list(&names[k], &counts[k], path, ".bin", err);
        total += counts[k];
    }
    if (rc == SOMA_E_IO) {
        size_t m = strlen(err->msg);
        snprintf(err->msg + m, sizeof err->msg - m, " (expected N-MNIST's Train/<digit>/*.bin and Test/<digit>/*.bin "
                 "under %s; get it from https://www.garrickorchard.com/datasets/n-mnist)", dir);
    }
    /* keep the first samples of every digit, in name order, up to max_samples in total */
    int64_t keep[10], n = 0;
    for (int k = 0; k < 10; k++) keep[k] = counts[k];
    if (rc == SOMA_OK && max_samples > 0 && max_samples < total)
        for (int k = 0; k < 10; k++) keep[k] = (max_samples * (k + 1)) / 10 - (max_samples * k) / 10;
    for (int k = 0; k < 10; k++) keep[k] = keep[k] < counts[k] ? keep[k] : counts[k], n += keep[k];
    if (rc == SOMA_OK && n == 0) rc = soma_fail(err, SOMA_E_FORMAT, "%s: no N-MNIST samples found", dir);
    const int64_t dim = (int64_t)T * 2 * SENSOR * SENSOR;
    soma_dataset d = {0};
    if (rc == SOMA_OK) {
        d.n = n, d.dim = (int32_t)dim, d.c = 2, d.h = SENSOR, d.w = SENSOR, d.frames = T;
        d.x = soma_malloc((size_t)(n * dim) * sizeof(float));
        d.y = soma_malloc((size_t)n * sizeof(int32_t));
        if (!d.x || !d.y)
            rc = soma_fail(err, SOMA_E_NOMEM, "N-MNIST: cannot allocate %lld samples of %lld floats (use fewer samples)",
                           (long long)n, (long long)dim);
    }
    int64_t i = 0;
    for (int k = 0; k < 10 && rc == SOMA_OK; k++)
        for (int64_t j = 0; j < keep[k] && rc == SOMA_OK; j++, i++) {
            snprintf(path, sizeof path, "%s/%s/%d/%s", dir, train ? "Train" : "Test", k, names[k][j]);
            rc = soma_event_file_frames(d.x + i * dim, path, soma_nmnist_parse, T, SENSOR, SENSOR, 1, mode, err);
            d.y[i] = k;
            if (k + 1 > d.n_classes) d.n_classes = k + 1;
        }
    for (int k = 0; k < 10; k++) soma_dir_list_free(names[k], counts[k]);
    if (rc != SOMA_OK) {
        soma_dataset_free(&d);
        return rc;
    }
    *out = d;
    return SOMA_OK;
}
