/*
 * core/alloc.c — counted, 64-byte aligned allocation.
 *
 * Each block carries a 64-byte header holding its size (and whether it was mapped), so
 * soma_free can keep the byte count exact; 64 bytes keeps the payload cache-line aligned for
 * the vectorised kernels. Counters are atomic because data loading and training threads may
 * allocate concurrently.
 *
 * Large zeroed blocks (soma_calloc of at least LAZY_MIN bytes) are mapped anonymous memory:
 * the kernel supplies zero pages on first touch, so only the pages a run writes become
 * resident. The net plans its work buffers for the worst case (spike-list room for 100 %
 * density, the dense path's unpooled currents, gradients that inference never forms);
 * zeroing them with memset made every page resident whichever path ran. The counters still
 * count the whole block (what was reserved); soma_peak_rss measures what was touched.
 * Sanitizer builds keep the heap path, so AddressSanitizer still checks these blocks' bounds.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include "soma/core.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define HDR 64
#define LAZY_MIN ((size_t)1 << 18) /* 256 KiB: below this a mapping's syscall costs more than memset */
#if defined(__SANITIZE_ADDRESS__)
#define SOMA_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SOMA_ASAN 1
#endif
#endif

/* The header: the payload's size, then 1 for a mapped block (freed with munmap). */
typedef struct blk_hdr {
    size_t bytes, mapped;
} blk_hdr;
_Static_assert(sizeof(blk_hdr) <= HDR, "the block header must fit in HDR bytes");

static atomic_size_t mem_used, mem_peak;
static atomic_long fail_countdown;

void soma_mem_fail_after(long n) { atomic_store(&fail_countdown, n); }

static bool fail_now(void) {
    long c = atomic_load(&fail_countdown);
    return c > 0 && atomic_fetch_sub(&fail_countdown, 1) == 1;
}

/* Writes the header and counts the block; returns the payload. */
static void *account(void *base, size_t bytes, bool mapped) {
    blk_hdr *h = base;
    h->bytes = bytes, h->mapped = mapped;
    size_t now = atomic_fetch_add(&mem_used, bytes) + bytes;
    size_t peak = atomic_load(&mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now)) {
    }
    return (char *)base + HDR;
}

/* Bytes of the mapping holding a block of `bytes` (whole pages). */
static size_t map_len(size_t bytes) {
    const size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    return (bytes + HDR + pg - 1) / pg * pg;
}

void *soma_malloc(size_t bytes) {
    if (fail_now() || bytes > SIZE_MAX - HDR) return NULL;
    void *p = NULL;
    if (posix_memalign(&p, HDR, bytes + HDR) != 0) return NULL;
    return account(p, bytes, false);
}

void *soma_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    const size_t bytes = count * size;
#ifndef SOMA_ASAN
    if (bytes >= LAZY_MIN && bytes <= SIZE_MAX / 2) {
        if (fail_now()) return NULL;
        /* page-aligned, so the payload after the header is 64-byte aligned */
        void *p = mmap(NULL, map_len(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return p == MAP_FAILED ? NULL : account(p, bytes, true);
    }
#endif
    void *p = soma_malloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void soma_free(void *ptr) {
    if (!ptr) return;
    blk_hdr *h = (blk_hdr *)((char *)ptr - HDR);
    const size_t bytes = h->bytes;
    atomic_fetch_sub(&mem_used, bytes);
    if (h->mapped) munmap(h, map_len(bytes));
    else free(h);
}

size_t soma_mem_used(void) { return atomic_load(&mem_used); }
size_t soma_mem_peak(void) { return atomic_load(&mem_peak); }
void soma_mem_reset_peak(void) { atomic_store(&mem_peak, atomic_load(&mem_used)); }

size_t soma_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (size_t)ru.ru_maxrss * 1024u; /* Linux reports KiB */
}

size_t soma_rss(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    unsigned long long vm = 0, res = 0; /* pages: total program size, resident */
    int k = fscanf(f, "%llu %llu", &vm, &res);
    fclose(f);
    return k == 2 ? (size_t)res * (size_t)sysconf(_SC_PAGESIZE) : 0;
}
