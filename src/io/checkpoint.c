/*
 * io/checkpoint.c — the checkpoint container of soma/checkpoint.h: string key/value pairs and
 * named float32 tensors, serialised byte by byte as little-endian (no struct dumps), so files
 * are the same on every host.
 *
 * Reading never trusts the file. soma_ckpt_parse checks, in this order: the magic, that the
 * length reaches the smallest possible checkpoint, the CRC-32, the version, and then every
 * count, string length, ndim, dimension, offset and tensor extent against the buffer — all
 * before it allocates anything whose size comes from the file. It then allocates the container
 * in a few blocks (entry tables, one arena for strings and tensor data), so a small hostile
 * file cannot make it allocate much more than its own size.
 *
 * Writing streams through a 64 KiB buffer into "<path>.tmp.<pid>", then fflush, fsync, fclose
 * and rename; on any failure the temporary file is removed and whatever was at <path> is left
 * as it was.
 */
#include "soma/checkpoint.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define MAGIC "SOMA"
#define HEADER_BYTES 16                 /* magic, version, n_kv, n_tensors */
#define CRC_BYTES 4
#define ALIGN 64                        /* data section and tensor offsets */
#define MAX_NDIM 8
#define MAX_NAME 4096                   /* longest key or tensor name, in bytes */
#define MIN_FILE (ALIGN + CRC_BYTES)    /* header padded to 64 bytes, no entries, CRC */
#define MAX_FILE ((uint64_t)16 << 30)   /* soma_ckpt_read refuses larger files */
#define KV_MIN (4 + 1 + 4)              /* klen, a 1-byte key, vlen, empty value */
#define TENSOR_MIN (4 + 1 + 4 + 8 + 8)  /* nlen, a 1-byte name, ndim, one dim, offset */
#define CHUNK (64 * 1024)               /* write buffer */
#define FLOATS_PER_LINE (ALIGN / 4)

typedef struct kv {
    char *key, *value;
    bool key_owned, value_owned; /* false: the string lives in the arena of a parsed container */
} kv;

typedef struct tensor {
    char *name;
    float *data;
    int64_t numel;
    int ndim;
    int64_t dims[MAX_NDIM];
    bool owned; /* name and data were allocated by soma_ckpt_add (else: arena) */
} tensor;

struct soma_ckpt {
    kv *kvs;
    size_t n_kv, cap_kv;
    tensor *tens;
    size_t n_tens, cap_tens;
    void *arena; /* tensor data then strings of a parsed container; NULL for built ones */
};

/* ---- small helpers ------------------------------------------------------------------------ */

static bool host_is_le(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static uint32_t rd_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd_u64(const uint8_t *p) { return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32; }

static void wr_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void wr_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Callers only pass values bounded by a file or container size, far from UINT64_MAX. */
static uint64_t align_up(uint64_t x) { return (x + ALIGN - 1) & ~(uint64_t)(ALIGN - 1); }

/* zlib's crc32 takes a uInt length, so long buffers go in pieces. */
static uint32_t crc_of(const uint8_t *p, size_t n) {
    uLong c = crc32(0L, Z_NULL, 0);
    while (n) {
        uInt k = n > ((size_t)1 << 30) ? (uInt)1 << 30 : (uInt)n;
        c = crc32(c, p, k);
        p += k;
        n -= k;
    }
    return (uint32_t)c;
}

/* Keys and tensor names: 1..MAX_NAME bytes. */
static bool valid_name(const char *s) {
    if (!s) return false;
    size_t n = strnlen(s, MAX_NAME + 1);
    return n >= 1 && n <= MAX_NAME;
}

/* The element count of a shape, or -1 if a dimension is not positive or the byte size
 * (count × 4) would not fit in int64_t or size_t. */
static int64_t shape_numel(const int64_t *dims, int ndim) {
    const uint64_t lim64 = (uint64_t)INT64_MAX / sizeof(float), limsz = SIZE_MAX / sizeof(float);
    const int64_t limit = (int64_t)(lim64 < limsz ? lim64 : limsz);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] <= 0 || dims[i] > limit / n) return -1;
        n *= dims[i];
    }
    return n;
}

