/*
 * core/alloc.c — counted, 64-byte aligned allocation.
 *
 * Each block carries a 64-byte header holding its size, so soma_free can keep the byte count
 * exact; 64 bytes keeps the payload cache-line aligned for the vectorised kernels. Counters
 * are atomic because data loading and training threads may allocate concurrently.
 */
#include "soma/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define HDR 64

static atomic_size_t mem_used, mem_peak;
static atomic_long fail_countdown;

void soma_mem_fail_after(long n) { atomic_store(&fail_countdown, n); }

void *soma_malloc(size_t bytes) {
    long c = atomic_load(&fail_countdown);
    if (c > 0 && atomic_fetch_sub(&fail_countdown, 1) == 1) return NULL;
    if (bytes > SIZE_MAX - HDR) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, HDR, bytes + HDR) != 0) return NULL;
    *(size_t *)p = bytes;
    size_t now = atomic_fetch_add(&mem_used, bytes) + bytes;
    size_t peak = atomic_load(&mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now)) {
    }
    return (char *)p + HDR;
}

void *soma_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = soma_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

void soma_free(void *ptr) {
    if (!ptr) return;
    char *base = (char *)ptr - HDR;
    atomic_fetch_sub(&mem_used, *(size_t *)base);
    free(base);
}

size_t soma_mem_used(void) { return atomic_load(&mem_used); }
size_t soma_mem_peak(void) { return atomic_load(&mem_peak); }
void soma_mem_reset_peak(void) { atomic_store(&mem_peak, atomic_load(&mem_used)); }

size_t soma_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}
