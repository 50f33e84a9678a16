/*
 * soma/checkpoint.h — the versioned binary container that checkpoints are written in.
 *
 * A container holds string key/value pairs (model spec, seed, step, ...) and named float32
 * tensors. Layout (all integers little-endian):
 *
 *   offset 0   "SOMA"            magic, 4 bytes
 *          4   u32 version       SOMA_CKPT_VERSION
 *          8   u32 n_kv, u32 n_tensors
 *         16   n_kv    × { u32 klen, key bytes, u32 vlen, value bytes }
 *              n_tensors × { u32 nlen, name bytes, u32 ndim (1..8), i64 dims[ndim],
 *                            u64 offset (from the start of the data section) }
 *              zero padding to a multiple of 64 bytes
 *              data section: each tensor's float32 values at its offset (64-byte aligned)
 *   end − 4    u32 CRC-32 (IEEE, as zlib's crc32) of every byte before it
 *
 * Clarifications. The reader insists that: keys and tensor names are 1..4096 bytes and unique;
 * no key, value or name contains a NUL byte; every dimension is > 0; tensors lie inside the
 * data section in table order without overlapping, each at an offset that is a multiple of 64.
 * The writer also zero-fills the gaps between tensors and ends the data section right after
 * the last tensor, so the smallest file (no keys, no tensors) is 68 bytes. The reader checks
 * the magic, then the length, then the CRC, then the version, then the entry table.
 *
 * Writes are atomic: the file is written to "<path>.tmp.<pid>", flushed, fsync'ed and renamed
 * over <path>, so a crash never leaves a half-written checkpoint under the real name.
 * Reads validate magic, version, every count and size against the file length, and the
 * checksum, and say which check failed.
 */
#ifndef SOMA_CHECKPOINT_H
#define SOMA_CHECKPOINT_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SOMA_CKPT_VERSION 1u

typedef struct soma_ckpt soma_ckpt;

/* A new, empty container. NULL on allocation failure. */
soma_ckpt *soma_ckpt_create(void);
void soma_ckpt_free(soma_ckpt *ck);

/* Adds or replaces a key (copied). */
int soma_ckpt_set(soma_ckpt *ck, const char *key, const char *value);
/* The value of key, or NULL. Valid until the container is freed or the key replaced. */
const char *soma_ckpt_get(const soma_ckpt *ck, const char *key);

/* Reads key as a finite number (strict strtod: the whole value must parse). SOMA_E_FORMAT with
 * a message naming `name` (the file) and the key when it is missing or not a number; *out is
 * 0 then. */
int soma_ckpt_get_number(const soma_ckpt *ck, const char *key, double *out, const char *name,
                         soma_error *err);

/* Adds a tensor (data copied). Names are unique; adding an existing name is SOMA_E_ARG. */
int soma_ckpt_add(soma_ckpt *ck, const char *name, const float *data, int ndim,
                  const int64_t *dims);
/* Finds a tensor: returns its data (owned by ck) or NULL; OUT: *numel (may be NULL). */
const float *soma_ckpt_find(const soma_ckpt *ck, const char *name, int64_t *numel);

int soma_ckpt_write(const soma_ckpt *ck, const char *path, soma_error *err);
/* The end of a save: writes ck to path unless building it failed (build_rc, a status from the
 * set/add calls, is reported as "could not build the checkpoint"), and frees ck either way. */
int soma_ckpt_write_free(soma_ckpt *ck, int build_rc, const char *path, soma_error *err);
int soma_ckpt_read(soma_ckpt **out, const char *path, soma_error *err);
/* Parses a container from memory (pure; for tests and fuzzing). */
int soma_ckpt_parse(soma_ckpt **out, const uint8_t *buf, size_t len, const char *name,
                    soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