static char *dup_str(const char *s, size_t n) {
    char *d = soma_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Makes room for one more element in a table of n entries (no soma_realloc: copy over). */
static int grow(void **arr, size_t *cap, size_t n, size_t elem) {
    if (n < *cap) return SOMA_OK;
    size_t nc = *cap ? *cap * 2 : 16;
    if (nc > SIZE_MAX / elem) return SOMA_E_NOMEM;
    void *p = soma_malloc(nc * elem);
    if (!p) return SOMA_E_NOMEM;
    if (n) memcpy(p, *arr, n * elem);
    soma_free(*arr);
    *arr = p;
    *cap = nc;
    return SOMA_OK;
}

/* Index of key / tensor name, or the count if absent. */
static size_t kv_index(const soma_ckpt *ck, const char *key) {
    size_t i = 0;
    while (i < ck->n_kv && strcmp(ck->kvs[i].key, key) != 0) i++;
    return i;
}

static size_t tensor_index(const soma_ckpt *ck, const char *name) {
    size_t i = 0;
    while (i < ck->n_tens && strcmp(ck->tens[i].name, name) != 0) i++;
    return i;
}

/* ---- the container -------------------------------------------------------------------------- */

soma_ckpt *soma_ckpt_create(void) { return soma_calloc(1, sizeof(soma_ckpt)); }

void soma_ckpt_free(soma_ckpt *ck) {
    if (!ck) return;
    for (size_t i = 0; i < ck->n_kv; i++) {
        if (ck->kvs[i].key_owned) soma_free(ck->kvs[i].key);
        if (ck->kvs[i].value_owned) soma_free(ck->kvs[i].value);
    }
    for (size_t i = 0; i < ck->n_tens; i++) {
        if (!ck->tens[i].owned) continue;
        soma_free(ck->tens[i].name);
        soma_free(ck->tens[i].data);
    }
    soma_free(ck->kvs);
    soma_free(ck->tens);
    soma_free(ck->arena);
    soma_free(ck);
}

int soma_ckpt_set(soma_ckpt *ck, const char *key, const char *value) {
    if (!ck || !valid_name(key) || !value) return SOMA_E_ARG;
    size_t vlen = strlen(value);
    if (vlen > UINT32_MAX) return SOMA_E_ARG;
    size_t i = kv_index(ck, key);
    if (i == ck->n_kv && ck->n_kv >= UINT32_MAX) return SOMA_E_ARG; /* the format's limit */
    char *v = dup_str(value, vlen);
    if (!v) return SOMA_E_NOMEM;
    if (i < ck->n_kv) { /* replace: the old value is released only once the new one exists */
        kv *e = &ck->kvs[i];
        if (e->value_owned) soma_free(e->value);
        e->value = v;
        e->value_owned = true;
        return SOMA_OK;
    }
    char *k = dup_str(key, strlen(key));
    if (!k || grow((void **)&ck->kvs, &ck->cap_kv, ck->n_kv, sizeof(kv)) != SOMA_OK) {
        soma_free(k);
        soma_free(v);
        return SOMA_E_NOMEM;
    }
    ck->kvs[ck->n_kv++] = (kv){.key = k, .value = v, .key_owned = true, .value_owned = true};
    return SOMA_OK;
}

const char *soma_ckpt_get(const soma_ckpt *ck, const char *key) {
    if (!ck || !key) return NULL;
    size_t i = kv_index(ck, key);
    return i < ck->n_kv ? ck->kvs[i].value : NULL;
}

int soma_ckpt_add(soma_ckpt *ck, const char *name, const float *data, int ndim,
                  const int64_t *dims) {
    if (!ck || !valid_name(name) || !data || !dims || ndim < 1 || ndim > MAX_NDIM)
        return SOMA_E_ARG;
    int64_t numel = shape_numel(dims, ndim);
    if (numel < 0) return SOMA_E_ARG;
    if (tensor_index(ck, name) < ck->n_tens || ck->n_tens >= UINT32_MAX) return SOMA_E_ARG;
    char *nm = dup_str(name, strlen(name));
    float *d = soma_malloc((size_t)numel * sizeof(float));
    if (!nm || !d || grow((void **)&ck->tens, &ck->cap_tens, ck->n_tens, sizeof(tensor)) != SOMA_OK) {
        soma_free(nm);
        soma_free(d);
        return SOMA_E_NOMEM;
    }
    memcpy(d, data, (size_t)numel * sizeof(float));
    tensor *t = &ck->tens[ck->n_tens++];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->data = d;
    t->numel = numel;
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof *dims);
    t->owned = true;
    return SOMA_OK;
}

