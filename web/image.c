/*
 * web/image.c — verification and storage of uploaded covers (see image.h). PNG goes through
 * libpng's simplified API (png_image_*), with the header checked against the limits before any
 * pixel buffer is allocated; JPEG through libjpeg(-turbo) with an error manager that longjmps
 * back instead of exiting, and the same limits checked after jpeg_read_header.
 */
#include "image.h"

#include <stdio.h> /* before jpeglib.h, which needs FILE */

#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web.h"

static int within_limits(long w, long h) {
    return w > 0 && h > 0 && w <= WEB_MAX_COVER_SIDE && h <= WEB_MAX_COVER_SIDE &&
           w * h <= WEB_MAX_COVER_PIXELS;
}

static int check_png(const void *data, size_t n, web_image_info *info) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, data, n)) return WEB_IMAGE_E_DECODE;
    if (!within_limits((long)img.width, (long)img.height)) {
        png_image_free(&img);
        return WEB_IMAGE_E_SIZE;
    }
    img.format = PNG_FORMAT_RGBA;
    size_t bytes = PNG_IMAGE_SIZE(img);
    void *buf = malloc(bytes);
    if (!buf) {
        png_image_free(&img);
        return WEB_IMAGE_E_SIZE;
    }
    int ok = png_image_finish_read(&img, NULL, buf, 0, NULL);
    free(buf);
    info->width = (int)img.width;
    info->height = (int)img.height;
    png_image_free(&img);
    /* libpng reports benign problems (e.g. a bad CRC on an ancillary chunk) as warnings; only
     * a failed decode is refused. */
    return ok ? WEB_IMAGE_OK : WEB_IMAGE_E_DECODE;
}

typedef struct jerr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
} jerr;

static void jpeg_fail(j_common_ptr c) {
    jerr *e = (jerr *)c->err;
    longjmp(e->jb, 1);
}

static void jpeg_quiet(j_common_ptr c, int level) {
    (void)c;
    (void)level;
}

static int check_jpeg(const void *data, size_t n, web_image_info *info) {
    struct jpeg_decompress_struct cinfo;
    jerr e;
    JSAMPLE *volatile row = NULL;
    volatile int rc = WEB_IMAGE_E_DECODE;
    cinfo.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = jpeg_fail;
    e.pub.emit_message = jpeg_quiet;
    if (setjmp(e.jb)) {
        jpeg_destroy_decompress(&cinfo);
        free(row);
        return rc;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, (const unsigned char *)data, (unsigned long)n);
    if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) longjmp(e.jb, 1);
    if (!within_limits((long)cinfo.image_width, (long)cinfo.image_height)) {
        rc = WEB_IMAGE_E_SIZE;
        longjmp(e.jb, 1);
    }
    jpeg_start_decompress(&cinfo);
    row = malloc((size_t)cinfo.output_width * (size_t)cinfo.output_components);
    if (!row) longjmp(e.jb, 1);
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW rows[1] = {row};
        jpeg_read_scanlines(&cinfo, rows, 1);
    }
    /* A truncated file decodes with a warning and grey rows: refuse it. */
    if (e.pub.num_warnings > 0) longjmp(e.jb, 1);
    jpeg_finish_decompress(&cinfo);
    info->width = (int)cinfo.image_width;
    info->height = (int)cinfo.image_height;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    return WEB_IMAGE_OK;
}

int web_image_check(const void *data, size_t n, web_image_info *info) {
    static const unsigned char png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    const unsigned char *p = data;
    memset(info, 0, sizeof *info);
    if (n > WEB_MAX_COVER_BYTES) return WEB_IMAGE_E_SIZE;
    if (n >= 8 && memcmp(p, png_magic, 8) == 0) {
        info->kind = WEB_IMAGE_PNG;
        return check_png(data, n, info);
    }
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        info->kind = WEB_IMAGE_JPEG;
        return check_jpeg(data, n, info);
    }
    return WEB_IMAGE_E_TYPE;
}

int web_image_name_ok(const char *name, size_t n) {
    if (n != 68) return 0;
    for (size_t i = 0; i < 64; i++) {
        char c = name[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
    }
    return memcmp(name + 64, ".png", 4) == 0 || memcmp(name + 64, ".jpg", 4) == 0;
}

const char *web_image_ctype(const char *name) {
    size_t n = strlen(name);
    return n > 4 && !strcmp(name + n - 4, ".png") ? "image/png" : "image/jpeg";
}

int web_image_store(const char *dir, const void *data, size_t n, char *name, size_t cap,
                    web_image_info *info) {
    int rc = web_image_check(data, n, info);
    if (rc) return rc;
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, data, n);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(name, cap, "%s.%s", hex, info->kind == WEB_IMAGE_PNG ? "png" : "jpg");
    char path[1024], tmp[1100];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (access(path, F_OK) == 0) return WEB_IMAGE_OK; /* same bytes already stored */
    char rnd[17];
    unsigned char rb[8];
    randombytes_buf(rb, sizeof rb);
    sodium_bin2hex(rnd, sizeof rnd, rb, sizeof rb);
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s", dir, rnd);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        web_log("image: cannot create %s", tmp);
        return WEB_IMAGE_E_IO;
    }
    int ok = fwrite(data, 1, n, f) == n;
    ok &= fflush(f) == 0 && fsync(fileno(f)) == 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0) {
        web_log("image: cannot write %s", path);
        unlink(tmp);
        return WEB_IMAGE_E_IO;
    }
    return WEB_IMAGE_OK;
}
