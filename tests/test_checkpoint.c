/*
 * tests/test_checkpoint.c — the checkpoint container: round trips (keys, tensors of every ndim,
 * bitwise values), the key/tensor API and its argument checks, atomic writes (no temporary
 * file left, an existing file untouched when a write fails), and every kind of damaged file:
 * wrong magic, other versions, flipped bytes, every truncation length, hostile counts, lengths,
 * shapes and offsets (with the CRC recomputed so the structural check is what fails), plus
 * allocation failures at every point of parse, read and the builders.
 */
#include "soma/checkpoint.h"
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256]; /* the test's scratch directory (mkdtemp) */

static void path_in(char *out, size_t size, const char *file) { snprintf(out, size, "%s/%s", dir, file); }

static uint8_t *read_bytes(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    for (;;) {
        if (n == cap) b = realloc(b, cap *= 2);
        size_t got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    *len = n;
    return b;
}

static void write_bytes(const char *path, const uint8_t *b, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(b, 1, len, f) == len);
    fclose(f);
}

/* Entries of the scratch directory whose name contains ".tmp." (leftover temporary files). */
static int count_tmp(void) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".tmp.")) n++;
    closedir(d);
    return n;
}

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Recomputes the trailing CRC after a patch, so a later check is the one that fails. */
static void recrc(uint8_t *b, size_t len) { put32(b + len - 4, (uint32_t)crc32(0L, b, (uInt)(len - 4))); }

/* The bytes soma_ckpt_write produces for ck. */
static uint8_t *to_bytes(const soma_ckpt *ck, size_t *len) {
    char p[512];
    path_in(p, sizeof p, "ser.ckpt");
    soma_error err = {0};
    int rc = soma_ckpt_write(ck, p, &err);
    CHECK_STATUS(rc, SOMA_OK);
    if (rc != SOMA_OK) fprintf(stderr, "write: %s\n", err.msg);
    uint8_t *b = read_bytes(p, len);
    remove(p);
    return b;
}

/* Parses a copy of exactly len bytes (so ASan sees any read past the end). */
static int parse_copy(const uint8_t *b, size_t len, soma_error *err) {
    uint8_t *c = malloc(len ? len : 1);
    if (len) memcpy(c, b, len);
    soma_ckpt *ck = (soma_ckpt *)&ck; /* must be reset to NULL on failure */
    int rc = soma_ckpt_parse(&ck, c, len, "mem.ckpt", err);
    if (rc != SOMA_OK) CHECK(ck == NULL);
    soma_ckpt_free(rc == SOMA_OK ? ck : NULL);
    free(c);
    return rc;
}

/*
 * The small file: key "k" = "v", tensor "t" of dims {2} = {1, 2}. Its layout:
 *   0 "SOMA"  4 version  8 n_kv  12 n_tensors
 *  16 klen  20 'k'  21 vlen  25 'v'
 *  26 nlen  30 't'  31 ndim  35 dims[0]  43 offset  (table ends at 51, padding to 64)
 *  64 data (8 bytes)  72 CRC  — 76 bytes in all.
 */
enum { S_VERSION = 4, S_NKV = 8, S_NT = 12, S_KLEN = 16, S_KEY = 20, S_VLEN = 21, S_NLEN = 26,
       S_NAME = 30, S_NDIM = 31, S_DIM0 = 35, S_OFFSET = 43, S_DATA = 64, S_LEN = 76 };

static uint8_t *small_file(size_t *len) {
    soma_ckpt *ck = soma_ckpt_create();
    const float x[2] = {1, 2};
    const int64_t d[1] = {2};
    CHECK_STATUS(soma_ckpt_set(ck, "k", "v"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "t", x, 1, d), SOMA_OK);
    uint8_t *b = to_bytes(ck, len);
    soma_ckpt_free(ck);
    CHECK(*len == S_LEN);
    return b;
}

/* A container with several keys and tensors of ndim 1, 2, 3 and 8 holding awkward values. */
static const int64_t d1[1] = {1}, d2[2] = {3, 5}, d3[3] = {2, 3, 4}, d8[8] = {1, 2, 1, 2, 1, 2, 1, 2};

static void fill(float *x, int64_t n, uint32_t salt) {
    for (int64_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)(i * 2654435761u) ^ salt;
        memcpy(&x[i], &u, sizeof u); /* arbitrary bit patterns: NaN payloads, denormals, ... */
    }
}