const float *soma_ckpt_find(const soma_ckpt *ck, const char *name, int64_t *numel) {
    if (numel) *numel = 0;
    if (!ck || !name) return NULL;
    size_t i = tensor_index(ck, name);
    if (i == ck->n_tens) return NULL;
    if (numel) *numel = ck->tens[i].numel;
    return ck->tens[i].data;
}

/* ---- writing -------------------------------------------------------------------------------- */

/* A buffered output that keeps the running CRC and the errno of the first failure. */
typedef struct sink {
    FILE *f;
    uint8_t *buf;
    size_t n;
    uLong crc;
    int err;
} sink;

static void sink_flush(sink *s) {
    if (s->n && !s->err) {
        s->crc = crc32(s->crc, s->buf, (uInt)s->n);
        errno = 0;
        if (fwrite(s->buf, 1, s->n, s->f) != s->n) s->err = errno ? errno : EIO;
    }
    s->n = 0;
}

static void put(sink *s, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n && !s->err) {
        size_t k = CHUNK - s->n < n ? CHUNK - s->n : n;
        memcpy(s->buf + s->n, b, k);
        s->n += k;
        b += k;
        n -= k;
        if (s->n == CHUNK) sink_flush(s);
    }
}

static void put_u32(sink *s, uint32_t v) {
    uint8_t b[4];
    wr_u32(b, v);
    put(s, b, 4);
}

static void put_u64(sink *s, uint64_t v) {
    uint8_t b[8];
    wr_u64(b, v);
    put(s, b, 8);
}

static void put_zeros(sink *s, uint64_t n) {
    static const uint8_t zeros[ALIGN];
    while (n && !s->err) {
        size_t k = n < ALIGN ? (size_t)n : ALIGN;
        put(s, zeros, k);
        n -= k;
    }
}

static void put_floats(sink *s, const float *x, int64_t n) {
    if (host_is_le()) {
        put(s, x, (size_t)n * sizeof(float));
        return;
    }
    for (int64_t i = 0; i < n && !s->err; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        put_u32(s, u);
    }
}

