/*
 * tests/test_conv_data.c — the image and event dataset loaders on small files this test writes
 * in the official formats (CIFAR-10/100 binary version, N-MNIST's 40-bit events, AEDAT 2.0 as
 * in CIFAR10-DVS), good and corrupt: values, labels, shapes, the binning of events into
 * frames by count and by time, directory layouts, and the messages of every rejection.
 */
#include "soma.h"
#include "test.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[256];

static void write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void mkdirs(const char *path) {
    char p[512];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') *s = '\0', mkdir(p, 0755), *s = '/';
    mkdir(p, 0755);
}

/* ---- CIFAR ------------------------------------------------------------------------------- */

/* n records of CIFAR-10 (classes 10) or CIFAR-100 (labels: coarse = label / 5, fine = label). */
static uint8_t *cifar_records(int n, int classes, const int *labels, size_t *len) {
    const size_t lab = classes == 10 ? 1 : 2, rec = lab + 3072;
    uint8_t *b = malloc(rec * (size_t)n);
    for (int i = 0; i < n; i++) {
        uint8_t *r = b + rec * (size_t)i;
        if (lab == 1) r[0] = (uint8_t)labels[i];
        else r[0] = (uint8_t)(labels[i] / 5), r[1] = (uint8_t)labels[i];
        for (int k = 0; k < 3072; k++) r[lab + (size_t)k] = (uint8_t)((k * 7 + i * 13) & 255);
    }
    *len = rec * (size_t)n;
    return b;
}