static soma_ckpt *rich(float *a, float *b, float *c, float *e) {
    soma_ckpt *ck = soma_ckpt_create();
    CHECK(ck != NULL);
    a[0] = -0.0f;
    fill(b, 15, 0x7fc00001u);
    b[0] = INFINITY, b[1] = -INFINITY, b[2] = 1e-45f, b[3] = NAN;
    fill(c, 24, 0x12345678u);
    fill(e, 16, 0x80000000u);
    char big[10001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_STATUS(soma_ckpt_set(ck, "net.spec", "784-100-10"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_set(ck, "empty", ""), SOMA_OK);
    CHECK_STATUS(soma_ckpt_set(ck, "big", big), SOMA_OK);
    CHECK_STATUS(soma_ckpt_set(ck, "utf8 ключ", "значение ✓"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "scalar", a, 1, d1), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "l0.W", b, 2, d2), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "conv", c, 3, d3), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "eight", e, 8, d8), SOMA_OK);
    return ck;
}

static void check_rich(const soma_ckpt *ck, const float *a, const float *b, const float *c, const float *e) {
    const char *v = soma_ckpt_get(ck, "net.spec");
    CHECK(v && strcmp(v, "784-100-10") == 0);
    v = soma_ckpt_get(ck, "empty");
    CHECK(v && *v == '\0');
    v = soma_ckpt_get(ck, "big");
    CHECK(v && strlen(v) == 10000 && v[0] == 'x' && v[9999] == 'x');
    v = soma_ckpt_get(ck, "utf8 ключ");
    CHECK(v && strcmp(v, "значение ✓") == 0);
    const float *want[4] = {a, b, c, e};
    const char *names[4] = {"scalar", "l0.W", "conv", "eight"};
    const int64_t counts[4] = {1, 15, 24, 16};
    for (int i = 0; i < 4; i++) {
        int64_t n = -1;
        const float *got = soma_ckpt_find(ck, names[i], &n);
        CHECK(got != NULL);
        CHECK(n == counts[i]);
        if (got && n == counts[i]) CHECK(memcmp(got, want[i], (size_t)n * sizeof(float)) == 0);
        CHECK(got == NULL || ((uintptr_t)got & 63) == 0); /* data handed out cache-line aligned */
    }
}

TEST(test_roundtrip) {
    size_t base = soma_mem_used();
    float a[1], b[15], c[24], e[16];
    soma_ckpt *ck = rich(a, b, c, e);
    check_rich(ck, a, b, c, e);
    char p[512];
    path_in(p, sizeof p, "rich.ckpt");
    soma_error err = {0};
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_OK);
    CHECK(count_tmp() == 0);
    soma_ckpt *back = NULL;
    int rc = soma_ckpt_read(&back, p, &err);
    CHECK_STATUS(rc, SOMA_OK);
    if (rc != SOMA_OK) fprintf(stderr, "read: %s\n", err.msg);
    if (back) check_rich(back, a, b, c, e);

    /* Writing the parsed container again gives the same bytes. */
    size_t l1 = 0, l2 = 0;
    uint8_t *f1 = read_bytes(p, &l1), *f2 = back ? to_bytes(back, &l2) : NULL;
    CHECK(f1 && f2 && l1 == l2 && memcmp(f1, f2, l1) == 0);
    /* The data section starts on a 64-byte boundary and the file ends right after the CRC. */
    CHECK(f1 && memcmp(f1, "SOMA", 4) == 0 && f1[4] == 1 && f1[8] == 4 && f1[12] == 4);
    free(f1);
    free(f2);

    /* A parsed container can be changed like a built one. */
    CHECK_STATUS(soma_ckpt_set(back, "net.spec", "784-200-10"), SOMA_OK);
    CHECK(strcmp(soma_ckpt_get(back, "net.spec"), "784-200-10") == 0);
    CHECK_STATUS(soma_ckpt_set(back, "new", "1"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(back, "conv", c, 3, d3), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(back, "more", c, 3, d3), SOMA_OK);
    CHECK_STATUS(soma_ckpt_write(back, p, &err), SOMA_OK);
    soma_ckpt *again = NULL;
    CHECK_STATUS(soma_ckpt_read(&again, p, &err), SOMA_OK);
    CHECK(again && strcmp(soma_ckpt_get(again, "net.spec"), "784-200-10") == 0);
    CHECK(again && strcmp(soma_ckpt_get(again, "new"), "1") == 0);
    int64_t n = 0;
    CHECK(again && soma_ckpt_find(again, "more", &n) && n == 24);
    soma_ckpt_free(again);
    soma_ckpt_free(back);
    soma_ckpt_free(ck);

    /* An empty container: just the padded header and the CRC. */
    ck = soma_ckpt_create();
    size_t len = 0;
    uint8_t *bytes = to_bytes(ck, &len);
    CHECK(len == 68);
    soma_ckpt *empty = NULL;
    CHECK_STATUS(soma_ckpt_parse(&empty, bytes, len, "empty.ckpt", &err), SOMA_OK);
    CHECK(empty && soma_ckpt_get(empty, "k") == NULL && soma_ckpt_find(empty, "t", NULL) == NULL);
    soma_ckpt_free(empty);
    soma_ckpt_free(ck);
    free(bytes);

    /* A tensor larger than the write buffer and the first read guess. */
    const int64_t big[2] = {700, 1000};
    float *x = malloc(700000 * sizeof(float));
    fill(x, 700000, 99);
    ck = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_add(ck, "first", a, 1, d1), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "big", x, 2, big), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "last", b, 2, d2), SOMA_OK);
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_OK);
    soma_ckpt_free(ck);
    CHECK_STATUS(soma_ckpt_read(&ck, p, &err), SOMA_OK);
    const float *got = soma_ckpt_find(ck, "big", &n);
    CHECK(got && n == 700000 && memcmp(got, x, 700000 * sizeof(float)) == 0);
    got = soma_ckpt_find(ck, "last", &n);
    CHECK(got && n == 15 && memcmp(got, b, 15 * sizeof(float)) == 0);
    soma_ckpt_free(ck);
    free(x);
    remove(p);
    CHECK(count_tmp() == 0);
    CHECK(soma_mem_used() == base);
}