/* Everything but the trailing CRC, in the layout of checkpoint.h. */
static void emit(const soma_ckpt *ck, sink *s) {
    put(s, MAGIC, 4);
    put_u32(s, SOMA_CKPT_VERSION);
    put_u32(s, (uint32_t)ck->n_kv);
    put_u32(s, (uint32_t)ck->n_tens);
    uint64_t pos = HEADER_BYTES;
    for (size_t i = 0; i < ck->n_kv; i++) {
        size_t kl = strlen(ck->kvs[i].key), vl = strlen(ck->kvs[i].value);
        put_u32(s, (uint32_t)kl);
        put(s, ck->kvs[i].key, kl);
        put_u32(s, (uint32_t)vl);
        put(s, ck->kvs[i].value, vl);
        pos += 8 + (uint64_t)kl + vl;
    }
    uint64_t off = 0; /* offsets from the start of the data section, each 64-byte aligned */
    for (size_t i = 0; i < ck->n_tens; i++) {
        const tensor *t = &ck->tens[i];
        size_t nl = strlen(t->name);
        put_u32(s, (uint32_t)nl);
        put(s, t->name, nl);
        put_u32(s, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u64(s, (uint64_t)t->dims[d]);
        put_u64(s, off);
        pos += 4 + (uint64_t)nl + 4 + 8 * (uint64_t)t->ndim + 8;
        off = align_up(off + (uint64_t)t->numel * sizeof(float));
    }
    put_zeros(s, align_up(pos) - pos);
    for (size_t i = 0; i < ck->n_tens; i++) {
        const tensor *t = &ck->tens[i];
        uint64_t bytes = (uint64_t)t->numel * sizeof(float);
        put_floats(s, t->data, t->numel);
        if (i + 1 < ck->n_tens) put_zeros(s, align_up(bytes) - bytes);
    }
}

int soma_ckpt_write(const soma_ckpt *ck, const char *path, soma_error *err) {
    if (!path || !*path) return soma_fail(err, SOMA_E_ARG, "(no path): cannot write a checkpoint without a path");
    if (!ck) return soma_fail(err, SOMA_E_ARG, "%s: no checkpoint container to write", path);
    size_t tmp_size = strlen(path) + 32;
    char *tmp = soma_malloc(tmp_size);
    uint8_t *buf = soma_malloc(CHUNK);
    if (!tmp || !buf) {
        soma_free(tmp);
        soma_free(buf);
        return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", path);
    }
    snprintf(tmp, tmp_size, "%s.tmp.%ld", path, (long)getpid());

    sink s = {.buf = buf, .crc = crc32(0L, Z_NULL, 0)};
    errno = 0;
    s.f = fopen(tmp, "wb");
    if (!s.f) {
        int e = errno ? errno : EIO;
        soma_fail(err, SOMA_E_IO, "%s: could not save the checkpoint: %s (creating %s)", path,
                  strerror(e), tmp);
        soma_free(tmp);
        soma_free(buf);
        return SOMA_E_IO;
    }
    const char *what = "writing";
    emit(ck, &s);
    sink_flush(&s);
    if (!s.err) {
        uint8_t c[CRC_BYTES];
        wr_u32(c, (uint32_t)s.crc);
        errno = 0;
        if (fwrite(c, 1, CRC_BYTES, s.f) != CRC_BYTES) s.err = errno ? errno : EIO;
    }
    if (!s.err) {
        errno = 0;
        if (fflush(s.f) != 0) s.err = errno ? errno : EIO;
    }
    if (!s.err) {
        what = "fsync of";
        if (fsync(fileno(s.f)) != 0) s.err = errno ? errno : EIO;
    }
    errno = 0;
    if (fclose(s.f) != 0 && !s.err) {
        what = "closing";
        s.err = errno ? errno : EIO;
    }
    if (!s.err) {
        what = "renaming";
        errno = 0;
        if (rename(tmp, path) != 0) s.err = errno ? errno : EIO;
    }
    if (s.err) {
        remove(tmp);
        soma_fail(err, SOMA_E_IO, "%s: could not save the checkpoint: %s (%s %s%s)", path,
                  strerror(s.err), what, tmp, strcmp(what, "renaming") == 0 ? " over it" : "");
    }
    soma_free(tmp);
    soma_free(buf);
    return s.err ? SOMA_E_IO : SOMA_OK;
}

/* ---- parsing -------------------------------------------------------------------------------- */

/* What the validating pass learns, to size the allocations of the filling pass. */
typedef struct layout {
    uint64_t arena_floats; /* tensor data, each tensor rounded up to a 64-byte line */
    uint64_t arena_chars;  /* keys, values and names with their NULs */
} layout;

/* One tensor entry of the table. */
typedef struct entry {
    const uint8_t *name;
    uint32_t nlen, ndim;
    int64_t dims[MAX_NDIM];
    int64_t numel;
    uint64_t offset;
} entry;

/* Takes a u32 length and that many bytes at *pos (< end). Names must be 1..MAX_NAME bytes;
 * no string may hold a NUL (the API hands them out as C strings). On failure says why. */
static bool take_str(const uint8_t *buf, size_t end, size_t *pos, bool is_name, const uint8_t **s,
                     uint32_t *n, char *why, size_t why_size) {
    if (end - *pos < 4) {
        snprintf(why, why_size, "its length field runs past the end of the file");
        return false;
    }
    *n = rd_u32(buf + *pos);
    *pos += 4;
    if (is_name && (*n == 0 || *n > MAX_NAME)) {
        snprintf(why, why_size, "length %lu is not in 1..%d", (unsigned long)*n, MAX_NAME);
        return false;
    }
    if (end - *pos < *n) {
        snprintf(why, why_size, "length %lu runs past the end of the file", (unsigned long)*n);
        return false;
    }
    *s = buf + *pos;
    if (*n && memchr(*s, 0, *n)) {
        snprintf(why, why_size, "it contains a NUL byte");
        return false;
    }
    *pos += *n;
    return true;
}

static bool take_tensor(const uint8_t *buf, size_t end, size_t *pos, entry *e, char *why,
                        size_t why_size) {
    if (!take_str(buf, end, pos, true, &e->name, &e->nlen, why, why_size)) return false;
    if (end - *pos < 4) {
        snprintf(why, why_size, "its ndim field runs past the end of the file");
        return false;
    }
    e->ndim = rd_u32(buf + *pos);
    *pos += 4;
    if (e->ndim < 1 || e->ndim > MAX_NDIM) {
        snprintf(why, why_size, "ndim %lu is not in 1..%d", (unsigned long)e->ndim, MAX_NDIM);
        return false;
    }
    if (end - *pos < 8 * (size_t)e->ndim + 8) {
        snprintf(why, why_size, "its dims and offset run past the end of the file");
        return false;
    }
    for (uint32_t d = 0; d < e->ndim; d++) {
        uint64_t u = rd_u64(buf + *pos);
        *pos += 8;
        if (u == 0 || u > (uint64_t)INT64_MAX) {
            snprintf(why, why_size, "dimension %lu is %lld, not positive", (unsigned long)d,
                     u == 0 ? 0LL : -(long long)(UINT64_MAX - u) - 1);
            return false;
        }
        e->dims[d] = (int64_t)u;
    }
    e->numel = shape_numel(e->dims, (int)e->ndim);
    if (e->numel < 0) {
        snprintf(why, why_size, "its element count overflows");
        return false;
    }
    e->offset = rd_u64(buf + *pos);
    *pos += 8;
    return true;
}

/*
 * Walks the entry table of a buffer whose length, magic, CRC and version are already checked.
 * With ck NULL it validates everything and fills *lay; with ck (pre-sized from *lay) it runs
 * the same walk again and copies into ck's tables and arena. Tensor data must lie inside the
 * data section, at 64-byte aligned offsets, in table order without overlapping.
 */
static int scan(const uint8_t *buf, size_t len, const char *name, layout *lay, soma_ckpt *ck,
                soma_error *err) {
    const size_t end = len - CRC_BYTES; /* the checksummed bytes */
    const uint32_t n_kv = rd_u32(buf + 8), n_t = rd_u32(buf + 12);
    if ((uint64_t)n_kv * KV_MIN + (uint64_t)n_t * TENSOR_MIN > end - HEADER_BYTES)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: malformed: %lu key/value pairs and %lu tensors cannot fit in a %zu-byte file",
                         name, (unsigned long)n_kv, (unsigned long)n_t, len);
    char why[128];
    uint64_t n_floats = 0, n_chars = 0;
    char *chars = ck && ck->arena ? (char *)ck->arena + lay->arena_floats * sizeof(float) : NULL;
    size_t pos = HEADER_BYTES;
    for (uint32_t i = 0; i < n_kv; i++) {
        const uint8_t *k, *v;
        uint32_t kl, vl;
        if (!take_str(buf, end, &pos, true, &k, &kl, why, sizeof why))
            return soma_fail(err, SOMA_E_FORMAT, "%s: malformed: key %lu: %s", name, (unsigned long)i, why);
        if (!take_str(buf, end, &pos, false, &v, &vl, why, sizeof why))
            return soma_fail(err, SOMA_E_FORMAT, "%s: malformed: value of key %lu (\"%.*s\"): %s", name,
                             (unsigned long)i, (int)(kl < 64 ? kl : 64), (const char *)k, why);
        if (ck) {
            kv *e = &ck->kvs[ck->n_kv++];
            e->key = chars + n_chars;
            memcpy(e->key, k, kl);
            e->key[kl] = '\0';
            e->value = e->key + kl + 1;
            memcpy(e->value, v, vl);
            e->value[vl] = '\0';
            e->key_owned = e->value_owned = false;
        }
        n_chars += (uint64_t)kl + 1 + vl + 1;
    }
    const size_t tensors_at = pos;
    entry e;
    for (uint32_t i = 0; i < n_t; i++)
        if (!take_tensor(buf, end, &pos, &e, why, sizeof why))
            return soma_fail(err, SOMA_E_FORMAT, "%s: malformed: tensor %lu: %s", name, (unsigned long)i, why);
    const uint64_t data_at = align_up(pos);
    if (data_at > end)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: malformed: the entry table ends at byte %zu but the file has no room for "
                         "its padding to byte %llu",
                         name, pos, (unsigned long long)data_at);
    const uint64_t data_size = end - data_at;
    uint64_t data_end = 0; /* end of the previous tensor within the data section */
    pos = tensors_at;
    for (uint32_t i = 0; i < n_t; i++) {
        take_tensor(buf, end, &pos, &e, why, sizeof why); /* validated above */
        const uint64_t bytes = (uint64_t)e.numel * sizeof(float);
        const int nl = (int)(e.nlen < 64 ? e.nlen : 64);
        const char *nm = (const char *)e.name;
        if (e.offset % ALIGN != 0)
            return soma_fail(err, SOMA_E_FORMAT, "%s: malformed: tensor %lu (\"%.*s\"): offset %llu is not a multiple of %d",
                             name, (unsigned long)i, nl, nm, (unsigned long long)e.offset, ALIGN);
        if (e.offset < data_end)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s: malformed: tensor %lu (\"%.*s\"): offset %llu overlaps the previous tensor",
                             name, (unsigned long)i, nl, nm, (unsigned long long)e.offset);
        if (e.offset > data_size || bytes > data_size - e.offset)
            return soma_fail(err, SOMA_E_FORMAT,
                             "%s: malformed: tensor %lu (\"%.*s\"): %llu bytes at offset %llu run past the end "
                             "of the %llu-byte data section",
                             name, (unsigned long)i, nl, nm, (unsigned long long)bytes,
                             (unsigned long long)e.offset, (unsigned long long)data_size);
        data_end = e.offset + bytes;
        if (ck) {
            tensor *t = &ck->tens[ck->n_tens++];
            memset(t, 0, sizeof *t);
            t->name = chars + n_chars;
            memcpy(t->name, e.name, e.nlen);
            t->name[e.nlen] = '\0';
            t->data = (float *)ck->arena + n_floats;
            t->numel = e.numel;
            t->ndim = (int)e.ndim;
            memcpy(t->dims, e.dims, sizeof e.dims);
            const uint8_t *src = buf + data_at + e.offset;
            if (host_is_le()) {
                memcpy(t->data, src, (size_t)bytes);
            } else {
                for (int64_t j = 0; j < e.numel; j++) {
                    uint32_t u = rd_u32(src + 4 * j);
                    memcpy(&t->data[j], &u, sizeof u);
                }
            }
        }
        n_floats += ((uint64_t)e.numel + FLOATS_PER_LINE - 1) / FLOATS_PER_LINE * FLOATS_PER_LINE;
        n_chars += (uint64_t)e.nlen + 1;
    }
    if (!ck) {
        lay->arena_floats = n_floats;
        lay->arena_chars = n_chars;
    }
    return SOMA_OK;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Rejects repeated keys or tensor names (sorting, so a crafted file cannot make it quadratic). */
