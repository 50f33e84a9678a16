/* cli/output.c — the progress line and the JSON writer. */
#include "cli.h"

#include <math.h>
#include <unistd.h>

static int drawn;

void cli_progress(const soma_progress *p, void *user) {
    (void)user;
    static double last;
    bool tty = isatty(STDERR_FILENO);
    bool end = p->batch == p->n_batches;
    double now = soma_now();
    if (!tty && !end && now - last < 5.0) return;
    if (tty && !end && now - last < 0.1) return;
    last = now;
    int width = 24, fill = (int)(width * (double)p->batch / (double)p->n_batches);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "%sepoch %d/%d [%s] %lld/%lld loss %.4f acc %.2f%% %.0f samples/s ETA %.0fs%s",
            tty ? "\r" : "", p->epoch + 1, p->epochs, bar, (long long)p->batch, (long long)p->n_batches,
            p->loss, 100 * p->accuracy, p->samples_per_s, p->eta_s, tty ? "\033[K" : "\n");
    drawn = tty;
    if (tty && end) {
        fputc('\n', stderr);
        drawn = 0;
    }
    fflush(stderr);
}

void cli_progress_done(void) {
    if (drawn) fputc('\n', stderr);
    drawn = 0;
}

void json_begin(json_out *j, FILE *f) {
    j->f = f, j->n = 0;
    fputc('{', f);
}
static void key(json_out *j, const char *k) { fprintf(j->f, "%s\"%s\":", j->n++ ? "," : "", k); }
void json_str(json_out *j, const char *k, const char *v) {
    key(j, k);
    fputc('"', j->f);
    for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
        if (*s == '"' || *s == '\\') fprintf(j->f, "\\%c", *s);
        else if (*s < 0x20) fprintf(j->f, "\\u%04x", *s);
        else fputc(*s, j->f);
    }
    fputc('"', j->f);
}
void json_num(json_out *j, const char *k, double v) {
    key(j, k);
    if (isfinite(v)) fprintf(j->f, "%.6g", v);
    else fputs("null", j->f);
}
void json_int(json_out *j, const char *k, long long v) {
    key(j, k);
    fprintf(j->f, "%lld", v);
}
void json_arr(json_out *j, const char *k, const double *v, int n) {
    key(j, k);
    fputc('[', j->f);
    for (int i = 0; i < n; i++) fprintf(j->f, "%s%.6g", i ? "," : "", v[i]);
    fputc(']', j->f);
}
void json_end(json_out *j) {
    fputs("}\n", j->f);
    fflush(j->f);
}
