/* data/events.h — internal helpers shared by the event-stream loaders (nmnist.c, aedat.c):
 * sorted directory listings and the per-sample file → frames step. */
#ifndef SOMA_DATA_EVENTS_H
#define SOMA_DATA_EVENTS_H

#include "soma/data.h"

/* The names in dir ending in suffix, sorted (strcmp), as one soma_malloc'ed array of
 * soma_malloc'ed strings; free with soma_dir_list_free. SOMA_E_IO if dir cannot be read. */
int soma_dir_list(char ***names, int64_t *n, const char *dir, const char *suffix, soma_error *err);
void soma_dir_list_free(char **names, int64_t n);

/* An event parser (soma_nmnist_parse, soma_aedat_parse). */
typedef int (*soma_event_parser)(soma_event **ev, int64_t *n, const uint8_t *buf, size_t len,
                                 const char *name, soma_error *err);

/* Reads path, parses it and bins its events into frames (T, 2, H/pool, W/pool). */
int soma_event_file_frames(float *frames, const char *path, soma_event_parser parse, int T, int H,
                           int W, int pool, soma_bin_mode mode, soma_error *err);

#endif