TEST(test_api) {
    size_t base = soma_mem_used();
    soma_ckpt *ck = soma_ckpt_create();
    CHECK(ck != NULL);
    CHECK(soma_ckpt_get(ck, "missing") == NULL);
    int64_t n = 42;
    CHECK(soma_ckpt_find(ck, "missing", &n) == NULL);
    CHECK(n == 0);

    /* replace */
    CHECK_STATUS(soma_ckpt_set(ck, "seed", "1"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_set(ck, "seed", "2"), SOMA_OK);
    CHECK(strcmp(soma_ckpt_get(ck, "seed"), "2") == 0);
    CHECK(soma_ckpt_get(ck, "see") == NULL && soma_ckpt_get(ck, "seed2") == NULL);
    size_t len = 0;
    uint8_t *b = to_bytes(ck, &len);
    CHECK(b && b[8] == 1); /* one key in the file, not two */
    free(b);

    /* duplicate tensor names are refused and leave the first alone */
    const float x[3] = {1, 2, 3}, y[3] = {4, 5, 6};
    const int64_t d[1] = {3};
    CHECK_STATUS(soma_ckpt_add(ck, "w", x, 1, d), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "w", y, 1, d), SOMA_E_ARG);
    const float *w = soma_ckpt_find(ck, "w", &n);
    CHECK(w && n == 3 && w[0] == 1 && w[2] == 3);
    CHECK(w != x); /* copied in */
    CHECK(soma_ckpt_find(ck, "w", NULL) == w);

    /* argument checks */
    char name[4098];
    memset(name, 'n', sizeof name);
    name[4096] = '\0';
    CHECK_STATUS(soma_ckpt_set(ck, name, "ok"), SOMA_OK); /* 4096 bytes: the limit */
    CHECK_STATUS(soma_ckpt_add(ck, name, x, 1, d), SOMA_OK);
    name[4096] = 'n', name[4097] = '\0';
    CHECK_STATUS(soma_ckpt_set(ck, name, "too long"), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, name, x, 1, d), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_set(ck, "", "v"), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_set(ck, NULL, "v"), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_set(ck, "k", NULL), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_set(NULL, "k", "v"), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "", x, 1, d), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", NULL, 1, d), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 1, NULL), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 0, d), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 9, d8), SOMA_E_ARG);
    const int64_t zero[1] = {0}, neg[2] = {3, -1}, huge[2] = {INT64_MAX / 2, 3};
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 1, zero), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 2, neg), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_add(ck, "a", x, 2, huge), SOMA_E_ARG);
    CHECK(soma_ckpt_find(ck, "a", NULL) == NULL);
    CHECK(soma_ckpt_get(NULL, "k") == NULL && soma_ckpt_get(ck, NULL) == NULL);
    CHECK(soma_ckpt_find(NULL, "w", NULL) == NULL);

    soma_error err = {0};
    CHECK_STATUS(soma_ckpt_write(NULL, "x.ckpt", &err), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_write(ck, NULL, &err), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_read(NULL, "x.ckpt", &err), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_parse(NULL, (const uint8_t *)"SOMA", 4, "x", &err), SOMA_E_ARG);
    soma_ckpt *out = NULL;
    CHECK_STATUS(soma_ckpt_parse(&out, NULL, 10, "x", &err), SOMA_E_ARG);
    CHECK_STATUS(soma_ckpt_parse(&out, NULL, 0, NULL, &err), SOMA_E_FORMAT); /* no name: still a message */
    CHECK_MSG(err, "truncated");
    soma_ckpt_free(ck);
    soma_ckpt_free(NULL);
    CHECK(soma_mem_used() == base);
}

