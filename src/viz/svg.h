/* viz/svg.h — a tiny SVG writer: document, escaped text, axes with nice ticks, legends.
 * Coordinates are pixels; an svg_axes maps data ranges onto a panel rectangle. */
#ifndef SOMA_SVG_H
#define SOMA_SVG_H

#include "soma/core.h"

#include <stdio.h>

typedef struct svg {
    FILE *f;
    double w, h;
} svg;

/* The palette (Tableau 10), cycled by index. */
const char *svg_color(int i);

int svg_open(svg *s, const char *path, double w, double h, const char *title, soma_error *err);
/* Closes the document; SOMA_E_IO if anything failed to write. */
int svg_close(svg *s, const char *path, soma_error *err);

/* Raw output (no escaping) and XML-escaped text. */
void svg_raw(svg *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
void svg_escape(svg *s, const char *text);
/* <text class=cls x y text-anchor font-size [rotate]>escaped text</text> */
void svg_text(svg *s, double x, double y, const char *cls, const char *anchor, double size, double rotate,
              const char *text);

typedef struct svg_axes {
    double x0, y0, w, h;     /* panel rectangle in pixels (y0 = top) */
    double xlo, xhi, ylo, yhi;
} svg_axes;

static inline double ax_x(const svg_axes *a, double v) {
    return a->x0 + (a->xhi > a->xlo ? (v - a->xlo) / (a->xhi - a->xlo) : 0.5) * a->w;
}
static inline double ax_y(const svg_axes *a, double v) {
    return a->y0 + a->h - (a->yhi > a->ylo ? (v - a->ylo) / (a->yhi - a->ylo) : 0.5) * a->h;
}

/* Widens [lo, hi] to nice round limits (and a non-empty range). */
void svg_nice_range(double *lo, double *hi);
/* Frame, ticks with labels, optional grid; labels (may be NULL) centred on the axes. */
void svg_axes_draw(svg *s, const svg_axes *a, const char *xlabel, const char *ylabel, bool integer_x,
                   bool integer_y, bool grid);

typedef enum { SVG_KEY_LINE, SVG_KEY_DASH, SVG_KEY_DOT, SVG_KEY_BOX, SVG_KEY_TICK } svg_key;
typedef struct svg_legend_item {
    const char *label;
    const char *color;
    svg_key key;
} svg_legend_item;
/* A legend box with its top-left corner at (x, y), one row per item. Returns its height. */
double svg_legend(svg *s, double x, double y, const svg_legend_item *items, int n);

#endif
