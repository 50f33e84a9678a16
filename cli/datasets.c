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

/* Frames per sample for event datasets (N-MNIST, CIFAR10-DVS): the net's T. */
static int event_frames = 10;
void cli_set_event_frames(int T) { event_frames = T > 0 ? T : 10; }

/* "NAME" (in the cache dir) or "NAME:DIR": the directory of an image/event dataset, or NULL if
 * name is not that dataset. */
static const char *dir_of(char *buf, size_t n, const char *name, const char *set, const char *cache) {
    size_t l = strlen(set);
    if (strncmp(name, set, l) != 0) return NULL;
    if (name[l] == '\0') snprintf(buf, n, "%s/%s", cache, set);
    else if (name[l] == ':' && name[l + 1]) snprintf(buf, n, "%s", name + l + 1);
    else return NULL;
    return buf;
}

bool cli_dataset_has_splits(const char *name) {
    static const char *const sets[] = {"cifar100:", "cifar10dvs:", "cifar10:", "nmnist:"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (strncmp(name, sets[i], strlen(sets[i])) == 0) return true;
    return strchr(name, ':') == NULL;
}

const char *cli_cache_dir(void) {
    const char *e = getenv("SOMA_CACHE");
    return e && *e ? e : "cache";
}

int cli_load_dataset(soma_dataset *d, const char *name, bool train, const char *cache, soma_error *err) {
    return cli_load_dataset_head(d, name, train, cache, 0, err);
}

int cli_load_dataset_head(soma_dataset *d, const char *name, bool train, const char *cache, int64_t max_n,
                          soma_error *err) {
    char path[4096];
    if (strcmp(name, "mnist") == 0 || strcmp(name, "fashion") == 0 || strcmp(name, "fashion-mnist") == 0) {
        snprintf(path, sizeof path, "%s/%s", cache, name[0] == 'm' ? "mnist" : "fashion-mnist");
        int rc = soma_mnist_load_head(d, path, train, max_n, err);
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
        return soma_idx_load_head(d, path, comma + 1, max_n, err);
    }
    /* image and event sets: "cifar10" reads cache/cifar10/, "cifar10:DIR" reads DIR */
    if (dir_of(path, sizeof path, name, "cifar100", cache)) return soma_cifar_load(d, path, 100, false, train, err);
    if (dir_of(path, sizeof path, name, "cifar10dvs", cache))
        return soma_cifar10dvs_load(d, path, train, event_frames, 4, SOMA_BIN_COUNT, 0, err); /* 32x32 frames */
    if (dir_of(path, sizeof path, name, "cifar10", cache)) return soma_cifar_load(d, path, 10, false, train, err);
    if (dir_of(path, sizeof path, name, "nmnist", cache))
        return soma_nmnist_load(d, path, train, event_frames, SOMA_BIN_COUNT, 0, err);
    if (strncmp(name, "csv:", 4) == 0) return soma_csv_load(d, name + 4, -1, err);
    if (strncmp(name, "libsvm:", 7) == 0) return soma_libsvm_load(d, name + 7, 0, err);
    return soma_fail(err, SOMA_E_ARG, "unknown dataset '%s' (use mnist, fashion, cifar10[:DIR], cifar100[:DIR], nmnist[:DIR], "
                     "cifar10dvs[:DIR], idx:IMAGES,LABELS, csv:PATH or libsvm:PATH)", name);
}