TEST(test_bad_magic_and_version) {
    size_t len;
    uint8_t *b = small_file(&len);
    soma_error err = {0};
    CHECK_STATUS(parse_copy(b, len, &err), SOMA_OK);

    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[3] = 'B';
    CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "mem.ckpt: not a Soma checkpoint (magic \"SOMB\"");
    memcpy(c, "\x7f" "ELF", 4);
    CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "magic \"\\x7fELF\"");
    CHECK_STATUS(parse_copy((const uint8_t *)"PK", 2, &err), SOMA_E_FORMAT); /* short, but not ours */
    CHECK_MSG(err, "not a Soma checkpoint");

    for (uint32_t v = 0; v < 4; v++) {
        if (v == SOMA_CKPT_VERSION) continue;
        memcpy(c, b, len);
        put32(c + S_VERSION, v);
        recrc(c, len);
        CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_VERSION);
        char want[64];
        snprintf(want, sizeof want, "version %u is not supported", v);
        CHECK_MSG(err, want);
        CHECK_MSG(err, "this build reads version 1");
        CHECK_MSG(err, "mem.ckpt: ");
    }
    /* The version patched without fixing the CRC: the checksum speaks first. */
    memcpy(c, b, len);
    put32(c + S_VERSION, 2);
    CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_CHECKSUM);
    free(c);
    free(b);
}

TEST(test_checksum) {
    size_t len;
    uint8_t *b = small_file(&len);
    soma_error err = {0};
    uint8_t *c = malloc(len + 1);
    for (size_t i = 4; i < len; i++) { /* every single-bit flip after the magic is caught */
        memcpy(c, b, len);
        c[i] ^= (uint8_t)(1u << (i % 8));
        CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_CHECKSUM);
    }
    memcpy(c, b, len);
    c[S_DATA + 1] ^= 0x40;
    CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_CHECKSUM);
    CHECK_MSG(err, "mem.ckpt: checksum mismatch: stored 0x");
    CHECK_MSG(err, ", computed 0x");
    CHECK_MSG(err, "the file is corrupt or truncated");
    /* A byte appended at the end. */
    memcpy(c, b, len);
    c[len] = 0;
    CHECK_STATUS(parse_copy(c, len + 1, &err), SOMA_E_CHECKSUM);
    free(c);
    free(b);
}

/* Every prefix of a valid file is refused: "truncated" below the smallest checkpoint, a
 * checksum mismatch above it, and a structural error when the CRC is made to match. */
static void truncations(const uint8_t *b, size_t len) {
    soma_error err = {0};
    uint8_t *c = malloc(len);
    for (size_t l = 0; l < len; l++) {
        memset(&err, 0, sizeof err);
        int rc = parse_copy(b, l, &err);
        CHECK(rc == (l < 68 ? SOMA_E_FORMAT : SOMA_E_CHECKSUM));
        CHECK(strncmp(err.msg, "mem.ckpt: ", 10) == 0);
        if (l < 68) CHECK_MSG(err, "truncated");
        else CHECK_MSG(err, "corrupt or truncated");
        if (l >= 68) {
            memcpy(c, b, l);
            recrc(c, l);
            rc = parse_copy(c, l, &err);
            CHECK_STATUS(rc, SOMA_E_FORMAT);
            if (rc != SOMA_E_FORMAT) fprintf(stderr, "length %zu: %s\n", l, err.msg);
            CHECK_MSG(err, "mem.ckpt: malformed: ");
        }
    }
    free(c);
}

