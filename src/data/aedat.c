/*
 * data/aedat.c — AEDAT 2.0 event files and the CIFAR10-DVS dataset (Li et al. 2017,
 * https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671): CIFAR-10 images shown to a
 * DVS128 sensor, 1000 recordings per class in <class>/cifar10_<class>_<i>.aedat.
 *
 * AEDAT 2.0 (jAER): text header lines that start with '#' (the first is "#!AER-DAT2.0"), then
 * events of two big-endian uint32: the address and the timestamp (µs). A DVS128 address holds
 * the polarity in bit 0, x in bits 1..7 and y in bits 8..14; the pixel is mapped as
 * SpikingJelly does for CIFAR10-DVS (x = 127 − y_raw, y = 127 − x_raw, p = 1 − p_raw), so
 * frames match the ones PLIF-Net and later work train on. Not handled: AEDAT 3.x/4 (packet
 * headers), which the parser recognises by its version line and names.
 */
#include "data/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SENSOR 128

static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }

int soma_aedat_parse(soma_event **ev, int64_t *n, const uint8_t *buf, size_t len,
                     const char *name, soma_error *err) {
    *ev = NULL, *n = 0;
    /* pass 1: the header, line by line while lines start with '#' */
    size_t hdr = 0;
    while (hdr < len && buf[hdr] == '#') {
        const uint8_t *nl = memchr(buf + hdr, '\n', len - hdr);
        if (!nl) return soma_fail(err, SOMA_E_FORMAT, "%s: the header line at byte offset %zu does not end", name, hdr);
        if (hdr == 0 && len >= 8 && memcmp(buf, "#!AER-DAT", 9 < len ? 9 : len) == 0 && len > 9 && buf[9] >= '3')
            return soma_fail(err, SOMA_E_VERSION, "%s: AEDAT version %c.x is not supported (expected 2.0, as CIFAR10-DVS uses)",
                             name, buf[9]);
        hdr = (size_t)(nl - buf) + 1;
    }
    const size_t body = len - hdr;
    if (body % 8 != 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: %zu bytes after the %zu-byte header is not a whole number of 8-byte "
                         "events (truncated file?)", name, body, hdr);
    const int64_t cnt = (int64_t)(body / 8);
    soma_event *e = soma_malloc((size_t)(cnt ? cnt : 1) * sizeof *e);
    if (!e) return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld events", name, (long long)cnt);
    /* pass 2: the events */
    for (int64_t i = 0; i < cnt; i++) {
        const uint8_t *b = buf + hdr + 8 * (size_t)i;
        const uint32_t a = be32(b);
        if (a >> 15) {
            soma_free(e);
            return soma_fail(err, SOMA_E_FORMAT, "%s: event %lld at byte offset %zu: address 0x%08x has bits above "
                             "the DVS128's 15; is this a DVS128 recording?", name, (long long)i, hdr + 8 * (size_t)i, a);
        }
        const int xr = (int)((a & 0xfe) >> 1), yr = (int)((a & 0x7f00) >> 8);
        e[i].x = (uint16_t)(SENSOR - 1 - yr), e[i].y = (uint16_t)(SENSOR - 1 - xr), e[i].p = (uint8_t)(1 - (a & 1));
        e[i].t = be32(b + 4);
    }
    *ev = e, *n = cnt;
    return SOMA_OK;
}

static const char *const classes[10] = {"airplane", "automobile", "bird", "cat", "deer",
                                        "dog", "frog", "horse", "ship", "truck"};

/* The recording index i of "cifar10_<class>_<i>.aedat", or -1. */
static long index_of(const char *file, const char *cls) {
    char pre[64];
    int l = snprintf(pre, sizeof pre, "cifar10_%s_", cls);
    if (strncmp(file, pre, (size_t)l) != 0) return -1;
    char *end;
    long v = strtol(file + l, &end, 10);
    return end != file + l && strcmp(end, ".aedat") == 0 && v >= 0 ? v : -1;
}

int soma_cifar10dvs_load(soma_dataset *out, const char *dir, bool train, int T, int pool,
                         soma_bin_mode mode, int64_t max_samples, soma_error *err) {
    memset(out, 0, sizeof *out);
    if (T < 1 || T > 10000) return soma_fail(err, SOMA_E_ARG, "CIFAR10-DVS: T = %d out of range (1..10000)", T);
    if (pool < 1 || pool > SENSOR) return soma_fail(err, SOMA_E_ARG, "CIFAR10-DVS: pooling %d out of range (1..128)", pool);
    char path[4096];
    char **names[10] = {0};
    int64_t counts[10] = {0};
    int rc = SOMA_OK;
    for (int k = 0; k < 10 && rc == SOMA_OK; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, classes[k]);
        rc = soma_dir_list(&names[k], &counts[k], path, ".aedat", err);
        /* keep this split's recordings: test = index < 100, train = the rest */
        int64_t m = 0;
        for (int64_t j = 0; rc == SOMA_OK && j < counts[k]; j++) {
            long idx = index_of(names[k][j], classes[k]);
            if (idx >= 0 && (idx < 100) != train) {
                char *t = names[k][m];
                names[k][m++] = names[k][j], names[k][j] = t;
            }
        }
        for (int64_t j = m; rc == SOMA_OK && j < counts[k]; j++) soma_free(names[k][j]), names[k][j] = NULL;
        if (rc == SOMA_OK) counts[k] = m;
    }
    if (rc == SOMA_E_IO) {
        size_t m = strlen(err->msg);
        snprintf(err->msg + m, sizeof err->msg - m, " (expected CIFAR10-DVS's <class>/cifar10_<class>_<i>.aedat under %s; "
                 "get it from https://figshare.com/articles/dataset/CIFAR10-DVS_New/4724671)", dir);
    }
    int64_t keep[10], n = 0, total = 0;
    for (int k = 0; k < 10; k++) keep[k] = counts[k], total += counts[k];
    if (rc == SOMA_OK && max_samples > 0 && max_samples < total)
        for (int k = 0; k < 10; k++) keep[k] = (max_samples * (k + 1)) / 10 - (max_samples * k) / 10;
    for (int k = 0; k < 10; k++) keep[k] = keep[k] < counts[k] ? keep[k] : counts[k], n += keep[k];
    if (rc == SOMA_OK && n == 0) rc = soma_fail(err, SOMA_E_FORMAT, "%s: no CIFAR10-DVS recordings of the %s split found", dir, train ? "training" : "test");
    const int side = SENSOR / pool;
    const int64_t dim = (int64_t)T * 2 * side * side;
    soma_dataset d = {0};
    if (rc == SOMA_OK) {
        d.n = n, d.dim = (int32_t)dim, d.c = 2, d.h = side, d.w = side, d.frames = T;
        d.x = soma_malloc((size_t)(n * dim) * sizeof(float));
        d.y = soma_malloc((size_t)n * sizeof(int32_t));
        if (!d.x || !d.y)
            rc = soma_fail(err, SOMA_E_NOMEM, "CIFAR10-DVS: cannot allocate %lld samples of %lld floats (pool the frames, "
                           "or use fewer samples)", (long long)n, (long long)dim);
    }
    int64_t i = 0;
    for (int k = 0; k < 10 && rc == SOMA_OK; k++)
        for (int64_t j = 0; j < keep[k] && rc == SOMA_OK; j++, i++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes[k], names[k][j]);
            rc = soma_event_file_frames(d.x + i * dim, path, soma_aedat_parse, T, SENSOR, SENSOR, pool, mode, err);
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
