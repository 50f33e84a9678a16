/*
 * viz/plots.c — the plots of soma/viz.h: spike raster, membrane traces, firing-rate
 * histograms and stacked line charts (training curves). Layout: a title on top, panels on
 * the left (each with its own axes), the legend in a column on the right.
 */
#include "soma/viz.h"
#include "viz/svg.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define W 990.0         /* canvas width */
#define PX0 78.0        /* panel left edge (room for the y label and ticks) */
#define PW 560.0        /* panel width */
#define LEGX 666.0      /* legend column */
#define TOP 56.0        /* first panel's top (below the title) */

/* The part of a panel name before its first ':' ("layer 0" of "layer 0: dense 784->100"). */
static void short_name(char *b, size_t n, const char *name, int i) {
    const char *c = name ? strchr(name, ':') : NULL;
    if (name && c && c - name < 28) snprintf(b, n, "%.*s", (int)(c - name), name);
    else if (name && strlen(name) < 28) snprintf(b, n, "%s", name);
    else snprintf(b, n, "panel %d", i + 1);
}

/* ---- raster -------------------------------------------------------------------------------- */

static double raster_height(int64_t n) {
    double h = 60.0 + 180.0 * log10((double)(n > 1 ? n : 1)) / 3.0;
    return h < 70 ? 70 : h > 260 ? 260 : h;
}

int soma_plot_raster(const char *path, const char *title, int T, const soma_raster_panel *p, int np,
                     soma_error *err) {
    if (T < 1 || np < 1) return soma_fail(err, SOMA_E_ARG, "a raster needs T >= 1 and at least one layer");
    double h = TOP;
    for (int i = 0; i < np; i++) h += raster_height(p[i].n) + 58;
    svg s;
    int rc = svg_open(&s, path, W, h + 10, title, err);
    if (rc) return rc;
    svg_legend_item items[16];
    char labels[16][96];
    double y = TOP;
    for (int i = 0; i < np; i++) {
        const double ph = raster_height(p[i].n);
        svg_axes a = {PX0, y + 16, PW, ph, -0.5, T - 0.5, -0.5, (double)p[i].n - 0.5};
        const char *color = svg_color(i);
        svg_raw(&s, "<g class=\"panel\">\n");
        svg_text(&s, PX0, y + 11, "panel-title", "start", 12, 0, p[i].name);
        svg_axes_draw(&s, &a, i == np - 1 ? "time step t (one step = one Δt)" : NULL, p[i].ylabel ? p[i].ylabel : "neuron index",
                      true, true, false);
        /* one horizontal dash per spike, spanning 80 % of its time bin */
        const double bin = PW / T, row = ph / (double)(p[i].n > 0 ? p[i].n : 1);
        const double sw = row * 0.9 > 1.2 ? (row * 0.9 < 6 ? row * 0.9 : 6) : 1.2;
        int64_t count = 0;
        for (int t = 0; t < T; t++)
            for (int64_t k = 0; k < p[i].n; k++) count += p[i].spikes[(int64_t)t * p[i].n + k] != 0.0f;
        svg_raw(&s, "<path class=\"spikes\" data-count=\"%lld\" stroke=\"%s\" stroke-width=\"%.2f\" fill=\"none\" d=\"",
                (long long)count, color, sw);
        for (int t = 0; t < T; t++)
            for (int64_t k = 0; k < p[i].n; k++)
                if (p[i].spikes[(int64_t)t * p[i].n + k] != 0.0f)
                    svg_raw(&s, "M%.1f %.1fh%.1f", ax_x(&a, t) - 0.4 * bin, ax_y(&a, (double)k), 0.8 * bin);
        svg_raw(&s, "\"/>\n</g>\n");
        if (i < 16) {
            double rate = (double)count / ((double)T * (double)(p[i].n > 0 ? p[i].n : 1));
            char sn[32];
            short_name(sn, sizeof sn, p[i].name, i);
            snprintf(labels[i], sizeof labels[i], "%s: %lld spikes, %.3f per neuron·step", sn, (long long)count, rate);
            items[i] = (svg_legend_item){labels[i], color, SVG_KEY_TICK};
        }
        y += ph + 58;
    }
    svg_legend(&s, LEGX, TOP + 16, items, np < 16 ? np : 16);
    return svg_close(&s, path, err);
}

/* ---- membrane ------------------------------------------------------------------------------- */

