/*
 * core/threads.c — one thread pool: OpenMP for Soma's own parallel loops, BLAS pinned to one
 * thread. Soma splits a batch into chunks and runs each chunk's GEMMs single-threaded inside
 * the OpenMP region; letting OpenBLAS start its own threads as well would put two busy pools
 * on the same cores, which measured slower on 2 cores than 1.
 */
#include "soma/core.h"

#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

void openblas_set_num_threads(int num_threads); /* from OpenBLAS */

static int n_threads = 1;

void soma_set_threads(int n) {
    if (n <= 0) {
        const char *env = getenv("SOMA_THREADS");
        char *end = NULL;
        long v = env ? strtol(env, &end, 10) : 0;
        if (env && end != env && *end == '\0' && v > 0 && v <= 1024) {
            n = (int)v;
        } else {
            long c = sysconf(_SC_NPROCESSORS_ONLN);
            n = c > 0 ? (int)c : 1;
        }
    }
    n_threads = n;
    /* BLAS first: OpenBLAS's OpenMP build implements this with omp_set_num_threads. */
    openblas_set_num_threads(1);
#ifdef _OPENMP
    omp_set_num_threads(n);
#endif
}

int soma_threads(void) { return n_threads; }

double soma_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