static int check_unique(const soma_ckpt *ck, const char *name, soma_error *err) {
    size_t n = ck->n_kv > ck->n_tens ? ck->n_kv : ck->n_tens;
    if (n < 2) return SOMA_OK;
    const char **idx = soma_malloc(n * sizeof *idx);
    if (!idx) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory", name);
    int rc = SOMA_OK;
    for (int pass = 0; pass < 2 && rc == SOMA_OK; pass++) {
        size_t m = pass ? ck->n_tens : ck->n_kv;
        for (size_t i = 0; i < m; i++) idx[i] = pass ? ck->tens[i].name : ck->kvs[i].key;
        if (m > 1) qsort(idx, m, sizeof *idx, cmp_str);
        for (size_t i = 1; i < m; i++)
            if (strcmp(idx[i - 1], idx[i]) == 0) {
                rc = soma_fail(err, SOMA_E_FORMAT, "%s: malformed: duplicate %s \"%.64s\"", name,
                               pass ? "tensor name" : "key", idx[i]);
                break;
            }
    }
    soma_free(idx);
    return rc;
}

/* Writes the first bytes of a bad magic as a C-style string, escaping what is not printable. */
static void describe_magic(const uint8_t *p, size_t n, char *out, size_t out_size) {
    size_t k = 0;
    for (size_t i = 0; i < n && k + 5 < out_size; i++) {
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\') out[k++] = (char)p[i];
        else k += (size_t)snprintf(out + k, out_size - k, "\\x%02x", p[i]);
    }
    out[k] = '\0';
}