TEST(test_truncated) {
    size_t len;
    uint8_t *b = small_file(&len);
    truncations(b, len);
    soma_error err = {0};
    CHECK_STATUS(parse_copy(b, 0, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "truncated: the file is empty");
    CHECK_STATUS(parse_copy(b, 20, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "truncated: 20 bytes");
    free(b);

    float a[1], x[15], y[24], z[16];
    soma_ckpt *ck = rich(a, x, y, z);
    b = to_bytes(ck, &len);
    soma_ckpt_free(ck);
    CHECK(len > 10000);
    truncations(b, len);
    free(b);
}

/* Patches a copy of the small file, recomputes the CRC, expects SOMA_E_FORMAT and a fragment. */
static void expect_malformed(const uint8_t *b, size_t len, size_t at, const uint8_t *bytes, size_t n,
                             const char *fragment, int line) {
    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    memcpy(c + at, bytes, n);
    recrc(c, len);
    soma_error err = {0};
    int rc = parse_copy(c, len, &err);
    if (rc != SOMA_E_FORMAT || !strstr(err.msg, fragment))
        fprintf(stderr, "(case at line %d, status %d)\n", line, rc);
    CHECK_STATUS(rc, SOMA_E_FORMAT);
    CHECK_MSG(err, fragment);
    CHECK_MSG(err, "mem.ckpt: malformed: ");
    free(c);
}

static void patch32(const uint8_t *b, size_t len, size_t at, uint32_t v, const char *fragment, int line) {
    uint8_t p[4];
    put32(p, v);
    expect_malformed(b, len, at, p, 4, fragment, line);
}

static void patch64(const uint8_t *b, size_t len, size_t at, uint64_t v, const char *fragment, int line) {
    uint8_t p[8];
    put64(p, v);
    expect_malformed(b, len, at, p, 8, fragment, line);
}

TEST(test_malformed_fields) {
    size_t len;
    uint8_t *b = small_file(&len);
    /* counts */
    patch32(b, len, S_NKV, 0xffffffffu, "cannot fit", __LINE__);
    patch32(b, len, S_NT, 0xffffffffu, "cannot fit", __LINE__);
    patch32(b, len, S_NKV, 7, "cannot fit", __LINE__);
    patch32(b, len, S_NKV, 2, "tensor 0: length 0 is not in 1..4096", __LINE__); /* shifted */
    patch32(b, len, S_NT, 2, "cannot fit", __LINE__);
    patch32(b, len, S_NKV, 0, "tensor 0 (\"k\")", __LINE__); /* the key entry read as a tensor */
    {   /* and unchecksummed, the same patch is a checksum error */
        uint8_t *c = malloc(len);
        memcpy(c, b, len);
        put32(c + S_NKV, 0xffffffffu);
        soma_error err = {0};
        CHECK_STATUS(parse_copy(c, len, &err), SOMA_E_CHECKSUM);
        free(c);
    }
    /* string lengths and contents */
    patch32(b, len, S_KLEN, 0, "key 0: length 0 is not in 1..4096", __LINE__);
    patch32(b, len, S_KLEN, 4097, "length 4097 is not in 1..4096", __LINE__);
    patch32(b, len, S_KLEN, 4096, "runs past the end", __LINE__);
    patch32(b, len, S_KLEN, 0xffffffffu, "not in 1..4096", __LINE__);
    patch32(b, len, S_VLEN, 0xffffffffu, "value of key 0 (\"k\"): length 4294967295 runs past the end", __LINE__);
    patch32(b, len, S_VLEN, 60, "runs past the end", __LINE__);
    patch32(b, len, S_NLEN, 0, "tensor 0: length 0", __LINE__);
    patch32(b, len, S_NLEN, 0x80000000u, "not in 1..4096", __LINE__);
    expect_malformed(b, len, S_KEY, (const uint8_t *)"", 1, "key 0: it contains a NUL byte", __LINE__);
    expect_malformed(b, len, S_NAME, (const uint8_t *)"", 1, "NUL", __LINE__);
    /* shapes */
    patch32(b, len, S_NDIM, 0, "tensor 0: ndim 0 is not in 1..8", __LINE__);
    patch32(b, len, S_NDIM, 9, "ndim 9 is not in 1..8", __LINE__);
    patch32(b, len, S_NDIM, 0xffffffffu, "not in 1..8", __LINE__);
    patch32(b, len, S_NDIM, 3, "dimension 1 is 0, not positive", __LINE__); /* the offset as a dim */
    patch32(b, len, S_NDIM, 4, "tensor 0: its dims and offset run past the end", __LINE__);
    patch64(b, len, S_DIM0, 0, "dimension 0 is 0, not positive", __LINE__);
    patch64(b, len, S_DIM0, (uint64_t)-5, "dimension 0 is -5, not positive", __LINE__);
    patch64(b, len, S_DIM0, (uint64_t)1 << 62, "element count overflows", __LINE__);
    patch64(b, len, S_DIM0, 3, "12 bytes at offset 0 run past the end of the 8-byte data section", __LINE__);
    patch64(b, len, S_DIM0, 1000000, "run past the end", __LINE__);
    /* offsets */
    patch64(b, len, S_OFFSET, 4, "tensor 0 (\"t\"): offset 4 is not a multiple of 64", __LINE__);
    patch64(b, len, S_OFFSET, 1, "not a multiple of 64", __LINE__);
    patch64(b, len, S_OFFSET, 64, "run past the end", __LINE__);
    patch64(b, len, S_OFFSET, UINT64_MAX - 63, "run past the end", __LINE__);
    free(b);

    /* two tensors: the second moved onto the first, and a duplicate name; duplicate keys */
    soma_ckpt *ck = soma_ckpt_create();
    const float x[2] = {1, 2};
    const int64_t d[1] = {2};
    CHECK_STATUS(soma_ckpt_set(ck, "a", "1"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_set(ck, "b", "2"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "t", x, 1, d), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "u", x, 1, d), SOMA_OK);
    b = to_bytes(ck, &len);
    soma_ckpt_free(ck);
    /* keys at 16 (a, letter at 20) and 26 (b, letter at 30); tensors at 36 (t, offset at 53)
     * and 61 (u, name at 65, offset at 78); data at 128 and 192; CRC at 200. */
    CHECK(len == 204);
    soma_error err = {0};
    CHECK_STATUS(parse_copy(b, len, &err), SOMA_OK);
    patch64(b, len, 78, 0, "tensor 1 (\"u\"): offset 0 overlaps the previous tensor", __LINE__);
    patch64(b, len, 53, 64, "overlaps", __LINE__);
    expect_malformed(b, len, 30, (const uint8_t *)"a", 1, "duplicate key \"a\"", __LINE__);
    expect_malformed(b, len, 65, (const uint8_t *)"t", 1, "duplicate tensor name \"t\"", __LINE__);
    free(b);
}

/* Every byte of the entry table of the rich file set to a few values, CRC fixed: whatever the
 * parse says, it must not crash, leak or read out of bounds (ASan). */
TEST(test_byte_patches) {
    size_t base = soma_mem_used();
    float a[1], x[15], y[24], z[16];
    soma_ckpt *ck = rich(a, x, y, z);
    size_t len;
    uint8_t *b = to_bytes(ck, &len);
    soma_ckpt_free(ck);
    uint8_t *c = malloc(len);
    const uint8_t vals[] = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xff};
    int ok = 0, bad = 0;
    for (size_t i = 4; i < len - 4; i++) {
        if (i >= 200 && i < 10050) continue; /* skip most of the long value's body */
        for (size_t k = 0; k < sizeof vals; k++) {
            if (b[i] == vals[k]) continue;
            memcpy(c, b, len);
            c[i] = vals[k];
            recrc(c, len);
            soma_error err = {0};
            int rc = parse_copy(c, len, &err);
            if (rc == SOMA_OK) ok++;
            else {
                bad++;
                CHECK(rc == SOMA_E_FORMAT || rc == SOMA_E_VERSION);
                CHECK(strncmp(err.msg, "mem.ckpt: ", 10) == 0);
            }
        }
    }
    CHECK(bad > 0 && ok > 0); /* e.g. changing a key's letters is fine */
    free(c);
    free(b);
    CHECK(soma_mem_used() == base);
}

TEST(test_files) {
    size_t base = soma_mem_used();
    char p[512], q[512];
    soma_error err = {0};
    soma_ckpt *ck = NULL;

    path_in(p, sizeof p, "does-not-exist.ckpt");
    CHECK_STATUS(soma_ckpt_read(&ck, p, &err), SOMA_E_IO);
    CHECK(ck == NULL);
    CHECK_MSG(err, p);
    CHECK_MSG(err, "No such file or directory");

    path_in(p, sizeof p, "empty.ckpt");
    write_bytes(p, (const uint8_t *)"", 0);
    CHECK_STATUS(soma_ckpt_read(&ck, p, &err), SOMA_E_FORMAT);
    CHECK(strncmp(err.msg, p, strlen(p)) == 0);
    CHECK_MSG(err, "truncated: the file is empty");
    remove(p);

    CHECK_STATUS(soma_ckpt_read(&ck, dir, &err), SOMA_E_IO); /* a directory */
    CHECK_MSG(err, dir);

    size_t len;
    uint8_t *b = small_file(&len);
    path_in(p, sizeof p, "small.ckpt");
    write_bytes(p, b, len - 1);
    CHECK_STATUS(soma_ckpt_read(&ck, p, &err), SOMA_E_CHECKSUM);
    CHECK_MSG(err, "small.ckpt: checksum mismatch");
    write_bytes(p, b, len);
    CHECK_STATUS(soma_ckpt_read(&ck, p, &err), SOMA_OK);
    const char *v = ck ? soma_ckpt_get(ck, "k") : NULL;
    CHECK(v && strcmp(v, "v") == 0);

    /* into a directory that does not exist */
    path_in(q, sizeof q, "no/such/dir/x.ckpt");
    CHECK_STATUS(soma_ckpt_write(ck, q, &err), SOMA_E_IO);
    CHECK_MSG(err, q);
    CHECK_MSG(err, "could not save the checkpoint");
    CHECK_MSG(err, "No such file or directory");
    struct stat st;
    path_in(q, sizeof q, "no");
    CHECK(stat(q, &st) != 0);
    soma_ckpt_free(ck);
    ck = NULL;
    free(b);
    remove(p);
    CHECK(count_tmp() == 0);
    CHECK(soma_mem_used() == base);
}

/* A write that fails in any way leaves the good file at the path as it was, and no temporary. */
static void check_untouched(const char *p, const uint8_t *good, size_t len) {
    size_t l = 0;
    uint8_t *now = read_bytes(p, &l);
    CHECK(now && l == len && memcmp(now, good, len) == 0);
    free(now);
    CHECK(count_tmp() == 0);
}

TEST(test_failed_write_keeps_old_file) {
    size_t base = soma_mem_used();
    size_t glen;
    uint8_t *good = small_file(&glen);
    soma_error err = {0};

    /* The new checkpoint is large, so writing it is what hits the limits below. */
    float *x = calloc(1 << 20, sizeof(float));
    const int64_t d[1] = {1 << 20};
    soma_ckpt *ck = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_set(ck, "k", "new"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "t", x, 1, d), SOMA_OK);

    /* 1. The temporary name is too long for the file system (path itself is fine). */
    char name[251], p[512];
    memset(name, 'c', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    path_in(p, sizeof p, name);
    write_bytes(p, good, glen);
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_E_IO);
    CHECK(strncmp(err.msg, p, strlen(p)) == 0);
    CHECK_MSG(err, ": could not save the checkpoint: ");
    CHECK_MSG(err, strerror(ENAMETOOLONG));
    CHECK_MSG(err, " (creating ");
    check_untouched(p, good, glen);
    remove(p);

    /* 2. The file system refuses to grow the temporary file mid-write (RLIMIT_FSIZE). */
    path_in(p, sizeof p, "good.ckpt");
    write_bytes(p, good, glen);
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    struct rlimit lim = old;
    lim.rlim_cur = 100000;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    int rc = soma_ckpt_write(ck, p, &err);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    signal(SIGXFSZ, prev);
    CHECK_STATUS(rc, SOMA_E_IO);
    CHECK_MSG(err, "good.ckpt: could not save the checkpoint: ");
    CHECK_MSG(err, strerror(EFBIG));
    CHECK_MSG(err, "(writing ");
    CHECK_MSG(err, "good.ckpt.tmp.");
    check_untouched(p, good, glen);

    /* 3. Out of memory before anything is written. */
    soma_mem_fail_after(1);
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_E_NOMEM);
    soma_mem_fail_after(0);
    check_untouched(p, good, glen);

    /* 4. The rename fails: the path is a directory. */
    path_in(p, sizeof p, "a-directory");
    CHECK(mkdir(p, 0700) == 0);
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_E_IO);
    CHECK_MSG(err, strerror(EISDIR));
    CHECK_MSG(err, "(renaming ");
    CHECK_MSG(err, " over it)");
    struct stat st;
    CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
    CHECK(count_tmp() == 0);
    rmdir(p);

    /* And a write that succeeds replaces the file. */
    path_in(p, sizeof p, "good.ckpt");
    CHECK_STATUS(soma_ckpt_write(ck, p, &err), SOMA_OK);
    soma_ckpt *back = NULL;
    CHECK_STATUS(soma_ckpt_read(&back, p, &err), SOMA_OK);
    CHECK(back && strcmp(soma_ckpt_get(back, "k"), "new") == 0);
    soma_ckpt_free(back);
    CHECK(count_tmp() == 0);
    remove(p);
    soma_ckpt_free(ck);

    /* soma_ckpt_write_free: a failed build writes nothing, names the failure, frees the container. */
    write_bytes(p, good, glen);
    ck = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_write_free(ck, SOMA_E_NOMEM, p, &err), SOMA_E_NOMEM);
    CHECK_MSG(err, "could not build the checkpoint");
    check_untouched(p, good, glen);
    ck = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_set(ck, "k", "new"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_write_free(ck, SOMA_OK, p, &err), SOMA_OK);
    CHECK_STATUS(soma_ckpt_read(&back, p, &err), SOMA_OK);
    CHECK(back && strcmp(soma_ckpt_get(back, "k"), "new") == 0);
    soma_ckpt_free(back);
    remove(p);
    double num = 7;
    back = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_get_number(back, "absent", &num, "x", &err), SOMA_E_FORMAT);
    CHECK(num == 0);
    soma_ckpt_free(back);
    free(x);
    free(good);
    CHECK(soma_mem_used() == base);
}

