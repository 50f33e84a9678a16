/*
 * soma/viz.h — plots as standalone SVG files, with no plotting library: spike rasters,
 * membrane traces, firing-rate histograms and training curves, plus the reader of the
 * training metrics log that `soma train --metrics` writes.
 *
 * Every plot is readable on its own: a title, axes with ticks, labels and units, and a
 * legend. Elements carry class names (title, panel, spikes, trace, threshold, spike, bar,
 * curve, legend-item) so tests and style sheets can find them; a raster's spike path
 * carries data-count="<spikes>". The functions take plain arrays, so they plot anything,
 * not only Soma's traces (see soma/inspect.h for where those come from).
 *
 * All functions write `path` (overwriting it) and return SOMA_OK, or a status with a message
 * in err (which may be NULL).
 */
#ifndef SOMA_VIZ_H
#define SOMA_VIZ_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- spike raster: neurons × time, one panel per layer ------------------------------------ */

typedef struct soma_raster_panel {
    const char *name;     /* e.g. "input (784)", "layer 0: dense 784->100 bilinear" */
    const float *spikes;  /* (T, n): nonzero = a spike of neuron i at step t */
    int64_t n;            /* neurons */
    const char *ylabel;   /* NULL: "neuron index" */
} soma_raster_panel;

int soma_plot_raster(const char *path, const char *title, int T, const soma_raster_panel *panels,
                     int n_panels, soma_error *err);

/* ---- membrane traces of chosen neurons with the threshold and spike marks ------------------ */

typedef struct soma_membrane_line {
    const char *name;     /* e.g. "neuron 17" */
    const float *v;       /* (T) membrane potential (Soma's traces: pre-reset h_t) */
    const float *spikes;  /* (T) nonzero where the neuron spiked, or NULL */
} soma_membrane_line;

/* theta: the firing threshold, drawn as a dashed line (NAN: none). */
int soma_plot_membrane(const char *path, const char *title, int T, const soma_membrane_line *lines,
                       int n_lines, float theta, soma_error *err);

/* ---- firing-rate histogram, one panel per layer ------------------------------------------- */

typedef struct soma_hist_series {
    const char *name;     /* the layer */
    const double *values; /* (n) per-neuron firing rates (spikes per neuron per step) */
    int64_t n;
} soma_hist_series;

int soma_plot_rates(const char *path, const char *title, const soma_hist_series *layers, int n_layers,
                    int bins, soma_error *err);

/* ---- line charts: panels stacked vertically, sharing the x axis label ---------------------- */

typedef struct soma_series {
    const char *name;
    const double *x, *y;  /* (n); NAN values are skipped (the line breaks there) */
    int64_t n;
    bool markers;         /* draw a dot at each point */
    bool dashed;
} soma_series;

typedef struct soma_panel {
    const char *ylabel;   /* with units, e.g. "accuracy (%)" */
    const soma_series *series;
    int n_series;
    double ymin, ymax;    /* NAN: from the data */
} soma_panel;

int soma_plot_lines(const char *path, const char *title, const char *xlabel, const soma_panel *panels,
                    int n_panels, soma_error *err);

/* ---- the training metrics log ------------------------------------------------------------- */

#define SOMA_METRICS_MAX_LAYERS 16

/* One line of the log. Absent numbers are NAN. `soma train --metrics FILE` appends one JSON
 * object per line: {"type":"step", "epoch" (fractional), "step", "loss", "accuracy",
 * "samples_per_s", "lr"} every --metrics-every batches, and at the end of each epoch
 * {"type":"epoch", "epoch", "step", "train_loss", "train_accuracy", "test_loss",
 * "test_accuracy", "train_samples_per_s", "firing_rate": [per layer]}. For epoch lines, loss
 * and accuracy are the training numbers. Unknown keys are ignored. A CSV file with a header
 * line naming the same columns (firing_rate as firing_rate_0, firing_rate_1, ...) reads too. */
typedef struct soma_metrics_row {
    bool is_epoch;
    double epoch, step, loss, accuracy, test_loss, test_accuracy, samples_per_s, lr;
    int n_rates;
    double rate[SOMA_METRICS_MAX_LAYERS];
} soma_metrics_row;

typedef struct soma_metrics {
    int64_t n;
    soma_metrics_row *rows; /* owned */
} soma_metrics;

/* Parses one JSON-lines record (s, len) — a flat object of numbers, strings, booleans, null
 * and arrays of numbers. Pure: no I/O, no allocation. SOMA_E_FORMAT with the column on a
 * malformed line. */
int soma_metrics_parse_line(soma_metrics_row *row, const char *s, size_t len, soma_error *err);
/* Reads a whole log (JSON lines or CSV). Errors name the file and line. Free with
 * soma_metrics_free. */
int soma_metrics_load(soma_metrics *m, const char *path, soma_error *err);
void soma_metrics_free(soma_metrics *m);

/* Loss and accuracy (and firing rates, when logged) against epochs. */
int soma_plot_curves(const char *path, const char *title, const soma_metrics *m, soma_error *err);

#ifdef __cplusplus
}
#endif
#endif
