/*
 * kernels/cpu.h — run-time CPU feature checks for the hand-written AVX-512 kernels.
 *
 * The kernels are compiled with target attributes into the default (portable) build and
 * chosen per call; every one has a portable twin that tests compare it with. libgcc fills the
 * CPU model in a constructor, so the check is a plain read, safe from any thread.
 */
#ifndef SOMA_CPU_H
#define SOMA_CPU_H

#include <stdbool.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define SOMA_X86_GNUC 1
static inline bool soma_cpu_avx512(void) { return __builtin_cpu_supports("avx512f"); }
#else
static inline bool soma_cpu_avx512(void) { return false; }
#endif

#endif