int soma_plot_membrane(const char *path, const char *title, int T, const soma_membrane_line *l, int n,
                       float theta, soma_error *err) {
    if (T < 1 || n < 1) return soma_fail(err, SOMA_E_ARG, "a membrane plot needs T >= 1 and at least one neuron");
    double lo = 0, hi = 0;
    for (int i = 0; i < n; i++)
        for (int t = 0; t < T; t++)
            if (isfinite(l[i].v[t])) lo = fmin(lo, l[i].v[t]), hi = fmax(hi, l[i].v[t]);
    if (isfinite(theta)) lo = fmin(lo, theta), hi = fmax(hi, theta);
    hi += 0.05 * (hi - lo);
    svg_nice_range(&lo, &hi);
    const double ph = 320;
    svg s;
    int rc = svg_open(&s, path, W, TOP + ph + 60, title, err);
    if (rc) return rc;
    svg_axes a = {PX0, TOP, PW, ph, -0.5, T - 0.5, lo, hi};
    svg_raw(&s, "<g class=\"panel\">\n");
    svg_axes_draw(&s, &a, "time step t (one step = one Δt)", "membrane potential h_t (a.u.)", true, false, true);
    if (isfinite(theta))
        svg_raw(&s, "<line class=\"threshold\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d62728\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n", a.x0, ax_y(&a, theta), a.x0 + a.w, ax_y(&a, theta));
    svg_legend_item items[20];
    char labels[20][64];
    int ni = 0;
    for (int i = 0; i < n; i++) {
        const char *color = svg_color(i < 3 ? i : i + 1); /* skip the threshold's red */
        svg_raw(&s, "<polyline class=\"trace\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.8\" points=\"", color);
        for (int t = 0; t < T; t++)
            if (isfinite(l[i].v[t])) svg_raw(&s, "%.1f,%.1f ", ax_x(&a, t), ax_y(&a, l[i].v[t]));
        svg_raw(&s, "\"/>\n");
        int spikes = 0;
        for (int t = 0; t < T && l[i].spikes; t++)
            if (l[i].spikes[t] != 0.0f && isfinite(l[i].v[t])) {
                svg_raw(&s, "<circle class=\"spike\" cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\" stroke=\"#222222\"/>\n",
                        ax_x(&a, t), ax_y(&a, l[i].v[t]), color);
                spikes++;
            }
        if (ni < 18) {
            snprintf(labels[ni], sizeof labels[ni], "%s (%d spike%s)", l[i].name, spikes, spikes == 1 ? "" : "s");
            items[ni] = (svg_legend_item){labels[ni], color, SVG_KEY_LINE};
            ni++;
        }
    }
    svg_raw(&s, "</g>\n");
    if (isfinite(theta)) {
        snprintf(labels[ni], sizeof labels[ni], "threshold θ = %g", (double)theta);
        items[ni] = (svg_legend_item){labels[ni], "#d62728", SVG_KEY_DASH};
        ni++;
    }
    items[ni++] = (svg_legend_item){"spike: h_t ≥ θ, then reset", "#444444", SVG_KEY_DOT};
    svg_legend(&s, LEGX, TOP, items, ni);
    return svg_close(&s, path, err);
}

/* ---- firing-rate histograms ------------------------------------------------------------- */

int soma_plot_rates(const char *path, const char *title, const soma_hist_series *L, int n, int bins,
                    soma_error *err) {
    if (n < 1 || bins < 1 || bins > 1000) return soma_fail(err, SOMA_E_ARG, "a rate histogram needs layers and 1..1000 bins");
    double mx = 0;
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < L[i].n; k++) mx = fmax(mx, L[i].values[k]);
    double lo = 0, hi = mx > 0 ? mx : 0.1;
    svg_nice_range(&lo, &hi);
    lo = 0;
    const double ph = 150, gap = 62;
    svg s;
    int rc = svg_open(&s, path, W, TOP + n * (ph + gap), title, err);
    if (rc) return rc;
    svg_legend_item items[16];
    char labels[16][96];
    double counts[1000];
    for (int i = 0; i < n; i++) {
        memset(counts, 0, sizeof counts);
        double mean = 0, cmax = 1;
        int64_t silent = 0;
        for (int64_t k = 0; k < L[i].n; k++) {
            double v = L[i].values[k];
            int b = (int)((v - lo) / (hi - lo) * bins);
            b = b < 0 ? 0 : b >= bins ? bins - 1 : b;
            counts[b]++;
            mean += v;
            silent += v == 0;
        }
        mean /= (double)(L[i].n > 0 ? L[i].n : 1);
        for (int b = 0; b < bins; b++) cmax = fmax(cmax, counts[b]);
        double ylo = 0, yhi = cmax;
        svg_nice_range(&ylo, &yhi);
        ylo = 0;
        const double y0 = TOP + i * (ph + gap) + 16;
        svg_axes a = {PX0, y0, PW, ph, lo, hi, ylo, yhi};
        const char *color = svg_color(i);
        svg_raw(&s, "<g class=\"panel\">\n");
        svg_text(&s, PX0, y0 - 5, "panel-title", "start", 12, 0, L[i].name);
        svg_axes_draw(&s, &a, "firing rate (spikes per neuron per time step)", "neurons (count)", false, true, true);
        for (int b = 0; b < bins; b++) {
            double x0 = ax_x(&a, lo + (hi - lo) * b / bins), x1 = ax_x(&a, lo + (hi - lo) * (b + 1) / bins);
            double yt = ax_y(&a, counts[b]);
            svg_raw(&s, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
                        "fill-opacity=\"0.8\" stroke=\"#ffffff\" stroke-width=\"0.5\"/>\n",
                    x0, yt, x1 - x0, a.y0 + a.h - yt, color);
        }
        svg_raw(&s, "<line class=\"mean\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222222\" "
                    "stroke-width=\"1.5\" stroke-dasharray=\"5 3\"/>\n</g>\n", ax_x(&a, mean), a.y0, ax_x(&a, mean), a.y0 + a.h);
        if (i < 15) {
            char sn[32];
            short_name(sn, sizeof sn, L[i].name, i);
            snprintf(labels[i], sizeof labels[i], "%s: %lld neurons, mean %.3f, %.0f%% silent", sn, (long long)L[i].n, mean,
                     100.0 * (double)silent / (double)(L[i].n > 0 ? L[i].n : 1));
            items[i] = (svg_legend_item){labels[i], color, SVG_KEY_BOX};
        }
    }
    int ni = n < 15 ? n : 15;
    items[ni++] = (svg_legend_item){"mean rate of the layer", "#222222", SVG_KEY_DASH};
    svg_legend(&s, LEGX, TOP + 16, items, ni);
    return svg_close(&s, path, err);
}

