/*
 * data/file.c — reading a whole file into memory, gunzipping it when its content says so.
 *
 * Gzip is recognised by the two magic bytes 0x1f 0x8b, not by the file name. Decompression
 * streams through zlib's inflate into a buffer that grows geometrically but never beyond
 * max_bytes (+1 to detect overflow): the size field of the gzip trailer is at most a hint for
 * the first allocation and is never trusted. Concatenated gzip members are accepted (as
 * gunzip does); anything else after the last member is an error. The returned buffer has one
 * NUL byte past the end (not counted in len), so text parsers can never run off it.
 */
#include "soma/data.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define CHUNK (64 * 1024)
#define MAX_DEFLATE_RATIO 1032 /* deflate cannot expand data by more than ~1032:1 */

typedef struct growbuf {
    uint8_t *data;
    size_t len, cap, lim; /* lim = most bytes we may hold: max_bytes + 1, saturated */
} growbuf;

/* Makes room for at least one more byte; the allocation is always cap + 1 for the NUL. */
static int grow(growbuf *b, size_t want, const char *path, size_t max_bytes, soma_error *err) {
    if (b->data && b->len < b->cap) return SOMA_OK;
    if (b->cap >= b->lim)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: more than %zu bytes of data (the limit for this file); is it the right file?",
                         path, max_bytes);
    size_t cap = want > b->cap ? want : (b->cap < CHUNK ? CHUNK : b->cap);
    if (cap == b->cap) cap = b->cap > b->lim / 2 ? b->lim : 2 * b->cap;
    if (cap > b->lim) cap = b->lim;
    uint8_t *p = soma_malloc(cap + 1);
    if (!p) return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate %zu bytes", path, cap + 1);
    if (b->len) memcpy(p, b->data, b->len);
    soma_free(b->data);
    b->data = p;
    b->cap = cap;
    return SOMA_OK;
}

/* Size of a regular file, or -1 (pipes, devices, errors). */
static long long regular_size(FILE *f) {
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) return -1;
    return (long long)st.st_size;
}

/* A first-allocation size for a gzip file: its trailer's ISIZE (mod 2^32), bounded by what
 * deflate can possibly produce from this many compressed bytes. Only a hint. */
static size_t gzip_hint(FILE *f, long long csize) {
    uint8_t t[4];
    if (csize < 18 || pread(fileno(f), t, 4, (off_t)(csize - 4)) != 4) return 0;
    unsigned long long isize = t[0] | (unsigned)t[1] << 8 | (unsigned)t[2] << 16 |
                               (unsigned long long)t[3] << 24;
    unsigned long long bound = (unsigned long long)csize * MAX_DEFLATE_RATIO;
    if (isize > bound) isize = bound;
    return isize >= SIZE_MAX ? SIZE_MAX - 1 : (size_t)isize + 1;
}

static int read_plain(growbuf *b, FILE *f, const uint8_t *first, size_t n_first, const char *path,
                      size_t max_bytes, soma_error *err) {
    long long size = regular_size(f);
    if (size >= 0 && (unsigned long long)size > max_bytes)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: file is %lld bytes, more than the limit of %zu; is it the right file?",
                         path, size, max_bytes);
    if (n_first > max_bytes)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: more than %zu bytes (the limit for this file); is it the right file?",
                         path, max_bytes);
    size_t want = size >= 0 && (size_t)size > n_first ? (size_t)size + 1 : n_first + 1;
    int rc = grow(b, want, path, max_bytes, err); /* cap >= n_first + 1 as n_first < lim */
    if (rc) return rc;
    memcpy(b->data, first, n_first);
    b->len = n_first;
    for (;;) {
        if ((rc = grow(b, 0, path, max_bytes, err))) return rc;
        size_t got = fread(b->data + b->len, 1, b->cap - b->len, f);
        b->len += got;
        if (got == 0) break;
    }
    if (ferror(f)) return soma_fail(err, SOMA_E_IO, "%s: read failed: %s", path, strerror(errno));
    if (b->len > max_bytes)
        return soma_fail(err, SOMA_E_FORMAT,
                         "%s: more than %zu bytes (the limit for this file); is it the right file?",
                         path, max_bytes);
    return SOMA_OK;
}

static int inflate_error(int zrc, const z_stream *zs, unsigned long long off, const char *path,
                         soma_error *err) {
    if (zrc == Z_MEM_ERROR)
        return soma_fail(err, SOMA_E_NOMEM, "%s: zlib could not allocate its state", path);
    return soma_fail(err, SOMA_E_FORMAT,
                     "%s: corrupt gzip data near compressed byte offset %llu: %s; re-download the file",
                     path, off, zs->msg ? zs->msg : (zrc == Z_NEED_DICT ? "needs a dictionary" : "error"));
}

