/*
 * soma/core.h — status codes, errors, counted allocation, the counter-based RNG and threads.
 *
 * Everything else in Soma builds on these few pieces:
 *   - functions that can fail for reasons outside the programmer's control return soma_status
 *     and, when given a soma_error*, leave a message naming the problem there;
 *   - every heap buffer the library owns goes through soma_malloc/soma_free, which count bytes,
 *     so benchmarks can report the library's own peak memory next to the process's peak RSS;
 *   - randomness is a pure function of (seed, stream, counter): results do not depend on how
 *     many threads run or in which order samples are processed.
 *
 * Dimension letters used in shape comments across the project:
 *   T time steps, B batch, N neurons (outputs), M inputs, C/H/W channels/height/width,
 *   K kernel size, R factor rank of the bilinear term.
 * Buffers are time-major: a (T, B, N) buffer holds step t of sample b at [(t*B + b)*N + n].
 *
 * Ownership: whoever calls *_create calls *_free; views never free.
 */
#ifndef SOMA_CORE_H
#define SOMA_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SOMA_VERSION_MAJOR 0
#define SOMA_VERSION_MINOR 1
#define SOMA_VERSION_PATCH 0
#define SOMA_VERSION_STRING "0.1.0"

typedef enum soma_status {
    SOMA_OK = 0,
    SOMA_E_NOMEM = -1,    /* allocation failed */
    SOMA_E_IO = -2,       /* open/read/write/rename failed */
    SOMA_E_FORMAT = -3,   /* malformed file or text */
    SOMA_E_VERSION = -4,  /* well-formed file of an unsupported version */
    SOMA_E_SHAPE = -5,    /* sizes that do not fit together */
    SOMA_E_ARG = -6,      /* bad user argument or configuration */
    SOMA_E_CHECKSUM = -7, /* stored checksum does not match the data */
} soma_status;

/* A static, human-readable name for a status ("bad argument", ...). Never NULL. */
const char *soma_status_str(int status);

/* Caller-provided error slot for free functions (loaders, parsers). May always be NULL. */
typedef struct soma_error {
    int status;
    char msg[512];
} soma_error;

/* Formats a message into err (if not NULL) and returns status, so callers can write
 * `return soma_fail(err, SOMA_E_FORMAT, "%s: bad magic", path);`. */
int soma_fail(soma_error *err, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- counted, 64-byte aligned allocation ------------------------------------------------ */

/* Returns NULL on failure (or when the test-only failure countdown fires). Memory is
 * uninitialised for soma_malloc, zeroed for soma_calloc. soma_free(NULL) is a no-op.
 * A large soma_calloc block is zero on first touch (mapped, not memset): its untouched pages
 * are never resident, so a buffer planned for the worst case costs only what a run writes. */
void *soma_malloc(size_t bytes);
void *soma_calloc(size_t count, size_t size);
void soma_free(void *ptr);
size_t soma_mem_used(void);  /* bytes currently held through soma_malloc */
size_t soma_mem_peak(void);  /* high-water mark since start (or the last reset) */
void soma_mem_reset_peak(void);
/* Test hook: the n-th allocation from now fails (n >= 1); 0 disables. */
void soma_mem_fail_after(long n);
/* Peak resident set size of the whole process in bytes (getrusage), 0 if unknown. */
size_t soma_peak_rss(void);
/* Resident set size of the process now, in bytes (/proc/self/statm), 0 if unknown. */
size_t soma_rss(void);

/* ---- counter-based random numbers ------------------------------------------------------ */

/* A 64-bit mix of (seed, a, b): statistically independent streams for every distinct
 * triple. Used so that e.g. the rate-encoding of pixel p of sample i at step t in epoch e is
 * the same whatever the thread count or batch order. */
uint64_t soma_hash3(uint64_t seed, uint64_t a, uint64_t b);
/* Uniform float in [0, 1) from a 64-bit hash (24 random mantissa bits). */
static inline float soma_u01(uint64_t h) { return (float)(h >> 40) * (1.0f / 16777216.0f); }

/* A small sequential generator (splitmix64) for initialisation and shuffling. */
typedef struct soma_rng {
    uint64_t state;
} soma_rng;
void soma_rng_seed(soma_rng *rng, uint64_t seed);
uint64_t soma_rng_u64(soma_rng *rng);
float soma_rng_uniform(soma_rng *rng);        /* [0, 1) */
float soma_rng_normal(soma_rng *rng);         /* N(0, 1), Box-Muller */
uint32_t soma_rng_below(soma_rng *rng, uint32_t n); /* uniform integer in [0, n), n > 0 */
/* Fisher-Yates shuffle of idx[0..n). */
void soma_rng_shuffle(soma_rng *rng, int32_t *idx, int64_t n);

/* ---- threads ----------------------------------------------------------------------------- */

/* Sets the number of worker threads (OpenMP). BLAS is always kept single-threaded: Soma
 * parallelises over batch chunks itself, and two thread pools on the same cores are slower
 * than one. n <= 0 means: $SOMA_THREADS if set, else the number of online cores. */
void soma_set_threads(int n);
int soma_threads(void);

/* Monotonic wall clock in seconds. */
double soma_now(void);

/* ---- programmer errors -------------------------------------------------------------------- */

/* Called for violated internal contracts only (never for bad user input). Prints file:line and
 * aborts, after calling the hook set by soma_set_abort_hook (e.g. to flush a server log). */
void soma_abort(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((noreturn, format(printf, 3, 4)))
#endif
    ;
void soma_set_abort_hook(void (*hook)(const char *msg));
#define SOMA_ASSERT(x)                                                                     \
    do {                                                                                   \
        if (!(x)) soma_abort(__FILE__, __LINE__, "assertion failed: %s", #x);              \
    } while (0)

#ifdef __cplusplus
}
#endif
#endif
