/*
 * viz/svg.c — the SVG writer under every plot: document frame, escaped text, axes with
 * "nice" ticks (steps of 1, 2 or 5 × 10^k), legends. Attributes rather than CSS, so the files
 * look the same in browsers, image viewers and editors. Writes plain SVG 1.1.
 */
#include "viz/svg.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

static const char *const palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                      "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

const char *svg_color(int i) { return palette[(i % 10 + 10) % 10]; }

#define FONT "DejaVu Sans, Helvetica, Arial, sans-serif"

void svg_raw(svg *s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->f, fmt, ap);
    va_end(ap);
}

void svg_escape(svg *s, const char *t) {
    for (const unsigned char *p = (const unsigned char *)(t ? t : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", s->f); break;
        case '<': fputs("&lt;", s->f); break;
        case '>': fputs("&gt;", s->f); break;
        case '"': fputs("&quot;", s->f); break;
        default:
            if (*p >= 0x20 || *p == '\t') fputc(*p, s->f); /* control characters are not XML */
        }
    }
}

int svg_open(svg *s, const char *path, double w, double h, const char *title, soma_error *err) {
    s->w = w, s->h = h;
    s->f = fopen(path, "w");
    if (!s->f) return soma_fail(err, SOMA_E_IO, "%s: cannot open for writing", path);
    svg_raw(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    svg_raw(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.0f\" height=\"%.0f\" "
               "viewBox=\"0 0 %.0f %.0f\" font-family=\"%s\">\n", w, h, w, h, FONT);
    svg_raw(s, "<title>");
    svg_escape(s, title);
    svg_raw(s, "</title>\n<rect class=\"background\" x=\"0\" y=\"0\" width=\"%.0f\" height=\"%.0f\" fill=\"#ffffff\"/>\n", w, h);
    svg_text(s, w / 2, 26, "title", "middle", 16, 0, title);
    return SOMA_OK;
}

int svg_close(svg *s, const char *path, soma_error *err) {
    svg_raw(s, "</svg>\n");
    bool bad = ferror(s->f) != 0;
    if (fclose(s->f) != 0 || bad) return soma_fail(err, SOMA_E_IO, "%s: write failed", path);
    s->f = NULL;
    return SOMA_OK;
}

void svg_text(svg *s, double x, double y, const char *cls, const char *anchor, double size, double rotate,
              const char *text) {
    svg_raw(s, "<text class=\"%s\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%.0f\"", cls, x, y, anchor, size);
    if (strcmp(cls, "title") == 0) svg_raw(s, " font-weight=\"bold\"");
    if (rotate != 0) svg_raw(s, " transform=\"rotate(%.0f %.1f %.1f)\"", rotate, x, y);
    svg_raw(s, " fill=\"#222222\">");
    svg_escape(s, text);
    svg_raw(s, "</text>\n");
}

static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

void svg_nice_range(double *lo, double *hi) {
    if (!isfinite(*lo) || !isfinite(*hi)) *lo = 0, *hi = 1;
    if (*hi <= *lo) {
        double c = *lo, d = fabs(c) > 0 ? fabs(c) * 0.1 : 0.5;
        *lo = c - d, *hi = c + d;
    }
    double st = nice_step(*hi - *lo, 5);
    *lo = floor(*lo / st + 1e-9) * st;
    *hi = ceil(*hi / st - 1e-9) * st;
}

static void tick_label(char *b, size_t n, double v, double step, bool integer) {
    if (fabs(v) < step * 1e-6) v = 0;
    if (integer || step >= 1) snprintf(b, n, "%.0f", v);
    else snprintf(b, n, "%.*f", (int)ceil(-log10(step) - 1e-9), v);
}

void svg_axes_draw(svg *s, const svg_axes *a, const char *xlabel, const char *ylabel, bool integer_x,
                   bool integer_y, bool grid) {
    char b[64];
    svg_raw(s, "<g class=\"axes\" font-size=\"11\" fill=\"#222222\">\n");
    /* x ticks */
    double st = nice_step(a->xhi - a->xlo, 8);
    if (integer_x && st < 1) st = 1;
    for (double v = ceil(a->xlo / st - 1e-9) * st; v <= a->xhi + st * 1e-6; v += st) {
        double x = ax_x(a, v);
        if (grid) svg_raw(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", x, a->y0, x, a->y0 + a->h);
        svg_raw(s, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444444\"/>\n", x,
                a->y0 + a->h, x, a->y0 + a->h + 4);
        tick_label(b, sizeof b, v, st, integer_x);
        svg_raw(s, "<text class=\"ticklabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", x, a->y0 + a->h + 16, b);
    }
    /* y ticks */
    st = nice_step(a->yhi - a->ylo, a->h < 100 ? 2 : 5);
    if (integer_y && st < 1) st = 1;
    for (double v = ceil(a->ylo / st - 1e-9) * st; v <= a->yhi + st * 1e-6; v += st) {
        double y = ax_y(a, v);
        if (grid) svg_raw(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eeeeee\"/>\n", a->x0, y, a->x0 + a->w, y);
        svg_raw(s, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444444\"/>\n", a->x0 - 4, y, a->x0, y);
        tick_label(b, sizeof b, v, st, integer_y);
        svg_raw(s, "<text class=\"ticklabel\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", a->x0 - 7, y + 4, b);
    }
    svg_raw(s, "<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444444\"/>\n",
            a->x0, a->y0, a->w, a->h);
    svg_raw(s, "</g>\n");
    if (xlabel) svg_text(s, a->x0 + a->w / 2, a->y0 + a->h + 34, "xlabel", "middle", 12, 0, xlabel);
    if (ylabel) svg_text(s, a->x0 - 48, a->y0 + a->h / 2, "ylabel", "middle", 12, -90, ylabel);
}

double svg_legend(svg *s, double x, double y, const svg_legend_item *it, int n) {
    const double row = 18, h = 10 + row * n;
    svg_raw(s, "<g class=\"legend\" font-size=\"11\">\n");
    svg_raw(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#ffffff\" stroke=\"#bbbbbb\" rx=\"3\"/>\n",
            x, y, s->w - x - 8, h);
    for (int i = 0; i < n; i++) {
        double cy = y + 14 + row * i, kx = x + 8;
        svg_raw(s, "<g class=\"legend-item\">");
        switch (it[i].key) {
        case SVG_KEY_LINE:
        case SVG_KEY_DASH:
            svg_raw(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>", kx, cy - 4,
                    kx + 22, cy - 4, it[i].color, it[i].key == SVG_KEY_DASH ? " stroke-dasharray=\"5 3\"" : "");
            break;
        case SVG_KEY_DOT: svg_raw(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"%s\"/>", kx + 11, cy - 4, it[i].color); break;
        case SVG_KEY_TICK:
            svg_raw(s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>", kx + 4, cy - 4,
                    kx + 18, cy - 4, it[i].color);
            break;
        default: svg_raw(s, "<rect x=\"%.1f\" y=\"%.1f\" width=\"22\" height=\"10\" fill=\"%s\"/>", kx, cy - 9, it[i].color); break;
        }
        svg_raw(s, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#222222\">", kx + 30, cy);
        svg_escape(s, it[i].label);
        svg_raw(s, "</text></g>\n");
    }
    svg_raw(s, "</g>\n");
    return h;
}