int soma_ckpt_parse(soma_ckpt **out, const uint8_t *buf, size_t len, const char *name,
                    soma_error *err) {
    if (!name) name = "(buffer)";
    if (!out) return soma_fail(err, SOMA_E_ARG, "%s: no output pointer", name);
    *out = NULL;
    if (!buf && len) return soma_fail(err, SOMA_E_ARG, "%s: NULL buffer of %zu bytes", name, len);
    size_t m = len < 4 ? len : 4;
    if (m && memcmp(buf, MAGIC, m) != 0) {
        char shown[32];
        describe_magic(buf, m, shown, sizeof shown);
        return soma_fail(err, SOMA_E_FORMAT, "%s: not a Soma checkpoint (magic \"%s\", expected \"%s\")",
                         name, shown, MAGIC);
    }
    if (len == 0) return soma_fail(err, SOMA_E_FORMAT, "%s: truncated: the file is empty", name);
    if (len < MIN_FILE)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: truncated: %zu bytes, shorter than the smallest checkpoint (%d bytes)",
                         name, len, MIN_FILE);
    /* The checksum before the version: a file that changed in transit should say so, rather
     * than claim to be from some other version of Soma. */
    uint32_t stored = rd_u32(buf + len - CRC_BYTES), computed = crc_of(buf, len - CRC_BYTES);
    if (stored != computed)
        return soma_fail(err, SOMA_E_CHECKSUM,
                         "%s: checksum mismatch: stored 0x%08lx, computed 0x%08lx; the file is corrupt or truncated",
                         name, (unsigned long)stored, (unsigned long)computed);
    uint32_t version = rd_u32(buf + 4);
    if (version != SOMA_CKPT_VERSION)
        return soma_fail(err, SOMA_E_VERSION,
                         "%s: checkpoint format version %lu is not supported (this build reads version %lu)",
                         name, (unsigned long)version, (unsigned long)SOMA_CKPT_VERSION);

    layout lay = {0};
    int rc = scan(buf, len, name, &lay, NULL, err);
    if (rc != SOMA_OK) return rc;

    /* Everything below is bounded by the (validated) file length. */
    const size_t n_kv = rd_u32(buf + 8), n_t = rd_u32(buf + 12);
    const uint64_t arena = lay.arena_floats * sizeof(float) + lay.arena_chars;
    soma_ckpt *ck = soma_ckpt_create();
    if (ck && arena <= SIZE_MAX) {
        ck->kvs = n_kv ? soma_calloc(n_kv, sizeof(kv)) : NULL;
        ck->tens = n_t ? soma_calloc(n_t, sizeof(tensor)) : NULL;
        ck->arena = arena ? soma_malloc((size_t)arena) : NULL;
        ck->cap_kv = ck->kvs ? n_kv : 0;
        ck->cap_tens = ck->tens ? n_t : 0;
    }
    if (!ck || arena > SIZE_MAX || (n_kv && !ck->kvs) || (n_t && !ck->tens) || (arena && !ck->arena)) {
        soma_ckpt_free(ck);
        return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory (%llu bytes of keys and tensors)", name,
                         (unsigned long long)arena);
    }
    rc = scan(buf, len, name, &lay, ck, err);
    if (rc == SOMA_OK) rc = check_unique(ck, name, err);
    if (rc != SOMA_OK) {
        soma_ckpt_free(ck);
        return rc;
    }
    *out = ck;
    return SOMA_OK;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* Reads all of f into a soma_malloc'ed buffer, refusing more than MAX_FILE bytes. */
