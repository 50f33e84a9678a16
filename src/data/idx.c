/*
 * data/idx.c — the IDX format of MNIST and Fashion-MNIST: parsing, loading image/label pairs,
 * and finding the standard file names in a directory.
 *
 * An IDX file is a big-endian magic (two zero bytes, a type byte, a dimension count), one
 * big-endian uint32 per dimension, then exactly prod(dims) items. Only the uint8 type (0x08)
 * is supported, which is what MNIST-style images and labels use. Every size is checked against
 * the SOMA_IDX_MAX_* limits before anything is allocated, and the file length must match the
 * header exactly: fewer bytes is a truncated download, more is trailing garbage.
 */
#include "soma/data.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define IDX_TYPE_U8 0x08

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *type_name(int t) {
    switch (t) {
    case 0x08: return "uint8";
    case 0x09: return "int8";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return NULL;
    }
}

int soma_idx_parse(soma_idx *out, const uint8_t *buf, size_t len, const char *name, soma_error *err) {
    if (!name) name = "(idx)";
    if (!out || (!buf && len)) return soma_fail(err, SOMA_E_ARG, "%s: soma_idx_parse: NULL argument", name);
    memset(out, 0, sizeof *out);
    if (len == 0)
        return soma_fail(err, SOMA_E_FORMAT, "%s: empty file (expected an IDX header)", name);
    if (len < 4)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: truncated header: %zu bytes, expected at least 4 (the magic number)",
                         name, len);
    uint32_t magic = be32(buf);
    int type = buf[2], ndim = buf[3];
    if (buf[0] == 0x1f && buf[1] == 0x8b)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: bad magic 0x%08x: this is gzip data; decompress it first "
                         "(soma_read_file does)", name, magic);
    if (buf[0] != 0 || buf[1] != 0 || !type_name(type))
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: bad magic 0x%08x at byte offset 0 (expected 0x000008NN: two zero "
                         "bytes, type 0x08 = uint8, NN = 1..4 dimensions); is this an IDX file?",
                         name, magic);
    if (type != IDX_TYPE_U8)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: IDX data type 0x%02x (%s) is not supported (expected 0x08, uint8; "
                         "magic 0x%08x)", name, type, type_name(type), magic);
    if (ndim < 1 || ndim > 4)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: bad magic 0x%08x: %d dimensions (expected 1 to 4); is this an IDX file?",
                         name, magic, ndim);
    size_t hdr = 4 + 4 * (size_t)ndim;
    if (len < hdr)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: truncated header: %zu bytes, expected %zu (magic and %d dimension sizes)",
                         name, len, hdr, ndim);
    int64_t dims[4] = {0, 0, 0, 0}, total = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = be32(buf + 4 + 4 * i);
        if (dims[i] == 0)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s: dimension %d (byte offset %d) is 0 (expected at least 1)", name,
                             i, 4 + 4 * i);
        if (dims[i] > SOMA_IDX_MAX_ITEMS)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s: dimension %d (byte offset %d) is %lld, more than the limit of "
                             "%lld; corrupt header?", name, i, 4 + 4 * i, (long long)dims[i],
                             SOMA_IDX_MAX_ITEMS);
        if (dims[i] > SOMA_IDX_MAX_BYTES / total)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s: dimensions ask for more than %lld bytes of data (the limit); "
                             "corrupt header?", name, SOMA_IDX_MAX_BYTES);
        total *= dims[i];
    }
    size_t have = len - hdr;
    if (have < (uint64_t)total)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: truncated data: the header promises %lld bytes after the %zu-byte "
                         "header, the file has %zu (ends at byte offset %zu); was the download "
                         "cut short?", name, (long long)total, hdr, have, len);
    if (have > (uint64_t)total)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: %zu trailing garbage bytes at byte offset %zu (expected the file to "
                         "end after %lld data bytes); is the header right?", name,
                         have - (size_t)total, hdr + (size_t)total, (long long)total);
    out->ndim = ndim;
    memcpy(out->dims, dims, sizeof dims);
    out->data = buf + hdr;
    return SOMA_OK;
}

/* Reads and parses one IDX file that must have `want_ndim` dimensions. */
static int read_idx(soma_idx *idx, uint8_t **buf, const char *path, int want_ndim,
                    const char *what, soma_error *err) {
    size_t len = 0;
    size_t max = (size_t)(SOMA_IDX_MAX_BYTES + 4 + 4 * want_ndim);
    int rc = soma_read_file(buf, &len, path, max, err);
    if (rc) return rc;
    const uint8_t *b = *buf;
    uint32_t want_magic = 0x0800u | (unsigned)want_ndim;
    if (len >= 4 && (b[0] != 0 || b[1] != 0 || b[2] != IDX_TYPE_U8))
        rc = soma_fail(err, SOMA_E_FORMAT,
                       "%s: bad magic 0x%08x at byte offset 0 (expected 0x%08x); is this an IDX "
                       "%s file?", path, be32(b), want_magic, what);
    else
        rc = soma_idx_parse(idx, b, len, path, err);
    if (rc == SOMA_OK && idx->ndim != want_ndim)
        rc = soma_fail(err, SOMA_E_FORMAT,
                       "%s: magic 0x%08x has %d dimensions (expected 0x%08x, %d: %s); is this an "
                       "IDX %s file?", path, 0x0800u | (unsigned)idx->ndim, idx->ndim,
                       want_magic, want_ndim,
                       want_ndim == 3 ? "count x rows x cols" : "count", what);
    if (rc) {
        soma_free(*buf);
        *buf = NULL;
    }
    return rc;
}

