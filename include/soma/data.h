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
 *   CIFAR-10 / CIFAR-100, binary version: records of a label byte (CIFAR-100: coarse, then
 *     fine) and 3072 pixel bytes (1024 red, 1024 green, 1024 blue, rows of 32), as the
 *     C×H×W image (3, 32, 32) scaled to [0, 1].
 *   N-MNIST: one file per sample of 5-byte events (x, y, polarity bit + 23-bit µs timestamp),
 *     34×34 sensor; CIFAR10-DVS: AEDAT 2.0 files ("#" header lines, then big-endian 32-bit
 *     address and timestamp pairs), 128×128 sensor. Both are binned into T frames of
 *     (2 polarities, H, W) event counts: a sample row holds T frames (frames = T).
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
    int32_t frames;    /* event data: a row is `frames` frames of (c, h, w); 0 or 1: static */
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
/* The same, keeping only the first max_n samples (all if max_n <= 0 or larger than the file):
 * both files are still read and checked whole, but only the kept images become floats. */
int soma_idx_load_head(soma_dataset *out, const char *images_path, const char *labels_path,
                       int64_t max_n, soma_error *err);

/* Loads "<dir>/<prefix>-images-idx3-ubyte[.gz]" and "...-labels-idx1-ubyte[.gz]" where prefix
 * is "train" or "t10k" (train = true / false). */
int soma_mnist_load(soma_dataset *out, const char *dir, bool train, soma_error *err);
/* The first max_n samples only (soma_idx_load_head); max_n <= 0: all. */
int soma_mnist_load_head(soma_dataset *out, const char *dir, bool train, int64_t max_n, soma_error *err);

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

/* ---- image and event datasets (data/cifar.c, data/events.c, data/nmnist.c, data/aedat.c) --- */

/* Parses CIFAR records (classes = 10 or 100; coarse: CIFAR-100's 20 superclasses) into a new
 * dataset. Pure: no I/O. SOMA_E_FORMAT on a partial record or a label out of range. */
int soma_cifar_parse(soma_dataset *out, const uint8_t *buf, size_t len, int classes, bool coarse,
                     const char *name, soma_error *err);
/* Loads the training (data_batch_1..5.bin / train.bin) or test (test_batch.bin / test.bin)
 * split from dir, or from dir/cifar-10-batches-bin, dir/cifar-100-binary. */
int soma_cifar_load(soma_dataset *out, const char *dir, int classes, bool coarse, bool train,
                    soma_error *err);

/* One address event: time (µs), pixel, polarity (0 or 1). */
typedef struct soma_event {
    int64_t t;
    uint16_t x, y;
    uint8_t p;
} soma_event;

typedef enum soma_bin_mode {
    SOMA_BIN_COUNT = 0, /* T slices of equal event counts (SpikingJelly's split_by='number') */
    SOMA_BIN_TIME,      /* T slices of equal duration between the first and last event */
} soma_bin_mode;

/* frames (T, 2, H/pool, W/pool) = event counts per slice, polarity and pixel (pool × pool
 * pixels summed). Events outside W×H are ignored (parsers reject them first). */
void soma_events_to_frames(float *frames, const soma_event *ev, int64_t n, int T, int H, int W,
                           int pool, soma_bin_mode mode);

/* N-MNIST sample file (5-byte events, 34×34). *ev is soma_malloc'ed (caller frees). */
int soma_nmnist_parse(soma_event **ev, int64_t *n, const uint8_t *buf, size_t len,
                      const char *name, soma_error *err);
/* dir/Train/<digit>/NNNNN.bin or dir/Test/<digit>/NNNNN.bin, binned into T frames (c = 2, h = w = 34);
 * max_samples > 0 keeps the first samples of each digit in name order, up to that total. */
int soma_nmnist_load(soma_dataset *out, const char *dir, bool train, int T, soma_bin_mode mode,
                     int64_t max_samples, soma_error *err);
/* AEDAT 2.0 (CIFAR10-DVS's .aedat): header lines starting with '#', then (address, time)
 * big-endian uint32 pairs; DVS128 addresses mapped as SpikingJelly does for CIFAR10-DVS
 * (x = 127 − y_raw, y = 127 − x_raw, p = 1 − p_raw). */
int soma_aedat_parse(soma_event **ev, int64_t *n, const uint8_t *buf, size_t len,
                     const char *name, soma_error *err);
/* dir/<class>/cifar10_<class>_<i>.aedat for the 10 CIFAR-10 classes; test = i < 100, train =
 * i ≥ 100 (the split of TEBN and later work). Frames of 128/pool pixels a side. */
int soma_cifar10dvs_load(soma_dataset *out, const char *dir, bool train, int T, int pool,
                         soma_bin_mode mode, int64_t max_samples, soma_error *err);

/* Copies rows [first, first+count) into a new dataset (e.g. a validation split). */
int soma_dataset_slice(soma_dataset *out, const soma_dataset *src, int64_t first, int64_t count,
                       soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