static int slurp(FILE *f, const char *path, uint8_t **out, size_t *out_len, soma_error *err) {
    const size_t limit = MAX_FILE < SIZE_MAX / 2 ? (size_t)MAX_FILE : SIZE_MAX / 2;
    size_t cap = CHUNK;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode)) {
        if (st.st_size < 0 || (uint64_t)st.st_size > limit)
            return soma_fail(err, SOMA_E_FORMAT, "%s: %lld bytes, larger than the %zu-byte limit for checkpoints",
                             path, (long long)st.st_size, limit);
        cap = (size_t)st.st_size + 1; /* one spare byte, so EOF shows without growing */
    }
    uint8_t *buf = soma_malloc(cap);
    if (!buf) return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory (%zu bytes)", path, cap);
    size_t n = 0;
    for (;;) {
        if (n == cap) { /* the file grew, or is not a regular file */
            if (n > limit) {
                soma_free(buf);
                return soma_fail(err, SOMA_E_FORMAT, "%s: larger than the %zu-byte limit for checkpoints",
                                 path, limit);
            }
            size_t nc = cap > limit / 2 ? limit + 1 : cap * 2;
            uint8_t *nb = soma_malloc(nc);
            if (!nb) {
                soma_free(buf);
                return soma_fail(err, SOMA_E_NOMEM, "%s: out of memory (%zu bytes)", path, nc);
            }
            memcpy(nb, buf, n);
            soma_free(buf);
            buf = nb;
            cap = nc;
        }
        errno = 0;
        size_t want = cap - n, got = fread(buf + n, 1, want, f);
        n += got;
        if (got < want) {
            if (ferror(f)) {
                int e = errno ? errno : EIO;
                soma_free(buf);
                return soma_fail(err, SOMA_E_IO, "%s: cannot read: %s", path, strerror(e));
            }
            break; /* end of file */
        }
    }
    *out = buf;
    *out_len = n;
    return SOMA_OK;
}

