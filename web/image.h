/*
 * web/image.h — cover uploads: an image is accepted only if it is a PNG (libpng) or a JPEG
 * (libjpeg-turbo) that decodes completely, within byte, side and pixel limits. It is stored
 * under the SHA-256 of its bytes ("<64 hex>.png" / ".jpg"), written atomically (temp + rename);
 * the same image uploaded twice is one file.
 */
#ifndef SOMA_WEB_IMAGE_H
#define SOMA_WEB_IMAGE_H

#include <stddef.h>

typedef enum web_image_kind { WEB_IMAGE_NONE = 0, WEB_IMAGE_PNG, WEB_IMAGE_JPEG } web_image_kind;

typedef struct web_image_info {
    web_image_kind kind;
    int width, height;
} web_image_info;

enum {
    WEB_IMAGE_OK = 0,
    WEB_IMAGE_E_TYPE = -1,    /* neither PNG nor JPEG by its magic bytes */
    WEB_IMAGE_E_SIZE = -2,    /* too many bytes, too wide/tall or too many pixels */
    WEB_IMAGE_E_DECODE = -3,  /* claims to be an image but does not decode */
    WEB_IMAGE_E_IO = -4,      /* could not store it (logged) */
};

/* Decodes the whole image to verify it. Pure (no files). */
int web_image_check(const void *data, size_t n, web_image_info *info);
/* Checks, then stores data in dir; OUT: name ("<sha256>.png"), cap >= 70. */
int web_image_store(const char *dir, const void *data, size_t n, char *name, size_t cap,
                    web_image_info *info);
/* True if name is one web_image_store could have produced (safe to join with the dir). */
int web_image_name_ok(const char *name, size_t n);
const char *web_image_ctype(const char *name);

#endif