TEST(cifar) {
    const int labels[3] = {0, 9, 3};
    size_t len;
    uint8_t *b = cifar_records(3, 10, labels, &len);
    soma_dataset d;
    soma_error e = {0};
    CHECK(soma_cifar_parse(&d, b, len, 10, false, "mem", &e) == SOMA_OK);
    CHECK(d.n == 3 && d.dim == 3072 && d.c == 3 && d.h == 32 && d.w == 32 && d.n_classes == 10);
    CHECK(d.y[0] == 0 && d.y[1] == 9 && d.y[2] == 3);
    /* red plane first, then green, then blue, each row-major: pixel (c, y, x) = byte c·1024 + y·32 + x */
    CHECK_NEAR(d.x[3072 + 1024 + 33], (double)(((1024 + 33) * 7 + 13) & 255) / 255.0, 1e-6);
    soma_dataset_free(&d);
    /* truncated, bad label, wrong version */
    CHECK(soma_cifar_parse(&d, b, len - 1, 10, false, "trunc", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "whole number of 3073-byte records");
    b[3073] = 10;
    CHECK(soma_cifar_parse(&d, b, len, 10, false, "lab", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "record 1 at byte offset 3073: label 10 is out of range");
    const uint8_t pickle[4] = {0x80, 0x02, 0x7d, 0x71};
    CHECK(soma_cifar_parse(&d, pickle, 4, 10, false, "py", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "Python (pickle) version");
    CHECK(soma_cifar_parse(&d, b, 0, 10, false, "empty", &e) == SOMA_E_FORMAT);
    free(b);
    /* CIFAR-100: fine labels by default, coarse on request; out-of-range fine label */
    const int l100[2] = {99, 42};
    b = cifar_records(2, 100, l100, &len);
    CHECK(soma_cifar_parse(&d, b, len, 100, false, "c100", &e) == SOMA_OK);
    CHECK(d.n == 2 && d.y[0] == 99 && d.y[1] == 42);
    soma_dataset_free(&d);
    CHECK(soma_cifar_parse(&d, b, len, 100, true, "c100", &e) == SOMA_OK);
    CHECK(d.y[0] == 19 && d.y[1] == 8);
    soma_dataset_free(&d);
    b[3074 + 1] = 100;
    CHECK(soma_cifar_parse(&d, b, len, 100, false, "c100", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "label 100 is out of range (expected 0..99)");
    free(b);
    /* the loader: five training batches and the test batch in cifar-10-batches-bin/ */
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/cifar/cifar-10-batches-bin", tmpdir);
    mkdirs(dir);
    for (int i = 1; i <= 5; i++) {
        const int ls[2] = {i, i + 1};
        b = cifar_records(2, 10, ls, &len);
        snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, i);
        write_file(path, b, len);
        free(b);
    }
    b = cifar_records(3, 10, labels, &len);
    snprintf(path, sizeof path, "%s/test_batch.bin", dir);
    write_file(path, b, len);
    free(b);
    snprintf(dir, sizeof dir, "%s/cifar", tmpdir);
    CHECK(soma_cifar_load(&d, dir, 10, false, true, &e) == SOMA_OK);
    CHECK(d.n == 10 && d.y[0] == 1 && d.y[9] == 6 && d.n_classes == 7);
    soma_dataset_free(&d);
    CHECK(soma_cifar_load(&d, dir, 10, false, false, &e) == SOMA_OK);
    CHECK(d.n == 3 && d.y[1] == 9);
    soma_dataset_free(&d);
    CHECK(soma_cifar_load(&d, tmpdir, 100, false, true, &e) == SOMA_E_IO);
    CHECK_MSG(e, "train.bin");
    CHECK_MSG(e, "binary version");
}

/* ---- events ------------------------------------------------------------------------------ */

TEST(binning) {
    soma_event ev[10];
    for (int i = 0; i < 10; i++) ev[i] = (soma_event){(int64_t)i * i, (uint16_t)(i % 4), (uint16_t)(i / 4), (uint8_t)(i & 1)};
    float f[4 * 2 * 4 * 4];
    /* by count: slices [0,2) [2,5) [5,7) [7,10) */
    soma_events_to_frames(f, ev, 10, 4, 4, 4, 1, SOMA_BIN_COUNT);
    double per[4] = {0};
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 32; i++) per[t] += f[t * 32 + i];
    CHECK(per[0] == 2 && per[1] == 3 && per[2] == 2 && per[3] == 3);
    CHECK(f[3 * 32 + 16 + 2 * 4 + 1] == 1); /* event 9: slice 3, p 1, x 1, y 2 */
    /* by time: t = i², span 81, slices of 20.25 µs: t 0,1,4,9,16 | 25,36 | 49 | 64,81 */
    soma_events_to_frames(f, ev, 10, 4, 4, 4, 1, SOMA_BIN_TIME);
    for (int t = 0; t < 4; t++) {
        per[t] = 0;
        for (int i = 0; i < 32; i++) per[t] += f[t * 32 + i];
    }
    CHECK(per[0] == 5 && per[1] == 2 && per[2] == 1 && per[3] == 2);
    /* pooling 2x2 sums four pixels */
    float g[1 * 2 * 2 * 2];
    soma_events_to_frames(g, ev, 10, 1, 4, 4, 2, SOMA_BIN_COUNT);
    double s = 0;
    for (int i = 0; i < 8; i++) s += g[i];
    CHECK(s == 10);
}

/* N-MNIST's 40-bit event. */
static void nm_event(uint8_t *b, int x, int y, int p, int t) {
    b[0] = (uint8_t)x, b[1] = (uint8_t)y, b[2] = (uint8_t)(p << 7 | ((t >> 16) & 0x7f));
    b[3] = (uint8_t)(t >> 8), b[4] = (uint8_t)t;
}

TEST(nmnist) {
    uint8_t b[5 * 6];
    for (int i = 0; i < 6; i++) nm_event(b + 5 * i, 33 - i, i, i & 1, 100000 * i + 70000);
    soma_event *ev = NULL;
    int64_t n = 0;
    soma_error e = {0};
    CHECK(soma_nmnist_parse(&ev, &n, b, sizeof b, "mem", &e) == SOMA_OK);
    CHECK(n == 6 && ev[5].x == 28 && ev[5].y == 5 && ev[5].p == 1 && ev[5].t == 570000 && ev[0].p == 0);
    soma_free(ev);
    CHECK(soma_nmnist_parse(&ev, &n, b, sizeof b - 2, "trunc", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "whole number of 5-byte");
    b[5 * 2] = 34;
    CHECK(soma_nmnist_parse(&ev, &n, b, sizeof b, "bad", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "event 2 at byte offset 10: pixel (34, 2) is outside");
    b[5 * 2] = 31;
    /* the loader: Train/<digit>/, one or two samples per digit */
    char dir[512], path[600];
    for (int k = 0; k < 10; k++) {
        snprintf(dir, sizeof dir, "%s/nmnist/Train/%d", tmpdir, k);
        mkdirs(dir);
        for (int j = 0; j < (k == 3 ? 2 : 1); j++) {
            snprintf(path, sizeof path, "%s/%05d.bin", dir, 10 * k + j);
            write_file(path, b, sizeof b - 5 * (size_t)(k % 2));
        }
    }
    snprintf(dir, sizeof dir, "%s/nmnist", tmpdir);
    soma_dataset d;
    CHECK(soma_nmnist_load(&d, dir, true, 3, SOMA_BIN_COUNT, 0, &e) == SOMA_OK);
    CHECK(d.n == 11 && d.frames == 3 && d.c == 2 && d.h == 34 && d.dim == 3 * 2 * 34 * 34);
    CHECK(d.y[3] == 3 && d.y[4] == 3 && d.y[10] == 9 && d.n_classes == 10);
    double s0 = 0, s1 = 0;
    for (int i = 0; i < d.dim; i++) s0 += d.x[i], s1 += d.x[d.dim + i];
    CHECK(s0 == 6 && s1 == 5); /* digit 0: six events, digit 1: five */
    soma_dataset_free(&d);
    CHECK(soma_nmnist_load(&d, dir, true, 3, SOMA_BIN_TIME, 4, &e) == SOMA_OK);
    CHECK(d.n == 4);
    soma_dataset_free(&d);
    CHECK(soma_nmnist_load(&d, dir, false, 3, SOMA_BIN_COUNT, 0, &e) == SOMA_E_IO);
    CHECK_MSG(e, "Test/0");
    CHECK_MSG(e, "n-mnist");
    /* a corrupt sample names its file */
    snprintf(path, sizeof path, "%s/nmnist/Train/7/00099.bin", tmpdir);
    write_file(path, b, 7);
    CHECK(soma_nmnist_load(&d, dir, true, 3, SOMA_BIN_COUNT, 0, &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "00099.bin");
}

/* An AEDAT 2.0 event of a DVS128 at raw (xr, yr, pr). */
static void ae_event(uint8_t *b, int xr, int yr, int pr, uint32_t t) {
    uint32_t a = (uint32_t)(yr << 8 | xr << 1 | pr);
    b[0] = (uint8_t)(a >> 24), b[1] = (uint8_t)(a >> 16), b[2] = (uint8_t)(a >> 8), b[3] = (uint8_t)a;
    b[4] = (uint8_t)(t >> 24), b[5] = (uint8_t)(t >> 16), b[6] = (uint8_t)(t >> 8), b[7] = (uint8_t)t;
}

TEST(aedat) {
    const char hdr[] = "#!AER-DAT2.0\r\n# This is a raw AE data file - do not edit\r\n# Data format is int32 address, int32 timestamp (8 bytes total)\r\n";
    const size_t hl = sizeof hdr - 1;
    uint8_t b[200];
    memcpy(b, hdr, hl);
    for (int i = 0; i < 5; i++) ae_event(b + hl + 8 * i, 10 + i, 100 + i, i & 1, 1000u * (uint32_t)i + 5u);
    const size_t len = hl + 40;
    soma_event *ev = NULL;
    int64_t n = 0;
    soma_error e = {0};
    CHECK(soma_aedat_parse(&ev, &n, b, len, "mem", &e) == SOMA_OK);
    /* SpikingJelly's CIFAR10-DVS mapping: x = 127 − y_raw, y = 127 − x_raw, p = 1 − p_raw */
    CHECK(n == 5 && ev[2].x == 127 - 102 && ev[2].y == 127 - 12 && ev[2].p == 1 && ev[3].p == 0 && ev[4].t == 4005);
    soma_free(ev);
    CHECK(soma_aedat_parse(&ev, &n, b, len - 3, "trunc", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "whole number of 8-byte events");
    b[hl + 8] = 0x01; /* an address bit above the DVS128's 15 */
    CHECK(soma_aedat_parse(&ev, &n, b, len, "bits", &e) == SOMA_E_FORMAT);
    CHECK_MSG(e, "event 1 at byte offset");
    b[hl + 8] = 0;
    const char v3[] = "#!AER-DAT3.1\r\n";
    CHECK(soma_aedat_parse(&ev, &n, (const uint8_t *)v3, sizeof v3 - 1, "v3", &e) == SOMA_E_VERSION);
    CHECK_MSG(e, "version 3.x is not supported");
    const char open_hdr[] = "#!AER-DAT2.0";
    CHECK(soma_aedat_parse(&ev, &n, (const uint8_t *)open_hdr, sizeof open_hdr - 1, "hdr", &e) == SOMA_E_FORMAT);
    /* the loader: <class>/cifar10_<class>_<i>.aedat; i < 100 is the test split */
    static const char *const cls[10] = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
    char dir[512], path[700];
    for (int k = 0; k < 10; k++) {
        snprintf(dir, sizeof dir, "%s/dvs/%s", tmpdir, cls[k]);
        mkdirs(dir);
        const int idx[3] = {0, 100, 101};
        for (int j = 0; j < (k < 2 ? 3 : 2); j++) {
            snprintf(path, sizeof path, "%s/cifar10_%s_%d.aedat", dir, cls[k], idx[j]);
            write_file(path, b, len);
        }
    }
    snprintf(dir, sizeof dir, "%s/dvs", tmpdir);
    soma_dataset d;
    CHECK(soma_cifar10dvs_load(&d, dir, true, 2, 4, SOMA_BIN_COUNT, 0, &e) == SOMA_OK);
    CHECK(d.n == 12 && d.frames == 2 && d.h == 32 && d.w == 32 && d.dim == 2 * 2 * 32 * 32);
    CHECK(d.y[0] == 0 && d.y[1] == 0 && d.y[2] == 1 && d.y[4] == 2);
    double s = 0;
    for (int i = 0; i < d.dim; i++) s += d.x[i];
    CHECK(s == 5);
    soma_dataset_free(&d);
    CHECK(soma_cifar10dvs_load(&d, dir, false, 2, 1, SOMA_BIN_TIME, 0, &e) == SOMA_OK);
    CHECK(d.n == 10 && d.h == 128);
    soma_dataset_free(&d);
    CHECK(soma_cifar10dvs_load(&d, tmpdir, false, 2, 1, SOMA_BIN_TIME, 0, &e) == SOMA_E_IO);
    CHECK_MSG(e, "figshare");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/soma_test_conv_data_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(cifar);
    RUN(binning);
    RUN(nmnist);
    RUN(aedat);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_report("test_conv_data");
}
