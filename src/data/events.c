/*
 * data/events.c — event streams to frames: address events (t, x, y, p) binned into T slices
 * of per-pixel, per-polarity counts, the representation PLIF-Net and SpikingJelly train on;
 * and the small file-system helpers the event loaders share (sorted listings, one sample
 * file to frames).
 *
 * Slicing by count (SpikingJelly's split_by='number'): slice i holds events
 * [⌊i·N/T⌋, ⌊(i+1)·N/T⌋). By time: slice i holds t ∈ [t₀ + i·Δ, t₀ + (i+1)·Δ), Δ = (t_N − t₀)/T,
 * the last slice closed at t_N.
 */
#include "data/events.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

void soma_events_to_frames(float *frames, const soma_event *ev, int64_t n, int T, int H, int W,
                           int pool, soma_bin_mode mode) {
    const int h = H / pool, w = W / pool;
    const int64_t plane = (int64_t)h * w, frame = 2 * plane;
    memset(frames, 0, (size_t)((int64_t)T * frame) * sizeof *frames);
    if (n <= 0) return;
    int64_t t0 = ev[0].t, t1 = ev[0].t;
    for (int64_t i = 1; i < n; i++) t0 = ev[i].t < t0 ? ev[i].t : t0, t1 = ev[i].t > t1 ? ev[i].t : t1;
    const double span = (double)(t1 - t0);
    for (int64_t i = 0; i < n; i++) {
        const soma_event *e = &ev[i];
        if (e->x >= W || e->y >= H || e->p > 1) continue;
        int64_t s;
        if (mode == SOMA_BIN_COUNT) {
            /* the slice whose range [⌊s·N/T⌋, ⌊(s+1)·N/T⌋) holds i */
            s = i * T / n;
            while (s > 0 && i < s * n / T) s--;
            while (s < T - 1 && i >= (s + 1) * n / T) s++;
        } else {
            s = span > 0 ? (int64_t)((double)(e->t - t0) / span * T) : 0;
            if (s >= T) s = T - 1;
        }
        const int x = e->x / pool, y = e->y / pool;
        if (x >= w || y >= h) continue; /* the remainder rows/columns of an uneven pool */
        frames[s * frame + e->p * plane + (int64_t)y * w + x] += 1.0f;
    }
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void soma_dir_list_free(char **names, int64_t n) {
    for (int64_t i = 0; names && i < n; i++) soma_free(names[i]);
    soma_free(names);
}

int soma_dir_list(char ***names, int64_t *n, const char *dir, const char *suffix, soma_error *err) {
    *names = NULL, *n = 0;
    DIR *d = opendir(dir);
    if (!d) return soma_fail(err, SOMA_E_IO, "%s: cannot open the directory", dir);
    char **v = NULL;
    int64_t cnt = 0, cap = 0;
    const size_t sl = strlen(suffix);
    int rc = SOMA_OK;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < sl || strcmp(e->d_name + l - sl, suffix) != 0) continue;
        if (cnt == cap) {
            int64_t nc = cap ? 2 * cap : 64;
            char **nv = soma_malloc((size_t)nc * sizeof *nv);
            if (!nv) {
                rc = soma_fail(err, SOMA_E_NOMEM, "%s: out of memory listing files", dir);
                break;
            }
            if (cnt) memcpy(nv, v, (size_t)cnt * sizeof *v);
            soma_free(v);
            v = nv, cap = nc;
        }
        v[cnt] = soma_malloc(l + 1);
        if (!v[cnt]) {
            rc = soma_fail(err, SOMA_E_NOMEM, "%s: out of memory listing files", dir);
            break;
        }
        memcpy(v[cnt++], e->d_name, l + 1);
    }
    closedir(d);
    if (rc != SOMA_OK) {
        soma_dir_list_free(v, cnt);
        return rc;
    }
    if (cnt) qsort(v, (size_t)cnt, sizeof *v, cmp_names);
    *names = v, *n = cnt;
    return SOMA_OK;
}

int soma_event_file_frames(float *frames, const char *path, soma_event_parser parse, int T, int H,
                           int W, int pool, soma_bin_mode mode, soma_error *err) {
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = soma_read_file(&buf, &len, path, (size_t)1 << 30, err);
    if (rc != SOMA_OK) return rc;
    soma_event *ev = NULL;
    int64_t n = 0;
    rc = parse(&ev, &n, buf, len, path, err);
    soma_free(buf);
    if (rc == SOMA_OK) soma_events_to_frames(frames, ev, n, T, H, W, pool, mode);
    soma_free(ev);
    return rc;
}
