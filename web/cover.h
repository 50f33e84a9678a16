/*
 * web/cover.h — generated covers for movies without an image (every MovieLens title): an SVG
 * with a gradient in the colours of the movie's genres, the title wrapped over up to four
 * lines, the year and the genre names. Text is XML-escaped; the SVG has no scripts, links or
 * external references.
 */
#ifndef SOMA_WEB_COVER_H
#define SOMA_WEB_COVER_H

#include <stddef.h>
#include <stdint.h>

/* OUT: a malloc'd NUL-terminated SVG document and its length; NULL on out of memory.
 * genre_names: n_genres names in bit order (may be NULL). */
char *web_cover_svg(const char *title, int year, uint32_t genres, const char (*genre_names)[32],
                    int n_genres, size_t *len);
/* Appends s XML/HTML-escaped (& < > " ') to a growing buffer; -1 on out of memory. */
int web_buf_escape(char **buf, size_t *len, size_t *cap, const char *s, size_t n);
int web_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

#endif
