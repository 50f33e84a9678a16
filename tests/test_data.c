/*
 * tests/test_data.c — dataset loaders: IDX (plain and gzip), CSV, LIBSVM, slicing, and real
 * MNIST / Fashion-MNIST when scripts/fetch_*.sh have put them in cache/.
 *
 * Small files in the official formats are written into a fresh directory under /tmp; every
 * bad input is checked for its status and a fragment of its message, and every failed load
 * for a zeroed output. Allocation failures are injected to check the error paths do not leak.
 */
#include "soma/data.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char tmpdir[64];
static char made[128][512]; /* files written (stable path strings), removed at the end */
static int n_made;

/* ---- helpers ----------------------------------------------------------------------------- */

/* A path in the temporary directory, in one of 8 rotating buffers: use it at once. */
static const char *tpath(const char *name) {
    static char buf[8][512];
    static int k;
    char *p = buf[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

/* Records a written file; returns a copy of its path that stays valid until the end. */
static const char *remember(const char *path) {
    for (int i = 0; i < n_made; i++)
        if (strcmp(made[i], path) == 0) return made[i];
    if (n_made == 128) {
        fprintf(stderr, "test_data: too many temporary files\n");
        exit(1);
    }
    snprintf(made[n_made], sizeof made[0], "%s", path);
    return made[n_made++];
}

static const char *write_raw(const char *name, const void *data, size_t len) {
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f) return p;
    if (len) CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
    return remember(p);
}

static const char *write_gz(const char *name, const void *data, size_t len) {
    const char *p = tpath(name);
    gzFile g = gzopen(p, "wb");
    CHECK(g != NULL);
    if (!g) return p;
    if (len) CHECK(gzwrite(g, data, (unsigned)len) == (int)len);
    CHECK(gzclose(g) == Z_OK);
    return remember(p);
}

static size_t read_raw(const char *path, uint8_t *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

/* Builds an IDX uint8 file in buf: header for ndim dims, then the bytes of data. */
static size_t make_idx(uint8_t *buf, int ndim, const uint32_t *dims, const uint8_t *data, size_t n) {
    put32(buf, 0x0800u | (uint32_t)ndim);
    for (int i = 0; i < ndim; i++) put32(buf + 4 + 4 * i, dims[i]);
    size_t h = 4 + 4 * (size_t)ndim;
    if (n) memcpy(buf + h, data, n);
    return h + n;
}

/* A little image set: N images of R x C with pseudo-random pixels, labels i*3 % 7. */
enum { N = 12, R = 5, C = 4 };
static uint8_t pix[N * R * C], lab[N];
static uint8_t img_file[16 + N * R * C], lab_file[8 + N];
static size_t img_len, lab_len;

static void make_set(void) {
    uint32_t s = 12345;
    for (int i = 0; i < N * R * C; i++) {
        s = s * 1103515245u + 12345u;
        pix[i] = (uint8_t)(s >> 16);
    }
    pix[0] = 0, pix[1] = 255, pix[2] = 128;
    for (int i = 0; i < N; i++) lab[i] = (uint8_t)(i * 3 % 7);
    img_len = make_idx(img_file, 3, (uint32_t[]){N, R, C}, pix, sizeof pix);
    lab_len = make_idx(lab_file, 1, (uint32_t[]){N}, lab, sizeof lab);
}

static bool zeroed(const soma_dataset *d) {
    return d->n == 0 && d->dim == 0 && d->c == 0 && d->h == 0 && d->w == 0 && d->n_classes == 0 &&
           d->x == NULL && d->y == NULL;
}

static void check_set(const soma_dataset *d) {
    CHECK(d->n == N);
    CHECK(d->dim == R * C);
    CHECK(d->c == 1 && d->h == R && d->w == C);
    CHECK(d->n_classes == 7);
    int bad = 0;
    for (int i = 0; i < N * R * C; i++) bad += d->x[i] != (float)pix[i] / 255.0f;
    for (int i = 0; i < N; i++) bad += d->y[i] != lab[i];
    CHECK(bad == 0);
    CHECK(d->x[0] == 0.0f && d->x[1] == 1.0f);
    CHECK_NEAR(d->x[2], 128.0 / 255.0, 1e-7);
}

/* Runs a load expected to fail: checks status, message fragment and a zeroed output. */
#define EXPECT_FAIL(call, d, err, want, frag)                                                    \
    do {                                                                                         \
        memset(&(d), 0xAB, sizeof(d));                                                          \
        memset(&(err), 0, sizeof(err));                                                          \
        int rc_ = (call);                                                                        \
        CHECK_STATUS(rc_, want);                                                                 \
        if (rc_ != (want)) fprintf(stderr, "  got %d (%s): %s\n", rc_, soma_status_str(rc_), (err).msg); \
        CHECK_MSG(err, frag);                                                                    \
        CHECK(zeroed(&(d)));                                                                     \
    } while (0)

/* ---- IDX --------------------------------------------------------------------------------- */

TEST(idx_plain) {
    soma_dataset d;
    soma_error err = {0};
    const char *im = write_raw("img", img_file, img_len), *lb = write_raw("lab", lab_file, lab_len);
    CHECK_STATUS(soma_idx_load(&d, im, lb, &err), SOMA_OK);
    check_set(&d);
    soma_dataset_free(&d);
    CHECK(zeroed(&d));
    soma_dataset_free(NULL);
    /* the head: the first samples as floats, the classes of the whole file; 0 or more: all */
    CHECK_STATUS(soma_idx_load_head(&d, im, lb, 2, &err), SOMA_OK);
    CHECK(d.n == 2 && d.dim == R * C && d.n_classes == 7);
    CHECK(memcmp(d.y, (int32_t[]){lab[0], lab[1]}, sizeof(int32_t) * 2) == 0);
    CHECK(d.x[1] == 1.0f && d.x[2 * R * C - 1] == (float)pix[2 * R * C - 1] / 255.0f);
    soma_dataset_free(&d);
    for (int64_t m = 0; m <= N + 1; m += N + 1) {
        CHECK_STATUS(soma_idx_load_head(&d, im, lb, m, &err), SOMA_OK);
        check_set(&d);
        soma_dataset_free(&d);
    }
}

TEST(idx_gzip) {
    soma_dataset d;
    soma_error err = {0};
    const char *im = write_gz("img.gz", img_file, img_len), *lb = write_gz("lab.gz", lab_file, lab_len);
    CHECK_STATUS(soma_idx_load(&d, im, lb, &err), SOMA_OK);
    check_set(&d);
    soma_dataset_free(&d);

    /* gzip is recognised by content, not name; and concatenated members are one stream */
    uint8_t a[4096], b[4096], cat[8192];
    write_gz("half1", img_file, 100);
    write_gz("half2", img_file + 100, img_len - 100);
    size_t na = read_raw(tpath("half1"), a, sizeof a), nb = read_raw(tpath("half2"), b, sizeof b);
    memcpy(cat, a, na);
    memcpy(cat + na, b, nb);
    im = write_raw("img_cat", cat, na + nb);
    CHECK_STATUS(soma_idx_load(&d, im, lb, &err), SOMA_OK);
    check_set(&d);
    soma_dataset_free(&d);

    /* soma_read_file: bytes round-trip, NUL past the end, an empty gzip is an empty buffer */
    uint8_t *buf;
    size_t len;
    CHECK_STATUS(soma_read_file(&buf, &len, im, 1 << 20, &err), SOMA_OK);
    CHECK(len == img_len && memcmp(buf, img_file, len) == 0 && buf[len] == 0);
    soma_free(buf);
    CHECK_STATUS(soma_read_file(&buf, &len, write_gz("empty.gz", "", 0), 100, &err), SOMA_OK);
    CHECK(len == 0 && buf != NULL);
    soma_free(buf);
}

TEST(idx_parse_errors) {
    soma_idx idx;
    soma_error err = {0};
    uint8_t b[256];
    size_t n;

    CHECK_STATUS(soma_idx_parse(&idx, img_file, img_len, "ok", &err), SOMA_OK);
    CHECK(idx.ndim == 3 && idx.dims[0] == N && idx.dims[1] == R && idx.dims[2] == C);
    CHECK(idx.data == img_file + 16);

    CHECK_STATUS(soma_idx_parse(&idx, b, 0, "e.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "e.idx: empty file");
    CHECK_STATUS(soma_idx_parse(&idx, img_file, 3, "t.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "truncated header");
    CHECK_STATUS(soma_idx_parse(&idx, img_file, 10, "t.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "truncated header: 10 bytes, expected 16");

    memcpy(b, "\x12\x34\x56\x78 and more", 14);
    CHECK_STATUS(soma_idx_parse(&idx, b, 14, "m.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "m.idx: bad magic 0x12345678");
    CHECK_MSG(err, "is this an IDX file?");
    memcpy(b, "\x1f\x8b\x08\x00", 4);
    CHECK_STATUS(soma_idx_parse(&idx, b, 14, "g.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "gzip");
    n = make_idx(b, 1, (uint32_t[]){4}, (const uint8_t *)"abcd", 4);
    b[2] = 0x0D;
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "f.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "float32");
    b[2] = 0x08, b[3] = 0;
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "d.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "0 dimensions");
    b[3] = 5;
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "d.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "5 dimensions");

    n = make_idx(b, 2, (uint32_t[]){0, 3}, NULL, 0);
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "z.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "dimension 0 (byte offset 4) is 0");
    n = make_idx(b, 1, (uint32_t[]){200000000u}, NULL, 0);
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "big.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "more than the limit");
    n = make_idx(b, 3, (uint32_t[]){100000000u, 100, 100}, NULL, 0);
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "big.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "more than 4294967296 bytes");
    n = make_idx(b, 4, (uint32_t[]){0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}, NULL, 0);
    CHECK_STATUS(soma_idx_parse(&idx, b, n, "big.idx", &err), SOMA_E_FORMAT);

    CHECK_STATUS(soma_idx_parse(&idx, img_file, img_len - 1, "cut.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "cut.idx: truncated data");
    CHECK_MSG(err, "promises 240 bytes");
    uint8_t longer[sizeof img_file + 3];
    memcpy(longer, img_file, img_len);
    memcpy(longer + img_len, "xyz", 3);
    CHECK_STATUS(soma_idx_parse(&idx, longer, img_len + 3, "long.idx", &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "3 trailing garbage bytes at byte offset 256");
}

TEST(idx_load_errors) {
    soma_dataset d;
    soma_error err;
    const char *im = write_raw("img", img_file, img_len), *lb = write_raw("lab", lab_file, lab_len);

    EXPECT_FAIL(soma_idx_load(&d, tpath("nope"), lb, &err), d, err, SOMA_E_IO, "cannot open");
    CHECK_MSG(err, "nope");
    EXPECT_FAIL(soma_idx_load(&d, im, tpath("nope"), &err), d, err, SOMA_E_IO, "No such file");
    EXPECT_FAIL(soma_idx_load(&d, tmpdir, lb, &err), d, err, SOMA_E_IO, "read failed");
    EXPECT_FAIL(soma_idx_load(&d, lb, im, &err), d, err, SOMA_E_FORMAT,
                "(expected 0x00000803, 3: count x rows x cols); is this an IDX image file?");
    EXPECT_FAIL(soma_idx_load(&d, im, im, &err), d, err, SOMA_E_FORMAT, "is this an IDX label file?");

    uint8_t b[4096];
    memcpy(b, img_file, img_len);
    put32(b, 0x00000903);
    EXPECT_FAIL(soma_idx_load(&d, write_raw("bad_magic", b, img_len), lb, &err), d, err, SOMA_E_FORMAT,
                "bad magic 0x00000903 at byte offset 0 (expected 0x00000803); is this an IDX image file?");
    EXPECT_FAIL(soma_idx_load(&d, write_raw("empty", "", 0), lb, &err), d, err, SOMA_E_FORMAT,
                "empty file");
    EXPECT_FAIL(soma_idx_load(&d, write_raw("hdr", img_file, 7), lb, &err), d, err, SOMA_E_FORMAT,
                "truncated header");
    EXPECT_FAIL(soma_idx_load(&d, write_raw("cut", img_file, img_len - 5), lb, &err), d, err,
                SOMA_E_FORMAT, "truncated data");
    memcpy(b, img_file, img_len);
    b[img_len] = 0;
    EXPECT_FAIL(soma_idx_load(&d, write_raw("trail", b, img_len + 1), lb, &err), d, err,
                SOMA_E_FORMAT, "trailing garbage");

    /* count mismatch: 11 labels for 12 images */
    size_t n = make_idx(b, 1, (uint32_t[]){N - 1}, lab, N - 1);
    EXPECT_FAIL(soma_idx_load(&d, im, write_raw("lab11", b, n), &err), d, err, SOMA_E_FORMAT,
                "count mismatch");
    CHECK_MSG(err, "12 images");
    CHECK_MSG(err, "11 labels");

    /* oversized header in a small file */
    n = make_idx(b, 3, (uint32_t[]){60000, 100000, 100000}, NULL, 0);
    EXPECT_FAIL(soma_idx_load(&d, write_raw("huge", b, n), lb, &err), d, err, SOMA_E_FORMAT,
                "limit");

    /* corrupt, truncated and trailing-garbage gzip */
    const char *gz = write_gz("img.gz", img_file, img_len);
    size_t gl = read_raw(gz, b, sizeof b);
    CHECK(gl > 40);
    uint8_t c[4096];
    memcpy(c, b, gl);
    for (size_t i = 12; i < 30; i++) c[i] ^= 0x5a;
    EXPECT_FAIL(soma_idx_load(&d, write_raw("corrupt.gz", c, gl), lb, &err), d, err, SOMA_E_FORMAT,
                "corrupt gzip data");
    memcpy(c, b, gl);
    c[gl - 6] ^= 1; /* CRC */
    EXPECT_FAIL(soma_idx_load(&d, write_raw("crc.gz", c, gl), lb, &err), d, err, SOMA_E_FORMAT,
                "corrupt gzip");
    EXPECT_FAIL(soma_idx_load(&d, write_raw("cut.gz", b, gl - 5), lb, &err), d, err, SOMA_E_FORMAT,
                "truncated gzip stream");
    EXPECT_FAIL(soma_idx_load(&d, write_raw("cut2.gz", b, 11), lb, &err), d, err, SOMA_E_FORMAT,
                "truncated gzip stream");
    memcpy(c, b, gl);
    memcpy(c + gl, "junk", 4);
    EXPECT_FAIL(soma_idx_load(&d, write_raw("trail.gz", c, gl + 4), lb, &err), d, err, SOMA_E_FORMAT,
                "trailing garbage at compressed byte offset");
    /* a gzip whose content is a truncated IDX file */
    EXPECT_FAIL(soma_idx_load(&d, write_gz("cutidx.gz", img_file, img_len - 1), lb, &err), d, err,
                SOMA_E_FORMAT, "truncated data");

    /* size bounds of soma_read_file, plain and compressed */
    uint8_t *buf = (uint8_t *)1;
    size_t len = 99;
    CHECK_STATUS(soma_read_file(&buf, &len, im, 100, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "more than the limit of 100");
    CHECK(buf == NULL && len == 0);
    CHECK_STATUS(soma_read_file(&buf, &len, gz, 100, &err), SOMA_E_FORMAT);
    CHECK_MSG(err, "decompresses to more than 100 bytes");
    CHECK(buf == NULL && len == 0);
    CHECK_STATUS(soma_read_file(&buf, &len, im, img_len, &err), SOMA_OK);
    soma_free(buf);
    CHECK_STATUS(soma_read_file(&buf, &len, gz, img_len, &err), SOMA_OK);
    soma_free(buf);
    CHECK_STATUS(soma_read_file(&buf, &len, tpath("nope"), 100, &err), SOMA_E_IO);
}

TEST(mnist_dir) {
    soma_dataset d;
    soma_error err;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/mn", tmpdir);
    CHECK(mkdir(dir, 0700) == 0);
    write_gz("mn/train-images-idx3-ubyte.gz", img_file, img_len);
    write_raw("mn/train-labels-idx1-ubyte", lab_file, lab_len);
    memset(&err, 0, sizeof err);
    CHECK_STATUS(soma_mnist_load(&d, dir, true, &err), SOMA_OK);
    check_set(&d);
    soma_dataset_free(&d);
    EXPECT_FAIL(soma_mnist_load(&d, dir, false, &err), d, err, SOMA_E_IO,
                "neither t10k-images-idx3-ubyte nor t10k-images-idx3-ubyte.gz");
    write_raw("mn/t10k-images-idx3-ubyte", img_file, img_len);
    EXPECT_FAIL(soma_mnist_load(&d, dir, false, &err), d, err, SOMA_E_IO, "t10k-labels-idx1-ubyte");
}

/* ---- CSV --------------------------------------------------------------------------------- */

TEST(csv_good) {
    soma_dataset d;
    soma_error err = {0};
    const char *t = "\xEF\xBB\xBF" "a, b ,label\r\n0.5,-1e-3,2\r\n\r\n 3 ,4,0\n1,2,1";
    CHECK_STATUS(soma_csv_parse(&d, t, strlen(t), -1, "h.csv", &err), SOMA_OK);
    CHECK(d.n == 3 && d.dim == 2 && d.c == 1 && d.h == 1 && d.w == 2 && d.n_classes == 3);
    CHECK_NEAR(d.x[0], 0.5, 0) ;
    CHECK_NEAR(d.x[1], -1e-3, 1e-9);
    CHECK(d.x[2] == 3.0f && d.x[3] == 4.0f && d.x[4] == 1.0f && d.x[5] == 2.0f);
    CHECK(d.y[0] == 2 && d.y[1] == 0 && d.y[2] == 1);
    soma_dataset_free(&d);

    t = "7,0.25,0.75\n1,1,0\n";
    CHECK_STATUS(soma_csv_parse(&d, t, strlen(t), 0, "n.csv", &err), SOMA_OK);
    CHECK(d.n == 2 && d.dim == 2 && d.n_classes == 8);
    CHECK(d.y[0] == 7 && d.y[1] == 1 && d.x[0] == 0.25f && d.x[1] == 0.75f && d.x[3] == 0.0f);
    soma_dataset_free(&d);

    /* from disk, gzipped */
    const char *p = write_gz("d.csv.gz", t, strlen(t));
    CHECK_STATUS(soma_csv_load(&d, p, 0, &err), SOMA_OK);
    CHECK(d.n == 2 && d.y[0] == 7);
    soma_dataset_free(&d);
}

#define CSV_FAIL(text, col, want, frag)                                                          \
    EXPECT_FAIL(soma_csv_parse(&d, text, strlen(text), col, "t.csv", &err), d, err, want, frag)

TEST(csv_bad) {
    soma_dataset d;
    soma_error err;
    CSV_FAIL("", -1, SOMA_E_FORMAT, "t.csv: empty file");
    CSV_FAIL("\n \n\r\n", -1, SOMA_E_FORMAT, "empty file");
    CSV_FAIL("x,y,label\n", -1, SOMA_E_FORMAT, "no data rows after the header on line 1");
    CSV_FAIL("1,2,3\n4,5\n", -1, SOMA_E_FORMAT, "t.csv:2: 2 fields, expected 3 as on line 1");
    CSV_FAIL("a,b,c\n1,2,3\n4,5,6,7\n", -1, SOMA_E_FORMAT, "t.csv:3: 4 fields");
    CSV_FAIL("1,2,3\n4,abc,6\n", -1, SOMA_E_FORMAT, "t.csv:2: field 2: \"abc\" is not a number");
    CSV_FAIL("1,2,3\n4,5x,6\n", -1, SOMA_E_FORMAT, "\"5x\" is not a number");
    CSV_FAIL("1,2,3\n4,,6\n", -1, SOMA_E_FORMAT, "t.csv:2: field 2 is empty");
    CSV_FAIL("1,2,3\n4,5,6,\n", -1, SOMA_E_FORMAT, "4 fields");
    CSV_FAIL("1,nan,3\n", -1, SOMA_E_FORMAT, "t.csv:1: field 2: \"nan\" is NaN");
    CSV_FAIL("1,2,3\n-inf,5,6\n", -1, SOMA_E_FORMAT, "is infinite");
    CSV_FAIL("1,2,3\n1e999,5,6\n", -1, SOMA_E_FORMAT, "out of range");
    CSV_FAIL("1,2,3\n1e39,5,6\n", -1, SOMA_E_FORMAT, "out of range for a 32-bit float");
    CSV_FAIL("1,2,3\n4,5,2.5\n", -1, SOMA_E_FORMAT, "t.csv:2: label (field 3): \"2.5\" is not an integer");
    CSV_FAIL("1,2,3\n4,5,-1\n", -1, SOMA_E_FORMAT, "label (field 3) is -1");
    CSV_FAIL("1,2,99999999\n", -1, SOMA_E_FORMAT, "expected an integer class in [0, 65535]");
    CSV_FAIL("1,2,3\n", 3, SOMA_E_ARG, "label column 3 is out of range (the file has 3 columns");
    CSV_FAIL("1,2,3\n", -2, SOMA_E_ARG, "label column -2");
    CSV_FAIL("1\n2\n", -1, SOMA_E_FORMAT, "only one column");
    CSV_FAIL("1,2,3\n4,5\x01,6\n", -1, SOMA_E_FORMAT, "\"5?\" is not a number");
    static const char nul[] = "1,2,3\n4,5\0,6\n";
    EXPECT_FAIL(soma_csv_parse(&d, nul, sizeof nul - 1, -1, "t.csv", &err), d, err, SOMA_E_FORMAT,
                "t.csv:2: field 2");
    EXPECT_FAIL(soma_csv_load(&d, tpath("nope.csv"), -1, &err), d, err, SOMA_E_IO, "nope.csv: cannot open");
    EXPECT_FAIL(soma_csv_load(&d, write_raw("e.csv", "", 0), -1, &err), d, err, SOMA_E_FORMAT,
                "e.csv: empty file");
}

/* ---- LIBSVM ------------------------------------------------------------------------------- */

TEST(libsvm_good) {
    soma_dataset d;
    soma_error err = {0};
    const char *t = "+1 1:0.5 3:2\n\n-1 2:1\r\n-1\n";
    CHECK_STATUS(soma_libsvm_parse(&d, t, strlen(t), 0, "b.svm", &err), SOMA_OK);
    CHECK(d.n == 3 && d.dim == 3 && d.c == 1 && d.h == 1 && d.w == 3 && d.n_classes == 2);
    CHECK(d.y[0] == 1 && d.y[1] == 0 && d.y[2] == 0);
    const float want[9] = {0.5f, 0, 2, 0, 1, 0, 0, 0, 0};
    CHECK(memcmp(d.x, want, sizeof want) == 0);
    soma_dataset_free(&d);

    t = "# made by hand\n0 1:1\t4:-2.5 # a comment\n2  2:3\n1\n";
    CHECK_STATUS(soma_libsvm_parse(&d, t, strlen(t), 6, "m.svm", &err), SOMA_OK);
    CHECK(d.n == 3 && d.dim == 6 && d.n_classes == 3);
    CHECK(d.y[0] == 0 && d.y[1] == 2 && d.y[2] == 1);
    CHECK(d.x[0] == 1.0f && d.x[3] == -2.5f && d.x[6 + 1] == 3.0f && d.x[12 + 5] == 0.0f);
    soma_dataset_free(&d);

    const char *p = write_raw("m.svm", t, strlen(t));
    CHECK_STATUS(soma_libsvm_load(&d, p, 0, &err), SOMA_OK);
    CHECK(d.n == 3 && d.dim == 4);
    soma_dataset_free(&d);
}

#define SVM_FAIL(text, dim, want, frag)                                                          \
    EXPECT_FAIL(soma_libsvm_parse(&d, text, strlen(text), dim, "t.svm", &err), d, err, want, frag)

TEST(libsvm_bad) {
    soma_dataset d;
    soma_error err;
    SVM_FAIL("", 0, SOMA_E_FORMAT, "t.svm: empty file");
    SVM_FAIL("1 3:1 2:1\n", 0, SOMA_E_FORMAT, "t.svm:1: index 2 after index 3 (expected strictly increasing");
    SVM_FAIL("1 1:1\n1 2:1 2:1\n", 0, SOMA_E_FORMAT, "t.svm:2: index 2 after index 2");
    SVM_FAIL("1 0:1\n", 0, SOMA_E_FORMAT, "index 0 (expected >= 1: LIBSVM indices are 1-based)");
    SVM_FAIL("1 -3:1\n", 0, SOMA_E_FORMAT, "index -3");
    SVM_FAIL("1 1:1 9:1\n", 8, SOMA_E_FORMAT, "t.svm:1: index 9 is larger than the dimension 8");
    SVM_FAIL("1 1:1\n-1 2:1\n2 1:1\n", 0, SOMA_E_FORMAT,
             "t.svm:2: label -1 is only allowed in a -1/+1 binary file, but line 3 has label 2");
    SVM_FAIL("0 1:1\n-1 2:1\n", 0, SOMA_E_FORMAT, "line 1 has label 0");
    SVM_FAIL("-2 1:1\n", 0, SOMA_E_FORMAT, "t.svm:1: negative label -2");
    SVM_FAIL("1.5 1:1\n", 0, SOMA_E_FORMAT, "label: \"1.5\" is not an integer");
    SVM_FAIL("1 1:1\n2 5\n", 0, SOMA_E_FORMAT, "t.svm:2: \"5\" is not index:value");
    SVM_FAIL("1 x:1\n", 0, SOMA_E_FORMAT, "is not an integer");
    SVM_FAIL("1 1:abc\n", 0, SOMA_E_FORMAT, "value of index 1: \"abc\" is not a number");
    SVM_FAIL("1 1:\n", 0, SOMA_E_FORMAT, "value of index 1 is empty");
    SVM_FAIL("1 1:NaN\n", 0, SOMA_E_FORMAT, "NaN");
    SVM_FAIL("1 1:inf\n", 0, SOMA_E_FORMAT, "infinite");
    SVM_FAIL("1\n0\n", 0, SOMA_E_FORMAT, "no line has any index:value feature");
    SVM_FAIL("1 1:1\n", -1, SOMA_E_ARG, "dim -1");
    SVM_FAIL("1 2000000000:1\n", 0, SOMA_E_FORMAT, "more than the limit");
    SVM_FAIL("1 99999999999:1\n", 0, SOMA_E_FORMAT, "too large");
    SVM_FAIL("70000 1:1\n", 0, SOMA_E_FORMAT, "label 70000 is too large");
    EXPECT_FAIL(soma_libsvm_load(&d, tpath("nope.svm"), 0, &err), d, err, SOMA_E_IO, "cannot open");
}

/* ---- slicing, allocation failures --------------------------------------------------------- */

TEST(slice) {
    soma_dataset d, s;
    soma_error err = {0};
    const char *t = "0,0,0\n1,1,1\n2,2,2\n3,3,9\n";
    CHECK_STATUS(soma_csv_parse(&d, t, strlen(t), -1, "s.csv", &err), SOMA_OK);
    CHECK(d.n_classes == 10);
    CHECK_STATUS(soma_dataset_slice(&s, &d, 1, 2, &err), SOMA_OK);
    CHECK(s.n == 2 && s.dim == 2 && s.n_classes == 10 && s.w == 2);
    CHECK(s.x[0] == 1.0f && s.x[3] == 2.0f && s.y[0] == 1 && s.y[1] == 2);
    soma_dataset_free(&s);
    CHECK_STATUS(soma_dataset_slice(&s, &d, 4, 0, &err), SOMA_OK);
    CHECK(s.n == 0 && s.x == NULL && s.dim == 2);
    soma_dataset_free(&s);
    EXPECT_FAIL(soma_dataset_slice(&s, &d, 3, 2, &err), s, err, SOMA_E_ARG,
                "slice [3, 5) is out of range: the dataset has 4 samples");
    EXPECT_FAIL(soma_dataset_slice(&s, &d, -1, 1, &err), s, err, SOMA_E_ARG, "out of range");
    CHECK_STATUS(soma_dataset_slice(&d, &d, 0, 1, &err), SOMA_E_ARG);
    CHECK(d.n == 4);
    soma_dataset_free(&d);
}

TEST(alloc_failures) {
    const char *im = write_gz("img.gz", img_file, img_len), *lb = write_raw("lab", lab_file, lab_len);
    const char *csv = "a,b,c\n1,2,3\n4,5,6\n", *svm = "1 1:1\n0 3:2\n";
    size_t base = soma_mem_used();
    int ok = 0, nomem = 0, other = 0;
    for (int which = 0; which < 4; which++)
        for (long k = 1; k <= 8; k++) {
            soma_dataset d, s;
            soma_error err = {0};
            int rc;
            memset(&d, 0xAB, sizeof d);
            soma_mem_fail_after(k);
            if (which == 0) rc = soma_idx_load(&d, im, lb, &err);
            else if (which == 1) rc = soma_csv_parse(&d, csv, strlen(csv), -1, "c", &err);
            else if (which == 2) rc = soma_libsvm_parse(&d, svm, strlen(svm), 0, "s", &err);
            else {
                soma_mem_fail_after(0);
                rc = soma_csv_parse(&d, csv, strlen(csv), -1, "c", &err);
                soma_mem_fail_after(k);
                if (rc == SOMA_OK) {
                    rc = soma_dataset_slice(&s, &d, 0, 1, &err);
                    if (rc == SOMA_OK) soma_dataset_free(&s);
                    else CHECK(zeroed(&s));
                    soma_dataset_free(&d);
                }
            }
            soma_mem_fail_after(0);
            if (rc == SOMA_OK) {
                ok++;
                if (which < 3) soma_dataset_free(&d);
            } else if (rc == SOMA_E_NOMEM) {
                nomem++;
                CHECK(which == 3 || zeroed(&d));
            } else {
                other++;
                fprintf(stderr, "unexpected %d: %s\n", rc, err.msg);
            }
            CHECK(soma_mem_used() == base);
        }
    CHECK(ok > 0 && nomem > 0 && other == 0);
}

/* ---- real data ---------------------------------------------------------------------------- */

static bool have_dir(const char *d) {
    struct stat st;
    return stat(d, &st) == 0 && S_ISDIR(st.st_mode);
}

static void class_counts(const soma_dataset *d, int64_t counts[10]) {
    memset(counts, 0, 10 * sizeof *counts);
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] >= 0 && d->y[i] < 10) counts[d->y[i]]++;
}

TEST(real_mnist) {
    if (!have_dir("cache/mnist")) {
        printf("skip real_mnist: cache/mnist is absent (scripts/fetch_mnist.sh)\n");
        return;
    }
    soma_dataset tr, te;
    soma_error err = {0};
    int rc = soma_mnist_load(&tr, "cache/mnist", true, &err);
    CHECK_STATUS(rc, SOMA_OK);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(tr.n == 60000 && tr.dim == 784 && tr.h == 28 && tr.w == 28 && tr.c == 1);
    CHECK(tr.n_classes == 10);
    const int32_t first[10] = {5, 0, 4, 1, 9, 2, 1, 3, 1, 4};
    CHECK(memcmp(tr.y, first, sizeof first) == 0);
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < tr.n * tr.dim; i++) {
        if (tr.x[i] < lo) lo = tr.x[i];
        if (tr.x[i] > hi) hi = tr.x[i];
    }
    CHECK(lo == 0.0f && hi == 1.0f);
    soma_dataset_free(&tr);

    CHECK_STATUS(soma_mnist_load(&te, "cache/mnist", false, &err), SOMA_OK);
    CHECK(te.n == 10000 && te.dim == 784 && te.n_classes == 10);
    const int64_t want[10] = {980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009};
    int64_t got[10];
    class_counts(&te, got);
    CHECK(memcmp(got, want, sizeof want) == 0);
    soma_dataset_free(&te);
}

TEST(real_fashion_mnist) {
    if (!have_dir("cache/fashion-mnist")) {
        printf("skip real_fashion_mnist: cache/fashion-mnist is absent (scripts/fetch_fashion_mnist.sh)\n");
        return;
    }
    soma_dataset tr, te;
    soma_error err = {0};
    int rc = soma_mnist_load(&tr, "cache/fashion-mnist", true, &err);
    CHECK_STATUS(rc, SOMA_OK);
    if (rc) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(tr.n == 60000 && tr.dim == 784 && tr.n_classes == 10);
    int64_t got[10];
    class_counts(&tr, got);
    int bad = 0;
    for (int k = 0; k < 10; k++) bad += got[k] != 6000;
    CHECK(bad == 0);
    soma_dataset_free(&tr);
    CHECK_STATUS(soma_mnist_load(&te, "cache/fashion-mnist", false, &err), SOMA_OK);
    CHECK(te.n == 10000 && te.dim == 784);
    class_counts(&te, got);
    bad = 0;
    for (int k = 0; k < 10; k++) bad += got[k] != 1000;
    CHECK(bad == 0);
    soma_dataset_free(&te);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma_test_data_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    make_set();
    size_t base = soma_mem_used();
    RUN(idx_plain);
    RUN(idx_gzip);
    RUN(idx_parse_errors);
    RUN(idx_load_errors);
    RUN(mnist_dir);
    RUN(csv_good);
    RUN(csv_bad);
    RUN(libsvm_good);
    RUN(libsvm_bad);
    RUN(slice);
    RUN(alloc_failures);
    RUN(real_mnist);
    RUN(real_fashion_mnist);
    CHECK(soma_mem_used() == base); /* every loader freed what it did not hand out */
    for (int i = n_made - 1; i >= 0; i--) unlink(made[i]);
    rmdir(tpath("mn"));
    rmdir(tmpdir);
    return test_report("test_data");
}