/* The n-th allocation fails, for every n until the operation succeeds: each failure is a clean
 * SOMA_E_NOMEM that leaks nothing and leaves the container as it was. */
TEST(test_out_of_memory) {
    size_t base = soma_mem_used();
    float a[1], x[15], y[24], z[16];
    soma_ckpt *ck = rich(a, x, y, z);
    size_t len;
    uint8_t *b = to_bytes(ck, &len);
    char p[512];
    path_in(p, sizeof p, "oom.ckpt");
    write_bytes(p, b, len);
    soma_ckpt_free(ck);
    soma_error err = {0};

    int failures = 0;
    for (long n = 1; n < 100; n++) {
        soma_ckpt *out = NULL;
        soma_mem_fail_after(n);
        int rc = soma_ckpt_parse(&out, b, len, "mem.ckpt", &err);
        soma_mem_fail_after(0);
        if (rc == SOMA_OK) {
            check_rich(out, a, x, y, z);
            soma_ckpt_free(out);
            break;
        }
        failures++;
        CHECK_STATUS(rc, SOMA_E_NOMEM);
        CHECK(out == NULL);
        CHECK_MSG(err, "mem.ckpt: out of memory");
        CHECK(soma_mem_used() == base);
    }
    CHECK(failures >= 3);

    failures = 0;
    for (long n = 1; n < 100; n++) {
        soma_ckpt *out = NULL;
        soma_mem_fail_after(n);
        int rc = soma_ckpt_read(&out, p, &err);
        soma_mem_fail_after(0);
        if (rc == SOMA_OK) {
            soma_ckpt_free(out);
            break;
        }
        failures++;
        CHECK_STATUS(rc, SOMA_E_NOMEM);
        CHECK_MSG(err, p);
        CHECK(soma_mem_used() == base);
    }
    CHECK(failures >= 4);

    ck = soma_ckpt_create();
    CHECK_STATUS(soma_ckpt_set(ck, "k", "old"), SOMA_OK);
    CHECK_STATUS(soma_ckpt_add(ck, "t", y, 3, d3), SOMA_OK);
    soma_mem_fail_after(1);
    CHECK_STATUS(soma_ckpt_set(ck, "k", "new"), SOMA_E_NOMEM);
    soma_mem_fail_after(1);
    CHECK_STATUS(soma_ckpt_set(ck, "k2", "v"), SOMA_E_NOMEM);
    soma_mem_fail_after(2);
    CHECK_STATUS(soma_ckpt_set(ck, "k2", "v"), SOMA_E_NOMEM);
    soma_mem_fail_after(1);
    CHECK_STATUS(soma_ckpt_add(ck, "u", y, 3, d3), SOMA_E_NOMEM);
    soma_mem_fail_after(2);
    CHECK_STATUS(soma_ckpt_add(ck, "u", y, 3, d3), SOMA_E_NOMEM);
    soma_mem_fail_after(1);
    CHECK(soma_ckpt_create() == NULL);
    soma_mem_fail_after(0);
    CHECK(strcmp(soma_ckpt_get(ck, "k"), "old") == 0);
    CHECK(soma_ckpt_get(ck, "k2") == NULL && soma_ckpt_find(ck, "u", NULL) == NULL);
    int64_t n = 0;
    CHECK(soma_ckpt_find(ck, "t", &n) && n == 24);
    /* growing the tables past their first capacity, with a failure at the copy */
    char key[16];
    int rc = SOMA_OK;
    for (int i = 0; i < 40 && rc == SOMA_OK; i++) {
        snprintf(key, sizeof key, "key%d", i);
        if (i == 15) soma_mem_fail_after(3); /* the 17th entry: value, key, then a bigger table */
        rc = soma_ckpt_set(ck, key, key);
    }
    soma_mem_fail_after(0);
    CHECK_STATUS(rc, SOMA_E_NOMEM);
    CHECK(soma_ckpt_get(ck, "key14") && strcmp(soma_ckpt_get(ck, "key14"), "key14") == 0);
    CHECK(soma_ckpt_get(ck, "key15") == NULL);
    soma_ckpt_free(ck);
    remove(p);
    free(b);
    CHECK(soma_mem_used() == base);
}

int main(void) {
    const char *t = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/soma_ckpt_XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_roundtrip);
    RUN(test_api);
    RUN(test_bad_magic_and_version);
    RUN(test_checksum);
    RUN(test_truncated);
    RUN(test_malformed_fields);
    RUN(test_byte_patches);
    RUN(test_files);
    RUN(test_failed_write_keeps_old_file);
    RUN(test_out_of_memory);
    CHECK(count_tmp() == 0);
    CHECK(rmdir(dir) == 0); /* every test removed its files */
    return test_report("test_checkpoint");
}