int soma_ckpt_write_free(soma_ckpt *ck, int build_rc, const char *path, soma_error *err) {
    int rc = build_rc ? soma_fail(err, build_rc, "%s: could not build the checkpoint (%s)", path ? path : "(no path)",
                                  soma_status_str(build_rc))
                      : soma_ckpt_write(ck, path, err);
    soma_ckpt_free(ck);
    return rc;
}

int soma_ckpt_read(soma_ckpt **out, const char *path, soma_error *err) {
    if (!path || !*path) return soma_fail(err, SOMA_E_ARG, "(no path): cannot read a checkpoint without a path");
    if (!out) return soma_fail(err, SOMA_E_ARG, "%s: no output pointer", path);
    *out = NULL;
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return soma_fail(err, SOMA_E_IO, "%s: cannot open: %s", path, strerror(errno ? errno : EIO));
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = slurp(f, path, &buf, &len, err);
    fclose(f); /* read-only: nothing to lose */
    if (rc != SOMA_OK) return rc;
    rc = soma_ckpt_parse(out, buf, len, path, err);
    soma_free(buf);
    return rc;
}

int soma_ckpt_get_number(const soma_ckpt *ck, const char *key, double *out, const char *name,
                         soma_error *err) {
    *out = 0;
    const char *s = soma_ckpt_get(ck, key);
    if (!s) return soma_fail(err, SOMA_E_FORMAT, "%s: missing key \"%s\"", name, key);
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v))
        return soma_fail(err, SOMA_E_FORMAT, "%s: key \"%s\" has a non-numeric value \"%.40s\"", name, key, s);
    *out = v;
    return SOMA_OK;
}
