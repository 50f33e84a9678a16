/*
 * soma/data.h — datasets as float feature rows with integer labels, and their loaders.
 *
 * Formats:
 *   IDX (MNIST, Fashion-MNIST): big-endian magic 0x00000803 (uint8 images, 3 dims) or
 *     0x00000801 (uint8 labels, 1 dim), then one uint32 per dimension, then the bytes. Files
 *     may be gzip-compressed (detected by content, not name). Pixels are scaled to [0, 1].
 *   CSV: one sample per line, comma-separated numbers; the label is an integer column
 *     (default: the last). A first line that does not parse as numbers is taken as a header.
 *   LIBSVM: "label index:value index:value ..." with 1-based increasing indices.
 * Every loader validates what it reads (magic, sizes, truncation, trailing bytes, numbers,
 * ranges) and reports the file, the line or byte offset, and what was expected.
 */
#ifndef SOMA_DATA_H
#define SOMA_DATA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct soma_dataset {
    int64_t n;         /* samples */
    int32_t dim;       /* features per sample (= c*h*w) */
    int32_t c, h, w;   /* image shape; (1, 1, dim) for feature vectors */
    int32_t n_classes; /* max label + 1 */
    float *x;          /* (n, dim), owned, soma_malloc'ed */
    int32_t *y;        /* (n), owned */
} soma_dataset;

/* Frees x and y and zeroes the struct. NULL-safe. */
void soma_dataset_free(soma_dataset *d);

/* Limits that keep a corrupt header from asking for absurd memory. */
#define SOMA_IDX_MAX_ITEMS 100000000LL
#define SOMA_IDX_MAX_BYTES (4LL << 30)

/* A parsed IDX file in memory: dims and a pointer into the caller's buffer. */
typedef struct soma_idx {
    int ndim;           /* 1..4 */
    int64_t dims[4];
    const uint8_t *data; /* points into the parsed buffer */
} soma_idx;

/* Parses an (uncompressed) IDX buffer of uint8 data. Pure: no I/O, no allocation.
 * Returns SOMA_OK or SOMA_E_FORMAT with a message (name is used only in messages). */
int soma_idx_parse(soma_idx *out, const uint8_t *buf, size_t len, const char *name, soma_error *err);

/* Reads a whole file into a new soma_malloc buffer, gunzipping it if it starts with the gzip
 * magic. Caller frees *buf with soma_free. max_bytes bounds the (decompressed) size. */
int soma_read_file(uint8_t **buf, size_t *len, const char *path, size_t max_bytes, soma_error *err);

/* Loads an IDX image file and its label file (same count required). */
int soma_idx_load(soma_dataset *out, const char *images_path, const char *labels_path,
                  soma_error *err);

/* Loads "<dir>/<prefix>-images-idx3-ubyte[.gz]" and "...-labels-idx1-ubyte[.gz]" where prefix
 * is "train" or "t10k" (train = true / false). */
int soma_mnist_load(soma_dataset *out, const char *dir, bool train, soma_error *err);

/* CSV. label_col: column index of the integer label, -1 for the last column. */
int soma_csv_load(soma_dataset *out, const char *path, int label_col, soma_error *err);
/* LIBSVM. dim: number of features, or 0 to use the largest index seen. Labels must be
 * integers >= 0 (a "-1"/"+1" binary file maps -1 -> 0, +1 -> 1). */
int soma_libsvm_load(soma_dataset *out, const char *path, int32_t dim, soma_error *err);

/* Parsing cores over memory, for tests and fuzzing (same semantics as the loaders). */
int soma_csv_parse(soma_dataset *out, const char *text, size_t len, int label_col,
                   const char *name, soma_error *err);
int soma_libsvm_parse(soma_dataset *out, const char *text, size_t len, int32_t dim,
                      const char *name, soma_error *err);

/* Copies rows [first, first+count) into a new dataset (e.g. a validation split). */
int soma_dataset_slice(soma_dataset *out, const soma_dataset *src, int64_t first, int64_t count,
                       soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
