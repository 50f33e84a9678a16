/* cli/datasets.c — dataset names on the command line → loaders. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

const char *cli_net_spec(char *buf, size_t n, const char *spec, int c, int h, int w) {
    size_t i = 0;
    while (spec[i] && spec[i] != '-' && ((spec[i] >= '0' && spec[i] <= '9') || spec[i] == 'x')) i++;
    if (i > 0 && (spec[i] == '-' || spec[i] == '\0')) return spec; /* starts with its input */
    snprintf(buf, n, "%dx%dx%d-%s", c, h, w, spec);
    return buf;
}

const char *cli_cache_dir(void) {
    const char *e = getenv("SOMA_CACHE");
    return e && *e ? e : "cache";
}

int cli_load_dataset(soma_dataset *d, const char *name, bool train, const char *cache, soma_error *err) {
    char path[4096];
    if (strcmp(name, "mnist") == 0 || strcmp(name, "fashion") == 0 || strcmp(name, "fashion-mnist") == 0) {
        snprintf(path, sizeof path, "%s/%s", cache, name[0] == 'm' ? "mnist" : "fashion-mnist");
        int rc = soma_mnist_load(d, path, train, err);
        if (rc == SOMA_E_IO) {
            size_t n = strlen(err->msg);
            snprintf(err->msg + n, sizeof err->msg - n, "; run 'make data' (scripts/fetch_%s.sh) first",
                     name[0] == 'm' ? "mnist" : "fashion_mnist");
        }
        return rc;
    }
    if (strncmp(name, "idx:", 4) == 0) {
        snprintf(path, sizeof path, "%s", name + 4);
        char *comma = strchr(path, ',');
        if (!comma) return soma_fail(err, SOMA_E_ARG, "idx data is 'idx:IMAGES,LABELS'");
        *comma = '\0';
        return soma_idx_load(d, path, comma + 1, err);
    }
    if (strncmp(name, "csv:", 4) == 0) return soma_csv_load(d, name + 4, -1, err);
    if (strncmp(name, "libsvm:", 7) == 0) return soma_libsvm_load(d, name + 7, 0, err);
    return soma_fail(err, SOMA_E_ARG, "unknown dataset '%s' (use mnist, fashion, idx:IMAGES,LABELS, csv:PATH or libsvm:PATH)", name);
}