int soma_idx_load(soma_dataset *out, const char *images_path, const char *labels_path,
                  soma_error *err) {
    return soma_idx_load_head(out, images_path, labels_path, 0, err);
}

int soma_idx_load_head(soma_dataset *out, const char *images_path, const char *labels_path,
                       int64_t max_n, soma_error *err) {
    if (!out) return soma_fail(err, SOMA_E_ARG, "soma_idx_load: NULL dataset");
    memset(out, 0, sizeof *out);
    if (!images_path || !labels_path) return soma_fail(err, SOMA_E_ARG, "soma_idx_load: NULL path");
    uint8_t *ibuf = NULL, *lbuf = NULL;
    soma_idx im, lb;
    soma_dataset d = {0};
    int rc = read_idx(&im, &ibuf, images_path, 3, "image", err);
    if (rc) goto done;
    if ((rc = read_idx(&lb, &lbuf, labels_path, 1, "label", err))) goto done;
    if (im.dims[0] != lb.dims[0]) {
        rc = soma_fail(err, SOMA_E_FORMAT,
                       "count mismatch: %s holds %lld images but %s holds %lld labels (expected "
                       "the same count); are they from the same set (train/t10k)?",
                       images_path, (long long)im.dims[0], labels_path, (long long)lb.dims[0]);
        goto done;
    }
    if (im.dims[1] * im.dims[2] > INT32_MAX) {
        rc = soma_fail(err, SOMA_E_FORMAT, "%s: images of %lld x %lld pixels are too large "
                       "(expected at most 2^31-1 pixels)", images_path, (long long)im.dims[1],
                       (long long)im.dims[2]);
        goto done;
    }
    /* the whole file is validated above; only the head becomes floats (4 bytes per pixel) */
    int64_t n = max_n > 0 && max_n < im.dims[0] ? max_n : im.dims[0], dim = im.dims[1] * im.dims[2];
    d.n = n;
    d.dim = (int32_t)dim;
    d.c = 1;
    d.h = (int32_t)im.dims[1];
    d.w = (int32_t)im.dims[2];
    d.x = soma_malloc((size_t)(n * dim) * sizeof(float));
    d.y = soma_malloc((size_t)n * sizeof(int32_t));
    if (!d.x || !d.y) {
        rc = soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %lld x %lld floats", images_path,
                       (long long)n, (long long)dim);
        goto done;
    }
    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;
    for (int64_t i = 0; i < n * dim; i++) d.x[i] = lut[im.data[i]];
    int max_label = 0; /* over the whole file: a head has the file's classes */
    for (int64_t i = 0; i < lb.dims[0]; i++) {
        if (i < n) d.y[i] = lb.data[i]; /* uint8, so always < 256 */
        if (lb.data[i] > max_label) max_label = lb.data[i];
    }
    d.n_classes = max_label + 1;
done:
    soma_free(ibuf);
    soma_free(lbuf);
    if (rc) {
        soma_dataset_free(&d);
        return rc;
    }
    *out = d;
    return SOMA_OK;
}

/* Finds "<dir>/<base>" or "<dir>/<base>.gz" (plain preferred). */
static int find_file(char *path, size_t size, const char *dir, const char *base, soma_error *err) {
    struct stat st;
    int k = snprintf(path, size, "%s/%s", dir, base);
    if (k < 0 || (size_t)k + 3 >= size)
        return soma_fail(err, SOMA_E_ARG, "%s: directory name too long", dir);
    if (stat(path, &st) == 0) return SOMA_OK;
    strcat(path, ".gz");
    if (stat(path, &st) == 0) return SOMA_OK;
    return soma_fail(err, SOMA_E_IO, "%s: neither %s nor %s.gz exists (expected the MNIST-format "
                     "IDX files there)", dir, base, base);
}

int soma_mnist_load(soma_dataset *out, const char *dir, bool train, soma_error *err) {
    return soma_mnist_load_head(out, dir, train, 0, err);
}

int soma_mnist_load_head(soma_dataset *out, const char *dir, bool train, int64_t max_n, soma_error *err) {
    if (!out) return soma_fail(err, SOMA_E_ARG, "soma_mnist_load: NULL dataset");
    memset(out, 0, sizeof *out);
    if (!dir) return soma_fail(err, SOMA_E_ARG, "soma_mnist_load: NULL directory");
    const char *prefix = train ? "train" : "t10k";
    char base[64], images[4096], labels[4096];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", prefix);
    int rc = find_file(images, sizeof images, dir, base, err);
    if (rc) return rc;
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", prefix);
    if ((rc = find_file(labels, sizeof labels, dir, base, err))) return rc;
    return soma_idx_load_head(out, images, labels, max_n, err);
}