static int read_gzip(growbuf *b, FILE *f, uint8_t *chunk, size_t n_first, const char *path,
                     size_t max_bytes, soma_error *err) {
    long long csize = regular_size(f);
    int rc = grow(b, csize >= 0 ? gzip_hint(f, csize) : 0, path, max_bytes, err);
    if (rc) return rc;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    int zrc = inflateInit2(&zs, 16 + MAX_WBITS); /* gzip wrapper only */
    if (zrc != Z_OK) return inflate_error(zrc, &zs, 0, path, err);
    zs.next_in = chunk;
    zs.avail_in = (uInt)n_first;
    unsigned long long n_read = n_first; /* compressed bytes read so far */
    bool eof = false, member_done = false;
    for (;;) {
        unsigned long long off = n_read - zs.avail_in;
        if (zs.avail_in == 0 && !eof) {
            size_t got = fread(chunk, 1, CHUNK, f);
            if (got == 0) {
                if (ferror(f)) {
                    rc = soma_fail(err, SOMA_E_IO, "%s: read failed: %s", path, strerror(errno));
                    break;
                }
                eof = true;
            }
            zs.next_in = chunk;
            zs.avail_in = (uInt)got;
            n_read += got;
            continue;
        }
        if (zs.avail_in == 0) { /* end of file */
            if (!member_done)
                rc = soma_fail(err, SOMA_E_FORMAT,
                               "%s: truncated gzip stream: the file ends after %llu compressed bytes, "
                               "inside a member (expected more deflate data or the 8-byte trailer); "
                               "was the download cut short?",
                               path, off);
            break;
        }
        if (member_done) { /* more input after a complete member: another member, or garbage */
            if (zs.next_in[0] != 0x1f) {
                rc = soma_fail(err, SOMA_E_FORMAT,
                               "%s: trailing garbage at compressed byte offset %llu after the end "
                               "of the gzip stream (expected end of file or another gzip member)",
                               path, off);
                break;
            }
            inflateReset(&zs);
            member_done = false;
        }
        if ((rc = grow(b, 0, path, max_bytes, err))) break;
        size_t room = b->cap - b->len;
        zs.next_out = b->data + b->len;
        zs.avail_out = room > UINT_MAX ? UINT_MAX : (uInt)room;
        uInt in_before = zs.avail_in, out_before = zs.avail_out;
        zrc = inflate(&zs, Z_NO_FLUSH);
        b->len += out_before - zs.avail_out;
        if (b->len > max_bytes) {
            rc = soma_fail(err, SOMA_E_FORMAT,
                           "%s: decompresses to more than %zu bytes (the limit for this file); "
                           "is it the right file?",
                           path, max_bytes);
            break;
        }
        if (zrc == Z_STREAM_END) {
            member_done = true;
        } else if (zrc == Z_BUF_ERROR && zs.avail_in == in_before && zs.avail_out == out_before &&
                   zs.avail_in > 0 && zs.avail_out > 0) {
            rc = inflate_error(zrc, &zs, n_read - zs.avail_in, path, err); /* no progress: bug guard */
            break;
        } else if (zrc != Z_OK && zrc != Z_BUF_ERROR) {
            rc = inflate_error(zrc, &zs, n_read - zs.avail_in, path, err);
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

int soma_read_file(uint8_t **buf, size_t *len, const char *path, size_t max_bytes, soma_error *err) {
    if (!buf || !len || !path) return soma_fail(err, SOMA_E_ARG, "soma_read_file: NULL argument");
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return soma_fail(err, SOMA_E_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t *chunk = soma_malloc(CHUNK);
    if (!chunk) {
        fclose(f);
        return soma_fail(err, SOMA_E_NOMEM, "%s: cannot allocate a %d-byte read buffer", path, CHUNK);
    }
    growbuf b = {NULL, 0, 0, max_bytes < SIZE_MAX - 1 ? max_bytes + 1 : SIZE_MAX - 1};
    int rc;
    size_t n = fread(chunk, 1, CHUNK, f);
    if (n == 0 && ferror(f))
        rc = soma_fail(err, SOMA_E_IO, "%s: read failed: %s", path, strerror(errno));
    else if (n >= 2 && chunk[0] == 0x1f && chunk[1] == 0x8b)
        rc = read_gzip(&b, f, chunk, n, path, max_bytes, err);
    else
        rc = read_plain(&b, f, chunk, n, path, max_bytes, err);
    soma_free(chunk);
    fclose(f);
    if (rc == SOMA_OK && b.cap > b.len + b.len / 8 + CHUNK) { /* a hint overshot: shrink */
        uint8_t *p = soma_malloc(b.len + 1);
        if (p) {
            memcpy(p, b.data, b.len);
            soma_free(b.data);
            b.data = p;
            b.cap = b.len;
        }
    }
    if (rc != SOMA_OK) {
        soma_free(b.data);
        return rc;
    }
    b.data[b.len] = 0;
    *buf = b.data;
    *len = b.len;
    return SOMA_OK;
}