/* ---- stacked line charts ---------------------------------------------------------------- */

int soma_plot_lines(const char *path, const char *title, const char *xlabel, const soma_panel *P, int np,
                    soma_error *err) {
    if (np < 1) return soma_fail(err, SOMA_E_ARG, "a line chart needs at least one panel");
    double xlo = INFINITY, xhi = -INFINITY;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < P[i].n_series; j++)
            for (int64_t k = 0; k < P[i].series[j].n; k++)
                if (isfinite(P[i].series[j].x[k]) && isfinite(P[i].series[j].y[k]))
                    xlo = fmin(xlo, P[i].series[j].x[k]), xhi = fmax(xhi, P[i].series[j].x[k]);
    if (!isfinite(xlo)) xlo = 0, xhi = 1;
    svg_nice_range(&xlo, &xhi);
    const double ph = 200, gap = 66;
    svg s;
    int rc = svg_open(&s, path, W, TOP + np * (ph + gap), title, err);
    if (rc) return rc;
    for (int i = 0; i < np; i++) {
        double ylo = INFINITY, yhi = -INFINITY;
        for (int j = 0; j < P[i].n_series; j++)
            for (int64_t k = 0; k < P[i].series[j].n; k++)
                if (isfinite(P[i].series[j].y[k])) ylo = fmin(ylo, P[i].series[j].y[k]), yhi = fmax(yhi, P[i].series[j].y[k]);
        if (isfinite(P[i].ymin)) ylo = P[i].ymin;
        if (isfinite(P[i].ymax)) yhi = P[i].ymax;
        if (!isfinite(ylo)) ylo = 0, yhi = 1;
        svg_nice_range(&ylo, &yhi);
        const double y0 = TOP + i * (ph + gap);
        svg_axes a = {PX0, y0, PW, ph, xlo, xhi, ylo, yhi};
        svg_raw(&s, "<g class=\"panel\">\n");
        svg_axes_draw(&s, &a, xlabel, P[i].ylabel, false, false, true);
        svg_legend_item items[16];
        int ni = 0;
        for (int j = 0; j < P[i].n_series; j++) {
            const soma_series *se = &P[i].series[j];
            const char *color = svg_color(j);
            bool open = false;
            for (int64_t k = 0; k < se->n; k++) {
                bool ok = isfinite(se->x[k]) && isfinite(se->y[k]);
                if (ok && !open) {
                    svg_raw(&s, "<polyline class=\"curve\" fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"", color,
                            se->markers ? "1.5" : "1.2", se->dashed ? " stroke-dasharray=\"6 3\"" : "");
                    open = true;
                }
                if (ok) svg_raw(&s, "%.1f,%.1f ", ax_x(&a, se->x[k]), ax_y(&a, se->y[k]));
                if ((!ok || k == se->n - 1) && open) svg_raw(&s, "\"/>\n"), open = false;
            }
            if (se->markers)
                for (int64_t k = 0; k < se->n; k++)
                    if (isfinite(se->x[k]) && isfinite(se->y[k]))
                        svg_raw(&s, "<circle class=\"marker\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
                                ax_x(&a, se->x[k]), ax_y(&a, se->y[k]), color);
            if (ni < 16) items[ni++] = (svg_legend_item){se->name, color, se->markers ? SVG_KEY_DOT : se->dashed ? SVG_KEY_DASH : SVG_KEY_LINE};
        }
        svg_raw(&s, "</g>\n");
        svg_legend(&s, LEGX, y0, items, ni);
    }
    return svg_close(&s, path, err);
}
